/* The local side of a conformance script (src/bin/sctpshim-peer): reads
 * one socket call per line on stdin, makes it (under the shim), and
 * answers one line of key=value words: ret=, errno= (a name) and what the
 * call returned.
 *
 *   socket stream|seqpacket [v6]     bind FD PORT       listen FD N
 *   connect FD PORT                  accept FD          close FD
 *   nonblock FD      linger FD SECS  shutdown FD rd|wr|rdwr
 *   send FD TEXT [SID [PPID [FLAGS [ASSOC]]]]  ("-": no bytes)
 *   sendto FD PORT TEXT              sendn FD BYTES
 *   recv FD [LEN]  (waits up to 3 s)    recvnb FD [LEN]    recvblock FD [LEN] (no poll first)
 *   events FD                        (subscribes to every notification)
 *   status FD                        so_error FD      poll FD
 *   opt FD nodelay|rcvbuf|sndbuf|maxseg|sack_delay|sack_freq|rto_min|rto_max|rto_initial|max_init|streams
 *          |maxrxt|cookie_life|hbinterval|pathmaxrxt|hb_off|pmtu VALUE  (ms where a time)
 *
 * PPIDs are given and shown as the 32-bit value the program passes (the
 * wire's bytes in network order). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/sctp.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

static int v6[1024];

static const char *ename(int e) {
    static char b[16];
    switch (e) {
#define E(x) case x: return #x;
        E(EINVAL) E(EAGAIN) E(ENOTCONN) E(ECONNREFUSED) E(ECONNRESET) E(ETIMEDOUT) E(EPIPE)
        E(EINPROGRESS) E(EISCONN) E(EADDRINUSE) E(EBADF) E(EOPNOTSUPP) E(ENOPROTOOPT)
        E(EMSGSIZE) E(EALREADY) E(ESHUTDOWN) E(EFAULT) E(ENOENT) E(EPROTO) E(EINTR)
        E(ECONNABORTED) E(EADDRNOTAVAIL) E(EHOSTUNREACH) E(ENETUNREACH)
#undef E
    case 0: return "0";
    }
    snprintf(b, sizeof b, "%d", e);
    return b;
}

static const char *state_name(int s) {
    switch (s) {
    case SCTP_EMPTY: return "EMPTY";
    case SCTP_CLOSED: return "CLOSED";
    case SCTP_COOKIE_WAIT: return "COOKIE_WAIT";
    case SCTP_COOKIE_ECHOED: return "COOKIE_ECHOED";
    case SCTP_ESTABLISHED: return "ESTABLISHED";
    case SCTP_SHUTDOWN_PENDING: return "SHUTDOWN_PENDING";
    case SCTP_SHUTDOWN_SENT: return "SHUTDOWN_SENT";
    case SCTP_SHUTDOWN_RECEIVED: return "SHUTDOWN_RECEIVED";
    case SCTP_SHUTDOWN_ACK_SENT: return "SHUTDOWN_ACK_SENT";
    }
    return "?";
}

static const char *note_name(int t) {
    switch (t) {
    case SCTP_ASSOC_CHANGE: return "ASSOC_CHANGE";
    case SCTP_PEER_ADDR_CHANGE: return "PEER_ADDR_CHANGE";
    case SCTP_SEND_FAILED: return "SEND_FAILED";
    case SCTP_REMOTE_ERROR: return "REMOTE_ERROR";
    case SCTP_SHUTDOWN_EVENT: return "SHUTDOWN_EVENT";
    case SCTP_PARTIAL_DELIVERY_EVENT: return "PARTIAL_DELIVERY";
    case SCTP_ADAPTATION_INDICATION: return "ADAPTATION";
    case SCTP_AUTHENTICATION_EVENT: return "AUTH";
    case SCTP_SENDER_DRY_EVENT: return "SENDER_DRY";
    case SCTP_SEND_FAILED_EVENT: return "SEND_FAILED_EVENT";
    }
    static char b[16];
    snprintf(b, sizeof b, "%d", t);
    return b;
}

static const char *sac_name(int s) {
    switch (s) {
    case SCTP_COMM_UP: return "COMM_UP";
    case SCTP_COMM_LOST: return "COMM_LOST";
    case SCTP_RESTART: return "RESTART";
    case SCTP_SHUTDOWN_COMP: return "SHUTDOWN_COMP";
    case SCTP_CANT_STR_ASSOC: return "CANT_STR_ASSOC";
    }
    return "?";
}

/* Where bind and connect go: loopback, or (helper BIND PEER, on Linux's
 * own SCTP in a qemu guest: scripts/conformance-linux.sh) the addresses
 * given. */
