/* sendfile, splice and ioctl on SCTP sockets, and reads with no
 * association, as Linux answers them (issue 14), confirmed with
 * scripts/linux-check.sh file_io:
 * - sendfile and splice into an SCTP socket make messages of the pieces
 *   the kernel cuts: each message ends at a page boundary of the file
 *   (sendfile) or at a pipe buffer's end (splice); the offset moves by
 *   what was sent, the file position only without an offset;
 * - splice out of an SCTP socket reads one message into the pipe;
 * - ioctl: SIOCOUTQ and SIOCATMARK are ENOTTY, SIOCGIFADDR and the other
 *   interface requests are the IP layer's (127.0.0.1 for "lo" on AF_INET,
 *   ENOTTY on AF_INET6), SIOCGSTAMP with no packet ENOENT;
 * - a read on a socket with no association that is not listening:
 *   blocking ENOTCONN, non-blocking EAGAIN; after an association ended
 *   in error, that error once, then the same. */
#define _GNU_SOURCE
#include "expect.h"

#include <fcntl.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>

static char data[200000];

/* Reads messages from `s` until `total` bytes came; checks that they are
 * `want` from `base`, each with MSG_EOR, and that every message but the
 * last ends where `boundary` allows. Returns the number of messages. */
static int take(int s, long total, const char *want, long base, int (*boundary)(long)) {
    static char buf[70000];
    long got = 0;
    int msgs = 0;
    while (got < total) {
        if (!readable(s, 3000)) {
            fprintf(stderr, "take: %ld of %ld bytes came\n", got, total);
            failures++;
            return msgs;
        }
        struct got g;
        ssize_t n = recv_got(s, buf, sizeof buf, 0, &g);
        if (n <= 0) {
            fprintf(stderr, "take: recv %zd errno %d\n", n, errno);
            failures++;
            return msgs;
        }
        EXPECT_EQ(!!(g.flags & MSG_EOR), 1);
        EXPECT_EQ(memcmp(buf, want + got, n), 0);
        got += n;
        msgs++;
        if (got < total && !boundary(base + got)) {
            fprintf(stderr, "take: a message ends at %ld\n", base + got);
            failures++;
        }
    }
    EXPECT_EQ(got, total);
    return msgs;
}

static int page_end(long at) { return at % 4096 == 0; }
static int pipe_ends(long at) { return at == 3000 || at == 5000; }

static void send_file(int c, int s) {
    int fd = memfd_create("data", 0);
    CHECK(fd >= 0);
    CHECK(write(fd, data, sizeof data) == (ssize_t)sizeof data);
    /* With an offset: the offset moves, the file position does not. */
    off_t off = 100;
    EXPECT_EQ(sendfile(c, fd, &off, 10000), 10000);
    EXPECT_EQ(off, 10100);
    EXPECT_EQ(lseek(fd, 0, SEEK_CUR), (off_t)sizeof data);
    take(s, 10000, data + 100, 100, page_end);
    /* Without: the file position moves. */
    CHECK(lseek(fd, 50000, SEEK_SET) == 50000);
    EXPECT_EQ(sendfile(c, fd, NULL, 150000), 150000);
    EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 200000);
    int msgs = take(s, 150000, data + 50000, 50000, page_end);
    CHECK(msgs >= 3);
    /* At the end of the file: 0. */
    EXPECT_EQ(sendfile(c, fd, NULL, 100), 0);
    /* (Asking past the end would send the last piece with MSG_MORE,
     * which Linux holds back until the next send.) */
    off = 199990;
    EXPECT_EQ(sendfile(c, fd, &off, 10), 10);
    take(s, 10, data + 199990, 199990, page_end);
    EXPECT(sendfile(c, fd, (off_t *)-1, 100), EFAULT);
    close(fd);
}

static void splices(int c, int s) {
    int p[2];
    CHECK(pipe(p) == 0);
    /* Two pipe buffers: one or two messages, cut where a buffer ends. */
    CHECK(write(p[1], data, 3000) == 3000);
    CHECK(write(p[1], data + 3000, 2000) == 2000);
    EXPECT_EQ(splice(p[0], NULL, c, NULL, 5000, 0), 5000);
    take(s, 5000, data, 0, pipe_ends);
    loff_t o = 0;
    CHECK(write(p[1], data, 10) == 10);
    EXPECT(splice(p[0], NULL, c, &o, 10, 0), EINVAL);
    EXPECT(splice(p[0], &o, c, NULL, 10, 0), ESPIPE);
    EXPECT(splice(p[0], (loff_t *)-1, c, NULL, 10, 0), ESPIPE);
    int f = memfd_create("f", 0);
    CHECK(f >= 0 && write(f, "abc", 3) == 3);
    EXPECT(splice(f, &o, c, NULL, 3, 0), EINVAL);
    close(f);
    EXPECT(splice(s, &o, p[1], NULL, 10, 0), EINVAL);
    EXPECT(splice(s, NULL, p[1], &o, 10, 0), ESPIPE);
    EXPECT_EQ(splice(p[0], NULL, c, NULL, 10, 0), 10);
    take(s, 10, data, 0, pipe_ends);
    /* Out of the socket: one message (or its first len bytes). */
    CHECK(send(c, "first", 5, 0) == 5);
    CHECK(send(c, "second", 6, 0) == 6);
    CHECK(readable(s, 3000));
    usleep(100000);
    EXPECT_EQ(splice(s, NULL, p[1], NULL, 100, 0), 5);
    EXPECT_EQ(splice(s, NULL, p[1], NULL, 3, 0), 3);
    EXPECT_EQ(splice(s, NULL, p[1], NULL, 100, 0), 3);
    char buf[32];
    EXPECT_EQ(read(p[0], buf, sizeof buf), 11);
    EXPECT_EQ(memcmp(buf, "firstsecond", 11), 0);
    /* SPLICE_F_NONBLOCK is the pipe's; the socket's O_NONBLOCK counts. */
    int fl = fcntl(s, F_GETFL);
    CHECK(fcntl(s, F_SETFL, fl | O_NONBLOCK) == 0);
    EXPECT(splice(s, NULL, p[1], NULL, 100, 0), EAGAIN);
    CHECK(fcntl(s, F_SETFL, fl) == 0);
    close(p[0]);
    close(p[1]);
}

