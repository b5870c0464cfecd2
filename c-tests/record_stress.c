/* Records keep their metadata through everything at once: 120 clients of
 * a one-to-many server, each sending 20 messages of its own streams, PPIDs
 * and lengths, and ending gracefully, with an ABORT, or peeled off the
 * server mid-way; the server reads with MSG_PEEK first, in small pieces or
 * whole, notifications interleaved. Every data record must carry its
 * message's length, stream, PPID and association (the peer's address
 * names the client), MSG_EOR only on its last piece, MSG_NOTIFICATION
 * never; per stream in order, no message twice; every message of a client
 * that did not abort arrives. Notifications are whole and flagged. */
#include "common.h"

#include <pthread.h>

#define CLIENTS 120
#define PER 20

static uint16_t port;

static size_t len_of(int i, int j) { return 1 + (size_t)((i * 7 + j * 131) % 3000); }
static uint16_t stream_of(int i, int j) { return (uint16_t)((i + j) % 4); }
static uint32_t ppid_of(int i, int j) { return (uint32_t)(i * 1000 + j); }
static char byte_of(int i, int j, size_t k) { return (char)(i * 31 + j * 17 + (int)k); }

enum ending { GRACEFUL, ABORT, PEELED };
static enum ending ending_of(int i) { return (enum ending)(i % 3); }

struct client {
    int i;
    int fd;
    uint16_t cport;
    int go[2]; /* the server says when the client may end */
};

