/* Table of SOL_SCTP options: each one set, read back, and its effect
 * observed where a program can see it (the peer's window, the fragment
 * point, the RTO, the defaults a plain send() uses, EMSGSIZE...), then
 * Linux's answers to bad calls. Built against our header (options) and,
 * when installed, against lksctp's header and libsctp (options_lksctp). */
#include "common.h"

#include <fcntl.h>

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

int main(void) {
    port_base = 36000 + (getpid() % 2000) * 4;
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
    struct sctp_sack_info si = {.sack_assoc_id = 0, .sack_delay = 100, .sack_freq = 1};
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
    CHECK(getsockopt(cl, IPPROTO_SCTP, SCTP_DELAYED_SACK, &si, &l) == 0 && si.sack_delay == 100 && si.sack_freq == 1);
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

    /* Bad calls, as Linux answers them. */
    int v = 1;
    CHECK(setsockopt(cl, IPPROTO_SCTP, 999, &v, sizeof v) < 0 && errno == ENOPROTOOPT);
    l = sizeof v;
    CHECK(getsockopt(cl, IPPROTO_SCTP, 999, &v, &l) < 0 && errno == ENOPROTOOPT);
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
