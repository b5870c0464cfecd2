/* Helpers shared by the C tests that use SCTP ancillary data. Built against
 * include/netinet/sctp.h (the project's drop-in header). */
#ifndef SCTPSHIM_CTEST_COMMON_H
#define SCTPSHIM_CTEST_COMMON_H

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
#include <time.h>
#include <unistd.h>

#define CHECK(c)                                                                          \
    do {                                                                                  \
        if (!(c)) {                                                                       \
            fprintf(stderr, "%s:%d: %s failed (errno %d: %s)\n", __FILE__, __LINE__, #c, \
                    errno, strerror(errno));                                              \
            exit(1);                                                                      \
        }                                                                                 \
    } while (0)

/* What one recvmsg returned besides the data. */
struct got {
    ssize_t n;
    int flags;
    struct sockaddr_in6 from; /* big enough for either family */
    socklen_t fromlen;
    int has_sndrcv, has_rcvinfo, has_nxtinfo;
    struct sctp_sndrcvinfo sndrcv;
    struct sctp_rcvinfo rcv;
    struct sctp_nxtinfo nxt;
};

static inline ssize_t recv_got(int s, void *buf, size_t len, int flags, struct got *g) {
    char cbuf[512];
    struct iovec iov = {buf, len};
    memset(g, 0, sizeof *g);
    struct msghdr m = {.msg_name = &g->from, .msg_namelen = sizeof g->from, .msg_iov = &iov,
                       .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
    g->n = recvmsg(s, &m, flags);
    g->flags = m.msg_flags;
    g->fromlen = m.msg_namelen;
    if (g->n < 0) return g->n;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level != IPPROTO_SCTP) continue;
        if (c->cmsg_type == SCTP_SNDRCV) { memcpy(&g->sndrcv, CMSG_DATA(c), sizeof g->sndrcv); g->has_sndrcv = 1; }
        if (c->cmsg_type == SCTP_RCVINFO) { memcpy(&g->rcv, CMSG_DATA(c), sizeof g->rcv); g->has_rcvinfo = 1; }
        if (c->cmsg_type == SCTP_NXTINFO) { memcpy(&g->nxt, CMSG_DATA(c), sizeof g->nxt); g->has_nxtinfo = 1; }
    }
    return g->n;
}

/* sendmsg with an optional SCTP_SNDINFO and SCTP_INIT. */
static inline ssize_t send_info(int s, const struct sockaddr *to, socklen_t tolen, const void *data,
                                size_t len, const struct sctp_sndinfo *info,
                                const struct sctp_initmsg *init, int flags) {
    char cbuf[CMSG_SPACE(sizeof(struct sctp_sndinfo)) + CMSG_SPACE(sizeof(struct sctp_initmsg))];
    memset(cbuf, 0, sizeof cbuf);
    struct iovec iov = {(void *)data, len};
    struct msghdr m = {.msg_name = (void *)to, .msg_namelen = to ? tolen : 0, .msg_iov = &iov,
                       .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = 0};
    struct cmsghdr *c = (struct cmsghdr *)cbuf;
    if (info) {
        c->cmsg_level = IPPROTO_SCTP; c->cmsg_type = SCTP_SNDINFO;
        c->cmsg_len = CMSG_LEN(sizeof *info);
        memcpy(CMSG_DATA(c), info, sizeof *info);
        m.msg_controllen += CMSG_SPACE(sizeof *info);
        c = (struct cmsghdr *)(cbuf + m.msg_controllen);
    }
    if (init) {
        c->cmsg_level = IPPROTO_SCTP; c->cmsg_type = SCTP_INIT;
        c->cmsg_len = CMSG_LEN(sizeof *init);
        memcpy(CMSG_DATA(c), init, sizeof *init);
        m.msg_controllen += CMSG_SPACE(sizeof *init);
    }
    if (m.msg_controllen == 0) m.msg_control = NULL;
    return sendmsg(s, &m, flags);
}

/* Waits up to `ms` for `fd` to become readable. */
static inline int readable(int fd, int ms) {
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, ms) == 1;
}

