/* sctp_peeloff takes everything of its association that the one-to-many
 * socket has not handed out yet, as Linux's sctp_sock_migrate does:
 * - queued messages and the association's queued notification move to the
 *   new socket, in order; the one-to-many socket keeps nothing of them;
 * - the rest of a message read in part comes on the new socket, with
 *   MSG_EOR at its end;
 * - 1000 times over: a client sends 8 numbered messages, the server reads
 *   some of them (and sometimes part of the next) on the one-to-many socket
 *   and peels the association off while the rest may still be on the way:
 *   every message arrives exactly once, in order, on the right socket. */
#include "common.h"

#include <pthread.h>

#define ROUNDS 1000
#define PER_ROUND 8

static uint16_t port;

static void sub_assoc_events(int s) {
    struct sctp_event_subscribe ev = {0};
    ev.sctp_data_io_event = 1;
    ev.sctp_association_event = 1;
    CHECK(setsockopt(s, IPPROTO_SCTP, SCTP_EVENTS, &ev, sizeof ev) == 0);
}

static sctp_assoc_t read_comm_up(int s) {
    char buf[256];
    struct got g;
    CHECK(readable(s, 5000));
    CHECK(recv_got(s, buf, sizeof buf, 0, &g) > 0 && (g.flags & MSG_NOTIFICATION));
    struct sctp_assoc_change *ac = (struct sctp_assoc_change *)buf;
    CHECK(ac->sac_type == SCTP_ASSOC_CHANGE && ac->sac_state == SCTP_COMM_UP);
    return ac->sac_assoc_id;
}

/* sctp_peeloff through its socket option (as libsctp does it). */
static int peel(int s, sctp_assoc_t id) {
    sctp_peeloff_arg_t po = {.associd = id, .sd = -1};
    socklen_t pl = sizeof po;
    CHECK(getsockopt(s, IPPROTO_SCTP, SCTP_SOCKOPT_PEELOFF, &po, &pl) >= 0 && po.sd >= 0);
    return po.sd;
}

static void nothing_left(int s) {
    char buf[64];
    struct got g;
    CHECK(recv_got(s, buf, sizeof buf, MSG_DONTWAIT, &g) < 0 && errno == EAGAIN);
}

/* Part 1: queued messages and the queued COMM_UP move; part 2: the rest of
 * a message read in part. */
static void queued(void) {
    int srv = listen_on(SOCK_SEQPACKET, port, 0, 8);
    struct sockaddr_in sa = loop4(port);
    sub_assoc_events(srv);
    int c = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
    char big[3000];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (char)('a' + i % 26);
    for (int i = 0; i < 4; i++) {
        char m[8];
        snprintf(m, sizeof m, "m%d", i);
        struct sctp_sndinfo si = {.snd_sid = (uint16_t)i, .snd_ppid = htonl(40 + i)};
        CHECK(send_info(c, (struct sockaddr *)&sa, sizeof sa, m, 2, &si, NULL, 0) == 2);
    }
    struct sctp_sndinfo si = {.snd_sid = 1, .snd_ppid = htonl(9)};
    CHECK(send_info(c, (struct sockaddr *)&sa, sizeof sa, big, sizeof big, &si, NULL, 0) == (ssize_t)sizeof big);
    CHECK(readable(srv, 3000));
    usleep(200000); /* all of it queued on the one-to-many socket */

    /* The association id from the notification, peeking (it stays queued). */
    char buf[4096];
    struct got g;
    CHECK(recv_got(srv, buf, sizeof buf, MSG_PEEK, &g) > 0 && (g.flags & MSG_NOTIFICATION));
    sctp_assoc_t id = ((struct sctp_assoc_change *)buf)->sac_assoc_id;
    int p = peel(srv, id);
    nothing_left(srv);

    /* COMM_UP first, as a notification, then the messages in order. */
    CHECK(recv_got(p, buf, sizeof buf, 0, &g) > 0 && (g.flags & MSG_NOTIFICATION) && (g.flags & MSG_EOR));
    CHECK(((struct sctp_assoc_change *)buf)->sac_state == SCTP_COMM_UP);
    for (int i = 0; i < 4; i++) {
        CHECK(recv_got(p, buf, sizeof buf, 0, &g) == 2);
        CHECK(buf[0] == 'm' && buf[1] == '0' + i && (g.flags & MSG_EOR) && !(g.flags & MSG_NOTIFICATION));
        CHECK(g.has_sndrcv && g.sndrcv.sinfo_stream == i && g.sndrcv.sinfo_ppid == htonl(40 + i));
    }
    /* Part 2 on the peeled-off socket's own data: the big one in two
     * pieces is read there; now a second association, read in part on
     * the one-to-many socket before its peeloff. */
    CHECK(recv_got(p, buf, sizeof buf, 0, &g) == (ssize_t)sizeof big && memcmp(buf, big, sizeof big) == 0);
    CHECK(g.flags & MSG_EOR);

    int c2 = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
    CHECK(send_info(c2, (struct sockaddr *)&sa, sizeof sa, big, sizeof big, &si, NULL, 0) == (ssize_t)sizeof big);
    sctp_assoc_t id2 = read_comm_up(srv);
    CHECK(readable(srv, 3000));
    usleep(100000);
    CHECK(recv_got(srv, buf, 100, 0, &g) == 100 && memcmp(buf, big, 100) == 0 && !(g.flags & MSG_EOR));
    int p2 = peel(srv, id2);
    nothing_left(srv);
    CHECK(recv_got(p2, buf, sizeof buf, 0, &g) == (ssize_t)sizeof big - 100);
    CHECK(memcmp(buf, big + 100, sizeof big - 100) == 0 && (g.flags & MSG_EOR));
    CHECK(g.has_sndrcv && g.sndrcv.sinfo_stream == 1 && g.sndrcv.sinfo_ppid == htonl(9));
    close(p2);
    close(p);
    close(c2);
    close(c);
    close(srv);
}

