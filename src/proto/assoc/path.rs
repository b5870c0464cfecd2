//! A destination transport address of an association (RFC 9260 §6.4) with
//! its own RTO (§6.3), congestion state (§7.2), error counter (§8.2) and
//! heartbeat state (§8.3). Associations hold a `Vec<Path>`, so multi-homing
//! adds paths without changing this type.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use crate::proto::config::Config;

/// Round-trip estimate and retransmission timeout (§6.3.1).
#[derive(Clone, Debug)]
pub struct Rto {
    srtt: Option<Duration>,
    rttvar: Duration,
    rto: Duration,
    min: Duration,
    max: Duration,
}

impl Rto {
    /// A fresh estimator at RTO.Initial.
    pub fn new(cfg: &Config) -> Rto {
        Rto {
            srtt: None,
            rttvar: Duration::ZERO,
            rto: cfg.rto_initial.clamp(cfg.rto_min, cfg.rto_max),
            min: cfg.rto_min,
            max: cfg.rto_max,
        }
    }

    /// New RTO.Min / RTO.Max (SCTP_RTOINFO); the current RTO is kept within.
    pub fn set_bounds(&mut self, min: Duration, max: Duration) {
        self.min = min;
        self.max = max.max(min);
        self.rto = self.rto.clamp(self.min, self.max);
    }

    /// The current RTO.
    pub fn rto(&self) -> Duration {
        self.rto
    }

    /// The smoothed RTT, once measured.
    pub fn srtt(&self) -> Option<Duration> {
        self.srtt
    }

    /// Feeds one RTT measurement (rules C1–C3 of §6.3.1; α = 1/8, β = 1/4).
    pub fn on_rtt(&mut self, r: Duration) {
        match self.srtt {
            None => {
                self.srtt = Some(r);
                self.rttvar = r / 2;
            }
            Some(srtt) => {
                let diff = srtt.abs_diff(r);
                self.rttvar = self.rttvar * 3 / 4 + diff / 4;
                self.srtt = Some(srtt * 7 / 8 + r / 8);
            }
        }
        // Clock granularity G: 1 ms floor on the variance term (§6.3.1 C3).
        let var = (self.rttvar * 4).max(Duration::from_millis(1));
        self.rto = (self.srtt.unwrap_or(r) + var).clamp(self.min, self.max);
    }

    /// Doubles the RTO after a timeout (§6.3.3 E2), up to RTO.Max.
    pub fn back_off(&mut self) {
        self.rto = (self.rto * 2).min(self.max);
    }
}

/// Congestion-control state of one destination (§7.2).
#[derive(Clone, Debug)]
pub struct Congestion {
    /// Congestion window, bytes.
    pub cwnd: usize,
    /// Slow-start threshold, bytes.
    pub ssthresh: usize,
    /// Bytes acknowledged toward the next congestion-avoidance increase.
    pub partial_bytes_acked: usize,
}

impl Congestion {
    /// Initial window of §7.2.1: min(4·MTU, max(2·MTU, 4404)).
    pub fn new(mtu: usize, peer_rwnd: u32) -> Congestion {
        Congestion {
            cwnd: (4 * mtu).min((2 * mtu).max(4404)),
            ssthresh: peer_rwnd as usize,
            partial_bytes_acked: 0,
        }
    }

    /// Grows the window for `acked` newly acknowledged bytes when the
    /// cumulative point advanced (§7.2.1, §7.2.2). `full` says whether the
    /// window was fully used before this SACK.
    pub fn on_ack(&mut self, acked: usize, full: bool, mtu: usize) {
        if self.cwnd <= self.ssthresh {
            if full {
                self.cwnd += acked.min(mtu);
            }
        } else {
            self.partial_bytes_acked += acked;
            if self.partial_bytes_acked >= self.cwnd && full {
                self.partial_bytes_acked -= self.cwnd;
                self.cwnd += mtu;
            }
        }
    }

    /// Fast retransmit entry (§7.2.3): halve, floor at 4·MTU.
    pub fn on_fast_retransmit(&mut self, mtu: usize) {
        self.ssthresh = (self.cwnd / 2).max(4 * mtu);
        self.cwnd = self.ssthresh;
        self.partial_bytes_acked = 0;
    }

    /// T3-rtx expiry (§7.2.3): one MTU and slow start again.
    pub fn on_timeout(&mut self, mtu: usize) {
        self.ssthresh = (self.cwnd / 2).max(4 * mtu);
        self.cwnd = mtu;
        self.partial_bytes_acked = 0;
    }

    /// Idle for more than an RTO (§7.2.1): fall back toward the initial window.
    pub fn on_idle(&mut self, mtu: usize) {
        self.cwnd = (self.cwnd / 2).max(4 * mtu);
    }
}

/// An outstanding HEARTBEAT on a path.
#[derive(Clone, Copy, Debug)]
pub struct Probe {
    /// Random value echoed back in the HEARTBEAT ACK.
    pub nonce: u64,
    /// When it was sent, for the RTT sample.
    pub sent: Instant,
}

