/* The peer connects, sends and closes before accept(), again and again: the
 * accepted socket's first blocking read returns the message, the next one
 * the end of file. (The shim once answered the first read with ENOTCONN
 * when the engine handed the message over between the read that found
 * nothing and the check for anything left to wait for: a few times in
 * 300.) */
#include "common.h"

#define ROUNDS 300

int main(void) {
    uint16_t port = free_ports(1);
    int l = listen_on(SOCK_STREAM, port, 0, 16);
    struct sockaddr_in a = loop4(port);
    char buf[200];
    memset(buf, 'm', sizeof buf);
    for (int i = 0; i < ROUNDS; i++) {
        int c = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
        CHECK(c >= 0);
        CHECK(connect(c, (struct sockaddr *)&a, sizeof a) == 0);
        CHECK(write(c, buf, 100) == 100);
        CHECK(close(c) == 0);
        int s = accept(l, NULL, NULL);
        CHECK(s >= 0);
        ssize_t r = read(s, buf, sizeof buf);
        if (r != 100) fprintf(stderr, "round %d: read %zd (errno %d)\n", i, r, errno);
        CHECK(r == 100);
        CHECK(read(s, buf, sizeof buf) == 0);
        CHECK(close(s) == 0);
    }
    close(l);
    printf("accept_race: ok\n");
    return 0;
}
