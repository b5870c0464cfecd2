/* Multi-homing without sctp_bindx: a socket bound to the wildcard address
 * (or not bound before connect) has all of the host's addresses, and INIT
 * and INIT ACK list those in the peer's scope (all of them for a loopback
 * peer) when there is more than one. So each side of a loopback
 * association has a path to every IPv4 address of the host
 * (SCTP_GET_PEER_ADDRS), the ones besides the handshake's unconfirmed
 * until a HEARTBEAT is answered, then SCTP_ACTIVE. The same with IPv6
 * sockets: the host's IPv6 addresses too (IPv6 link-local ones may be
 * missing: the shim leaves them out, see the README's limitations), IPv4
 * ones v4-mapped. A socket bound to one address lists nothing: the peer
 * has one path. Messages go both ways. Linux 6.1 answers the same (qemu
 * guest). */
#include <ifaddrs.h>

#include "common.h"
#include "expect.h"

#define MAXA 16

struct addrs {
    int n;
    struct sockaddr_storage a[MAXA];
};

static int is_v4mapped(const struct in6_addr *a) { return IN6_IS_ADDR_V4MAPPED(a); }

/* `a` as an IPv4 address when it is one (also v4-mapped), else 0. */
static int as_v4(const struct sockaddr *a, struct in_addr *out) {
    if (a->sa_family == AF_INET) {
        *out = ((const struct sockaddr_in *)a)->sin_addr;
        return 1;
    }
    const struct in6_addr *x = &((const struct sockaddr_in6 *)a)->sin6_addr;
    if (is_v4mapped(x)) {
        memcpy(out, &x->s6_addr[12], 4);
        return 1;
    }
    return 0;
}

static int same(const struct sockaddr *a, const struct sockaddr *b) {
    struct in_addr x, y;
    if (as_v4(a, &x) && as_v4(b, &y)) return x.s_addr == y.s_addr;
    if (a->sa_family != AF_INET6 || b->sa_family != AF_INET6) return 0;
    return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                  &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}

static int has(const struct addrs *s, const struct sockaddr *a) {
    for (int i = 0; i < s->n; i++)
        if (same((const struct sockaddr *)&s->a[i], a)) return 1;
    return 0;
}

static int link_local(const struct sockaddr *a) {
    return a->sa_family == AF_INET6 &&
           IN6_IS_ADDR_LINKLOCAL(&((const struct sockaddr_in6 *)a)->sin6_addr);
}

/* The host's addresses: IPv4 ones, and IPv6 ones (not link-local) with
 * `v6`. */
