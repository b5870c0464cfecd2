/* Local addresses as Linux reports them:
 * - sctp_getladdrs (SCTP_GET_LOCAL_ADDRS) on a socket bound to the
 *   wildcard, or connected without bind(), lists every address of the
 *   host of the socket's families (IPv4 ones v4-mapped on an AF_INET6
 *   socket), each with the socket's port; a fresh socket none; a socket
 *   bound to one address that one. optlen counts the addresses only
 *   (Linux leaves the 8-byte header out);
 * - getsockname on a client that connected without bind() gives the
 *   address its association uses (127.0.0.1), not 0.0.0.0;
 * - SCTP_PRIMARY_ADDR with an address that is not the peer's is EINVAL;
 *   SCTP_SET_PEER_PRIMARY_ADDR is EPERM (it needs ASCONF, off by default
 *   in Linux and absent here). */
#include "common.h"

#include <ifaddrs.h>

#define MAXA 64

struct alist {
    int n;
    struct sockaddr_in6 a[MAXA]; /* AF_INET entries are sockaddr_in */
};

static int same_addr(const struct sockaddr *x, const struct sockaddr *y) {
    if (x->sa_family != y->sa_family) return 0;
    if (x->sa_family == AF_INET)
        return ((struct sockaddr_in *)x)->sin_addr.s_addr == ((struct sockaddr_in *)y)->sin_addr.s_addr &&
               ((struct sockaddr_in *)x)->sin_port == ((struct sockaddr_in *)y)->sin_port;
    return memcmp(&((struct sockaddr_in6 *)x)->sin6_addr, &((struct sockaddr_in6 *)y)->sin6_addr, 16) == 0 &&
           ((struct sockaddr_in6 *)x)->sin6_port == ((struct sockaddr_in6 *)y)->sin6_port;
}

static void getl(int s, sctp_assoc_t id, struct alist *out) {
    char buf[4096];
    struct sctp_getaddrs *ga = (struct sctp_getaddrs *)buf;
    memset(buf, 0xAA, sizeof buf);
    ga->assoc_id = id;
    socklen_t l = sizeof buf;
    CHECK(getsockopt(s, IPPROTO_SCTP, SCTP_GET_LOCAL_ADDRS, buf, &l) == 0);
    CHECK(ga->addr_num < MAXA);
    out->n = (int)ga->addr_num;
    char *p = (char *)ga->addrs;
    size_t bytes = 0;
    for (int i = 0; i < out->n; i++) {
        size_t sz = ((struct sockaddr *)p)->sa_family == AF_INET ? sizeof(struct sockaddr_in)
                                                                  : sizeof(struct sockaddr_in6);
        memset(&out->a[i], 0, sizeof out->a[i]);
        memcpy(&out->a[i], p, sz);
        p += sz;
        bytes += sz;
    }
    CHECK(l == bytes);
}

/* The host's addresses as socket `family` lists them, with `port`. */
static void host(int family, uint16_t port, struct alist *out) {
    struct ifaddrs *ifs, *i;
    CHECK(getifaddrs(&ifs) == 0);
    out->n = 0;
    for (i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || out->n >= MAXA) continue;
        struct sockaddr_in6 *o = &out->a[out->n];
        memset(o, 0, sizeof *o);
        if (i->ifa_addr->sa_family == AF_INET) {
            struct sockaddr_in *v4 = (struct sockaddr_in *)i->ifa_addr;
            if (family == AF_INET) {
                struct sockaddr_in *w = (struct sockaddr_in *)o;
                w->sin_family = AF_INET;
                w->sin_addr = v4->sin_addr;
                w->sin_port = htons(port);
            } else {
                o->sin6_family = AF_INET6;
                o->sin6_addr.s6_addr[10] = o->sin6_addr.s6_addr[11] = 0xff;
                memcpy(&o->sin6_addr.s6_addr[12], &v4->sin_addr, 4);
                o->sin6_port = htons(port);
            }
            out->n++;
        } else if (i->ifa_addr->sa_family == AF_INET6 && family == AF_INET6) {
            memcpy(o, i->ifa_addr, sizeof *o);
            o->sin6_port = htons(port);
            out->n++;
        }
    }
    freeifaddrs(ifs);
}

static int contains(const struct alist *l, const struct sockaddr_in6 *a) {
    for (int i = 0; i < l->n; i++)
        if (same_addr((const struct sockaddr *)&l->a[i], (const struct sockaddr *)a)) return 1;
    return 0;
}

static void same_set(const char *what, const struct alist *got, const struct alist *want) {
    int ok = got->n == want->n;
    for (int i = 0; ok && i < want->n; i++) ok = contains(got, &want->a[i]);
    if (!ok) {
        fprintf(stderr, "%s: %d addresses, the host has %d\n", what, got->n, want->n);
        exit(1);
    }
}

