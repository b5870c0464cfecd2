/* Issue 18 item 3: the side that calls shutdown(SHUT_WR) on a one-to-one
 * socket subscribed to association events reads COMM_UP, then, once the
 * peer has closed too, SHUTDOWN_COMP; after that a non-blocking read is
 * EAGAIN. The same sequence as Linux 6.1 (checked in the qemu guest). */
#include "common.h"

int main(void) {
    int l = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(l >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(bind(l, (struct sockaddr *)&a, sizeof a) == 0);
    socklen_t al = sizeof a;
    CHECK(getsockname(l, (struct sockaddr *)&a, &al) == 0);
    CHECK(listen(l, 4) == 0);
    int c = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(c >= 0);
    struct sctp_event_subscribe ev;
    memset(&ev, 0, sizeof ev);
    ev.sctp_association_event = 1;
    ev.sctp_shutdown_event = 1;
    CHECK(setsockopt(c, IPPROTO_SCTP, SCTP_EVENTS, &ev, sizeof ev) == 0);
    CHECK(connect(c, (struct sockaddr *)&a, sizeof a) == 0);
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    CHECK(shutdown(c, SHUT_WR) == 0);
    char b[256];
    CHECK(recv(s, b, sizeof b, 0) == 0); /* the peer reads EOF, then closes */
    CHECK(close(s) == 0);
    int want[] = {SCTP_COMM_UP, SCTP_SHUTDOWN_COMP};
    for (int i = 0; i < 2; i++) {
        struct pollfd p = {.fd = c, .events = POLLIN};
        CHECK(poll(&p, 1, 5000) == 1);
        struct got g;
        CHECK(recv_got(c, b, sizeof b, 0, &g) > 0);
        CHECK(g.flags & MSG_NOTIFICATION);
        union sctp_notification *n = (union sctp_notification *)b;
        CHECK(n->sn_header.sn_type == SCTP_ASSOC_CHANGE);
        CHECK(n->sn_assoc_change.sac_state == want[i]);
    }
    CHECK(recv(c, b, sizeof b, MSG_DONTWAIT) == -1 && errno == EAGAIN);
    close(c);
    close(l);
    printf("shutwr_notify: ok\n");
    return 0;
}
