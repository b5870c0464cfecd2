/* A port reused at once by another family: a one-to-many socket bound to
 * 127.0.0.1:P that received data it never read is closed, and at once a
 * one-to-one listener binds [::1]:P (SO_REUSEADDR, as socat does); an IPv6
 * client then connects to [::1]:P and gets its echo. On Linux the closed
 * socket's association ends on its own while the new socket owns the port;
 * the shim's engine, which keeps one endpoint per port, once handed the new
 * listener the closed socket's endpoint with its IPv4 address, and the IPv6
 * associations were aborted. */
#include "common.h"

static struct sockaddr_in6 loop6(uint16_t port) {
    struct sockaddr_in6 a = {0};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    a.sin6_addr = in6addr_loopback;
    return a;
}

int main(void) {
    uint16_t base = free_ports(2);
    uint16_t p = base, q = (uint16_t)(base + 1);
    int one = 1;
    for (int round = 0; round < 5; round++) {
        /* The old socket: one-to-many on 127.0.0.1:p, talking to a server
         * on 127.0.0.1:q that sends it messages it never reads. */
        int srv = listen_on(SOCK_SEQPACKET, q, 0, 8);
        int old = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
        CHECK(old >= 0);
        CHECK(setsockopt(old, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0);
        struct sockaddr_in a = loop4(p);
        CHECK(bind(old, (struct sockaddr *)&a, sizeof a) == 0);
        struct sockaddr_in to = loop4(q);
        CHECK(sendto(old, "hi", 2, 0, (struct sockaddr *)&to, sizeof to) == 2);
        char buf[256];
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        CHECK(readable(srv, 5000));
        CHECK(recvfrom(srv, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl) == 2);
        for (int i = 0; i < 20; i++)
            CHECK(sendto(srv, "unread", 6, 0, (struct sockaddr *)&from, fl) == 6);
        usleep(20000);
        close(old);

        /* At once: the port again, in IPv6, one-to-one, listening. */
        int l = socket(AF_INET6, SOCK_STREAM, IPPROTO_SCTP);
        CHECK(l >= 0);
        CHECK(setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0);
        struct sockaddr_in6 la = loop6(p);
        CHECK(bind(l, (struct sockaddr *)&la, sizeof la) == 0);
        CHECK(listen(l, 8) == 0);
        int c = socket(AF_INET6, SOCK_STREAM, IPPROTO_SCTP);
        CHECK(c >= 0);
        CHECK(connect(c, (struct sockaddr *)&la, sizeof la) == 0);
        int s = accept(l, NULL, NULL);
        CHECK(s >= 0);
        CHECK(write(c, "ping", 4) == 4);
        CHECK(readable(s, 5000));
        CHECK(read(s, buf, sizeof buf) == 4 && memcmp(buf, "ping", 4) == 0);
        CHECK(write(s, "pong", 4) == 4);
        CHECK(readable(c, 5000));
        CHECK(read(c, buf, sizeof buf) == 4 && memcmp(buf, "pong", 4) == 0);
        close(c);
        close(s);
        close(l);
        close(srv);
        usleep(50000);
    }
    printf("port_reuse_family: ok\n");
    return 0;
}
