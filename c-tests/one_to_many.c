/* One-to-many (UDP-style) sockets, RFC 6458 §3, with Linux's layouts:
 * a SOCK_SEQPACKET server that listens, subscribes to data_io and
 * association events, and three SOCK_SEQPACKET clients that set up their
 * associations implicitly by sendmsg with SCTP_SNDRCV (distinct streams and
 * PPIDs). Checks every field the server receives (COMM_UP per client, then
 * each message with its stream, PPID, assoc id, peer address, MSG_EOR),
 * replies by assoc id, and ends with SCTP_EOF → SHUTDOWN_COMP. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #c, strerror(errno)); exit(1); } } while (0)
#define SOL_SCTP_ 132
#define SCTP_SNDRCV_ 1
#define SCTP_EVENTS_ 11
#define SCTP_EOF_ 0x200
#define MSG_NOTIFICATION_ 0x8000
#define SCTP_ASSOC_CHANGE_ 0x8001
#define N 3

struct sndrcvinfo {  /* struct sctp_sndrcvinfo */
    uint16_t stream, ssn, flags;
    uint32_t ppid, context, ttl, tsn, cumtsn;
    int32_t assoc_id;
};
struct assoc_change {  /* struct sctp_assoc_change */
    uint16_t type, flags; uint32_t length;
    uint16_t state, error, outbound, inbound; int32_t assoc_id;
};

static ssize_t send_info(int s, struct sockaddr_in *to, const char *txt, uint16_t stream, uint32_t ppid, int32_t assoc, uint16_t flags) {
    char cbuf[CMSG_SPACE(sizeof(struct sndrcvinfo))];
    memset(cbuf, 0, sizeof cbuf);
    struct iovec iov = { (void *)txt, strlen(txt) };
    struct msghdr m = { .msg_name = to, .msg_namelen = to ? sizeof *to : 0, .msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = cbuf, .msg_controllen = sizeof cbuf };
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SCTP_; c->cmsg_type = SCTP_SNDRCV_; c->cmsg_len = CMSG_LEN(sizeof(struct sndrcvinfo));
    struct sndrcvinfo *i = (struct sndrcvinfo *)CMSG_DATA(c);
    i->stream = stream; i->ppid = htonl(ppid); i->assoc_id = assoc; i->flags = flags;
    return sendmsg(s, &m, 0);
}

/* Receives one record: data or notification. */
static ssize_t recv_one(int s, char *buf, size_t n, struct sndrcvinfo *info, int *flags, struct sockaddr_in *from) {
    char cbuf[256];
    struct iovec iov = { buf, n };
    struct msghdr m = { .msg_name = from, .msg_namelen = sizeof *from, .msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = cbuf, .msg_controllen = sizeof cbuf };
    ssize_t r = recvmsg(s, &m, 0);
    *flags = m.msg_flags;
    memset(info, 0, sizeof *info);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
        if (c->cmsg_level == SOL_SCTP_ && c->cmsg_type == SCTP_SNDRCV_) memcpy(info, CMSG_DATA(c), sizeof *info);
    return r;
}

