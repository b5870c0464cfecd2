//! Path MTU (RFC 9260 §7.3, RFC 8899): each path starts at the socket's
//! configured MTU, takes its route's MTU when the runtime reports it, and
//! lowers it when a packet turns out too big ("fragmentation needed",
//! "packet too big", or the kernel's EMSGSIZE). New messages are then
//! fragmented for the smaller MTU; chunks already built larger go again,
//! alone, in packets IP may fragment (§7.3).

use std::net::IpAddr;
use std::time::Instant;

use super::Association;
use super::path::{Congestion, Path};

impl Association {
    /// The path MTU toward `ip` in bytes of IP packet, from the route
    /// (`too_big` false: taken up or down, when discovery is on) or from a
    /// report that a packet was too big (`too_big`: only ever lowers, and
    /// what was in flight on the path goes again in smaller packets).
    /// Returns true when the path's MTU changed.
    pub fn set_path_mtu(&mut self, now: Instant, ip: IpAddr, pmtu: usize, too_big: bool) -> bool {
        let Some(i) = self.paths.iter().position(|p| p.addr == ip) else {
            return false;
        };
        let mtu = Path::sctp_mtu(pmtu, self.cfg.overhead(ip));
        let pmtud = self.paths[i].params.pmtud;
        if !too_big && pmtud {
            self.paths[i].route_mtu = Some(mtu);
            if self.cfg.probe_interval.is_some() {
                // PLPMTUD: the route's MTU is only where the search ends.
                self.pl_reset(now, i, mtu);
                return false;
            }
        }
        if too_big {
            self.pl_lower(i, mtu);
        }
        let p = &mut self.paths[i];
        let changed = if !pmtud || mtu == p.mtu || (too_big && mtu > p.mtu) {
            false
        } else {
            // A path that has sent nothing yet starts with the initial
            // window of its real MTU (§7.2.1).
            if p.flight_size == 0 && p.cc.cwnd == Congestion::new(p.mtu, 0).cwnd {
                p.cc.cwnd = Congestion::new(mtu, 0).cwnd;
            }
            p.mtu = mtu;
            p.pmtu = pmtu & !3;
            true
        };
        if too_big {
            // The packet was dropped: what was in flight there goes again
            // (as Linux's SCTP_RTXR_PMTUD: no congestion penalty).
            self.out.mark_path(i, &mut self.paths);
        }
        changed
    }

    /// Sets every path to the fixed MTU of SCTP_PEER_ADDR_PARAMS
    /// (spp_pathmtu, with discovery off).
    pub(super) fn apply_fixed_mtu(&mut self) {
        let pmtu = self.cfg.pmtu;
        for p in &mut self.paths {
            p.fix_mtu(pmtu, self.cfg.overhead(p.addr));
        }
    }

    /// The peer addresses whose MTU the runtime should look up (discovery on).
    pub fn mtu_wanted(&self) -> Vec<IpAddr> {
        self.paths
            .iter()
            .filter(|p| p.params.pmtud)
            .map(|p| p.addr)
            .collect()
    }
}
