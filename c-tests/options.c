/* Table of SOL_SCTP options: each one set, read back, and its effect
 * observed where a program can see it (the peer's window, the fragment
 * point, the RTO, the defaults a plain send() uses, EMSGSIZE...), then
 * Linux's answers to bad calls. Built against our header (options) and,
 * when installed, against lksctp's header and libsctp (options_lksctp). */
#include <signal.h>
#include <sys/prctl.h>

#include "common.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

/* Values of SCTP_EXPOSE_POTENTIALLY_FAILED_STATE (the kernel's, not in
 * the uapi header). */
#define SCTP_PF_EXPOSE_DISABLE 1
#define SCTP_PF_EXPOSE_ENABLE 2

static int port_base;

static int ioctl_nonblock(int s, int on) {
    int f = fcntl(s, F_GETFL);
    return fcntl(s, F_SETFL, on ? f | O_NONBLOCK : f & ~O_NONBLOCK) < 0 ? -1 : 0;
}

static int one_to_many(uint16_t port, int do_listen) {
    int s = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
    CHECK(s >= 0);
    if (port) {
        struct sockaddr_in a = loop4(port);
        CHECK(bind(s, (struct sockaddr *)&a, sizeof a) == 0);
    }
    if (do_listen) CHECK(listen(s, 8) == 0);
    struct sctp_event_subscribe ev = {0};
    ev.sctp_data_io_event = 1;
    ev.sctp_association_event = 1;
    CHECK(setsockopt(s, IPPROTO_SCTP, SCTP_EVENTS, &ev, sizeof ev) == 0);
    return s;
}

/* Sets up an association from `c` to the listener on `port`; its id. */
static sctp_assoc_t associate(int c, uint16_t port) {
    struct sockaddr_in to = loop4(port);
    sctp_assoc_t id = 0;
    CHECK(sctp_connectx(c, (struct sockaddr *)&to, 1, &id) == 0 && id > 0);
    return id;
}

static struct sctp_status status_of(int s, sctp_assoc_t id) {
    struct sctp_status st = {.sstat_assoc_id = id};
    socklen_t l = sizeof st;
    CHECK(getsockopt(s, IPPROTO_SCTP, SCTP_STATUS, &st, &l) == 0);
    return st;
}

static void set_event(int s, sctp_assoc_t id, uint16_t type, int on) {
    struct sctp_event e = {.se_assoc_id = id, .se_type = type, .se_on = (uint8_t)on};
    CHECK(setsockopt(s, IPPROTO_SCTP, SCTP_EVENT, &e, sizeof e) == 0);
}

static int event_on(int s, sctp_assoc_t id, uint16_t type) {
    struct sctp_event e = {.se_assoc_id = id, .se_type = type};
    socklen_t l = sizeof e;
    CHECK(getsockopt(s, IPPROTO_SCTP, SCTP_EVENT, &e, &l) == 0);
    return e.se_on;
}

/* The association id a server knows a client by: the first message's. */
static sctp_assoc_t server_side_id(int srv, int c, uint16_t port) {
    struct sockaddr_in to = loop4(port);
    char buf[256];
    struct got g;
    CHECK(sendto(c, "id", 2, 0, (struct sockaddr *)&to, sizeof to) == 2);
    for (;;) {
        CHECK(readable(srv, 3000) && recv_got(srv, buf, sizeof buf, 0, &g) > 0);
        if (!(g.flags & MSG_NOTIFICATION)) return g.sndrcv.sinfo_assoc_id;
    }
}

/* SCTP_EVENT per association, as Linux keeps subscriptions: switched off
 * for one association, the server hears nothing of its end but still hears
 * of the other's. */
