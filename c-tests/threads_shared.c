/* Several threads sending and receiving on ONE socket at the same time
 * (issue 14): Linux serializes the calls per socket, so every message
 * arrives whole (never split, never mixed with another) and exactly once.
 * One-to-one: 4 threads send on one socket, 2 threads receive on the
 * other. One-to-many: the same through one association of each socket. */
#include "common.h"

#include <pthread.h>
#include <signal.h>

#define SENDERS 4
#define RECEIVERS 2
#define PER_SENDER 400

struct shared {
    int fd;
    int one_to_many;
    struct sockaddr_in to;
    pthread_mutex_t lock;
    int seen[SENDERS][PER_SENDER];
    int total, bad;
};

/* Message of sender `t`, number `k`: a header, then a pattern of its own
 * length (between 8 and ~3000 bytes, so that some span several packets). */
static size_t make(char *b, int t, int k) {
    size_t len = 12 + (size_t)((t * 977 + k * 131) % 3000);
    memcpy(b, &t, 4);
    memcpy(b + 4, &k, 4);
    uint32_t l32 = (uint32_t)len;
    memcpy(b + 8, &l32, 4);
    for (size_t i = 12; i < len; i++) b[i] = (char)(t * 31 + k + i);
    return len;
}

static int check(const char *b, size_t n, int *t, int *k) {
    uint32_t len;
    if (n < 12) return 0;
    memcpy(t, b, 4);
    memcpy(k, b + 4, 4);
    memcpy(&len, b + 8, 4);
    if (*t < 0 || *t >= SENDERS || *k < 0 || *k >= PER_SENDER || len != n) return 0;
    for (size_t i = 12; i < n; i++)
        if (b[i] != (char)(*t * 31 + *k + i)) return 0;
    return 1;
}

static struct shared tx, rx;

static void *sender(void *arg) {
    int t = (int)(long)arg;
    char b[4096];
    for (int k = 0; k < PER_SENDER; k++) {
        size_t len = make(b, t, k);
        ssize_t w;
        if (tx.one_to_many)
            w = sendto(tx.fd, b, len, 0, (struct sockaddr *)&tx.to, sizeof tx.to);
        else
            w = send(tx.fd, b, len, 0);
        CHECK(w == (ssize_t)len);
    }
    return NULL;
}

static void *receiver(void *arg) {
    (void)arg;
    char b[8192];
    for (;;) {
        pthread_mutex_lock(&rx.lock);
        int done = rx.total == SENDERS * PER_SENDER;
        pthread_mutex_unlock(&rx.lock);
        if (done) break;
        if (!readable(rx.fd, 100)) continue;
        struct got g;
        ssize_t n = recv_got(rx.fd, b, sizeof b, MSG_DONTWAIT, &g);
        if (n < 0 && errno == EAGAIN) continue;
        CHECK(n > 0);
        if (g.flags & MSG_NOTIFICATION) continue;
        int t, k;
        pthread_mutex_lock(&rx.lock);
        if (!(g.flags & MSG_EOR) || !check(b, (size_t)n, &t, &k)) {
            rx.bad++;
        } else {
            rx.seen[t][k]++;
            rx.total++;
        }
        pthread_mutex_unlock(&rx.lock);
    }
    return NULL;
}

