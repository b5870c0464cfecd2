/* Messages larger than the receive buffer (RFC 9260 §6.9, RFC 6458
 * §8.1.21): a 1 MiB message reaches a one-to-many reader in pieces, every
 * piece with its SCTP_RCVINFO and MSG_EOR on the last only, and the
 * message after it follows intact; SCTP_PARTIAL_DELIVERY_POINT reads back
 * and is bounded by half the receive buffer; when the sender aborts in the
 * middle of a message, the reader gets what arrived (no MSG_EOR), then
 * SCTP_PARTIAL_DELIVERY_EVENT (aborted) and COMM_LOST. */
#include "common.h"

#include <pthread.h>

#define BIG (1 << 20)

static int listener(uint16_t port) {
    int s = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
    CHECK(s >= 0);
    struct sockaddr_in a = loop4(port);
    CHECK(bind(s, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(listen(s, 4) == 0);
    return s;
}

static char big[BIG], buf[BIG + 4096];
static uint16_t sender_port;

static void *send_two(void *arg) {
    int cl = *(int *)arg;
    struct sockaddr_in sa = loop4(sender_port);
    struct sctp_sndinfo si = {.snd_sid = 3, .snd_ppid = htonl(42)};
    CHECK(send_info(cl, (struct sockaddr *)&sa, sizeof sa, big, BIG, &si, NULL, 0) == BIG);
    si.snd_sid = 1;
    CHECK(send_info(cl, (struct sockaddr *)&sa, sizeof sa, "tail", 4, &si, NULL, 0) == 4);
    return NULL;
}

int main(void) {
    for (size_t i = 0; i < BIG; i++) big[i] = (char)(i * 13 + i / 4099);
    uint16_t base = free_ports(2);
    struct got g;
    int on = 1;

    /* A 1 MiB message, then a small one; both arrive whole and in order. */
    int srv = listener(base);
    CHECK(setsockopt(srv, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on) == 0);
    int cl = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
    sender_port = base;
    pthread_t th;
    /* The sender blocks until the reader makes room: a thread of its own. */
    CHECK(pthread_create(&th, NULL, send_two, &cl) == 0);
    size_t total = 0;
    int pieces = 0;
    while (total < BIG) {
        CHECK(readable(srv, 5000));
        CHECK(recv_got(srv, buf + total, sizeof buf - total, 0, &g) > 0);
        CHECK(g.has_rcvinfo && g.rcv.rcv_sid == 3 && g.rcv.rcv_ppid == htonl(42));
        total += g.n;
        pieces++;
        CHECK(((g.flags & MSG_EOR) != 0) == (total == BIG));
    }
    CHECK(total == BIG && memcmp(buf, big, BIG) == 0);
    CHECK(pieces > 1); /* larger than the receive buffer: it came in pieces */
    CHECK(readable(srv, 3000) && recv_got(srv, buf, sizeof buf, 0, &g) == 4);
    CHECK(memcmp(buf, "tail", 4) == 0 && (g.flags & MSG_EOR) && g.rcv.rcv_sid == 1);
    CHECK(pthread_join(th, NULL) == 0);
    close(cl);
    close(srv);

    /* SCTP_PARTIAL_DELIVERY_POINT. */
    int srv2 = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
    uint32_t pd = 1000;
    CHECK(setsockopt(srv2, IPPROTO_SCTP, SCTP_PARTIAL_DELIVERY_POINT, &pd, sizeof pd) == 0);
    pd = 0;
    socklen_t pl = sizeof pd;
    CHECK(getsockopt(srv2, IPPROTO_SCTP, SCTP_PARTIAL_DELIVERY_POINT, &pd, &pl) == 0 && pd == 1000);
    uint32_t huge = 1u << 30;
    CHECK(setsockopt(srv2, IPPROTO_SCTP, SCTP_PARTIAL_DELIVERY_POINT, &huge, sizeof huge) < 0 && errno == EINVAL);
    CHECK(setsockopt(srv2, IPPROTO_SCTP, SCTP_PARTIAL_DELIVERY_POINT, &huge, 2) < 0 && errno == EINVAL);

    /* The sender aborts in the middle of a message. */
    struct sockaddr_in sa2 = loop4(base + 1);
    CHECK(bind(srv2, (struct sockaddr *)&sa2, sizeof sa2) == 0);
    CHECK(listen(srv2, 4) == 0);
    struct sctp_event_subscribe ev = {0};
    ev.sctp_association_event = 1;
    ev.sctp_partial_delivery_event = 1;
    CHECK(setsockopt(srv2, IPPROTO_SCTP, SCTP_EVENTS, &ev, sizeof ev) == 0);
    int cl2 = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
    struct sctp_event_subscribe cev = {0};
    cev.sctp_association_event = 1;
    CHECK(setsockopt(cl2, IPPROTO_SCTP, SCTP_EVENTS, &cev, sizeof cev) == 0);
    struct sctp_sndinfo si = {.snd_sid = 2, .snd_ppid = htonl(42)};
    CHECK(send_info(cl2, (struct sockaddr *)&sa2, sizeof sa2, big, BIG, &si, NULL, 0) == BIG);
    CHECK(wait_note(cl2, SCTP_ASSOC_CHANGE, buf, sizeof buf, 3000) > 0);
    sctp_assoc_t caid = ((struct sctp_assoc_change *)buf)->sac_assoc_id;
    /* COMM_UP, then the first piece: the message is being delivered. */
    CHECK(readable(srv2, 3000) && recv_got(srv2, buf, sizeof buf, 0, &g) > 0 && (g.flags & MSG_NOTIFICATION));
    CHECK(readable(srv2, 3000) && recv_got(srv2, buf, 1000, MSG_PEEK, &g) > 0 && !(g.flags & MSG_NOTIFICATION));
    usleep(200000);
    struct sctp_sndinfo ab = {.snd_flags = SCTP_ABORT, .snd_assoc_id = caid};
    CHECK(send_info(cl2, NULL, 0, NULL, 0, &ab, NULL, 0) == 0);
    total = 0;
    int saw_pd = 0, saw_lost = 0;
    double end = now_s() + 5;
    while (now_s() < end && !saw_lost) {
        if (!readable(srv2, 100)) continue;
        CHECK(recv_got(srv2, buf, sizeof buf, 0, &g) > 0);
        if (!(g.flags & MSG_NOTIFICATION)) {
            CHECK(!saw_pd && !(g.flags & MSG_EOR));
            CHECK(memcmp(buf, big + total, g.n) == 0);
            total += g.n;
            continue;
        }
        union sctp_notification *n = (union sctp_notification *)buf;
        if (n->sn_header.sn_type == SCTP_PARTIAL_DELIVERY_EVENT) {
            CHECK(n->sn_pdapi_event.pdapi_indication == SCTP_PARTIAL_DELIVERY_ABORTED);
            CHECK(n->sn_pdapi_event.pdapi_stream == 2);
            saw_pd = 1;
        } else if (n->sn_header.sn_type == SCTP_ASSOC_CHANGE) {
            CHECK(n->sn_assoc_change.sac_state == SCTP_COMM_LOST);
            saw_lost = 1;
        }
    }
    CHECK(total > 0 && total < BIG && saw_pd && saw_lost);
    close(cl2);
    close(srv2);
    printf("partial_delivery: ok (%d pieces; %zu bytes before the abort)\n", pieces, total);
    return 0;
}
