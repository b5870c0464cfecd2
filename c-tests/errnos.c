/* Linux's exact answers to wrong or unusual calls on SCTP sockets (issue
 * 14), each confirmed on Linux's own SCTP (scripts/linux-check.sh errnos):
 * socket() arguments, unknown option levels, calls in the wrong state,
 * invalid connectx addresses, options read from old (shorter) structs. */
#include "expect.h"

#include <fcntl.h>
#include <signal.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>

static int connectx(int s, struct sockaddr *addrs, int len) {
    return setsockopt(s, IPPROTO_SCTP, SCTP_SOCKOPT_CONNECTX, addrs, (socklen_t)len);
}

static void socket_args(void) {
    EXPECT(socket(AF_INET, -1, IPPROTO_SCTP), EINVAL);
    EXPECT(socket(-1, SOCK_STREAM, IPPROTO_SCTP), EAFNOSUPPORT);
    EXPECT(socket(AF_INET, SOCK_DGRAM, IPPROTO_SCTP), EPROTONOSUPPORT);
}

static void option_levels(int s) {
    int v = 1;
    socklen_t l = sizeof v;
    EXPECT(setsockopt(s, 4242, 1, &v, sizeof v), ENOPROTOOPT);
    /* Linux's getsockopt answers EOPNOTSUPP here (do_ip_getsockopt), its
     * setsockopt ENOPROTOOPT. */
    EXPECT(getsockopt(s, 4242, 1, &v, &l), EOPNOTSUPP);
    /* TCP-level options on an SCTP socket. */
    EXPECT(setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v), ENOPROTOOPT);
    l = sizeof v;
    EXPECT(getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, &l), EOPNOTSUPP);
    /* SCTP_EVENTS read with the 10-byte struct of older headers. */
    struct sctp_event_subscribe ev;
    memset(&ev, 0, sizeof ev);
    ev.sctp_data_io_event = 1;
    CHECK(setsockopt(s, IPPROTO_SCTP, SCTP_EVENTS, &ev, 10) == 0);
    memset(&ev, 0x55, sizeof ev);
    l = 10;
    EXPECT_EQ(getsockopt(s, IPPROTO_SCTP, SCTP_EVENTS, &ev, &l), 0);
    EXPECT_EQ(l, 10);
    EXPECT_EQ(ev.sctp_data_io_event, 1);
    EXPECT_EQ(((unsigned char *)&ev)[10], 0x55);
    /* SCTP_PEER_ADDR_PARAMS with older headers' struct (it ends before
     * spp_ipv6_flowlabel: 152 bytes); other lengths are EINVAL. */
    struct sctp_paddrparams pp;
    memset(&pp, 0, sizeof pp);
    l = 152;
    EXPECT_EQ(getsockopt(s, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, &l), 0);
    EXPECT_EQ(l, 152);
    l = 153;
    EXPECT_EQ(getsockopt(s, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, &l), 0);
    EXPECT_EQ(l, 152);
    l = sizeof pp;
    EXPECT_EQ(getsockopt(s, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, &l), 0);
    EXPECT_EQ(l, sizeof pp);
    l = 100;
    EXPECT(getsockopt(s, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, &l), EINVAL);
    pp.spp_pathmaxrxt = 4;
    EXPECT_EQ(setsockopt(s, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, 152), 0);
    EXPECT(setsockopt(s, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, 153), EINVAL);
    /* SCTP_DELAYED_SACK in the old 8-byte struct sctp_assoc_value form. */
    struct sctp_assoc_value av = {.assoc_id = 0, .assoc_value = 100};
    EXPECT_EQ(setsockopt(s, IPPROTO_SCTP, SCTP_DELAYED_SACK, &av, sizeof av), 0);
    struct sctp_sack_info si = {0};
    l = sizeof si;
    EXPECT_EQ(getsockopt(s, IPPROTO_SCTP, SCTP_DELAYED_SACK, &si, &l), 0);
    EXPECT_EQ(si.sack_delay, 100);
    av.assoc_value = 0;
    l = sizeof av;
    EXPECT_EQ(getsockopt(s, IPPROTO_SCTP, SCTP_DELAYED_SACK, &av, &l), 0);
    EXPECT_EQ(l, sizeof av);
    EXPECT_EQ(av.assoc_value, 100);
    /* A SACK frequency of 1 turns delayed SACK off: read back as delay 0. */
    struct sctp_sack_info sf = {.sack_delay = 100, .sack_freq = 1};
    EXPECT_EQ(setsockopt(s, IPPROTO_SCTP, SCTP_DELAYED_SACK, &sf, sizeof sf), 0);
    memset(&sf, 0x55, sizeof sf);
    sf.sack_assoc_id = 0;
    l = sizeof sf;
    EXPECT_EQ(getsockopt(s, IPPROTO_SCTP, SCTP_DELAYED_SACK, &sf, &l), 0);
    EXPECT_EQ(sf.sack_delay, 0);
    EXPECT_EQ(sf.sack_freq, 1);
    sf.sack_delay = 200;
    sf.sack_freq = 2;
    EXPECT_EQ(setsockopt(s, IPPROTO_SCTP, SCTP_DELAYED_SACK, &sf, sizeof sf), 0);
    l = sizeof sf;
    EXPECT_EQ(getsockopt(s, IPPROTO_SCTP, SCTP_DELAYED_SACK, &sf, &l), 0);
    EXPECT_EQ(sf.sack_delay, 200);
    EXPECT_EQ(sf.sack_freq, 2);
    /* SO_LINGER reads back what was set. */
    struct linger lg = {1, 7}, lg2 = {0, 0};
    CHECK(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
    l = sizeof lg2;
    EXPECT_EQ(getsockopt(s, SOL_SOCKET, SO_LINGER, &lg2, &l), 0);
    EXPECT_EQ(lg2.l_onoff, 1);
    EXPECT_EQ(lg2.l_linger, 7);
    lg.l_onoff = 0;
    CHECK(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
    /* IP_TOS reads back. */
    v = 0x20;
    EXPECT_EQ(setsockopt(s, IPPROTO_IP, IP_TOS, &v, sizeof v), 0);
    v = 0;
    l = sizeof v;
    EXPECT_EQ(getsockopt(s, IPPROTO_IP, IP_TOS, &v, &l), 0);
    EXPECT_EQ(v, 0x20);
    /* Socket facts. */
    l = sizeof v;
    EXPECT_EQ(getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &v, &l), 0);
    EXPECT_EQ(v, IPPROTO_SCTP);
    l = sizeof v;
    EXPECT_EQ(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &l), 0);
    EXPECT_EQ(v, SOCK_STREAM);
    l = sizeof v;
    EXPECT_EQ(getsockopt(s, SOL_SOCKET, SO_DOMAIN, &v, &l), 0);
    EXPECT_EQ(v, AF_INET);
    l = sizeof v;
    EXPECT_EQ(getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &v, &l), 0);
    EXPECT_EQ(v, 0);
}