/* Part 3: the race, ROUNDS times. */
struct client {
    int go[2]; /* the server writes a byte when the client may close */
    unsigned seed;
};

static size_t msg_len(int i, unsigned seed) { return 20 + (size_t)((seed * 7 + (unsigned)i * 13) % 180); }

static void fill(char *b, int i, size_t len) {
    int n = snprintf(b, len, "n%04d:", i);
    for (size_t k = (size_t)n; k < len; k++) b[k] = (char)('A' + (k + (size_t)i) % 26);
}

static void *client_round(void *arg) {
    struct client *cl = arg;
    int c = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(c >= 0);
    struct sockaddr_in sa = loop4(port);
    CHECK(connect(c, (struct sockaddr *)&sa, sizeof sa) == 0);
    for (int i = 0; i < PER_ROUND; i++) {
        char m[256];
        size_t len = msg_len(i, cl->seed);
        fill(m, i, len);
        CHECK(send(c, m, len, 0) == (ssize_t)len);
    }
    char b;
    CHECK(read(cl->go[0], &b, 1) == 1);
    close(c);
    return NULL;
}

/* Reads data message `i` (or its last `len - skip` bytes) from `s`. */
static void expect_msg(int s, int i, unsigned seed, size_t skip) {
    char want[256], buf[512];
    size_t len = msg_len(i, seed);
    fill(want, i, len);
    struct got g;
    for (;;) {
        CHECK(readable(s, 5000));
        ssize_t n = recv_got(s, buf, sizeof buf, 0, &g);
        CHECK(n > 0);
        if (g.flags & MSG_NOTIFICATION) {
            /* Only the peeled association's own events may come here. */
            continue;
        }
        if (n != (ssize_t)(len - skip) || memcmp(buf, want + skip, len - skip) != 0 || !(g.flags & MSG_EOR)) {
            fprintf(stderr, "message %d (skip %zu): got %zd bytes '%.12s' flags %#x, want %zu '%.12s'\n", i,
                    skip, n, buf, g.flags, len - skip, want + skip);
            exit(1);
        }
        return;
    }
}

static void races(void) {
    int srv = listen_on(SOCK_SEQPACKET, port, 0, 8);
    sub_assoc_events(srv);
    int moved = 0, partial = 0;
    for (int round = 0; round < ROUNDS; round++) {
        struct client cl = {.seed = (unsigned)round * 2654435761u};
        CHECK(pipe(cl.go) == 0);
        pthread_t th;
        CHECK(pthread_create(&th, NULL, client_round, &cl) == 0);
        if (getenv("PQ_VERBOSE")) fprintf(stderr, "round %d\n", round);
        sctp_assoc_t id = read_comm_up(srv);
        int before = (int)(cl.seed % (PER_ROUND + 1)); /* 0..8 read on the one-to-many socket */
        for (int i = 0; i < before; i++) expect_msg(srv, i, cl.seed, 0);
        size_t skip = 0;
        if (before < PER_ROUND && cl.seed % 3 == 0) {
            /* Part of the next one too. */
            char buf[8];
            struct got g;
            CHECK(readable(srv, 5000));
            CHECK(recv_got(srv, buf, 3, 0, &g) == 3 && !(g.flags & (MSG_EOR | MSG_NOTIFICATION)));
            CHECK(buf[0] == 'n');
            skip = 3;
            partial++;
        }
        int p = peel(srv, id);
        for (int i = before; i < PER_ROUND; i++) {
            expect_msg(p, i, cl.seed, i == before ? skip : 0);
            moved++;
        }
        nothing_left(srv);
        CHECK(write(cl.go[1], "x", 1) == 1);
        CHECK(pthread_join(th, NULL) == 0);
        close(cl.go[0]);
        close(cl.go[1]);
        close(p);
    }
    close(srv);
    printf("peeloff_queued: %d rounds, %d messages on the peeled-off sockets, %d partly read first\n", ROUNDS,
           moved, partial);
}

int main(void) {
    uint16_t base = free_ports(2);
    port = base;
    queued();
    port = (uint16_t)(base + 1);
    races();
    printf("peeloff_queued: ok\n");
    return 0;
}
