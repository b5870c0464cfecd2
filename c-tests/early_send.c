/* Sends on a one-to-one socket before its association is up, as Linux
 * takes them (issue 14), confirmed with scripts/linux-check.sh early_send:
 * - after a non-blocking connect, a non-blocking send during the handshake
 *   is queued (not EAGAIN) and arrives whole;
 * - sendmsg with an address (and SCTP_INIT) on a fresh socket sets the
 *   association up and its DATA rides with the COOKIE ECHO: the server
 *   can read the message as soon as it has accepted the association.
 * Under the shim every datagram is delayed (SCTPSHIM_IMPAIR, through real
 * UDP) so that the handshake takes a while; Linux ignores the settings. */
#include "expect.h"

#include <signal.h>

static void read_exact_msg(int s, const char *want) {
    char buf[256];
    struct got g;
    CHECK(readable(s, 5000));
    EXPECT_EQ(recv_got(s, buf, sizeof buf, 0, &g), (long)strlen(want));
    EXPECT_EQ(memcmp(buf, want, strlen(want)), 0);
    EXPECT_EQ(!!(g.flags & MSG_EOR), 1);
}

static void during_handshake(uint16_t port) {
    int l = listen_on(SOCK_STREAM, port, 0, 8);
    struct sockaddr_in a = loop4(port);
    int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_SCTP);
    CHECK(c >= 0);
    int r = connect(c, (struct sockaddr *)&a, sizeof a);
    CHECK(r == 0 || errno == EINPROGRESS);
    /* Queued while the handshake runs. */
    EXPECT_EQ(send(c, "early one", 9, 0), 9);
    EXPECT_EQ(send(c, "early two", 9, 0), 9);
    struct pollfd p = {c, POLLOUT, 0};
    CHECK(poll(&p, 1, 5000) == 1);
    EXPECT_EQ(send(c, "after", 5, 0), 5);
    CHECK(readable(l, 5000));
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    read_exact_msg(s, "early one");
    read_exact_msg(s, "early two");
    read_exact_msg(s, "after");
    close(s);
    close(c);
    close(l);
}

static void implicit_connect(uint16_t port) {
    int l = listen_on(SOCK_STREAM, port, 0, 8);
    struct sockaddr_in a = loop4(port);
    int c = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(c >= 0);
    struct sctp_initmsg init = {.sinit_num_ostreams = 5, .sinit_max_instreams = 5};
    struct sctp_sndinfo si = {.snd_sid = 3};
    EXPECT_EQ(send_info(c, (struct sockaddr *)&a, sizeof a, "with the cookie", 15, &si, &init, 0), 15);
    CHECK(readable(l, 5000));
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    /* It came with the COOKIE ECHO: there as soon as the association is. */
    EXPECT_EQ(readable(s, 50), 1);
    read_exact_msg(s, "with the cookie");
    struct sctp_status st = {0};
    socklen_t sl = sizeof st;
    CHECK(getsockopt(c, IPPROTO_SCTP, SCTP_STATUS, &st, &sl) == 0);
    EXPECT_EQ(st.sstat_outstrms, 5);
    close(s);
    close(c);
    close(l);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    /* Read by the shim at the first socket(); ignored by Linux. */
    setenv("SCTPSHIM_IMPAIR", "delay=60ms", 1);
    setenv("SCTPSHIM_LOOPBACK", "udp", 1);
    uint16_t port = free_ports(2);
    during_handshake(port);
    implicit_connect(port + 1);
    return finish("early_send");
}
