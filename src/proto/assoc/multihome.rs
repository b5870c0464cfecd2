//! Multi-homing (RFC 9260 §5.1.2, §5.4, §6.4, §8.2): the addresses the
//! peer lists in its INIT or INIT ACK become paths, unconfirmed until a
//! HEARTBEAT sent to each is answered (probed every RTO meanwhile, as
//! Linux's sctp_transport_timeout does). New data goes to the primary path
//! while it is active and not potentially failed, else to another
//! confirmed one (failover), and back to the primary once it answers again
//! (switch-back); after a T3-rtx timeout the retransmissions go to an
//! alternate path (§6.4.1); a SACK alone goes where the data came from
//! (§6.4).

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use super::path::{Path, PathParams};
use super::{AssocEvent, Association, PathState};
use crate::proto::config::Config;
use crate::proto::wire::Param;

/// The scope of an address as Linux's sctp_scope ranks it: global 0,
/// private 1, link-local 2, loopback 3. An address is in the scope of a
/// peer when its own is not above the peer's (sctp_in_scope).
pub fn addr_scope(ip: IpAddr) -> u8 {
    const GLOBAL: u8 = 0;
    const PRIVATE: u8 = 1;
    const LINK: u8 = 2;
    const LOOPBACK: u8 = 3;
    match ip {
        IpAddr::V4(a) if a.is_loopback() => LOOPBACK,
        IpAddr::V4(a) if a.is_link_local() => LINK,
        IpAddr::V4(a) if a.is_private() => PRIVATE,
        IpAddr::V4(_) => GLOBAL,
        IpAddr::V6(a) if a.is_loopback() => LOOPBACK,
        IpAddr::V6(a) if a.is_unicast_link_local() => LINK,
        IpAddr::V6(a) if a.segments()[0] & 0xffc0 == 0xfec0 => PRIVATE,
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => addr_scope(IpAddr::V4(v4)),
            None => GLOBAL,
        },
    }
}

/// Our addresses for an association with a peer at `peer`, as Linux's
/// sctp_bind_addr_copy takes them from the endpoint: the sctp_bindx ones,
/// or else the endpoint's own (the host's for a wildcard bind), those in
/// the peer's scope (sctp_in_scope).
pub fn ours_for(cfg: &Config, peer: IpAddr) -> Vec<IpAddr> {
    let all = if cfg.local_addrs.is_empty() {
        &cfg.own_addrs
    } else {
        &cfg.local_addrs
    };
    let scope = addr_scope(peer);
    all.iter()
        .copied()
        .filter(|&a| addr_scope(a) <= scope)
        .collect()
}

/// What an INIT or INIT ACK lists of `ours`: all, or nothing when there
/// is only one (Linux's sctp_bind_addrs_to_raw: the packet's source
/// address says it).
pub fn to_list(ours: Vec<IpAddr>) -> Vec<IpAddr> {
    if ours.len() > 1 { ours } else { Vec::new() }
}

/// The addresses an INIT or INIT ACK lists (`params`) that can be paths of
/// an association whose packets come from `from`, besides `from` itself:
/// unicast, in `from`'s scope (sctp_process_param), of `from`'s family or
/// one of `ours` (`ours_for`), each once. IPv6 link-local addresses are
/// left out: a UDP datagram to one needs the interface, which the
/// address parameter does not carry.
///
/// Nothing is taken while our own addresses are unknown (`ours` empty):
/// our packets to the peer's other addresses must leave from an address
/// it knows (one we listed, or the one the handshake used), or it answers
/// them as out of the blue, with an ABORT that ends the association.
pub fn listed_addrs(params: &[Param], from: IpAddr, ours: &[IpAddr]) -> Vec<IpAddr> {
    if ours.is_empty() {
        return Vec::new();
    }
    let scope = addr_scope(from);
    let family_ok = |ip: &IpAddr| {
        ip.is_ipv4() == from.is_ipv4() || ours.iter().any(|f| f.is_ipv4() == ip.is_ipv4())
    };
    let mut out: Vec<IpAddr> = Vec::new();
    for p in params {
        let ip = match p {
            Param::Ipv4Address(a) => IpAddr::V4(*a),
            Param::Ipv6Address(a) => IpAddr::V6(*a),
            _ => continue,
        };
        let unicast = match ip {
            IpAddr::V4(a) => !a.is_unspecified() && !a.is_multicast() && !a.is_broadcast(),
            IpAddr::V6(a) => !a.is_unspecified() && !a.is_multicast() && !a.is_unicast_link_local(),
        };
        if unicast && ip != from && addr_scope(ip) <= scope && family_ok(&ip) && !out.contains(&ip)
        {
            out.push(ip);
        }
    }
    out
}

