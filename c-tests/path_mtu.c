/* Path MTU (issue 16): an association takes its route's MTU (loopback:
 * 65,532 bytes as Linux reports it, so a 60,000-byte message fits one chunk), and
 * SCTP_PEER_ADDR_PARAMS sets a fixed one (spp_pathmtu with
 * SPP_PMTUD_DISABLE) for the socket's future associations or for an
 * existing one, as Linux does. Checked on Linux's own SCTP too. */
#include "common.h"

static uint32_t path_mtu(int s, sctp_assoc_t id, uint16_t port) {
    struct sctp_paddrinfo pi;
    memset(&pi, 0, sizeof pi);
    pi.spinfo_assoc_id = id;
    struct sockaddr_in a = loop4(port);
    memcpy(&pi.spinfo_address, &a, sizeof a);
    socklen_t l = sizeof pi;
    CHECK(getsockopt(s, IPPROTO_SCTP, SCTP_GET_PEER_ADDR_INFO, &pi, &l) == 0);
    return pi.spinfo_mtu;
}

static void set_mtu(int s, sctp_assoc_t id, uint32_t mtu, uint32_t flags) {
    struct sctp_paddrparams pp;
    memset(&pp, 0, sizeof pp);
    pp.spp_assoc_id = id;
    pp.spp_pathmtu = mtu;
    pp.spp_flags = flags;
    CHECK(setsockopt(s, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, sizeof pp) == 0);
}

static void no_fragments(int s) {
    int on = 1;
    CHECK(setsockopt(s, IPPROTO_SCTP, SCTP_DISABLE_FRAGMENTS, &on, sizeof on) == 0);
}

