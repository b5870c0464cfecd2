/* An association that is over before accept() (one-to-one listener): the
 * peer sent, then closed gracefully or aborted, all while the association
 * waited in the accept queue. Linux keeps it there (sctp_cmd_delete_tcb
 * spares a listener's associations) and accept() hands it over with all it
 * received (sctp_sock_migrate): the messages, the notifications the
 * listener subscribed to, then EOF, or the reset after an ABORT.
 * Each case prints what it read; the checks are Linux's answers (confirmed
 * on Linux 6.1 with ../shared/tools/linux-guest.sh). */
#include "common.h"

static int listener(struct sockaddr_in *a) {
    int l = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(l >= 0);
    *a = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(bind(l, (struct sockaddr *)a, sizeof *a) == 0);
    socklen_t al = sizeof *a;
    CHECK(getsockname(l, (struct sockaddr *)a, &al) == 0);
    struct sctp_event_subscribe ev;
    memset(&ev, 0, sizeof ev);
    ev.sctp_association_event = 1;
    ev.sctp_shutdown_event = 1;
    CHECK(setsockopt(l, IPPROTO_SCTP, SCTP_EVENTS, &ev, sizeof ev) == 0);
    CHECK(listen(l, 4) == 0);
    return l;
}

/* Connects to `a`, sends two messages and closes with SO_LINGER {1, secs}:
 * secs 0 aborts; otherwise close() returns once the association is over
 * (sctp_close waits, as for a graceful end). */
static void send_and_close(const struct sockaddr_in *a, int secs) {
    int c = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(c >= 0);
    CHECK(connect(c, (const struct sockaddr *)a, sizeof *a) == 0);
    CHECK(send(c, "one", 3, 0) == 3);
    CHECK(send(c, "two!", 4, 0) == 4);
    struct linger lg = {1, secs};
    CHECK(setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
    if (secs == 0) usleep(200 * 1000); /* the messages arrive before the ABORT */
    CHECK(close(c) == 0);
}

/* One record from `s` as text: "data:..." , "note:TYPE/STATE", "eof" or
 * "err:ERRNO". */
static void next(int s, char *out, size_t n) {
    struct pollfd p = {.fd = s, .events = POLLIN};
    CHECK(poll(&p, 1, 5000) == 1);
    char buf[256];
    struct got g;
    ssize_t r = recv_got(s, buf, sizeof buf - 1, 0, &g);
    if (r < 0) {
        snprintf(out, n, "err:%d", errno);
    } else if (r == 0) {
        snprintf(out, n, "eof");
    } else if (g.flags & MSG_NOTIFICATION) {
        union sctp_notification *sn = (union sctp_notification *)buf;
        int state = sn->sn_header.sn_type == SCTP_ASSOC_CHANGE ? sn->sn_assoc_change.sac_state : 0;
        snprintf(out, n, "note:%d/%d", sn->sn_header.sn_type, state);
    } else {
        buf[r] = 0;
        snprintf(out, n, "data:%s", buf);
    }
}

static void expect_sequence(const char *name, int secs, const char *const *want, int count) {
    struct sockaddr_in a;
    int l = listener(&a);
    send_and_close(&a, secs);
    usleep(100 * 1000);
    int s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    for (int i = 0; i < count; i++) {
        char got[64];
        next(s, got, sizeof got);
        printf("accept_late: %s: %s\n", name, got);
        if (strcmp(got, want[i]) != 0) {
            fprintf(stderr, "accept_late: %s: record %d is %s, Linux gives %s\n", name, i, got,
                    want[i]);
            exit(1);
        }
    }
    close(s);
    close(l);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    char up[32], comp[32], shut[32], lost[32];
    snprintf(up, sizeof up, "note:%d/%d", SCTP_ASSOC_CHANGE, SCTP_COMM_UP);
    snprintf(comp, sizeof comp, "note:%d/%d", SCTP_ASSOC_CHANGE, SCTP_SHUTDOWN_COMP);
    snprintf(shut, sizeof shut, "note:%d/0", SCTP_SHUTDOWN_EVENT);
    snprintf(lost, sizeof lost, "note:%d/%d", SCTP_ASSOC_CHANGE, SCTP_COMM_LOST);
    const char *graceful[] = {up, "data:one", "data:two!", shut, comp, "eof", "eof"};
    expect_sequence("graceful", 5, graceful, 7);
    const char *aborted[] = {up, "data:one", "data:two!", lost, "eof", "eof"};
    expect_sequence("aborted", 0, aborted, 6);
    printf("accept_late: ok\n");
    return 0;
}
