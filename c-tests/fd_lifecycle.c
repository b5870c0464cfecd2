/* Descriptors as daemons and spawners handle them (issue 13):
 * - a close loop over every descriptor, closefrom() and close_range() after
 *   the engine has started leave SCTP working, and the engine does not spin;
 * - an fcntl(F_DUPFD_CLOEXEC) copy is the same SCTP socket;
 * - a vfork child's dup2(sctp, 1) + exec does not make the parent take its
 *   own stdout for an SCTP socket, and the child's output reaches the peer. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "common.h"

#define PORT 46311

static double cpu_s(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/* A connected (client, accepted) pair through listener `l`. */
static void pair_up(int l, int port, int *c, int *a) {
    *c = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(*c >= 0);
    struct sockaddr_in to = loop4(port);
    CHECK(connect(*c, (struct sockaddr *)&to, sizeof to) == 0);
    *a = accept(l, NULL, NULL);
    CHECK(*a >= 0);
}

static void echo_once(int from, int to, const char *msg) {
    char buf[64];
    CHECK(write(from, msg, strlen(msg)) == (ssize_t)strlen(msg));
    CHECK(readable(to, 5000));
    ssize_t n = read(to, buf, sizeof buf);
    CHECK(n == (ssize_t)strlen(msg) && memcmp(buf, msg, n) == 0);
}

/* Closes everything from 3 on the way `how` says. */
static void close_all(int how) {
    if (how == 0) {
        long max = sysconf(_SC_OPEN_MAX);
        for (int fd = 3; fd < max && fd < 65536; fd++) close(fd);
    } else if (how == 1) {
        closefrom(3);
    } else {
        CHECK(close_range(3, ~0U, 0) == 0);
    }
}

int main(void) {
    const char *ways[] = {"close loop", "closefrom", "close_range"};
    for (int how = 0; how < 3; how++) {
        /* Start the engine (wake pipe, epoll, a UDP socket), then close all. */
        /* A port per round: ports of closed sockets stay taken until their
         * associations have shut down. */
        int port = PORT + 2 * how;
        int l = listen_on(SOCK_STREAM, port, 0, 8);
        int c, a;
        pair_up(l, port, &c, &a);
        echo_once(c, a, "before");
        close_all(how);
        errno = 0;
        CHECK(write(c, "x", 1) < 0 && errno == EBADF); /* the program's own: gone */
        l = listen_on(SOCK_STREAM, port + 1, 0, 8);
        pair_up(l, port + 1, &c, &a);
        echo_once(c, a, "after");
        echo_once(a, c, "back");
        /* Idle: the engine must wait, not spin on a closed descriptor. */
        double t0 = cpu_s();
        usleep(300 * 1000);
        double used = cpu_s() - t0;
        if (used > 0.1) {
            fprintf(stderr, "%s: %.3f s of CPU while idle\n", ways[how], used);
            return 1;
        }
        close(a);
        close(c);
        close(l);
        printf("%s: ok\n", ways[how]);
    }

    int l = listen_on(SOCK_STREAM, PORT + 6, 0, 8);
    int c, a;
    pair_up(l, PORT + 6, &c, &a);
    /* F_DUPFD_CLOEXEC (Python's socket.dup) and F_DUPFD copies. */
    int c2 = fcntl(c, F_DUPFD_CLOEXEC, 100);
    int c3 = fcntl(c, F_DUPFD, 0);
    CHECK(c2 >= 100 && c3 >= 0);
    CHECK(close(c) == 0);
    struct sctp_status st;
    socklen_t sl = sizeof st;
    CHECK(getsockopt(c2, IPPROTO_SCTP, SCTP_STATUS, &st, &sl) == 0);
    CHECK(st.sstat_state == SCTP_ESTABLISHED);
    sl = sizeof st;
    CHECK(getsockopt(c3, IPPROTO_SCTP, SCTP_STATUS, &st, &sl) == 0);
    CHECK(close(c3) == 0);
    echo_once(c2, a, "dupfd");
    printf("F_DUPFD(_CLOEXEC): ok\n");

    /* vfork + dup2(sctp, 1) + exec: the child's memory is the parent's. */
    fflush(stdout);
    pid_t p = vfork();
    if (p == 0) {
        dup2(c2, 1);
        execl("/bin/echo", "echo", "spawned-output", (char *)NULL);
        _exit(127);
    }
    CHECK(p > 0);
    int status;
    CHECK(waitpid(p, &status, 0) == p && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* The parent's stdout is what it was, not an SCTP socket. */
    sl = sizeof st;
    errno = 0;
    CHECK(getsockopt(1, IPPROTO_SCTP, SCTP_STATUS, &st, &sl) < 0);
    CHECK(errno == ENOTSOCK || errno == ENOPROTOOPT || errno == EOPNOTSUPP);
    char buf[64];
    CHECK(readable(a, 5000));
    ssize_t n = read(a, buf, sizeof buf);
    CHECK(n == 15 && memcmp(buf, "spawned-output\n", 15) == 0);
    /* The parent's socket still works. */
    sl = sizeof st;
    CHECK(getsockopt(c2, IPPROTO_SCTP, SCTP_STATUS, &st, &sl) == 0);
    echo_once(c2, a, "still");
    printf("vfork + dup2 + exec: ok\n");
    close(c2);
    close(a);
    close(l);
    return 0;
}
