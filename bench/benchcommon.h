/* Shared by sockbench.c (plain socket API: kernel TCP, or SCTP under the
 * shim) and usrbench.c (usrsctp): command line, clocks, percentiles, RSS,
 * and the bookkeeping of the "many" mode. Header-only, static functions. */
#ifndef BENCHCOMMON_H
#define BENCHCOMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The command line: NAME server|client MODE -P tcp|sctp -a ADDR -p PORT
 * [-s SIZE] [-T SECONDS] [-n COUNT] [-k ACTIVE] [-m PID] [-w WORKERS] [-I]
 * [-B BASEPORT] [-u LOCAL_UDP] [-r REMOTE_UDP] */
struct opts {
    int server;        /* 1: server side, 0: client side */
    const char *mode;  /* bulk, msgrate, pingpong, handshake, many */
    int sctp;          /* -P sctp (sockbench); usrbench is always SCTP */
    const char *addr;  /* -a: server address (the server binds it) */
    int port;          /* -p: server port */
    size_t size;       /* -s: bytes per write / message */
    double secs;       /* -T: length of the timed part */
    long count;        /* -n: "many": associations (connections) */
    long active;       /* -k: "many": associations sending in the "few" phase */
    int mempid;        /* -m: "many": the process whose RSS holds the engine */
    int workers;       /* -w: "many": client processes */
    int spread;        /* -I N: "many", sockbench: client processes take shim
                          engines of their own, N processes to each
                          (SCTPSHIM_INSTANCE + ".wK", K = process / N) */
    int bindbase;      /* -B: "many", sockbench: connection i binds local port
                          BASE + i (shim engines each allocate SCTP ports of
                          their own: with -I two would collide) */
    int udp_local;     /* -u: usrbench: this process's UDP encapsulation port */
    int udp_remote;    /* -r: usrbench: the peer's UDP encapsulation port */
};

static struct opts o;
static const char *prog = "bench";

static void usage(void) {
    fprintf(stderr,
            "usage: %s server|client bulk|msgrate|pingpong|handshake|many -P tcp|sctp -a ADDR -p PORT\n"
            "          [-s SIZE] [-T SECONDS] [-n COUNT] [-k ACTIVE] [-m PID] [-w WORKERS]\n"
            "          [-I] [-B BASEPORT] [-u LOCAL_UDP] [-r REMOTE_UDP]\n",
            prog);
    exit(2);
}

static void die(const char *what) {
    fprintf(stderr, "%s %s %s: %s: %s\n", prog, o.server ? "server" : "client", o.mode, what,
            strerror(errno));
    exit(1);
}

static void parse_args(int argc, char **argv) {
    if (argc < 3) usage();
    if (strcmp(argv[1], "server") == 0) o.server = 1;
    else if (strcmp(argv[1], "client") == 0) o.server = 0;
    else usage();
    o.mode = argv[2];
    o.addr = "127.0.0.1";
    o.port = 0;
    o.size = 0;
    o.secs = 3;
    o.count = 10000;
    o.active = 10;
    o.sctp = 1;
    int c;
    optind = 3;
    while ((c = getopt(argc, argv, "P:a:p:s:T:n:k:m:w:u:r:I:B:")) != -1) {
        switch (c) {
        case 'P':
            if (strcmp(optarg, "tcp") == 0) o.sctp = 0;
            else if (strcmp(optarg, "sctp") == 0) o.sctp = 1;
            else usage();
            break;
        case 'a': o.addr = optarg; break;
        case 'p': o.port = atoi(optarg); break;
        case 's': o.size = (size_t)atol(optarg); break;
        case 'T': o.secs = atof(optarg); break;
        case 'n': o.count = atol(optarg); break;
        case 'k': o.active = atol(optarg); break;
        case 'm': o.mempid = atoi(optarg); break;
        case 'w': o.workers = atoi(optarg); break;
        case 'u': o.udp_local = atoi(optarg); break;
        case 'r': o.udp_remote = atoi(optarg); break;
        case 'I': o.spread = atoi(optarg); break;
        case 'B': o.bindbase = atoi(optarg); break;
        default: usage();
        }
    }
    if (o.port <= 0) usage();
    if (o.size == 0) { /* per-mode defaults */
        if (strcmp(o.mode, "bulk") == 0) o.size = 65536;
        else if (strcmp(o.mode, "pingpong") == 0) o.size = 64;
        else o.size = 100;
    }
    if (o.size < 1 || o.size > (1 << 20)) usage();
    if (strcmp(o.mode, "bulk") && strcmp(o.mode, "msgrate") && strcmp(o.mode, "pingpong") &&
        strcmp(o.mode, "handshake") && strcmp(o.mode, "many"))
        usage();
    signal(SIGPIPE, SIG_IGN);
    /* A server never outlives a lost client by much: SIGALRM ends it. */
    if (o.server) alarm((unsigned)o.secs + 120);
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Round-trip samples (seconds) of the ping-pong client. */
struct samples {
    double *v;
    size_t n, cap;
};

static void sample_add(struct samples *s, double x) {
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 65536;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        if (!s->v) die("realloc");
    }
    s->v[s->n++] = x;
}

