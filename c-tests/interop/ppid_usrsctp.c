/* The non-shim end of the PPID interoperation test (scripts/e2e-usrsctp.sh):
 * a usrsctp client that sends messages whose payload protocol identifier
 * is given in network byte order, as applications do (htonl(7)), with the
 * same four bytes as the payload. usrsctp puts snd_ppid on the wire as
 * the application's bytes, so the server under the shim must read the
 * payload's bytes in rcv_ppid; it echoes each message with the PPID it
 * read, and this client checks the echo the same way.
 *   ppid_usrsctp SCTP_PORT LOCAL_UDP_PORT REMOTE_UDP_PORT */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <usrsctp.h>

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: ppid_usrsctp SCTP_PORT LOCAL_UDP_PORT REMOTE_UDP_PORT\n");
        return 2;
    }
    usrsctp_init((uint16_t)atoi(argv[2]), NULL, NULL);
    struct socket *s = usrsctp_socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP, NULL, NULL, 0, NULL);
    if (!s) {
        perror("usrsctp_socket");
        return 1;
    }
    struct sctp_udpencaps enc;
    memset(&enc, 0, sizeof enc);
    enc.sue_address.ss_family = AF_INET;
    enc.sue_port = htons((uint16_t)atoi(argv[3]));
    if (usrsctp_setsockopt(s, IPPROTO_SCTP, SCTP_REMOTE_UDP_ENCAPS_PORT, &enc, sizeof enc) < 0) {
        perror("SCTP_REMOTE_UDP_ENCAPS_PORT");
        return 1;
    }
    const int on = 1;
    usrsctp_setsockopt(s, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)atoi(argv[1]));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (usrsctp_connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
        perror("usrsctp_connect");
        return 1;
    }
    const uint32_t ppids[] = {htonl(7), htonl(0x01020304), 0x01020304, 0, 0xffffffff, htonl(51)};
    int bad = 0;
    for (size_t i = 0; i < sizeof ppids / sizeof ppids[0]; i++) {
        struct sctp_sndinfo snd;
        memset(&snd, 0, sizeof snd);
        snd.snd_ppid = ppids[i];
        unsigned char body[4];
        memcpy(body, &ppids[i], 4);
        if (usrsctp_sendv(s, body, 4, NULL, 0, &snd, sizeof snd, SCTP_SENDV_SNDINFO, 0) != 4) {
            perror("usrsctp_sendv");
            return 1;
        }
        unsigned char buf[64];
        struct sctp_rcvinfo rcv;
        socklen_t rl = sizeof rcv, fl = 0;
        unsigned int type = 0;
        int flags = 0;
        ssize_t n = usrsctp_recvv(s, buf, sizeof buf, NULL, &fl, &rcv, &rl, &type, &flags);
        if (n != 4 || type != SCTP_RECVV_RCVINFO) {
            fprintf(stderr, "echo %zu: %zd bytes, info type %u\n", i, n, type);
            return 1;
        }
        if (memcmp(buf, body, 4) != 0 || memcmp(&rcv.rcv_ppid, body, 4) != 0) {
            fprintf(stderr, "echo %zu: sent ppid %08x, echoed %08x with payload %02x%02x%02x%02x\n", i,
                    ppids[i], rcv.rcv_ppid, buf[0], buf[1], buf[2], buf[3]);
            bad++;
        }
    }
    usrsctp_close(s);
    for (int i = 0; i < 50 && usrsctp_finish() != 0; i++)
        usleep(100000);
    printf("ppid_usrsctp: %s\n", bad ? "FAIL" : "ok");
    return bad ? 1 : 0;
}