/// Our addresses as INIT / INIT ACK parameters (§3.3.2.1).
pub fn addr_params(addrs: &[IpAddr]) -> Vec<Param> {
    addrs
        .iter()
        .map(|ip| match ip {
            IpAddr::V4(a) => Param::Ipv4Address(*a),
            IpAddr::V6(a) => Param::Ipv6Address(*a),
        })
        .collect()
}

/// Our addresses an INIT's sender can use: those of the address types
/// its Supported Address Types parameter names (§5.1.2: IPv4 5, IPv6
/// 6), all when it has none.
pub fn addrs_for(ours: &[IpAddr], init_params: &[Param]) -> Vec<IpAddr> {
    let Some(types) = init_params.iter().find_map(|p| match p {
        Param::SupportedAddressTypes(t) => Some(t),
        _ => None,
    }) else {
        return ours.to_vec();
    };
    ours.iter()
        .copied()
        .filter(|a| types.contains(&if a.is_ipv4() { 5 } else { 6 }))
        .collect()
}

/// One path as SCTP_GET_PEER_ADDR_INFO and SCTP_STATUS report it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathStatus {
    /// The peer's address (and SCTP port).
    pub addr: SocketAddr,
    pub active: bool,
    /// Potentially failed (spinfo_state SCTP_PF).
    pub pf: bool,
    /// Unconfirmed (SCTP_UNCONFIRMED) until a HEARTBEAT is answered.
    pub confirmed: bool,
    pub cwnd: u32,
    pub srtt_ms: u32,
    pub rto_ms: u32,
    /// The path MTU (spinfo_mtu).
    pub mtu: u32,
    /// Its SCTP_PEER_ADDR_PARAMS.
    pub params: PathParams,
}

/// What SCTP_PEER_ADDR_PARAMS sets on one path (None: left as it is).
#[derive(Clone, Copy, Debug, Default)]
pub struct PathParamsSet {
    pub hb_interval: Option<Duration>,
    pub hb_on: Option<bool>,
    pub max_retrans: Option<u32>,
    pub pmtud: Option<bool>,
    /// A fixed path MTU in bytes of IP packet (spp_pathmtu), taken with
    /// discovery off.
    pub pmtu: Option<usize>,
    /// SPP_HB_DEMAND: a HEARTBEAT at once.
    pub demand: bool,
    /// SCTP_PEER_ADDR_THLDS(_V2) for one path: its PF and primary
    /// switchover thresholds.
    pub pf_retrans: Option<u32>,
    pub ps_retrans: Option<u32>,
}

impl Association {
    /// Every path's status, in the order the paths were added.
    pub fn path_status(&self) -> Vec<PathStatus> {
        let ms = |d: Duration| d.as_millis().min(u128::from(u32::MAX)) as u32;
        self.paths
            .iter()
            .map(|p| PathStatus {
                addr: SocketAddr::new(p.addr, self.peer_port),
                active: p.active,
                pf: p.active && p.pf,
                confirmed: p.confirmed,
                cwnd: p.cc.cwnd as u32,
                srtt_ms: p.rto.srtt().map_or(0, ms),
                rto_ms: ms(p.rto.rto()),
                mtu: p.pmtu as u32,
                params: p.params,
            })
            .collect()
    }