static void v6_options(void) {
    int s = socket(AF_INET6, SOCK_SEQPACKET, IPPROTO_SCTP);
    CHECK(s >= 0);
    int v = 0;
    socklen_t l = sizeof v;
    EXPECT_EQ(getsockopt(s, SOL_SOCKET, SO_DOMAIN, &v, &l), 0);
    EXPECT_EQ(v, AF_INET6);
    l = sizeof v;
    EXPECT_EQ(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &l), 0);
    EXPECT_EQ(v, SOCK_SEQPACKET);
    v = 1;
    EXPECT_EQ(setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof v), 0);
    v = 0;
    l = sizeof v;
    EXPECT_EQ(getsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v, &l), 0);
    EXPECT_EQ(v, 1);
    v = 0x28;
    EXPECT_EQ(setsockopt(s, IPPROTO_IPV6, IPV6_TCLASS, &v, sizeof v), 0);
    v = 0;
    l = sizeof v;
    EXPECT_EQ(getsockopt(s, IPPROTO_IPV6, IPV6_TCLASS, &v, &l), 0);
    EXPECT_EQ(v, 0x28);
    /* Levels an SCTP socket does not have: the IPv6 code answers. */
    l = sizeof v;
    EXPECT(getsockopt(s, 4242, 1, &v, &l), ENOPROTOOPT);
    l = sizeof v;
    EXPECT(getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, &l), ENOPROTOOPT);
    EXPECT(setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v), ENOPROTOOPT);
    /* IP-level options reach an AF_INET6 socket too. */
    v = 0x10;
    EXPECT_EQ(setsockopt(s, IPPROTO_IP, IP_TOS, &v, sizeof v), 0);
    /* A v4 address on a v6-only socket. */
    struct sockaddr_in a4 = loop4(9);
    EXPECT(bind(s, (struct sockaddr *)&a4, sizeof a4), EINVAL);
    close(s);
}

/* A v6-only listener on the wildcard refuses IPv4 peers (their INIT
 * finds no endpoint) and takes IPv6 ones; the option is fixed once bound. */
static void v6only_listener(uint16_t port) {
    int l = socket(AF_INET6, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(l >= 0);
    int on = 1;
    CHECK(setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) == 0);
    struct sockaddr_in6 any = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
    CHECK(bind(l, (struct sockaddr *)&any, sizeof any) == 0);
    EXPECT(setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on), EINVAL);
    CHECK(listen(l, 4) == 0);
    int c4 = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(c4 >= 0);
    struct sockaddr_in a4 = loop4(port);
    EXPECT(connect(c4, (struct sockaddr *)&a4, sizeof a4), ECONNREFUSED);
    close(c4);
    int c6 = socket(AF_INET6, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(c6 >= 0);
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    EXPECT_OK(connect(c6, (struct sockaddr *)&a6, sizeof a6));
    int s = accept(l, NULL, NULL);
    EXPECT_OK(s);
    close(s);
    close(c6);
    close(l);
}

