/* Kernel process semantics under the shared engine (issue 13):
 * - a listener whose creator exits right after forking (daemonizing)
 *   serves 100 clients from the child;
 * - four pre-forked children accepting on one inherited listener serve 400
 *   clients between them, each client answered exactly once;
 * - four forked workers reading one inherited one-to-many socket receive
 *   10,000 messages from 50 associations, each exactly once and whole with
 *   its sender's address, and answer each one;
 * - exit() right after queuing data the peer's window cannot take yet
 *   returns in under 100 ms, and the peer still receives every byte.
 * Under SCTPSHIM_ENGINE=thread (the in-process placement) these cannot hold
 * and the test says so and skips. */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/wait.h>

#include "common.h"

#define BASE 46400

static void write_all(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        CHECK(w > 0);
        c += w;
        n -= (size_t)w;
    }
}

/* A one-to-one client: sends `msg`, expects it back (an echo). */
static void echo_client(uint16_t port, const char *msg) {
    int c = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(c >= 0);
    struct sockaddr_in a = loop4(port);
    CHECK(connect(c, (struct sockaddr *)&a, sizeof a) == 0);
    write_all(c, msg, strlen(msg));
    char buf[256];
    CHECK(readable(c, 10000));
    ssize_t n = read(c, buf, sizeof buf);
    CHECK(n == (ssize_t)strlen(msg) && memcmp(buf, msg, n) == 0);
    close(c);
}

/* Accepts and echoes one message per client, `count` clients (or forever). */
static void echo_server(int l, int count, int tally) {
    for (int i = 0; count < 0 || i < count; i++) {
        int a = accept(l, NULL, NULL);
        if (a < 0 && errno == EINTR) continue;
        CHECK(a >= 0);
        char buf[256];
        ssize_t n = read(a, buf, sizeof buf);
        CHECK(n > 0);
        write_all(a, buf, (size_t)n);
        if (tally >= 0) CHECK(write(tally, "x", 1) == 1);
        /* Wait for the client to finish before closing (no unread data). */
        readable(a, 5000);
        close(a);
    }
}

static void daemonized_listener(void) {
    fflush(stdout);
    uint16_t port = BASE;
    pid_t starter = fork();
    CHECK(starter >= 0);
    if (starter == 0) {
        int l = listen_on(SOCK_STREAM, port, 0, 128);
        pid_t d = fork();
        if (d < 0) _exit(1);
        if (d > 0) _exit(0); /* the creator exits: the child is the server */
        setsid();
        echo_server(l, 100, -1);
        _exit(0);
    }
    int st;
    CHECK(waitpid(starter, &st, 0) == starter && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    usleep(100 * 1000);
    for (int i = 0; i < 100; i++) {
        char msg[64];
        snprintf(msg, sizeof msg, "daemonized %d", i);
        echo_client(port, msg);
    }
    printf("daemonized listener: 100 clients served\n");
}

static void preforked_acceptors(void) {
    fflush(stdout);
    uint16_t port = BASE + 1;
    int l = listen_on(SOCK_STREAM, port, 0, 128);
    int tally[2];
    CHECK(pipe(tally) == 0);
    pid_t kids[4];
    for (int k = 0; k < 4; k++) {
        kids[k] = fork();
        CHECK(kids[k] >= 0);
        if (kids[k] == 0) {
            close(tally[0]);
            echo_server(l, -1, tally[1]);
            _exit(0);
        }
    }
    close(l);
    close(tally[1]);
    for (int i = 0; i < 400; i++) {
        char msg[64];
        snprintf(msg, sizeof msg, "prefork %d", i);
        echo_client(port, msg);
    }
    /* Each client was answered once: 400 accepts in all. */
    int total = 0;
    char buf[512];
    while (total < 400 && readable(tally[0], 5000)) {
        ssize_t n = read(tally[0], buf, sizeof buf);
        CHECK(n > 0);
        total += (int)n;
    }
    for (int k = 0; k < 4; k++) kill(kids[k], SIGTERM);
    for (int k = 0; k < 4; k++) waitpid(kids[k], NULL, 0);
    close(tally[0]);
    CHECK(total == 400);
    printf("pre-forked acceptors: 400 clients, each answered once\n");
}

#define ASSOCS 50
#define PER_ASSOC 200
#define WORKERS 4

/* One message: "c<client> m<seq>" padded with its own checksum byte. */
static void workers_on_one_to_many(void) {
    fflush(stdout);
    uint16_t port = BASE + 2;
    int srv = listen_on(SOCK_SEQPACKET, port, 1 << 20, 128);
    struct sctp_event_subscribe ev = {0};
    ev.sctp_data_io_event = 1;
    CHECK(setsockopt(srv, IPPROTO_SCTP, SCTP_EVENTS, &ev, sizeof ev) == 0);
    int seen[2];
    CHECK(pipe(seen) == 0);
    pid_t kids[WORKERS];
    for (int k = 0; k < WORKERS; k++) {
        kids[k] = fork();
        CHECK(kids[k] >= 0);
        if (kids[k] == 0) {
            close(seen[0]);
            char buf[512];
            for (;;) {
                struct got g;
                ssize_t n = recv_got(srv, buf, sizeof buf, 0, &g);
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0) _exit(2);
                if (g.flags & MSG_NOTIFICATION) continue;
                if (!(g.flags & MSG_EOR) || g.fromlen == 0 || !g.has_sndrcv) _exit(3);
                int c, m;
                if (sscanf(buf, "c%d m%d", &c, &m) != 2) _exit(4);
                /* Whole: the message carries its own length at the end. */
                if ((size_t)n != strlen(buf) + 1) _exit(5);
                uint32_t rec = (uint32_t)(c * PER_ASSOC + m);
                if (write(seen[1], &rec, 4) != 4) _exit(6);
                /* Answer on the association it came from. */
                struct sctp_sndinfo si = {0};
                si.snd_assoc_id = g.sndrcv.sinfo_assoc_id;
                if (send_info(srv, NULL, 0, buf, (size_t)n, &si, NULL, 0) != n) _exit(7);
            }
        }
    }
    close(seen[1]);
    int cl[ASSOCS];
    struct sockaddr_in to = loop4(port);
    for (int c = 0; c < ASSOCS; c++) {
        cl[c] = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
        CHECK(cl[c] >= 0);
        CHECK(connect(cl[c], (struct sockaddr *)&to, sizeof to) == 0);
    }
    static unsigned char got[ASSOCS * PER_ASSOC];
    int answers = 0, records = 0;
    for (int m = 0; m < PER_ASSOC; m++) {
        for (int c = 0; c < ASSOCS; c++) {
            char msg[64];
            int n = snprintf(msg, sizeof msg, "c%d m%d", c, m);
            write_all(cl[c], msg, (size_t)n + 1);
        }
        for (int c = 0; c < ASSOCS; c++) {
            char buf[64];
            CHECK(readable(cl[c], 10000));
            ssize_t n = read(cl[c], buf, sizeof buf);
            int rc, rm;
            CHECK(n > 0 && sscanf(buf, "c%d m%d", &rc, &rm) == 2 && rc == c && rm == m);
            answers++;
        }
    }
    while (records < ASSOCS * PER_ASSOC && readable(seen[0], 5000)) {
        uint32_t recs[256];
        ssize_t n = read(seen[0], recs, sizeof recs);
        CHECK(n > 0 && n % 4 == 0);
        for (int i = 0; i < n / 4; i++) {
            CHECK(recs[i] < ASSOCS * PER_ASSOC && got[recs[i]] == 0);
            got[recs[i]] = 1;
            records++;
        }
    }
    CHECK(records == ASSOCS * PER_ASSOC && answers == ASSOCS * PER_ASSOC);
    for (int c = 0; c < ASSOCS; c++) close(cl[c]);
    for (int k = 0; k < WORKERS; k++) {
        int st = 0;
        /* A worker that stopped early says why in its exit status. */
        if (waitpid(kids[k], &st, WNOHANG) == kids[k]) {
            fprintf(stderr, "worker %d ended early (status %d)\n", k, WEXITSTATUS(st));
            exit(1);
        }
    }
    for (int k = 0; k < WORKERS; k++) kill(kids[k], SIGTERM);
    for (int k = 0; k < WORKERS; k++) waitpid(kids[k], NULL, 0);
    close(seen[0]);
    close(srv);
    printf("forked workers on one one-to-many socket: %d messages, each once and whole, all answered\n",
           records);
}