static void per_association_events(uint16_t port) {
    int srv = one_to_many(port, 1);
    int a = one_to_many(0, 0), b = one_to_many(0, 0);
    associate(a, port);
    associate(b, port);
    sctp_assoc_t ida = server_side_id(srv, a, port), idb = server_side_id(srv, b, port);
    set_event(srv, ida, SCTP_ASSOC_CHANGE, 0);
    CHECK(event_on(srv, ida, SCTP_ASSOC_CHANGE) == 0);
    CHECK(event_on(srv, idb, SCTP_ASSOC_CHANGE) == 1);
    CHECK(event_on(srv, SCTP_FUTURE_ASSOC, SCTP_ASSOC_CHANGE) == 1);
    struct sctp_event bad = {.se_assoc_id = 4242, .se_type = SCTP_ASSOC_CHANGE, .se_on = 1};
    CHECK(setsockopt(srv, IPPROTO_SCTP, SCTP_EVENT, &bad, sizeof bad) < 0 && errno == EINVAL);
    bad.se_assoc_id = 0;
    bad.se_type = 0x9999;
    CHECK(setsockopt(srv, IPPROTO_SCTP, SCTP_EVENT, &bad, sizeof bad) < 0 && errno == EINVAL);
    close(a);
    close(b);
    char buf[512];
    int seen_a = 0, seen_b = 0;
    double end = now_s() + 3;
    while (now_s() < end && !seen_b) {
        struct got g;
        if (!readable(srv, 100) || recv_got(srv, buf, sizeof buf, MSG_DONTWAIT, &g) <= 0) continue;
        union sctp_notification *n = (union sctp_notification *)buf;
        if (!(g.flags & MSG_NOTIFICATION) || n->sn_header.sn_type != SCTP_ASSOC_CHANGE) continue;
        seen_a |= n->sn_assoc_change.sac_assoc_id == ida;
        seen_b |= n->sn_assoc_change.sac_assoc_id == idb;
    }
    CHECK(seen_b && !seen_a);
    close(srv);
}

/* SCTP_I_WANT_MAPPED_V4_ADDR: an AF_INET6 socket reports an IPv4 peer as
 * ::ffff:a.b.c.d by default, as a plain sockaddr_in once turned off. */
static void mapped_v4(uint16_t port) {
    int c = socket(AF_INET6, SOCK_SEQPACKET, IPPROTO_SCTP);
    CHECK(c >= 0);
    int v = -1;
    socklen_t l = sizeof v;
    CHECK(getsockopt(c, IPPROTO_SCTP, SCTP_I_WANT_MAPPED_V4_ADDR, &v, &l) == 0 && v == 1);
    sctp_assoc_t id = associate(c, port);
    struct sockaddr *addrs;
    CHECK(sctp_getpaddrs(c, id, &addrs) == 1);
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)addrs;
    CHECK(s6->sin6_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && s6->sin6_port == htons(port));
    sctp_freepaddrs(addrs);
    v = 0;
    CHECK(setsockopt(c, IPPROTO_SCTP, SCTP_I_WANT_MAPPED_V4_ADDR, &v, sizeof v) == 0);
    CHECK(getsockopt(c, IPPROTO_SCTP, SCTP_I_WANT_MAPPED_V4_ADDR, &v, &l) == 0 && v == 0);
    CHECK(sctp_getpaddrs(c, id, &addrs) == 1);
    struct sockaddr_in *s4 = (struct sockaddr_in *)addrs;
    CHECK(s4->sin_family == AF_INET && s4->sin_addr.s_addr == htonl(INADDR_LOOPBACK));
    sctp_freepaddrs(addrs);
    CHECK(setsockopt(c, IPPROTO_SCTP, SCTP_I_WANT_MAPPED_V4_ADDR, &v, 2) < 0 && errno == EINVAL);
    close(c);
}

