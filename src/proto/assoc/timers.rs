//! Timers (T1-init, T2-shutdown, T3-rtx, heartbeats, delayed SACK, the
//! zero window probe) and the error counters they feed (RFC 9260 §6.3,
//! §8.1, §8.2): when to give up, and which paths are reachable.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::{AssocEvent, Association, CloseReason, PathState};
use crate::proto::wire::ErrorCause;

impl Association {
    /// Earliest timer deadline.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let probe = self.probe_at.filter(|_| !self.queue.is_empty());
        let ask = self.window_ask_at.filter(|_| !self.queue.is_empty());
        let out = !self.out.is_empty();
        let rack = self.rack_at.filter(|_| out);
        let tlp = self.tlp_at.filter(|_| out);
        let pl = self.pl_timeout().filter(|_| self.is_established());
        let mut t = [
            self.t1,
            self.t2,
            self.rx.sack_timer,
            probe,
            ask,
            rack,
            tlp,
            pl,
        ]
        .into_iter()
        .flatten()
        .min();
        for p in &self.paths {
            for d in [p.t3, p.hb_due].into_iter().flatten() {
                t = Some(t.map_or(d, |t: Instant| t.min(d)));
            }
        }
        t
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.probe_at.is_some_and(|t| t <= now) {
            self.probe_at = None;
        }
        self.renew_burst();
        if self.t1.is_some_and(|t| t <= now) {
            self.t1 = None;
            self.on_t1_expiry(now);
        }
        if self.t2.is_some_and(|t| t <= now) {
            self.t2 = None;
            self.on_t2_expiry(now);
        }
        if self.rx.sack_timer.is_some_and(|t| t <= now) {
            self.rx.sack_timer = None;
            self.rx.sack_now = true;
        }
        self.on_recovery_timers(now);
        self.on_pl_timer(now);
        for i in 0..self.paths.len() {
            if self.paths[i].t3.is_some_and(|t| t <= now) {
                self.paths[i].t3 = None;
                self.on_t3_expiry(now, i);
            }
            if self.paths[i].hb_due.is_some_and(|t| t <= now) {
                self.on_heartbeat_timer(now, i);
            }
        }
    }

    /// Counts a timeout against the association (§8.1); closes it past the limit.
    pub(super) fn count_error(&mut self) -> bool {
        self.error_count += 1;
        if self.error_count > self.cfg.assoc_max_retrans {
            self.give_up();
            return true;
        }
        false
    }

    /// Association.Max.Retrans exceeded (§8.1): the association ends with
    /// ETIMEDOUT, and the peer hears of it in an ABORT, as Linux's
    /// sctp_cmd_assoc_failed sends (sctp_make_violation_max_retrans).
    pub(super) fn give_up(&mut self) {
        let causes = vec![ErrorCause::ProtocolViolation {
            info: b"Association exceeded its max_retrans count".to_vec(),
        }];
        self.abort_and_close(causes, false, CloseReason::TimedOut);
    }

    /// Counts a timeout against a path (§8.2) and the association. Past
    /// the PF threshold (and still below Path.Max.Retrans) the path becomes
    /// potentially failed and is probed every RTO (RFC 7829 §5.1, as Linux
    /// does); past Path.Max.Retrans it is inactive.
    pub(super) fn count_path_error(&mut self, now: Instant, i: usize) -> bool {
        let exposed = self.cfg.pf_expose == 2;
        let p = &mut self.paths[i];
        let (pf_at, max) = (p.params.pf_retrans, p.params.max_retrans);
        p.error_count += 1;
        let addr = p.addr;
        if p.active && !p.pf && p.error_count > pf_at && p.error_count < max {
            p.pf = true;
            if p.params.hb_on {
                p.hb_due = Some(now + p.rto.rto());
            }
            if exposed {
                let state = PathState::PotentiallyFailed;
                self.events
                    .push_back(AssocEvent::PathChange { addr, state });
            }
        }
        if p.active && p.error_count > max {
            p.active = false;
            p.pf = false;
            let state = PathState::Unreachable;
            self.events
                .push_back(AssocEvent::PathChange { addr, state });
        }
        // Primary path switchover (RFC 7829 §5, Linux's
        // sctp_do_8_2_transport_strike): past its threshold the primary
        // gives way to the path data goes to now, for good.
        let p = &self.paths[i];
        if i == self.primary && p.error_count > p.params.ps_retrans {
            let to = self.data_path();
            if to != i {
                let ip = self.paths[to].addr;
                self.set_primary(ip);
            }
        }
        self.count_error()
    }

    /// A path got an acknowledgement: errors reset (§8.1, §8.2). It is
    /// active again (and not potentially failed) only when `from_it`: the
    /// acknowledgement came from its address, as Linux's
    /// sctp_check_transmitted requires. A SACK over another path for data
    /// sent here before this path failed proves nothing about it now.
    pub(super) fn path_heard(&mut self, i: usize, from_it: bool) {
        self.error_count = 0;
        let exposed = self.cfg.pf_expose == 2;
        let p = &mut self.paths[i];
        p.error_count = 0;
        if !from_it {
            return;
        }
        let back = !p.active || (p.pf && exposed);
        p.active = true;
        p.pf = false;
        if back {
            let addr = p.addr;
            let state = PathState::Available;
            self.events
                .push_back(AssocEvent::PathChange { addr, state });
        }
    }

    /// Index of the path with peer address `ip`.
    pub(super) fn path_of(&self, from: SocketAddr) -> Option<usize> {
        self.paths.iter().position(|p| p.addr == from.ip())
    }

    pub(super) fn on_t3_expiry(&mut self, now: Instant, i: usize) {
        if self.out.has_outstanding_on(i) {
            self.stats.t3_expiries += 1;
            let marked = self.out.on_t3_expiry(i, &mut self.paths);
            if marked > 0 {
                self.t3_hold = 1;
                self.rtx_path = self.alternate_path(i);
            }
            let p = &mut self.paths[i];
            let mtu = p.mtu;
            p.cc.on_timeout(mtu);
            p.rto.back_off();
            self.pl_on_t3(now, i);
            if marked > 0 && self.count_path_error(now, i) {
                return;
            }
            self.start_t3(now, i);
        }
    }

    pub(super) fn start_t3(&mut self, now: Instant, i: usize) {
        let p = &mut self.paths[i];
        p.t3 = Some(now + p.rto.rto());
    }

    /// Current RTO of the primary path.
    pub(super) fn rto(&self) -> Duration {
        self.paths[self.primary].rto.rto()
    }
}