    /// SCTP_PEER_ADDR_PARAMS for the path to `addr` alone (Linux's
    /// sctp_apply_peer_addr_params with a transport); false when no path
    /// has that address.
    pub fn set_path_params(&mut self, now: Instant, addr: IpAddr, set: &PathParamsSet) -> bool {
        let Some(i) = self.paths.iter().position(|p| p.addr == addr) else {
            return false;
        };
        let overhead = self.cfg.overhead(addr);
        let up = self.is_established();
        let p = &mut self.paths[i];
        let was = p.params.hb();
        if let Some(iv) = set.hb_interval {
            p.params.hb_interval = iv;
        }
        if let Some(on) = set.hb_on {
            p.params.hb_on = on;
        }
        if let Some(n) = set.max_retrans {
            p.params.max_retrans = n;
        }
        if let Some(on) = set.pmtud {
            p.params.pmtud = on;
        }
        if let Some(n) = set.pf_retrans {
            p.params.pf_retrans = n;
        }
        if let Some(n) = set.ps_retrans {
            p.params.ps_retrans = n;
        }
        if let Some(pmtu) = set.pmtu.filter(|_| !p.params.pmtud) {
            p.fix_mtu(pmtu, overhead);
        }
        // A new interval (or heartbeats turned on or off) starts its timer
        // again; an unconfirmed path keeps probing every RTO.
        if p.params.hb() != was && up && p.confirmed {
            p.hb_due = p.params.hb().map(|iv| now + iv + p.rto.rto());
        }
        if set.demand && up {
            self.send_heartbeat(now, i);
        }
        true
    }

    /// SCTP_PRIMARY_ADDR: the path to `ip` becomes the primary (false:
    /// none goes there). The application hears SCTP_ADDR_MADE_PRIM, as
    /// Linux's sctp_assoc_set_primary tells it, once established.
    pub fn set_primary(&mut self, ip: IpAddr) -> bool {
        let Some(i) = self.paths.iter().position(|p| p.addr == ip) else {
            return false;
        };
        self.primary = i;
        if self.is_established() {
            self.events.push_back(AssocEvent::PathChange {
                addr: ip,
                state: PathState::MadePrimary,
            });
        }
        true
    }

    /// Adds `addrs` as paths (those not paths already), with the primary
    /// path's UDP port (RFC 6951 §5.4: each learns its own from the packets
    /// it brings): unconfirmed, or `confirmed` when the application gave
    /// them (sctp_connectx: §5.4 counts those as confirmed).
    pub fn add_paths(&mut self, addrs: &[IpAddr], confirmed: bool) {
        let port = self.paths[self.primary].udp_port;
        let rwnd = self.peer_rwnd.max(1);
        for &ip in addrs {
            if self.paths.iter().any(|p| p.addr == ip) {
                continue;
            }
            let mut p = Path::new(&self.cfg, ip, port, rwnd);
            p.confirmed = confirmed;
            self.paths.push(p);
            self.paths_added = true;
        }
    }

    /// Whether paths were added since the last call (the endpoint maps
    /// their addresses to the association).
    pub fn take_paths_added(&mut self) -> bool {
        std::mem::take(&mut self.paths_added)
    }

    /// Whether path `i` may carry data: confirmed and active.
    fn usable(&self, i: usize) -> bool {
        self.paths.get(i).is_some_and(|p| p.confirmed && p.active)
    }

    /// The path new data goes to: the primary while it is usable and not
    /// potentially failed; else the first such other path; else the first
    /// usable one; else the primary all the same.
    pub(super) fn data_path(&self) -> usize {
        let good = |i: usize| self.usable(i) && !self.paths[i].pf;
        if good(self.primary) {
            return self.primary;
        }
        (0..self.paths.len())
            .find(|&i| good(i))
            .or_else(|| (0..self.paths.len()).find(|&i| self.usable(i)))
            .unwrap_or(self.primary)
    }

