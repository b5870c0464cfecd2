/* Calls beyond the socket API's core, on SCTP sockets, as Linux answers
 * them (issue 14), confirmed with scripts/linux-check.sh more_calls:
 * - accept and sctp_peeloff give sockets with the parent's SO_SNDBUF and
 *   SO_RCVBUF, timeouts, linger, socket flags, IP options but the type
 *   of service, and SCTP options (sctp_copy_sock, sctp_sock_migrate);
 * - IP_TOS sets SO_PRIORITY; a one-to-one socket keeps ECN bits out of
 *   IPV6_TCLASS;
 * - writev is one message, readv takes one; sendmmsg and recvmmsg move
 *   one message per entry;
 * - recvmmsg's timeout is checked after each message, the time left
 *   written back;
 * - ioctl(FIONREAD) is the length of the next message; ENOTCONN on a
 *   listener;
 * - the peeloff socket option returns the new descriptor. */
#define _GNU_SOURCE
#include "expect.h"

#include <signal.h>
#include <sys/ioctl.h>
#include <sys/uio.h>

static int intopt(int fd, int name) {
    int v = -1;
    socklen_t l = sizeof v;
    CHECK(getsockopt(fd, SOL_SOCKET, name, &v, &l) == 0);
    return v;
}

static void inherited(uint16_t port) {
    int l = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(l >= 0);
    int big = 1 << 20, mid = 300000;
    CHECK(setsockopt(l, SOL_SOCKET, SO_RCVBUF, &big, sizeof big) == 0);
    CHECK(setsockopt(l, SOL_SOCKET, SO_SNDBUF, &mid, sizeof mid) == 0);
    struct sockaddr_in a = loop4(port);
    CHECK(bind(l, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(listen(l, 4) == 0);
    int c = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(connect(c, (struct sockaddr *)&a, sizeof a) == 0);
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    EXPECT_EQ(intopt(s, SO_RCVBUF), intopt(l, SO_RCVBUF));
    EXPECT_EQ(intopt(s, SO_SNDBUF), intopt(l, SO_SNDBUF));
    close(s);
    close(c);
    close(l);

    /* sctp_peeloff, through its socket option. */
    int m = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
    CHECK(m >= 0);
    CHECK(setsockopt(m, SOL_SOCKET, SO_RCVBUF, &big, sizeof big) == 0);
    CHECK(setsockopt(m, SOL_SOCKET, SO_SNDBUF, &mid, sizeof mid) == 0);
    struct sockaddr_in b = loop4(port + 1);
    CHECK(bind(m, (struct sockaddr *)&b, sizeof b) == 0);
    CHECK(listen(m, 4) == 0);
    int k = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
    CHECK(sendto(k, "hi", 2, 0, (struct sockaddr *)&b, sizeof b) == 2);
    char buf[64];
    struct got g;
    CHECK(readable(m, 3000));
    CHECK(recv_got(m, buf, sizeof buf, 0, &g) == 2);
    sctp_assoc_t id = 0;
    /* the association id of the message: SCTP_RECVRCVINFO was off, so ask */
    struct sctp_paddrinfo pi;
    memset(&pi, 0, sizeof pi);
    memcpy(&pi.spinfo_address, &g.from, sizeof(struct sockaddr_in));
    socklen_t pl = sizeof pi;
    CHECK(getsockopt(m, IPPROTO_SCTP, SCTP_GET_PEER_ADDR_INFO, &pi, &pl) == 0);
    id = pi.spinfo_assoc_id;
    sctp_peeloff_arg_t po = {.associd = id};
    socklen_t ol = sizeof po;
    /* Linux returns the new descriptor (also in the struct). */
    int pr = getsockopt(m, IPPROTO_SCTP, SCTP_SOCKOPT_PEELOFF, &po, &ol);
    CHECK(pr >= 0);
    EXPECT_EQ(pr, po.sd);
    EXPECT_EQ(intopt(po.sd, SO_RCVBUF), intopt(m, SO_RCVBUF));
    EXPECT_EQ(intopt(po.sd, SO_SNDBUF), intopt(m, SO_SNDBUF));
    close(po.sd);
    close(k);
    close(m);
}

/* The settings sctp_copy_sock and sctp_sock_migrate give a socket made by
 * accept or sctp_peeloff: socket-level timeouts, linger and flags, the IP
 * options but the type of service, and every SCTP option. */
static void set_many(int l) {
    struct timeval tv = {3, 500000};
    CHECK(setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
    tv.tv_sec = 4;
    CHECK(setsockopt(l, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0);
    struct linger lg = {1, 7};
    CHECK(setsockopt(l, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
    int one = 1, v = 5;
    CHECK(setsockopt(l, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one) == 0);
    CHECK(setsockopt(l, SOL_SOCKET, SO_PRIORITY, &v, sizeof v) == 0);
    CHECK(setsockopt(l, SOL_SOCKET, SO_OOBINLINE, &one, sizeof one) == 0);
    v = 0x20;
    CHECK(setsockopt(l, IPPROTO_IP, IP_TOS, &v, sizeof v) == 0);
    /* A new type of service sets the priority (rt_tos2priority). */
    EXPECT_EQ(intopt(l, SO_PRIORITY), 0);
    v = 33;
    CHECK(setsockopt(l, IPPROTO_IP, IP_TTL, &v, sizeof v) == 0);
    CHECK(setsockopt(l, IPPROTO_SCTP, SCTP_NODELAY, &one, sizeof one) == 0);
    CHECK(setsockopt(l, IPPROTO_SCTP, SCTP_RECVRCVINFO, &one, sizeof one) == 0);
    CHECK(setsockopt(l, IPPROTO_SCTP, SCTP_DISABLE_FRAGMENTS, &one, sizeof one) == 0);
    v = 1000;
    CHECK(setsockopt(l, IPPROTO_SCTP, SCTP_PARTIAL_DELIVERY_POINT, &v, sizeof v) == 0);
    struct sctp_event ev = {.se_type = SCTP_SHUTDOWN_EVENT, .se_on = 1};
    CHECK(setsockopt(l, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof ev) == 0);
    struct sctp_sndinfo si = {.snd_sid = 3, .snd_ppid = 0x11223344};
    CHECK(setsockopt(l, IPPROTO_SCTP, SCTP_DEFAULT_SNDINFO, &si, sizeof si) == 0);
    struct sctp_rtoinfo ri = {0, 1500, 30000, 500};
    CHECK(setsockopt(l, IPPROTO_SCTP, SCTP_RTOINFO, &ri, sizeof ri) == 0);
}

static int sctp_int(int s, int name) {
    int v = -1;
    socklen_t l = sizeof v;
    CHECK(getsockopt(s, IPPROTO_SCTP, name, &v, &l) == 0);
    return v;
}

static void check_copied(int s) {
    struct timeval tv;
    socklen_t l = sizeof tv;
    CHECK(getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, &l) == 0);
    EXPECT_EQ(tv.tv_sec * 1000000 + tv.tv_usec, 3500000);
    l = sizeof tv;
    CHECK(getsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, &l) == 0);
    EXPECT_EQ(tv.tv_sec * 1000000 + tv.tv_usec, 4500000);
    struct linger lg;
    l = sizeof lg;
    CHECK(getsockopt(s, SOL_SOCKET, SO_LINGER, &lg, &l) == 0);
    EXPECT_EQ(lg.l_onoff * 100 + lg.l_linger, 107);
    EXPECT_EQ(intopt(s, SO_KEEPALIVE), 1);
    EXPECT_EQ(intopt(s, SO_OOBINLINE), 1);
    int v = -1;
    l = sizeof v;
    CHECK(getsockopt(s, IPPROTO_IP, IP_TOS, &v, &l) == 0);
    EXPECT_EQ(v, 0);
    l = sizeof v;
    CHECK(getsockopt(s, IPPROTO_IP, IP_TTL, &v, &l) == 0);
    EXPECT_EQ(v, 33);
    EXPECT_EQ(sctp_int(s, SCTP_NODELAY), 1);
    EXPECT_EQ(sctp_int(s, SCTP_RECVRCVINFO), 1);
    EXPECT_EQ(sctp_int(s, SCTP_DISABLE_FRAGMENTS), 1);
    EXPECT_EQ(sctp_int(s, SCTP_PARTIAL_DELIVERY_POINT), 1000);
    struct sctp_event ev = {.se_type = SCTP_SHUTDOWN_EVENT};
    l = sizeof ev;
    CHECK(getsockopt(s, IPPROTO_SCTP, SCTP_EVENT, &ev, &l) == 0);
    EXPECT_EQ(ev.se_on, 1);
    struct sctp_sndinfo si;
    memset(&si, 0, sizeof si);
    l = sizeof si;
    CHECK(getsockopt(s, IPPROTO_SCTP, SCTP_DEFAULT_SNDINFO, &si, &l) == 0);
    EXPECT_EQ(si.snd_sid, 3);
    EXPECT_EQ(si.snd_ppid, 0x11223344);
    struct sctp_rtoinfo ri;
    memset(&ri, 0, sizeof ri);
    l = sizeof ri;
    CHECK(getsockopt(s, IPPROTO_SCTP, SCTP_RTOINFO, &ri, &l) == 0);
    EXPECT_EQ(ri.srto_max, 30000);
    EXPECT_EQ(ri.srto_min, 500);
}

static void copied_settings(uint16_t port) {
    int l = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(l >= 0);
    set_many(l);
    struct sockaddr_in a = loop4(port);
    CHECK(bind(l, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(listen(l, 4) == 0);
    int c = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(connect(c, (struct sockaddr *)&a, sizeof a) == 0);
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    check_copied(s);
    close(s);
    close(c);
    close(l);

    int m = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
    CHECK(m >= 0);
    set_many(m);
    struct sctp_event ev = {.se_type = SCTP_ASSOC_CHANGE, .se_on = 1};
    CHECK(setsockopt(m, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof ev) == 0);
    struct sockaddr_in b = loop4(port + 1);
    CHECK(bind(m, (struct sockaddr *)&b, sizeof b) == 0);
    CHECK(listen(m, 4) == 0);
    int k = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
    CHECK(sendto(k, "hi", 2, 0, (struct sockaddr *)&b, sizeof b) == 2);
    char buf[256];
    CHECK(wait_note(m, SCTP_ASSOC_CHANGE, buf, sizeof buf, 3000) > 0);
    sctp_peeloff_arg_t po = {.associd = ((struct sctp_assoc_change *)buf)->sac_assoc_id};
    socklen_t ol = sizeof po;
    CHECK(getsockopt(m, IPPROTO_SCTP, SCTP_SOCKOPT_PEELOFF, &po, &ol) >= 0);
    check_copied(po.sd);
    close(po.sd);
    close(k);
    close(m);

    /* A one-to-one socket's ECN bits are the stack's: TCLASS 0x21 is 0x20. */
    int six = socket(AF_INET6, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(six >= 0);
    int v = 0x21;
    CHECK(setsockopt(six, IPPROTO_IPV6, IPV6_TCLASS, &v, sizeof v) == 0);
    socklen_t vl = sizeof v;
    CHECK(getsockopt(six, IPPROTO_IPV6, IPV6_TCLASS, &v, &vl) == 0);
    EXPECT_EQ(v, 0x20);
    close(six);
}

static void vectors(uint16_t port) {
    int l = listen_on(SOCK_STREAM, port, 0, 4);
    struct sockaddr_in a = loop4(port);
    int c = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(connect(c, (struct sockaddr *)&a, sizeof a) == 0);
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    /* writev: one message of three pieces, twice. */
    struct iovec w[3] = {{"one", 3}, {"-two", 4}, {"-three", 6}};
    EXPECT_EQ(writev(c, w, 3), 13);
    EXPECT_EQ(writev(c, w, 2), 7);
    CHECK(readable(s, 3000));
    usleep(100000);
    int n = -1;
    EXPECT_EQ(ioctl(s, FIONREAD, &n), 0);
    EXPECT_EQ(n, 13);
    /* readv: one message across two buffers, never two messages. */
    char b1[5], b2[64];
    struct iovec r[2] = {{b1, sizeof b1}, {b2, sizeof b2}};
    EXPECT_EQ(readv(s, r, 2), 13);
    EXPECT_EQ(memcmp(b1, "one-t", 5), 0);
    EXPECT_EQ(memcmp(b2, "wo-three", 8), 0);
    EXPECT_EQ(readv(s, r, 2), 7);
    /* sendmmsg: one message per entry; recvmmsg: one entry per message. */
    struct iovec v[3] = {{"alpha", 5}, {"be", 2}, {"gamma!", 6}};
    struct mmsghdr mm[3];
    memset(mm, 0, sizeof mm);
    for (int i = 0; i < 3; i++) {
        mm[i].msg_hdr.msg_iov = &v[i];
        mm[i].msg_hdr.msg_iovlen = 1;
    }
    EXPECT_EQ(sendmmsg(c, mm, 3, 0), 3);
    EXPECT_EQ(mm[0].msg_len, 5);
    EXPECT_EQ(mm[2].msg_len, 6);
    CHECK(readable(s, 3000));
    usleep(100000);
    char rb[3][32];
    struct iovec rv[3];
    struct mmsghdr rm[3];
    memset(rm, 0, sizeof rm);
    for (int i = 0; i < 3; i++) {
        rv[i].iov_base = rb[i];
        rv[i].iov_len = sizeof rb[i];
        rm[i].msg_hdr.msg_iov = &rv[i];
        rm[i].msg_hdr.msg_iovlen = 1;
    }
    EXPECT_EQ(recvmmsg(s, rm, 3, MSG_DONTWAIT, NULL), 3);
    EXPECT_EQ(rm[0].msg_len, 5);
    EXPECT_EQ(rm[1].msg_len, 2);
    EXPECT_EQ(rm[2].msg_len, 6);
    EXPECT_EQ(memcmp(rb[2], "gamma!", 6), 0);
    EXPECT_EQ(!!(rm[1].msg_hdr.msg_flags & MSG_EOR), 1);
    /* recvmmsg's timeout is checked after each message: a zero one
     * takes one; the time left is written back; a bad one is EINVAL. */
    EXPECT_EQ(sendmmsg(c, mm, 3, 0), 3);
    CHECK(readable(s, 3000));
    usleep(100000);
    struct timespec zero = {0, 0}, five = {5, 0}, bad = {0, -1};
    EXPECT(recvmmsg(s, rm, 3, 0, &bad), EINVAL);
    EXPECT_EQ(recvmmsg(s, rm, 3, 0, &zero), 1);
    EXPECT_EQ(rm[0].msg_len, 5);
    EXPECT_EQ(recvmmsg(s, rm, 2, 0, &five), 2);
    EXPECT_EQ(rm[1].msg_len, 6);
    EXPECT_EQ(five.tv_sec < 5 || five.tv_nsec < 1000000000, 1);
    EXPECT_EQ(five.tv_sec >= 4, 1);
    n = -1;
    EXPECT_EQ(ioctl(s, FIONREAD, &n), 0);
    EXPECT_EQ(n, 0);
    errno = 0;
    EXPECT_EQ(ioctl(l, FIONREAD, &n), -1);
    EXPECT_EQ(errno, ENOTCONN);
    close(s);
    close(c);
    close(l);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    uint16_t port = free_ports(4);
    inherited(port);
    vectors(port + 2);
    copied_settings(port + 3);
    return finish("more_calls");
}
