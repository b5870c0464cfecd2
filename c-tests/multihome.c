/* Multi-homing on loopback: a server bound with sctp_bindx to 127.0.0.1
 * and 127.0.0.2, a client bound to 127.0.0.3 and 127.0.0.4, connecting to
 * the first. Each lists its addresses in INIT / INIT ACK, so each has a
 * path to both of the other's (SCTP_GET_PEER_ADDRS); the listed one is
 * SCTP_UNCONFIRMED until a HEARTBEAT to it is answered, then
 * SCTP_ADDR_CONFIRMED arrives and it is SCTP_ACTIVE. SCTP_PRIMARY_ADDR
 * takes either (SCTP_ADDR_MADE_PRIM each time, also for the primary
 * already chosen) and an address that is no path is EINVAL, in
 * SCTP_PRIMARY_ADDR and SCTP_GET_PEER_ADDR_INFO alike. Messages go both
 * ways before and after. Linux 6.1 answers the same (qemu guest). */
#include "common.h"
#include "expect.h"

static int bound(int type, const char *a1, const char *a2, uint16_t port) {
    int s = socket(AF_INET, type, IPPROTO_SCTP);
    CHECK(s >= 0);
    struct sockaddr_in both[2] = {at4(a1, port), at4(a2, port)};
    CHECK(setsockopt(s, IPPROTO_SCTP, SCTP_SOCKOPT_BINDX_ADD, both, sizeof both) == 0);
    struct sctp_event_subscribe ev = {0};
    ev.sctp_address_event = 1;
    CHECK(setsockopt(s, IPPROTO_SCTP, SCTP_EVENTS, &ev, sizeof ev) == 0);
    /* Confirmation heartbeats go every RTO: keep the test short. */
    struct sctp_rtoinfo rto = {.srto_initial = 300, .srto_min = 100, .srto_max = 1000};
    CHECK(setsockopt(s, IPPROTO_SCTP, SCTP_RTOINFO, &rto, sizeof rto) == 0);
    return s;
}

/* The peer addresses, as "a.b.c.d" strings sorted by the last byte. */
static int peers(int s, char out[4][32]) {
    char buf[512] = {0};
    socklen_t len = sizeof buf;
    CHECK(getsockopt(s, IPPROTO_SCTP, SCTP_GET_PEER_ADDRS, buf, &len) == 0);
    struct sctp_getaddrs *g = (void *)buf;
    int n = (int)g->addr_num;
    CHECK(n <= 4);
    for (int i = 0; i < n; i++)
        inet_ntop(AF_INET, &((struct sockaddr_in *)g->addrs)[i].sin_addr, out[i], 32);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (strcmp(out[j], out[i]) < 0) {
                char t[32];
                strcpy(t, out[i]), strcpy(out[i], out[j]), strcpy(out[j], t);
            }
    return n;
}

/* Waits up to `ms` for a PEER_ADDR_CHANGE of `ip` with `state`. */
static int wait_change(int s, const char *ip, int state, int ms) {
    double end = now_s() + ms / 1000.0;
    char buf[512];
    while (now_s() < end) {
        if (!readable(s, 50)) continue;
        struct got g;
        ssize_t r = recv_got(s, buf, sizeof buf, MSG_DONTWAIT, &g);
        if (r <= 0 || !(g.flags & MSG_NOTIFICATION)) continue;
        union sctp_notification *n = (void *)buf;
        if (n->sn_header.sn_type != SCTP_PEER_ADDR_CHANGE) continue;
        char got[32];
        inet_ntop(AF_INET, &((struct sockaddr_in *)&n->sn_paddr_change.spc_aaddr)->sin_addr, got,
                  sizeof got);
        if (strcmp(got, ip) == 0 && n->sn_paddr_change.spc_state == state) return 1;
    }
    return 0;
}

static void echo(int from, int to, const char *msg) {
    char buf[64];
    CHECK(send(from, msg, strlen(msg), 0) == (ssize_t)strlen(msg));
    ssize_t r;
    struct got g;
    do {
        CHECK(readable(to, 3000));
        r = recv_got(to, buf, sizeof buf, 0, &g);
    } while (r > 0 && (g.flags & MSG_NOTIFICATION));
    CHECK(r == (ssize_t)strlen(msg) && memcmp(buf, msg, (size_t)r) == 0);
}

