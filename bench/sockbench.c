/* sockbench: socket benchmarks written against the plain socket API only, so
 * that the same binary measures kernel TCP (-P tcp) and SCTP (-P sctp: under
 * the shim's LD_PRELOAD, or on a kernel with SCTP). Used by scripts/bench.sh.
 *
 *   sockbench server|client MODE -P tcp|sctp -a ADDR -p PORT [-s SIZE]
 *             [-T SECONDS] [-n COUNT] [-k ACTIVE] [-m PID] [-w WORKERS]
 *             [-I GROUP] [-B BASEPORT]
 *
 * Whichever side measures prints one line "result key=value ...":
 *   bulk       the client writes SIZE-byte buffers (default 64 KiB) for T
 *              seconds and closes; the server reads until EOF and prints the
 *              goodput it received: mbps = bytes * 8 / (last byte - accept).
 *   msgrate    the same with 100-byte messages and TCP_NODELAY/SCTP_NODELAY
 *              on both sides; the server prints messages received per second.
 *   pingpong   the client sends SIZE bytes (default 64), waits for the echo,
 *              repeats for T seconds (NODELAY on both sides); it prints the
 *              p50 and p99 of the round trips in microseconds.
 *   handshake  the client connects, sends one message, closes, repeats for T
 *              seconds and prints completed handshakes per second; the server
 *              accepts, reads the message, closes. A last connection carrying
 *              "q" stops the server.
 *   many       the server holds one socket: SCTP one-to-many (SOCK_SEQPACKET)
 *              or a TCP epoll loop. The client opens COUNT (10,000) one-to-one
 *              connections from WORKERS processes (fds per process are
 *              limited), samples the RSS of process PID (-m: the engine) before
 *              and after, then two phases of T seconds: the first ACTIVE (10)
 *              connections send 100-byte messages round-robin ('F'), then all
 *              of them do ('A'). The server counts messages by the phase tag
 *              in their first byte; after each phase the client waits until
 *              the server has them all (asking with 'S' on a control
 *              connection), so phases do not overlap; 'Q' gets the rates
 *              (what arrived in the T seconds from a phase's first message),
 *              which the client prints. Under the shim, -I GROUP gives the
 *              client processes engines of their own, GROUP processes to each
 *              (SCTPSHIM_INSTANCE + ".wK"; an engine holds two descriptors per
 *              socket, so its descriptor limit bounds its sockets), and
 *              -B binds connection i to local port BASEPORT + i (engines
 *              allocate SCTP ports independently: two could pick the same
 *              port, and the server would take the second INIT for a restart
 *              of the first association).
 * SCTP one-to-one sockets are socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP): one
 * write is one message, which the server's reads see whole. */
#include "benchcommon.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/sctp.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

static struct sockaddr_in server_addr(void) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)o.port);
    if (inet_pton(AF_INET, o.addr, &a.sin_addr) != 1) {
        fprintf(stderr, "sockbench: bad address %s\n", o.addr);
        exit(2);
    }
    return a;
}

static int mksock(int type) {
    int s = socket(AF_INET, type, o.sctp ? IPPROTO_SCTP : 0);
    if (s < 0) die("socket");
    return s;
}

static void nodelay(int s) {
    int one = 1;
    int r = o.sctp ? setsockopt(s, IPPROTO_SCTP, SCTP_NODELAY, &one, sizeof one)
                   : setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (r != 0) die("setsockopt NODELAY");
}

static int listener(int type) {
    int s = mksock(type), one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = server_addr();
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0) die("bind");
    if (listen(s, 4096) != 0) die("listen");
    return s;
}

/* Connects to the server; from local port lport when not 0. */
static int dial_from(int lport) {
    int s = mksock(SOCK_STREAM);
    struct sockaddr_in a = server_addr();
    if (lport > 0) {
        struct sockaddr_in b;
        memset(&b, 0, sizeof b);
        b.sin_family = AF_INET;
        b.sin_port = htons((uint16_t)lport);
        if (bind(s, (struct sockaddr *)&b, sizeof b) != 0) {
            close(s);
            return -1;
        }
    }
    while (connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
        if (errno == EINTR) continue;
        close(s);
        return -1;
    }
    return s;
}

/* The first connection of a client: the server may still be starting
 * (its stack, or the shim's engine), so a refused connect is retried for
 * up to 5 s. */
static int dial_first(int lport) {
    double end = now_s() + 5;
    for (;;) {
        int s = dial_from(lport);
        if (s >= 0 || errno != ECONNREFUSED || now_s() > end) return s;
        usleep(100000);
    }
}

static int dial(void) { return dial_from(0); }

static ssize_t write_full(int s, const char *b, size_t n) {
    size_t done = 0;
    while (done < n) {
        ssize_t r = write(s, b + done, n - done);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        done += (size_t)r;
    }
    return (ssize_t)done;
}

