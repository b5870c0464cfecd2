/* Resource limits with many associations (issue 6):
 *  - N associations (1,000; MANY_ASSOCS in make soak) each push data at
 *    a one-to-many server that never reads. The associations share the
 *    socket's receive buffer (SO_RCVBUF), as with Linux's default
 *    rcvbuf_policy, so the server's memory stays bounded: it must not grow
 *    between the first rounds and the last, and must stay far below one
 *    buffer per association. The senders block (EAGAIN), not the server.
 *  - The server's endpoint takes at most N associations
 *    (SCTPSHIM_MAX_ASSOCS): one more is refused (SCTP_CANT_STR_ASSOC).
 *  - Then the server reads: the closed windows open again and every
 *    byte the clients' sends took arrives (each association may hold
 *    part of a message when the shared window closes: the rest must
 *    still be taken, or that space is never freed).
 * The clients run in processes of 1,000 sockets each. */
#include "common.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

static long rss_kib(pid_t pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kib) == 1) break;
    fclose(f);
    return kib;
}

/* The process whose memory holds the server's associations: the shared
 * engine (sctpshimd, its pid from `sctpshim stat` beside the preloaded
 * library), or with SCTPSHIM_ENGINE=thread the server process itself. */
static pid_t engine_pid(pid_t srv) {
    const char *e = getenv("SCTPSHIM_ENGINE");
    const char *lib = getenv("LD_PRELOAD");
    if ((e && strcmp(e, "thread") == 0) || !lib) return srv;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "%s", lib);
    char *slash = strrchr(cmd, '/');
    CHECK(slash != NULL);
    snprintf(slash, sizeof cmd - (size_t)(slash - cmd), "/sctpshim stat");
    FILE *f = popen(cmd, "r");
    CHECK(f != NULL);
    char line[256];
    int pid = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "sctpshimd pid %d", &pid) == 1) break;
    pclose(f);
    CHECK(pid > 0);
    return (pid_t)pid;
}

/* Sends 4 KiB messages on every client until each would block. */
static long push_round(int *c, int n, const struct sockaddr_in *to) {
    static char msg[4096];
    long sent = 0;
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < 64; k++) {
            ssize_t r = sendto(c[i], msg, sizeof msg, 0, (const struct sockaddr *)to, sizeof *to);
            if (r < 0) {
                CHECK(errno == EAGAIN || errno == EWOULDBLOCK);
                break;
            }
            sent += r;
        }
    }
    return sent;
}

/* What a client process reports. */
struct tally {
    long sent;
    long assocs;
};

/* A client process: m one-to-many sockets, one association each. Rounds
 * 0-3, then "a" up and wait for the go byte (the parent samples the
 * server's memory), rounds 4-11, then its tally up; it keeps its
 * associations until killed. */
static void clients(int m, const struct sockaddr_in *to, int up, int go) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int *c = calloc((size_t)m, sizeof *c);
    CHECK(c != NULL);
    for (int i = 0; i < m; i++) {
        c[i] = socket(AF_INET, SOCK_SEQPACKET | SOCK_NONBLOCK, IPPROTO_SCTP);
        CHECK(c[i] >= 0);
        int sb = 8 * 1024;
        CHECK(setsockopt(c[i], SOL_SOCKET, SO_SNDBUF, &sb, sizeof sb) == 0);
    }
    struct tally t = {0, 0};
    char b;
    for (int r = 0; r < 12; r++) {
        if (r == 4) {
            CHECK(write(up, "a", 1) == 1);
            CHECK(read(go, &b, 1) == 1);
        }
        t.sent += push_round(c, m, to);
        usleep(200000);
    }
    for (int i = 0; i < m; i++) {
        uint32_t k = 0;
        socklen_t l = sizeof k;
        CHECK(getsockopt(c[i], IPPROTO_SCTP, SCTP_GET_ASSOC_NUMBER, &k, &l) == 0);
        t.assocs += k;
    }
    CHECK(write(up, &t, sizeof t) == (ssize_t)sizeof t);
    for (;;) pause();
}

