//! Protocol parameters (RFC 9260 §16) and per-socket settings.

use std::time::Duration;

/// The largest buffer auto-tuning gives a one-to-one socket whose
/// application did not size it (Linux TCP's default tcp_wmem maximum).
pub const AUTO_BUF_MAX: usize = 4 << 20;

/// Settings shared by an endpoint's associations. Defaults follow RFC 9260
/// §16 for the protocol constants and Linux for socket-level sizes.
#[derive(Clone, Debug)]
pub struct Config {
    /// RTO.Initial.
    pub rto_initial: Duration,
    /// RTO.Min.
    pub rto_min: Duration,
    /// RTO.Max.
    pub rto_max: Duration,
    /// Max.Init.Retransmits.
    pub max_init_retransmits: u32,
    /// Upper bound of the T1-init / T1-cookie timeout (sinit_max_init_timeo).
    pub max_init_timeo: Duration,
    /// Association.Max.Retrans.
    pub assoc_max_retrans: u32,
    /// Path.Max.Retrans.
    pub path_max_retrans: u32,
    /// Valid.Cookie.Life.
    pub valid_cookie_life: Duration,
    /// HB.interval (heartbeats off when `None`).
    pub hb_interval: Option<Duration>,
    /// The addresses the socket was bound to with sctp_bindx (more than
    /// one: multi-homing); empty otherwise, when `own_addrs` says.
    pub local_addrs: Vec<std::net::IpAddr>,
    /// Without `local_addrs`, the endpoint's addresses: the host's for a
    /// wildcard bind (kept current by the runtime), the bound one
    /// otherwise; empty when unknown. Those in a peer's scope are listed
    /// in INIT and INIT ACK (§3.3.2.1) when there are several, so that the
    /// peer has a path to each (`multihome::ours_for`).
    pub own_addrs: Vec<std::net::IpAddr>,
    /// Delayed SACK timeout (§6.2: at most 500 ms, 200 ms recommended).
    pub sack_delay: Duration,
    /// Send a SACK for at least every this many packets carrying DATA.
    pub sack_freq: u32,
    /// Loss recovery beyond RFC 9260's floor (RACK and tail loss probes,
    /// assoc/recovery.rs); off, only the RFC's three miss indications and
    /// T3-rtx (SCTPSHIM_LOSS_RECOVERY=rfc).
    pub rack: bool,
    /// Max.Burst (§7.2.4); 0 disables the limit.
    pub max_burst: u32,
    /// Path MTU assumed for new paths, in bytes of IP packet (and the
    /// fixed one while `pmtud` is off: SCTP_PEER_ADDR_PARAMS spp_pathmtu).
    pub pmtu: usize,
    /// Path MTU discovery (SPP_PMTUD_ENABLE): each path takes the MTU of
    /// its route and lowers it on "packet too big" reports.
    pub pmtud: bool,
    /// SCTP_PLPMTUD_PROBE_INTERVAL: RFC 8899 probing every this long (None:
    /// off, Linux's default).
    pub probe_interval: Option<Duration>,
    /// IP_TOS / IPV6_TCLASS of the association's packets (0: the default).
    pub tos: u8,
    /// Bytes of IP+UDP header in front of each SCTP packet on an IPv4 path
    /// (UDP encapsulation, RFC 6951).
    pub overhead_v4: usize,
    /// The same for IPv6 paths.
    pub overhead_v6: usize,
    /// Receive buffer: the advertised window is what is left of it.
    pub rcvbuf: usize,
    /// Send buffer: `send` refuses messages past it.
    pub sndbuf: usize,
    /// The send buffer follows the congestion window
    /// (`Association::sndbuf`): a one-to-one socket whose application did
    /// not set SO_SNDBUF.
    pub sndbuf_auto: bool,
    /// Streams asked for in INIT (sinit_num_ostreams).
    pub outbound_streams: u16,
    /// Most inbound streams accepted (sinit_max_instreams).
    pub max_inbound_streams: u16,
    /// SCTP_NODELAY: send small messages at once. On by default here (Linux
    /// defaults to Nagle); off, small chunks wait while data is in flight.
    pub nodelay: bool,
    /// SCTP_PARTIAL_DELIVERY_POINT: a message whose fragments hold this many
    /// bytes starts going to the application in pieces; 0 means when three
    /// quarters of the receive buffer are taken by incomplete messages.
    pub pd_point: usize,
    /// SCTP_ADAPTATION_LAYER: the Adaptation Layer Indication our INIT and
    /// INIT ACK carry (RFC 5061 §4.2.6); 0 sends none (as Linux).
    pub adaptation_ind: u32,
    /// SCTP_MAXSEG: largest DATA chunk payload (0: what the path MTU allows).
    pub max_seg: usize,
    /// SCTP_DISABLE_FRAGMENTS: refuse messages that do not fit one chunk.
    pub disable_fragments: bool,
    /// SCTP_CONTEXT: the context received messages report (sinfo_context,
    /// rcv_context).
    pub rcv_context: u32,
    /// SCTP_REMOTE_UDP_ENCAPS_PORT: the peer's UDP port for associations we
    /// start (0: the SCTP port, as the shim's peers use).
    pub remote_udp_port: u16,
    /// Potentially-Failed threshold (RFC 7829, SCTP_PEER_ADDR_THLDS
    /// spt_pathpfthld): past this many errors a path is PF; 0 as Linux's
    /// default net.sctp.pf_retrans. PF needs it below `path_max_retrans`.
    pub pf_retrans: u32,
    /// Primary-path switchover threshold (SCTP_PEER_ADDR_THLDS_V2
    /// spt_pathcpthld); 0xffff is Linux's "off". Single-homed associations
    /// have no other path to switch to: kept and reported only.
    pub ps_retrans: u32,
    /// SCTP_EXPOSE_POTENTIALLY_FAILED_STATE: 0 unset (PF is not notified),
    /// 1 disabled (GET_PEER_ADDR_INFO of a PF path is EACCES), 2 enabled
    /// (PEER_ADDR_CHANGE reports ADDR_POTENTIALLY_FAILED and the way back).
    pub pf_expose: u8,
    /// Most associations waiting in an endpoint's accept queue.
    pub backlog: usize,
    /// Most associations an endpoint holds at once.
    pub max_associations: usize,
}

