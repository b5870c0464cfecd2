//! What the shared engine (sctpshimd) asks beyond the socket calls: when a
//! socket's application end is gone in every process, whether the engine is
//! idle, and the `sctpshim stat` listing.
//!
//! In the daemon a socket keeps one reference (`Sock::refs`) for all the
//! processes that hold its application end; it is dropped once no copy of
//! that end is left anywhere.

use std::fmt::Write as _;

use super::{Engine, Kind, Sock, SockId};
use crate::sys;

impl Engine {
    /// A process closed a descriptor of socket `id`: if that was the last
    /// copy anywhere (the application's end hung up while ours is not shut,
    /// so the hang-up can only be theirs), the socket is released as close()
    /// releases it, port included, before the caller's close() returns.
    pub fn released(&self, id: SockId) {
        let gone = self
            .lock_quiet()
            .socks
            .get(&id)
            .is_some_and(|s| s.refs > 0 && !s.shut && sys::is_hung_up(s.efd));
        if gone {
            self.drop_ref(id);
        }
    }

    /// Sockets whose pair the engine shut (association over) and that still
    /// hold their reference: whether their application end is gone has to be
    /// asked of the kernel (a shut pair always reads as hung up).
    pub fn held_after_shut(&self) -> Vec<SockId> {
        self.lock_quiet()
            .socks
            .iter()
            .filter(|(_, s)| s.held_after_shut())
            .map(|(&id, _)| id)
            .collect()
    }

    /// Whether socket `id` is one of `held_after_shut`.
    pub fn is_held_after_shut(&self, id: SockId) -> bool {
        self.lock_quiet()
            .socks
            .get(&id)
            .is_some_and(Sock::held_after_shut)
    }

    /// The SCTPSHIM_* settings of the process that made socket `id` (as
    /// `NAME=value` lines): its protocol parameters, and for the endpoint it
    /// binds, impairment and the loopback shortcut. Right after `socket()`:
    /// nothing but the new socket can depend on them yet (a sweep here made
    /// every socket() cost a turn over all the others).
    pub fn apply_settings(&self, id: SockId, text: &str) {
        let set = super::Settings::parse(text);
        let remote = self.defaults.cfg.remote_udp_port;
        if let Some(s) = self.lock(id).socks.get_mut(&id) {
            s.cfg = set.cfg;
            if s.cfg.remote_udp_port == 0 {
                s.cfg.remote_udp_port = remote;
            }
            s.impair = set.impair;
            s.loopback_udp = set.loopback_udp;
        }
    }

    /// Whether the engine holds a socket with this id.
    pub fn knows(&self, id: SockId) -> bool {
        self.lock_quiet().socks.contains_key(&id)
    }

    /// No sockets and no endpoints (so no associations) are left.
    pub fn is_idle(&self) -> bool {
        let st = self.lock_quiet();
        st.socks.is_empty() && st.eps.is_empty()
    }

