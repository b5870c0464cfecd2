/* No data the application was told it sent is lost when the sender ends
 * (issue 6): a sender process, with the built-in impairment on (10% loss,
 * 2% duplication, 2% reordering, 0.1% corruption each way), sends 1 MiB on
 * a one-to-one socket and then ends each of the ways a program does:
 * close() then exit(), exit() with the socket open, _exit() with the socket
 * open, and a forked child that does the sending on the inherited socket
 * and _exit()s while its parent closes. The receiver (this process, not
 * impaired) must read every byte, in order, then EOF. */
#include "common.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#define TOTAL (1 << 20)
#define CHUNK 8192

enum how { CLOSE_EXIT, EXIT, UNDERSCORE_EXIT, FORKED_CHILD };
static const char *names[] = {"close+exit", "exit", "_exit", "forked child"};

static unsigned char pattern(long i) { return (unsigned char)(i * 7 + i / 251); }

static void send_all(int c) {
    static unsigned char buf[CHUNK];
    for (long off = 0; off < TOTAL; off += CHUNK) {
        for (int k = 0; k < CHUNK; k++) buf[k] = pattern(off + k);
        CHECK(send(c, buf, CHUNK, 0) == CHUNK);
    }
}

static void sender(enum how how, uint16_t port, int seed) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    char spec[128];
    snprintf(spec, sizeof spec, "loss=10%%,dup=2%%,reorder=2%%,corrupt=0.1%%,seed=%d", seed);
    setenv("SCTPSHIM_IMPAIR", spec, 1);
    setenv("SCTPSHIM_RTO_MIN_MS", "20", 1);
    setenv("SCTPSHIM_LINGER_SECS", "60", 1);
    int c = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(c >= 0);
    struct sockaddr_in a = loop4(port);
    CHECK(connect(c, (struct sockaddr *)&a, sizeof a) == 0);
    switch (how) {
    case CLOSE_EXIT:
        send_all(c);
        close(c);
        exit(0);
    case EXIT:
        send_all(c);
        exit(0);
    case UNDERSCORE_EXIT:
        send_all(c);
        _exit(0);
    case FORKED_CHILD: {
        pid_t k = fork();
        CHECK(k >= 0);
        if (k == 0) {
            send_all(c);
            _exit(0);
        }
        close(c);
        int st;
        CHECK(waitpid(k, &st, 0) == k && WIFEXITED(st) && WEXITSTATUS(st) == 0);
        exit(0);
    }
    }
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0); /* forked children must not repeat it */
    uint16_t port = free_ports(1);
    int l = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(l >= 0);
    struct sockaddr_in a = loop4(port);
    CHECK(bind(l, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(listen(l, 4) == 0);
    static unsigned char buf[65536];
    for (int how = CLOSE_EXIT; how <= FORKED_CHILD; how++) {
        double t0 = now_s();
        pid_t p = fork();
        CHECK(p >= 0);
        if (p == 0) sender((enum how)how, port, 40 + how);
        int s = accept(l, NULL, NULL);
        CHECK(s >= 0);
        long got = 0;
        for (;;) {
            CHECK(readable(s, 30000));
            ssize_t n = recv(s, buf, sizeof buf, 0);
            CHECK(n >= 0);
            if (n == 0) break;
            for (ssize_t k = 0; k < n; k++) CHECK(buf[k] == pattern(got + k));
            got += n;
        }
        int st;
        CHECK(waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0);
        printf("exit_paths: %-12s %ld bytes, all in order (%.1f s)\n", names[how], got, now_s() - t0);
        CHECK(got == TOTAL);
        close(s);
    }
    close(l);
    printf("exit_paths: ok\n");
    return 0;
}
