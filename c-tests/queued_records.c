/* A record keeps its flags and metadata whatever happens to its
 * association after it was queued (as Linux, whose queued events carry
 * their own copy):
 * - one-to-one: COMM_UP peeked with MSG_PEEK (Java's connect does it) stays
 *   a notification after shutdown(SHUT_WR) and the end of the association:
 *   MSG_NOTIFICATION | MSG_EOR, then SHUTDOWN_COMP, then ENOTCONN;
 * - one-to-many: messages queued by a peer that then closed keep their
 *   length, MSG_EOR, stream, PPID, association id and sender address; the
 *   association's COMM_UP and SHUTDOWN_COMP stay notifications. */
#include "common.h"

static void subscribe(int s) {
    struct sctp_event_subscribe ev = {0};
    ev.sctp_data_io_event = 1;
    ev.sctp_association_event = 1;
    CHECK(setsockopt(s, IPPROTO_SCTP, SCTP_EVENTS, &ev, sizeof ev) == 0);
}

static void expect_assoc_change(int s, int state, sctp_assoc_t id) {
    char buf[256];
    struct got g;
    CHECK(readable(s, 3000));
    ssize_t n = recv_got(s, buf, sizeof buf, 0, &g);
    struct sctp_assoc_change *ac = (struct sctp_assoc_change *)buf;
    if (n < (ssize_t)sizeof *ac || (g.flags & (MSG_NOTIFICATION | MSG_EOR)) != (MSG_NOTIFICATION | MSG_EOR) ||
        ac->sac_type != SCTP_ASSOC_CHANGE || ac->sac_state != state || (id && ac->sac_assoc_id != id)) {
        fprintf(stderr, "want ASSOC_CHANGE state %d: got %zd bytes, flags %#x, type %#x state %d\n", state, n,
                g.flags, n >= 4 ? ac->sac_type : 0, n >= 6 ? ac->sac_state : -1);
        exit(1);
    }
}

static void one_to_one(uint16_t port) {
    int l = listen_on(SOCK_STREAM, port, 0, 4);
    int c = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    subscribe(c);
    struct sockaddr_in sa = loop4(port);
    CHECK(connect(c, (struct sockaddr *)&sa, sizeof sa) == 0);
    char buf[256];
    struct got g;
    CHECK(readable(c, 3000));
    CHECK(recv_got(c, buf, sizeof buf, MSG_PEEK, &g) > 0 && (g.flags & MSG_NOTIFICATION));
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    CHECK(shutdown(c, SHUT_WR) == 0);
    CHECK(readable(s, 3000) && read(s, buf, sizeof buf) == 0);
    close(s);
    usleep(500000); /* the association is gone */
    expect_assoc_change(c, SCTP_COMM_UP, 0);
    expect_assoc_change(c, SCTP_SHUTDOWN_COMP, 0);
    /* No association left: a blocking read is ENOTCONN (Linux's
     * sctp_wait_for_packet). */
    CHECK(recv_got(c, buf, sizeof buf, 0, &g) < 0 && errno == ENOTCONN);
    close(c);
    close(l);
}

static void one_to_many(uint16_t port) {
    int srv = listen_on(SOCK_SEQPACKET, port, 0, 4);
    struct sockaddr_in sa = loop4(port);
    subscribe(srv);
    int c = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
    char big[5000];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (char)i;
    for (int i = 0; i < 3; i++) {
        struct sctp_sndinfo si = {.snd_sid = (uint16_t)(i + 1), .snd_ppid = htonl(100 + i)};
        size_t len = i == 1 ? sizeof big : 10;
        CHECK(send_info(c, (struct sockaddr *)&sa, sizeof sa, big, len, &si, NULL, 0) == (ssize_t)len);
    }
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    CHECK(getsockname(c, (struct sockaddr *)&from, &fl) == 0);
    char buf[8192];
    struct got g;
    CHECK(readable(srv, 3000));
    CHECK(recv_got(srv, buf, sizeof buf, MSG_PEEK, &g) > 0 && (g.flags & MSG_NOTIFICATION));
    sctp_assoc_t id = ((struct sctp_assoc_change *)buf)->sac_assoc_id;
    usleep(200000);
    close(c); /* graceful: the association ends */
    usleep(500000);
    expect_assoc_change(srv, SCTP_COMM_UP, id);
    for (int i = 0; i < 3; i++) {
        size_t len = i == 1 ? sizeof big : 10;
        CHECK(recv_got(srv, buf, sizeof buf, MSG_DONTWAIT, &g) == (ssize_t)len);
        CHECK(memcmp(buf, big, len) == 0 && (g.flags & MSG_EOR) && !(g.flags & MSG_NOTIFICATION));
        CHECK(g.has_sndrcv && g.sndrcv.sinfo_stream == i + 1 && g.sndrcv.sinfo_ppid == htonl(100 + i));
        CHECK(g.sndrcv.sinfo_assoc_id == id);
        struct sockaddr_in *f = (struct sockaddr_in *)&g.from;
        CHECK(g.fromlen == sizeof(struct sockaddr_in) && f->sin_port == from.sin_port);
    }
    expect_assoc_change(srv, SCTP_SHUTDOWN_COMP, id);
    CHECK(recv_got(srv, buf, sizeof buf, MSG_DONTWAIT, &g) < 0 && errno == EAGAIN);
    close(srv);
}

int main(void) {
    uint16_t base = free_ports(2);
    one_to_one(base);
    one_to_many((uint16_t)(base + 1));
    printf("queued_records: ok\n");
    return 0;
}