static void ioctls(int c) {
    int n = -5;
    EXPECT(ioctl(c, SIOCOUTQ, &n), ENOTTY);
    EXPECT(ioctl(c, SIOCOUTQNSD, &n), ENOTTY);
    EXPECT(ioctl(c, SIOCATMARK, &n), ENOTTY);
    EXPECT(ioctl(c, 0x12345678, &n), ENOTTY);
    EXPECT_EQ(n, -5);
    EXPECT_EQ(ioctl(c, SIOCINQ, &n), 0);
    EXPECT_EQ(n, 0);
    struct timeval tv;
    EXPECT(ioctl(c, SIOCGSTAMP, &tv), ENOENT);
    struct ifreq r;
    memset(&r, 0, sizeof r);
    strcpy(r.ifr_name, "lo");
    EXPECT_EQ(ioctl(c, SIOCGIFADDR, &r), 0);
    EXPECT_EQ(((struct sockaddr_in *)&r.ifr_addr)->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
    memset(&r, 0, sizeof r);
    strcpy(r.ifr_name, "lo");
    EXPECT_EQ(ioctl(c, SIOCGIFINDEX, &r), 0);
    EXPECT_EQ(r.ifr_ifindex, if_nametoindex("lo"));
    EXPECT(ioctl(c, SIOCGIFADDR, (void *)-1), EFAULT);
    int six = socket(AF_INET6, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(six >= 0);
    memset(&r, 0, sizeof r);
    strcpy(r.ifr_name, "lo");
    EXPECT(ioctl(six, SIOCGIFADDR, &r), ENOTTY);
    EXPECT_EQ(ioctl(six, SIOCGIFFLAGS, &r), 0);
    EXPECT_EQ(!!(r.ifr_flags & IFF_LOOPBACK), 1);
    /* FIONBIO acts on the descriptor. */
    int on = 1;
    EXPECT_EQ(ioctl(six, FIONBIO, &on), 0);
    EXPECT_EQ(!!(fcntl(six, F_GETFL) & O_NONBLOCK), 1);
    close(six);
}

static void on_alarm(int sig) { (void)sig; }

/* A read that would wait for an association that cannot come. */
static void no_association(uint16_t port) {
    char b[8];
    alarm(2);
    for (int type = 0; type < 2; type++) {
        int k = socket(AF_INET, type ? SOCK_SEQPACKET : SOCK_STREAM, IPPROTO_SCTP);
        CHECK(k >= 0);
        EXPECT(recv(k, b, sizeof b, MSG_DONTWAIT), EAGAIN);
        EXPECT(recv(k, b, sizeof b, 0), ENOTCONN);
        struct sockaddr_in a = loop4(port + type);
        CHECK(bind(k, (struct sockaddr *)&a, sizeof a) == 0);
        EXPECT(read(k, b, sizeof b), ENOTCONN);
        struct iovec v = {b, sizeof b};
        struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1};
        EXPECT(recvmsg(k, &m, 0), ENOTCONN);
        EXPECT(recvmsg(k, &m, MSG_DONTWAIT), EAGAIN);
        close(k);
    }
    /* A refused one-to-one connect: its error once, then as above. */
    for (int nb = 0; nb < 2; nb++) {
        int k = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
        CHECK(k >= 0);
        if (nb)
            CHECK(fcntl(k, F_SETFL, O_NONBLOCK) == 0);
        struct sockaddr_in a = loop4(port + 2);
        EXPECT(connect(k, (struct sockaddr *)&a, sizeof a), nb ? EINPROGRESS : ECONNREFUSED);
        if (nb) {
            struct pollfd p = {k, POLLOUT, 0};
            poll(&p, 1, 2000);
            usleep(100000);
        }
        EXPECT(recv(k, b, sizeof b, 0), ECONNREFUSED);
        EXPECT(recv(k, b, sizeof b, 0), nb ? EAGAIN : ENOTCONN);
        EXPECT(recv(k, b, sizeof b, MSG_DONTWAIT), EAGAIN);
        EXPECT(send(k, b, 1, MSG_NOSIGNAL), EPIPE);
        close(k);
    }
    alarm(0);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_alarm};
    sigaction(SIGALRM, &sa, NULL);
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)(i * 7 + i / 4096);
    uint16_t port = free_ports(3);
    int c, s;
    connected_pair(port, &c, &s);
    send_file(c, s);
    splices(c, s);
    ioctls(c);
    close(c);
    close(s);
    no_association(port + 1);
    return finish("file_io");
}