/// One destination of the association.
#[derive(Clone, Debug)]
pub struct Path {
    /// Peer IP address.
    pub addr: IpAddr,
    /// Peer UDP port for encapsulation; follows the source port of packets received.
    pub udp_port: u16,
    /// Most SCTP packet bytes that fit this path's MTU.
    pub mtu: usize,
    /// The path MTU itself, in bytes of IP packet (spinfo_mtu).
    pub pmtu: usize,
    /// The largest SCTP packet its route allows, once known.
    pub route_mtu: Option<usize>,
    /// PLPMTUD's search, when SCTP_PLPMTUD_PROBE_INTERVAL is set.
    pub pl: Option<super::plpmtud::Plpmtud>,
    pub rto: Rto,
    pub cc: Congestion,
    /// Bytes of DATA sent on this path and not yet acknowledged or marked lost.
    pub flight_size: usize,
    /// Consecutive timeouts (§8.2).
    pub error_count: u32,
    /// False once `error_count` passes Path.Max.Retrans.
    pub active: bool,
    /// Potentially failed (RFC 7829): active, but past the PF threshold;
    /// probed every RTO until it answers.
    pub pf: bool,
    /// T3-rtx deadline.
    pub t3: Option<Instant>,
    /// When the next HEARTBEAT is due.
    pub hb_due: Option<Instant>,
    /// The HEARTBEAT in flight, if any.
    pub probe: Option<Probe>,
    /// Last time DATA was sent here (for idle detection).
    pub last_data_sent: Option<Instant>,
    /// Idle time before this counts as adjusted already (see
    /// `Association::restart_after_idle`).
    pub idle_counted: Option<Instant>,
    /// The peer's address is confirmed (§5.4): the handshake's path, or a
    /// listed address that answered a HEARTBEAT. Only these carry data.
    pub confirmed: bool,
    /// Its SCTP_PEER_ADDR_PARAMS: the association's, unless set for it.
    pub params: PathParams,
}

/// The settings SCTP_PEER_ADDR_PARAMS makes per path (Linux keeps them in
/// each transport): set for the association, they apply to every path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathParams {
    /// HB.interval, kept while heartbeats are off (spp_hbinterval).
    pub hb_interval: Duration,
    /// Heartbeats on (SPP_HB_ENABLE) or off.
    pub hb_on: bool,
    /// Path.Max.Retrans (spp_pathmaxrxt).
    pub max_retrans: u32,
    /// Path MTU discovery on (SPP_PMTUD_ENABLE), or the MTU fixed.
    pub pmtud: bool,
    /// Errors past which the path is potentially failed (SCTP_PEER_ADDR_THLDS
    /// spt_pathpfthld).
    pub pf_retrans: u32,
    /// Errors past which the primary path gives way to the path data goes
    /// to (spt_pathcpthld; 0xffff: never).
    pub ps_retrans: u32,
}

impl PathParams {
    pub fn of(cfg: &Config) -> PathParams {
        PathParams {
            hb_interval: cfg.hb_interval.unwrap_or(Duration::from_secs(30)),
            hb_on: cfg.hb_interval.is_some(),
            max_retrans: cfg.path_max_retrans,
            pmtud: cfg.pmtud,
            pf_retrans: cfg.pf_retrans,
            ps_retrans: cfg.ps_retrans,
        }
    }

    /// Takes what changed from `old` to `new`, leaving the rest as set.
    pub fn take_changes(&mut self, old: &PathParams, new: &PathParams) {
        // (The association's interval is known only while on.)
        if new.hb_on && (!old.hb_on || old.hb_interval != new.hb_interval) {
            self.hb_interval = new.hb_interval;
        }
        if old.hb_on != new.hb_on {
            self.hb_on = new.hb_on;
        }
        if old.max_retrans != new.max_retrans {
            self.max_retrans = new.max_retrans;
        }
        if old.pmtud != new.pmtud {
            self.pmtud = new.pmtud;
        }
        if old.pf_retrans != new.pf_retrans {
            self.pf_retrans = new.pf_retrans;
        }
        if old.ps_retrans != new.ps_retrans {
            self.ps_retrans = new.ps_retrans;
        }
    }

    /// The heartbeat interval, None while heartbeats are off.
    pub fn hb(&self) -> Option<Duration> {
        self.hb_on.then_some(self.hb_interval)
    }
}

impl Path {
    /// A new path to `addr` (UDP port `udp_port`).
    pub fn new(cfg: &Config, addr: IpAddr, udp_port: u16, peer_rwnd: u32) -> Path {
        let mtu = Self::sctp_mtu(cfg.pmtu, cfg.overhead(addr));
        Path {
            addr,
            udp_port,
            mtu,
            pmtu: cfg.pmtu,
            route_mtu: None,
            pl: None,
            rto: Rto::new(cfg),
            cc: Congestion::new(mtu, peer_rwnd),
            flight_size: 0,
            error_count: 0,
            active: true,
            pf: false,
            t3: None,
            hb_due: None,
            probe: None,
            last_data_sent: None,
            idle_counted: None,
            confirmed: true,
            params: PathParams::of(cfg),
        }
    }

