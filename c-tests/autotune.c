/* Buffer auto-tuning (issue 16): a one-to-one socket whose program did not
 * set SO_RCVBUF offers its peer a window that grows with what the reader
 * takes (as Linux TCP's right-sizing; Linux's SCTP keeps it at the
 * default), while getsockopt still answers the default; with SO_RCVBUF set
 * the window stays within it, as on Linux. Under the shim the peer's window
 * after a fast transfer must be past the default; on Linux at most it. */
#include "common.h"

#include <pthread.h>

#define MSG 65536
#define COUNT 256

static void *reader(void *arg) {
    int s = *(int *)arg;
    static char buf[MSG];
    long total = 0;
    while (total < (long)MSG * COUNT) {
        ssize_t n = read(s, buf, sizeof buf);
        CHECK(n > 0);
        total += n;
    }
    return NULL;
}

/* Moves COUNT messages of MSG bytes to a reader that keeps up; returns the
 * receive window the sender then sees (SCTP_STATUS). `rcvbuf` > 0 is set
 * on the listener (its accepted socket takes it). */
static uint32_t peer_window_after(uint16_t port, int rcvbuf, int *reported) {
    int cl, srv;
    connected_pair_rcvbuf(port, rcvbuf, &cl, &srv);
    socklen_t sl = sizeof *reported;
    CHECK(getsockopt(srv, SOL_SOCKET, SO_RCVBUF, reported, &sl) == 0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, reader, &srv) == 0);
    static char msg[MSG];
    memset(msg, 'a', sizeof msg);
    for (int i = 0; i < COUNT; i++) CHECK(write(cl, msg, sizeof msg) == (ssize_t)sizeof msg);
    CHECK(pthread_join(t, NULL) == 0);
    /* The window updates that follow the last reads reach the sender. */
    usleep(200000);
    struct sctp_status st;
    memset(&st, 0, sizeof st);
    sl = sizeof st;
    CHECK(getsockopt(cl, IPPROTO_SCTP, SCTP_STATUS, &st, &sl) == 0);
    close(cl);
    close(srv);
    return st.sstat_rwnd;
}

int main(void) {
    const char *pre = getenv("LD_PRELOAD");
    int under_shim = pre && strstr(pre, "sctpshim");
    uint16_t port = free_ports(2);
    int reported = 0;
    uint32_t w = peer_window_after(port, 0, &reported);
    printf("autotune: default buffer: peer window %u after %d MiB (SO_RCVBUF answers %d)\n", w,
           MSG * COUNT >> 20, reported);
    CHECK(reported == 212992);
    if (under_shim)
        CHECK(w > 212992);
    else
        CHECK(w <= 212992);
    /* SO_RCVBUF set: the window stays within it (Linux doubles the value). */
    w = peer_window_after((uint16_t)(port + 1), 100000, &reported);
    printf("autotune: SO_RCVBUF 100000: peer window %u (SO_RCVBUF answers %d)\n", w, reported);
    CHECK(reported == 200000);
    CHECK(w <= 200000);
    printf("autotune: ok\n");
    return 0;
}