/* SCTP_REUSE_PORT: one-to-one sockets that set it share a local port. */
static void reuse_port(uint16_t port, uint16_t shared) {
    int s[3];
    for (int i = 0; i < 3; i++) {
        s[i] = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
        CHECK(s[i] >= 0);
    }
    int on = 1;
    for (int i = 0; i < 2; i++)
        CHECK(setsockopt(s[i], IPPROTO_SCTP, SCTP_REUSE_PORT, &on, sizeof on) == 0);
    socklen_t l = sizeof on;
    on = 0;
    CHECK(getsockopt(s[0], IPPROTO_SCTP, SCTP_REUSE_PORT, &on, &l) == 0 && on == 1);
    struct sockaddr_in a = loop4(shared);
    for (int i = 0; i < 2; i++) CHECK(bind(s[i], (struct sockaddr *)&a, sizeof a) == 0);
    /* Without the option the port is taken. */
    CHECK(bind(s[2], (struct sockaddr *)&a, sizeof a) < 0 && errno == EADDRINUSE);
    /* Only before bind, only on one-to-one sockets. */
    CHECK(setsockopt(s[0], IPPROTO_SCTP, SCTP_REUSE_PORT, &on, sizeof on) < 0 && errno == EFAULT);
    int m = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
    CHECK(setsockopt(m, IPPROTO_SCTP, SCTP_REUSE_PORT, &on, sizeof on) < 0 && errno == EOPNOTSUPP);
    close(m);
    /* Both associate (with different peers: one 4-tuple is one
     * association), from the same port, and both carry data. */
    int srv2 = one_to_many((uint16_t)(shared + 2), 1);
    for (int i = 0; i < 2; i++) {
        struct sockaddr_in to = loop4(i == 0 ? port : (uint16_t)(shared + 2));
        CHECK(connect(s[i], (struct sockaddr *)&to, sizeof to) == 0);
        struct sockaddr_in me;
        socklen_t ml = sizeof me;
        CHECK(getsockname(s[i], (struct sockaddr *)&me, &ml) == 0 && me.sin_port == htons(shared));
        CHECK(send(s[i], "r", 1, 0) == 1);
    }
    /* SCTP_DISABLE_FRAGMENTS on a one-to-one socket: refused whole (past
     * the fragmentation point of loopback's 64 KiB path MTU). */
    int df = 1;
    CHECK(setsockopt(s[0], IPPROTO_SCTP, SCTP_DISABLE_FRAGMENTS, &df, sizeof df) == 0);
    static char big[70000];
    CHECK(send(s[0], big, sizeof big, 0) < 0 && errno == EMSGSIZE);
    CHECK(send(s[0], big, 1000, 0) == 1000);
    for (int i = 0; i < 3; i++) close(s[i]);
    close(srv2);
}

/* SCTP_PEER_ADDR_THLDS(_V2) and SCTP_EXPOSE_POTENTIALLY_FAILED_STATE:
 * with the peer stopped, the path turns potentially failed after
 * pathpfthld timeouts (reported as ADDR_POTENTIALLY_FAILED when exposed,
 * EACCES for its info when disabled), and available again once the peer
 * answers. The peer is a child process, stopped with SIGSTOP. A stopped
 * process stops its associations only when its engine is its own: the
 * child re-executes this program with the in-process engine (under the
 * shared engine, as on a kernel, stopping a process leaves its sockets
 * answering). */
static void stopped_peer(uint16_t port) {
    int srv = one_to_many(port, 1);
    char buf[4096];
    for (;;)
        if (recv(srv, buf, sizeof buf, 0) < 0 && errno != EINTR) _exit(0);
}