/* Reads exactly n bytes (TCP may split a message; SCTP delivers it whole).
 * Returns n, or less at EOF or error. */
static size_t read_full(int s, char *b, size_t n) {
    size_t done = 0;
    while (done < n) {
        ssize_t r = read(s, b + done, n - done);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        done += (size_t)r;
    }
    return done;
}

static int accept_one(int l) {
    for (;;) {
        int c = accept(l, NULL, NULL);
        if (c >= 0) return c;
        if (errno != EINTR && errno != ECONNABORTED) die("accept");
    }
}

/* bulk and msgrate, receiving side: goodput from accept to the last byte. */
static void server_stream(int msgs) {
    int l = listener(SOCK_STREAM);
    int c = accept_one(l);
    rx.msgs = msgs;
    rx.t0 = rx.t1 = now_s();
    rx.started = 1;
    signal(SIGALRM, stream_alarm);
    if (msgs) nodelay(c);
    static char buf[256 * 1024];
    for (;;) {
        ssize_t r = read(c, buf, sizeof buf);
        if (r > 0) {
            rx.total += r;
            rx.t1 = now_s();
        } else if (r < 0 && errno == EINTR) {
            continue;
        } else {
            if (r < 0) fprintf(stderr, "sockbench server %s: read: %s (after %lld bytes)\n", o.mode, strerror(errno), rx.total);
            break;
        }
    }
    stream_result();
}

/* bulk and msgrate, sending side: writes for T seconds, then closes (the
 * close hands the rest to the stack, which finishes sending). */
static void client_stream(int msgs) {
    int s = dial_first(0);
    if (s < 0) die("connect");
    if (msgs) nodelay(s);
    char *buf = calloc(1, o.size);
    double end = now_s() + o.secs;
    long long sent = 0;
    while (now_s() < end) {
        if (write_full(s, buf, o.size) < 0) {
            fprintf(stderr, "sockbench client %s: write: %s\n", o.mode, strerror(errno));
            break;
        }
        sent += (long long)o.size;
    }
    close(s);
    printf("sent bytes=%lld\n", sent);
}

/* pingpong: the server echoes SIZE-byte messages until EOF. */
static void server_pingpong(void) {
    int l = listener(SOCK_STREAM);
    int c = accept_one(l);
    nodelay(c);
    char *buf = calloc(1, o.size);
    while (read_full(c, buf, o.size) == o.size)
        if (write_full(c, buf, o.size) < 0) break;
}

static void client_pingpong(void) {
    int s = dial_first(0);
    if (s < 0) die("connect");
    nodelay(s);
    char *buf = calloc(1, o.size);
    struct samples sm = {0};
    for (int i = 0; i < 100; i++) /* warm-up, not counted */
        if (write_full(s, buf, o.size) < 0 || read_full(s, buf, o.size) != o.size) die("warm-up");
    double end = now_s() + o.secs;
    for (;;) {
        double t0 = now_s();
        if (t0 >= end) break;
        if (write_full(s, buf, o.size) < 0) die("write");
        if (read_full(s, buf, o.size) != o.size) die("read");
        sample_add(&sm, now_s() - t0);
    }
    close(s);
    print_latency(&sm);
}

/* handshake: one message per connection; "q" ends the server. */
static void server_handshake(void) {
    int l = listener(SOCK_STREAM);
    char *buf = calloc(1, o.size + 1);
    long n = 0;
    for (;;) {
        int c = accept_one(l);
        ssize_t r;
        do r = read(c, buf, o.size);
        while (r < 0 && errno == EINTR);
        close(c);
        if (r > 0 && buf[0] == 'q') break;
        n++;
    }
    printf("server handshakes=%ld\n", n);
}

static void client_handshake(void) {
    char *buf = calloc(1, o.size);
    memset(buf, 'm', o.size);
    long n = 0, fails = 0;
    int w = dial_first(0); /* warm-up (and waits for the server) */
    if (w < 0 || write_full(w, buf, o.size) < 0) die("connect (warm-up)");
    close(w);
    double t0 = now_s(), end = t0 + o.secs, t1;
    while ((t1 = now_s()) < end) {
        int s = mksock(SOCK_STREAM);
        nodelay(s);
        struct sockaddr_in a = server_addr();
        if (connect(s, (struct sockaddr *)&a, sizeof a) != 0 || write_full(s, buf, o.size) < 0) {
            if (++fails > 100) die("connect/write (100 failures)");
            close(s);
            continue;
        }
        close(s);
        n++;
    }
    printf("result hs_per_s=%.0f handshakes=%ld failures=%ld\n", (double)n / (t1 - t0), n, fails);
    fflush(stdout);
    int s = dial(); /* stop the server */
    if (s >= 0) {
        buf[0] = 'q';
        write_full(s, buf, o.size);
        close(s);
    }
}

