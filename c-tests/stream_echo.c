/* One-to-one (TCP-style) SCTP: a server accepts one association and echoes
 * what it reads; a client sends 4 MiB of patterned data, checks the echo byte
 * for byte, then closes (SCTP has no half-close: SHUTDOWN ends both ways). Also: connect to a closed port fails with
 * ECONNREFUSED, and getpeername/getsockname/SO_TYPE/SO_PROTOCOL answer. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef IPPROTO_SCTP
#define IPPROTO_SCTP 132
#endif

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #c, strerror(errno)); exit(1); } } while (0)

static const size_t TOTAL = 4u << 20;

static unsigned char pattern(size_t i) { return (unsigned char)((i * 131) ^ (i >> 9)); }

static int server(int port_ready_fd) {
    int ls = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(ls >= 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    CHECK(bind(ls, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(listen(ls, 5) == 0);
    socklen_t al = sizeof a;
    CHECK(getsockname(ls, (struct sockaddr *)&a, &al) == 0);
    CHECK(a.sin_port != 0);
    CHECK(write(port_ready_fd, &a.sin_port, sizeof a.sin_port) == sizeof a.sin_port);
    struct sockaddr_in peer;
    socklen_t pl = sizeof peer;
    int c = accept(ls, (struct sockaddr *)&peer, &pl);
    CHECK(c >= 0);
    CHECK(peer.sin_family == AF_INET && peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
    int v = 0; socklen_t vl = sizeof v;
    CHECK(getsockopt(c, SOL_SOCKET, SO_TYPE, &v, &vl) == 0 && v == SOCK_STREAM);
    CHECK(getsockopt(c, SOL_SOCKET, SO_PROTOCOL, &v, &vl) == 0 && v == IPPROTO_SCTP);
    char buf[65536];
    size_t got = 0;
    for (;;) {
        ssize_t n = read(c, buf, sizeof buf);
        CHECK(n >= 0);
        if (n == 0) break;
        got += (size_t)n;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(c, buf + off, (size_t)(n - off));
            CHECK(w > 0);
            off += w;
        }
    }
    CHECK(got == TOTAL);
    close(c);
    close(ls);
    return 0;
}

static int client(unsigned short port_be) {
    int s = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(s >= 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = port_be, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    CHECK(connect(s, (struct sockaddr *)&a, sizeof a) == 0);
    struct sockaddr_in p; socklen_t pl = sizeof p;
    CHECK(getpeername(s, (struct sockaddr *)&p, &pl) == 0 && p.sin_port == port_be);
    unsigned char *out = malloc(TOTAL), *in = malloc(TOTAL);
    CHECK(out && in);
    for (size_t i = 0; i < TOTAL; i++) out[i] = pattern(i);
    size_t sent = 0, recvd = 0;
    /* Interleave writing and reading so neither side's buffers fill up. */
    while (recvd < TOTAL) {
        if (sent < TOTAL) {
            size_t n = TOTAL - sent < 16384 ? TOTAL - sent : 16384;
            ssize_t w = write(s, out + sent, n);
            CHECK(w > 0);
            sent += (size_t)w;
        }
        while (recvd < sent) {
            ssize_t r = recv(s, in + recvd, TOTAL - recvd, sent < TOTAL ? MSG_DONTWAIT : 0);
            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
            CHECK(r > 0);
            recvd += (size_t)r;
        }
    }
    CHECK(memcmp(in, out, TOTAL) == 0);
    close(s);
    return 0;
}

static void refused(void) {
    int s = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(s >= 0);
    /* Bind a UDP port and close it, so that nothing listens there. */
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    CHECK(bind(u, (struct sockaddr *)&a, sizeof a) == 0);
    socklen_t al = sizeof a;
    CHECK(getsockname(u, (struct sockaddr *)&a, &al) == 0);
    /* A UDP socket that answers nothing: the INIT is lost, so use a listener-less shim socket instead. */
    close(u);
    int l = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(l >= 0);
    CHECK(bind(l, (struct sockaddr *)&a, sizeof a) == 0); /* bound, not listening: INIT gets ABORT */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(connect(s, (struct sockaddr *)&a, sizeof a) == -1 && errno == ECONNREFUSED);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    CHECK(ms < 1000);
    close(s);
    close(l);
}

int main(void) {
    int pfd[2];
    CHECK(pipe(pfd) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(pfd[0]);
        exit(server(pfd[1]));
    }
    close(pfd[1]);
    unsigned short port_be;
    CHECK(read(pfd[0], &port_be, sizeof port_be) == sizeof port_be);
    refused();
    int rc = client(port_be);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    printf("stream_echo: ok\n");
    return rc;
}