    /// The path the next new DATA goes to: the one its message was sent to
    /// while that is usable and not potentially failed (Linux's
    /// sctp_outq_select_transport), else the data path.
    pub(super) fn new_data_path(&self) -> usize {
        self.queue
            .front_path()
            .and_then(|ip| self.paths.iter().position(|p| p.addr == ip))
            .filter(|&i| self.usable(i) && !self.paths[i].pf)
            .unwrap_or_else(|| self.data_path())
    }

    /// The smallest MTU of the paths: what DATA fragments are cut for.
    pub(super) fn smallest_mtu(&self) -> usize {
        self.paths.iter().map(|p| p.mtu).min().unwrap_or(1500)
    }

    /// The peer address new data goes to now (failover shows here).
    pub fn data_path_addr(&self) -> IpAddr {
        self.paths[self.data_path()].addr
    }

    /// A usable path other than `i` for retransmissions (§6.4.1), not
    /// potentially failed if there is one.
    pub(super) fn alternate_path(&self, i: usize) -> Option<usize> {
        let others = || (0..self.paths.len()).filter(move |&j| j != i && self.usable(j));
        others()
            .find(|&j| !self.paths[j].pf)
            .or_else(|| others().next())
    }

    /// The path of the next packet when no control chunk decides it:
    /// retransmissions after a timeout to their alternate path, a SACK
    /// alone to where the data came from, the rest to the data path.
    pub(super) fn next_path(&mut self) -> usize {
        let marked = self.out.first_marked(false).is_some();
        if !marked {
            self.rtx_path = None;
        }
        if let Some(alt) = self.rtx_path.filter(|&j| self.usable(j)) {
            return alt;
        }
        let data = self.new_data_path();
        let sends_data = marked || !self.queue.is_empty();
        let from = self.rx.last_data_path;
        if !sends_data && self.rx.sack_pending && self.usable(from) && !self.paths[from].pf {
            return from;
        }
        data
    }

