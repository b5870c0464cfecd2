/* SO_SNDBUF / SO_RCVBUF back-pressure on a one-to-one association (issue 6):
 * a reader that does not read makes the sender block (EAGAIN on a
 * non-blocking socket), with the peer's advertised window (sstat_rwnd)
 * closed, after a bounded amount of data; nothing grows without bound.
 * Then the reader drains everything, in order, and the sender goes on. */
#include "common.h"

#include <fcntl.h>

#define MSG 1000

int main(void) {
    uint16_t port = free_ports(1);
    int l = listen_on(SOCK_STREAM, port, 32 * 1024, 1);
    struct sockaddr_in a = loop4(port);

    int c = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    int sb = 32 * 1024;
    CHECK(setsockopt(c, SOL_SOCKET, SO_SNDBUF, &sb, sizeof sb) == 0);
    CHECK(connect(c, (struct sockaddr *)&a, sizeof a) == 0);
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    CHECK(fcntl(c, F_SETFL, O_NONBLOCK) == 0);

    /* Fill: numbered messages until the sender would block for a while. */
    static char msg[MSG];
    long sent = 0;
    uint32_t seq = 0;
    double quiet = now_s();
    while (now_s() - quiet < 1.0) {
        memcpy(msg, &seq, sizeof seq);
        ssize_t r = send(c, msg, sizeof msg, 0);
        if (r < 0) {
            CHECK(errno == EAGAIN);
            usleep(10000);
            continue;
        }
        CHECK(r == MSG);
        seq++;
        sent += r;
        quiet = now_s();
        CHECK(sent < 64L << 20); /* never: the sender must block */
    }
    /* Bounded by the buffers on the way: the sender's (SO_SNDBUF doubled
     * and its socket's own queue), the receiver's (SO_RCVBUF doubled) and
     * what each side keeps staged for its application. */
    printf("backpressure: sender blocked after %ld KiB\n", sent / 1024);
    CHECK(sent < 2L << 20);
    struct sctp_status st;
    memset(&st, 0, sizeof st);
    socklen_t sl = sizeof st;
    CHECK(getsockopt(c, IPPROTO_SCTP, SCTP_STATUS, &st, &sl) == 0);
    CHECK(st.sstat_rwnd < 2 * MSG); /* the reader's window is closed */

    /* Drain: every message, in order; the sender then goes on. */
    char buf[4096];
    uint32_t want = 0;
    while (want < seq) {
        CHECK(readable(s, 5000));
        ssize_t n = recv(s, buf, sizeof buf, 0);
        CHECK(n == MSG);
        uint32_t got;
        memcpy(&got, buf, sizeof got);
        CHECK(got == want);
        want++;
    }
    CHECK(fcntl(c, F_SETFL, 0) == 0);
    CHECK(send(c, msg, sizeof msg, 0) == MSG);
    CHECK(readable(s, 5000) && recv(s, buf, sizeof buf, 0) == MSG);
    close(c);
    close(s);
    close(l);
    printf("backpressure: ok (%u messages)\n", seq);
    return 0;
}