int main(void) {
    uint16_t port = free_ports(2);
    static char big[60000], in[70000];
    memset(big, 'm', sizeof big);

    /* 1. Discovery on (the default): loopback's MTU. */
    int cl, srv;
    connected_pair(port, &cl, &srv);
    /* (Linux 6.1 answers 65532: loopback's 65,536 capped at IP's largest
     * packet, 65,535, in whole words.) */
    uint32_t lo = path_mtu(cl, 0, port);
    if (lo != 65532) fprintf(stderr, "loopback path MTU %u\n", lo);
    CHECK(lo == 65532);
    no_fragments(cl);
    CHECK(send(cl, big, sizeof big, 0) == (ssize_t)sizeof big);
    size_t got = 0;
    while (got < sizeof big) {
        ssize_t n = recv(srv, in + got, sizeof in - got, 0);
        CHECK(n > 0);
        got += (size_t)n;
    }
    CHECK(got == sizeof big && memcmp(in, big, sizeof big) == 0);
    struct sctp_paddrparams pp;
    memset(&pp, 0, sizeof pp);
    socklen_t l = sizeof pp;
    CHECK(getsockopt(cl, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, &l) == 0);
    CHECK(pp.spp_flags & SPP_PMTUD_ENABLE);

    /* 2. A fixed MTU on the existing association: messages past it are
     * refused whole with fragmentation off. */
    set_mtu(cl, 0, 1500, SPP_PMTUD_DISABLE);
    CHECK(path_mtu(cl, 0, port) == 1500);
    memset(&pp, 0, sizeof pp);
    l = sizeof pp;
    CHECK(getsockopt(cl, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, &l) == 0);
    CHECK(pp.spp_pathmtu == 1500 && (pp.spp_flags & SPP_PMTUD_DISABLE));
    CHECK(send(cl, big, 2000, 0) < 0 && errno == EMSGSIZE);
    CHECK(send(cl, big, 1000, 0) == 1000);
    CHECK(recv(srv, in, sizeof in, 0) == 1000);
    close(cl);
    close(srv);

    /* 3. Set on a socket before it connects: its association starts with it. */
    int l2 = listen_on(SOCK_STREAM, (uint16_t)(port + 1), 0, 4);
    int c2 = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    CHECK(c2 >= 0);
    set_mtu(c2, 0, 9000, SPP_PMTUD_DISABLE);
    struct sockaddr_in a2 = loop4((uint16_t)(port + 1));
    CHECK(connect(c2, (struct sockaddr *)&a2, sizeof a2) == 0);
    CHECK(path_mtu(c2, 0, (uint16_t)(port + 1)) == 9000);
    no_fragments(c2);
    CHECK(send(c2, big, 10000, 0) < 0 && errno == EMSGSIZE);
    CHECK(send(c2, big, 8000, 0) == 8000);
    int s2 = accept(l2, NULL, NULL);
    CHECK(s2 >= 0);
    CHECK(recv(s2, in, sizeof in, 0) == 8000);

    /* 4. Wrong values: a path MTU below 512, both discovery flags. */
    memset(&pp, 0, sizeof pp);
    pp.spp_pathmtu = 100;
    pp.spp_flags = SPP_PMTUD_DISABLE;
    CHECK(setsockopt(c2, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, sizeof pp) < 0 && errno == EINVAL);
    pp.spp_pathmtu = 0;
    pp.spp_flags = SPP_PMTUD_DISABLE | SPP_PMTUD_ENABLE;
    CHECK(setsockopt(c2, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, sizeof pp) < 0 && errno == EINVAL);
    /* 5. SCTP_PLPMTUD_PROBE_INTERVAL (RFC 8899 probing): off (0) by
     * default; at least 5 s; the whole struct or EINVAL. */
    struct sctp_probeinterval spi;
    memset(&spi, 0, sizeof spi);
    socklen_t sl = sizeof spi;
    CHECK(getsockopt(c2, IPPROTO_SCTP, SCTP_PLPMTUD_PROBE_INTERVAL, &spi, &sl) == 0);
    CHECK(sl == sizeof spi && spi.spi_interval == 0);
    spi.spi_interval = 1000;
    CHECK(setsockopt(c2, IPPROTO_SCTP, SCTP_PLPMTUD_PROBE_INTERVAL, &spi, sizeof spi) < 0 && errno == EINVAL);
    spi.spi_interval = 10000;
    CHECK(setsockopt(c2, IPPROTO_SCTP, SCTP_PLPMTUD_PROBE_INTERVAL, &spi, sizeof spi - 4) < 0 && errno == EINVAL);
    CHECK(setsockopt(c2, IPPROTO_SCTP, SCTP_PLPMTUD_PROBE_INTERVAL, &spi, sizeof spi) == 0);
    memset(&spi, 0, sizeof spi);
    sl = sizeof spi;
    CHECK(getsockopt(c2, IPPROTO_SCTP, SCTP_PLPMTUD_PROBE_INTERVAL, &spi, &sl) == 0 && spi.spi_interval == 10000);
    /* With an address: the path to it (address and port), else EINVAL. */
    struct sockaddr_in peer = loop4((uint16_t)(port + 1));
    memset(&spi, 0, sizeof spi);
    memcpy(&spi.spi_address, &peer, sizeof peer);
    spi.spi_interval = 20000;
    CHECK(setsockopt(c2, IPPROTO_SCTP, SCTP_PLPMTUD_PROBE_INTERVAL, &spi, sizeof spi) == 0);
    sl = sizeof spi;
    spi.spi_interval = 0;
    CHECK(getsockopt(c2, IPPROTO_SCTP, SCTP_PLPMTUD_PROBE_INTERVAL, &spi, &sl) == 0 && spi.spi_interval == 20000);
    peer.sin_port = htons((uint16_t)(port + 7));
    memcpy(&spi.spi_address, &peer, sizeof peer);
    CHECK(setsockopt(c2, IPPROTO_SCTP, SCTP_PLPMTUD_PROBE_INTERVAL, &spi, sizeof spi) < 0 && errno == EINVAL);
    close(c2);
    close(s2);
    close(l2);
    printf("path_mtu: ok\n");
    return 0;
}