int main(void) {
    uint16_t port = free_ports(2), cport = (uint16_t)(port + 1);
    int l = bound(SOCK_STREAM, "127.0.0.1", "127.0.0.2", port);
    CHECK(listen(l, 1) == 0);
    int c = bound(SOCK_STREAM, "127.0.0.3", "127.0.0.4", cport);
    struct sockaddr_in to = at4("127.0.0.1", port);
    CHECK(connect(c, (struct sockaddr *)&to, sizeof to) == 0);
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    echo(c, s, "before");

    char p[4][32];
    EXPECT_EQ(peers(c, p), 2);
    CHECK(strcmp(p[0], "127.0.0.1") == 0 && strcmp(p[1], "127.0.0.2") == 0);
    EXPECT_EQ(peers(s, p), 2);
    CHECK(strcmp(p[0], "127.0.0.3") == 0 && strcmp(p[1], "127.0.0.4") == 0);

    /* The handshake's path is active; the listed one becomes active once
     * its heartbeat is answered, with SCTP_ADDR_CONFIRMED. */
    EXPECT_EQ(path_state4(c, "127.0.0.1", port), SCTP_ACTIVE);
    int st = path_state4(c, "127.0.0.2", port);
    CHECK(st == SCTP_UNCONFIRMED || st == SCTP_ACTIVE);
    if (st == SCTP_UNCONFIRMED) CHECK(wait_change(c, "127.0.0.2", SCTP_ADDR_CONFIRMED, 8000));
    EXPECT_EQ(path_state4(c, "127.0.0.2", port), SCTP_ACTIVE);
    EXPECT_EQ(path_state4(c, "127.0.0.9", port), -EINVAL);
    st = path_state4(s, "127.0.0.4", cport);
    CHECK(st == SCTP_UNCONFIRMED || st == SCTP_ACTIVE);
    if (st == SCTP_UNCONFIRMED) CHECK(wait_change(s, "127.0.0.4", SCTP_ADDR_CONFIRMED, 8000));
    EXPECT_EQ(path_state4(s, "127.0.0.4", cport), SCTP_ACTIVE);

    /* The primary: either path, MADE_PRIM each time; no other address. */
    struct sctp_prim prim = {0};
    struct sockaddr_in two = at4("127.0.0.2", port);
    memcpy(&prim.ssp_addr, &two, sizeof two);
    EXPECT_OK(setsockopt(c, IPPROTO_SCTP, SCTP_PRIMARY_ADDR, &prim, sizeof prim));
    CHECK(wait_change(c, "127.0.0.2", SCTP_ADDR_MADE_PRIM, 2000));
    EXPECT_OK(setsockopt(c, IPPROTO_SCTP, SCTP_PRIMARY_ADDR, &prim, sizeof prim));
    CHECK(wait_change(c, "127.0.0.2", SCTP_ADDR_MADE_PRIM, 2000));
    struct sockaddr_in nine = at4("127.0.0.9", port);
    memcpy(&prim.ssp_addr, &nine, sizeof nine);
    EXPECT(setsockopt(c, IPPROTO_SCTP, SCTP_PRIMARY_ADDR, &prim, sizeof prim), EINVAL);
    memset(&prim, 0, sizeof prim);
    socklen_t pl = sizeof prim;
    EXPECT_OK(getsockopt(c, IPPROTO_SCTP, SCTP_PRIMARY_ADDR, &prim, &pl));
    CHECK(((struct sockaddr_in *)&prim.ssp_addr)->sin_addr.s_addr == two.sin_addr.s_addr);
    struct sctp_status status = {0};
    socklen_t sl = sizeof status;
    EXPECT_OK(getsockopt(c, IPPROTO_SCTP, SCTP_STATUS, &status, &sl));
    CHECK(((struct sockaddr_in *)&status.sstat_primary.spinfo_address)->sin_addr.s_addr ==
          two.sin_addr.s_addr);
    EXPECT_EQ(status.sstat_primary.spinfo_state, SCTP_ACTIVE);

    /* Messages both ways, now over the second path. */
    echo(c, s, "after, to the second address");
    echo(s, c, "and back");
    close(c);
    close(s);
    close(l);
    printf("multihome: ok\n");
    return 0;
}
