/* Resource limits with many associations (issue 6):
 *  - N associations (1,000; 10,000 with SCTPSHIM_SOAK=1) each push data at
 *    a one-to-many server that never reads. The associations share the
 *    socket's receive buffer (SO_RCVBUF), as with Linux's default
 *    rcvbuf_policy, so the server's memory stays bounded: it must not grow
 *    between the first rounds and the last, and must stay far below one
 *    buffer per association. The senders block (EAGAIN), not the server.
 *  - The server's endpoint takes at most N associations
 *    (SCTPSHIM_MAX_ASSOCS): one more is refused (SCTP_CANT_STR_ASSOC). */
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

int main(void) {
    int n = getenv("SCTPSHIM_SOAK") ? 10000 : 1000;
    struct rlimit rl;
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    rlim_t want = (rlim_t)(4 * n + 256);
    if (rl.rlim_cur < want) {
        rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
        CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    }
    if (rl.rlim_cur < want) {
        printf("many_assocs: skipped (RLIMIT_NOFILE %ld < %ld)\n", (long)rl.rlim_cur, (long)want);
        return 0;
    }
    uint16_t port = (uint16_t)(40000 + getpid() % 20000);
    int ready[2];
    CHECK(pipe(ready) == 0);
    pid_t srv = fork();
    CHECK(srv >= 0);
    if (srv == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a failed test */
        char cap[16];
        snprintf(cap, sizeof cap, "%d", n);
        setenv("SCTPSHIM_MAX_ASSOCS", cap, 1);
        int s = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
        CHECK(s >= 0);
        int rb = 128 * 1024;
        CHECK(setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rb, sizeof rb) == 0);
        struct sockaddr_in a = loop4(port);
        CHECK(bind(s, (struct sockaddr *)&a, sizeof a) == 0);
        CHECK(listen(s, 4096) == 0);
        CHECK(write(ready[1], "r", 1) == 1);
        for (;;) pause(); /* never reads */
    }
    char b;
    CHECK(read(ready[0], &b, 1) == 1);
    long base = rss_kib(srv);

    int *c = calloc((size_t)n, sizeof *c);
    CHECK(c != NULL);
    for (int i = 0; i < n; i++) {
        c[i] = socket(AF_INET, SOCK_SEQPACKET | SOCK_NONBLOCK, IPPROTO_SCTP);
        CHECK(c[i] >= 0);
        int sb = 8 * 1024;
        CHECK(setsockopt(c[i], SOL_SOCKET, SO_SNDBUF, &sb, sizeof sb) == 0);
    }
    struct sockaddr_in to = loop4(port);
    double t0 = now_s();
    long sent = 0, early = 0;
    int rounds = 12;
    for (int r = 0; r < rounds; r++) {
        sent += push_round(c, n, &to);
        usleep(200000);
        if (r == 3) early = rss_kib(srv);
    }
    long late = rss_kib(srv);
    /* Every association came up and was counted. */
    uint32_t assocs = 0;
    for (int i = 0; i < n; i++) {
        uint32_t k = 0;
        socklen_t l = sizeof k;
        CHECK(getsockopt(c[i], IPPROTO_SCTP, SCTP_GET_ASSOC_NUMBER, &k, &l) == 0);
        assocs += k;
    }
    printf("many_assocs: %d associations (%u up), %ld KiB sent in %.1f s; server RSS %ld -> %ld -> %ld KiB\n",
           n, assocs, sent / 1024, now_s() - t0, base, early, late);
    CHECK(assocs == (uint32_t)n);
    /* Bounded: one shared 256 KiB buffer, not 256 KiB per association (that
     * would be 250 MiB for 1,000), and no growth once the windows closed. */
    long per_assoc_bound = 64; /* KiB of bookkeeping per association */
    CHECK(late - base < 64 * 1024 + per_assoc_bound * n);
    CHECK(late - early < 16 * 1024 + 8 * n);
    /* The senders were held back: at most the shared buffer and each
     * client's own send buffer are ever taken. */
    CHECK(sent < (long)n * 64 * 1024);

    /* One association past the cap is refused. */
    int extra = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
    struct sctp_event_subscribe ev = {0};
    ev.sctp_association_event = 1;
    CHECK(setsockopt(extra, IPPROTO_SCTP, SCTP_EVENTS, &ev, sizeof ev) == 0);
    CHECK(sendto(extra, "x", 1, 0, (struct sockaddr *)&to, sizeof to) == 1);
    char buf[512];
    CHECK(wait_note(extra, SCTP_ASSOC_CHANGE, buf, sizeof buf, 5000) > 0);
    union sctp_notification *note = (union sctp_notification *)buf;
    if (note->sn_assoc_change.sac_state != SCTP_CANT_STR_ASSOC) fprintf(stderr, "state %d\n", note->sn_assoc_change.sac_state);
    CHECK(note->sn_assoc_change.sac_state == SCTP_CANT_STR_ASSOC);

    kill(srv, SIGKILL);
    waitpid(srv, NULL, 0);
    printf("many_assocs: ok\n");
    return 0;
}