static void *client_main(void *arg) {
    struct client *c = arg;
    struct sockaddr_in sa = loop4(port);
    char m[3000];
    for (int j = 0; j < PER; j++) {
        size_t len = len_of(c->i, j);
        for (size_t k = 0; k < len; k++) m[k] = byte_of(c->i, j, k);
        struct sctp_sndinfo si = {.snd_sid = stream_of(c->i, j), .snd_ppid = htonl(ppid_of(c->i, j))};
        CHECK(send_info(c->fd, (struct sockaddr *)&sa, sizeof sa, m, len, &si, NULL, 0) == (ssize_t)len);
    }
    char b;
    CHECK(read(c->go[0], &b, 1) == 1);
    if (ending_of(c->i) == ABORT) {
        struct linger lg = {1, 0};
        CHECK(setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
    }
    close(c->fd);
    return NULL;
}

struct seen {
    int next[4];      /* per stream: the next message index expected at least */
    int got;          /* messages received */
    sctp_assoc_t id;  /* its association */
    int peeled;       /* its peeled-off socket, or -1 */
};

static struct client cl[CLIENTS];
static struct seen sn[CLIENTS];

/* The client bound to port `p` (the latest: an ended client's port may be
 * taken again by a later one). */
static int client_of_port(uint16_t p) {
    for (int i = CLIENTS - 1; i >= 0; i--)
        if (cl[i].cport == p) return i;
    return -1;
}

/* Reads one record from `s` (some of it peeked first, in pieces of `piece`
 * bytes) and checks it; returns 0 when nothing was there. */
static int one_record(int s, size_t piece, int peek) {
    char buf[4096], all[4096];
    struct got g;
    size_t have = 0;
    int flags = 0;
    if (peek) {
        ssize_t n = recv_got(s, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT, &g);
        if ((n < 0 && errno == EAGAIN) || n == 0) return 0;
        CHECK(n > 0);
        memcpy(all, buf, (size_t)n);
        have = (size_t)n;
        flags = g.flags;
    }
    /* The record for real, in pieces. */
    size_t got_len = 0;
    struct got first;
    memset(&first, 0, sizeof first);
    for (int piece_no = 0;; piece_no++) {
        ssize_t n = recv_got(s, buf, piece, piece_no ? 0 : MSG_DONTWAIT, &g);
        if (n < 0 && errno == EAGAIN && piece_no == 0 && !peek) return 0;
        if (n == 0 && piece_no == 0 && !peek) return 0; /* a peeled-off socket's end */
        if (n <= 0) {
            fprintf(stderr, "fd %d: piece %d (of %zu bytes, peeked %zu) got %zd errno %d\n", s, piece_no, piece, have, n,
                    errno);
            exit(1);
        }
        if (piece_no == 0) first = g;
        CHECK((g.flags & MSG_NOTIFICATION) == (first.flags & MSG_NOTIFICATION));
        CHECK(got_len + (size_t)n <= sizeof buf);
        static char rec[8192];
        memcpy(rec + got_len, buf, (size_t)n);
        got_len += (size_t)n;
        if (g.flags & MSG_EOR) {
            if (peek) {
                /* What the peek saw is the start of the same record. */
                CHECK(((flags ^ first.flags) & MSG_NOTIFICATION) == 0);
                CHECK(memcmp(all, rec, have < got_len ? have : got_len) == 0);
            }
            if (first.flags & MSG_NOTIFICATION) {
                struct sctp_tlv { uint16_t type, flags; uint32_t length; } *h = (void *)rec;
                CHECK(got_len >= 8 && h->length == got_len);
                return 1;
            }
            /* Data: whose, which message. */
            struct sockaddr_in *from = (struct sockaddr_in *)&first.from;
            int i = client_of_port(ntohs(from->sin_port));
            CHECK(i >= 0 && first.has_sndrcv);
            int j = (int)(ntohl(first.sndrcv.sinfo_ppid) - (uint32_t)i * 1000);
            if (j < 0 || j >= PER) {
                fprintf(stderr, "client %d (port %d): PPID %u, %zu bytes, flags %#x, stream %d\n", i,
                        ntohs(from->sin_port), ntohl(first.sndrcv.sinfo_ppid), got_len, first.flags,
                        first.sndrcv.sinfo_stream);
                exit(1);
            }
            CHECK(first.sndrcv.sinfo_stream == stream_of(i, j));
            CHECK(got_len == len_of(i, j));
            for (size_t k = 0; k < got_len; k++) CHECK(rec[k] == byte_of(i, j, k));
            uint16_t st = stream_of(i, j);
            CHECK(j >= sn[i].next[st]); /* in order per stream, never twice */
            sn[i].next[st] = j + 1;
            sn[i].got++;
            if (sn[i].id == 0) sn[i].id = first.sndrcv.sinfo_assoc_id;
            CHECK(sn[i].peeled >= 0 || first.sndrcv.sinfo_assoc_id == sn[i].id);
            return 1;
        }
        CHECK(!(g.flags & MSG_EOR));
    }
}

int main(void) {
    port = free_ports(1);
    int srv = listen_on(SOCK_SEQPACKET, port, 0, 64);
    struct sctp_event_subscribe ev = {0};
    ev.sctp_data_io_event = 1;
    ev.sctp_association_event = 1;
    ev.sctp_shutdown_event = 1;
    ev.sctp_partial_delivery_event = 1;
    CHECK(setsockopt(srv, IPPROTO_SCTP, SCTP_EVENTS, &ev, sizeof ev) == 0);
    pthread_t th[CLIENTS];
    unsigned rnd = 12345;
    int batch = 8;
    for (int base = 0; base < CLIENTS; base += batch) {
        for (int i = base; i < base + batch; i++) {
            cl[i].i = i;
            sn[i].peeled = -1;
            cl[i].fd = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
            struct sockaddr_in me = loop4(0);
            CHECK(bind(cl[i].fd, (struct sockaddr *)&me, sizeof me) == 0);
            struct sockaddr_in got;
            socklen_t gl = sizeof got;
            CHECK(getsockname(cl[i].fd, (struct sockaddr *)&got, &gl) == 0);
            cl[i].cport = ntohs(got.sin_port);
            CHECK(pipe(cl[i].go) == 0);
            CHECK(pthread_create(&th[i], NULL, client_main, &cl[i]) == 0);
        }
        /* Read, mixing the ways; peel off the PEELED ones after a few of
         * their messages; let clients end while their messages wait. */
        int ended = 0;
        double end = now_s() + 20;
        for (;;) {
            CHECK(now_s() < end);
            int progress = 0;
            rnd = rnd * 1103515245 + 12345;
            size_t piece = (rnd >> 8) % 3 == 0 ? 7 + (rnd >> 12) % 500 : 4096;
            int peek = (rnd >> 16) % 4 == 0;
            if (readable(srv, 20)) progress |= one_record(srv, piece, peek);
            for (int i = base; i < base + batch; i++) {
                if (sn[i].peeled >= 0) progress |= one_record(sn[i].peeled, piece, peek);
                if (ending_of(i) == PEELED && sn[i].peeled < 0 && sn[i].got >= 3 && sn[i].id) {
                    sctp_peeloff_arg_t po = {.associd = sn[i].id, .sd = -1};
                    socklen_t pl = sizeof po;
                    CHECK(getsockopt(srv, IPPROTO_SCTP, SCTP_SOCKOPT_PEELOFF, &po, &pl) >= 0);
                    sn[i].peeled = po.sd;
                }
            }
            if (!ended) {
                int all_in = 1;
                for (int i = base; i < base + batch; i++)
                    if (sn[i].got < PER / 2 || (ending_of(i) == PEELED && sn[i].peeled < 0)) all_in = 0;
                if (all_in) {
                    for (int i = base; i < base + batch; i++) CHECK(write(cl[i].go[1], "x", 1) == 1);
                    ended = 1;
                }
            }
            int done = ended;
            for (int i = base; i < base + batch; i++)
                if (ending_of(i) != ABORT && sn[i].got < PER) done = 0;
            if (done && !progress) break;
        }
        for (int i = base; i < base + batch; i++) {
            CHECK(pthread_join(th[i], NULL) == 0);
            close(cl[i].go[0]);
            close(cl[i].go[1]);
        }
        /* What is left (ABORTed clients' last records, notifications). */
        usleep(100000);
        while (one_record(srv, 4096, 0)) {
        }
        for (int i = base; i < base + batch; i++) {
            if (sn[i].peeled >= 0) {
                while (readable(sn[i].peeled, 100) && one_record(sn[i].peeled, 4096, 0)) {
                }
                close(sn[i].peeled);
            }
            if (ending_of(i) != ABORT) CHECK(sn[i].got == PER);
        }
    }
    int total = 0;
    for (int i = 0; i < CLIENTS; i++) total += sn[i].got;
    close(srv);
    printf("record_stress: ok, %d messages\n", total);
    return 0;
}