/* many, server, SCTP: one one-to-many socket carries every association. */
static void server_many_sctp(void) {
    int s = listener(SOCK_SEQPACKET);
    char *buf = malloc(65536);
    for (;;) {
        struct sockaddr_storage from;
        struct iovec iov = {buf, 65536};
        struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1};
        ssize_t r = recvmsg(s, &m, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            die("recvmsg");
        }
        if (r == 0 || (m.msg_flags & MSG_NOTIFICATION)) continue;
        if (buf[0] == 'Q' || buf[0] == 'S') { /* status; 'Q' also ends */
            char txt[256];
            uint32_t k = 0; /* associations the server holds */
            socklen_t kl = sizeof k;
            getsockopt(s, IPPROTO_SCTP, SCTP_GET_ASSOC_NUMBER, &k, &kl);
            int n = stats_text(txt, sizeof txt, (long)k);
            if (sendto(s, txt, (size_t)n, 0, (struct sockaddr *)&from, m.msg_namelen) < 0) die("sendto");
            if (buf[0] == 'Q') break;
            continue;
        }
        count_msg(buf[0]);
    }
    sleep(1); /* let the answer go out before the socket goes */
}

/* many, server, TCP: an epoll loop over every connection. TCP is a byte
 * stream: messages are SIZE bytes, their tag is where one starts. */
static void server_many_tcp(void) {
    raise_nofile(o.count + 1024);
    int l = listener(SOCK_STREAM);
    fcntl(l, F_SETFL, O_NONBLOCK);
    int ep = epoll_create1(0);
    if (ep < 0) die("epoll_create1");
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = l};
    epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
    size_t maxfd = 1 << 17;
    size_t *off = calloc(maxfd, sizeof *off); /* bytes of the current message seen */
    char *tag = calloc(maxfd, 1);
    static char buf[65536];
    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) die("epoll_wait");
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == l) {
                int c;
                while ((c = accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if ((size_t)c >= maxfd) { close(c); continue; }
                    off[c] = 0;
                    struct epoll_event ce = {.events = EPOLLIN, .data.fd = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
                }
                continue;
            }
            ssize_t r = read(fd, buf, sizeof buf);
            if (r <= 0) {
                if (r == 0 || (errno != EAGAIN && errno != EINTR)) close(fd);
                continue;
            }
            for (ssize_t p = 0; p < r;) {
                if (off[fd] == 0) tag[fd] = buf[p];
                size_t take = o.size - off[fd];
                if (take > (size_t)(r - p)) take = (size_t)(r - p);
                off[fd] += take;
                p += (ssize_t)take;
                if (off[fd] < o.size) continue;
                off[fd] = 0;
                if (tag[fd] == 'Q' || tag[fd] == 'S') { /* status; 'Q' also ends */
                    char txt[256];
                    int k = stats_text(txt, sizeof txt, -1);
                    fcntl(fd, F_SETFL, 0);
                    write_full(fd, txt, (size_t)k);
                    fcntl(fd, F_SETFL, O_NONBLOCK);
                    if (tag[fd] == 'Q') return;
                }
                count_msg(tag[fd]);
            }
        }
    }
}

/* many, one client process: connections [lo, hi) of the COUNT. It says 'c'
 * on up when they are all connected, then runs the phases the parent asks
 * for on cmd ('F' or 'A'; 'X' ends), answering the messages it sent. */
