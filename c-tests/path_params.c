/* SCTP_PEER_ADDR_PARAMS per path: with spp_address naming one of the
 * peer's addresses (address and port), the heartbeat interval, heartbeats
 * on or off, Path.Max.Retrans and a fixed path MTU apply to that path
 * alone, and reading with the address reports that path's; without an
 * address they apply to the association and each of its paths; so do
 * SCTP_PEER_ADDR_THLDS_V2's thresholds (ENOENT for no path). An
 * address (or port) that is no path is EINVAL, and so is SPP_HB_DEMAND
 * on a socket without an association. Loopback, both ends bound with
 * sctp_bindx to two addresses. Linux 6.1 answers the same (qemu guest). */
#include "common.h"
#include "expect.h"

static int bound(const char *a1, const char *a2, uint16_t port) {
    int s = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(s >= 0);
    struct sockaddr_in both[2] = {at4(a1, port), at4(a2, port)};
    CHECK(setsockopt(s, IPPROTO_SCTP, SCTP_SOCKOPT_BINDX_ADD, both, sizeof both) == 0);
    struct sctp_rtoinfo rto = {.srto_initial = 300, .srto_min = 100, .srto_max = 1000};
    CHECK(setsockopt(s, IPPROTO_SCTP, SCTP_RTOINFO, &rto, sizeof rto) == 0);
    return s;
}

/* `ip`:`port` into an option's address field, which may be unaligned (a
 * packed struct): ip NULL leaves the wildcard, zeros. */
static void name_path(void *dst, const char *ip, uint16_t port) {
    if (ip) {
        struct sockaddr_in a = at4(ip, port);
        memcpy(dst, &a, sizeof a);
    }
}

/* spp_* of `ip`:`port` (ip NULL: the association's). */
static int get(int s, const char *ip, uint16_t port, struct sctp_paddrparams *p) {
    memset(p, 0, sizeof *p);
    name_path(&p->spp_address, ip, port);
    socklen_t l = sizeof *p;
    return getsockopt(s, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, p, &l) == 0 ? 0 : -errno;
}

static int set(int s, const char *ip, uint16_t port, uint32_t hb, uint16_t maxrxt, uint32_t mtu,
               uint32_t flags) {
    struct sctp_paddrparams p = {0};
    name_path(&p.spp_address, ip, port);
    p.spp_hbinterval = hb;
    p.spp_pathmaxrxt = maxrxt;
    p.spp_pathmtu = mtu;
    p.spp_flags = flags;
    return setsockopt(s, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &p, sizeof p) == 0 ? 0 : -errno;
}

/* SCTP_PEER_ADDR_THLDS_V2 of `ip`:`port` (ip NULL: the association's). */
static int th_get(int s, const char *ip, uint16_t port, struct sctp_paddrthlds_v2 *t) {
    memset(t, 0, sizeof *t);
    name_path(&t->spt_address, ip, port);
    socklen_t l = sizeof *t;
    return getsockopt(s, IPPROTO_SCTP, SCTP_PEER_ADDR_THLDS_V2, t, &l) == 0 ? 0 : -errno;
}

static int th_set(int s, const char *ip, uint16_t port, uint16_t maxrxt, uint16_t pf, uint16_t ps) {
    struct sctp_paddrthlds_v2 t = {0};
    name_path(&t.spt_address, ip, port);
    t.spt_pathmaxrxt = maxrxt;
    t.spt_pathpfthld = pf;
    t.spt_pathcpthld = ps;
    return setsockopt(s, IPPROTO_SCTP, SCTP_PEER_ADDR_THLDS_V2, &t, sizeof t) == 0 ? 0 : -errno;
}

#define EXPECT_TH(t, m, f, c)                                                                     \
    do {                                                                                          \
        EXPECT_EQ((t).spt_pathmaxrxt, m);                                                         \
        EXPECT_EQ((t).spt_pathpfthld, f);                                                         \
        EXPECT_EQ((t).spt_pathcpthld, c);                                                         \
    } while (0)