static uint16_t port_of(int s) {
    struct sockaddr_in6 a;
    socklen_t l = sizeof a;
    CHECK(getsockname(s, (struct sockaddr *)&a, &l) == 0);
    return ntohs(a.sin6_port); /* same offset in sockaddr_in */
}

int main(void) {
    uint16_t port = free_ports(3);
    struct alist got, want;

    /* A wildcard listener, and one-to-many. */
    int l = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    struct sockaddr_in any = {.sin_family = AF_INET, .sin_port = htons(port)};
    CHECK(bind(l, (struct sockaddr *)&any, sizeof any) == 0 && listen(l, 4) == 0);
    getl(l, 0, &got);
    host(AF_INET, port, &want);
    same_set("wildcard listener", &got, &want);
    int m = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
    struct sockaddr_in any2 = {.sin_family = AF_INET, .sin_port = htons(port + 1)};
    CHECK(bind(m, (struct sockaddr *)&any2, sizeof any2) == 0 && listen(m, 4) == 0);
    getl(m, 0, &got);
    host(AF_INET, (uint16_t)(port + 1), &want);
    same_set("wildcard one-to-many", &got, &want);

    /* A fresh socket has none. */
    int c = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    getl(c, 0, &got);
    CHECK(got.n == 0);

    /* Connected without bind(): the host's addresses (the peer is on
     * loopback, whose scope takes them all), and getsockname names the
     * address in use. */
    struct sockaddr_in sa = loop4(port);
    CHECK(connect(c, (struct sockaddr *)&sa, sizeof sa) == 0);
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    uint16_t cport = port_of(c);
    struct sctp_status st;
    socklen_t sl = sizeof st;
    memset(&st, 0, sizeof st);
    CHECK(getsockopt(c, IPPROTO_SCTP, SCTP_STATUS, &st, &sl) == 0);
    host(AF_INET, cport, &want);
    getl(c, 0, &got);
    same_set("client, socket", &got, &want);
    getl(c, st.sstat_assoc_id, &got);
    same_set("client, association", &got, &want);
    struct sockaddr_in me;
    socklen_t ml = sizeof me;
    CHECK(getsockname(c, (struct sockaddr *)&me, &ml) == 0);
    CHECK(me.sin_addr.s_addr == htonl(INADDR_LOOPBACK) && ntohs(me.sin_port) == cport);
    host(AF_INET, port, &want);
    getl(s, 0, &got);
    same_set("accepted", &got, &want);

    /* An explicit address is the only one. */
    int b = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    struct sockaddr_in lo = loop4((uint16_t)(port + 2));
    CHECK(bind(b, (struct sockaddr *)&lo, sizeof lo) == 0);
    getl(b, 0, &got);
    CHECK(got.n == 1 && same_addr((struct sockaddr *)&got.a[0], (struct sockaddr *)&lo));

    /* An AF_INET6 wildcard socket: IPv6 addresses and the IPv4 ones
     * v4-mapped (SCTP_I_WANT_MAPPED_V4_ADDR is on by default). */
    int v6 = socket(AF_INET6, SOCK_SEQPACKET, IPPROTO_SCTP);
    if (v6 >= 0) {
        struct sockaddr_in6 any6 = {.sin6_family = AF_INET6, .sin6_port = htons(port + 2)};
        if (bind(v6, (struct sockaddr *)&any6, sizeof any6) == 0) {
            getl(v6, 0, &got);
            host(AF_INET6, (uint16_t)(port + 2), &want);
            same_set("AF_INET6 wildcard", &got, &want);
        }
        close(v6);
    }

    /* The primary address must be the peer's. */
    struct sctp_prim prim;
    memset(&prim, 0, sizeof prim);
    struct sockaddr_in *pa = (struct sockaddr_in *)&prim.ssp_addr;
    pa->sin_family = AF_INET;
    pa->sin_port = htons(port);
    pa->sin_addr.s_addr = htonl(0x7f000002);
    CHECK(setsockopt(c, IPPROTO_SCTP, SCTP_PRIMARY_ADDR, &prim, sizeof prim) < 0 && errno == EINVAL);
    pa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(setsockopt(c, IPPROTO_SCTP, SCTP_PRIMARY_ADDR, &prim, sizeof prim) == 0);
    struct sctp_setpeerprim pp;
    memset(&pp, 0, sizeof pp);
    memcpy(&pp.sspp_addr, &me, sizeof me);
    CHECK(setsockopt(c, IPPROTO_SCTP, SCTP_SET_PEER_PRIMARY_ADDR, &pp, sizeof pp) < 0 && errno == EPERM);

    close(b);
    close(s);
    close(c);
    close(m);
    close(l);
    printf("local_addrs: ok\n");
    return 0;
}
