/* SO_LINGER keeps its Linux meaning (issue 13): with a timeout, close() of a
 * one-to-one socket waits until its association is over (its queued data
 * delivered and acknowledged, SHUTDOWN done), at most that long; without
 * it, close() returns at once and the data still arrives. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sys/time.h>

#include "common.h"

#define PORT 46440

static char pattern(size_t i) { return (char)(i * 13 + i / 977); }

struct reader {
    int l;
    size_t have;
    int bad;
};

/* Accepts, waits 300 ms (the sender's data waits in its queue), then reads
 * everything and checks it. */
static void *read_late(void *arg) {
    struct reader *r = arg;
    int a = accept(r->l, NULL, NULL);
    if (a < 0) return NULL;
    usleep(300 * 1000);
    char buf[65536];
    /* Until the sender's SHUTDOWN (EOF). */
    while (readable(a, 5000)) {
        ssize_t n = read(a, buf, sizeof buf);
        if (n <= 0) break;
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] != pattern(r->have + (size_t)i)) r->bad = 1;
        r->have += (size_t)n;
    }
    close(a);
    return NULL;
}

/* Sends what the socket takes without blocking (beyond the peer's small
 * window), closes with `linger` (-1: no SO_LINGER) and returns how long
 * close() took. */
static double send_and_close(uint16_t port, int linger, size_t *queued) {
    int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_SCTP);
    CHECK(c >= 0);
    struct sockaddr_in to = loop4(port);
    CHECK(connect(c, (struct sockaddr *)&to, sizeof to) == 0 || errno == EINPROGRESS);
    struct pollfd pf = {c, POLLOUT, 0};
    CHECK(poll(&pf, 1, 5000) == 1);
    if (linger >= 0) {
        struct linger lg = {1, linger};
        CHECK(setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
    }
    long total = fill_until_full(c, 3, pattern);
    CHECK(total > 0);
    /* close() blocks (with SO_LINGER) in blocking mode, as on Linux. */
    CHECK(fcntl(c, F_SETFL, fcntl(c, F_GETFL) & ~O_NONBLOCK) == 0);
    *queued = (size_t)total;
    double t0 = now_s();
    CHECK(close(c) == 0);
    return now_s() - t0;
}

int main(void) {
    for (int linger = -1; linger <= 5; linger += 6) {
        uint16_t port = (uint16_t)(PORT + (linger > 0));
        int l = listen_on(SOCK_STREAM, port, 32768, 4);
        struct reader r = {.l = l};
        pthread_t th;
        size_t queued = 0;
        CHECK(pthread_create(&th, NULL, read_late, &r) == 0);
        double took = send_and_close(port, linger, &queued);
        CHECK(pthread_join(th, NULL) == 0);
        CHECK(!r.bad && r.have == queued && queued > 32768);
        if (linger > 0) {
            /* Waited for the late reader (300 ms), not for the timeout. */
            CHECK(took >= 0.2 && took < 4.0);
        } else {
            CHECK(took < 0.1);
        }
        printf("linger %s: close() took %.0f ms with %zu KiB queued; the peer read all of it\n",
               linger > 0 ? "{1, 5}" : "off", took * 1000, queued >> 10);
        close(l);
    }
    printf("linger: ok\n");
    return 0;
}
