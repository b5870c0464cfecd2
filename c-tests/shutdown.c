/* shutdown(2) on SCTP sockets as Linux answers it (issue 14), confirmed
 * with scripts/linux-check.sh shutdown:
 * - one-to-one SHUT_WR: SHUTDOWN goes out once the queued data is
 *   acknowledged; the peer reads that data, then 0 (and cannot send any
 *   more: EPIPE); the shut-down side reads what arrived before, and once
 *   the association is gone ENOTCONN (no EOF: only its sending was shut);
 *   its own sends are EPIPE;
 * - SHUT_RDWR the same, SHUT_RD alone sends nothing;
 * - sockets without an association, listeners, one-to-many sockets and
 *   bad `how` values get Linux's errnos. */
#include "expect.h"

#include <signal.h>

/* Reads one message within `ms` (blocking read after poll). */
static ssize_t read_within(int fd, char *buf, size_t n, int ms) {
    if (!readable(fd, ms)) {
        errno = ETIMEDOUT;
        return -2;
    }
    return read(fd, buf, n);
}

static void one_to_one(uint16_t port, int how) {
    int cl, srv;
    connected_pair(port, &cl, &srv);
    char buf[64];
    /* The server's messages reach the client before it shuts down. */
    CHECK(write(srv, "s1", 2) == 2);
    CHECK(write(srv, "s2", 2) == 2);
    CHECK(readable(cl, 3000));
    usleep(100 * 1000);
    CHECK(write(cl, "c1", 2) == 2);
    CHECK(write(cl, "c2", 2) == 2);
    CHECK(write(cl, "c3", 2) == 2);
    EXPECT_EQ(shutdown(cl, how), 0);
    EXPECT(write(cl, "xx", 2), EPIPE);
    EXPECT(send(cl, "xx", 2, MSG_NOSIGNAL), EPIPE);
    /* The peer: the three messages, then EOF, and no more sending. */
    for (int i = 1; i <= 3; i++) {
        ssize_t n = read_within(srv, buf, sizeof buf, 3000);
        EXPECT_EQ(n, 2);
        EXPECT_EQ(buf[1], '0' + i);
    }
    EXPECT_EQ(read_within(srv, buf, sizeof buf, 3000), 0);
    EXPECT_EQ(read_within(srv, buf, sizeof buf, 3000), 0);
    EXPECT(send(srv, "late", 4, MSG_NOSIGNAL), EPIPE);
    /* The shut-down side: what arrived before, then 0, then ENOTCONN. */
    if (how == SHUT_WR) {
        for (int i = 1; i <= 2; i++) {
            ssize_t n = read_within(cl, buf, sizeof buf, 3000);
            EXPECT_EQ(n, 2);
            EXPECT_EQ(buf[1], '0' + i);
        }
    }
    usleep(300 * 1000); /* SHUTDOWN ACK, SHUTDOWN COMPLETE */
    if (how == SHUT_WR) {
        /* Linux: no EOF here (the receive side was not shut), and once
         * the association is gone, nothing to wait for: ENOTCONN. (Linux's
         * poll does not report the socket readable then; the shim's does,
         * and the read answers ENOTCONN: docs/linux-conformance.md.) */
        EXPECT(read(cl, buf, sizeof buf), ENOTCONN);
        EXPECT(read(cl, buf, sizeof buf), ENOTCONN);
    } else {
        /* SHUT_RDWR: the receive side is shut; what had arrived stays
         * readable, then 0 for good. */
        EXPECT_EQ(read_within(cl, buf, sizeof buf, 3000), 2);
        EXPECT_EQ(read_within(cl, buf, sizeof buf, 3000), 2);
        EXPECT_EQ(read_within(cl, buf, sizeof buf, 3000), 0);
        EXPECT_EQ(read_within(cl, buf, sizeof buf, 3000), 0);
    }
    struct sctp_status st = {0};
    socklen_t sl = sizeof st;
    EXPECT(getsockopt(cl, IPPROTO_SCTP, SCTP_STATUS, &st, &sl), EINVAL);
    close(cl);
    close(srv);
}

/* SHUT_RD alone: nothing on the wire; the reader sees EOF once the queue is
 * empty, the association stays up and the socket can still send. */
static void shut_rd(uint16_t port) {
    int cl, srv;
    connected_pair(port, &cl, &srv);
    char buf[64];
    CHECK(write(srv, "s1", 2) == 2);
    CHECK(readable(cl, 3000));
    EXPECT_EQ(shutdown(cl, SHUT_RD), 0);
    EXPECT_EQ(read(cl, buf, sizeof buf), 2);
    EXPECT_EQ(read(cl, buf, sizeof buf), 0);
    EXPECT_EQ(write(cl, "c1", 2), 2);
    EXPECT_EQ(read_within(srv, buf, sizeof buf, 3000), 2);
    struct sctp_status st = {0};
    socklen_t sl = sizeof st;
    EXPECT_EQ(getsockopt(cl, IPPROTO_SCTP, SCTP_STATUS, &st, &sl), 0);
    EXPECT_EQ(st.sstat_state, SCTP_ESTABLISHED);
    close(cl);
    close(srv);
}

static void states(uint16_t port) {
    int s = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(s >= 0);
    EXPECT(shutdown(s, SHUT_WR), ENOTCONN);
    EXPECT(shutdown(s, 7), EINVAL);
    EXPECT(shutdown(s, -1), EINVAL);
    close(s);
    int l = listen_on(SOCK_STREAM, port, 0, 8);
    EXPECT_EQ(shutdown(l, SHUT_WR), 0);
    EXPECT(shutdown(l, SHUT_RD), EOPNOTSUPP);
    EXPECT(shutdown(l, SHUT_RDWR), EOPNOTSUPP);
    close(l);
    int u = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
    CHECK(u >= 0);
    EXPECT(shutdown(u, SHUT_WR), ENOTCONN);
    EXPECT(shutdown(u, SHUT_RDWR), ENOTCONN);
    close(u);
    int m = listen_on(SOCK_SEQPACKET, port + 1, 0, 8);
    EXPECT_EQ(shutdown(m, SHUT_WR), 0);
    EXPECT(shutdown(m, SHUT_RD), EOPNOTSUPP);
    close(m);
    EXPECT(shutdown(1000, SHUT_WR), EBADF);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    uint16_t port = free_ports(4);
    one_to_one(port, SHUT_WR);
    one_to_one(port + 1, SHUT_RDWR);
    shut_rd(port + 2);
    states(port + 3);
    return finish("shutdown");
}