impl Config {
    /// Bytes of IP and UDP header in front of each SCTP packet to `ip`.
    pub fn overhead(&self, ip: std::net::IpAddr) -> usize {
        if ip.is_ipv4() {
            self.overhead_v4
        } else {
            self.overhead_v6
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            rto_initial: Duration::from_secs(1),
            rto_min: Duration::from_secs(1),
            rto_max: Duration::from_secs(60),
            max_init_retransmits: 8,
            max_init_timeo: Duration::from_secs(60),
            assoc_max_retrans: 10,
            path_max_retrans: 5,
            valid_cookie_life: Duration::from_secs(60),
            hb_interval: Some(Duration::from_secs(30)),
            local_addrs: Vec::new(),
            own_addrs: Vec::new(),
            sack_delay: Duration::from_millis(200),
            sack_freq: 2,
            max_burst: 4,
            rack: true,
            pmtu: 1500,
            pmtud: true,
            probe_interval: None,
            overhead_v4: 20 + 8,
            overhead_v6: 40 + 8,
            rcvbuf: 212_992,
            sndbuf: 212_992,
            sndbuf_auto: false,
            outbound_streams: 10,
            max_inbound_streams: 65535,
            nodelay: true,
            pd_point: 0,
            adaptation_ind: 0,
            max_seg: 0,
            disable_fragments: false,
            rcv_context: 0,
            remote_udp_port: 0,
            pf_retrans: 0,
            ps_retrans: 0xffff,
            pf_expose: 0,
            backlog: 128,
            max_associations: 65536,
            tos: 0,
        }
    }
}