static void print_latency(struct samples *s) {
    if (s->n == 0) {
        printf("result p50_us=- p99_us=- rtts=0\n");
        return;
    }
    qsort(s->v, s->n, sizeof *s->v, cmp_double);
    double p50 = s->v[s->n / 2], p99 = s->v[(s->n * 99) / 100];
    printf("result p50_us=%.1f p99_us=%.1f rtts=%zu\n", p50 * 1e6, p99 * 1e6, s->n);
}

/* bulk and msgrate, receiving side: what arrived so far. The result is
 * printed at EOF, or by SIGALRM (the server's watchdog) if EOF never comes. */
static struct {
    volatile long long total;
    volatile double t0, t1;
    int msgs, started;
} rx;

static void stream_result(void) {
    double el = rx.t1 - rx.t0;
    char line[200];
    int n;
    if (el <= 0) el = 1e-9;
    if (rx.msgs)
        n = snprintf(line, sizeof line, "result msgs_per_s=%.0f msgs=%lld secs=%.3f\n",
                     (double)rx.total / (double)o.size / el, rx.total / (long long)o.size, el);
    else
        n = snprintf(line, sizeof line, "result mbps=%.1f bytes=%lld secs=%.3f\n",
                     (double)rx.total * 8 / el / 1e6, rx.total, el);
    fflush(stdout);
    if (write(1, line, (size_t)n) < 0) {}
}

static void stream_alarm(int sig) {
    (void)sig;
    if (rx.started) {
        static const char m[] = "stream: no EOF before the watchdog: result so far\n";
        if (write(2, m, sizeof m - 1) < 0) {}
        stream_result();
    }
    _exit(1);
}

/* VmRSS of a process in KiB, -1 when unknown. */
static long rss_kib(int pid) {
    if (pid <= 0) return -1;
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kib) == 1) break;
    fclose(f);
    return kib;
}

/* "many" mode, server side: messages counted by the phase tag in their
 * first byte ('W': warm-up, not rated; 'F': few associations send, 'A': all of them send). The rate
 * of a phase is what arrived in the T seconds (-T, as the clients send)
 * from its first message on: the backlog that arrives later (recovered
 * losses, queues draining) is counted in msgs but not in the rate. */
struct phase {
    long msgs, inwin;
    double first, last;
};
static struct phase phase_few, phase_all, phase_warm;

/* Messages each association sends before the measured phases ('W'). */
#define WARM_MSGS 4

static void count_msg(char tag) {
    struct phase *p = tag == 'F' ? &phase_few : tag == 'A' ? &phase_all : tag == 'W' ? &phase_warm : NULL;
    if (!p) return;
    double t = now_s();
    if (p->msgs++ == 0) p->first = t;
    if (t - p->first <= o.secs) p->inwin++;
    p->last = t;
}

static double phase_rate(const struct phase *p) {
    double span = p->last - p->first < o.secs ? p->last - p->first : o.secs;
    return p->msgs > 1 && span > 0 ? (double)p->inwin / span : 0;
}

/* The server's answer to the client's 'S' (status) and 'Q' (status, then
 * the server ends) messages. */
static int stats_text(char *buf, size_t len, long assocs) {
    return snprintf(buf, len, "rate_few=%.0f rate_all=%.0f msgs_few=%ld msgs_all=%ld msgs_warm=%ld server_assocs=%ld\n",
                    phase_rate(&phase_few), phase_rate(&phase_all), phase_few.msgs, phase_all.msgs, phase_warm.msgs,
                    assocs);
}

/* The number after "key=" in an answer, -1 when absent. */
static long ans_field(const char *ans, const char *key) {
    size_t kl = strlen(key);
    for (const char *p = ans; (p = strstr(p, key)) != NULL; p += kl)
        if ((p == ans || p[-1] == ' ') && p[kl] == '=') return atol(p + kl + 1);
    return -1;
}

/* Raises RLIMIT_NOFILE as far as the hard limit allows; returns it. */
__attribute__((unused)) static long raise_nofile(long want) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
    if ((long)rl.rlim_cur < want) {
        rl.rlim_cur = (rlim_t)want < rl.rlim_max ? (rlim_t)want : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return (long)rl.rlim_cur;
}

#endif