static void wrong_state(uint16_t port) {
    struct sockaddr_in a = loop4(port);
    int l = listen_on(SOCK_STREAM, port, 0, 8);
    int v = 0;
    socklen_t vl = sizeof v;
    EXPECT_EQ(getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl), 0);
    EXPECT_EQ(v, 1);
    /* send on a listening one-to-one socket */
    EXPECT(send(l, "x", 1, MSG_NOSIGNAL), EPIPE);
    signal(SIGPIPE, SIG_IGN);
    EXPECT(write(l, "x", 1), EPIPE);
    struct iovec iov = {"x", 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    EXPECT(sendmsg(l, &m, MSG_NOSIGNAL), EPIPE);
    /* connect on a listening one-to-one socket */
    EXPECT(connect(l, (struct sockaddr *)&a, sizeof a), EISCONN);
    /* reads on it */
    char rb[8];
    EXPECT(recv(l, rb, sizeof rb, MSG_DONTWAIT), ENOTCONN);
    EXPECT(read(l, rb, sizeof rb), ENOTCONN);
    /* AF_UNSPEC connect (a dissolve on TCP) */
    struct sockaddr_in un = {.sin_family = AF_UNSPEC};
    int f = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(f >= 0);
    EXPECT(connect(f, (struct sockaddr *)&un, sizeof un), EOPNOTSUPP);
    EXPECT(connect(f, (struct sockaddr *)&a, 1), EINVAL);
    close(f);

    int c = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(c >= 0);
    CHECK(connect(c, (struct sockaddr *)&a, sizeof a) == 0);
    int acc = accept(l, NULL, NULL);
    CHECK(acc >= 0);
    EXPECT(accept(acc, NULL, NULL), EINVAL);
    EXPECT(accept(c, NULL, NULL), EINVAL);
    EXPECT(listen(acc, 4), EINVAL);
    close(acc);
    close(c);

    /* sctp_connectx with a truncated or invalid address list */
    int x = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(x >= 0);
    EXPECT(connectx(x, (struct sockaddr *)&a, sizeof a - 1), EINVAL);
    EXPECT(connectx(x, (struct sockaddr *)&a, 4), EINVAL);
    EXPECT(connectx(x, (struct sockaddr *)&a, 0), EINVAL);
    struct sockaddr_in bad = a;
    bad.sin_family = 77;
    EXPECT(connectx(x, (struct sockaddr *)&bad, sizeof bad), EINVAL);
    close(x);
    close(l);
}

static void aborted_status(uint16_t port) {
    struct sockaddr_in a = loop4(port);
    int l = listen_on(SOCK_SEQPACKET, port, 0, 8);
    int ev = 1;
    CHECK(setsockopt(l, IPPROTO_SCTP, SCTP_RECVRCVINFO, &ev, sizeof ev) == 0);
    struct sctp_event e = {.se_type = SCTP_ASSOC_CHANGE, .se_on = 1};
    CHECK(setsockopt(l, IPPROTO_SCTP, SCTP_EVENT, &e, sizeof e) == 0);
    int c = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
    CHECK(c >= 0);
    CHECK(setsockopt(c, IPPROTO_SCTP, SCTP_EVENT, &e, sizeof e) == 0);
    CHECK(send_info(c, (struct sockaddr *)&a, sizeof a, "hi", 2, NULL, NULL, 0) == 2);
    char buf[256];
    CHECK(wait_note(c, SCTP_ASSOC_CHANGE, buf, sizeof buf, 3000) > 0);
    sctp_assoc_t id = ((struct sctp_assoc_change *)buf)->sac_assoc_id;
    struct sctp_status st = {.sstat_assoc_id = id};
    socklen_t sl = sizeof st;
    EXPECT_EQ(getsockopt(c, IPPROTO_SCTP, SCTP_STATUS, &st, &sl), 0);
    EXPECT_EQ(st.sstat_state, SCTP_ESTABLISHED);
    /* abort it */
    struct sctp_sndinfo si = {.snd_flags = SCTP_ABORT, .snd_assoc_id = id};
    CHECK(send_info(c, NULL, 0, "", 0, &si, NULL, 0) == 0);
    st.sstat_assoc_id = id;
    sl = sizeof st;
    EXPECT(getsockopt(c, IPPROTO_SCTP, SCTP_STATUS, &st, &sl), EINVAL);
    close(c);
    close(l);
}

int main(void) {
    uint16_t port = free_ports(3);
    socket_args();
    int s = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(s >= 0);
    option_levels(s);
    close(s);
    v6_options();
    wrong_state(port);
    aborted_status(port + 1);
    v6only_listener(port + 2);
    return finish("errnos");
}
