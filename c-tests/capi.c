/* The lksctp C API as a program built with the project's header and
 * `-lsctpshim` only (no libsctp) uses it: sctp_bindx (add, remove, errors),
 * sctp_getladdrs, sctp_connectx returning the association id,
 * sctp_getpaddrs/freepaddrs, sctp_sendv (SCTP_SENDV_SPA) and sctp_recvv
 * (rcvinfo + nxtinfo), sctp_sendmsg/sctp_recvmsg with sctp_sndrcvinfo,
 * sctp_send, sctp_opt_info(SCTP_STATUS), sctp_peeloff, sctp_getaddrlen.
 * The Makefile also builds it against the system's lksctp header and
 * libsctp.so.1 when they are installed (capi_lksctp). */
#include "common.h"

int main(void) {
    uint16_t port = free_ports(2);
    char buf[256];
    CHECK(sctp_getaddrlen(AF_INET) == sizeof(struct sockaddr_in));
    CHECK(sctp_getaddrlen(AF_INET6) == sizeof(struct sockaddr_in6));

    /* Server: sctp_bindx on an unbound socket binds it; more addresses. */
    int srv = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
    CHECK(srv >= 0);
    struct sockaddr_in two[2] = {loop4(port), loop4(port)};
    two[1].sin_addr.s_addr = htonl(0x7f000002);
    CHECK(sctp_bindx(srv, (struct sockaddr *)two, 2, SCTP_BINDX_ADD_ADDR) == 0);
    struct sockaddr *la = NULL;
    CHECK(sctp_getladdrs(srv, 0, &la) == 2);
    CHECK(((struct sockaddr_in *)la)->sin_port == htons(port));
    sctp_freeladdrs(la);
    CHECK(sctp_bindx(srv, (struct sockaddr *)&two[1], 1, SCTP_BINDX_REM_ADDR) == 0);
    CHECK(sctp_getladdrs(srv, 0, &la) == 1);
    sctp_freeladdrs(la);
    CHECK(sctp_bindx(srv, (struct sockaddr *)&two[0], 1, SCTP_BINDX_REM_ADDR) < 0 && errno == EBUSY);
    CHECK(sctp_bindx(srv, (struct sockaddr *)&two[0], 1, 7) < 0 && errno == EINVAL);
    struct sockaddr_in other = loop4(port + 1);
    CHECK(sctp_bindx(srv, (struct sockaddr *)&other, 1, SCTP_BINDX_ADD_ADDR) < 0 && errno == EINVAL);
    CHECK(listen(srv, 4) == 0);
    struct sctp_event_subscribe ev = {0};
    ev.sctp_data_io_event = 1;
    CHECK(setsockopt(srv, IPPROTO_SCTP, SCTP_EVENTS, &ev, sizeof ev) == 0);
    int on = 1;
    CHECK(setsockopt(srv, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on) == 0);
    CHECK(setsockopt(srv, IPPROTO_SCTP, SCTP_RECVNXTINFO, &on, sizeof on) == 0);

    /* Client: sctp_connectx gives the association id. */
    int cl = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
    CHECK(setsockopt(cl, IPPROTO_SCTP, SCTP_EVENTS, &ev, sizeof ev) == 0);
    struct sockaddr_in to = loop4(port);
    sctp_assoc_t id = 0;
    CHECK(sctp_connectx(cl, (struct sockaddr *)&to, 1, &id) == 0 && id > SCTP_ALL_ASSOC);
    struct sockaddr *pa = NULL;
    CHECK(sctp_getpaddrs(cl, id, &pa) == 1);
    CHECK(((struct sockaddr_in *)pa)->sin_port == htons(port));
    sctp_freepaddrs(pa);
    struct sctp_status st = {.sstat_assoc_id = id};
    socklen_t sl = sizeof st;
    CHECK(sctp_opt_info(cl, id, SCTP_STATUS, &st, &sl) == 0 && st.sstat_state == SCTP_ESTABLISHED);
    CHECK(st.sstat_assoc_id == id && st.sstat_outstrms == 10);

    /* sctp_sendv with SCTP_SENDV_SPA, twice; sctp_recvv sees rcvinfo + nxtinfo. */
    struct sctp_sendv_spa spa = {0};
    spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
    spa.sendv_sndinfo.snd_sid = 2;
    spa.sendv_sndinfo.snd_ppid = htonl(66);
    spa.sendv_sndinfo.snd_assoc_id = id;
    struct iovec iov[2] = {{"sen", 3}, {"dv", 2}};
    CHECK(sctp_sendv(cl, iov, 2, NULL, 0, &spa, sizeof spa, SCTP_SENDV_SPA, 0) == 5);
    CHECK(sctp_sendv(cl, iov, 1, NULL, 0, &spa, sizeof spa, SCTP_SENDV_SPA, 0) == 3);
    usleep(200000);
    struct iovec riov = {buf, sizeof buf};
    struct sctp_recvv_rn rn;
    socklen_t rnl = sizeof rn;
    unsigned int type = 0;
    int flags = 0;
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    CHECK(sctp_recvv(srv, &riov, 1, (struct sockaddr *)&from, &fl, &rn, &rnl, &type, &flags) == 5);
    CHECK(memcmp(buf, "sendv", 5) == 0 && (flags & MSG_EOR));
    CHECK(type == SCTP_RECVV_RN && rnl == sizeof rn);
    CHECK(rn.recvv_rcvinfo.rcv_sid == 2 && rn.recvv_rcvinfo.rcv_ppid == htonl(66));
    CHECK(rn.recvv_nxtinfo.nxt_length == 3);
    CHECK(fl == sizeof from && from.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
    sctp_assoc_t sid_assoc = rn.recvv_rcvinfo.rcv_assoc_id;
    CHECK(sctp_recvv(srv, &riov, 1, NULL, NULL, &rn, &rnl, &type, &flags) == 3);

    /* What sctp_recvv reports depends on what fits *infolen, as libsctp
     * decides it, walking the control messages in Linux's order (nxtinfo
     * before rcvinfo): each one taken while it fits with the ones before;
     * nothing that fits leaves *infolen alone. */
    for (int i = 0; i < 5; i++) CHECK(sctp_sendv(cl, iov, 1, NULL, 0, &spa, sizeof spa, SCTP_SENDV_SPA, 0) == 3);
    usleep(200000);
    rnl = sizeof(struct sctp_rcvinfo) + 4; /* room for one of the two */
    flags = 0;
    CHECK(sctp_recvv(srv, &riov, 1, NULL, NULL, &rn, &rnl, &type, &flags) == 3);
    CHECK(type == SCTP_RECVV_NXTINFO && rnl == sizeof(struct sctp_nxtinfo));
    rnl = 10;
    CHECK(sctp_recvv(srv, &riov, 1, NULL, NULL, &rn, &rnl, &type, &flags) == 3);
    CHECK(type == SCTP_RECVV_NOINFO && rnl == 10);
    rnl = sizeof rn;
    CHECK(sctp_recvv(srv, &riov, 1, NULL, NULL, &rn, &rnl, &type, &flags) == 3);
    CHECK(type == SCTP_RECVV_RN && rnl == sizeof rn && rn.recvv_nxtinfo.nxt_length == 3);
    /* No info asked for: infotype is not touched. */
    type = 77;
    CHECK(sctp_recvv(srv, &riov, 1, NULL, NULL, NULL, NULL, &type, &flags) == 3);
    CHECK(type == 77);
    /* The last one has no next message: rcvinfo alone. */
    rnl = sizeof(struct sctp_rcvinfo) + 4;
    CHECK(sctp_recvv(srv, &riov, 1, NULL, NULL, &rn, &rnl, &type, &flags) == 3);
    CHECK(type == SCTP_RECVV_RCVINFO && rnl == sizeof(struct sctp_rcvinfo));

    /* sctp_sendmsg / sctp_recvmsg with sctp_sndrcvinfo. */
    CHECK(sctp_sendmsg(cl, "classic", 7, (struct sockaddr *)&to, sizeof to, htonl(9), 0, 4, 0, 77) == 7);
    struct sctp_sndrcvinfo sinfo;
    int mflags = 0;
    fl = sizeof from;
    CHECK(readable(srv, 3000));
    CHECK(sctp_recvmsg(srv, buf, sizeof buf, (struct sockaddr *)&from, &fl, &sinfo, &mflags) == 7);
    CHECK(memcmp(buf, "classic", 7) == 0 && (mflags & MSG_EOR));
    CHECK(sinfo.sinfo_stream == 4 && sinfo.sinfo_ppid == htonl(9) && sinfo.sinfo_assoc_id == sid_assoc);

    /* sctp_peeloff, then sctp_send on the new one-to-one socket. */
    int one = sctp_peeloff(srv, sid_assoc);
    CHECK(one >= 0);
    struct sctp_sndrcvinfo si = {.sinfo_stream = 1, .sinfo_ppid = htonl(3)};
    CHECK(sctp_send(one, "peeled", 6, &si, 0) == 6);
    fl = sizeof from;
    CHECK(readable(cl, 3000));
    CHECK(sctp_recvmsg(cl, buf, sizeof buf, (struct sockaddr *)&from, &fl, &sinfo, &mflags) == 6);
    CHECK(memcmp(buf, "peeled", 6) == 0 && sinfo.sinfo_stream == 1 && sinfo.sinfo_ppid == htonl(3));
    CHECK(sctp_peeloff(srv, sid_assoc) < 0 && errno == EINVAL);

    /* Pointers that map nothing: EFAULT, never a crash (issue 14). libsctp
     * itself would fault on several of these (it writes the results
     * through them); the shim's functions answer EFAULT. */
    void *bad = (void *)-1;
    CHECK(sctp_bindx(srv, bad, 1, SCTP_BINDX_ADD_ADDR) < 0 && errno == EFAULT);
    int fresh = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
    CHECK(fresh >= 0);
    CHECK(sctp_connectx(fresh, bad, 1, &id) < 0 && errno == EFAULT);
    CHECK(sctp_getpaddrs(cl, id, bad) < 0 && errno == EFAULT);
    CHECK(sctp_getladdrs(cl, id, bad) < 0 && errno == EFAULT);
    sl = sizeof st;
    CHECK(sctp_opt_info(cl, id, SCTP_STATUS, bad, &sl) < 0 && errno == EFAULT);
    CHECK(sctp_opt_info(cl, id, SCTP_STATUS, &st, bad) < 0 && errno == EFAULT);
    CHECK(sctp_send(one, "x", 1, bad, 0) < 0 && errno == EFAULT);
    CHECK(sctp_sendmsg(cl, bad, 5, (struct sockaddr *)&to, sizeof to, 0, 0, 0, 0, 0) < 0 && errno == EFAULT);
    CHECK(sctp_sendmsg(cl, "x", 1, bad, sizeof to, 0, 0, 0, 0, 0) < 0 && errno == EFAULT);
    CHECK(sctp_sendv(cl, bad, 1, NULL, 0, NULL, 0, 0, 0) < 0 && errno == EFAULT);
    CHECK(sctp_sendv(cl, iov, 1, NULL, 0, bad, sizeof spa, SCTP_SENDV_SPA, 0) < 0 && errno == EFAULT);
    CHECK(sctp_sendv(cl, iov, 1, bad, 1, NULL, 0, 0, 0) < 0 && errno == EFAULT);
    CHECK(sctp_send(one, "again", 5, NULL, 0) == 5);
    CHECK(readable(cl, 3000));
    CHECK(sctp_recvmsg(cl, buf, sizeof buf, NULL, NULL, bad, &mflags) < 0 && errno == EFAULT);
    CHECK(sctp_send(one, "again", 5, NULL, 0) == 5);
    CHECK(readable(cl, 3000));
    CHECK(sctp_recvmsg(cl, bad, sizeof buf, NULL, NULL, &sinfo, &mflags) < 0 && errno == EFAULT);
    /* (whether the failed receive above took the message differs: Linux
     * drops it, the in-process engine keeps it) */
    CHECK(sctp_send(one, "again", 5, NULL, 0) == 5);
    CHECK(readable(cl, 3000));
    CHECK(sctp_recvv(cl, &riov, 1, NULL, NULL, &rn, bad, &type, &flags) < 0 && errno == EFAULT);
    /* (whether the failed receive above took the message differs: Linux
     * drops it, the in-process engine keeps it) */
    CHECK(sctp_send(one, "again", 5, NULL, 0) == 5);
    CHECK(readable(cl, 3000));
    CHECK(sctp_recvv(cl, &riov, 1, NULL, NULL, &rn, &rnl, bad, &flags) < 0 && errno == EFAULT);
    close(fresh);

    close(one);
    close(cl);
    close(srv);
    printf("capi: ok\n");
    return 0;
}