static char pattern(size_t i) { return (char)(i * 7 + i / 4096); }

static void exit_returns_at_once(void) {
    fflush(stdout);
    uint16_t port = BASE + 3;
    /* A small receive buffer: the peer's window closes long before the
     * sender is done, so most of the data is still queued at exit. */
    int l = listen_on(SOCK_STREAM, port, 32768, 8);
    int timing[2];
    CHECK(pipe(timing) == 0);
    pid_t p = fork();
    CHECK(p >= 0);
    if (p == 0) {
        int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_SCTP);
        struct sockaddr_in a = loop4(port);
        if (c < 0) _exit(2);
        if (connect(c, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS) _exit(2);
        struct pollfd pf = {c, POLLOUT, 0};
        if (poll(&pf, 1, 5000) != 1) _exit(2);
        long filled = fill_until_full(c, 5, pattern);
        if (filled < 0) _exit(3);
        size_t total = (size_t)filled;
        double t0 = now_s();
        if (write(timing[1], &total, sizeof total) != sizeof total) _exit(4);
        if (write(timing[1], &t0, sizeof t0) != sizeof t0) _exit(4);
        exit(0);
    }
    close(timing[1]);
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    size_t total;
    double t0;
    CHECK(read(timing[0], &total, sizeof total) == sizeof total);
    CHECK(read(timing[0], &t0, sizeof t0) == sizeof t0);
    int st;
    CHECK(waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    double took = now_s() - t0;
    /* Only now does the peer start reading. */
    size_t have = 0;
    char in[65536];
    while (have < total) {
        CHECK(readable(s, 10000));
        ssize_t n = read(s, in, sizeof in);
        CHECK(n > 0);
        for (ssize_t i = 0; i < n; i++) CHECK(in[i] == pattern(have + (size_t)i));
        have += (size_t)n;
    }
    CHECK(total > 32768);
    close(s);
    close(l);
    close(timing[0]);
    if (took >= 0.1) {
        fprintf(stderr, "exit took %.3f s\n", took);
        exit(1);
    }
    printf("exit with %zu KiB queued beyond the peer's window: returned in %.1f ms, every byte delivered\n",
           total >> 10, took * 1000);
}

int main(void) {
    const char *e = getenv("SCTPSHIM_ENGINE");
    if (e && strcmp(e, "thread") == 0) {
        printf("processes: skipped (SCTPSHIM_ENGINE=thread: the engine lives in one process)\n");
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    daemonized_listener();
    preforked_acceptors();
    workers_on_one_to_many();
    exit_returns_at_once();
    printf("processes: ok\n");
    return 0;
}