static void host(struct addrs *out, int v6) {
    struct ifaddrs *ifa, *p;
    CHECK(getifaddrs(&ifa) == 0);
    out->n = 0;
    for (p = ifa; p; p = p->ifa_next) {
        if (!p->ifa_addr) continue;
        int f = p->ifa_addr->sa_family;
        if (f != AF_INET && !(v6 && f == AF_INET6)) continue;
        if (link_local(p->ifa_addr) || has(out, p->ifa_addr)) continue;
        CHECK(out->n < MAXA);
        memcpy(&out->a[out->n++], p->ifa_addr,
               f == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
    }
    freeifaddrs(ifa);
}

static void peers(int s, struct addrs *out) {
    char buf[4096] = {0};
    socklen_t len = sizeof buf;
    CHECK(getsockopt(s, IPPROTO_SCTP, SCTP_GET_PEER_ADDRS, buf, &len) == 0);
    struct sctp_getaddrs *g = (void *)buf;
    char *p = (char *)g->addrs;
    out->n = 0;
    for (uint32_t i = 0; i < g->addr_num; i++) {
        struct sockaddr *a = (void *)p;
        size_t l = a->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
        CHECK(out->n < MAXA);
        memcpy(&out->a[out->n++], a, l);
        p += l;
    }
}

static int state_of(int s, const struct sockaddr *a) {
    struct sctp_paddrinfo pi = {0};
    memcpy(&pi.spinfo_address, a,
           a->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
    socklen_t l = sizeof pi;
    if (getsockopt(s, IPPROTO_SCTP, SCTP_GET_PEER_ADDR_INFO, &pi, &l) < 0) return -errno;
    return pi.spinfo_state;
}

static void show(const char *what, const struct addrs *s) {
    char t[INET6_ADDRSTRLEN];
    fprintf(stderr, "%s:", what);
    for (int i = 0; i < s->n; i++) {
        const struct sockaddr *a = (const void *)&s->a[i];
        const void *x = a->sa_family == AF_INET ? (const void *)&((const struct sockaddr_in *)a)->sin_addr
                                                : (const void *)&((const struct sockaddr_in6 *)a)->sin6_addr;
        inet_ntop(a->sa_family, x, t, sizeof t);
        fprintf(stderr, " %s", t);
    }
    fprintf(stderr, "\n");
}

/* Every host address (`want`) is a path of `s`, and nothing else but
 * IPv6 link-local ones; all of them become active. */
static void check_paths(int s, const struct addrs *want) {
    struct addrs got;
    peers(s, &got);
    int ok = 1;
    for (int i = 0; i < want->n; i++) ok &= has(&got, (const struct sockaddr *)&want->a[i]);
    for (int i = 0; i < got.n; i++)
        ok &= has(want, (const struct sockaddr *)&got.a[i]) ||
              link_local((const struct sockaddr *)&got.a[i]);
    if (!ok) {
        show("host", want);
        show("paths", &got);
    }
    CHECK(ok);
    /* (Asked by address and port: the port alone wrong is EINVAL.) */
    double end = now_s() + 10;
    for (int i = 0; i < got.n; i++) {
        struct sockaddr_storage a = got.a[i];
        if (link_local((const struct sockaddr *)&a)) continue;
        int st;
        while ((st = state_of(s, (const struct sockaddr *)&a)) != SCTP_ACTIVE && now_s() < end)
            usleep(20000);
        EXPECT_EQ(st, SCTP_ACTIVE);
        ((struct sockaddr_in *)&a)->sin_port ^= htons(1);
        EXPECT_EQ(state_of(s, (const struct sockaddr *)&a), -EINVAL);
    }
}

static void echo(int from, int to, const char *msg) {
    char buf[64];
    CHECK(send(from, msg, strlen(msg), 0) == (ssize_t)strlen(msg));
    CHECK(readable(to, 3000));
    CHECK(recv(to, buf, sizeof buf, 0) == (ssize_t)strlen(msg));
}

static int sock(int family) {
    int s = socket(family, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(s >= 0);
    /* Confirmation heartbeats go every RTO: keep the test short. */
    struct sctp_rtoinfo rto = {.srto_initial = 300, .srto_min = 100, .srto_max = 1000};
    CHECK(setsockopt(s, IPPROTO_SCTP, SCTP_RTOINFO, &rto, sizeof rto) == 0);
    return s;
}

/* A wildcard listener of `family`, a client that does not bind, over
 * `to` (loopback). */
static void wildcard(int family, uint16_t port) {
    struct addrs want;
    host(&want, family == AF_INET6);
    int l = sock(family);
    struct sockaddr_storage any = {0}, to = {0};
    socklen_t len;
    if (family == AF_INET) {
        struct sockaddr_in *a = (void *)&any, *t = (void *)&to;
        a->sin_family = t->sin_family = AF_INET;
        a->sin_port = t->sin_port = htons(port);
        t->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof(struct sockaddr_in);
    } else {
        struct sockaddr_in6 *a = (void *)&any, *t = (void *)&to;
        a->sin6_family = t->sin6_family = AF_INET6;
        a->sin6_port = t->sin6_port = htons(port);
        t->sin6_addr = in6addr_loopback;
        len = sizeof(struct sockaddr_in6);
    }
    CHECK(bind(l, (struct sockaddr *)&any, len) == 0);
    CHECK(listen(l, 1) == 0);
    int c = sock(family);
    CHECK(connect(c, (struct sockaddr *)&to, len) == 0);
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    echo(c, s, "hello");
    check_paths(c, &want);
    check_paths(s, &want);
    echo(s, c, "again");
    close(c), close(s), close(l);
}

/* Bound to 127.0.0.1 on both sides: one address each, none listed. */
static void single(uint16_t port) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int l = sock(AF_INET);
    CHECK(bind(l, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(listen(l, 1) == 0);
    int c = sock(AF_INET);
    struct sockaddr_in ca = a;
    ca.sin_port = htons((uint16_t)(port + 1));
    CHECK(bind(c, (struct sockaddr *)&ca, sizeof ca) == 0);
    CHECK(connect(c, (struct sockaddr *)&a, sizeof a) == 0);
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    echo(c, s, "one");
    struct addrs got;
    peers(c, &got);
    EXPECT_EQ(got.n, 1);
    peers(s, &got);
    EXPECT_EQ(got.n, 1);
    close(c), close(s), close(l);
}

int main(void) {
    uint16_t port = free_ports(4);
    wildcard(AF_INET, port);
    wildcard(AF_INET6, (uint16_t)(port + 1));
    single((uint16_t)(port + 2));
    printf("wildcard_paths: ok\n");
    return 0;
}
