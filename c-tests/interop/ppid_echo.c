/* The shim end of the PPID interoperation test (scripts/e2e-usrsctp.sh):
 * a one-to-one server that reads each message's rcv_ppid, checks that its
 * bytes are the payload's (the peer, usrsctp, sends the PPID it puts in
 * the payload), and echoes the message with that PPID.
 *   ppid_echo SCTP_PORT */
#include "../common.h"

int main(int argc, char **argv) {
    if (argc != 2)
        return 2;
    int l = listen_on(SOCK_STREAM, (uint16_t)atoi(argv[1]), 0, 4);
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    const int on = 1;
    CHECK(setsockopt(s, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on) == 0);
    int bad = 0, msgs = 0;
    for (;;) {
        unsigned char buf[64];
        char ctl[CMSG_SPACE(sizeof(struct sctp_rcvinfo))];
        struct iovec v = {buf, sizeof buf};
        struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
        ssize_t n = recvmsg(s, &m, 0);
        if (n <= 0)
            break;
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        CHECK(c && c->cmsg_level == IPPROTO_SCTP && c->cmsg_type == SCTP_RCVINFO);
        struct sctp_rcvinfo ri;
        memcpy(&ri, CMSG_DATA(c), sizeof ri);
        if (n != 4 || memcmp(&ri.rcv_ppid, buf, 4) != 0) {
            fprintf(stderr, "message %d: rcv_ppid %08x, payload %02x%02x%02x%02x\n", msgs, ri.rcv_ppid,
                    buf[0], buf[1], buf[2], buf[3]);
            bad++;
        }
        msgs++;
        char sctl[CMSG_SPACE(sizeof(struct sctp_sndinfo))];
        memset(sctl, 0, sizeof sctl);
        struct msghdr o = {.msg_iov = &v, .msg_iovlen = 1, .msg_control = sctl, .msg_controllen = sizeof sctl};
        v.iov_len = (size_t)n;
        struct cmsghdr *sc = CMSG_FIRSTHDR(&o);
        sc->cmsg_level = IPPROTO_SCTP;
        sc->cmsg_type = SCTP_SNDINFO;
        sc->cmsg_len = CMSG_LEN(sizeof(struct sctp_sndinfo));
        struct sctp_sndinfo si = {.snd_ppid = ri.rcv_ppid};
        memcpy(CMSG_DATA(sc), &si, sizeof si);
        CHECK(sendmsg(s, &o, 0) == n);
    }
    printf("ppid_echo: %d messages, %d wrong\n", msgs, bad);
    return bad || msgs == 0;
}