int main(void) {
    int srv = socket(AF_INET, SOCK_SEQPACKET, 132);
    CHECK(srv >= 0);
    int ty; socklen_t tl = sizeof ty;
    CHECK(getsockopt(srv, SOL_SOCKET, SO_TYPE, &ty, &tl) == 0 && ty == SOCK_SEQPACKET);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    CHECK(bind(srv, (struct sockaddr *)&sa, sizeof sa) == 0);
    socklen_t sl = sizeof sa;
    CHECK(getsockname(srv, (struct sockaddr *)&sa, &sl) == 0);
    unsigned char ev[14] = { 1 /* data_io */, 1 /* association */ };
    CHECK(setsockopt(srv, SOL_SCTP_, SCTP_EVENTS_, ev, sizeof ev) == 0);
    CHECK(listen(srv, 8) == 0);

    int cl[N];
    unsigned short cport[N];
    for (int i = 0; i < N; i++) {
        cl[i] = socket(AF_INET, SOCK_SEQPACKET, 132);
        CHECK(cl[i] >= 0);
        char msg[32];
        snprintf(msg, sizeof msg, "hello from %d", i);
        CHECK(send_info(cl[i], &sa, msg, (uint16_t)(i + 1), 100 + i, 0, 0) == (ssize_t)strlen(msg));
        struct sockaddr_in me; socklen_t ml = sizeof me;
        CHECK(getsockname(cl[i], (struct sockaddr *)&me, &ml) == 0);
        cport[i] = me.sin_port;
    }

    /* Server: N COMM_UP notifications and N messages, in any interleaving. */
    int32_t assoc_of[N] = { 0 };
    int ups = 0, msgs = 0;
    while (ups < N || msgs < N) {
        char buf[256]; struct sndrcvinfo info; int flags; struct sockaddr_in from;
        ssize_t r = recv_one(srv, buf, sizeof buf, &info, &flags, &from);
        CHECK(r > 0);
        CHECK(flags & MSG_EOR);
        if (flags & MSG_NOTIFICATION_) {
            struct assoc_change ac; memcpy(&ac, buf, sizeof ac);
            CHECK(ac.type == SCTP_ASSOC_CHANGE_ && ac.length == 20 && ac.state == 0 /* COMM_UP */);
            CHECK(ac.assoc_id > 2 && ac.outbound == 10 && ac.inbound == 10);
            ups++;
            continue;
        }
        buf[r] = 0;
        int i = -1;
        for (int k = 0; k < N; k++) if (from.sin_port == cport[k]) i = k;
        CHECK(i >= 0 && from.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
        char want[32]; snprintf(want, sizeof want, "hello from %d", i);
        CHECK(strcmp(buf, want) == 0);
        CHECK(info.stream == i + 1 && ntohl(info.ppid) == (uint32_t)(100 + i) && info.assoc_id > 2);
        assoc_of[i] = info.assoc_id;
        msgs++;
    }
    /* SCTP_STATUS on a one-to-many socket names the association. */
    unsigned char stat[176]; memset(stat, 0, sizeof stat);
    memcpy(stat, &assoc_of[2], 4);
    socklen_t stl = sizeof stat;
    CHECK(getsockopt(srv, SOL_SCTP_, 14, stat, &stl) == 0);
    int32_t st_state; memcpy(&st_state, stat + 4, 4);
    CHECK(st_state == 4 /* ESTABLISHED */);
    int32_t bogus = 12345; memcpy(stat, &bogus, 4); stl = sizeof stat;
    CHECK(getsockopt(srv, SOL_SCTP_, 14, stat, &stl) == -1 && errno == EINVAL);
    /* SCTP_RECVRCVINFO on client 1: its reply carries SCTP_RCVINFO too. */
    int on = 1;
    CHECK(setsockopt(cl[1], SOL_SCTP_, 32, &on, sizeof on) == 0);
    /* Reply to each by association id only (no address). */
    for (int i = 0; i < N; i++) {
        char msg[32]; snprintf(msg, sizeof msg, "reply %d", i);
        CHECK(send_info(srv, NULL, msg, 0, 7, assoc_of[i], 0) == (ssize_t)strlen(msg));
    }
    for (int i = 0; i < N; i++) {
        char buf[64]; struct sndrcvinfo info; int flags; struct sockaddr_in from;
        ssize_t r = recv_one(cl[i], buf, sizeof buf - 1, &info, &flags, &from);
        CHECK(r > 0 && (flags & MSG_EOR) && !(flags & MSG_NOTIFICATION_));
        buf[r] = 0;
        char want[32]; snprintf(want, sizeof want, "reply %d", i);
        CHECK(strcmp(buf, want) == 0 && from.sin_port == sa.sin_port);
    }
    {
        /* One more reply to client 1, read with a raw recvmsg to see both cmsgs. */
        CHECK(send_info(srv, NULL, "again", 2, 7, assoc_of[1], 0) == 5);
        char buf[64], cbuf[256];
        struct iovec iov = { buf, sizeof buf };
        struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
        CHECK(recvmsg(cl[1], &m, 0) == 5);
        int saw_rcvinfo = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
            if (c->cmsg_level == SOL_SCTP_ && c->cmsg_type == 3 /* SCTP_RCVINFO */) {
                unsigned char *d = CMSG_DATA(c);
                uint16_t sid; uint32_t ppid;
                memcpy(&sid, d, 2); memcpy(&ppid, d + 8, 4);
                CHECK(c->cmsg_len == CMSG_LEN(28) && sid == 2 && ntohl(ppid) == 7);
                saw_rcvinfo = 1;
            }
        CHECK(saw_rcvinfo);
    }
    /* sctp_peeloff (as libsctp does it: SCTP_SOCKOPT_PEELOFF = 102): client
     * 0's association moves to a one-to-one socket of its own. */
    struct { int32_t assoc_id; int sd; } po = { assoc_of[0], -1 };
    socklen_t pl = sizeof po;
    /* Linux returns the new descriptor, also put in the struct. */
    int pr_ = getsockopt(srv, SOL_SCTP_, 102, &po, &pl);
    CHECK(pr_ >= 0 && pr_ == po.sd);
    CHECK(getsockopt(srv, SOL_SCTP_, 102, &po, &pl) == -1 && errno == EINVAL); /* not on srv any more */
    int ty2; socklen_t tl2 = sizeof ty2;
    CHECK(getsockopt(po.sd, SOL_SOCKET, SO_TYPE, &ty2, &tl2) == 0 && ty2 == SOCK_STREAM);
    CHECK(send_info(cl[0], &sa, "after peeloff", 3, 9, 0, 0) == 13);
    char pb[32];
    ssize_t pr = read(po.sd, pb, sizeof pb);
    CHECK(pr == 13 && memcmp(pb, "after peeloff", 13) == 0);
    CHECK(write(po.sd, "peeled reply", 12) == 12);
    {
        char buf[64]; struct sndrcvinfo info; int flags; struct sockaddr_in from;
        ssize_t r = recv_one(cl[0], buf, sizeof buf, &info, &flags, &from);
        CHECK(r == 12 && memcmp(buf, "peeled reply", 12) == 0);
    }
    close(po.sd); /* shuts client 0's association down */

    /* The others end with SCTP_EOF; the server sees SHUTDOWN_COMP for each. */
    for (int i = 1; i < N; i++) CHECK(send_info(cl[i], &sa, "", 0, 0, 0, SCTP_EOF_) == 0);
    int done = 0;
    while (done < N - 1) {
        char buf[256]; struct sndrcvinfo info; int flags; struct sockaddr_in from;
        ssize_t r = recv_one(srv, buf, sizeof buf, &info, &flags, &from);
        CHECK(r > 0 && (flags & MSG_NOTIFICATION_));
        struct assoc_change ac; memcpy(&ac, buf, sizeof ac);
        CHECK(ac.type == SCTP_ASSOC_CHANGE_ && ac.state == 3 /* SHUTDOWN_COMP */);
        done++;
    }
    for (int i = 0; i < N; i++) close(cl[i]);
    close(srv);
    printf("one_to_many: ok\n");
    return 0;
}
