/* Every pointer argument of every interposed call, given NULL and an
 * address that maps nothing ((void *)-1, and a page unmapped for the
 * purpose): the call answers Linux's errno (EFAULT, mostly) and never
 * crashes the program (issue 14). Each expectation is Linux's own,
 * confirmed with scripts/linux-check.sh bad_pointers. Where Linux copies
 * out after the data was taken, the message is gone; the rows queue a
 * message first so that the copy is reached. */
#define _GNU_SOURCE
#include "expect.h"

#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/uio.h>

static void *unmapped;

#define BAD ((void *)-1)

/* A connected one-to-one pair on `port`: *cl connected to *srv. */
/* Queues one message for `to` to read (sent by `from`), and waits for it. */
static void queue_one(int from, int to) {
    CHECK(send(from, "abcdefgh", 8, 0) == 8);
    CHECK(readable(to, 3000));
}

static void addresses(uint16_t port) {
    struct sockaddr_in a = loop4(port);
    int s = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(s >= 0);
    EXPECT(bind(s, NULL, sizeof a), EFAULT);
    EXPECT(bind(s, BAD, sizeof a), EFAULT);
    EXPECT(bind(s, unmapped, sizeof a), EFAULT);
    EXPECT(bind(s, NULL, 0), EINVAL);
    EXPECT(connect(s, NULL, sizeof a), EFAULT);
    EXPECT(connect(s, BAD, sizeof a), EFAULT);
    EXPECT(connect(s, unmapped, sizeof a), EFAULT);
    EXPECT(connect(s, NULL, 0), EINVAL);
    EXPECT(bind(s, (struct sockaddr *)&a, 4096), EINVAL);
    socklen_t len = sizeof a;
    EXPECT(getsockname(s, BAD, &len), EFAULT);
    EXPECT(getsockname(s, (struct sockaddr *)&a, BAD), EFAULT);
    EXPECT(getsockname(s, (struct sockaddr *)&a, NULL), EFAULT);
    EXPECT(getsockname(s, unmapped, &len), EFAULT);
    close(s);

    int cl, srv;
    connected_pair(port, &cl, &srv);
    len = sizeof a;
    EXPECT(getpeername(cl, BAD, &len), EFAULT);
    EXPECT(getpeername(cl, (struct sockaddr *)&a, BAD), EFAULT);
    EXPECT(getpeername(cl, NULL, &len), EFAULT);
    EXPECT(getpeername(srv, unmapped, &len), EFAULT);
    len = 0;
    EXPECT_OK(getpeername(cl, NULL, &len)); /* nothing to copy */
    close(cl);
    close(srv);
}

static void accepts(uint16_t port) {
    int l = listen_on(SOCK_STREAM, port, 0, 8);
    struct sockaddr_in a = loop4(port);
    socklen_t len = sizeof a;
    for (int i = 0; i < 4; i++) {
        int c = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
        CHECK(c >= 0);
        CHECK(connect(c, (struct sockaddr *)&a, sizeof a) == 0);
        CHECK(readable(l, 3000));
        switch (i) {
        case 0: EXPECT(accept(l, BAD, &len), EFAULT); break;
        case 1: EXPECT(accept(l, (struct sockaddr *)&a, BAD), EFAULT); break;
        case 2: EXPECT(accept4(l, unmapped, &len, SOCK_CLOEXEC), EFAULT); break;
        case 3: { /* no address asked for: the length is not touched */
            int f = accept(l, NULL, BAD);
            EXPECT_OK(f);
            if (f >= 0) close(f);
            break;
        }
        }
        close(c);
    }
    close(l);
}

