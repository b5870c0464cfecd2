/* A one-to-many server and 200 client associations, each sending 100
 * messages on its own sequence of streams: the server must receive every
 * message exactly once with the right stream, PPID and association id, a
 * COMM_UP before each association's data and a SHUTDOWN_COMP for each. */
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
#ifndef CLIENTS
#define CLIENTS 200
#endif
#ifndef MSGS
#define MSGS 100
#endif

struct sndrcvinfo { uint16_t stream, ssn, flags; uint32_t ppid, context, ttl, tsn, cumtsn; int32_t assoc_id; };
struct assoc_change { uint16_t type, flags; uint32_t length; uint16_t state, error, outbound, inbound; int32_t assoc_id; };

static uint16_t stream_of(int c, int i) { return (uint16_t)((c * 7 + i * 3) % 10); }

static void send_one(int s, struct sockaddr_in *to, int c, int i, uint16_t flags) {
    char cbuf[CMSG_SPACE(sizeof(struct sndrcvinfo))];
    memset(cbuf, 0, sizeof cbuf);
    char text[32];
    int n = flags ? 0 : snprintf(text, sizeof text, "c%d m%d", c, i);
    struct iovec iov = { text, (size_t)n };
    struct msghdr m = { .msg_name = to, .msg_namelen = sizeof *to, .msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = cbuf, .msg_controllen = sizeof cbuf };
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = 132; cm->cmsg_type = 1; cm->cmsg_len = CMSG_LEN(sizeof(struct sndrcvinfo));
    struct sndrcvinfo *info = (struct sndrcvinfo *)CMSG_DATA(cm);
    info->stream = stream_of(c, i);
    info->ppid = htonl((uint32_t)(c << 16 | i));
    info->flags = flags;
    CHECK(sendmsg(s, &m, 0) == n);
}

int main(void) {
    int srv = socket(AF_INET, SOCK_SEQPACKET, 132);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    CHECK(srv >= 0 && bind(srv, (struct sockaddr *)&sa, sizeof sa) == 0);
    socklen_t sl = sizeof sa;
    CHECK(getsockname(srv, (struct sockaddr *)&sa, &sl) == 0);
    unsigned char ev[14] = { 1, 1 };
    CHECK(setsockopt(srv, 132, 11, ev, sizeof ev) == 0 && listen(srv, 256) == 0);

    static int cl[CLIENTS];
    for (int c = 0; c < CLIENTS; c++) {
        cl[c] = socket(AF_INET, SOCK_SEQPACKET, 132);
        CHECK(cl[c] >= 0);
    }
    static unsigned char seen[CLIENTS][MSGS];
    static int32_t assoc_of[CLIENTS];
    static int up[CLIENTS + 1], got_total = 0, ups = 0, comps = 0;
    /* Clients send in rounds while the server drains, so neither side's
     * buffers have to hold everything at once. */
    char buf[256], cbuf[256];
    for (int i = 0; i <= MSGS; i++) {
        for (int c = 0; c < CLIENTS; c++) send_one(cl[c], &sa, c, i, i == MSGS ? 0x200 /* SCTP_EOF */ : 0);
        int want = i < MSGS ? (i + 1) * CLIENTS : MSGS * CLIENTS;
        while (got_total < want || (i == MSGS && comps < CLIENTS)) {
            struct sockaddr_in from; struct iovec iov = { buf, sizeof buf - 1 };
            struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1,
                                .msg_control = cbuf, .msg_controllen = sizeof cbuf };
            ssize_t r = recvmsg(srv, &m, 0);
            CHECK(r > 0 && (m.msg_flags & MSG_EOR));
            if (m.msg_flags & 0x8000) {
                struct assoc_change ac; memcpy(&ac, buf, sizeof ac);
                CHECK(ac.type == 0x8001);
                if (ac.state == 0) ups++;
                else if (ac.state == 3) comps++;
                else CHECK(!"unexpected association change");
                continue;
            }
            struct sndrcvinfo info; int have = 0;
            for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
                if (cm->cmsg_level == 132 && cm->cmsg_type == 1) { memcpy(&info, CMSG_DATA(cm), sizeof info); have = 1; }
            CHECK(have);
            uint32_t ppid = ntohl(info.ppid);
            int c = (int)(ppid >> 16), k = (int)(ppid & 0xffff);
            CHECK(c < CLIENTS && k < MSGS && !seen[c][k]);
            seen[c][k] = 1;
            buf[r] = 0;
            char want_text[32]; snprintf(want_text, sizeof want_text, "c%d m%d", c, k);
            CHECK(strcmp(buf, want_text) == 0 && info.stream == stream_of(c, k));
            if (!assoc_of[c]) assoc_of[c] = info.assoc_id;
            CHECK(info.assoc_id == assoc_of[c]);
            got_total++;
        }
    }
    CHECK(ups == CLIENTS && comps == CLIENTS && got_total == CLIENTS * MSGS);
    for (int c = 0; c < CLIENTS; c++) {
        for (int d = 0; d < c; d++) CHECK(assoc_of[c] != assoc_of[d]);
        close(cl[c]);
    }
    (void)up;
    close(srv);
    printf("many_clients: ok (%d associations, %d messages)\n", CLIENTS, got_total);
    return 0;
}
