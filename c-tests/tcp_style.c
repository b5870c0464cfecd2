/* One-to-one (TCP-style) sockets as SCTP-aware programs use them: one send
 * is one message (each recvmsg returns one, with MSG_EOR), SCTP_SNDRCV and
 * SCTP_SNDINFO set stream and PPID, the data_io event returns them,
 * notifications arrive in line (subscriptions set on the listener carry over
 * to accepted sockets), shutdown(SHUT_WR) ends the association gracefully,
 * SO_LINGER 0 aborts it, SCTP_EOF / SCTP_ABORT are EINVAL (one-to-many
 * only, as Linux's sctp_sendmsg_parse), and a stream the association
 * lacks is EINVAL. */
#include "common.h"

static void sndrcv_send(int s, const char *txt, uint16_t stream, uint32_t ppid, uint16_t flags) {
    char cbuf[CMSG_SPACE(sizeof(struct sctp_sndrcvinfo))];
    memset(cbuf, 0, sizeof cbuf);
    struct iovec iov = {(void *)txt, strlen(txt)};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = IPPROTO_SCTP; c->cmsg_type = SCTP_SNDRCV; c->cmsg_len = CMSG_LEN(sizeof(struct sctp_sndrcvinfo));
    struct sctp_sndrcvinfo *i = (struct sctp_sndrcvinfo *)CMSG_DATA(c);
    i->sinfo_stream = stream; i->sinfo_ppid = htonl(ppid); i->sinfo_flags = flags;
    CHECK(sendmsg(s, &m, 0) == (ssize_t)strlen(txt));
}

/* Reads one notification of `type`; returns the adaptation indication for
 * SCTP_ADAPTATION_INDICATION, 0 otherwise. */
static uint32_t expect_note(int s, uint16_t type, uint16_t state) {
    char buf[512];
    struct got g;
    CHECK(readable(s, 3000));
    errno = 0;
    if (recv_got(s, buf, sizeof buf, 0, &g) <= 0)
        fprintf(stderr, "waiting for %#x/%u: recvmsg gave %zd\n", type, state, g.n);
    CHECK(g.n > 0);
    CHECK(g.flags & MSG_NOTIFICATION);
    union sctp_notification *n = (union sctp_notification *)buf;
    if (n->sn_header.sn_type != type) fprintf(stderr, "note %#x, want %#x\n", n->sn_header.sn_type, type);
    CHECK(n->sn_header.sn_type == type);
    if (type == SCTP_ASSOC_CHANGE) CHECK(n->sn_assoc_change.sac_state == state);
    return type == SCTP_ADAPTATION_INDICATION ? n->sn_adaptation_event.sai_adaptation_ind : 0;
}

static void expect_data(int s, const char *txt, uint16_t stream, uint32_t ppid) {
    char buf[512];
    struct got g;
    CHECK(readable(s, 3000));
    CHECK(recv_got(s, buf, sizeof buf, 0, &g) == (ssize_t)strlen(txt));
    CHECK(memcmp(buf, txt, strlen(txt)) == 0);
    CHECK((g.flags & MSG_EOR) && !(g.flags & MSG_NOTIFICATION));
    CHECK(g.has_sndrcv && g.sndrcv.sinfo_stream == stream && g.sndrcv.sinfo_ppid == htonl(ppid));
}

/* A listener closed and another bound on its port at once (the closed
 * one's descriptors are often reused by the new one): the new listener
 * must answer. SIGALRM ends the test if an association never comes up. */
static void relisten(uint16_t base) {
    alarm(30);
    for (int i = 0; i < 20; i++) {
        struct sockaddr_in a = loop4((uint16_t)(base + i));
        int l = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
        CHECK(l >= 0);
        CHECK(bind(l, (struct sockaddr *)&a, sizeof a) == 0);
        CHECK(listen(l, 1) == 0);
        close(l);
        l = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
        CHECK(l >= 0);
        CHECK(bind(l, (struct sockaddr *)&a, sizeof a) == 0);
        CHECK(listen(l, 1) == 0);
        int c = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
        CHECK(connect(c, (struct sockaddr *)&a, sizeof a) == 0);
        int s = accept(l, NULL, NULL);
        CHECK(s >= 0);
        CHECK(write(c, "x", 1) == 1);
        char b;
        CHECK(read(s, &b, 1) == 1 && b == 'x');
        close(s);
        close(c);
        close(l);
    }
    alarm(0);
}