int main(void) {
    /* MANY_ASSOCS sets the count (make soak); 1,000 by default. */
    int n = getenv("MANY_ASSOCS") ? atoi(getenv("MANY_ASSOCS")) : 1000;
    CHECK(n > 0);
    /* Clients are spread over processes of at most 1,000 sockets each
     * (about four descriptors per socket), so that RLIMIT_NOFILE of each
     * stays small. */
    int per = 1000, k = (n + per - 1) / per;
    struct rlimit rl;
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    rlim_t want = (rlim_t)(4 * per + 256);
    if (rl.rlim_cur < want) {
        rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
        CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    }
    if (rl.rlim_cur < want) {
        printf("many_assocs: skipped (RLIMIT_NOFILE %ld < %ld)\n", (long)rl.rlim_cur, (long)want);
        return 0;
    }
    uint16_t port = free_ports(1);
    int ready[2], ask[2];
    CHECK(pipe(ready) == 0 && pipe(ask) == 0);
    pid_t srv = fork();
    CHECK(srv >= 0);
    if (srv == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a failed test */
        char cap[16];
        snprintf(cap, sizeof cap, "%d", n);
        setenv("SCTPSHIM_MAX_ASSOCS", cap, 1);
        int s = listen_on(SOCK_SEQPACKET, port, 128 * 1024, 4096);
        CHECK(write(ready[1], "r", 1) == 1);
        /* Does not read the socket until told to ("d" and a byte count);
         * answers how many associations it has ("?"). */
        char q;
        while (read(ask[0], &q, 1) == 1) {
            if (q == 'd') {
                long want, got = 0;
                CHECK(read(ask[0], &want, sizeof want) == (ssize_t)sizeof want);
                static char data[65536];
                double quiet = now_s();
                while (got < want && now_s() - quiet < 30) {
                    struct pollfd pf = {.fd = s, .events = POLLIN};
                    if (poll(&pf, 1, 1000) <= 0) continue;
                    struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
                    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
                    ssize_t r = recvmsg(s, &mh, MSG_DONTWAIT);
                    if (r > 0 && !(mh.msg_flags & MSG_NOTIFICATION)) {
                        got += r;
                        quiet = now_s();
                    }
                }
                CHECK(write(ready[1], &got, sizeof got) == (ssize_t)sizeof got);
                continue;
            }
            uint32_t k = 0;
            socklen_t l = sizeof k;
            CHECK(getsockopt(s, IPPROTO_SCTP, SCTP_GET_ASSOC_NUMBER, &k, &l) == 0);
            CHECK(write(ready[1], &k, sizeof k) == (ssize_t)sizeof k);
        }
        _exit(0);
    }
    char b;
    CHECK(read(ready[0], &b, 1) == 1);
    /* Under the shared engine it holds the clients' sockets too. */
    pid_t mem = engine_pid(srv);
    long base = rss_kib(mem);

    struct sockaddr_in to = loop4(port);
    int up[2], go[2];
    CHECK(pipe(up) == 0 && pipe(go) == 0);
    pid_t *w = calloc((size_t)k, sizeof *w);
    CHECK(w != NULL);
    double t0 = now_s();
    for (int i = 0; i < k; i++) {
        w[i] = fork();
        CHECK(w[i] >= 0);
        if (w[i] == 0) clients(i < k - 1 ? per : n - per * (k - 1), &to, up[1], go[0]);
    }
    close(up[1]); /* a client process that fails ends the reads below */
    close(go[0]);
    for (int i = 0; i < k; i++) CHECK(read(up[0], &b, 1) == 1 && b == 'a');
    long early = rss_kib(mem);
    for (int i = 0; i < k; i++) CHECK(write(go[1], "g", 1) == 1);
    long sent = 0, assocs = 0;
    for (int i = 0; i < k; i++) {
        struct tally t;
        CHECK(read(up[0], &t, sizeof t) == (ssize_t)sizeof t);
        sent += t.sent;
        assocs += t.assocs;
    }
    long late = rss_kib(mem);
    /* Every association came up and was counted. */
    printf("many_assocs: %d associations (%ld up) from %d processes, %ld KiB sent in %.1f s; engine RSS (pid %d) %ld -> %ld -> %ld KiB\n",
           n, assocs, k, sent / 1024, now_s() - t0, (int)mem, base, early, late);
    CHECK(assocs == n);
    /* Bounded: one shared 256 KiB buffer, not 256 KiB per association (that
     * would be 250 MiB for 1,000), and no growth once the windows closed. */
    long per_assoc_bound = 64; /* KiB of bookkeeping per association */
    CHECK(late - base < 64 * 1024 + per_assoc_bound * n);
    CHECK(late - early < 16 * 1024 + 8 * n);
    /* The senders were held back: at most the shared buffer and each
     * client's own send buffer are ever taken. */
    CHECK(sent < (long)n * 64 * 1024);

    /* The server holds them all, */
    uint32_t held = 0;
    CHECK(write(ask[1], "?", 1) == 1);
    CHECK(read(ready[0], &held, sizeof held) == (ssize_t)sizeof held);
    printf("many_assocs: the server holds %u associations\n", held);
    CHECK(held == (uint32_t)n);
    /* and one association past the cap is refused. */
    int extra = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
    struct sctp_event_subscribe ev = {0};
    ev.sctp_association_event = 1;
    CHECK(setsockopt(extra, IPPROTO_SCTP, SCTP_EVENTS, &ev, sizeof ev) == 0);
    CHECK(sendto(extra, "x", 1, 0, (struct sockaddr *)&to, sizeof to) == 1);
    char buf[512];
    CHECK(wait_note(extra, SCTP_ASSOC_CHANGE, buf, sizeof buf, 30000) > 0);
    union sctp_notification *note = (union sctp_notification *)buf;
    if (note->sn_assoc_change.sac_state != SCTP_CANT_STR_ASSOC) fprintf(stderr, "state %d\n", note->sn_assoc_change.sac_state);
    CHECK(note->sn_assoc_change.sac_state == SCTP_CANT_STR_ASSOC);

    /* The server reads: everything the clients' sends took arrives. */
    {
        double t1 = now_s();
        long got = 0;
        CHECK(write(ask[1], "d", 1) == 1 && write(ask[1], &sent, sizeof sent) == (ssize_t)sizeof sent);
        CHECK(read(ready[0], &got, sizeof got) == (ssize_t)sizeof got);
        printf("many_assocs: the server read %ld of %ld KiB in %.1f s\n", got / 1024, sent / 1024, now_s() - t1);
        CHECK(got == sent);
    }

    for (int i = 0; i < k; i++) {
        kill(w[i], SIGKILL);
        waitpid(w[i], NULL, 0);
    }
    kill(srv, SIGKILL);
    waitpid(srv, NULL, 0);
    printf("many_assocs: ok\n");
    return 0;
}
