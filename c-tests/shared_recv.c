/* Plain receives (read, recv, recvmsg without name or control data) on a
 * one-to-one socket, as a kernel socket gives them:
 * - a message larger than the buffer comes in pieces, MSG_EOR on the last
 *   one only, and the next read starts the next message;
 * - several readers (two processes, two threads each) share the socket:
 *   each message goes whole to one of them, and all arrive once;
 * - a notification read with a plain recvmsg has MSG_NOTIFICATION;
 * - a reader that starts after the association ended still gets every
 *   message, then the end of the stream;
 * - a reader that asks for ancillary data (through the daemon) gets every
 *   message, also more than the shared page shows.
 * (With the shared daemon, programs read records on their own through the
 * socket's shared page: this is the test of that path.) */
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "common.h"

#define MSGS 3000
#define MAXLEN 2000

static size_t len_of(uint32_t seq) { return 8 + (seq * 7919u) % (MAXLEN - 8); }

static void fill(char *b, uint32_t seq) {
    size_t len = len_of(seq);
    memcpy(b, &seq, 4);
    for (size_t i = 4; i < len; i++) b[i] = (char)(seq + i);
}

static void check(const char *b, ssize_t n) {
    uint32_t seq;
    CHECK(n >= 8);
    memcpy(&seq, b, 4);
    CHECK(seq < MSGS && (size_t)n == len_of(seq));
    for (ssize_t i = 4; i < n; i++) CHECK(b[i] == (char)(seq + i));
}

static ssize_t plain_recv(int s, void *buf, size_t len, int *flags) {
    struct iovec v = {buf, len};
    struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1};
    ssize_t n = recvmsg(s, &m, 0);
    *flags = m.msg_flags;
    return n;
}

static int srv;
/* Shared between the reader processes: times each message was read, and
 * notifications read. */
static uint8_t *seen;
static int *notes;

static void *reader(void *arg) {
    (void)arg;
    char buf[MAXLEN];
    for (;;) {
        int fl;
        ssize_t n = plain_recv(srv, buf, sizeof buf, &fl);
        if (n == 0) return NULL;
        CHECK(n > 0 && (fl & MSG_EOR));
        if (fl & MSG_NOTIFICATION) {
            CHECK(((union sctp_notification *)buf)->sn_header.sn_type == SCTP_SHUTDOWN_EVENT);
            __atomic_fetch_add(notes, 1, __ATOMIC_RELAXED);
            continue;
        }
        check(buf, n);
        uint32_t seq;
        memcpy(&seq, buf, 4);
        CHECK(__atomic_fetch_add(&seen[seq], 1, __ATOMIC_RELAXED) == 0);
    }
}

static void start_readers(pthread_t *t) {
    for (int i = 0; i < 2; i++) CHECK(pthread_create(&t[i], NULL, reader, NULL) == 0);
}

static void join_readers(pthread_t *t) {
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
}