static void potentially_failed(uint16_t port) {
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        char arg[16];
        snprintf(arg, sizeof arg, "%u", port);
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a failed test */
        setenv("SCTPSHIM_ENGINE", "thread", 1);
        execl("/proc/self/exe", "options", "--stopped-peer", arg, (char *)NULL);
        _exit(127);
    }
    int c = one_to_many(0, 0);
    /* The in-process peer's SCTP port P travels in UDP port P: say so,
     * whatever UDP port this side's engine sends to by default. */
    struct sctp_udpencaps enc;
    memset(&enc, 0, sizeof enc);
    enc.sue_port = htons(port);
    CHECK(setsockopt(c, IPPROTO_SCTP, SCTP_REMOTE_UDP_ENCAPS_PORT, &enc, sizeof enc) == 0);
    struct sctp_rtoinfo rto = {.srto_initial = 200, .srto_max = 400, .srto_min = 100};
    CHECK(setsockopt(c, IPPROTO_SCTP, SCTP_RTOINFO, &rto, sizeof rto) == 0);
    struct sctp_paddrthlds_v2 th;
    memset(&th, 0, sizeof th);
    th.spt_pathmaxrxt = 8;
    th.spt_pathpfthld = 1;
    th.spt_pathcpthld = 4;
    CHECK(setsockopt(c, IPPROTO_SCTP, SCTP_PEER_ADDR_THLDS_V2, &th, sizeof th) == 0);
    th.spt_pathpfthld = 5;
    CHECK(setsockopt(c, IPPROTO_SCTP, SCTP_PEER_ADDR_THLDS_V2, &th, sizeof th) < 0 && errno == EINVAL);
    /* Thresholds are per path: CURRENT and ALL are EINVAL on one-to-many. */
    th.spt_pathpfthld = 1;
    th.spt_assoc_id = SCTP_CURRENT_ASSOC;
    CHECK(setsockopt(c, IPPROTO_SCTP, SCTP_PEER_ADDR_THLDS_V2, &th, sizeof th) < 0 && errno == EINVAL);
    th.spt_assoc_id = SCTP_ALL_ASSOC;
    CHECK(setsockopt(c, IPPROTO_SCTP, SCTP_PEER_ADDR_THLDS_V2, &th, sizeof th) < 0 && errno == EINVAL);
    struct sctp_assoc_value ex = {.assoc_id = 0, .assoc_value = 3};
    CHECK(setsockopt(c, IPPROTO_SCTP, SCTP_EXPOSE_POTENTIALLY_FAILED_STATE, &ex, sizeof ex) < 0 && errno == EINVAL);
    ex.assoc_value = SCTP_PF_EXPOSE_ENABLE;
    CHECK(setsockopt(c, IPPROTO_SCTP, SCTP_EXPOSE_POTENTIALLY_FAILED_STATE, &ex, sizeof ex) == 0);
    set_event(c, 0, SCTP_PEER_ADDR_CHANGE, 1);
    usleep(100000); /* the child listens */
    sctp_assoc_t id = associate(c, port);
    /* The association took the socket's thresholds; v1 reads the same. */
    struct sctp_paddrthlds t1;
    memset(&t1, 0, sizeof t1);
    t1.spt_assoc_id = id;
    socklen_t l = sizeof t1;
    CHECK(getsockopt(c, IPPROTO_SCTP, SCTP_PEER_ADDR_THLDS, &t1, &l) == 0);
    CHECK(t1.spt_pathmaxrxt == 8 && t1.spt_pathpfthld == 1 && l == sizeof t1);
    memset(&th, 0, sizeof th);
    th.spt_assoc_id = id;
    l = sizeof th;
    CHECK(getsockopt(c, IPPROTO_SCTP, SCTP_PEER_ADDR_THLDS_V2, &th, &l) == 0 && th.spt_pathcpthld == 4);
    /* An address the association does not have: ENOENT. */
    struct sockaddr_in *sa = (struct sockaddr_in *)&th.spt_address;
    *sa = loop4((uint16_t)(port + 100));
    CHECK(getsockopt(c, IPPROTO_SCTP, SCTP_PEER_ADDR_THLDS_V2, &th, &l) < 0 && errno == ENOENT);
    sa->sin_family = AF_UNIX; /* no path of another family either */
    CHECK(getsockopt(c, IPPROTO_SCTP, SCTP_PEER_ADDR_THLDS_V2, &th, &l) < 0 && errno == ENOENT);
    ex.assoc_id = id;
    ex.assoc_value = 0;
    l = sizeof ex;
    CHECK(getsockopt(c, IPPROTO_SCTP, SCTP_EXPOSE_POTENTIALLY_FAILED_STATE, &ex, &l) == 0 && ex.assoc_value == SCTP_PF_EXPOSE_ENABLE);

    struct sockaddr_in to = loop4(port);
    CHECK(sendto(c, "a", 1, 0, (struct sockaddr *)&to, sizeof to) == 1);
    usleep(200000);
    CHECK(kill(child, SIGSTOP) == 0);
    CHECK(sendto(c, "b", 1, 0, (struct sockaddr *)&to, sizeof to) == 1);
    char buf[512];
    /* Two timeouts (RTO 100..400 ms): past pathpfthld = 1. */
    union sctp_notification *n = (union sctp_notification *)buf;
    CHECK(wait_note(c, SCTP_PEER_ADDR_CHANGE, buf, sizeof buf, 4000) > 0);
    CHECK(n->sn_paddr_change.spc_state == SCTP_ADDR_POTENTIALLY_FAILED);
    struct sctp_paddrinfo pi;
    memset(&pi, 0, sizeof pi);
    pi.spinfo_assoc_id = id;
    l = sizeof pi;
    CHECK(getsockopt(c, IPPROTO_SCTP, SCTP_GET_PEER_ADDR_INFO, &pi, &l) == 0 && pi.spinfo_state == SCTP_PF);
    ex.assoc_value = SCTP_PF_EXPOSE_DISABLE;
    CHECK(setsockopt(c, IPPROTO_SCTP, SCTP_EXPOSE_POTENTIALLY_FAILED_STATE, &ex, sizeof ex) == 0);
    l = sizeof pi;
    CHECK(getsockopt(c, IPPROTO_SCTP, SCTP_GET_PEER_ADDR_INFO, &pi, &l) < 0 && errno == EACCES);
    ex.assoc_value = SCTP_PF_EXPOSE_ENABLE;
    CHECK(setsockopt(c, IPPROTO_SCTP, SCTP_EXPOSE_POTENTIALLY_FAILED_STATE, &ex, sizeof ex) == 0);
    CHECK(kill(child, SIGCONT) == 0);
    CHECK(wait_note(c, SCTP_PEER_ADDR_CHANGE, buf, sizeof buf, 4000) > 0);
    CHECK(n->sn_paddr_change.spc_state == SCTP_ADDR_AVAILABLE);
    l = sizeof pi;
    CHECK(getsockopt(c, IPPROTO_SCTP, SCTP_GET_PEER_ADDR_INFO, &pi, &l) == 0 && pi.spinfo_state == SCTP_ACTIVE);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    close(c);
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--stopped-peer") == 0) stopped_peer((uint16_t)atoi(argv[2]));
    port_base = free_ports(8);
    uint16_t p = (uint16_t)port_base;
    int srv = one_to_many(p, 1);
    char buf[4096];
    struct got g;

    /* SO_RCVBUF sizes the window the server advertises (Linux doubles it). */
    int rb = 50000;
    CHECK(setsockopt(srv, SOL_SOCKET, SO_RCVBUF, &rb, sizeof rb) == 0);

    /* SCTP_RTOINFO: RTO.Min 200 ms lets the RTO fall below the default 1 s. */
    int cl = one_to_many(0, 0);
    struct sctp_rtoinfo rto = {.srto_assoc_id = 0, .srto_initial = 400, .srto_max = 3000, .srto_min = 200};
    CHECK(setsockopt(cl, IPPROTO_SCTP, SCTP_RTOINFO, &rto, sizeof rto) == 0);
    memset(&rto, 0, sizeof rto);
    socklen_t l = sizeof rto;
    CHECK(getsockopt(cl, IPPROTO_SCTP, SCTP_RTOINFO, &rto, &l) == 0);
    CHECK(rto.srto_initial == 400 && rto.srto_max == 3000 && rto.srto_min == 200 && l == sizeof rto);
    struct sctp_rtoinfo bad_rto = {.srto_max = 100, .srto_min = 200};
    CHECK(setsockopt(cl, IPPROTO_SCTP, SCTP_RTOINFO, &bad_rto, sizeof bad_rto) < 0 && errno == EINVAL);
    CHECK(setsockopt(cl, IPPROTO_SCTP, SCTP_RTOINFO, &rto, 8) < 0 && errno == EINVAL);

    /* SCTP_MAXSEG: the fragment point of associations set up from now on. */
    struct sctp_assoc_value av = {.assoc_id = 0, .assoc_value = 500};
    CHECK(setsockopt(cl, IPPROTO_SCTP, SCTP_MAXSEG, &av, sizeof av) == 0);
    av.assoc_value = 3;
    CHECK(setsockopt(cl, IPPROTO_SCTP, SCTP_MAXSEG, &av, sizeof av) < 0 && errno == EINVAL);

    /* SCTP_MAX_BURST, SCTP_DELAYED_SACK, SCTP_ASSOCINFO on the socket. */
    av.assoc_value = 8;
    CHECK(setsockopt(cl, IPPROTO_SCTP, SCTP_MAX_BURST, &av, sizeof av) == 0);
    struct sctp_sack_info si = {.sack_assoc_id = 0, .sack_delay = 100, .sack_freq = 3};
    CHECK(setsockopt(cl, IPPROTO_SCTP, SCTP_DELAYED_SACK, &si, sizeof si) == 0);
    si.sack_delay = 900;
    CHECK(setsockopt(cl, IPPROTO_SCTP, SCTP_DELAYED_SACK, &si, sizeof si) < 0 && errno == EINVAL);
    struct sctp_assocparams ap = {.sasoc_assoc_id = 0, .sasoc_asocmaxrxt = 4, .sasoc_cookie_life = 30000};
    CHECK(setsockopt(cl, IPPROTO_SCTP, SCTP_ASSOCINFO, &ap, sizeof ap) == 0);

    /* SCTP_DEFAULT_SNDINFO: what a send without ancillary data uses. */
    struct sctp_sndinfo dflt = {.snd_sid = 3, .snd_ppid = htonl(42)};
    CHECK(setsockopt(cl, IPPROTO_SCTP, SCTP_DEFAULT_SNDINFO, &dflt, sizeof dflt) == 0);
    struct sctp_sndrcvinfo dsp;
    memset(&dsp, 0, sizeof dsp);
    l = sizeof dsp;
    CHECK(getsockopt(cl, IPPROTO_SCTP, SCTP_DEFAULT_SEND_PARAM, &dsp, &l) == 0);
    CHECK(dsp.sinfo_stream == 3 && dsp.sinfo_ppid == htonl(42));

    sctp_assoc_t id = associate(cl, p);
    /* Now observe: the association took the socket's settings. */
    struct sctp_status st = status_of(cl, id);
    CHECK(st.sstat_fragmentation_point == 500);
    CHECK(st.sstat_rwnd == 100000); /* the server's SO_RCVBUF, doubled */
    av.assoc_id = id;
    l = sizeof av;
    CHECK(getsockopt(cl, IPPROTO_SCTP, SCTP_MAX_BURST, &av, &l) == 0 && av.assoc_value == 8);
    si.sack_assoc_id = id;
    l = sizeof si;
    CHECK(getsockopt(cl, IPPROTO_SCTP, SCTP_DELAYED_SACK, &si, &l) == 0 && si.sack_delay == 100 && si.sack_freq == 3);
    ap.sasoc_assoc_id = id;
    l = sizeof ap;
    CHECK(getsockopt(cl, IPPROTO_SCTP, SCTP_ASSOCINFO, &ap, &l) == 0);
    CHECK(ap.sasoc_asocmaxrxt == 4 && ap.sasoc_cookie_life == 30000 && ap.sasoc_number_peer_destinations == 1);
    CHECK(ap.sasoc_peer_rwnd == 100000);

    /* SCTP_CONTEXT: what the server's received messages report. */
    struct sctp_assoc_value ctx = {.assoc_id = SCTP_ALL_ASSOC, .assoc_value = 99};
    CHECK(setsockopt(srv, IPPROTO_SCTP, SCTP_CONTEXT, &ctx, sizeof ctx) == 0);

    /* A plain send goes out with the default stream and PPID. */
    struct sockaddr_in to = loop4(p);
    CHECK(sendto(cl, "dflt", 4, 0, (struct sockaddr *)&to, sizeof to) == 4);
    for (;;) {
        CHECK(readable(srv, 3000) && recv_got(srv, buf, sizeof buf, 0, &g) > 0);
        if (!(g.flags & MSG_NOTIFICATION)) break;
    }
    CHECK(g.n == 4 && g.has_sndrcv && g.sndrcv.sinfo_stream == 3 && g.sndrcv.sinfo_ppid == htonl(42));
    CHECK(g.sndrcv.sinfo_context == 99);
    sctp_assoc_t sid = g.sndrcv.sinfo_assoc_id;

    /* The RTO settled below the default RTO.Min of 1 s, at or above 200 ms. */
    usleep(300000);
    st = status_of(cl, id);
    CHECK(st.sstat_primary.spinfo_rto >= 200 && st.sstat_primary.spinfo_rto < 1000);

    /* SCTP_PEER_ADDR_PARAMS on the association. */
    struct sctp_paddrparams pp;
    memset(&pp, 0, sizeof pp);
    pp.spp_assoc_id = id;
    pp.spp_hbinterval = 5000;
    pp.spp_pathmaxrxt = 3;
    pp.spp_flags = SPP_HB_ENABLE;
    CHECK(setsockopt(cl, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, sizeof pp) == 0);
    memset(&pp, 0, sizeof pp);
    pp.spp_assoc_id = id;
    l = sizeof pp;
    CHECK(getsockopt(cl, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, &l) == 0);
    CHECK(pp.spp_hbinterval == 5000 && pp.spp_pathmaxrxt == 3 && (pp.spp_flags & SPP_HB_ENABLE));
    pp.spp_flags = SPP_HB_ENABLE | SPP_HB_DISABLE;
    CHECK(setsockopt(cl, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, sizeof pp) < 0 && errno == EINVAL);

    /* SCTP_PRIMARY_ADDR and SCTP_GET_PEER_ADDR_INFO. */
    struct sctp_prim prim;
    memset(&prim, 0, sizeof prim);
    prim.ssp_assoc_id = id;
    l = sizeof prim;
    CHECK(getsockopt(cl, IPPROTO_SCTP, SCTP_PRIMARY_ADDR, &prim, &l) == 0);
    CHECK(((struct sockaddr_in *)&prim.ssp_addr)->sin_port == htons(p));
    CHECK(setsockopt(cl, IPPROTO_SCTP, SCTP_PRIMARY_ADDR, &prim, sizeof prim) == 0);
    struct sctp_paddrinfo pi;
    memset(&pi, 0, sizeof pi);
    pi.spinfo_assoc_id = id;
    memcpy(&pi.spinfo_address, &prim.ssp_addr, sizeof prim.ssp_addr);
    l = sizeof pi;
    CHECK(getsockopt(cl, IPPROTO_SCTP, SCTP_GET_PEER_ADDR_INFO, &pi, &l) == 0);
    CHECK(pi.spinfo_state == SCTP_ACTIVE && pi.spinfo_mtu > 0 && pi.spinfo_cwnd > 0);

    /* Association lists and statistics on the server. */
    uint32_t n = 0;
    l = sizeof n;
    CHECK(getsockopt(srv, IPPROTO_SCTP, SCTP_GET_ASSOC_NUMBER, &n, &l) == 0 && n == 1);
    char idbuf[sizeof(struct sctp_assoc_ids) + 8 * sizeof(sctp_assoc_t)];
    l = sizeof idbuf;
    CHECK(getsockopt(srv, IPPROTO_SCTP, SCTP_GET_ASSOC_ID_LIST, idbuf, &l) == 0);
    struct sctp_assoc_ids *ids = (struct sctp_assoc_ids *)idbuf;
    CHECK(ids->gaids_number_of_ids == 1 && ids->gaids_assoc_id[0] == sid);
    struct sctp_assoc_stats stats;
    memset(&stats, 0, sizeof stats);
    stats.sas_assoc_id = sid;
    l = sizeof stats;
    CHECK(getsockopt(srv, IPPROTO_SCTP, SCTP_GET_ASSOC_STATS, &stats, &l) == 0);
    CHECK(stats.sas_ipackets > 0 && stats.sas_opackets > 0 && stats.sas_iodchunks >= 1);

    /* SCTP_DISABLE_FRAGMENTS: a message larger than one chunk is refused. */
    int on = 1;
    CHECK(setsockopt(cl, IPPROTO_SCTP, SCTP_DISABLE_FRAGMENTS, &on, sizeof on) == 0);
    l = sizeof on;
    on = 0;
    CHECK(getsockopt(cl, IPPROTO_SCTP, SCTP_DISABLE_FRAGMENTS, &on, &l) == 0 && on == 1);
    static char big[3000];
    CHECK(sendto(cl, big, sizeof big, 0, (struct sockaddr *)&to, sizeof to) < 0 && errno == EMSGSIZE);
    CHECK(sendto(cl, big, 400, 0, (struct sockaddr *)&to, sizeof to) == 400);

    /* Extensions not negotiated: PR-SCTP unsupported, AUTH off (EACCES, as a
     * kernel with net.sctp.auth_enable = 0). */
    struct sctp_assoc_value pr = {.assoc_id = 0};
    l = sizeof pr;
    CHECK(getsockopt(cl, IPPROTO_SCTP, SCTP_PR_SUPPORTED, &pr, &l) == 0 && pr.assoc_value == 0);
    struct sctp_hmacalgo *hm = (struct sctp_hmacalgo *)buf;
    memset(buf, 0, 64);
    hm->shmac_num_idents = 1;
    hm->shmac_idents[0] = SCTP_AUTH_HMAC_ID_SHA1;
    CHECK(setsockopt(cl, IPPROTO_SCTP, SCTP_HMAC_IDENT, hm, sizeof *hm + 2) < 0 && errno == EACCES);

    /* SCTP_NODELAY reads back what was set (off turns Nagle on). */
    int nd = 0;
    CHECK(setsockopt(cl, IPPROTO_SCTP, SCTP_NODELAY, &nd, sizeof nd) == 0);
    nd = 1;
    l = sizeof nd;
    CHECK(getsockopt(cl, IPPROTO_SCTP, SCTP_NODELAY, &nd, &l) == 0 && nd == 0);

    /* SCTP_REMOTE_UDP_ENCAPS_PORT: the UDP port INITs go to. Pointed at
     * another endpoint's port, the association to `p` cannot come up; the
     * default (the SCTP port) reaches it at once. */
    int other = one_to_many((uint16_t)(p + 1), 1);
    int c3 = one_to_many(0, 0);
    struct sctp_udpencaps ue;
    memset(&ue, 0, sizeof ue);
    ue.sue_port = htons((uint16_t)(p + 1));
    CHECK(setsockopt(c3, IPPROTO_SCTP, SCTP_REMOTE_UDP_ENCAPS_PORT, &ue, sizeof ue) == 0);
    memset(&ue, 0, sizeof ue);
    l = sizeof ue;
    CHECK(getsockopt(c3, IPPROTO_SCTP, SCTP_REMOTE_UDP_ENCAPS_PORT, &ue, &l) == 0 && ue.sue_port == htons((uint16_t)(p + 1)));
    int fl3 = 1;
    CHECK(ioctl_nonblock(c3, fl3) == 0);
    CHECK(connect(c3, (struct sockaddr *)&to, sizeof to) < 0 && errno == EINPROGRESS);
    usleep(500000);
    l = sizeof n;
    CHECK(getsockopt(srv, IPPROTO_SCTP, SCTP_GET_ASSOC_NUMBER, &n, &l) == 0 && n == 1);
    close(c3);
    close(other);

    per_association_events((uint16_t)(p + 2));
    mapped_v4(p);
    reuse_port(p, (uint16_t)(p + 3));
    potentially_failed((uint16_t)(p + 6));

    /* Bad calls, as Linux answers them. */
    int v = 1;
    CHECK(setsockopt(cl, IPPROTO_SCTP, 999, &v, sizeof v) < 0 && errno == ENOPROTOOPT);
    l = sizeof v;
    CHECK(getsockopt(cl, IPPROTO_SCTP, 999, &v, &l) < 0 && errno == ENOPROTOOPT);
    /* SCTP_GET_PEER_ADDRS_NUM_OLD / _LOCAL_ADDRS_NUM_OLD (104-106): removed
     * from Linux ("deprecated and removed"), so unknown there too. */
    for (int o = 104; o <= 106; o++) {
        l = sizeof v;
        CHECK(getsockopt(cl, IPPROTO_SCTP, o, &v, &l) < 0 && errno == ENOPROTOOPT);
    }
    si.sack_assoc_id = 12345;
    l = sizeof si;
    CHECK(getsockopt(cl, IPPROTO_SCTP, SCTP_DELAYED_SACK, &si, &l) < 0 && errno == EINVAL);
    CHECK(setsockopt(cl, IPPROTO_SCTP, SCTP_DELAYED_SACK, &si, sizeof si) < 0 && errno == EINVAL);
    l = 4;
    CHECK(getsockopt(cl, IPPROTO_SCTP, SCTP_STATUS, &st, &l) < 0 && errno == EINVAL);
    CHECK(setsockopt(cl, IPPROTO_SCTP, SCTP_RTOINFO, NULL, sizeof rto) < 0 && errno == EFAULT);
    l = sizeof rto;
    CHECK(getsockopt(cl, IPPROTO_SCTP, SCTP_RTOINFO, NULL, &l) < 0 && errno == EFAULT);

    close(cl);
    close(srv);
    printf("options: ok\n");
    return 0;
}
