/* close() of a one-to-many socket ends its associations as Linux's
 * sctp_close does: with SO_LINGER on and a zero timeout, or with data
 * received and never read, each association is aborted (the peer reads
 * ECONNRESET); otherwise it is shut down (the peer reads EOF). */
#include "common.h"

/* A one-to-one client connected to a one-to-many server on `port`; the
 * server has read the client's first message. */
static void setup(uint16_t port, int *cl, int *srv) {
    *srv = listen_on(SOCK_SEQPACKET, port, 0, 8);
    *cl = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(*cl >= 0);
    struct sockaddr_in a = loop4(port);
    CHECK(connect(*cl, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(write(*cl, "hello", 5) == 5);
    char buf[64];
    CHECK(readable(*srv, 5000));
    CHECK(recv(*srv, buf, sizeof buf, 0) == 5);
}

/* What the client reads once the server's socket is closed: 0 (EOF) or
 * -errno. */
static int client_end(int cl) {
    CHECK(readable(cl, 5000));
    char buf[64];
    ssize_t r = read(cl, buf, sizeof buf);
    return r < 0 ? -errno : (int)r;
}

int main(void) {
    uint16_t base = free_ports(4);
    int cl, srv;

    /* Nothing unread, no linger: SHUTDOWN, the client reads EOF. */
    setup(base, &cl, &srv);
    close(srv);
    int r = client_end(cl);
    CHECK(r == 0);
    close(cl);
    printf("plain close: the peer reads EOF\n");

    /* SO_LINGER on, timeout 0: ABORT. */
    setup((uint16_t)(base + 1), &cl, &srv);
    struct linger lg = {1, 0};
    CHECK(setsockopt(srv, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
    close(srv);
    r = client_end(cl);
    CHECK(r == -ECONNRESET);
    close(cl);
    printf("SO_LINGER 0: the peer reads ECONNRESET\n");

    /* A message received and never read: ABORT. */
    setup((uint16_t)(base + 2), &cl, &srv);
    CHECK(write(cl, "unread", 6) == 6);
    CHECK(readable(srv, 5000));
    close(srv);
    r = client_end(cl);
    CHECK(r == -ECONNRESET);
    close(cl);
    printf("data unread: the peer reads ECONNRESET\n");

    /* Another association's unread message aborts this one too (Linux
     * counts what the whole socket left unread). */
    setup((uint16_t)(base + 3), &cl, &srv);
    int other = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(other >= 0);
    struct sockaddr_in a = loop4((uint16_t)(base + 3));
    CHECK(connect(other, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(write(other, "unread", 6) == 6);
    CHECK(readable(srv, 5000));
    close(srv);
    CHECK(client_end(cl) == -ECONNRESET);
    CHECK(client_end(other) == -ECONNRESET);
    close(cl);
    close(other);
    printf("another association's data unread: both peers read ECONNRESET\n");
    printf("many_close_abort: ok\n");
    return 0;
}
