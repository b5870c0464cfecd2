/* Kernel-socket behaviour of one-to-one SCTP sockets under the shim:
 * non-blocking connect (EINPROGRESS, POLLOUT only once up, SO_ERROR),
 * epoll readiness, dup, a forked child using an inherited socket after the
 * parent closed its copy, SO_LINGER{1,0} close → peer read fails with
 * ECONNRESET, write after the peer is gone → EPIPE, and a non-blocking
 * connect to a closed port reporting ECONNREFUSED through SO_ERROR. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define IPPROTO_SCTP_ 132
#define SOL_SCTP_ 132
#define SCTP_REMOTE_UDP_ENCAPS_PORT_ 132 /* linux/sctp.h */
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #c, strerror(errno)); exit(1); } } while (0)

static int listener(struct sockaddr_in *a) {
    int l = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP_);
    CHECK(l >= 0);
    a->sin_family = AF_INET;
    a->sin_port = 0;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(bind(l, (struct sockaddr *)a, sizeof *a) == 0);
    CHECK(listen(l, 8) == 0);
    socklen_t al = sizeof *a;
    CHECK(getsockname(l, (struct sockaddr *)a, &al) == 0);
    return l;
}

static void nonblocking_connect(void) {
    struct sockaddr_in a;
    int l = listener(&a);
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_SCTP_);
    CHECK(s >= 0);
    CHECK(connect(s, (struct sockaddr *)&a, sizeof a) == -1 && errno == EINPROGRESS);
    /* Not writable before the association is up: the accept has not even
     * been called, but the handshake completes in the engine, so POLLOUT
     * must come, and SO_ERROR must then say 0. */
    struct pollfd p = { .fd = s, .events = POLLOUT };
    CHECK(poll(&p, 1, 5000) == 1 && (p.revents & POLLOUT));
    int err = -1; socklen_t el = sizeof err;
    CHECK(getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0);
    CHECK(connect(s, (struct sockaddr *)&a, sizeof a) == -1 && errno == EISCONN);
    int c = accept(l, NULL, NULL);
    CHECK(c >= 0);
    /* epoll on the accepted socket: readable once data arrives. */
    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = c };
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev) == 0);
    CHECK(epoll_wait(ep, &ev, 1, 50) == 0);
    CHECK(write(s, "ping", 4) == 4);
    CHECK(epoll_wait(ep, &ev, 1, 5000) == 1 && ev.data.fd == c);
    char buf[16];
    CHECK(read(c, buf, sizeof buf) == 4 && memcmp(buf, "ping", 4) == 0);
    /* dup: the copy is the same SCTP socket. */
    int d = dup(c);
    CHECK(d >= 0);
    struct sockaddr_in pa; socklen_t pl = sizeof pa;
    CHECK(getpeername(d, (struct sockaddr *)&pa, &pl) == 0 && pa.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
    close(c);
    CHECK(write(d, "pong", 4) == 4);
    struct pollfd q = { .fd = s, .events = POLLIN };
    CHECK(poll(&q, 1, 5000) == 1);
    CHECK(read(s, buf, sizeof buf) == 4 && memcmp(buf, "pong", 4) == 0);
    close(d);
    close(ep);
    /* The peer closed (graceful): EOF, then EPIPE on write (signal ignored). */
    struct pollfd e = { .fd = s, .events = POLLIN };
    CHECK(poll(&e, 1, 5000) == 1);
    CHECK(read(s, buf, sizeof buf) == 0);
    /* The pair is shut only once the association is gone: give it a moment. */
    for (int i = 0; i < 100; i++) {
        struct pollfd h = { .fd = s, .events = 0 };
        poll(&h, 1, 50);
        if (h.revents & POLLHUP) break;
    }
    signal(SIGPIPE, SIG_IGN);
    CHECK(write(s, "x", 1) == -1 && errno == EPIPE);
    close(s);
    close(l);
}

static void nonblocking_refused(void) {
    struct sockaddr_in a;
    int l = listener(&a);
    close(l); /* nothing listens there any more */
    int bound = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP_);
    CHECK(bind(bound, (struct sockaddr *)&a, sizeof a) == 0); /* answers INIT with ABORT */
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_SCTP_);
    CHECK(connect(s, (struct sockaddr *)&a, sizeof a) == -1 && errno == EINPROGRESS);
    struct pollfd p = { .fd = s, .events = POLLOUT };
    CHECK(poll(&p, 1, 5000) == 1);
    int err = 0; socklen_t el = sizeof err;
    CHECK(getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == ECONNREFUSED);
    close(s);
    close(bound);
}

static void linger_abort_and_fork(void) {
    struct sockaddr_in a;
    int l = listener(&a);
    int s = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP_);
    CHECK(connect(s, (struct sockaddr *)&a, sizeof a) == 0);
    int c = accept(l, NULL, NULL);
    CHECK(c >= 0);
    /* A forked child keeps using the inherited socket after the parent
     * closed its copy (socat's fork option). */
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        char b[8];
        if (read(c, b, 5) != 5 || memcmp(b, "hello", 5) != 0) _exit(2);
        if (write(c, "world", 5) != 5) _exit(3);
        /* SO_LINGER {1, 0}: close aborts. */
        struct linger lg = { .l_onoff = 1, .l_linger = 0 };
        if (setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) != 0) _exit(4);
        _exit(0);
    }
    close(c);
    CHECK(write(s, "hello", 5) == 5);
    char b[8];
    CHECK(read(s, b, 5) == 5 && memcmp(b, "world", 5) == 0);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* The child's SO_LINGER went to the child's copy of the engine state,
     * so set it here too: the parent's engine serves the socket. Then the
     * last close aborts and the peer's read fails with ECONNRESET. */
    close(l);
    (void)b;
}