static int path_mtu(int s, const char *ip, uint16_t port) {
    struct sctp_paddrinfo pi = {0};
    struct sockaddr_in a = at4(ip, port);
    memcpy(&pi.spinfo_address, &a, sizeof a);
    socklen_t l = sizeof pi;
    CHECK(getsockopt(s, IPPROTO_SCTP, SCTP_GET_PEER_ADDR_INFO, &pi, &l) == 0);
    return (int)pi.spinfo_mtu;
}

int main(void) {
    uint16_t port = free_ports(2), cport = (uint16_t)(port + 1);

    /* No association: a heartbeat on demand has nowhere to go. */
    int fresh = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(fresh >= 0);
    EXPECT_EQ(set(fresh, NULL, 0, 0, 0, 0, SPP_HB_DEMAND), -EINVAL);
    close(fresh);

    int l = bound("127.0.0.1", "127.0.0.2", port);
    CHECK(listen(l, 1) == 0);
    int c = bound("127.0.0.3", "127.0.0.4", cport);
    struct sockaddr_in to = at4("127.0.0.1", port);
    CHECK(connect(c, (struct sockaddr *)&to, sizeof to) == 0);
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    double end = now_s() + 5;
    while (path_state4(c, "127.0.0.2", port) != SCTP_ACTIVE && now_s() < end) usleep(20000);
    EXPECT_EQ(path_state4(c, "127.0.0.2", port), SCTP_ACTIVE);

    struct sctp_paddrparams p, q;
    /* The defaults, on each path and the association. */
    EXPECT_EQ(get(c, "127.0.0.1", port, &p), 0);
    EXPECT_EQ(p.spp_hbinterval, 30000u);
    EXPECT_EQ(p.spp_pathmaxrxt, 5);
    EXPECT_EQ(p.spp_flags & (SPP_HB_ENABLE | SPP_PMTUD_ENABLE), (uint32_t)(SPP_HB_ENABLE | SPP_PMTUD_ENABLE));

    /* One path: interval and Path.Max.Retrans. */
    EXPECT_EQ(set(c, "127.0.0.2", port, 5000, 3, 0, SPP_HB_ENABLE), 0);
    EXPECT_EQ(get(c, "127.0.0.2", port, &p), 0);
    EXPECT_EQ(p.spp_hbinterval, 5000u);
    EXPECT_EQ(p.spp_pathmaxrxt, 3);
    EXPECT_EQ(p.spp_flags & SPP_HB_ENABLE, (uint32_t)SPP_HB_ENABLE);
    EXPECT_EQ(get(c, "127.0.0.1", port, &q), 0);
    EXPECT_EQ(q.spp_hbinterval, 30000u);
    EXPECT_EQ(q.spp_pathmaxrxt, 5);
    EXPECT_EQ(get(c, NULL, 0, &q), 0);
    EXPECT_EQ(q.spp_hbinterval, 30000u);
    EXPECT_EQ(q.spp_pathmaxrxt, 5);

    /* Heartbeats off on the other path only. */
    EXPECT_EQ(set(c, "127.0.0.1", port, 0, 0, 0, SPP_HB_DISABLE), 0);
    EXPECT_EQ(get(c, "127.0.0.1", port, &p), 0);
    EXPECT_EQ(p.spp_flags & (SPP_HB_ENABLE | SPP_HB_DISABLE), (uint32_t)SPP_HB_DISABLE);
    EXPECT_EQ(p.spp_hbinterval, 30000u);
    EXPECT_EQ(get(c, "127.0.0.2", port, &p), 0);
    EXPECT_EQ(p.spp_flags & (SPP_HB_ENABLE | SPP_HB_DISABLE), (uint32_t)SPP_HB_ENABLE);

    /* A fixed MTU on one path. */
    EXPECT_EQ(set(c, "127.0.0.2", port, 0, 0, 1400, SPP_PMTUD_DISABLE), 0);
    EXPECT_EQ(get(c, "127.0.0.2", port, &p), 0);
    EXPECT_EQ(p.spp_pathmtu, 1400u);
    EXPECT_EQ(p.spp_flags & (SPP_PMTUD_ENABLE | SPP_PMTUD_DISABLE), (uint32_t)SPP_PMTUD_DISABLE);
    EXPECT_EQ(path_mtu(c, "127.0.0.2", port), 1400);
    EXPECT_EQ(get(c, "127.0.0.1", port, &p), 0);
    EXPECT_EQ(p.spp_flags & (SPP_PMTUD_ENABLE | SPP_PMTUD_DISABLE), (uint32_t)SPP_PMTUD_ENABLE);
    CHECK(path_mtu(c, "127.0.0.1", port) != 1400);

    /* A heartbeat on demand, to one path and to all. */
    EXPECT_EQ(set(c, "127.0.0.2", port, 0, 0, 0, SPP_HB_DEMAND), 0);
    EXPECT_EQ(set(c, NULL, 0, 0, 0, 0, SPP_HB_DEMAND), 0);

    /* The association: Path.Max.Retrans for each path. */
    EXPECT_EQ(set(c, NULL, 0, 0, 7, 0, 0), 0);
    EXPECT_EQ(get(c, "127.0.0.1", port, &p), 0);
    EXPECT_EQ(p.spp_pathmaxrxt, 7);
    EXPECT_EQ(get(c, "127.0.0.2", port, &p), 0);
    EXPECT_EQ(p.spp_pathmaxrxt, 7);
    EXPECT_EQ(p.spp_hbinterval, 5000u);

    /* The association's value once more, unchanged for it: every path
     * takes it all the same (Linux writes each transport). */
    EXPECT_EQ(set(c, "127.0.0.2", port, 0, 3, 0, 0), 0);
    EXPECT_EQ(set(c, NULL, 0, 0, 7, 0, 0), 0);
    EXPECT_EQ(get(c, "127.0.0.2", port, &p), 0);
    EXPECT_EQ(p.spp_pathmaxrxt, 7);

    /* No such path: another address, or the right one with another port. */
    EXPECT_EQ(set(c, "127.0.0.9", port, 5000, 0, 0, 0), -EINVAL);
    EXPECT_EQ(get(c, "127.0.0.9", port, &p), -EINVAL);
    EXPECT_EQ(set(c, "127.0.0.2", (uint16_t)(port + 7), 5000, 0, 0, 0), -EINVAL);
    EXPECT_EQ(get(c, "127.0.0.2", (uint16_t)(port + 7), &p), -EINVAL);

    /* SCTP_PEER_ADDR_THLDS_V2 likewise (Linux keeps them per transport):
     * an address sets and reads that path alone, the wildcard sets the
     * association and every path; no such path is ENOENT. */
    struct sctp_paddrthlds_v2 t;
    EXPECT_EQ(th_set(c, "127.0.0.2", port, 4, 1, 2), 0);
    EXPECT_EQ(th_get(c, "127.0.0.2", port, &t), 0);
    EXPECT_TH(t, 4, 1, 2);
    EXPECT_EQ(th_get(c, "127.0.0.1", port, &t), 0);
    EXPECT_TH(t, 7, 0, 65535);
    EXPECT_EQ(th_get(c, NULL, 0, &t), 0);
    EXPECT_TH(t, 7, 0, 65535);
    EXPECT_EQ(get(c, "127.0.0.2", port, &p), 0);
    EXPECT_EQ(p.spp_pathmaxrxt, 4);
    EXPECT_EQ(th_set(c, NULL, 0, 6, 2, 3), 0);
    EXPECT_EQ(th_get(c, "127.0.0.1", port, &t), 0);
    EXPECT_TH(t, 6, 2, 3);
    EXPECT_EQ(th_get(c, "127.0.0.2", port, &t), 0);
    EXPECT_TH(t, 6, 2, 3);
    EXPECT_EQ(th_set(c, "127.0.0.9", port, 4, 1, 2), -ENOENT);
    EXPECT_EQ(th_get(c, "127.0.0.9", port, &t), -ENOENT);

    /* Still carrying messages. */
    char buf[16];
    CHECK(send(c, "hi", 2, 0) == 2);
    CHECK(readable(s, 3000));
    EXPECT_EQ(recv(s, buf, sizeof buf, 0), 2);
    close(c), close(s), close(l);
    return finish("path_params");
}
