/* Many receives on one one-to-many socket (past the first few, which the
 * shim's daemon serves itself before the program reads through the
 * socket's shared page): each message comes with its sender's address,
 * its SCTP_RCVINFO and, when the next one is already queued, SCTP_NXTINFO
 * describing it; notifications keep MSG_NOTIFICATION; a message larger
 * than the buffer comes in pieces with MSG_EOR on the last only; and a
 * blocking recvmsg waits for data that comes later. */
#include "common.h"

#include <pthread.h>

#define MSGS 40

static int on = 1;

/* The client's association id as the server sees it, from COMM_UP. */
static sctp_assoc_t comm_up(int s) {
    char buf[512];
    CHECK(wait_note(s, SCTP_ASSOC_CHANGE, buf, sizeof buf, 5000) > 0);
    union sctp_notification *n = (union sctp_notification *)buf;
    CHECK(n->sn_assoc_change.sac_state == SCTP_COMM_UP);
    return n->sn_assoc_change.sac_assoc_id;
}

static int client(uint16_t port, uint16_t *local) {
    int c = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
    CHECK(c >= 0);
    struct sockaddr_in a = loop4(0);
    CHECK(bind(c, (struct sockaddr *)&a, sizeof a) == 0);
    socklen_t l = sizeof a;
    CHECK(getsockname(c, (struct sockaddr *)&a, &l) == 0);
    *local = ntohs(a.sin_port);
    struct sockaddr_in to = loop4(port);
    CHECK(connect(c, (struct sockaddr *)&to, sizeof to) == 0);
    return c;
}

/* sendto with stream `sid` and PPID `ppid`. */
static ssize_t send_sp(int c, uint16_t port, const void *d, size_t n, uint16_t sid, uint32_t ppid) {
    struct sockaddr_in to = loop4(port);
    struct sctp_sndinfo si = {0};
    si.snd_sid = sid;
    si.snd_ppid = htonl(ppid);
    return send_info(c, (struct sockaddr *)&to, sizeof to, d, n, &si, NULL, 0);
}

static int late_fd;
static uint16_t late_port;
static void *late_send(void *arg) {
    (void)arg;
    usleep(300000);
    CHECK(send_sp(late_fd, late_port, "late", 4, 0, 9) == 4);
    return NULL;
}

int main(void) {
    uint16_t port = free_ports(1);
    int s = listen_on(SOCK_SEQPACKET, port, 0, 16);
    struct sctp_event_subscribe ev = {0};
    ev.sctp_association_event = 1;
    CHECK(setsockopt(s, IPPROTO_SCTP, SCTP_EVENTS, &ev, sizeof ev) == 0);
    CHECK(setsockopt(s, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on) == 0);
    CHECK(setsockopt(s, IPPROTO_SCTP, SCTP_RECVNXTINFO, &on, sizeof on) == 0);
    uint16_t pa, pb;
    int ca = client(port, &pa);
    sctp_assoc_t ida = comm_up(s);
    int cb = client(port, &pb);
    sctp_assoc_t idb = comm_up(s);
    CHECK(ida != idb);

    /* Both clients send MSGS messages each: stream = index % 3, PPID the
     * index, the text says who and which. */
    for (int i = 0; i < MSGS; i++) {
        char m[32];
        int n = snprintf(m, sizeof m, "a%d", i);
        CHECK(send_sp(ca, port, m, (size_t)n, (uint16_t)(i % 3), (uint32_t)i) == n);
        n = snprintf(m, sizeof m, "b%d", i);
        CHECK(send_sp(cb, port, m, (size_t)n, (uint16_t)(i % 3), (uint32_t)i) == n);
    }
    int next_a = 0, next_b = 0, nxt_seen = 0;
    while (next_a < MSGS || next_b < MSGS) {
        char buf[64];
        struct got g;
        CHECK(readable(s, 5000));
        ssize_t n = recv_got(s, buf, sizeof buf - 1, 0, &g);
        CHECK(n > 0);
        buf[n] = 0;
        CHECK(!(g.flags & MSG_NOTIFICATION));
        CHECK(g.flags & MSG_EOR);
        CHECK(g.has_rcvinfo);
        struct sockaddr_in *from = (struct sockaddr_in *)&g.from;
        CHECK(g.fromlen == sizeof(struct sockaddr_in) && from->sin_family == AF_INET);
        int i = atoi(buf + 1);
        if (buf[0] == 'a') {
            CHECK(i == next_a++);
            CHECK(g.rcv.rcv_assoc_id == ida && ntohs(from->sin_port) == pa);
        } else {
            CHECK(buf[0] == 'b' && i == next_b++);
            CHECK(g.rcv.rcv_assoc_id == idb && ntohs(from->sin_port) == pb);
        }
        CHECK(g.rcv.rcv_sid == i % 3 && ntohl(g.rcv.rcv_ppid) == (uint32_t)i);
        if (g.has_nxtinfo) {
            nxt_seen++;
            CHECK(g.nxt.nxt_assoc_id == ida || g.nxt.nxt_assoc_id == idb);
            CHECK(g.nxt.nxt_length >= 2 && g.nxt.nxt_length <= 3);
        }
    }
    /* Everything was queued before the reads: the next message was known. */
    CHECK(nxt_seen > MSGS);

    /* A message larger than the buffer: pieces, MSG_EOR on the last. */
    static char big[3000];
    memset(big, 'x', sizeof big);
    CHECK(send_sp(ca, port, big, sizeof big, 1, 7) == (ssize_t)sizeof big);
    size_t total = 0;
    int pieces = 0;
    for (;;) {
        char buf[1000];
        struct got g;
        CHECK(readable(s, 5000));
        ssize_t n = recv_got(s, buf, sizeof buf, 0, &g);
        CHECK(n > 0 && g.has_rcvinfo && g.rcv.rcv_assoc_id == ida && ntohl(g.rcv.rcv_ppid) == 7);
        total += (size_t)n;
        pieces++;
        if (g.flags & MSG_EOR) break;
        CHECK(total < sizeof big);
    }
    CHECK(total == sizeof big && pieces == 3);

    /* A blocking recvmsg with nothing queued waits for what comes later. */
    late_fd = cb;
    late_port = port;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, late_send, NULL) == 0);
    {
        char buf[16];
        struct got g;
        ssize_t n = recv_got(s, buf, sizeof buf, 0, &g);
        CHECK(n == 4 && memcmp(buf, "late", 4) == 0 && g.rcv.rcv_assoc_id == idb);
    }
    pthread_join(t, NULL);

    /* A notification: the association's end. */
    close(ca);
    {
        char buf[512];
        CHECK(wait_note(s, SCTP_ASSOC_CHANGE, buf, sizeof buf, 5000) > 0);
        union sctp_notification *n = (union sctp_notification *)buf;
        CHECK(n->sn_assoc_change.sac_state == SCTP_SHUTDOWN_COMP && n->sn_assoc_change.sac_assoc_id == ida);
    }
    close(cb);
    close(s);
    printf("many_recv: ok\n");
    return 0;
}