static void many_worker(int idx, long lo, long hi, int cmd, int up) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (o.spread > 0) { /* an engine of the group's own (read at the first socket) */
        const char *b = getenv("SCTPSHIM_INSTANCE");
        char v[256];
        snprintf(v, sizeof v, "%s.w%d", b ? b : "bench", idx / o.spread);
        setenv("SCTPSHIM_INSTANCE", v, 1);
    }
    long m = hi - lo;
    int *fd = calloc((size_t)m, sizeof *fd);
    for (long i = 0; i < m; i++) {
        fd[i] = dial_first(o.bindbase ? o.bindbase + (int)(lo + i) : 0);
        if (fd[i] < 0) {
            fprintf(stderr, "sockbench client many: connect %ld of %ld: %s\n", lo + i, o.count, strerror(errno));
            _exit(1);
        }
        nodelay(fd[i]);
    }
    if (write(up, "c", 1) != 1) _exit(1);
    char *msg = calloc(1, o.size);
    char c;
    while (read(cmd, &c, 1) == 1 && c != 'X') {
        /* 'F': only the connections numbered below ACTIVE send. */
        long n = c == 'F' ? (o.active > lo ? (o.active < hi ? o.active : hi) - lo : 0) : m;
        long sent = 0;
        msg[0] = c;
        double end = now_s() + o.secs;
        if (c == 'W') {
            for (long i = 0; i < m; i++)
                for (int k = 0; k < WARM_MSGS; k++, sent++)
                    if (write_full(fd[i], msg, o.size) < 0) {
                        fprintf(stderr, "sockbench client many: write: %s\n", strerror(errno));
                        _exit(1);
                    }
        } else if (n > 0)
            for (long i = 0; now_s() < end; i = (i + 1) % n) {
                if (write_full(fd[i], msg, o.size) < 0) {
                    fprintf(stderr, "sockbench client many: write: %s\n", strerror(errno));
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

/* Sends a tag-only message on the control connection and reads the
 * server's one-line answer. */
static void ask(int ctl, char tag, char *ans, size_t len) {
    char *q = calloc(1, o.size);
    q[0] = tag;
    if (write_full(ctl, q, o.size) < 0) die("write to the control connection");
    free(q);
    ssize_t r = 0, k;
    /* SCTP: one message; TCP: up to the newline. */
    while ((size_t)r < len - 1 && (k = read(ctl, ans + r, len - 1 - (size_t)r)) > 0) {
        r += k;
        if (memchr(ans, '\n', (size_t)r)) break;
    }
    if (r <= 0) die("read the answer");
    ans[r] = 0;
    if (ans[r - 1] == '\n') ans[r - 1] = 0;
}

/* Waits until the server has received `sent` messages of the phase (key),
 * or has made no progress for 3 s (at most 30 s); returns the time taken. */
static double drain(int ctl, const char *key, long sent) {
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
            fprintf(stderr, "sockbench client many: %s: %ld of %ld arrived, gave up waiting\n", key, got, sent);
            return t - t0;
        }
        usleep(100000);
    }
}

static void client_many(void) {
    /* Under the shim a socket takes a few descriptors of the process. */
    int w = o.workers > 0 ? o.workers : (int)((o.count + 2499) / 2500);
    long per = (o.count + w - 1) / w;
    long lim = raise_nofile(6 * per + 256);
    if (lim < per + 64) {
        fprintf(stderr, "sockbench client many: RLIMIT_NOFILE %ld too small for %ld per process\n", lim, per);
        exit(1);
    }
    /* No socket of this process before the fork (with -I each worker names
     * its own shim engine at its first socket). */
    long base = rss_kib(o.mempid);
    int up[2];
    if (pipe(up) != 0) die("pipe");
    int *cmd = calloc((size_t)w, sizeof *cmd);
    pid_t *pids = calloc((size_t)w, sizeof *pids);
    double t0 = now_s();
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
            fprintf(stderr, "sockbench client many: a worker failed while connecting\n");
            exit(1);
        }
    double setup = now_s() - t0;
    fprintf(stderr, "sockbench client many: %ld connected in %.1f s\n", o.count, setup);
    usleep(500000); /* let the last handshakes settle before sampling */
    long est = rss_kib(o.mempid);
    /* control connection: asks the server its rates */
    int ctl = dial_from(o.bindbase ? o.bindbase + (int)o.count : 0);
    if (ctl < 0) die("connect (control)");
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
                fprintf(stderr, "sockbench client many: a worker failed in phase %c\n", phases[ph]);
                exit(1);
            }
            sent[ph] += k;
        }
        /* What is still queued drains before the next phase, so that
         * phases do not overlap at the server. */
        double d = drain(ctl, keys[ph], sent[ph]);
        fprintf(stderr, "sockbench client many: phase %c: %ld sent, drained %.1f s later\n", phases[ph], sent[ph], d);
        if (ph == 2) after = rss_kib(o.mempid);
    }
    char ans[256];
    ask(ctl, 'Q', ans, sizeof ans);
    for (int i = 0; i < w; i++) {
        write(cmd[i], "X", 1);
        waitpid(pids[i], NULL, 0);
    }
    close(ctl);
    printf("result assocs=%ld workers=%d setup_s=%.2f sent_few=%ld sent_all=%ld", o.count, w, setup, sent[1], sent[2]);
    if (base >= 0 && est >= 0)
        printf(" rss_base_kib=%ld rss_kib=%ld rss_after_kib=%ld kib_per_assoc=%.2f", base, est, after,
               (double)(est - base) / (double)o.count);
    printf(" %s\n", ans);
}

int main(int argc, char **argv) {
    prog = "sockbench";
    parse_args(argc, argv);
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *m = o.mode;
    if (strcmp(m, "bulk") == 0) o.server ? server_stream(0) : client_stream(0);
    else if (strcmp(m, "msgrate") == 0) o.server ? server_stream(1) : client_stream(1);
    else if (strcmp(m, "pingpong") == 0) o.server ? server_pingpong() : client_pingpong();
    else if (strcmp(m, "handshake") == 0) o.server ? server_handshake() : client_handshake();
    else if (o.server) o.sctp ? server_many_sctp() : server_many_tcp();
    else client_many();
    return 0;
}
