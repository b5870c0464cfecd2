/* A server process killed with SIGKILL in the middle of a transfer: the
 * client must fail with an error (not hang) within 5 s. Its packets now hit
 * a closed UDP port; the ICMP port unreachable (read through IP_RECVERR)
 * counts as an ABORT, as RFC 9260 Appendix C allows. Also: a connect to a
 * port with no SCTP endpoint at all (no shim there either) is refused fast
 * through the same ICMP. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #c, strerror(errno)); exit(1); } } while (0)

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    int pfd[2];
    CHECK(pipe(pfd) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        int l = socket(AF_INET, SOCK_STREAM, 132);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1)) _exit(2);
        socklen_t al = sizeof a;
        getsockname(l, (struct sockaddr *)&a, &al);
        if (write(pfd[1], &a.sin_port, 2) != 2) _exit(3);
        int c = accept(l, NULL, NULL);
        char buf[4096];
        for (;;) { if (read(c, buf, sizeof buf) <= 0) _exit(4); usleep(1000); }
    }
    unsigned short port;
    CHECK(read(pfd[0], &port, 2) == 2);
    int s = socket(AF_INET, SOCK_STREAM, 132);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = port, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    CHECK(connect(s, (struct sockaddr *)&a, sizeof a) == 0);
    char buf[16384];
    memset(buf, 'x', sizeof buf);
    for (int i = 0; i < 50; i++) CHECK(write(s, buf, sizeof buf) == (ssize_t)sizeof buf);
    CHECK(kill(pid, SIGKILL) == 0);
    CHECK(waitpid(pid, NULL, 0) == pid);
    double t0 = now();
    int failed = 0;
    while (now() - t0 < 10) {
        ssize_t w = write(s, buf, sizeof buf);
        if (w < 0) { CHECK(errno == EPIPE || errno == ECONNRESET); failed = errno; break; }
    }
    double took = now() - t0;
    CHECK(failed);
    CHECK(took < 5);
    /* Why is reported once, to whichever call comes first (Linux's
     * sock_error): the failed write, or else the read; after that, reads
     * answer ENOTCONN (no association, no EOF). */
    ssize_t r;
    while ((r = read(s, buf, sizeof buf)) > 0) {}
    CHECK(r == -1 && errno == (failed == ECONNRESET ? ENOTCONN : ECONNRESET));
    CHECK(read(s, buf, sizeof buf) == -1 && errno == ENOTCONN);
    close(s);

    /* No SCTP endpoint at all on that port any more: refused via ICMP. */
    int t = socket(AF_INET, SOCK_STREAM, 132);
    double t1 = now();
    CHECK(connect(t, (struct sockaddr *)&a, sizeof a) == -1 && errno == ECONNREFUSED);
    CHECK(now() - t1 < 1);
    close(t);
    printf("peer_killed: ok (error after %.2f s)\n", took);
    return 0;
}
