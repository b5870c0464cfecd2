/* A one-to-many socket's port can be bound and listened on again right
 * after the socket is closed, while its associations still shut down:
 * the new socket takes the peers' INITs (one-to-many and one-to-one
 * clients), as on Linux. (The engine's late view of the old socket's
 * close used to stop the new one listening: ECONNREFUSED.) */
#include "common.h"

int main(void) {
    uint16_t port = free_ports(1);
    struct sockaddr_in sa = loop4(port);
    char b[64];
    for (int round = 0; round < 5; round++) {
        int srv = listen_on(SOCK_SEQPACKET, port, 0, 8);
        int c = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
        CHECK(sendto(c, "hi", 2, 0, (struct sockaddr *)&sa, sizeof sa) == 2);
        CHECK(readable(srv, 3000) && recv(srv, b, sizeof b, 0) == 2);
        close(srv);
        close(c);
    }
    int srv = listen_on(SOCK_SEQPACKET, port, 0, 8);
    int c = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(connect(c, (struct sockaddr *)&sa, sizeof sa) == 0);
    CHECK(send(c, "yo", 2, 0) == 2);
    CHECK(readable(srv, 3000) && recv(srv, b, sizeof b, 0) == 2);
    close(c);
    close(srv);
    printf("rebind_port: ok\n");
    return 0;
}
