/* Two sockets of one engine talk without UDP, and a loopback handshake
 * completes inside connect(), as on Linux: once a non-blocking connect()
 * has returned, the listener accepts at once and a one-to-many listener's
 * COMM_UP is readable, without polling (issue 13). SCTPSHIM_LOOPBACK=udp
 * forces real UDP (then the handshake takes its round trips: skipped). */
#define _GNU_SOURCE
#include <fcntl.h>

#include "common.h"

#define PORT 46420

int main(void) {
    const char *lb = getenv("SCTPSHIM_LOOPBACK");
    if (lb && strcmp(lb, "udp") == 0) {
        printf("loopback: skipped (SCTPSHIM_LOOPBACK=udp)\n");
        return 0;
    }
    /* One-to-one. A listener is never writable (Linux's sctp_poll). */
    int l = listen_on(SOCK_STREAM, PORT, 0, 8);
    struct pollfd lp = {l, POLLIN | POLLOUT, 0};
    CHECK(poll(&lp, 1, 0) == 0);
    int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_SCTP);
    CHECK(c >= 0);
    struct sockaddr_in to = loop4(PORT);
    int r = connect(c, (struct sockaddr *)&to, sizeof to);
    CHECK(r == 0 || errno == EINPROGRESS);
    int a = accept4(l, NULL, NULL, SOCK_NONBLOCK);
    CHECK(a >= 0);
    lp.revents = 0;
    CHECK(poll(&lp, 1, 0) == 0);
    CHECK(readable(c, 0) == 0); /* nothing to read, but connected: */
    struct sctp_status st;
    socklen_t sl = sizeof st;
    CHECK(getsockopt(c, IPPROTO_SCTP, SCTP_STATUS, &st, &sl) == 0 && st.sstat_state == SCTP_ESTABLISHED);
    CHECK(write(c, "hi", 2) == 2);
    CHECK(readable(a, 2000));
    char buf[512];
    CHECK(read(a, buf, sizeof buf) == 2);
    close(a);
    close(c);
    close(l);

    /* One-to-many listener: COMM_UP is there when connect returns. */
    int m = listen_on(SOCK_SEQPACKET, PORT + 1, 0, 8);
    struct sctp_event_subscribe ev = {0};
    ev.sctp_association_event = 1;
    CHECK(setsockopt(m, IPPROTO_SCTP, SCTP_EVENTS, &ev, sizeof ev) == 0);
    c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_SCTP);
    to = loop4(PORT + 1);
    r = connect(c, (struct sockaddr *)&to, sizeof to);
    CHECK(r == 0 || errno == EINPROGRESS);
    struct got g;
    CHECK(recv_got(m, buf, sizeof buf, MSG_DONTWAIT, &g) > 0);
    CHECK((g.flags & MSG_NOTIFICATION) != 0);
    union sctp_notification *n = (union sctp_notification *)buf;
    CHECK(n->sn_header.sn_type == SCTP_ASSOC_CHANGE && n->sn_assoc_change.sac_state == SCTP_COMM_UP);
    close(c);
    close(m);
    printf("loopback: ok\n");
    return 0;
}
