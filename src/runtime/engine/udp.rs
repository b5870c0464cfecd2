//! Which UDP socket carries an endpoint's packets (RFC 6951).
//!
//! - Port-mapped (the in-process default): each endpoint has a UDP socket
//!   bound to its own SCTP port number; SCTP port P travels in UDP port P.
//! - One port for the whole engine (SCTPSHIM_UDP_PORT, 9899 by default for
//!   the shared daemon: the port Linux, FreeBSD and usrsctp use): two
//!   sockets (IPv4 and IPv6) on that port carry every endpoint's packets,
//!   demultiplexed by the SCTP destination port, then by the endpoint (peer
//!   port, verification tag, addresses). SCTP ports no longer take UDP
//!   ports, so an application's own UDP port 5060 and SCTP port 5060 live
//!   side by side, as on a host with kernel SCTP.

use std::net::{IpAddr, SocketAddr};
use std::os::raw::c_int;
use std::time::{Duration, Instant};

use super::State;
use crate::proto::assoc::AssocId;
use crate::proto::endpoint::Endpoint;
use crate::proto::{Config, Transmit};
use crate::sys;

/// How long a route's path MTU is trusted before it is looked up again
/// (ICMP reports and EMSGSIZE forget it at once).
const ROUTE_MTU_TTL: Duration = Duration::from_secs(10);

/// The engine-wide UDP sockets of the one-port mode.
#[derive(Debug)]
pub(super) struct SharedUdp {
    pub(super) port: u16,
    pub(super) v4: c_int,
    pub(super) v6: c_int,
}

impl SharedUdp {
    /// Binds `port` on every IPv4 and IPv6 address. When it is taken (the
    /// reason goes to stderr): with `or_any`, a port the kernel picks,
    /// otherwise None, and the engine maps ports instead.
    pub(super) fn open(port: u16, or_any: bool) -> Option<SharedUdp> {
        let (v4, port) = match sys::udp_bind(SocketAddr::from(([0u8; 4], port))) {
            // (Port 0: the kernel's choice, the same for IPv6 below.)
            Ok(fd) => (fd, sys::local_addr(fd).ok()?.port()),
            Err(e) if or_any => {
                let fd = sys::udp_bind(SocketAddr::from(([0u8; 4], 0))).ok()?;
                let any = sys::local_addr(fd).ok()?.port();
                eprintln!("sctpshim: UDP port {port} unavailable ({e}): UDP port {any} instead");
                (fd, any)
            }
            Err(e) => {
                eprintln!(
                    "sctpshim: UDP port {port} unavailable ({e}): one UDP port per SCTP port instead"
                );
                return None;
            }
        };
        let v6 = sys::udp_bind_v6only(SocketAddr::from(([0u16; 8], port))).unwrap_or(-1);
        Some(SharedUdp { port, v4, v6 })
    }

    fn fd_for(&self, dst: &SocketAddr) -> c_int {
        if dst.is_ipv4() { self.v4 } else { self.v6 }
    }
}