static void options(uint16_t port) {
    int s = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
    CHECK(s >= 0);
    int v = 1;
    socklen_t len = sizeof v;
    EXPECT(getsockopt(s, IPPROTO_SCTP, SCTP_NODELAY, BAD, &len), EFAULT);
    EXPECT(getsockopt(s, IPPROTO_SCTP, SCTP_NODELAY, &v, BAD), EFAULT);
    EXPECT(getsockopt(s, IPPROTO_SCTP, SCTP_NODELAY, &v, NULL), EFAULT);
    EXPECT(getsockopt(s, IPPROTO_SCTP, SCTP_NODELAY, unmapped, &len), EFAULT);
    len = 176;
    EXPECT(getsockopt(s, IPPROTO_SCTP, SCTP_STATUS, BAD, &len), EFAULT);
    len = 256;
    EXPECT(getsockopt(s, IPPROTO_SCTP, SCTP_EVENTS, unmapped, &len), EFAULT);
    len = 256;
    EXPECT(getsockopt(s, IPPROTO_SCTP, SCTP_GET_LOCAL_ADDRS, BAD, &len), EFAULT);
    len = sizeof v;
    EXPECT(getsockopt(s, SOL_SOCKET, SO_RCVBUF, BAD, &len), EFAULT);
    EXPECT(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, BAD), EFAULT);
    EXPECT(getsockopt(s, IPPROTO_IP, IP_TOS, BAD, &len), EFAULT);
    EXPECT(setsockopt(s, IPPROTO_SCTP, SCTP_NODELAY, BAD, sizeof v), EFAULT);
    EXPECT(setsockopt(s, IPPROTO_SCTP, SCTP_NODELAY, NULL, sizeof v), EFAULT);
    EXPECT(setsockopt(s, IPPROTO_SCTP, SCTP_EVENTS, unmapped, 14), EFAULT);
    EXPECT(setsockopt(s, IPPROTO_SCTP, SCTP_INITMSG, BAD, 8), EFAULT);
    EXPECT(setsockopt(s, IPPROTO_SCTP, SCTP_RTOINFO, unmapped, 16), EFAULT);
    EXPECT(setsockopt(s, IPPROTO_SCTP, SCTP_SOCKOPT_BINDX_ADD, BAD, 16), EFAULT);
    EXPECT(setsockopt(s, IPPROTO_SCTP, SCTP_SOCKOPT_CONNECTX, BAD, 16), EFAULT);
    EXPECT(setsockopt(s, SOL_SOCKET, SO_RCVBUF, BAD, sizeof v), EFAULT);
    EXPECT(setsockopt(s, SOL_SOCKET, SO_LINGER, unmapped, 8), EFAULT);
    EXPECT(setsockopt(s, IPPROTO_IP, IP_TOS, BAD, sizeof v), EFAULT);
    close(s);
    (void)port;
}

static void receives(uint16_t port) {
    int cl, srv;
    connected_pair(port, &cl, &srv);
    char buf[64];
    struct sockaddr_in from;
    socklen_t flen = sizeof from;
    queue_one(cl, srv);
    EXPECT(read(srv, BAD, sizeof buf), EFAULT);
    queue_one(cl, srv);
    EXPECT(recv(srv, unmapped, sizeof buf, 0), EFAULT);
    queue_one(cl, srv);
    EXPECT(recvfrom(srv, buf, sizeof buf, 0, BAD, &flen), EFAULT);
    queue_one(cl, srv);
    EXPECT(recvfrom(srv, buf, sizeof buf, 0, (struct sockaddr *)&from, BAD), EFAULT);
    queue_one(cl, srv);
    EXPECT(recvmsg(srv, BAD, 0), EFAULT);
    EXPECT(recvmsg(srv, NULL, 0), EFAULT);
    struct iovec iov = {buf, sizeof buf};
    struct msghdr m = {.msg_iov = BAD, .msg_iovlen = 1};
    EXPECT(recvmsg(srv, &m, 0), EFAULT);
    m.msg_iov = &iov;
    iov.iov_base = unmapped;
    EXPECT(recvmsg(srv, &m, 0), EFAULT);
    iov.iov_base = buf;
    queue_one(cl, srv);
    m.msg_name = BAD;
    m.msg_namelen = sizeof from;
    EXPECT(recvmsg(srv, &m, 0), EFAULT);
    m.msg_name = NULL;
    m.msg_namelen = 0;
    /* A control buffer Linux cannot write to: the data still arrives. */
    queue_one(cl, srv);
    int on = 1;
    CHECK(setsockopt(srv, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on) == 0);
    m.msg_control = BAD;
    m.msg_controllen = 256;
    EXPECT_OK(recvmsg(srv, &m, 0));
    close(cl);
    close(srv);
}

