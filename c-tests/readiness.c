/* Readiness as Linux's sctp_poll reports it, socket state by socket state,
 * through poll, epoll (level-triggered, and edge-triggered once) and
 * select. The expected masks are Linux 6.1's answers (this program run in
 * the qemu guest with READINESS_PRINT=1 prints them); docs/readiness.md has
 * the table. */
#define _GNU_SOURCE
#include "common.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/select.h>

#define ASKED (POLLIN | POLLOUT | POLLPRI | POLLRDHUP)

static int print_only;
static int failures;

static const char *names(int m, char *buf) {
    buf[0] = 0;
    if (!m) strcat(buf, "-");
    if (m & POLLIN) strcat(buf, "IN ");
    if (m & POLLOUT) strcat(buf, "OUT ");
    if (m & POLLPRI) strcat(buf, "PRI ");
    if (m & POLLRDHUP) strcat(buf, "RDHUP ");
    if (m & POLLERR) strcat(buf, "ERR ");
    if (m & POLLHUP) strcat(buf, "HUP ");
    if (m & POLLNVAL) strcat(buf, "NVAL ");
    size_t n = strlen(buf);
    if (n && buf[n - 1] == ' ') buf[n - 1] = 0;
    return buf;
}

static int poll_mask(int s) {
    struct pollfd p = {.fd = s, .events = ASKED};
    CHECK(poll(&p, 1, 0) >= 0);
    return p.revents;
}

static int epoll_mask(int s, int et) {
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLPRI | EPOLLRDHUP | (et ? EPOLLET : 0)};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev) == 0);
    struct epoll_event out;
    int n = epoll_wait(ep, &out, 1, 0);
    CHECK(n >= 0);
    int m = n ? (int)out.events : 0;
    if (et) {
        /* Edge-triggered: reported once; nothing new, nothing more. */
        n = epoll_wait(ep, &out, 1, 0);
        if (n != 0) {
            fprintf(stderr, "epoll ET reported the same state twice\n");
            failures++;
        }
    }
    close(ep);
    return m;
}

static int select_mask(int s) {
    fd_set r, w, x;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_ZERO(&x);
    FD_SET(s, &r);
    FD_SET(s, &w);
    FD_SET(s, &x);
    struct timeval tv = {0, 0};
    CHECK(select(s + 1, &r, &w, &x, &tv) >= 0);
    return (FD_ISSET(s, &r) ? POLLIN : 0) | (FD_ISSET(s, &w) ? POLLOUT : 0) | (FD_ISSET(s, &x) ? POLLPRI : 0);
}

/* select's view of a poll mask (fs/select.c: POLLIN_SET, POLLOUT_SET, POLLEX_SET). */
static int as_select(int m) {
    return ((m & (POLLIN | POLLRDNORM | POLLRDBAND | POLLHUP | POLLERR)) ? POLLIN : 0) |
           ((m & (POLLOUT | POLLWRNORM | POLLWRBAND | POLLERR)) ? POLLOUT : 0) | ((m & POLLPRI) ? POLLPRI : 0);
}

static int under_shim;

/* The state's readiness must be Linux's (`linux`); where the shim is known
 * to answer otherwise (`shim` >= 0; docs/readiness.md says why), that
 * answer, so that a change either way shows. */
static void state2(const char *what, int s, int linux_mask, int shim) {
    char a[64], b[64];
    int want = under_shim && shim >= 0 ? shim : linux_mask;
    usleep(50000); /* let the engine settle (a kernel has no such delay) */
    int p = poll_mask(s);
    if (print_only) {
        printf("%-44s %s\n", what, names(p, a));
        return;
    }
    int e = epoll_mask(s, 0) & (ASKED | POLLERR | POLLHUP);
    int et = epoll_mask(s, 1) & (ASKED | POLLERR | POLLHUP);
    int sel = select_mask(s);
    if (p != want || e != want || (want && et != want) || sel != as_select(want)) {
        fprintf(stderr, "%s: poll %s, epoll %s, epoll ET %s, select %#x; want %s\n", what, names(p, a),
                names(e, b), names(et, b + 32), sel, names(want, a + 32));
        failures++;
    } else if (want != linux_mask) {
        fprintf(stderr, "(%s: %s, Linux %s: a known difference)\n", what, names(want, a), names(linux_mask, b));
    }
}

static void state(const char *what, int s, int linux_mask) { state2(what, s, linux_mask, -1); }

static void nonblock(int s) { CHECK(fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK) == 0); }

#define IN POLLIN
#define OUT POLLOUT
#define RDHUP POLLRDHUP
#define ERR POLLERR
#define HUP POLLHUP

