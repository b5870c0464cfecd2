/* usrbench: the benchmarks of sockbench.c over usrsctp (the userland SCTP
 * stack), for comparison with the shim. Same command line and result lines;
 * every process runs its own usrsctp stack, with UDP encapsulation (RFC
 * 6951) on its own UDP port (-u), and sends to the peer's UDP port (-r,
 * SCTP_REMOTE_UDP_ENCAPS_PORT on each client socket; the server learns the
 * client's port from its packets). Both ends must be usrsctp.
 *
 *   usrbench server|client MODE -a ADDR -p PORT -u LOCAL_UDP [-r REMOTE_UDP]
 *            [-s SIZE] [-T SECONDS] [-n COUNT] [-k ACTIVE] [-m PID]
 *            [-w WORKERS] [-B BASEPORT]
 *
 * Modes (see sockbench.c): bulk and msgrate (the server prints the goodput
 * it received), pingpong (the client prints p50/p99 round trips),
 * handshake (the client prints handshakes per second), many (COUNT
 * one-to-one client sockets from WORKERS processes, each its own stack on
 * UDP port LOCAL_UDP + 1 + i, against one one-to-many server socket; the
 * client samples the server's RSS, -m, and prints the server's rates).
 * "-P" is accepted and ignored (always SCTP). Built with -lusrsctp. */
#include "benchcommon.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <usrsctp.h>

/* Declared by usrsctp.h only under SCTP_DEBUG; Debian's library has it
 * (weak: a library built without debugging lacks it). */
__attribute__((weak)) void usrsctp_sysctl_set_sctp_debug_on(uint32_t);

/* Starts this process's usrsctp stack on UDP port udp (no debug output:
 * Debian's library is built with debugging, which prints per packet). */
static void stack_init(int udp) {
    if (udp <= 0) {
        fprintf(stderr, "usrbench: -u LOCAL_UDP is needed\n");
        exit(2);
    }
    usrsctp_init((uint16_t)udp, NULL, NULL);
    if (usrsctp_sysctl_set_sctp_debug_on) usrsctp_sysctl_set_sctp_debug_on(0);
}

/* Waits (at most max_s) for the stack to finish its associations: data
 * still queued when a socket is closed is sent, then SHUTDOWN. */
static void stack_finish(double max_s) {
    double end = now_s() + max_s;
    while (usrsctp_finish() != 0 && now_s() < end) usleep(10000);
}

static struct sockaddr_in server_addr(void) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)o.port);
    if (inet_pton(AF_INET, o.addr, &a.sin_addr) != 1) {
        fprintf(stderr, "usrbench: bad address %s\n", o.addr);
        exit(2);
    }
    return a;
}

static struct socket *mksock(int type) {
    struct socket *s = usrsctp_socket(AF_INET, type, IPPROTO_SCTP, NULL, NULL, 0, NULL);
    if (!s) die("usrsctp_socket");
    return s;
}

static void nodelay(struct socket *s) {
    int one = 1;
    if (usrsctp_setsockopt(s, IPPROTO_SCTP, SCTP_NODELAY, &one, sizeof one) != 0) die("SCTP_NODELAY");
}

static struct socket *listener(int type) {
    struct socket *s = mksock(type);
    struct sockaddr_in a = server_addr();
    if (usrsctp_bind(s, (struct sockaddr *)&a, sizeof a) != 0) die("bind");
    if (usrsctp_listen(s, 4096) != 0) die("listen");
    return s;
}

/* Connects to the server (from local port lport when not 0), through the
 * peer's UDP port. */
static struct socket *dial_from(int lport) {
    struct socket *s = mksock(SOCK_STREAM);
    struct sctp_udpencaps enc;
    memset(&enc, 0, sizeof enc);
    enc.sue_address.ss_family = AF_INET;
    enc.sue_port = htons((uint16_t)(o.udp_remote ? o.udp_remote : o.port));
    if (usrsctp_setsockopt(s, IPPROTO_SCTP, SCTP_REMOTE_UDP_ENCAPS_PORT, &enc, sizeof enc) != 0)
        die("SCTP_REMOTE_UDP_ENCAPS_PORT");
    if (lport > 0) {
        struct sockaddr_in b;
        memset(&b, 0, sizeof b);
        b.sin_family = AF_INET;
        b.sin_port = htons((uint16_t)lport);
        if (usrsctp_bind(s, (struct sockaddr *)&b, sizeof b) != 0) {
            usrsctp_close(s);
            return NULL;
        }
    }
    struct sockaddr_in a = server_addr();
    if (usrsctp_connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
        usrsctp_close(s);
        return NULL;
    }
    return s;
}

