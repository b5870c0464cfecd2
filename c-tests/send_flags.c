/* Which sinfo_flags a send may carry, as Linux's sctp_sendmsg_parse
 * decides (confirmed on Linux 6.1): SCTP_EOF and SCTP_ABORT are for
 * one-to-many sockets only (EINVAL on one-to-one), SCTP_EOF carries no
 * data, and an empty message without either is EINVAL. */
#include "common.h"
#include "expect.h"

static int failures;

int main(void) {
    uint16_t port = free_ports(2);
    struct sockaddr_in a = loop4(port);
    int l = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(l >= 0);
    CHECK(bind(l, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(listen(l, 5) == 0);
    int c = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(connect(c, (struct sockaddr *)&a, sizeof a) == 0);
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);

    /* One-to-one: SCTP_EOF and SCTP_ABORT are refused, with or without data. */
    struct sctp_sndinfo si = {.snd_flags = SCTP_EOF};
    EXPECT(send_info(c, NULL, 0, "bye", 3, &si, NULL, 0), EINVAL);
    EXPECT(send_info(c, NULL, 0, "", 0, &si, NULL, 0), EINVAL);
    si.snd_flags = SCTP_ABORT;
    EXPECT(send_info(c, NULL, 0, "why", 3, &si, NULL, 0), EINVAL);
    EXPECT(send_info(c, NULL, 0, "", 0, &si, NULL, 0), EINVAL);
    /* An empty message is refused, with or without SCTP_SNDINFO. */
    si.snd_flags = 0;
    EXPECT(send_info(c, NULL, 0, "", 0, &si, NULL, 0), EINVAL);
    EXPECT(send(c, "", 0, 0), EINVAL);
    /* The association is still up and carries data. */
    CHECK(send(c, "ok", 2, 0) == 2);
    char b[8];
    CHECK(readable(s, 3000) && recv(s, b, sizeof b, 0) == 2);

    /* One-to-many: SCTP_EOF with data is refused; without, it ends the
     * association; SCTP_ABORT may carry the reason. */
    int m = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
    struct sockaddr_in ma = loop4((uint16_t)(port + 1));
    CHECK(bind(m, (struct sockaddr *)&ma, sizeof ma) == 0);
    CHECK(listen(m, 5) == 0);
    int k = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
    CHECK(sendto(k, "hi", 2, 0, (struct sockaddr *)&ma, sizeof ma) == 2);
    int on = 1;
    CHECK(setsockopt(m, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on) == 0);
    struct got g;
    CHECK(readable(m, 3000) && recv_got(m, b, sizeof b, 0, &g) == 2 && g.has_rcvinfo);
    si = (struct sctp_sndinfo){.snd_flags = SCTP_EOF, .snd_assoc_id = g.rcv.rcv_assoc_id};
    EXPECT(send_info(m, NULL, 0, "bye", 3, &si, NULL, 0), EINVAL);
    si.snd_flags = 0;
    EXPECT(send_info(m, NULL, 0, "", 0, &si, NULL, 0), EINVAL);
    si.snd_flags = SCTP_ABORT;
    /* SCTP_ABORT with the reason: Linux answers 0, not the length. */
    CHECK(send_info(m, NULL, 0, "why", 3, &si, NULL, 0) == 0);
    close(k); close(m); close(s); close(c); close(l);
    if (failures) return 1;
    printf("send_flags: ok\n");
    return 0;
}
