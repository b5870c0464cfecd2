/* A blocking read after the socket's own shutdown(SHUT_WR), waiting while
 * the association shuts down: it ends with ENOTCONN once the association
 * is over (Linux's sctp_wait_for_packet wakes up and finds none), without
 * any notification subscribed. The client fills the server's window
 * first, so that SHUTDOWN waits for the server to read. Meanwhile the
 * client stays writable and unreadable (poll: OUT), as on Linux. */
#include "common.h"
#include "expect.h"

#include <fcntl.h>
#include <pthread.h>

static int c_fd;
static volatile int done;
static ssize_t got;
static int got_errno;

static void *reader(void *arg) {
    (void)arg;
    char b[64];
    got = recv(c_fd, b, sizeof b, 0);
    got_errno = errno;
    done = 1;
    return NULL;
}

int main(void) {
    uint16_t port = free_ports(1);
    int c, s;
    connected_pair(port, &c, &s);

    /* Fill the server's window and every buffer on the way. */
    char buf[4096];
    memset(buf, 'x', sizeof buf);
    CHECK(fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK) == 0);
    long sent = 0;
    for (int round = 0; round < 50; round++) {
        ssize_t n;
        int some = 0;
        while ((n = send(c, buf, sizeof buf, 0)) > 0) sent += n, some = 1;
        CHECK(errno == EAGAIN);
        if (!some && round > 0) break;
        usleep(50000);
    }
    CHECK(fcntl(c, F_SETFL, fcntl(c, F_GETFL) & ~O_NONBLOCK) == 0);

    CHECK(shutdown(c, SHUT_WR) == 0);
    c_fd = c;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, reader, NULL) == 0);
    usleep(300000);
    EXPECT_EQ(done, 0); /* the association is still shutting down */
    struct pollfd p = {c, POLLIN | POLLOUT, 0};
    CHECK(poll(&p, 1, 0) >= 0);
    EXPECT_EQ(p.revents & POLLIN, 0);

    /* The server reads it all, then the end of file. */
    long read_total = 0;
    for (;;) {
        CHECK(readable(s, 5000));
        ssize_t n = recv(s, buf, sizeof buf, 0);
        CHECK(n >= 0);
        if (n == 0) break;
        read_total += n;
    }
    EXPECT_EQ(read_total, sent);

    double end = now_s() + 3;
    while (!done && now_s() < end) usleep(10000);
    EXPECT_EQ(done, 1);
    if (done) {
        pthread_join(t, NULL);
        EXPECT_EQ(got, -1);
        EXPECT_EQ(got_errno, ENOTCONN);
    }
    p.revents = 0;
    CHECK(poll(&p, 1, 0) >= 0);
    EXPECT_EQ(p.revents, POLLOUT);
    close(s);
    if (done) close(c);
    return finish("shutwr_read");
}
