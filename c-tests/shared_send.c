/* Several writers on one one-to-one socket: two processes (fork), two
 * threads each, sending messages of mixed sizes, some with SCTP_SNDINFO
 * (stream, PPID) and some blocking on a full buffer. Every message must
 * arrive whole, once, unmixed with another, with its own stream and PPID,
 * and each writer's messages in its order on each stream: each send is one message, as on
 * a kernel socket, whichever process or thread made it. (With the shared
 * daemon, programs place their send marks themselves: this is the test of
 * their turns.) Then a non-blocking sender meets a full buffer: a short
 * write leaves the rest of its message for the next sends. */
#include <fcntl.h>
#include <pthread.h>
#include <sys/wait.h>

#include "common.h"

#define PER_WRITER 1500
#define MAXLEN 3000

struct hdr {
    uint32_t writer, seq, len, stream, ppid;
};

static int cl;

static size_t len_of(uint32_t writer, uint32_t seq) {
    return sizeof(struct hdr) + (writer * 7919u + seq * 104729u) % (MAXLEN - sizeof(struct hdr));
}

static void *writer(void *arg) {
    uint32_t w = (uint32_t)(uintptr_t)arg;
    static __thread char buf[MAXLEN];
    for (uint32_t seq = 0; seq < PER_WRITER; seq++) {
        size_t len = len_of(w, seq);
        struct hdr h = {w, seq, (uint32_t)len, 0, 0};
        int with_info = seq % 3 == 0;
        if (with_info) {
            h.stream = 1 + seq % 4;
            h.ppid = w * 100000 + seq;
        }
        memcpy(buf, &h, sizeof h);
        for (size_t i = sizeof h; i < len; i++) buf[i] = (char)(w + seq + i);
        ssize_t r;
        if (with_info) {
            struct sctp_sndinfo si = {.snd_sid = (uint16_t)h.stream, .snd_ppid = htonl(h.ppid)};
            r = send_info(cl, NULL, 0, buf, len, &si, NULL, 0);
        } else {
            r = send(cl, buf, len, 0);
        }
        CHECK(r == (ssize_t)len);
    }
    return NULL;
}

static void writers(uint32_t first) {
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        CHECK(pthread_create(&t[i], NULL, writer, (void *)(uintptr_t)(first + i)) == 0);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
}

/* Reads `writers` writers' messages and checks each. */
static void check_all(int srv, int nwriters) {
    uint32_t next[4][5] = {{0}};
    uint32_t seen[4] = {0};
    long left = (long)nwriters * PER_WRITER;
    static char buf[MAXLEN + 16];
    while (left > 0) {
        CHECK(readable(srv, 10000));
        struct got g;
        ssize_t n = recv_got(srv, buf, sizeof buf, 0, &g);
        CHECK(n >= (ssize_t)sizeof(struct hdr));
        CHECK(g.flags & MSG_EOR);
        CHECK(g.has_rcvinfo);
        struct hdr h;
        memcpy(&h, buf, sizeof h);
        CHECK(h.writer < (uint32_t)nwriters);
        /* In order on each stream (streams are independent: a message
         * retransmitted on one does not hold back the others). */
        CHECK(h.writer < 4 && h.stream < 5);
        uint32_t *last = &next[h.writer][h.stream];
        CHECK(h.seq + 1 > *last);
        *last = h.seq + 1;
        seen[h.writer]++;
        CHECK(h.len == len_of(h.writer, h.seq) && (size_t)n == h.len);
        CHECK(g.rcv.rcv_sid == h.stream && ntohl(g.rcv.rcv_ppid) == h.ppid);
        for (size_t i = sizeof h; i < h.len; i++) CHECK(buf[i] == (char)(h.writer + h.seq + i));
        left--;
    }
    for (int w = 0; w < nwriters; w++) CHECK(seen[w] == PER_WRITER);
}

static void *reader(void *arg) {
    check_all(*(int *)arg, 4);
    return NULL;
}

static char pat(size_t i) { return (char)(i * 31 + 7); }

static long wrote;

/* Reads to EOF: the bytes `wrote` said, then "end". */
static void *drain(void *arg) {
    int srv = *(int *)arg;
    long got = 0;
    static char buf[65536];
    for (;;) {
        CHECK(readable(srv, 10000));
        ssize_t n = recv(srv, buf, sizeof buf, 0);
        CHECK(n >= 0);
        if (n == 0) break;
        for (ssize_t i = 0; i < n; i++, got++)
            if (got < wrote) CHECK(buf[i] == pat((size_t)got));
            else CHECK(buf[i] == "end"[got - wrote]);
    }
    CHECK(got == wrote + 3);
    return NULL;
}

int main(int argc, char **argv) {
    /* With the engine in a thread of each process (SCTPSHIM_ENGINE=thread)
     * a forked child's sends carry no message boundaries (the README's
     * limitation): the second pair of writers are threads then. */
    const char *engine = getenv("SCTPSHIM_ENGINE");
    int forks = !(argc > 1 && strcmp(argv[1], "nofork") == 0) && !(engine && strcmp(engine, "thread") == 0);
    uint16_t port = free_ports(1);
    int srv;
    struct sctp_initmsg im = {.sinit_num_ostreams = 8, .sinit_max_instreams = 8};
    int l = listen_on(SOCK_STREAM, port, 0, 4);
    CHECK(setsockopt(l, IPPROTO_SCTP, SCTP_INITMSG, &im, sizeof im) == 0);
    cl = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(cl >= 0);
    CHECK(setsockopt(cl, IPPROTO_SCTP, SCTP_INITMSG, &im, sizeof im) == 0);
    /* A small send buffer: writers block and take turns often. */
    int sb = 16384;
    CHECK(setsockopt(cl, SOL_SOCKET, SO_SNDBUF, &sb, sizeof sb) == 0);
    struct sockaddr_in a = loop4(port);
    CHECK(connect(cl, (struct sockaddr *)&a, sizeof a) == 0);
    srv = accept(l, NULL, NULL);
    CHECK(srv >= 0);
    close(l);
    int on = 1;
    CHECK(setsockopt(srv, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on) == 0);

    pid_t child = forks ? fork() : 0;
    CHECK(child >= 0);
    pthread_t t[2];
    if (!forks) {
        for (int i = 0; i < 2; i++)
            CHECK(pthread_create(&t[i], NULL, writer, (void *)(uintptr_t)(2 + i)) == 0);
    } else if (child == 0) {
        writers(2);
        _exit(0);
    }
    pthread_t rd;
    static int srv_arg;
    srv_arg = srv;
    CHECK(pthread_create(&rd, NULL, reader, &srv_arg) == 0);
    writers(0);
    pthread_join(rd, NULL);
    int status;
    if (!forks)
        for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    if (forks)
        CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* Short writes: a non-blocking sender fills the buffer; every byte it
     * was told it wrote arrives, in order (messages may be cut anywhere
     * the writes ended, but nothing is lost or repeated). */
    int fl = fcntl(cl, F_GETFL);
    CHECK(fcntl(cl, F_SETFL, fl | O_NONBLOCK) == 0);
    wrote = fill_until_full(cl, 3, pat);
    CHECK(wrote > 0);
    CHECK(fcntl(cl, F_SETFL, fl) == 0);
    CHECK(pthread_create(&rd, NULL, drain, &srv_arg) == 0);
    CHECK(send(cl, "end", 3, 0) == 3);
    shutdown(cl, SHUT_WR);
    pthread_join(rd, NULL);
    close(cl);
    close(srv);
    printf("shared_send: ok\n");
    return 0;
}
