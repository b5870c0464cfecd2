/* Many receives with a name and ancillary data on a one-to-one socket
 * (past the first few, which the shim's daemon serves itself before the
 * program reads through the socket's shared page): each message comes with
 * the peer's address, SCTP_RCVINFO and SCTP_SNDRCV (the data_io event,
 * what sctp_recvmsg asks for) giving its stream, SSN, PPID, TSN and
 * association, and SCTP_NXTINFO when the next one is already queued; a
 * message larger than the buffer comes in pieces with MSG_EOR on the last
 * only; a notification comes with MSG_NOTIFICATION and no data ancillary
 * data; then the end of file. */
#include "common.h"

#define MSGS 40

static int on = 1;

int main(void) {
    uint16_t port = free_ports(1);
    int cl, srv;
    connected_pair(port, &cl, &srv);
    struct sctp_event_subscribe ev = {0};
    ev.sctp_data_io_event = 1;
    ev.sctp_shutdown_event = 1;
    CHECK(setsockopt(srv, IPPROTO_SCTP, SCTP_EVENTS, &ev, sizeof ev) == 0);
    CHECK(setsockopt(srv, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on) == 0);
    CHECK(setsockopt(srv, IPPROTO_SCTP, SCTP_RECVNXTINFO, &on, sizeof on) == 0);
    struct sctp_status st;
    memset(&st, 0, sizeof st);
    socklen_t sl = sizeof st;
    CHECK(getsockopt(srv, IPPROTO_SCTP, SCTP_STATUS, &st, &sl) == 0);
    sctp_assoc_t id = st.sstat_assoc_id;
    struct sockaddr_in me;
    socklen_t ml = sizeof me;
    CHECK(getsockname(cl, (struct sockaddr *)&me, &ml) == 0);

    /* MSGS messages: stream = index % 3, PPID the index. */
    for (int i = 0; i < MSGS; i++) {
        char m[16];
        int n = snprintf(m, sizeof m, "m%d", i);
        struct sctp_sndinfo si = {0};
        si.snd_sid = (uint16_t)(i % 3);
        si.snd_ppid = htonl((uint32_t)i);
        CHECK(send_info(cl, NULL, 0, m, (size_t)n, &si, NULL, 0) == n);
    }
    uint32_t tsn0 = 0;
    int nxt_seen = 0;
    for (int i = 0; i < MSGS; i++) {
        char buf[64];
        struct got g;
        CHECK(readable(srv, 5000));
        ssize_t n = recv_got(srv, buf, sizeof buf - 1, 0, &g);
        CHECK(n > 0);
        buf[n] = 0;
        CHECK(buf[0] == 'm' && atoi(buf + 1) == i);
        CHECK(!(g.flags & MSG_NOTIFICATION) && (g.flags & MSG_EOR));
        struct sockaddr_in *from = (struct sockaddr_in *)&g.from;
        CHECK(g.fromlen == sizeof(struct sockaddr_in) && from->sin_family == AF_INET);
        CHECK(from->sin_port == me.sin_port && from->sin_addr.s_addr == htonl(INADDR_LOOPBACK));
        CHECK(g.has_rcvinfo && g.has_sndrcv);
        if (i == 0) tsn0 = g.rcv.rcv_tsn;
        CHECK(g.rcv.rcv_sid == i % 3 && g.rcv.rcv_ssn == i / 3);
        CHECK(ntohl(g.rcv.rcv_ppid) == (uint32_t)i && g.rcv.rcv_tsn == tsn0 + (uint32_t)i);
        CHECK(g.rcv.rcv_assoc_id == id && g.rcv.rcv_flags == 0);
        CHECK(g.sndrcv.sinfo_stream == i % 3 && g.sndrcv.sinfo_ssn == i / 3);
        CHECK(ntohl(g.sndrcv.sinfo_ppid) == (uint32_t)i && g.sndrcv.sinfo_tsn == g.rcv.rcv_tsn);
        CHECK(g.sndrcv.sinfo_assoc_id == id);
        if (g.has_nxtinfo) {
            nxt_seen++;
            char want[16];
            CHECK(g.nxt.nxt_sid == (i + 1) % 3 && ntohl(g.nxt.nxt_ppid) == (uint32_t)(i + 1));
            CHECK(g.nxt.nxt_length == (uint32_t)snprintf(want, sizeof want, "m%d", i + 1));
            CHECK(g.nxt.nxt_assoc_id == id);
        }
    }
    /* Everything was queued before most of the reads: the next was known. */
    CHECK(nxt_seen > MSGS / 2);

    /* A message larger than the buffer: pieces, MSG_EOR on the last. */
    static char big[3000];
    memset(big, 'x', sizeof big);
    struct sctp_sndinfo si = {0};
    si.snd_sid = 1;
    si.snd_ppid = htonl(7);
    CHECK(send_info(cl, NULL, 0, big, sizeof big, &si, NULL, 0) == (ssize_t)sizeof big);
    size_t total = 0;
    int pieces = 0;
    for (;;) {
        char buf[1000];
        struct got g;
        CHECK(readable(srv, 5000));
        ssize_t n = recv_got(srv, buf, sizeof buf, 0, &g);
        CHECK(n > 0 && g.has_rcvinfo && g.rcv.rcv_sid == 1 && ntohl(g.rcv.rcv_ppid) == 7);
        CHECK(g.rcv.rcv_assoc_id == id && g.fromlen == sizeof(struct sockaddr_in));
        total += (size_t)n;
        pieces++;
        if (g.flags & MSG_EOR) break;
        CHECK(total < sizeof big);
    }
    CHECK(total == sizeof big && pieces == 3);

    /* The peer shuts down: SHUTDOWN_EVENT, then the end of file. */
    CHECK(shutdown(cl, SHUT_WR) == 0);
    {
        char buf[512];
        struct got g;
        CHECK(readable(srv, 5000));
        ssize_t n = recv_got(srv, buf, sizeof buf, 0, &g);
        CHECK(n > 0 && (g.flags & MSG_NOTIFICATION) && (g.flags & MSG_EOR));
        CHECK(!g.has_rcvinfo && !g.has_sndrcv);
        union sctp_notification *note = (union sctp_notification *)buf;
        CHECK(note->sn_header.sn_type == SCTP_SHUTDOWN_EVENT);
        CHECK(note->sn_shutdown_event.sse_assoc_id == id);
        CHECK(readable(srv, 5000));
        CHECK(recv_got(srv, buf, sizeof buf, 0, &g) == 0);
    }
    close(cl);
    close(srv);
    printf("stream_recv: ok\n");
    return 0;
}