    /// SCTP packet bytes that fit an IP packet of `pmtu` bytes behind
    /// `overhead` bytes of IP and UDP header, in whole words.
    /// (An IP packet holds at most 65,535 bytes, whatever the link's MTU.)
    pub fn sctp_mtu(pmtu: usize, overhead: usize) -> usize {
        pmtu.min(65_535).saturating_sub(overhead).max(512) & !3
    }

    /// A fixed path MTU of `pmtu` bytes of IP packet behind `overhead`
    /// bytes of header (SCTP_PEER_ADDR_PARAMS spp_pathmtu).
    pub fn fix_mtu(&mut self, pmtu: usize, overhead: usize) {
        self.mtu = Self::sctp_mtu(pmtu, overhead);
        self.pmtu = pmtu;
    }

    /// Where packets for this path go (UDP destination).
    pub fn udp_dest(&self) -> SocketAddr {
        SocketAddr::new(self.addr, self.udp_port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Config {
        Config::default()
    }

    #[test]
    fn first_rtt_sets_srtt_and_var() {
        let mut r = Rto::new(&cfg());
        assert_eq!(r.rto(), Duration::from_secs(1));
        r.on_rtt(Duration::from_millis(2000));
        assert_eq!(r.srtt(), Some(Duration::from_millis(2000)));
        // 2000 + 4 * 1000
        assert_eq!(r.rto(), Duration::from_millis(6000));
    }

    #[test]
    fn rto_is_clamped_to_min_and_max() {
        let mut r = Rto::new(&cfg());
        r.on_rtt(Duration::from_millis(1));
        assert_eq!(r.rto(), Duration::from_secs(1));
        for _ in 0..10 {
            r.back_off();
        }
        assert_eq!(r.rto(), Duration::from_secs(60));
    }

    #[test]
    fn later_rtts_are_smoothed() {
        let mut c = cfg();
        c.rto_min = Duration::from_millis(1);
        let mut r = Rto::new(&c);
        r.on_rtt(Duration::from_millis(100));
        r.on_rtt(Duration::from_millis(200));
        // srtt = 7/8*100 + 1/8*200 = 112.5; rttvar = 3/4*50 + 1/4*100 = 62.5
        assert_eq!(r.srtt(), Some(Duration::from_micros(112_500)));
        assert_eq!(r.rto(), Duration::from_micros(112_500 + 250_000));
    }

    #[test]
    fn initial_cwnd_follows_rfc_formula() {
        assert_eq!(Congestion::new(1452, 1 << 20).cwnd, 4404);
        assert_eq!(Congestion::new(1000, 1 << 20).cwnd, 4000);
        assert_eq!(Congestion::new(9000, 1 << 20).cwnd, 18000);
    }

    #[test]
    fn slow_start_grows_by_at_most_one_mtu_per_ack() {
        let mut c = Congestion::new(1000, 1 << 20);
        c.on_ack(5000, true, 1000);
        assert_eq!(c.cwnd, 5000);
        c.on_ack(500, true, 1000);
        assert_eq!(c.cwnd, 5500);
        c.on_ack(500, false, 1000);
        assert_eq!(c.cwnd, 5500, "no growth when the window was not fully used");
    }

    #[test]
    fn congestion_avoidance_grows_one_mtu_per_window() {
        let mut c = Congestion::new(1000, 1 << 20);
        c.cwnd = 10_000;
        c.ssthresh = 8000;
        for _ in 0..9 {
            c.on_ack(1000, true, 1000);
        }
        assert_eq!(c.cwnd, 10_000);
        c.on_ack(1000, true, 1000);
        assert_eq!(c.cwnd, 11_000);
        assert_eq!(c.partial_bytes_acked, 0);
    }

    #[test]
    fn loss_halves_and_timeout_collapses() {
        let mut c = Congestion::new(1000, 1 << 20);
        c.cwnd = 20_000;
        c.on_fast_retransmit(1000);
        assert_eq!((c.cwnd, c.ssthresh), (10_000, 10_000));
        c.on_fast_retransmit(1000);
        c.on_fast_retransmit(1000);
        assert_eq!(c.cwnd, 4000, "floor of 4 MTU");
        c.on_timeout(1000);
        assert_eq!((c.cwnd, c.ssthresh), (1000, 4000));
    }

    #[test]
    fn path_mtu_accounts_for_udp_encapsulation() {
        let p = Path::new(&cfg(), "127.0.0.1".parse().unwrap(), 9, 1000);
        assert_eq!(p.mtu, 1472);
        let p6 = Path::new(&cfg(), "::1".parse().unwrap(), 9, 1000);
        assert_eq!(p6.mtu, 1452);
    }
}