int main(int argc, char **argv) {
    (void)argv;
    print_only = argc > 1 || getenv("READINESS_PRINT") != NULL;
    const char *pre = getenv("LD_PRELOAD");
    under_shim = pre && strstr(pre, "sctpshim");
    uint16_t port = free_ports(4);
    struct sockaddr_in sa = loop4(port);

    /* One-to-one. */
    int f = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    state("one-to-one, fresh", f, 0);
    CHECK(bind(f, (struct sockaddr *)&sa, sizeof sa) == 0);
    state("one-to-one, bound", f, 0);
    CHECK(listen(f, 4) == 0);
    state("one-to-one, listening", f, 0);
    int c = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(connect(c, (struct sockaddr *)&sa, sizeof sa) == 0);
    state("one-to-one, listening, connection waiting", f, IN);
    state("one-to-one, established (connect)", c, OUT);
    int s = accept(f, NULL, NULL);
    CHECK(s >= 0);
    state("one-to-one, listening, after accept", f, 0);
    state("one-to-one, established (accept)", s, OUT);
    CHECK(send(c, "x", 1, 0) == 1);
    state("one-to-one, data to read", s, IN | OUT);
    char buf[65536];
    CHECK(recv(s, buf, sizeof buf, 0) == 1);
    state("one-to-one, data read", s, OUT);
    /* A full send buffer: the peer does not read. */
    nonblock(c);
    memset(buf, 'b', sizeof buf);
    /* Until every buffer on the way is full: a send after a pause still
     * finds no room. */
    for (int round = 0; round < 100; round++) {
        int sent = 0;
        while (send(c, buf, 4096, 0) > 0) sent++;
        CHECK(errno == EAGAIN);
        if (!sent && round > 0) break;
        usleep(100000);
    }
    state("one-to-one, send buffer full", c, 0);
    while (readable(s, 4000)) CHECK(recv(s, buf, sizeof buf, 0) > 0);
    state("one-to-one, send buffer drained", c, OUT);
    /* The peer shuts down its sending side: SHUTDOWN received. */
    CHECK(shutdown(c, SHUT_WR) == 0);
    state("one-to-one, peer sent SHUTDOWN", s, IN | OUT | RDHUP);
    state("one-to-one, after shutdown(SHUT_WR)", c, OUT);
    CHECK(recv(s, buf, sizeof buf, 0) == 0);
    close(s); /* the association ends */
    state("one-to-one, shut down, association ended", c, OUT);
    /* Ended: a send is EPIPE; a read has nothing to wait for. */
    CHECK(send(c, "x", 1, MSG_NOSIGNAL) == -1 && errno == EPIPE);
    CHECK(recv(c, buf, sizeof buf, MSG_DONTWAIT) == -1 && errno == EAGAIN);
    CHECK(fcntl(c, F_SETFL, fcntl(c, F_GETFL) & ~O_NONBLOCK) == 0);
    CHECK(recv(c, buf, sizeof buf, 0) == -1 && errno == ENOTCONN);
    state("one-to-one, shut down, association ended, after the calls", c, OUT);
    close(c);

    /* An association aborted by the peer. */
    c = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(connect(c, (struct sockaddr *)&sa, sizeof sa) == 0);
    s = accept(f, NULL, NULL);
    CHECK(s >= 0);
    struct linger lg = {1, 0};
    CHECK(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
    close(s);
    state2("one-to-one, aborted by the peer", c, OUT | ERR, IN | OUT | RDHUP | HUP);
    close(c);
    close(f);

    /* Connecting where nobody listens (non-blocking): refused. */
    c = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    nonblock(c);
    struct sockaddr_in none = loop4((uint16_t)(port + 1));
    int r = connect(c, (struct sockaddr *)&none, sizeof none);
    CHECK(r < 0 && errno == EINPROGRESS);
    usleep(200000);
    state2("one-to-one, connect refused", c, ERR, IN | OUT | RDHUP | HUP);
    close(c);

    /* One-to-many. */
    int m = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
    state("one-to-many, fresh", m, OUT);
    struct sockaddr_in ma = loop4((uint16_t)(port + 2));
    CHECK(bind(m, (struct sockaddr *)&ma, sizeof ma) == 0 && listen(m, 4) == 0);
    state("one-to-many, listening, no association", m, OUT);
    int mc = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
    CHECK(sendto(mc, "hi", 2, 0, (struct sockaddr *)&ma, sizeof ma) == 2);
    state("one-to-many, a message to read", m, IN | OUT);
    CHECK(recv(m, buf, sizeof buf, 0) == 2);
    state("one-to-many, association idle", m, OUT);
    state("one-to-many client, association idle", mc, OUT);
    close(mc);
    usleep(200000);
    state("one-to-many, association ended", m, OUT);
    close(m);

    if (print_only) return 0;
    if (failures) {
        fprintf(stderr, "readiness: %d states differ from Linux\n", failures);
        return 1;
    }
    printf("readiness: ok\n");
    return 0;
}