    /// Endpoints and associations, one line each, in the spirit of
    /// /proc/net/sctp/{eps,assocs}; `owner` names the process of a socket.
    pub fn stat_text(&self, owner: &dyn Fn(SockId) -> Option<u32>) -> String {
        let st = self.lock_quiet();
        let mut out = String::new();
        let pid = |id: Option<&SockId>| {
            id.and_then(|&i| owner(i))
                .map_or_else(|| "-".to_string(), |p| p.to_string())
        };
        let _ = writeln!(
            out,
            "ENDPOINTS\n{:>6} {:>5} {:>8} {:>7}",
            "LPORT", "UDP", "LISTEN", "PID"
        );
        let mut ports: Vec<_> = st.eps.keys().copied().collect();
        ports.sort_unstable();
        for port in &ports {
            let ep = &st.eps[port];
            let udp = match &st.shared {
                Some(sh) => sh.port,
                None => sys::local_addr(ep.udp).map_or(0, |a| a.port()),
            };
            let _ = writeln!(
                out,
                "{port:>6} {udp:>5} {:>8} {:>7}",
                if ep.listener.is_some() { "yes" } else { "no" },
                pid(ep.listener.as_ref().or(ep.socks.values().next()))
            );
        }
        let _ = writeln!(
            out,
            "ASSOCIATIONS\n{:>6} {:>6} {:<24} {:<5} {:>7} {:>7} {:>6} {:>8} {:>9} {:>8} {:>7} {:>7}",
            "ASSOC",
            "LPORT",
            "PEER",
            "STATE",
            "STREAMS",
            "RTO",
            "CWND",
            "FLIGHT",
            "UNACKED",
            "RWND",
            "QUEUED",
            "PID"
        );
        for port in &ports {
            let ep = &st.eps[port];
            let mut ids: Vec<_> = ep.endpoint.assoc_ids().collect();
            ids.sort_unstable();
            for a in ids {
                let Some(x) = ep.endpoint.assoc(a) else {
                    continue;
                };
                let s = x.status();
                let path = &x.paths()[x.primary()];
                let _ = writeln!(
                    out,
                    "{a:>6} {port:>6} {:<24} {:<17} {:>7} {:>7} {:>6} {:>8} {:>9} {:>8} {:>7} {:>7}",
                    x.peer_addr().to_string(),
                    state_name(s.state),
                    format!("{}/{}", s.inbound_streams, s.outbound_streams),
                    s.primary_path().rto_ms,
                    s.primary_path().cwnd,
                    path.flight_size,
                    s.unacked,
                    s.rwnd,
                    s.pending,
                    pid(ep.socks.get(&a))
                );
            }
        }
        // Each endpoint's associations' counters, summed (SCTP_GET_ASSOC_STATS
        // has them one by one): where a slow transfer loses its time.
        let _ = writeln!(
            out,
            "TOTALS\n{:>6} {:>10} {:>10} {:>8} {:>8} {:>8} {:>8} {:>8}",
            "LPORT", "DATA_OUT", "DATA_IN", "RETRANS", "T3", "PROBES", "W_ASKS", "NO_ROOM"
        );
        for port in &ports {
            let ep = &st.eps[port];
            let mut t = crate::proto::assoc::Stats::default();
            for a in ep.endpoint.assoc_ids() {
                if let Some(s) = ep.endpoint.assoc(a).map(|x| x.stats()) {
                    t.data_chunks_sent += s.data_chunks_sent;
                    t.data_chunks_received += s.data_chunks_received;
                    t.retransmitted_chunks += s.retransmitted_chunks;
                    t.t3_expiries += s.t3_expiries;
                    t.loss_probes += s.loss_probes;
                    t.window_asks += s.window_asks;
                    t.dropped_no_room += s.dropped_no_room;
                }
            }
            let _ = writeln!(
                out,
                "{port:>6} {:>10} {:>10} {:>8} {:>8} {:>8} {:>8} {:>8}",
                t.data_chunks_sent,
                t.data_chunks_received,
                t.retransmitted_chunks,
                t.t3_expiries,
                t.loss_probes,
                t.window_asks,
                t.dropped_no_room
            );
        }
        let _ = writeln!(out, "SOCKETS {}", st.socks.len());
        let mut socks: Vec<_> = st.socks.iter().collect();
        socks.sort_unstable_by_key(|(id, _)| **id);
        for (id, s) in socks {
            let kind = match &s.kind {
                Kind::Fresh => "fresh".to_string(),
                Kind::Listener { pending } => format!("listening ({} pending)", pending.len()),
                Kind::Stream { assoc } => format!("one-to-one assoc {assoc}"),
                Kind::Many => "one-to-many".to_string(),
            };
            let _ = writeln!(
                out,
                "{id:#x} port {} {kind} pid {} pair {} staged {}",
                s.port.map_or_else(|| "-".to_string(), |p| p.to_string()),
                pid(Some(id)),
                sys::outq_bytes(s.efd),
                s.inbox.staged()
            );
        }
        out
    }
}

/// Linux's names for `sstat_state` values.
fn state_name(state: i32) -> &'static str {
    match state {
        1 => "CLOSED",
        2 => "COOKIE_WAIT",
        3 => "COOKIE_ECHOED",
        4 => "ESTABLISHED",
        5 => "SHUTDOWN_PENDING",
        6 => "SHUTDOWN_SENT",
        7 => "SHUTDOWN_RECEIVED",
        8 => "SHUTDOWN_ACK_SENT",
        _ => "?",
    }
}
