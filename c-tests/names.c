/* Names, backlog and ports as Linux gives them (issue 14), confirmed with
 * scripts/linux-check.sh names:
 * - a socket accepted from a wildcard listener names the concrete local
 *   address of its association, which is the client's peer address; a
 *   client that connected without bind() names the address it uses;
 * - a one-to-one listener keeps at most backlog + 1 associations waiting
 *   for accept(); the next connect is refused (ECONNREFUSED);
 * - closing a socket frees its port for a new bind() at once. */
#include "expect.h"

#include <fcntl.h>
#include <signal.h>

static struct sockaddr_in name_of(int fd, int peer) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    socklen_t l = sizeof a;
    if (peer)
        CHECK(getpeername(fd, (struct sockaddr *)&a, &l) == 0);
    else
        CHECK(getsockname(fd, (struct sockaddr *)&a, &l) == 0);
    CHECK(l == sizeof a);
    return a;
}

static void wildcard_names(uint16_t port) {
    int l = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(l >= 0);
    struct sockaddr_in any = loop4(port);
    any.sin_addr.s_addr = htonl(INADDR_ANY);
    CHECK(bind(l, (struct sockaddr *)&any, sizeof any) == 0);
    CHECK(listen(l, 8) == 0);
    struct sockaddr_in a = loop4(port);
    int c = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(c >= 0);
    CHECK(connect(c, (struct sockaddr *)&a, sizeof a) == 0);
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    struct sockaddr_in sl = name_of(s, 0), cp = name_of(c, 1);
    EXPECT_EQ(ntohl(sl.sin_addr.s_addr), INADDR_LOOPBACK);
    EXPECT_EQ(ntohs(sl.sin_port), port);
    EXPECT_EQ(sl.sin_addr.s_addr, cp.sin_addr.s_addr);
    /* The client, never bound: the address its association uses. */
    struct sockaddr_in cl = name_of(c, 0), sp = name_of(s, 1);
    EXPECT_EQ(ntohl(cl.sin_addr.s_addr), INADDR_LOOPBACK);
    EXPECT_EQ(cl.sin_port, sp.sin_port);
    EXPECT_EQ(cl.sin_addr.s_addr, sp.sin_addr.s_addr);
    close(s);
    close(c);
    close(l);
}

/* Non-blocking connects to a listener with `backlog` that accepts nothing:
 * how many associations come up, and what the rest get. */
static void backlog(uint16_t port) {
    int l = listen_on(SOCK_STREAM, port, 0, 2);
    struct sockaddr_in a = loop4(port);
    int c[6], up = 0, refused = 0;
    for (int i = 0; i < 6; i++) {
        c[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_SCTP);
        CHECK(c[i] >= 0);
        int r = connect(c[i], (struct sockaddr *)&a, sizeof a);
        CHECK(r == 0 || errno == EINPROGRESS);
        struct pollfd p = {c[i], POLLOUT, 0};
        CHECK(poll(&p, 1, 5000) == 1);
        int err = 0;
        socklen_t el = sizeof err;
        CHECK(getsockopt(c[i], SOL_SOCKET, SO_ERROR, &err, &el) == 0);
        if (err == 0) up++;
        else if (err == ECONNREFUSED) refused++;
        else fprintf(stderr, "backlog: connect %d: %s\n", i, strerror(err));
    }
    EXPECT_EQ(up, 3); /* backlog 2: Linux's sk_acceptq_is_full lets 3 wait */
    EXPECT_EQ(refused, 3);
    /* Each waiting one is there to accept. */
    int got = 0;
    for (;;) {
        struct pollfd p = {l, POLLIN, 0};
        if (poll(&p, 1, 200) != 1) break;
        int s = accept(l, NULL, NULL);
        if (s < 0) break;
        got++;
        close(s);
    }
    EXPECT_EQ(got, 3);
    for (int i = 0; i < 6; i++) close(c[i]);
    close(l);
}

static void port_freed(uint16_t port) {
    int l = listen_on(SOCK_STREAM, port, 0, 8);
    struct sockaddr_in a = loop4(port);
    int c = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(c >= 0);
    CHECK(connect(c, (struct sockaddr *)&a, sizeof a) == 0);
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    CHECK(write(s, "bye", 3) == 3);
    close(s);
    close(l);
    /* The association may still be shutting down: the port is free. */
    int n = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(n >= 0);
    EXPECT_EQ(bind(n, (struct sockaddr *)&a, sizeof a), 0);
    EXPECT_EQ(listen(n, 8), 0);
    close(n);
    close(c);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    uint16_t port = free_ports(3);
    wildcard_names(port);
    backlog(port + 1);
    port_freed(port + 2);
    return finish("names");
}
