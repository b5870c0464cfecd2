/* sctp_peeloff in the middle of traffic: a client streams 3000 numbered
 * messages; after the first 500 the server peels the association off its
 * one-to-many socket. Everything not read yet, also what was queued on the
 * one-to-many socket, is read on the new one-to-one socket (Linux's
 * sctp_sock_migrate): every message arrives exactly once, in order, each
 * as one record with MSG_EOR. A second client keeps using the one-to-many
 * socket meanwhile. */
#include "common.h"

#include <fcntl.h>
#include <pthread.h>

#define COUNT 3000

static uint16_t port;
static int saw_other;

static void *stream_numbers(void *arg) {
    (void)arg;
    int c = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
    CHECK(c >= 0);
    struct sockaddr_in sa = loop4(port);
    for (int i = 0; i < COUNT; i++) {
        char m[16];
        int n = snprintf(m, sizeof m, "n%07d", i);
        struct sctp_sndinfo si = {.snd_sid = 1, .snd_ppid = htonl(5)};
        CHECK(send_info(c, (struct sockaddr *)&sa, sizeof sa, m, (size_t)n, &si, NULL, 0) == n);
    }
    sleep(2); /* let the server read everything before the association ends */
    close(c);
    return NULL;
}

/* Reads one data record; returns its number, -1 if nothing is there. */
static int next_number(int s, int flags) {
    char buf[64];
    struct got g;
    for (;;) {
        ssize_t n = recv_got(s, buf, sizeof buf - 1, flags, &g);
        if (n < 0 && errno == EAGAIN) return -1;
        CHECK(n > 0);
        if (g.flags & MSG_NOTIFICATION) continue;
        if (n == 5 && memcmp(buf, "other", 5) == 0) {
            saw_other = 1;
            continue;
        }
        CHECK(n == 8 && buf[0] == 'n' && (g.flags & MSG_EOR));
        buf[n] = 0;
        return atoi(buf + 1);
    }
}

int main(void) {
    port = free_ports(1);
    int srv = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
    struct sockaddr_in sa = loop4(port);
    CHECK(bind(srv, (struct sockaddr *)&sa, sizeof sa) == 0);
    CHECK(listen(srv, 4) == 0);
    struct sctp_event_subscribe ev = {0};
    ev.sctp_association_event = 1;
    CHECK(setsockopt(srv, IPPROTO_SCTP, SCTP_EVENTS, &ev, sizeof ev) == 0);

    pthread_t th;
    CHECK(pthread_create(&th, NULL, stream_numbers, NULL) == 0);
    char buf[256];
    struct got g;
    CHECK(readable(srv, 3000) && recv_got(srv, buf, sizeof buf, 0, &g) > 0 && (g.flags & MSG_NOTIFICATION));
    sctp_assoc_t aid = ((struct sctp_assoc_change *)buf)->sac_assoc_id;

    int expect = 0;
    while (expect < 500) {
        CHECK(readable(srv, 3000));
        CHECK(next_number(srv, 0) == expect);
        expect++;
    }
    /* Peel off while the client is still sending. */
    sctp_peeloff_arg_t po = {.associd = aid, .sd = -1};
    socklen_t pl = sizeof po;
    /* Linux returns the new descriptor, also put in the struct. */
    int pr_ = getsockopt(srv, IPPROTO_SCTP, SCTP_SOCKOPT_PEELOFF, &po, &pl);
    CHECK(pr_ >= 0 && pr_ == po.sd);
    int one = po.sd;

    /* A second client on the one-to-many socket is unaffected. */
    int c2 = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
    CHECK(sendto(c2, "other", 5, 0, (struct sockaddr *)&sa, sizeof sa) == 5);

    /* Nothing of the association is left on the one-to-many socket... */
    usleep(100000);
    CHECK(next_number(srv, MSG_DONTWAIT) < 0);
    /* ...all the rest comes on the peeled-off socket. */
    while (expect < COUNT) {
        CHECK(readable(one, 5000));
        CHECK(next_number(one, 0) == expect);
        expect++;
    }
    CHECK(pthread_join(th, NULL) == 0);
    /* The other client's message went to the one-to-many socket. */
    double end = now_s() + 3;
    while (!saw_other && now_s() < end) {
        if (!readable(srv, 100)) continue;
        ssize_t r = recv_got(srv, buf, sizeof buf, 0, &g);
        CHECK(r > 0);
        if (!(g.flags & MSG_NOTIFICATION)) {
            CHECK(r == 5 && memcmp(buf, "other", 5) == 0);
            saw_other = 1;
        }
    }
    CHECK(saw_other);
    close(c2);
    close(one);
    close(srv);
    printf("peeloff_traffic: ok\n");
    return 0;
}