static struct in_addr bind_a = {0}, peer_a = {0};

static struct sockaddr_storage addr_of(int fd, int port, socklen_t *len, int local) {
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (fd >= 0 && fd < 1024 && v6[fd]) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        a->sin6_addr = in6addr_loopback;
        *len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons(port);
        a->sin_addr = local ? bind_a : peer_a;
        *len = sizeof *a;
    }
    return ss;
}

static void ret(long r) {
    printf("ret=%ld errno=%s\n", r, r < 0 ? ename(errno) : "0");
}

static void print_data(const char *buf, long n) {
    putchar('"');
    for (long i = 0; i < n; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            putchar(c);
        else
            printf("\\x%02x", c);
    }
    putchar('"');
}

/* wait: 1 polls up to 3 s for POLLIN first, 2 blocks in recvmsg alone
 * (what a read on a socket that will never be readable answers), 0 does
 * not block. */
static void do_recv(int fd, int len, int wait) {
    if (wait == 1) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 3000) == 0) {
            printf("ret=-1 errno=TIMEOUT\n");
            return;
        }
    }
    static char buf[1 << 16];
    if (len <= 0 || len > (int)sizeof buf) len = sizeof buf;
    char ctl[256];
    struct iovec v = {buf, (size_t)len};
    struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
    long n = recvmsg(fd, &m, wait ? 0 : MSG_DONTWAIT);
    if (n < 0) {
        ret(n);
        return;
    }
    printf("ret=%ld errno=0 flags=%s%s", n, m.msg_flags & MSG_NOTIFICATION ? "NOTIFICATION" : "",
           m.msg_flags & MSG_EOR ? (m.msg_flags & MSG_NOTIFICATION ? "|EOR" : "EOR") : "");
    if (!(m.msg_flags & (MSG_NOTIFICATION | MSG_EOR))) printf("0");
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level == IPPROTO_SCTP && c->cmsg_type == SCTP_RCVINFO) {
            struct sctp_rcvinfo ri;
            memcpy(&ri, CMSG_DATA(c), sizeof ri);
            printf(" sid=%u ssn=%u ppid=%u tsn=%u unordered=%d", ri.rcv_sid, ri.rcv_ssn, ri.rcv_ppid,
                   ri.rcv_tsn, !!(ri.rcv_flags & SCTP_UNORDERED));
        }
    }
    if (m.msg_flags & MSG_NOTIFICATION) {
        union sctp_notification *sn = (union sctp_notification *)buf;
        printf(" note=%s", note_name(sn->sn_header.sn_type));
        if (sn->sn_header.sn_type == SCTP_ASSOC_CHANGE)
            printf(" state=%s error=%u outs=%u ins=%u assoc=%d", sac_name(sn->sn_assoc_change.sac_state),
                   sn->sn_assoc_change.sac_error, sn->sn_assoc_change.sac_outbound_streams,
                   sn->sn_assoc_change.sac_inbound_streams, (int)sn->sn_assoc_change.sac_assoc_id);
        if (sn->sn_header.sn_type == SCTP_REMOTE_ERROR)
            printf(" cause=%u", ntohs(sn->sn_remote_error.sre_error));
        if (sn->sn_header.sn_type == SCTP_PEER_ADDR_CHANGE) {
            static const char *ps[] = {"ADDR_AVAILABLE", "ADDR_UNREACHABLE", "ADDR_REMOVED",
                                       "ADDR_ADDED", "ADDR_MADE_PRIM", "ADDR_CONFIRMED",
                                       "ADDR_POTENTIALLY_FAILED"};
            unsigned st = (unsigned)sn->sn_paddr_change.spc_state;
            char host[64] = "?";
            struct sockaddr_storage a;
            memcpy(&a, (const char *)sn + offsetof(struct sctp_paddr_change, spc_aaddr), sizeof a);
            if (a.ss_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *)&a)->sin_addr, host, sizeof host);
            else if (a.ss_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&a)->sin6_addr, host, sizeof host);
            printf(" state=%s error=%d addr=%s", st < 7 ? ps[st] : "?", sn->sn_paddr_change.spc_error, host);
        }
        if (sn->sn_header.sn_type == SCTP_AUTHENTICATION_EVENT)
            printf(" indication=%u key=%u", sn->sn_authkey_event.auth_indication,
                   sn->sn_authkey_event.auth_keynumber);
    } else {
        printf(" data=");
        print_data(buf, n);
    }
    putchar('\n');
}