/// The one-port mode's port from SCTPSHIM_UDP_PORT (0: port-mapped), or
/// `default` when unset.
pub(super) fn port_from_env(default: u16) -> u16 {
    std::env::var("SCTPSHIM_UDP_PORT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Whether `tx` may join `batch` in one segmented send: same destination
/// and type of service, the size of the batch's datagrams (the last may
/// be shorter), within the kernel's limits, and never a packet IP may
/// fragment.
pub(super) fn batches_with(batch: &[Transmit], tx: &Transmit) -> bool {
    let Some(first) = batch.first() else {
        return true;
    };
    let seg = first.payload.len();
    let total: usize = batch.iter().map(|b| b.payload.len()).sum();
    tx.dst == first.dst
        && tx.tos == first.tos
        && tx.src == first.src
        && !tx.frag_ok
        && !first.frag_ok
        && batch.last().is_some_and(|b| b.payload.len() == seg)
        && tx.payload.len() <= seg
        && batch.len() < sys::GSO_MAX_SEGMENTS
        && total + tx.payload.len() <= sys::GSO_MAX_BYTES
}

/// Which of `ours` (those of `dst`'s family) a datagram to `dst`
/// leaves from: the route's source `routed` if it is one of them, else
/// the one sharing the longest prefix with `dst` (on its subnet, most
/// likely), the first of those in `dst`'s scope. On loopback the route's
/// source is the destination itself, which the peer does not know as
/// ours: a multi-homed peer would answer as out of the blue.
pub(super) fn choose_source(
    ours: &[IpAddr],
    dst: IpAddr,
    routed: Option<IpAddr>,
) -> Option<IpAddr> {
    if let Some(r) = routed.filter(|r| ours.contains(r)) {
        return Some(r);
    }
    let bits = |ip: IpAddr| -> u128 {
        match ip {
            IpAddr::V4(a) => u128::from(u32::from(a)) << 96,
            IpAddr::V6(a) => u128::from(a),
        }
    };
    let scope = sys::addr_scope(dst);
    let same = ours
        .iter()
        .rev()
        .copied()
        .filter(|a| a.is_ipv4() == dst.is_ipv4());
    // (max_by_key keeps the last of equals: reversed, the first wins.)
    same.max_by_key(|&a| {
        let common = (bits(a) ^ bits(dst)).leading_zeros();
        (sys::addr_scope(a) == scope, common)
    })
}

/// The SCTP destination port of a packet (common header bytes 2..4).
fn sctp_dst_port(packet: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes([*packet.get(2)?, *packet.get(3)?]))
}

impl State {
    /// The socket an endpoint's datagram to `dst` leaves from.
    pub(super) fn udp_out(&self, own: c_int, dst: &SocketAddr) -> c_int {
        match &self.shared {
            Some(sh) => sh.fd_for(dst),
            None => own,
        }
    }

    /// The endpoint port a datagram from one of our endpoints to `dst`
    /// reaches inside this engine, if it does (loopback address, an endpoint
    /// of ours bound there or to its family's wildcard).
    pub(super) fn local_target(&self, from: u16, dst: SocketAddr, packet: &[u8]) -> Option<u16> {
        let open = |p: &u16| self.eps.get(p).is_some_and(|ep| ep.shortcut);
        if !open(&from) || !dst.ip().is_loopback() {
            return None;
        }
        let port = match &self.shared {
            Some(sh) if dst.port() == sh.port => sctp_dst_port(packet)?,
            Some(_) => return None,
            None => dst.port(),
        };
        let ep = self.eps.get(&port).filter(|ep| ep.shortcut)?;
        let fits = match ep.ip {
            ip if ip.is_unspecified() => ip.is_ipv6() || dst.is_ipv4(),
            ip => ip == dst.ip() || ep.endpoint.config().local_addrs.contains(&dst.ip()),
        };
        fits.then_some(port)
    }

    /// The UDP port a packet from endpoint `port` carries as its source.
    pub(super) fn udp_source_port(&self, port: u16) -> u16 {
        self.shared.as_ref().map_or(port, |sh| sh.port)
    }

    /// Datagrams on the engine-wide socket (`v6` or IPv4): each goes to the
    /// endpoint of its SCTP destination port; packets for ports nobody has
    /// are answered as out of the blue (RFC 9260 §8.4), as a kernel does.
    pub(super) fn read_shared(&mut self, v6: bool, t: Instant, buf: &mut [u8]) {
        let Some(fd) = self
            .shared
            .as_ref()
            .map(|sh| if v6 { sh.v6 } else { sh.v4 })
        else {
            return;
        };
        while let Some(err) = sys::recv_error(fd) {
            // The quoted packet is one of ours: its source port is the endpoint's.
            if let Some(src) = err.payload.get(..2) {
                self.on_icmp(t, u16::from_be_bytes([src[0], src[1]]), &err);
            }
        }
        for _ in 0..256 {
            let Ok((n, from, seg)) = sys::recv_coalesced(fd, buf) else {
                break;
            };
            // (With receive offload, several datagrams of one sender.)
            for d in buf[..n].chunks(seg) {
                let Some(port) = sctp_dst_port(d) else {
                    continue;
                };
                let Some(ep) = self.eps.get_mut(&port) else {
                    self.answer_unknown_port(t, port, from, d);
                    continue;
                };
                ep.take_in(t, port, from, d);
                self.touched.insert(port);
            }
        }
    }

    /// A packet for an SCTP port with no endpoint: a closed endpoint of that
    /// port answers it (ABORT or SHUTDOWN COMPLETE with the T bit, nothing
    /// for the chunks that must not be answered).
    fn answer_unknown_port(&mut self, t: Instant, port: u16, from: SocketAddr, packet: &[u8]) {
        let mut closed = Endpoint::new(Config::default(), port, sys::random_seed(), t);
        closed.listen(false);
        closed.handle(t, from, packet);
        while let Some(tx) = closed.poll_transmit(t) {
            let fd = self.udp_out(-1, &tx.dst);
            sys::send_to(fd, &tx.payload, &tx.dst).ok();
        }
    }

    /// An ICMP error about a datagram endpoint `port` sent.
    pub(super) fn on_icmp(&mut self, t: Instant, port: u16, err: &sys::IcmpError) {
        if err.too_big.is_some() {
            self.route_mtus.remove(&err.to.ip());
        }
        let Some(ep) = self.eps.get_mut(&port) else {
            return;
        };
        self.touched.insert(port);
        if err.port_unreachable {
            ep.endpoint.handle_port_unreachable(err.to, &err.payload);
        }
        if let Some(mtu) = err.too_big {
            ep.endpoint
                .handle_packet_too_big(t, err.to, &err.payload, mtu as usize);
        }
    }

    /// The source address for a datagram of endpoint `port` to `dst`: for
    /// an endpoint bound to addresses of its own (sctp_bindx, or bind to
    /// one: the peer knows them from the handshake), see
    /// [`choose_source`]; None (the route's) for a wildcard one, which
    /// lists the host's addresses.
    pub(super) fn pick_source(&mut self, port: u16, dst: IpAddr, t: Instant) -> Option<IpAddr> {
        let dst = sys::unmap(SocketAddr::new(dst, 0)).ip();
        // (Per datagram: no copy of the list, looked at again below.)
        fn ours(st: &State, port: u16) -> Option<&[IpAddr]> {
            let ep = st.eps.get(&port)?;
            let cfg = ep.endpoint.config();
            if !cfg.local_addrs.is_empty() {
                Some(&cfg.local_addrs)
            } else {
                ep.any_families.is_none().then_some(&cfg.own_addrs)
            }
        }
        if !ours(self, port)?
            .iter()
            .any(|a| a.is_ipv4() == dst.is_ipv4())
        {
            return None;
        }
        let routed = match self.route_srcs.get(&dst) {
            Some(&(ip, at)) if t.saturating_duration_since(at) < ROUTE_MTU_TTL => ip,
            _ => {
                let ip = sys::source_ip_for(dst);
                if self.route_srcs.len() >= 4096 {
                    self.route_srcs.clear();
                }
                self.route_srcs.insert(dst, (ip, t));
                ip
            }
        };
        choose_source(ours(self, port)?, dst, routed)
    }

    /// The path MTU of the route to `ip` (cached for `ROUTE_MTU_TTL`).
    fn route_mtu(&mut self, ip: IpAddr, t: Instant) -> Option<usize> {
        if let Some(&(mtu, at)) = self.route_mtus.get(&ip)
            && t.saturating_duration_since(at) < ROUTE_MTU_TTL
        {
            return Some(mtu);
        }
        let mtu = sys::route_mtu(ip)?;
        if self.route_mtus.len() >= 4096 {
            self.route_mtus.clear();
        }
        self.route_mtus.insert(ip, (mtu, t));
        Some(mtu)
    }

    /// An association that came up takes the MTU of its paths' routes
    /// (with SCTP_PEER_ADDR_PARAMS' discovery on, the default).
    pub(super) fn learn_mtu(&mut self, port: u16, aid: AssocId, t: Instant) {
        let Some(ips) = self
            .eps
            .get(&port)
            .and_then(|ep| ep.endpoint.assoc(aid))
            .map(|a| a.mtu_wanted())
        else {
            return;
        };
        for ip in ips {
            if let Some(mtu) = self.route_mtu(ip, t)
                && let Some(a) = self
                    .eps
                    .get_mut(&port)
                    .and_then(|ep| ep.endpoint.assoc_mut(aid))
            {
                a.set_path_mtu(t, ip, mtu, false);
            }
        }
    }

    /// Sends datagram `d` of endpoint `port` (the packet `tx`, or what the
    /// impairment made of it). One too big for the path (EMSGSIZE: the
    /// kernel learned a smaller path MTU) lowers its path's MTU and its
    /// data goes again; returns true then.
    pub(super) fn send_datagram(
        &mut self,
        port: u16,
        fd: c_int,
        tx: &Transmit,
        d: &[u8],
        t: Instant,
    ) -> bool {
        let opts = sys::SendOpts {
            segment: None,
            tos: tx.tos,
            src: tx.src,
        };
        let r = if tx.frag_ok {
            sys::send_fragmentable(fd, d, &tx.dst, &opts)
        } else {
            sys::send_with(fd, d, &tx.dst, &opts)
        };
        if !matches!(&r, Err(e) if e.raw_os_error() == Some(libc::EMSGSIZE)) {
            return false;
        }
        let ip = tx.dst.ip();
        self.route_mtus.remove(&ip);
        let header = Config::default().overhead(ip);
        let Some(mtu) = self.route_mtu(ip, t) else {
            return false;
        };
        // (The kernel refused it: never take a route MTU that would fit it.)
        let mtu = mtu.min(d.len() + header - 1);
        if let Some(ep) = self.eps.get_mut(&port) {
            ep.endpoint.handle_packet_too_big(t, tx.dst, d, mtu);
        }
        true
    }

    /// Sends `batch` (datagrams `batches_with` let go together) in one
    /// segmented send where the kernel can, else one by one; true when
    /// one was too big for its path (see `send_datagram`).
    pub(super) fn send_batch(
        &mut self,
        port: u16,
        udp: c_int,
        batch: &[Transmit],
        t: Instant,
    ) -> bool {
        let Some(first) = batch.first() else {
            return false;
        };
        let fd = self.udp_out(udp, &first.dst);
        if batch.len() > 1 && sys::gso_available() {
            let segs: Vec<&[u8]> = batch.iter().map(|tx| tx.payload.as_slice()).collect();
            let opts = sys::SendOpts {
                segment: None,
                tos: first.tos,
                src: first.src,
            };
            match sys::send_segments(fd, &segs, &first.dst, &opts) {
                Ok(_) => return false,
                // Lost as a datagram would be: retransmission recovers.
                Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => return false,
                Err(_) => {}
            }
        }
        let mut too_big = false;
        for tx in batch {
            too_big |= self.send_datagram(port, fd, tx, &tx.payload, t);
        }
        too_big
    }

    /// A free SCTP port for bind(port 0) in the one-port mode: from the
    /// kernel's ephemeral range, starting at a random place.
    pub(super) fn ephemeral_port(&self) -> Option<u16> {
        let (lo, hi) = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
            .ok()
            .and_then(|s| {
                let mut it = s.split_whitespace().filter_map(|v| v.parse::<u16>().ok());
                Some((it.next()?, it.next()?))
            })
            .filter(|(lo, hi)| lo <= hi && *lo > 0)
            .unwrap_or((32768, 60999));
        let span = u32::from(hi - lo) + 1;
        let seed = sys::random_seed();
        let start = u32::from_ne_bytes([seed[0], seed[1], seed[2], seed[3]]) % span;
        (0..span)
            .map(|i| lo + ((start + i) % span) as u16)
            .find(|p| !self.eps.contains_key(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    /// The route's source when it is ours, else the address on the
    /// destination's subnet, else one in its scope; on loopback (the
    /// route's source is the destination) one of ours.
    #[test]
    fn the_source_is_ours_and_on_the_way() {
        let ours = ips(&["10.202.0.1", "10.202.1.1"]);
        let dst: IpAddr = "10.202.1.2".parse().unwrap();
        let r = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(choose_source(&ours, dst, r("10.202.1.1")), r("10.202.1.1"));
        // No route answer, or one that is not ours: the subnet decides.
        assert_eq!(choose_source(&ours, dst, None), r("10.202.1.1"));
        assert_eq!(choose_source(&ours, dst, r("192.0.2.9")), r("10.202.1.1"));
        let dst0: IpAddr = "10.202.0.2".parse().unwrap();
        assert_eq!(choose_source(&ours, dst0, None), r("10.202.0.1"));
        // Loopback: the route gives the destination, which is not ours.
        let lo = ips(&["127.0.0.1", "127.0.0.2"]);
        let got = choose_source(&lo, "127.0.0.3".parse().unwrap(), r("127.0.0.3"));
        assert!(got.is_some_and(|g| lo.contains(&g)));
        // Scope before prefix: a private destination takes the private one.
        let mixed = ips(&["8.8.8.1", "10.0.0.1"]);
        assert_eq!(
            choose_source(&mixed, "10.9.9.9".parse().unwrap(), None),
            r("10.0.0.1")
        );
        // Of equals, the first.
        let same = ips(&["10.0.0.1", "10.0.0.2"]);
        assert_eq!(
            choose_source(&same, "10.0.0.200".parse().unwrap(), None),
            r("10.0.0.1")
        );
        assert_eq!(choose_source(&[], dst, None), None);
        // Only addresses of the destination's family.
        let dual = ips(&["fd00::1", "10.0.0.1"]);
        assert_eq!(
            choose_source(&dual, "10.9.9.9".parse().unwrap(), None),
            r("10.0.0.1")
        );
    }
}