int main(void) {
    uint16_t port = free_ports(3);
    int cl;
    connected_pair(port, &cl, &srv);
    char buf[MAXLEN];

    /* Pieces: 100 messages read through a 300-byte buffer. */
    for (uint32_t seq = 0; seq < 100; seq++) {
        fill(buf, seq);
        CHECK(send(cl, buf, len_of(seq), 0) == (ssize_t)len_of(seq));
    }
    for (uint32_t seq = 0; seq < 100; seq++) {
        char whole[MAXLEN];
        size_t at = 0;
        for (;;) {
            int fl;
            ssize_t n = plain_recv(srv, whole + at, seq % 2 ? 300 : 301, &fl);
            CHECK(n > 0);
            at += (size_t)n;
            CHECK(at <= len_of(seq));
            if (fl & MSG_EOR) break;
            CHECK(at < len_of(seq));
        }
        check(whole, (ssize_t)at);
        uint32_t got;
        memcpy(&got, whole, 4);
        CHECK(got == seq);
    }

    /* Readers in two processes share the socket. */
    seen = mmap(NULL, MSGS + sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(seen != MAP_FAILED);
    notes = (int *)(void *)(seen + MSGS);
    /* (With the engine in a thread of each process, SCTPSHIM_ENGINE=thread,
     * a forked child's reads carry no message boundaries: the README's
     * limitation. The second pair of readers are threads then.) */
    const char *engine = getenv("SCTPSHIM_ENGINE");
    int forks = !(engine && strcmp(engine, "thread") == 0);
    pthread_t mine[2], more[2];
    pid_t child = forks ? fork() : -1;
    CHECK(!forks || child >= 0);
    if (child == 0) {
        start_readers(more);
        join_readers(more);
        _exit(0);
    }
    start_readers(mine);
    if (!forks) start_readers(more);
    for (uint32_t seq = 0; seq < MSGS; seq++) {
        fill(buf, seq);
        CHECK(send(cl, buf, len_of(seq), 0) == (ssize_t)len_of(seq));
    }
    int status;
    /* Every message read before the end of the stream. */
    double end = now_s() + 20;
    for (;;) {
        int all = 1;
        for (int i = 0; i < MSGS && all; i++) all = seen[i] != 0;
        if (all) break;
        CHECK(now_s() < end);
        usleep(10000);
    }
    /* A shutdown notification, read with a plain recvmsg, ends the
     * readers: they see it (no MSG_EOR data) and stop at EOF. */
    struct sctp_event ev = {.se_type = SCTP_SHUTDOWN_EVENT, .se_on = 1};
    CHECK(setsockopt(srv, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof ev) == 0);
    CHECK(shutdown(cl, SHUT_WR) == 0);
    join_readers(mine);
    if (forks) {
        CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    } else {
        join_readers(more);
    }
    for (int i = 0; i < MSGS; i++) CHECK(seen[i] == 1);
    CHECK(*notes == 1);
    close(cl);
    close(srv);

    /* A late reader: more messages than a shared page shows wait while the
     * association ends; all of them come, then the end of the stream. */
    connected_pair((uint16_t)(port + 1), &cl, &srv);
    for (uint32_t seq = 0; seq < 700; seq++) {
        fill(buf, seq);
        CHECK(send(cl, buf, len_of(seq) % 200 + 8, 0) == (ssize_t)(len_of(seq) % 200 + 8));
    }
    close(cl);
    usleep(300 * 1000);
    for (uint32_t seq = 0; seq < 700; seq++) {
        int fl;
        ssize_t n = plain_recv(srv, buf, sizeof buf, &fl);
        CHECK(n == (ssize_t)(len_of(seq) % 200 + 8) && (fl & MSG_EOR));
        uint32_t got;
        memcpy(&got, buf, 4);
        CHECK(got == seq);
    }
    int fl;
    CHECK(plain_recv(srv, buf, sizeof buf, &fl) == 0);
    close(srv);

    /* A reader that always asks for ancillary data (the daemon's path) on a
     * socket whose page its sends made: more messages than a page shows
     * still all come. */
    connected_pair((uint16_t)(port + 2), &cl, &srv);
    int on = 1;
    CHECK(setsockopt(srv, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on) == 0);
    for (int i = 0; i < 6; i++) {
        CHECK(send(srv, "x", 1, 0) == 1);
        CHECK(recv(cl, buf, sizeof buf, 0) == 1);
    }
    for (uint32_t seq = 0; seq < 700; seq++) {
        fill(buf, seq);
        CHECK(send(cl, buf, 40, 0) == 40);
    }
    for (uint32_t seq = 0; seq < 700; seq++) {
        struct got g;
        CHECK(readable(srv, 5000));
        CHECK(recv_got(srv, buf, sizeof buf, 0, &g) == 40 && (g.flags & MSG_EOR) && g.has_rcvinfo);
        uint32_t got;
        memcpy(&got, buf, 4);
        CHECK(got == seq);
    }
    close(cl);
    close(srv);
    printf("shared_recv: ok\n");
    return 0;
}