    /// A HEARTBEAT ACK from path `i`, unconfirmed until now: confirmed
    /// (SCTP_ADDR_CONFIRMED), and usable for data.
    pub(super) fn confirm_path(&mut self, i: usize) {
        let p = &mut self.paths[i];
        if p.confirmed {
            return;
        }
        p.confirmed = true;
        p.error_count = 0;
        p.active = true;
        let addr = p.addr;
        self.events.push_back(AssocEvent::PathChange {
            addr,
            state: PathState::Confirmed,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_as_linux() {
        let sc = |a: &str| addr_scope(a.parse().unwrap());
        assert_eq!(sc("127.0.0.1"), 3);
        assert_eq!(sc("::1"), 3);
        assert_eq!(sc("169.254.1.1"), 2);
        assert_eq!(sc("fe80::1"), 2);
        assert_eq!(sc("10.1.2.3"), 1);
        assert_eq!(sc("192.168.0.1"), 1);
        assert_eq!(sc("fec0::1"), 1);
        assert_eq!(sc("8.8.8.8"), 0);
        assert_eq!(sc("2001:db8::1"), 0);
        assert_eq!(sc("::ffff:127.0.0.1"), 3);
        assert_eq!(sc("::ffff:10.0.0.1"), 1);
    }

    /// Listed addresses become paths when unicast, in the sender's scope
    /// and of a family the association can use; duplicates and the
    /// sender's own address once.
    #[test]
    fn listed_addresses_are_filtered_as_linux_does() {
        let v4 = |s: &str| Param::Ipv4Address(s.parse().unwrap());
        let v6 = |s: &str| Param::Ipv6Address(s.parse().unwrap());
        let params = vec![
            v4("10.0.0.1"),
            v4("10.0.1.1"),
            v4("10.0.1.1"),
            v4("127.0.0.1"),
            v4("0.0.0.0"),
            v4("224.0.0.1"),
            v4("255.255.255.255"),
            v4("8.8.8.8"),
            v6("fd00::1"),
            Param::SupportedAddressTypes(vec![5]),
        ];
        let from: IpAddr = "10.0.0.1".parse().unwrap();
        let v4: &[IpAddr] = &["10.0.0.9".parse().unwrap()];
        let got = listed_addrs(&params, from, v4);
        let want: Vec<IpAddr> = vec!["10.0.1.1".parse().unwrap(), "8.8.8.8".parse().unwrap()];
        assert_eq!(got, want, "private scope: no loopback; no IPv6 for v4 only");
        // With an IPv6 address of our own, IPv6 paths are usable.
        let ours: IpAddr = "fd00::2".parse().unwrap();
        assert!(listed_addrs(&params, from, &[ours]).contains(&"fd00::1".parse().unwrap()));
        // From loopback everything is in scope; from a global address
        // private ones are not.
        let lo = listed_addrs(&params, "127.0.0.2".parse().unwrap(), v4);
        assert!(lo.contains(&"127.0.0.1".parse().unwrap()));
        let global = listed_addrs(&params, "8.8.4.4".parse().unwrap(), v4);
        assert_eq!(global, vec!["8.8.8.8".parse::<IpAddr>().unwrap()]);
        // A single-homed endpoint (nothing of its own listed) takes none.
        assert!(listed_addrs(&params, from, &[]).is_empty());
    }

    /// Our addresses for a peer: the sctp_bindx ones before the
    /// endpoint's own, those in the peer's scope; a single one is not
    /// listed (its packets' source says it).
    #[test]
    fn our_addresses_for_a_peer() {
        let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
        let mut cfg = Config {
            own_addrs: vec![ip("127.0.0.1"), ip("10.0.0.1"), ip("192.0.2.2")],
            ..Config::default()
        };
        assert_eq!(ours_for(&cfg, ip("127.0.0.1")), cfg.own_addrs);
        assert_eq!(
            ours_for(&cfg, ip("10.0.0.9")),
            vec![ip("10.0.0.1"), ip("192.0.2.2")]
        );
        assert_eq!(ours_for(&cfg, ip("198.51.100.1")), vec![ip("192.0.2.2")]);
        assert!(to_list(ours_for(&cfg, ip("198.51.100.1"))).is_empty());
        assert_eq!(to_list(ours_for(&cfg, ip("10.0.0.9"))).len(), 2);
        cfg.local_addrs = vec![ip("10.1.0.1"), ip("10.2.0.1")];
        assert_eq!(ours_for(&cfg, ip("10.0.0.9")), cfg.local_addrs);
        // IPv6 link-local addresses are not taken as paths.
        let params = [Param::Ipv6Address("fe80::1".parse().unwrap())];
        assert!(listed_addrs(&params, ip("::1"), &[ip("::1")]).is_empty());
    }

    /// An INIT that names only IPv4 gets only our IPv4 addresses back.
    #[test]
    fn supported_address_types_are_honoured() {
        let ours: Vec<IpAddr> = vec!["10.0.0.1".parse().unwrap(), "fd00::1".parse().unwrap()];
        let v4 = [Param::SupportedAddressTypes(vec![5])];
        assert_eq!(addrs_for(&ours, &v4), vec![ours[0]]);
        let both = [Param::SupportedAddressTypes(vec![5, 6])];
        assert_eq!(addrs_for(&ours, &both), ours);
        assert_eq!(addrs_for(&ours, &[]), ours);
    }

    #[test]
    fn our_addresses_encode_by_family() {
        let a: Vec<IpAddr> = vec!["10.0.0.1".parse().unwrap(), "fd00::1".parse().unwrap()];
        assert_eq!(
            addr_params(&a),
            vec![
                Param::Ipv4Address("10.0.0.1".parse().unwrap()),
                Param::Ipv6Address("fd00::1".parse().unwrap())
            ]
        );
    }
}