static struct socket *dial(void) { return dial_from(0); }

/* The first connection of a client: a refused one (the server is still
 * starting) is retried for up to 5 s. */
static struct socket *dial_first(int lport) {
    double end = now_s() + 5;
    for (;;) {
        struct socket *s = dial_from(lport);
        if (s || errno != ECONNREFUSED || now_s() > end) return s;
        usleep(100000);
    }
}

static int send_all(struct socket *s, const char *b, size_t n) {
    while (n > 0) {
        ssize_t r = usrsctp_sendv(s, b, n, NULL, 0, NULL, 0, SCTP_SENDV_NOINFO, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

static ssize_t recv1(struct socket *s, char *b, size_t n) {
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    int flags = 0;
    unsigned int it = 0;
    struct sctp_rcvinfo ri; /* usrsctp wants somewhere to put it */
    socklen_t il = sizeof ri;
    ssize_t r;
    do r = usrsctp_recvv(s, b, n, (struct sockaddr *)&from, &fl, &ri, &il, &it, &flags);
    while (r < 0 && errno == EINTR);
    return r;
}

/* Reads exactly n bytes (a message may come in pieces). */
static size_t recv_full(struct socket *s, char *b, size_t n) {
    size_t done = 0;
    while (done < n) {
        ssize_t r = recv1(s, b + done, n - done);
        if (r <= 0) break;
        done += (size_t)r;
    }
    return done;
}

static struct socket *accept_one(struct socket *l) {
    for (;;) {
        struct socket *c = usrsctp_accept(l, NULL, NULL);
        if (c) return c;
        if (errno != EINTR && errno != ECONNABORTED) die("accept");
    }
}

/* bulk and msgrate, receiving side: goodput from accept to the last byte. */
static void server_stream(int msgs) {
    stack_init(o.udp_local);
    struct socket *l = listener(SOCK_STREAM);
    struct socket *c = accept_one(l);
    rx.msgs = msgs;
    rx.t0 = rx.t1 = now_s();
    rx.started = 1;
    signal(SIGALRM, stream_alarm);
    if (msgs) nodelay(c);
    static char buf[256 * 1024];
    for (;;) {
        ssize_t r = recv1(c, buf, sizeof buf);
        if (r <= 0) {
            if (r < 0) fprintf(stderr, "usrbench server %s: recv: %s (after %lld bytes)\n", o.mode, strerror(errno), rx.total);
            break;
        }
        rx.total += r;
        rx.t1 = now_s();
    }
    stream_result();
    usrsctp_close(c);
    usrsctp_close(l);
    stack_finish(1);
}

static void client_stream(int msgs) {
    stack_init(o.udp_local);
    struct socket *s = dial_first(0);
    if (!s) die("connect");
    if (msgs) nodelay(s);
    char *buf = calloc(1, o.size);
    double end = now_s() + o.secs;
    long long sent = 0;
    while (now_s() < end) {
        if (send_all(s, buf, o.size) < 0) {
            fprintf(stderr, "usrbench client %s: send: %s\n", o.mode, strerror(errno));
            break;
        }
        sent += (long long)o.size;
    }
    usrsctp_close(s);
    printf("sent bytes=%lld\n", sent);
    stack_finish(60); /* what is queued still goes out */
}

static void server_pingpong(void) {
    stack_init(o.udp_local);
    struct socket *l = listener(SOCK_STREAM);
    struct socket *c = accept_one(l);
    nodelay(c);
    char *buf = calloc(1, o.size);
    while (recv_full(c, buf, o.size) == o.size)
        if (send_all(c, buf, o.size) < 0) break;
    usrsctp_close(c);
    usrsctp_close(l);
    stack_finish(1);
}

static void client_pingpong(void) {
    stack_init(o.udp_local);
    struct socket *s = dial_first(0);
    if (!s) die("connect");
    nodelay(s);
    char *buf = calloc(1, o.size);
    struct samples sm = {0};
    for (int i = 0; i < 100; i++) /* warm-up, not counted */
        if (send_all(s, buf, o.size) < 0 || recv_full(s, buf, o.size) != o.size) die("warm-up");
    double end = now_s() + o.secs;
    for (;;) {
        double t0 = now_s();
        if (t0 >= end) break;
        if (send_all(s, buf, o.size) < 0) die("send");
        if (recv_full(s, buf, o.size) != o.size) die("recv");
        sample_add(&sm, now_s() - t0);
    }
    usrsctp_close(s);
    print_latency(&sm);
    stack_finish(2);
}

/* usrsctp 0.9.5 can free a socket twice when usrsctp_close() runs while
 * its association is ending (the receive thread frees it too: seen here as
 * "double free" aborts, usrsctp issues #383, #676, #709). The handshake
 * loop therefore closes each socket only once its association is surely
 * over: 200 ms later (loopback round trips are microseconds), the client
 * starting the graceful shutdown with shutdown(SHUT_WR) at once. */
#define LATER 4096
struct later {
    struct socket *s[LATER];
    double t[LATER];
    unsigned head, tail;
};

static void close_later(struct later *l, struct socket *s, double t) {
    if (l->tail - l->head == LATER) { /* full: wait for the oldest */
        double wait = l->t[l->head % LATER] + 0.2 - now_s();
        if (wait > 0) usleep((useconds_t)(wait * 1e6));
        usrsctp_close(l->s[l->head++ % LATER]);
    }
    l->s[l->tail % LATER] = s;
    l->t[l->tail++ % LATER] = t;
    while (l->head != l->tail && l->t[l->head % LATER] + 0.2 < t) usrsctp_close(l->s[l->head++ % LATER]);
}

static void close_all_later(struct later *l) {
    usleep(200000);
    while (l->head != l->tail) usrsctp_close(l->s[l->head++ % LATER]);
}

static void server_handshake(void) {
    stack_init(o.udp_local);
    struct socket *l = listener(SOCK_STREAM);
    char *buf = calloc(1, o.size + 1);
    static struct later lt;
    long n = 0;
    for (;;) {
        struct socket *c = accept_one(l);
        ssize_t r = recv1(c, buf, o.size);
        if (r > 0) /* the client's SHUTDOWN: EOF */
            while (recv1(c, buf + 1, o.size) > 0) {}
        usrsctp_close(c);
        if (r > 0 && buf[0] == 'q') break;
        n++;
    }
    printf("server handshakes=%ld\n", n);
    close_all_later(&lt);
    usrsctp_close(l);
    stack_finish(1);
}

static void client_handshake(void) {
    stack_init(o.udp_local);
    char *buf = calloc(1, o.size);
    memset(buf, 'm', o.size);
    static struct later lt;
    long n = 0, fails = 0;
    struct socket *w = dial_first(0); /* warm-up (and waits for the server) */
    if (!w || send_all(w, buf, o.size) < 0) die("connect (warm-up)");
    usrsctp_shutdown(w, SHUT_WR);
    close_later(&lt, w, now_s());
    double t0 = now_s(), end = t0 + o.secs, t1;
    while ((t1 = now_s()) < end) {
        struct socket *s = dial();
        if (!s || (nodelay(s), send_all(s, buf, o.size) < 0)) {
            if (++fails > 100) die("connect/send (100 failures)");
            if (s) close_later(&lt, s, t1);
            continue;
        }
        usrsctp_shutdown(s, SHUT_WR); /* the close, but for the descriptor */
        close_later(&lt, s, t1);
        n++;
    }
    printf("result hs_per_s=%.0f handshakes=%ld failures=%ld\n", (double)n / (t1 - t0), n, fails);
    fflush(stdout);
    struct socket *s = dial(); /* stop the server */
    if (s) {
        buf[0] = 'q';
        send_all(s, buf, o.size);
        usrsctp_shutdown(s, SHUT_WR);
        close_later(&lt, s, now_s());
    }
    close_all_later(&lt);
    stack_finish(2);
}

/* many, server: one one-to-many socket carries every association. */
static void server_many(void) {
    stack_init(o.udp_local);
    struct socket *s = listener(SOCK_SEQPACKET);
    int one = 1;
    usrsctp_setsockopt(s, IPPROTO_SCTP, SCTP_RECVRCVINFO, &one, sizeof one);
    char *buf = malloc(65536);
    for (;;) {
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        struct sctp_rcvinfo ri;
        socklen_t il = sizeof ri;
        unsigned int it = 0;
        int flags = 0;
        memset(&ri, 0, sizeof ri);
        ssize_t r = usrsctp_recvv(s, buf, 65536, (struct sockaddr *)&from, &fl, &ri, &il, &it, &flags);
        if (r < 0) {
            if (errno == EINTR) continue;
            die("recvv");
        }
        if (r == 0 || (flags & MSG_NOTIFICATION)) continue;
        if (buf[0] == 'Q' || buf[0] == 'S') { /* status; 'Q' also ends */
            char txt[256];
            uint32_t k = 0;
            socklen_t kl = sizeof k;
            usrsctp_getsockopt(s, IPPROTO_SCTP, SCTP_GET_ASSOC_NUMBER, &k, &kl);
            int n = stats_text(txt, sizeof txt, (long)k);
            struct sctp_sndinfo si;
            memset(&si, 0, sizeof si);
            si.snd_assoc_id = ri.rcv_assoc_id;
            if (usrsctp_sendv(s, txt, (size_t)n, NULL, 0, &si, sizeof si, SCTP_SENDV_SNDINFO, 0) < 0) die("sendv");
            if (buf[0] == 'Q') break;
            continue;
        }
        count_msg(buf[0]);
    }
    sleep(1); /* let the answer go out */
    _exit(0); /* 10,000 associations: no orderly teardown */
}

/* many, one client process with its own stack: connections [lo, hi). */
static void many_worker(int idx, long lo, long hi, int cmd, int up) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    stack_init(o.udp_local + 1 + idx);
    long m = hi - lo;
    struct socket **fd = calloc((size_t)m, sizeof *fd);
    for (long i = 0; i < m; i++) {
        fd[i] = dial_first(o.bindbase ? o.bindbase + (int)(lo + i) : 0);
        if (!fd[i]) {
            fprintf(stderr, "usrbench client many: connect %ld of %ld: %s\n", lo + i, o.count, strerror(errno));
            _exit(1);
        }
        nodelay(fd[i]);
    }
    if (write(up, "c", 1) != 1) _exit(1);
    char *msg = calloc(1, o.size);
    char c;
    while (read(cmd, &c, 1) == 1 && c != 'X') {
        long n = c == 'F' ? (o.active > lo ? (o.active < hi ? o.active : hi) - lo : 0) : m;
        long sent = 0;
        msg[0] = c;
        double end = now_s() + o.secs;
        if (c == 'W') {
            for (long i = 0; i < m; i++)
                for (int k = 0; k < WARM_MSGS; k++, sent++)
                    if (send_all(fd[i], msg, o.size) < 0) {
                        fprintf(stderr, "usrbench client many: send: %s\n", strerror(errno));
                        _exit(1);
                    }
        } else if (n > 0)
            for (long i = 0; now_s() < end; i = (i + 1) % n) {
                if (send_all(fd[i], msg, o.size) < 0) {
                    fprintf(stderr, "usrbench client many: send: %s\n", strerror(errno));
                    _exit(1);
                }
                sent++;
            }
        else
            usleep((useconds_t)(o.secs * 1e6));
        if (write(up, &sent, sizeof sent) != (ssize_t)sizeof sent) _exit(1);
    }
    _exit(0);
}

static void ask(struct socket *ctl, char tag, char *ans, size_t len) {
    char *q = calloc(1, o.size);
    q[0] = tag;
    if (send_all(ctl, q, o.size) < 0) die("send on the control connection");
    free(q);
    ssize_t r = recv1(ctl, ans, len - 1);
    if (r <= 0) die("recv the answer");
    ans[r] = 0;
    if (ans[r - 1] == '\n') ans[r - 1] = 0;
}

static double drain(struct socket *ctl, const char *key, long sent) {
    double t0 = now_s(), moved = t0;
    long last = -1;
    for (;;) {
        char ans[256];
        ask(ctl, 'S', ans, sizeof ans);
        long got = ans_field(ans, key);
        double t = now_s();
        if (got >= sent || got < 0) return t - t0;
        if (got != last) moved = t;
        last = got;
        if (t - moved > 3 || t - t0 > 30) {
            fprintf(stderr, "usrbench client many: %s: %ld of %ld arrived, gave up waiting\n", key, got, sent);
            return t - t0;
        }
        usleep(100000);
    }
}

static void client_many(void) {
    int w = o.workers > 0 ? o.workers : (int)((o.count + 2499) / 2500);
    long per = (o.count + w - 1) / w;
    long base = rss_kib(o.mempid);
    int up[2];
    if (pipe(up) != 0) die("pipe");
    int *cmd = calloc((size_t)w, sizeof *cmd);
    pid_t *pids = calloc((size_t)w, sizeof *pids);
    double t0 = now_s();
    /* Workers are forked before this process starts a stack (usrsctp's
     * threads do not survive fork). */
    for (int i = 0; i < w; i++) {
        int p[2];
        if (pipe(p) != 0) die("pipe");
        long lo = i * per, hi = lo + per < o.count ? lo + per : o.count;
        pids[i] = fork();
        if (pids[i] < 0) die("fork");
        if (pids[i] == 0) {
            close(p[1]);
            close(up[0]);
            many_worker(i, lo, hi, p[0], up[1]);
        }
        close(p[0]);
        cmd[i] = p[1];
    }
    close(up[1]);
    char c;
    for (int i = 0; i < w; i++)
        if (read(up[0], &c, 1) != 1) {
            fprintf(stderr, "usrbench client many: a worker failed while connecting\n");
            exit(1);
        }
    double setup = now_s() - t0;
    fprintf(stderr, "usrbench client many: %ld connected in %.1f s\n", o.count, setup);
    usleep(500000);
    long est = rss_kib(o.mempid);
    stack_init(o.udp_local);
    struct socket *ctl = dial_from(o.bindbase ? o.bindbase + (int)o.count : 0);
    if (!ctl) die("connect (control)");
    nodelay(ctl);
    /* 'W' (every association sends a few messages, not measured) first:
     * the rates measure associations past their first messages. */
    long sent[3] = {0, 0, 0}, after = -1;
    const char phases[3] = {'W', 'F', 'A'};
    const char *keys[3] = {"msgs_warm", "msgs_few", "msgs_all"};
    for (int ph = 0; ph < 3; ph++) {
        for (int i = 0; i < w; i++)
            if (write(cmd[i], &phases[ph], 1) != 1) die("pipe write");
        for (int i = 0; i < w; i++) {
            long k;
            if (read(up[0], &k, sizeof k) != (ssize_t)sizeof k) {
                fprintf(stderr, "usrbench client many: a worker failed in phase %c\n", phases[ph]);
                exit(1);
            }
            sent[ph] += k;
        }
        double d = drain(ctl, keys[ph], sent[ph]);
        fprintf(stderr, "usrbench client many: phase %c: %ld sent, drained %.1f s later\n", phases[ph], sent[ph], d);
        if (ph == 2) after = rss_kib(o.mempid);
    }
    char ans[256];
    ask(ctl, 'Q', ans, sizeof ans);
    for (int i = 0; i < w; i++) {
        write(cmd[i], "X", 1);
        waitpid(pids[i], NULL, 0);
    }
    printf("result assocs=%ld workers=%d setup_s=%.2f sent_few=%ld sent_all=%ld", o.count, w, setup, sent[1], sent[2]);
    if (base >= 0 && est >= 0)
        printf(" rss_base_kib=%ld rss_kib=%ld rss_after_kib=%ld kib_per_assoc=%.2f", base, est, after,
               (double)(est - base) / (double)o.count);
    printf(" %s\n", ans);
    fflush(stdout);
    _exit(0); /* the server is gone: no orderly teardown */
}

int main(int argc, char **argv) {
    prog = "usrbench";
    parse_args(argc, argv);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (o.udp_local <= 0) o.udp_local = o.server ? o.port : o.port + 1;
    const char *m = o.mode;
    if (strcmp(m, "bulk") == 0) o.server ? server_stream(0) : client_stream(0);
    else if (strcmp(m, "msgrate") == 0) o.server ? server_stream(1) : client_stream(1);
    else if (strcmp(m, "pingpong") == 0) o.server ? server_pingpong() : client_pingpong();
    else if (strcmp(m, "handshake") == 0) o.server ? server_handshake() : client_handshake();
    else if (o.server) server_many();
    else client_many();
    _exit(0); /* the stack's threads may still run */
}