static inline double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* `ip`:`port` as an IPv4 socket address. */
static inline struct sockaddr_in at4(const char *ip, uint16_t port) {
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

/* spinfo_state of the peer's path `ip`:`port` (SCTP_GET_PEER_ADDR_INFO),
 * or -errno. */
static inline int path_state4(int s, const char *ip, uint16_t port) {
    struct sctp_paddrinfo pi;
    memset(&pi, 0, sizeof pi);
    struct sockaddr_in a = at4(ip, port);
    memcpy(&pi.spinfo_address, &a, sizeof a);
    socklen_t l = sizeof pi;
    if (getsockopt(s, IPPROTO_SCTP, SCTP_GET_PEER_ADDR_INFO, &pi, &l) < 0) return -errno;
    return pi.spinfo_state;
}

static inline struct sockaddr_in loop4(uint16_t port) {
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

/* A listening SCTP socket of `type` on 127.0.0.1:`port` with SO_RCVBUF
 * `rcvbuf` (0: the default). */
static inline int listen_on(int type, uint16_t port, int rcvbuf, int backlog) {
    int s = socket(AF_INET, type, IPPROTO_SCTP);
    CHECK(s >= 0);
    if (rcvbuf > 0) CHECK(setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) == 0);
    struct sockaddr_in a = loop4(port);
    CHECK(bind(s, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(listen(s, backlog) == 0);
    return s;
}

/* A connected one-to-one pair on 127.0.0.1:`port`: *cl connected, *srv
 * accepted (the listener is closed again). */
/* A one-to-one association over loopback; the listener (and so the
 * accepted socket) takes SO_RCVBUF `rcvbuf` when it is > 0. */
static inline void connected_pair_rcvbuf(uint16_t port, int rcvbuf, int *cl, int *srv) {
    int l = listen_on(SOCK_STREAM, port, rcvbuf, 8);
    struct sockaddr_in a = loop4(port);
    *cl = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(*cl >= 0);
    CHECK(connect(*cl, (struct sockaddr *)&a, sizeof a) == 0);
    *srv = accept(l, NULL, NULL);
    CHECK(*srv >= 0);
    close(l);
}

static inline void connected_pair(uint16_t port, int *cl, int *srv) {
    connected_pair_rcvbuf(port, 0, cl, srv);
}

/* Reads records until a notification of `type` arrives (data is skipped);
 * returns its length, 0 on timeout. */
static inline ssize_t wait_note(int s, uint16_t type, void *buf, size_t len, int ms) {
    double end = now_s() + ms / 1000.0;
    struct got g;
    while (now_s() < end) {
        if (!readable(s, 50)) continue;
        if (recv_got(s, buf, len, MSG_DONTWAIT, &g) <= 0) continue;
        if ((g.flags & MSG_NOTIFICATION) && ((union sctp_notification *)buf)->sn_header.sn_type == type)
            return g.n;
    }
    return 0;
}

/* Writes pattern(offset) bytes into non-blocking `fd` until it takes no
 * more, `rounds` times with 20 ms between (so the engine has moved what it
 * can towards the association); returns the bytes written, -1 on an error
 * other than EAGAIN. */
static inline long fill_until_full(int fd, int rounds, char (*pattern)(size_t)) {
    size_t total = 0;
    char buf[16384];
    for (int round = 0; round < rounds; round++) {
        for (;;) {
            for (size_t i = 0; i < sizeof buf; i++) buf[i] = pattern(total + i);
            ssize_t w = write(fd, buf, sizeof buf);
            if (w < 0 && errno == EAGAIN) break;
            if (w <= 0) return -1;
            total += (size_t)w;
        }
        usleep(20 * 1000);
    }
    return (long)total;
}

/* A block of `n` SCTP ports for one test run: below the kernel's ephemeral
 * range (32768 up), where no socket bound to port 0 lands, and free now for
 * UDP (the in-process engine binds UDP port P for SCTP port P) and SCTP. */
static inline uint16_t free_ports(int n) {
    for (unsigned tries = 0; tries < 1000; tries++) {
        uint16_t base = (uint16_t)(10000 + ((unsigned)getpid() * 31 + tries * 997) % (22000 - (unsigned)n));
        int ok = 1;
        for (int i = 0; i < n && ok; i++) {
            int u = socket(AF_INET6, SOCK_DGRAM, 0);
            struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)(base + i))};
            struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)(base + i))};
            if (u >= 0) {
                int off = 0; /* dual stack: taken by any IPv4 or IPv6 binding */
                setsockopt(u, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
                ok = bind(u, (struct sockaddr *)&a6, sizeof a6) == 0;
            } else {
                u = socket(AF_INET, SOCK_DGRAM, 0);
                ok = u >= 0 && bind(u, (struct sockaddr *)&a4, sizeof a4) == 0;
            }
            if (u >= 0) close(u);
            /* And for SCTP itself (the shared engine's ports are its own). */
            int t = ok ? socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP) : -1;
            if (t >= 0) {
                ok = bind(t, (struct sockaddr *)&a4, sizeof a4) == 0;
                close(t);
            }
            if (!ok) fprintf(stderr, "(port %d taken, trying another block)\n", base + i);
        }
        if (ok) return base;
    }
    fprintf(stderr, "no block of %d free ports\n", n);
    exit(1);
}

#endif
