/* One-to-many sockets beyond the basics (RFC 6458 §5, §6, §8), with the
 * drop-in header: SCTP_EVENT per event type, SCTP_RECVRCVINFO and
 * SCTP_RECVNXTINFO, SCTP_INIT and SCTP_SNDINFO on send (context
 * round-trip), partial delivery of a message larger than the buffer (MSG_EOR
 * on the last piece only), MSG_PEEK, SENDER_DRY, SCTP_SENDALL, write() on a
 * one-to-many socket (EPIPE), SEND_FAILED_EVENT carrying the unsent data
 * after the peer aborts, and SCTP_AUTOCLOSE. */
#include "common.h"

#include <signal.h>

static int seqpacket(void) {
    int s = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
    CHECK(s >= 0);
    return s;
}

static void event(int s, uint16_t type, int on) {
    struct sctp_event e = {.se_assoc_id = SCTP_FUTURE_ASSOC, .se_type = type, .se_on = (uint8_t)on};
    CHECK(setsockopt(s, IPPROTO_SCTP, SCTP_EVENT, &e, sizeof e) == 0);
}

static int listener(uint16_t port) {
    int s = seqpacket();
    struct sockaddr_in a = loop4(port);
    CHECK(bind(s, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(listen(s, 16) == 0);
    return s;
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    char buf[200000];
    struct got g;
    uint16_t base = free_ports(3);
    struct sockaddr_in sa = loop4(base);

    /* Server: subscriptions through SCTP_EVENT, checked back. */
    int srv = listener(base);
    event(srv, SCTP_ASSOC_CHANGE, 1);
    event(srv, SCTP_SENDER_DRY_EVENT, 1);
    struct sctp_event q = {.se_assoc_id = 0, .se_type = SCTP_ASSOC_CHANGE};
    socklen_t ql = sizeof q;
    CHECK(getsockopt(srv, IPPROTO_SCTP, SCTP_EVENT, &q, &ql) == 0 && q.se_on == 1 && ql == sizeof q);
    q.se_type = SCTP_PEER_ADDR_CHANGE;
    CHECK(getsockopt(srv, IPPROTO_SCTP, SCTP_EVENT, &q, &ql) == 0 && q.se_on == 0);
    struct sctp_event bad = {.se_type = 0x7000, .se_on = 1};
    CHECK(setsockopt(srv, IPPROTO_SCTP, SCTP_EVENT, &bad, sizeof bad) < 0 && errno == EINVAL);
    bad.se_type = SCTP_ASSOC_CHANGE; bad.se_assoc_id = 12345;
    CHECK(setsockopt(srv, IPPROTO_SCTP, SCTP_EVENT, &bad, sizeof bad) < 0 && errno == EINVAL);
    int on = 1;
    CHECK(setsockopt(srv, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on) == 0);
    CHECK(setsockopt(srv, IPPROTO_SCTP, SCTP_RECVNXTINFO, &on, sizeof on) == 0);
    int v = 0; socklen_t vl = sizeof v;
    CHECK(getsockopt(srv, IPPROTO_SCTP, SCTP_RECVNXTINFO, &v, &vl) == 0 && v == 1);

    /* Client: SCTP_INIT asks for 3 streams, SCTP_SNDINFO names stream,
     * PPID and context; three messages, then one of 100000 bytes. */
    int cl = seqpacket();
    event(cl, SCTP_ASSOC_CHANGE, 1);
    struct sctp_initmsg init = {.sinit_num_ostreams = 3, .sinit_max_instreams = 5};
    struct sctp_sndinfo si = {.snd_sid = 2, .snd_ppid = htonl(77), .snd_context = 5};
    CHECK(send_info(cl, (struct sockaddr *)&sa, sizeof sa, "hello", 5, &si, &init, 0) == 5);
    si.snd_sid = 1;
    CHECK(send_info(cl, (struct sockaddr *)&sa, sizeof sa, "second", 6, &si, NULL, 0) == 6);
    si.snd_sid = 0;
    CHECK(send_info(cl, (struct sockaddr *)&sa, sizeof sa, "third", 5, &si, NULL, 0) == 5);
    static char big[100000];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (char)(i * 7);
    CHECK(send_info(cl, (struct sockaddr *)&sa, sizeof sa, big, sizeof big, &si, NULL, 0) == (ssize_t)sizeof big);
    /* A stream beyond the 3 negotiated ones is refused. */
    si.snd_sid = 3;
    CHECK(send_info(cl, (struct sockaddr *)&sa, sizeof sa, "x", 1, &si, NULL, 0) < 0 && errno == EINVAL);

    /* Server: COMM_UP with the client's 3 streams inbound. */
    CHECK(readable(srv, 3000));
    CHECK(recv_got(srv, buf, sizeof buf, 0, &g) == sizeof(struct sctp_assoc_change));
    CHECK(g.flags & MSG_NOTIFICATION);
    struct sctp_assoc_change *ac = (struct sctp_assoc_change *)buf;
    CHECK(ac->sac_type == SCTP_ASSOC_CHANGE && ac->sac_state == SCTP_COMM_UP);
    CHECK(ac->sac_inbound_streams == 3 && ac->sac_outbound_streams == 5);
    sctp_assoc_t aid = ac->sac_assoc_id;
    CHECK(aid > 2);
    usleep(300000); /* all four messages are in */

    /* RCVINFO and NXTINFO (the next message is queued). */
    CHECK(recv_got(srv, buf, sizeof buf, MSG_PEEK, &g) == 5 && memcmp(buf, "hello", 5) == 0);
    CHECK(recv_got(srv, buf, sizeof buf, 0, &g) == 5 && memcmp(buf, "hello", 5) == 0);
    CHECK((g.flags & MSG_EOR) && !(g.flags & MSG_NOTIFICATION));
    CHECK(g.has_rcvinfo && g.rcv.rcv_sid == 2 && g.rcv.rcv_ppid == htonl(77) && g.rcv.rcv_assoc_id == aid);
    CHECK(!g.has_sndrcv); /* data_io is off */
    CHECK(g.has_nxtinfo && g.nxt.nxt_sid == 1 && g.nxt.nxt_length == 6 && g.nxt.nxt_assoc_id == aid);
    CHECK(g.fromlen == sizeof(struct sockaddr_in) && ((struct sockaddr_in *)&g.from)->sin_addr.s_addr == htonl(INADDR_LOOPBACK));
    CHECK(recv_got(srv, buf, sizeof buf, 0, &g) == 6 && g.rcv.rcv_sid == 1);
    CHECK(recv_got(srv, buf, sizeof buf, 0, &g) == 5 && g.rcv.rcv_sid == 0);
    CHECK(g.has_nxtinfo && g.nxt.nxt_length == sizeof big);

    /* Partial delivery: 30000-byte reads, MSG_EOR only on the last piece. */
    size_t got_total = 0;
    int pieces = 0;
    for (;;) {
        CHECK(recv_got(srv, buf + got_total, 30000, 0, &g) > 0);
        CHECK(g.has_rcvinfo && g.rcv.rcv_assoc_id == aid);
        got_total += g.n;
        pieces++;
        if (g.flags & MSG_EOR) break;
        CHECK(g.n == 30000);
    }
    CHECK(got_total == sizeof big && pieces == 4 && memcmp(buf, big, sizeof big) == 0);

    /* SENDER_DRY once the server's reply is acknowledged. */
    struct sctp_sndinfo r = {.snd_sid = 1, .snd_assoc_id = aid};
    CHECK(send_info(srv, NULL, 0, "reply", 5, &r, NULL, 0) == 5);
    CHECK(wait_note(srv, SCTP_SENDER_DRY_EVENT, buf, sizeof buf, 3000) == sizeof(struct sctp_sender_dry_event));
    CHECK(((struct sctp_sender_dry_event *)buf)->sender_dry_assoc_id == aid);
    CHECK(readable(cl, 3000));
    CHECK(recv_got(cl, buf, sizeof buf, 0, &g) > 0 && (g.flags & MSG_NOTIFICATION)); /* COMM_UP */
    CHECK(recv_got(cl, buf, sizeof buf, 0, &g) == 5 && memcmp(buf, "reply", 5) == 0);

    /* SCTP_SENDALL reaches every association of the socket. */
    int cl2 = seqpacket();
    CHECK(sendto(cl2, "c2", 2, 0, (struct sockaddr *)&sa, sizeof sa) == 2);
    CHECK(wait_note(srv, SCTP_ASSOC_CHANGE, buf, sizeof buf, 3000) > 0);
    CHECK(readable(srv, 3000) && recv_got(srv, buf, sizeof buf, 0, &g) == 2);
    struct sctp_sndinfo all = {.snd_flags = SCTP_SENDALL};
    CHECK(send_info(srv, NULL, 0, "to all", 6, &all, NULL, 0) == 6);
    CHECK(readable(cl, 3000) && recv_got(cl, buf, sizeof buf, 0, &g) == 6 && memcmp(buf, "to all", 6) == 0);
    CHECK(readable(cl2, 3000) && recv(cl2, buf, sizeof buf, 0) == 6 && memcmp(buf, "to all", 6) == 0);

    /* write()/send() without an association: EPIPE, as Linux. */
    CHECK(write(srv, "x", 1) < 0 && errno == EPIPE);
    CHECK(send(srv, "x", 1, MSG_NOSIGNAL) < 0 && errno == EPIPE);

    /* SEND_FAILED_EVENT: a server that never reads lets the client's queue
     * fill up; then it aborts, and the client gets its unsent data back. */
    uint16_t p2 = base + 1;
    struct sockaddr_in sa2 = loop4(p2);
    int srv2 = listener(p2);
    event(srv2, SCTP_ASSOC_CHANGE, 1);
    int cl3 = seqpacket();
    event(cl3, SCTP_ASSOC_CHANGE, 1);
    event(cl3, SCTP_SEND_FAILED_EVENT, 1);
    static char chunk[16384];
    int sent = 0;
    for (int i = 0; i < 200; i++) {
        memset(chunk, 'A' + i % 26, sizeof chunk);
        struct sctp_sndinfo ci = {.snd_sid = 1, .snd_context = 1000 + i};
        ssize_t n = send_info(cl3, (struct sockaddr *)&sa2, sizeof sa2, chunk, sizeof chunk, &ci, NULL, MSG_DONTWAIT);
        if (n < 0) { CHECK(errno == EAGAIN); break; }
        sent++;
    }
    CHECK(sent > 4);
    CHECK(readable(srv2, 3000) && recv_got(srv2, buf, sizeof(struct sctp_assoc_change), 0, &g) > 0);
    CHECK((g.flags & MSG_NOTIFICATION) && ((struct sctp_assoc_change *)buf)->sac_state == SCTP_COMM_UP);
    sctp_assoc_t aid2 = ((struct sctp_assoc_change *)buf)->sac_assoc_id;
    struct sctp_sndinfo ab = {.snd_flags = SCTP_ABORT, .snd_assoc_id = aid2};
    /* (Linux's sendmsg answers 0 for SCTP_ABORT: no data was sent.) */
    CHECK(send_info(srv2, NULL, 0, "bye", 3, &ab, NULL, 0) == 0);
    CHECK(wait_note(cl3, SCTP_ASSOC_CHANGE, buf, sizeof buf, 3000) > 0);
    int failed = 0;
    double end = now_s() + 2;
    while (now_s() < end && readable(cl3, 200)) {
        CHECK(recv_got(cl3, buf, sizeof buf, 0, &g) > 0);
        if (!(g.flags & MSG_NOTIFICATION)) continue;
        struct sctp_send_failed_event *f = (struct sctp_send_failed_event *)buf;
        if (f->ssf_type != SCTP_SEND_FAILED_EVENT) continue;
        size_t dl = f->ssf_length - sizeof *f;
        CHECK(f->ssfe_info.snd_sid == 1 && dl > 0 && dl <= sizeof chunk);
        CHECK(f->ssf_flags == SCTP_DATA_UNSENT || f->ssf_flags == SCTP_DATA_SENT);
        /* Unsent messages come back whole, with their context. */
        if (f->ssf_flags == SCTP_DATA_UNSENT && dl == sizeof chunk) {
            int i = (int)f->ssfe_info.snd_context - 1000;
            CHECK(i >= 0 && i < sent && f->ssf_data[0] == 'A' + i % 26 && f->ssf_data[dl - 1] == 'A' + i % 26);
        }
        failed++;
    }
    CHECK(failed > 0);

    /* SCTP_AUTOCLOSE: an idle association is shut down. */
    uint16_t p3 = base + 2;
    struct sockaddr_in sa3 = loop4(p3);
    int srv3 = listener(p3);
    int secs = 1;
    CHECK(setsockopt(srv3, IPPROTO_SCTP, SCTP_AUTOCLOSE, &secs, sizeof secs) == 0);
    secs = 0; vl = sizeof secs;
    CHECK(getsockopt(srv3, IPPROTO_SCTP, SCTP_AUTOCLOSE, &secs, &vl) == 0 && secs == 1);
    int cl4 = seqpacket();
    event(cl4, SCTP_ASSOC_CHANGE, 1);
    double t0 = now_s();
    CHECK(sendto(cl4, "idle", 4, 0, (struct sockaddr *)&sa3, sizeof sa3) == 4);
    CHECK(readable(srv3, 3000) && recv(srv3, buf, sizeof buf, 0) == 4);
    CHECK(wait_note(cl4, SCTP_ASSOC_CHANGE, buf, sizeof buf, 3000) > 0); /* COMM_UP */
    CHECK(wait_note(cl4, SCTP_ASSOC_CHANGE, buf, sizeof buf, 5000) > 0);
    CHECK(((struct sctp_assoc_change *)buf)->sac_state == SCTP_SHUTDOWN_COMP);
    double idle = now_s() - t0;
    CHECK(idle >= 0.9 && idle < 4);
    int tcp = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    secs = 1;
    CHECK(setsockopt(tcp, IPPROTO_SCTP, SCTP_AUTOCLOSE, &secs, sizeof secs) < 0 && errno == EOPNOTSUPP);

    close(cl); close(cl2); close(cl3); close(cl4); close(tcp);
    close(srv); close(srv2); close(srv3);
    printf("notifications: ok (%d sends failed back)\n", failed);
    return 0;
}
