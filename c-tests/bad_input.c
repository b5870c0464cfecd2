/* Wrong calls on SCTP sockets, each answered with Linux's errno and never
 * a crash: bad lengths, NULL pointers, wrong families, option garbage,
 * malformed ancillary data, calls in the wrong state. */
#include "expect.h"

int main(void) {
    uint16_t port = free_ports(1);
    struct sockaddr_in a = loop4(port);
    int s = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(s >= 0);

    /* bind: short length, NULL address, wrong family. */
    EXPECT(bind(s, (struct sockaddr *)&a, 3), EINVAL);
    EXPECT(bind(s, NULL, sizeof a), EFAULT);
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
    EXPECT(bind(s, (struct sockaddr *)&v6, sizeof v6), EINVAL);
    CHECK(bind(s, (struct sockaddr *)&a, sizeof a) == 0);
    EXPECT(bind(s, (struct sockaddr *)&a, sizeof a), EINVAL); /* bound already */

    /* Options: short, NULL, unknown level/name. */
    int v = 1;
    socklen_t l = 2;
    EXPECT(getsockopt(s, IPPROTO_SCTP, SCTP_NODELAY, &v, &l), EINVAL);
    l = sizeof v;
    EXPECT(getsockopt(s, IPPROTO_SCTP, SCTP_NODELAY, NULL, &l), EFAULT);
    EXPECT(setsockopt(s, IPPROTO_SCTP, SCTP_NODELAY, &v, 1), EINVAL);
    EXPECT(setsockopt(s, IPPROTO_SCTP, 4242, &v, sizeof v), ENOPROTOOPT);
    /* Set-only options are not read back (as Linux). */
    char big[256] = {0};
    l = sizeof big;
    EXPECT(getsockopt(s, IPPROTO_SCTP, SCTP_SOCKOPT_BINDX_ADD, big, &l), ENOPROTOOPT);
    l = sizeof big;
    EXPECT(getsockopt(s, IPPROTO_SCTP, SCTP_SET_PEER_PRIMARY_ADDR, big, &l), ENOPROTOOPT);
    struct sctp_initmsg im = {0};
    EXPECT(setsockopt(s, IPPROTO_SCTP, SCTP_INITMSG, &im, 3), EINVAL);
    EXPECT(setsockopt(s, IPPROTO_SCTP, SCTP_EVENTS, &v, 200), EINVAL);

    /* Wrong state: accept without listen, connect to nowhere twice. */
    EXPECT(accept(s, NULL, NULL), EINVAL);
    CHECK(listen(s, 4) == 0);
    int c = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    EXPECT(connect(c, NULL, sizeof a), EFAULT);
    EXPECT(connect(c, (struct sockaddr *)&a, 2), EINVAL);
    CHECK(connect(c, (struct sockaddr *)&a, sizeof a) == 0);
    EXPECT(connect(c, (struct sockaddr *)&a, sizeof a), EISCONN);
    EXPECT(listen(c, 4), EINVAL);
    int acc = accept(s, NULL, NULL);
    CHECK(acc >= 0);

    /* sendmsg with malformed ancillary data. */
    char cbuf[64];
    memset(cbuf, 0, sizeof cbuf);
    struct iovec iov = {"x", 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
    struct cmsghdr *cm = (struct cmsghdr *)cbuf;
    cm->cmsg_level = IPPROTO_SCTP;
    cm->cmsg_type = SCTP_SNDRCV;
    cm->cmsg_len = CMSG_LEN(5); /* not sizeof(struct sctp_sndrcvinfo) */
    EXPECT(sendmsg(c, &m, 0), EINVAL);
    cm->cmsg_type = 77; /* unknown SCTP cmsg */
    cm->cmsg_len = CMSG_LEN(4);
    EXPECT(sendmsg(c, &m, 0), EINVAL);
    cm->cmsg_len = 4096; /* runs past the buffer */
    EXPECT(sendmsg(c, &m, 0), EINVAL);
    m.msg_control = NULL;
    m.msg_controllen = 0;
    CHECK(sendmsg(c, &m, 0) == 1);

    /* One-to-many: unknown association, peeloff of nothing. */
    int u = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
    struct sctp_sndinfo si = {.snd_assoc_id = 999999};
    EXPECT(send_info(u, NULL, 0, "x", 1, &si, NULL, 0), EINVAL);
    sctp_peeloff_arg_t po = {.associd = 999999};
    l = sizeof po;
    EXPECT(getsockopt(u, IPPROTO_SCTP, SCTP_SOCKOPT_PEELOFF, &po, &l), EINVAL);
    struct sctp_status st = {.sstat_assoc_id = 999999};
    l = sizeof st;
    EXPECT(getsockopt(u, IPPROTO_SCTP, SCTP_STATUS, &st, &l), EINVAL);
    /* peeloff on a one-to-one socket */
    po.associd = 0;
    l = sizeof po;
    EXPECT(getsockopt(c, IPPROTO_SCTP, SCTP_SOCKOPT_PEELOFF, &po, &l), EINVAL);

    close(u);
    close(acc);
    close(c);
    close(s);
    return finish("bad_input");
}