static void sends(uint16_t port) {
    int cl, srv;
    connected_pair(port, &cl, &srv);
    EXPECT(write(cl, BAD, 8), EFAULT);
    EXPECT(send(cl, unmapped, 8, 0), EFAULT);
    EXPECT(send(cl, NULL, 8, 0), EFAULT);
    EXPECT(sendmsg(cl, BAD, 0), EFAULT);
    EXPECT(sendmsg(cl, NULL, 0), EFAULT);
    struct iovec iov = {"abcdefgh", 8};
    struct msghdr m = {.msg_iov = BAD, .msg_iovlen = 1};
    EXPECT(sendmsg(cl, &m, 0), EFAULT);
    m.msg_iov = &iov;
    m.msg_control = BAD;
    m.msg_controllen = 64;
    EXPECT(sendmsg(cl, &m, 0), EFAULT);
    m.msg_control = NULL;
    m.msg_controllen = 0;
    iov.iov_base = unmapped;
    EXPECT(sendmsg(cl, &m, 0), EFAULT);
    /* The vector calls. */
    EXPECT(writev(cl, BAD, 1), EFAULT);
    struct iovec bad_iov = {BAD, 8};
    EXPECT(writev(cl, &bad_iov, 1), EFAULT);
    EXPECT(sendmmsg(cl, BAD, 1, 0), EFAULT);
    queue_one(srv, cl);
    EXPECT(readv(cl, BAD, 1), EFAULT);
    queue_one(srv, cl);
    EXPECT(recvmmsg(cl, BAD, 1, 0, NULL), EFAULT);
    queue_one(srv, cl);
    EXPECT(ioctl(cl, FIONREAD, BAD), EFAULT);
    /* recvmmsg's timeout is read first; sendfile's offset too. */
    char rb[16];
    struct iovec riov = {rb, sizeof rb};
    struct mmsghdr mm = {.msg_hdr = {.msg_iov = &riov, .msg_iovlen = 1}};
    EXPECT(recvmmsg(cl, &mm, 1, 0, BAD), EFAULT);
    EXPECT(recvmmsg(cl, &mm, 1, 0, unmapped), EFAULT);
    int f = memfd_create("bad_pointers", 0);
    CHECK(f >= 0 && write(f, "abc", 3) == 3);
    EXPECT(sendfile(cl, f, BAD, 3), EFAULT);
    EXPECT(sendfile(cl, f, unmapped, 3), EFAULT);
    close(f);
    close(cl);
    close(srv);

    /* One-to-many: the destination address. */
    int u = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
    CHECK(u >= 0);
    EXPECT(sendto(u, "x", 1, 0, BAD, sizeof(struct sockaddr_in)), EFAULT);
    EXPECT(sendto(u, "x", 1, 0, unmapped, sizeof(struct sockaddr_in)), EFAULT);
    struct msghdr mn = {.msg_name = BAD, .msg_namelen = sizeof(struct sockaddr_in),
                        .msg_iov = &iov, .msg_iovlen = 1};
    iov.iov_base = "abcdefgh";
    EXPECT(sendmsg(u, &mn, 0), EFAULT);
    close(u);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    unmapped = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(unmapped != MAP_FAILED);
    CHECK(munmap(unmapped, 4096) == 0);
    uint16_t port = free_ports(5);
    addresses(port);
    accepts(port + 1);
    options(port + 2);
    receives(port + 3);
    sends(port + 4);
    return finish("bad_pointers");
}