static int opt_name(const char *s) {
    if (!strcmp(s, "nodelay")) return SCTP_NODELAY;
    if (!strcmp(s, "maxseg")) return SCTP_MAXSEG;
    return -1;
}

static void *console(void *arg) {
    int to = *(int *)arg;
    char l[70000];
    while (fgets(l, sizeof l, stdin)) {
        if (!strcmp(l, "quit\n")) _exit(0);
        if (write(to, l, strlen(l)) < 0) break;
    }
    _exit(0);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    bind_a.s_addr = peer_a.s_addr = htonl(INADDR_LOOPBACK);
    if (argc > 2) {
        /* In the guest, stdin/stdout are the serial console: no echo, no
         * CR, and a line that tells the runner this helper is ready. */
        inet_pton(AF_INET, argv[1], &bind_a);
        inet_pton(AF_INET, argv[2], &peer_a);
        struct termios t;
        if (tcgetattr(0, &t) == 0) {
            cfmakeraw(&t);
            tcsetattr(0, TCSANOW, &t);
        }
        printf("READY\n");
    }
    FILE *in = stdin;
    if (argc > 2) {
        /* A call may block (connect) when the runner ends the script: a
         * thread reads the console and ends the helper at "quit". */
        static int p[2];
        pthread_t t;
        if (pipe(p) < 0 || pthread_create(&t, NULL, console, &p[1]) != 0) return 1;
        in = fdopen(p[0], "r");
    }
    char line[70000];
    while (fgets(line, sizeof line, in)) {
        line[strcspn(line, "\n")] = 0;
        char cmd[32] = "", a1[64] = "", a2[65536] = "", a3[64] = "", a4[64] = "", a5[64] = "", a6[64] = "";
        int n = sscanf(line, "%31s %63s %65535s %63s %63s %63s %63s", cmd, a1, a2, a3, a4, a5, a6);
        if (n <= 0) continue;
        int fd = atoi(a1);
        errno = 0;
        if (!strcmp(cmd, "socket")) {
            int six = !strcmp(a2, "v6");
            int s = socket(six ? AF_INET6 : AF_INET, !strcmp(a1, "seqpacket") ? SOCK_SEQPACKET : SOCK_STREAM,
                           IPPROTO_SCTP);
            if (s >= 0 && s < 1024) v6[s] = six;
            /* The scripts count packets and fragments for a 1500-byte path
             * (the Linux guest's link): loopback's own MTU would be 64 KiB. */
            if (s >= 0) {
                struct sctp_paddrparams pp;
                memset(&pp, 0, sizeof pp);
                pp.spp_pathmtu = 1500;
                pp.spp_flags = SPP_PMTUD_DISABLE;
                setsockopt(s, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, sizeof pp);
            }
            ret(s);
        } else if (!strcmp(cmd, "bind") || !strcmp(cmd, "connect")) {
            socklen_t l;
            struct sockaddr_storage ss = addr_of(fd, atoi(a2), &l, cmd[0] == 'b');
            ret(cmd[0] == 'b' ? bind(fd, (struct sockaddr *)&ss, l) : connect(fd, (struct sockaddr *)&ss, l));
        } else if (!strcmp(cmd, "listen")) {
            ret(listen(fd, atoi(a2)));
        } else if (!strcmp(cmd, "accept")) {
            int s = accept(fd, NULL, NULL);
            if (s >= 0 && s < 1024) v6[s] = v6[fd];
            ret(s);
        } else if (!strcmp(cmd, "quit")) {
            return 0;
        } else if (!strcmp(cmd, "close")) {
            ret(close(fd));
        } else if (!strcmp(cmd, "linger")) {
            struct linger lg = {1, atoi(a2)};
            ret(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
        } else if (!strcmp(cmd, "nonblock")) {
            ret(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK));
        } else if (!strcmp(cmd, "shutdown")) {
            int how = !strcmp(a2, "rd") ? SHUT_RD : !strcmp(a2, "wr") ? SHUT_WR : SHUT_RDWR;
            ret(shutdown(fd, how));
        } else if (!strcmp(cmd, "send") || !strcmp(cmd, "sendto")) {
            int to = cmd[4] == 't';
            const char *text = to ? a3 : a2;
            if (!strcmp(text, "-")) text = "";
            struct sctp_sndinfo si = {0};
            if (!to) {
                si.snd_sid = (uint16_t)atoi(a3);
                si.snd_ppid = (uint32_t)strtoul(a4, NULL, 0);
                si.snd_flags = (uint16_t)strtoul(a5, NULL, 0);
                si.snd_assoc_id = (sctp_assoc_t)atoi(a6);
            }
            char ctl[CMSG_SPACE(sizeof si)];
            memset(ctl, 0, sizeof ctl);
            struct iovec v = {(void *)text, strlen(text)};
            socklen_t l = 0;
            struct sockaddr_storage ss;
            if (to) ss = addr_of(fd, atoi(a2), &l, 0);
            struct msghdr m = {.msg_name = to ? &ss : NULL, .msg_namelen = l, .msg_iov = &v, .msg_iovlen = 1,
                               .msg_control = ctl, .msg_controllen = sizeof ctl};
            struct cmsghdr *c = CMSG_FIRSTHDR(&m);
            c->cmsg_level = IPPROTO_SCTP;
            c->cmsg_type = SCTP_SNDINFO;
            c->cmsg_len = CMSG_LEN(sizeof si);
            memcpy(CMSG_DATA(c), &si, sizeof si);
            ret(sendmsg(fd, &m, MSG_NOSIGNAL));
        } else if (!strcmp(cmd, "sendn")) {
            static char big[65536];
            size_t len = (size_t)atol(a2);
            if (len > sizeof big) len = sizeof big;
            for (size_t i = 0; i < len; i++) big[i] = (char)('a' + i % 26);
            ret(send(fd, big, len, MSG_NOSIGNAL));
        } else if (!strcmp(cmd, "recv") || !strcmp(cmd, "recvnb") || !strcmp(cmd, "recvblock")) {
            int on = 1;
            setsockopt(fd, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on);
            do_recv(fd, atoi(a2), cmd[4] == 0 ? 1 : cmd[4] == 'b' ? 2 : 0);
        } else if (!strcmp(cmd, "events")) {
            int r = 0;
            for (int t = SCTP_SN_TYPE_BASE; t <= SCTP_SENDER_DRY_EVENT; t++) {
                struct sctp_event e = {.se_type = (uint16_t)t, .se_on = 1};
                r |= setsockopt(fd, IPPROTO_SCTP, SCTP_EVENT, &e, sizeof e);
            }
            ret(r);
        } else if (!strcmp(cmd, "status")) {
            struct sctp_status st;
            memset(&st, 0, sizeof st);
            socklen_t l = sizeof st;
            long r = getsockopt(fd, IPPROTO_SCTP, SCTP_STATUS, &st, &l);
            if (r < 0) {
                ret(r);
            } else {
                printf("ret=0 errno=0 state=%s rwnd=%u unacked=%u pending=%u ins=%u outs=%u\n",
                       state_name(st.sstat_state), st.sstat_rwnd, st.sstat_unackdata, st.sstat_penddata,
                       st.sstat_instrms, st.sstat_outstrms);
            }
        } else if (!strcmp(cmd, "so_error")) {
            int e = 0;
            socklen_t l = sizeof e;
            long r = getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l);
            printf("ret=%ld errno=0 value=%s\n", r, ename(e));
        } else if (!strcmp(cmd, "poll")) {
            struct pollfd p = {fd, POLLIN | POLLOUT | POLLRDHUP, 0};
            long r = poll(&p, 1, 0);
            printf("ret=%ld errno=0 in=%d out=%d err=%d hup=%d rdhup=%d\n", r, !!(p.revents & POLLIN),
                   !!(p.revents & POLLOUT), !!(p.revents & POLLERR), !!(p.revents & POLLHUP),
                   !!(p.revents & POLLRDHUP));
        } else if (!strcmp(cmd, "opt")) {
            long v = strtol(a3, NULL, 0);
            long r;
            if (!strcmp(a2, "rcvbuf") || !strcmp(a2, "sndbuf")) {
                int iv = (int)v;
                r = setsockopt(fd, SOL_SOCKET, a2[0] == 'r' ? SO_RCVBUF : SO_SNDBUF, &iv, sizeof iv);
            } else if (!strcmp(a2, "sack_delay") || !strcmp(a2, "sack_freq")) {
                struct sctp_sack_info si = {0};
                socklen_t l = sizeof si;
                getsockopt(fd, IPPROTO_SCTP, SCTP_DELAYED_SACK, &si, &l);
                if (a2[5] == 'd') si.sack_delay = (uint32_t)v;
                else si.sack_freq = (uint32_t)v;
                r = setsockopt(fd, IPPROTO_SCTP, SCTP_DELAYED_SACK, &si, sizeof si);
            } else if (!strncmp(a2, "rto_", 4)) {
                struct sctp_rtoinfo ri = {0};
                if (!strcmp(a2, "rto_min")) ri.srto_min = (uint32_t)v;
                if (!strcmp(a2, "rto_max")) ri.srto_max = (uint32_t)v;
                if (!strcmp(a2, "rto_initial")) ri.srto_initial = (uint32_t)v;
                r = setsockopt(fd, IPPROTO_SCTP, SCTP_RTOINFO, &ri, sizeof ri);
            } else if (!strcmp(a2, "max_init") || !strcmp(a2, "streams")) {
                struct sctp_initmsg im = {0};
                if (a2[0] == 'm') im.sinit_max_attempts = (uint16_t)v;
                else im.sinit_num_ostreams = im.sinit_max_instreams = (uint16_t)v;
                r = setsockopt(fd, IPPROTO_SCTP, SCTP_INITMSG, &im, sizeof im);
            } else if (!strcmp(a2, "maxrxt")) {
                struct sctp_assocparams ap = {.sasoc_asocmaxrxt = (uint16_t)v};
                r = setsockopt(fd, IPPROTO_SCTP, SCTP_ASSOCINFO, &ap, sizeof ap);
            } else if (!strcmp(a2, "cookie_life")) {
                struct sctp_assocparams ap = {.sasoc_cookie_life = (uint32_t)v};
                r = setsockopt(fd, IPPROTO_SCTP, SCTP_ASSOCINFO, &ap, sizeof ap);
            } else if (!strcmp(a2, "pmtu")) {
                /* VALUE bytes with discovery off; 0: discovery on again. */
                struct sctp_paddrparams pp;
                memset(&pp, 0, sizeof pp);
                pp.spp_pathmtu = (uint32_t)v;
                pp.spp_flags = v ? SPP_PMTUD_DISABLE : SPP_PMTUD_ENABLE;
                r = setsockopt(fd, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, sizeof pp);
            } else if (!strcmp(a2, "hbinterval") || !strcmp(a2, "pathmaxrxt") || !strcmp(a2, "hb_off")) {
                /* For every path (the socket's defaults before the association). */
                struct sctp_paddrparams pp;
                memset(&pp, 0, sizeof pp);
                if (a2[0] == 'h' && a2[2] == 'i') { pp.spp_hbinterval = (uint32_t)v; pp.spp_flags = SPP_HB_ENABLE; }
                else if (a2[0] == 'h') pp.spp_flags = SPP_HB_DISABLE;
                else pp.spp_pathmaxrxt = (uint16_t)v;
                r = setsockopt(fd, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, sizeof pp);
            } else {
                int iv = (int)v;
                int name = opt_name(a2);
                if (name < 0) {
                    printf("ret=-1 errno=UNKNOWN_OPTION\n");
                    continue;
                }
                if (name == SCTP_MAXSEG) {
                    struct sctp_assoc_value av = {0, (uint32_t)v};
                    r = setsockopt(fd, IPPROTO_SCTP, name, &av, sizeof av);
                } else {
                    r = setsockopt(fd, IPPROTO_SCTP, name, &iv, sizeof iv);
                }
            }
            ret(r);
        } else {
            printf("ret=-1 errno=UNKNOWN_COMMAND\n");
        }
    }
    return 0;
}