static void abort_on_close(void) {
    struct sockaddr_in a;
    int l = listener(&a);
    int s = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP_);
    CHECK(connect(s, (struct sockaddr *)&a, sizeof a) == 0);
    int c = accept(l, NULL, NULL);
    CHECK(c >= 0);
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };
    CHECK(setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
    close(c);
    char b[8];
    struct pollfd p = { .fd = s, .events = POLLIN };
    CHECK(poll(&p, 1, 5000) == 1);
    CHECK(read(s, b, sizeof b) == -1 && errno == ECONNRESET);
    /* Afterwards the association is gone: ENOTCONN, as Linux answers. */
    CHECK(read(s, b, sizeof b) == -1 && errno == ENOTCONN);
    close(s);
    close(l);
}

/* SCTP_INITMSG changes the INIT: the negotiated stream counts show in
 * SCTP_STATUS. Layouts as in Linux's <linux/sctp.h>. */
struct initmsg_ { unsigned short ostreams, instreams, attempts, timeo; };
static void initmsg(void) {
    struct sockaddr_in a;
    int l = listener(&a);
    int s = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP_);
    struct initmsg_ im = { 5, 7, 0, 0 };
    CHECK(setsockopt(s, 132, 2, &im, sizeof im) == 0);
    struct initmsg_ got; socklen_t gl = sizeof got;
    CHECK(getsockopt(s, 132, 2, &got, &gl) == 0 && gl == 8);
    CHECK(got.ostreams == 5 && got.instreams == 7 && got.attempts == 8);
    CHECK(setsockopt(s, 132, 2, &im, 4) == -1 && errno == EINVAL);
    CHECK(connect(s, (struct sockaddr *)&a, sizeof a) == 0);
    unsigned char st[176]; socklen_t sl = sizeof st;
    CHECK(getsockopt(s, 132, 14, st, &sl) == 0 && sl == 176);
    int state; unsigned short in, out;
    memcpy(&state, st + 4, 4); memcpy(&in, st + 16, 2); memcpy(&out, st + 18, 2);
    CHECK(state == 4 /* SCTP_ESTABLISHED */);
    CHECK(out == 5 && in == 7); /* the server offers 10 each way */
    sl = 100;
    CHECK(getsockopt(s, 132, 14, st, &sl) == -1 && errno == EINVAL);
    int x; socklen_t xl = sizeof x;
    CHECK(getsockopt(s, 132, 9999, &x, &xl) == -1 && errno == ENOPROTOOPT);
    close(s);
    close(l);
}

/* After the parent has used SCTP, a forked child opens its own association
 * (the child gets an engine of its own) to the parent's listener. */
static void child_connects(void) {
    struct sockaddr_in a;
    int l = listener(&a);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        int s = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP_);
        if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) != 0) _exit(2);
        if (write(s, "from-child", 10) != 10) _exit(3);
        close(s);
        _exit(0); /* even _exit waits until the data is acknowledged */
    }
    int c = accept(l, NULL, NULL);
    CHECK(c >= 0);
    char b[32];
    size_t got = 0;
    ssize_t r;
    while ((r = read(c, b + got, sizeof b - got)) > 0) got += (size_t)r;
    CHECK(got == 10 && memcmp(b, "from-child", 10) == 0);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(c);
    close(l);
}

static void on_alarm(int sig) { (void)sig; }

/* A blocking connect to a peer that never answers is interrupted by a
 * signal with EINTR (the handler has no SA_RESTART, as for kernel sockets). */
static void connect_eintr(void) {
    int u = socket(AF_INET, SOCK_DGRAM, 0); /* swallows the INITs silently */
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    CHECK(bind(u, (struct sockaddr *)&a, sizeof a) == 0);
    socklen_t al = sizeof a;
    CHECK(getsockname(u, (struct sockaddr *)&a, &al) == 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
    int s = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP_);
    /* The INITs go to that UDP socket, whatever UDP port the engine sends
     * to by default (struct sctp_udpencaps: assoc id, address, port). */
    struct { int32_t id; struct sockaddr_storage addr; uint16_t port; } enc;
    memset(&enc, 0, sizeof enc);
    enc.port = a.sin_port;
    CHECK(setsockopt(s, SOL_SCTP_, SCTP_REMOTE_UDP_ENCAPS_PORT_, &enc, sizeof enc) == 0);
    alarm(1);
    CHECK(connect(s, (struct sockaddr *)&a, sizeof a) == -1 && errno == EINTR);
    /* The association goes on in the background, as in the kernel. */
    CHECK(connect(s, (struct sockaddr *)&a, sizeof a) == -1 && errno == EALREADY);
    close(s);
    close(u);
}

int main(void) {
    initmsg();
    child_connects();
    connect_eintr();
    nonblocking_connect();
    nonblocking_refused();
    linger_abort_and_fork();
    abort_on_close();
    printf("stream_semantics: ok\n");
    return 0;
}
