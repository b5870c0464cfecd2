/* Multi-homed stream for scripts/e2e-multihome.sh: both ends bind two
 * addresses with sctp_bindx, the client connects to the server's first
 * and streams a byte pattern; the server checks every byte.
 *
 *   mhstream server ADDR1 ADDR2 PORT            prints "server ok BYTES paddrs N unreachable U available V confirmed C"
 *   mhstream client ADDR1 ADDR2 PEER PORT MIB   prints "client ok BYTES paddrs N unreachable U ..."
 *
 * Both subscribe to SCTP_PEER_ADDR_CHANGE and count the events; the
 * client prints a line "path ADDR STATE" for each as it comes (the
 * script times ADDR_UNREACHABLE against the link cut).
 *
 * With MHSTREAM_GATE=FILE the client stops after a third of the data,
 * prints "gate", and goes on once FILE exists: the script cuts the link
 * there, so that the rest of the transfer meets the cut (a veth moves
 * 100 MiB in about a second). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/sctp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <stddef.h>
#include <time.h>
#include <unistd.h>

static int unreachable, available, confirmed;

static void die(const char *what) {
    fprintf(stderr, "mhstream: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* An IPv4 or IPv6 address ("a.b.c.d" or with colons) and port, packed
 * at `out`; its length. */
static size_t addr(const char *ip, int port, void *out) {
    if (strchr(ip, ':')) {
        struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
        if (inet_pton(AF_INET6, ip, &a.sin6_addr) != 1) goto bad;
        memcpy(out, &a, sizeof a);
        return sizeof a;
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) goto bad;
    memcpy(out, &a, sizeof a);
    return sizeof a;
bad:
    fprintf(stderr, "mhstream: bad address %s\n", ip);
    exit(2);
}

/* An address as text, IPv4-mapped IPv6 ones as IPv4. */
static void addr_text(const struct sockaddr_storage *ss, char *out, size_t len) {
    const struct sockaddr_in6 *a6 = (const void *)ss;
    if (ss->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr))
        inet_ntop(AF_INET, &a6->sin6_addr.s6_addr[12], out, (socklen_t)len);
    else if (ss->ss_family == AF_INET6)
        inet_ntop(AF_INET6, &a6->sin6_addr, out, (socklen_t)len);
    else
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, out, (socklen_t)len);
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int bound_socket(const char *a1, const char *a2, int port) {
    /* An IPv6 socket when either address is IPv6 (dual-stack: the IPv4
     * one is bound too, as Linux takes mixed sctp_bindx lists). */
    int v6 = strchr(a1, ':') || strchr(a2, ':');
    int s = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    if (s < 0) die("socket");
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    unsigned char both[2 * sizeof(struct sockaddr_in6)];
    size_t n = addr(a1, port, both);
    addr(a2, port, both + n);
    if (sctp_bindx(s, (struct sockaddr *)both, 2, SCTP_BINDX_ADD_ADDR) < 0) die("sctp_bindx");
    struct sctp_event_subscribe ev = {0};
    ev.sctp_data_io_event = 0;
    ev.sctp_address_event = 1;
    if (setsockopt(s, IPPROTO_SCTP, SCTP_EVENTS, &ev, sizeof ev) < 0) die("SCTP_EVENTS");
    /* Quick failure detection for the test: RTO 100..400 ms, a path is
     * unreachable after 2 retransmissions, heartbeats every 500 ms. */
    struct sctp_rtoinfo rto = {.srto_initial = 200, .srto_min = 100, .srto_max = 400};
    if (setsockopt(s, IPPROTO_SCTP, SCTP_RTOINFO, &rto, sizeof rto) < 0) die("SCTP_RTOINFO");
    struct sctp_paddrparams pp = {0};
    pp.spp_hbinterval = 500;
    pp.spp_pathmaxrxt = 2;
    pp.spp_flags = SPP_HB_ENABLE;
    if (setsockopt(s, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, sizeof pp) < 0) die("SCTP_PEER_ADDR_PARAMS");
    return s;
}

/* A notification: counts it (and names the path on stdout). */
static void note(const char *buf, double t0) {
    const union sctp_notification *n = (const void *)buf;
    if (n->sn_header.sn_type != SCTP_PEER_ADDR_CHANGE) return;
    const struct sctp_paddr_change *c = &n->sn_paddr_change;
    char ip[64] = "?";
    struct sockaddr_storage at; /* (packed in the notification) */
    memcpy(&at, (const char *)c + offsetof(struct sctp_paddr_change, spc_aaddr), sizeof at);
    addr_text(&at, ip, sizeof ip);
    const char *st = "other";
    switch (c->spc_state) {
    case SCTP_ADDR_UNREACHABLE: st = "unreachable"; unreachable++; break;
    case SCTP_ADDR_AVAILABLE: st = "available"; available++; break;
    case SCTP_ADDR_CONFIRMED: st = "confirmed"; confirmed++; break;
    default: break;
    }
    printf("path %s %s %.3f\n", ip, st, now_s() - t0);
    fflush(stdout);
}