int main(void) {
    uint16_t port = free_ports(2);
    /* (below the ephemeral range, which clients of other tests draw from) */
    relisten((uint16_t)(port + 1));
    struct sockaddr_in a = loop4(port);
    int l = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(l >= 0);
    CHECK(bind(l, (struct sockaddr *)&a, sizeof a) == 0);
    struct sctp_event_subscribe ev = {0};
    ev.sctp_data_io_event = 1;
    ev.sctp_association_event = 1;
    ev.sctp_shutdown_event = 1;
    ev.sctp_adaptation_layer_event = 1;
    CHECK(setsockopt(l, IPPROTO_SCTP, SCTP_EVENTS, &ev, sizeof ev) == 0);
    struct sctp_setadaptation ad = {.ssb_adaptation_ind = 0x11223344};
    CHECK(setsockopt(l, IPPROTO_SCTP, SCTP_ADAPTATION_LAYER, &ad, sizeof ad) == 0);
    CHECK(listen(l, 4) == 0);

    int k = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(setsockopt(k, IPPROTO_SCTP, SCTP_EVENTS, &ev, sizeof ev) == 0);
    ad.ssb_adaptation_ind = 0x55667788;
    CHECK(setsockopt(k, IPPROTO_SCTP, SCTP_ADAPTATION_LAYER, &ad, sizeof ad) == 0);
    socklen_t al = sizeof ad;
    CHECK(getsockopt(k, IPPROTO_SCTP, SCTP_ADAPTATION_LAYER, &ad, &al) == 0 && ad.ssb_adaptation_ind == 0x55667788);
    CHECK(connect(k, (struct sockaddr *)&a, sizeof a) == 0);
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    /* COMM_UP, then the peer's Adaptation Layer Indication. */
    expect_note(k, SCTP_ASSOC_CHANGE, SCTP_COMM_UP);
    CHECK(expect_note(k, SCTP_ADAPTATION_INDICATION, 0) == 0x11223344);
    expect_note(s, SCTP_ASSOC_CHANGE, SCTP_COMM_UP);
    CHECK(expect_note(s, SCTP_ADAPTATION_INDICATION, 0) == 0x55667788);

    /* Five sends, five messages, whatever the reader's buffer. */
    sndrcv_send(k, "one", 3, 99, 0);
    CHECK(send(k, "two", 3, 0) == 3);
    CHECK(write(k, "three", 5) == 5);
    struct sctp_sndinfo si = {.snd_sid = 7, .snd_ppid = htonl(1234)};
    CHECK(send_info(k, NULL, 0, "four", 4, &si, NULL, 0) == 4);
    sndrcv_send(k, "five", 9, 5, SCTP_UNORDERED);
    usleep(200000);
    expect_data(s, "one", 3, 99);
    expect_data(s, "two", 0, 0);
    expect_data(s, "three", 0, 0);
    expect_data(s, "four", 7, 1234);
    expect_data(s, "five", 9, 5);

    /* A stream beyond the 10 negotiated ones. */
    si.snd_sid = 10;
    CHECK(send_info(k, NULL, 0, "x", 1, &si, NULL, 0) < 0 && errno == EINVAL);

    /* Replies the other way; SCTP_EOF and SCTP_ABORT are refused; then
     * shutdown(SHUT_WR): graceful end after the data. */
    sndrcv_send(s, "back", 1, 2, 0);
    expect_data(k, "back", 1, 2);
    si = (struct sctp_sndinfo){.snd_flags = SCTP_EOF};
    CHECK(send_info(k, NULL, 0, "", 0, &si, NULL, 0) < 0 && errno == EINVAL);
    si.snd_flags = SCTP_ABORT;
    CHECK(send_info(k, NULL, 0, "x", 1, &si, NULL, 0) < 0 && errno == EINVAL);
    sndrcv_send(k, "bye", 0, 3, 0);
    CHECK(shutdown(k, SHUT_WR) == 0);
    expect_data(s, "bye", 0, 3);
    expect_note(s, SCTP_SHUTDOWN_EVENT, 0);
    expect_note(s, SCTP_ASSOC_CHANGE, SCTP_SHUTDOWN_COMP);
    char b[16];
    CHECK(readable(s, 3000) && read(s, b, sizeof b) == 0);
    close(s);
    close(k);

    /* An abortive close: the peer learns COMM_LOST, then ECONNRESET. */
    k = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(connect(k, (struct sockaddr *)&a, sizeof a) == 0);
    s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    expect_note(s, SCTP_ASSOC_CHANGE, SCTP_COMM_UP);
    struct linger lg = {1, 0};
    CHECK(setsockopt(k, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
    close(k);
    expect_note(s, SCTP_ASSOC_CHANGE, SCTP_COMM_LOST);
    CHECK(readable(s, 3000) && read(s, b, sizeof b) < 0 && errno == ECONNRESET);
    close(s);
    close(l);
    printf("tcp_style: ok\n");
    return 0;
}