static int run(int one_to_many, uint16_t port) {
    int l = listen_on(one_to_many ? SOCK_SEQPACKET : SOCK_STREAM, port, 1 << 20, 8);
    struct sockaddr_in a = loop4(port);
    int c = socket(AF_INET, one_to_many ? SOCK_SEQPACKET : SOCK_STREAM, IPPROTO_SCTP);
    CHECK(c >= 0);
    int srv = l;
    if (!one_to_many) {
        CHECK(connect(c, (struct sockaddr *)&a, sizeof a) == 0);
        srv = accept(l, NULL, NULL);
        CHECK(srv >= 0);
    }
    /* One-to-many: the senders' concurrent first sends set the socket's
     * port and the association up. */
    memset(&tx, 0, sizeof tx);
    memset(&rx, 0, sizeof rx);
    pthread_mutex_init(&rx.lock, NULL);
    tx.fd = c;
    tx.one_to_many = one_to_many;
    tx.to = a;
    rx.fd = srv;
    pthread_t s[SENDERS], r[RECEIVERS];
    double t0 = now_s();
    for (long i = 0; i < RECEIVERS; i++) CHECK(pthread_create(&r[i], NULL, receiver, NULL) == 0);
    for (long i = 0; i < SENDERS; i++) CHECK(pthread_create(&s[i], NULL, sender, (void *)i) == 0);
    for (int i = 0; i < SENDERS; i++) pthread_join(s[i], NULL);
    /* The receivers end when all arrived; a hang is a failure. */
    while (now_s() - t0 < 60) {
        pthread_mutex_lock(&rx.lock);
        int done = rx.total == SENDERS * PER_SENDER;
        pthread_mutex_unlock(&rx.lock);
        if (done) break;
        usleep(10000);
    }
    pthread_mutex_lock(&rx.lock);
    int total = rx.total, bad = rx.bad;
    rx.total = SENDERS * PER_SENDER; /* stop the receivers */
    pthread_mutex_unlock(&rx.lock);
    for (int i = 0; i < RECEIVERS; i++) pthread_join(r[i], NULL);
    int dup = 0;
    for (int t = 0; t < SENDERS; t++)
        for (int k = 0; k < PER_SENDER; k++) dup += rx.seen[t][k] > 1;
    fprintf(stderr, "threads_shared %s: %d of %d messages whole, %d broken, %d twice (%.2f s)\n",
            one_to_many ? "one-to-many" : "one-to-one", total, SENDERS * PER_SENDER, bad, dup,
            now_s() - t0);
    if (srv != l) close(srv);
    close(c);
    close(l);
    return total == SENDERS * PER_SENDER && bad == 0 && dup == 0;
}

/* Rounds of threads that each send first on a new one-to-many socket:
 * none may fail (the first bind and the first association are shared). */
static int first_to;
static struct sockaddr_in first_dst;
static pthread_barrier_t first_bar;
static int first_fails;

static void *first_sender(void *arg) {
    (void)arg;
    pthread_barrier_wait(&first_bar);
    for (int i = 0; i < 3; i++)
        if (sendto(first_to, "hello", 5, 0, (struct sockaddr *)&first_dst, sizeof first_dst) != 5) {
            fprintf(stderr, "first sends: sendto: %s\n", strerror(errno));
            __sync_fetch_and_add(&first_fails, 1);
        }
    return NULL;
}

static int first_sends(uint16_t port) {
    int srv = listen_on(SOCK_SEQPACKET, port, 0, 8);
    first_dst = loop4(port);
    for (int round = 0; round < 20 && !first_fails; round++) {
        first_to = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
        CHECK(first_to >= 0);
        pthread_t t[4];
        CHECK(pthread_barrier_init(&first_bar, NULL, 4) == 0);
        for (int i = 0; i < 4; i++) CHECK(pthread_create(&t[i], NULL, first_sender, NULL) == 0);
        for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
        pthread_barrier_destroy(&first_bar);
        char b[64];
        for (int i = 0; i < 12 && !first_fails; i++) {
            if (!readable(srv, 3000)) {
                fprintf(stderr, "first sends: round %d: %d of 12 arrived\n", round, i);
                first_fails++;
                break;
            }
            CHECK(recv(srv, b, sizeof b, 0) > 0);
        }
        close(first_to);
    }
    close(srv);
    return first_fails == 0;
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    uint16_t port = free_ports(3);
    int ok = run(0, port);
    ok &= run(1, port + 1);
    ok &= first_sends(port + 2);
    if (!ok) return 1;
    printf("threads_shared: ok\n");
    return 0;
}