static int paddrs(int s) {
    struct sockaddr *list = NULL;
    int n = sctp_getpaddrs(s, 0, &list);
    if (n > 0) sctp_freepaddrs(list);
    return n;
}

/* The peer addresses sctp_getpaddrs listed while the association was up. */
static int peer_addrs = -1;

static void report(const char *who, long long bytes) {
    printf("%s ok %lld paddrs %d unreachable %d available %d confirmed %d\n", who, bytes, peer_addrs,
           unreachable, available, confirmed);
}

static int server(char **v) {
    int l = bound_socket(v[0], v[1], atoi(v[2]));
    if (listen(l, 1) < 0) die("listen");
    int s = accept(l, NULL, NULL);
    if (s < 0) die("accept");
    double t0 = now_s();
    static char buf[1 << 16];
    long long got = 0;
    for (;;) {
        int flags = 0;
        ssize_t r = sctp_recvmsg(s, buf, sizeof buf, NULL, NULL, NULL, &flags);
        if (r < 0) die("recvmsg");
        if (r == 0) break;
        if (flags & MSG_NOTIFICATION) {
            note(buf, t0);
            continue;
        }
        if (peer_addrs < 2) peer_addrs = paddrs(s);
        for (ssize_t i = 0; i < r; i++, got++)
            if ((unsigned char)buf[i] != (unsigned char)(got * 7 + got / 4096)) {
                fprintf(stderr, "mhstream server: byte %lld differs\n", got);
                return 1;
            }
    }
    report("server", got);
    return 0;
}

static int client(char **v) {
    int port = atoi(v[3]);
    int s = bound_socket(v[0], v[1], port);
    struct sockaddr_in6 peer;
    size_t pl = addr(v[2], port, &peer);
    if (connect(s, (struct sockaddr *)&peer, (socklen_t)pl) < 0) die("connect");
    double t0 = now_s();
    printf("connected\n");
    fflush(stdout);
    long long total = atoll(v[4]) << 20, sent = 0;
    static char buf[1 << 14], nb[1024];
    struct pollfd p = {.fd = s, .events = POLLIN | POLLOUT};
    const char *gate = getenv("MHSTREAM_GATE");
    while (sent < total) {
        if (gate && sent >= total / 3) {
            printf("gate\n");
            while (access(gate, F_OK) != 0) usleep(10000);
            gate = NULL;
        }
        if (poll(&p, 1, 1000) < 0 && errno != EINTR) die("poll");
        if (p.revents & POLLIN) {
            int flags = 0;
            ssize_t r = sctp_recvmsg(s, nb, sizeof nb, NULL, NULL, NULL, &flags);
            if (r > 0 && (flags & MSG_NOTIFICATION)) note(nb, t0);
        }
        if (!(p.revents & POLLOUT)) continue;
        size_t n = sizeof buf;
        if ((long long)n > total - sent) n = (size_t)(total - sent);
        for (size_t i = 0; i < n; i++) {
            long long k = sent + (long long)i;
            buf[i] = (char)(k * 7 + k / 4096);
        }
        ssize_t w = send(s, buf, n, MSG_DONTWAIT);
        if (w < 0 && errno != EAGAIN) die("send");
        if (w > 0) sent += w;
    }
    /* Wait for the events of the cut (and of its return) a little. */
    double until = now_s() + 6;
    while (now_s() < until && (unreachable == 0 || available == 0)) {
        p.events = POLLIN;
        if (poll(&p, 1, 200) > 0 && (p.revents & POLLIN)) {
            int flags = 0;
            ssize_t r = sctp_recvmsg(s, nb, sizeof nb, NULL, NULL, NULL, &flags);
            if (r > 0 && (flags & MSG_NOTIFICATION)) note(nb, t0);
        }
    }
    peer_addrs = paddrs(s);
    report("client", sent);
    close(s);
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 5 && strcmp(argv[1], "server") == 0) return server(argv + 2);
    if (argc == 7 && strcmp(argv[1], "client") == 0) return client(argv + 2);
    fprintf(stderr, "usage: mhstream server A1 A2 PORT | client A1 A2 PEER PORT MIB\n");
    return 2;
}
