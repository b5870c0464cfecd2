//! Packetization Layer Path MTU Discovery (RFC 8899, SCTP per its §6.2),
//! for paths where ICMP never reports a smaller MTU. Off unless
//! SCTP_PLPMTUD_PROBE_INTERVAL sets an interval, as in Linux. A path then
//! sends at BASE_PLPMTU (1200 bytes of IP packet) until a probe of a
//! larger size is acknowledged: a HEARTBEAT padded with a PAD chunk
//! (RFC 4820) to the size tried, sent alone with Don't Fragment, that
//! carries no user data, so its loss costs nothing but the probe.
//! The search tries the route's MTU first (one round trip on a clean path),
//! then halves the range between the largest size confirmed and the
//! smallest that failed (MAX_PROBES unanswered probes). Once done, it
//! searches again after the interval. Data lost at the probed size (two
//! T3-rtx expiries in a row) is a black hole: back to BASE_PLPMTU and a new
//! search (§4.3).

use std::time::{Duration, Instant};

use super::Association;
use super::path::Path;
use crate::proto::wire::{Chunk, Heartbeat, Packet, UnknownChunk};

/// RFC 8899 §5.1.2: BASE_PLPMTU for IPv4 and IPv6, in bytes of IP packet.
pub const BASE_PLPMTU: usize = 1200;
/// Unanswered probes of one size before it counts as too big (§5.1.2).
const MAX_PROBES: u8 = 3;
/// The search stops when the range left is narrower than this.
const SEARCH_STEP: usize = 16;
/// PAD chunk (RFC 4820): its type's upper bits say "skip, do not report".
const PAD: u8 = 0x84;

/// A path's search state.
#[derive(Clone, Debug)]
pub struct Plpmtud {
    /// Largest SCTP packet size known to pass.
    confirmed: usize,
    /// Smallest size known not to pass, or one past the largest to try.
    failed: usize,
    /// The largest size the route allows.
    max: usize,
    /// Whether this search tried `max` itself yet.
    top_tried: bool,
    /// The probe out: (nonce, size, tries so far).
    probe: Option<(u64, usize, u8)>,
    /// When the next probe goes (or the one out counts as lost).
    due: Instant,
    /// T3-rtx expiries in a row (black hole detection).
    t3_in_a_row: u8,
}

impl Association {
    fn probe_interval(&self) -> Option<Duration> {
        self.cfg.probe_interval.filter(|_| self.cfg.pmtud)
    }

    /// Starts (or stops, when the interval is off) the search on path `i`,
    /// whose route allows `max` bytes of SCTP packet.
    pub(super) fn pl_reset(&mut self, now: Instant, i: usize, max: usize) {
        let overhead = self.overhead(i);
        let Some(p) = self.paths.get_mut(i) else {
            return;
        };
        if self.cfg.probe_interval.is_none() || !self.cfg.pmtud {
            p.pl = None;
            return;
        }
        let base = Path::sctp_mtu(BASE_PLPMTU, overhead);
        p.mtu = base.min(max);
        p.pmtu = BASE_PLPMTU.min(p.pmtu);
        p.pl = Some(Plpmtud {
            confirmed: p.mtu,
            failed: max + 1,
            max,
            top_tried: false,
            probe: None,
            due: now,
            t3_in_a_row: 0,
        });
    }

    /// The next PLPMTUD deadline of any path.
    pub(super) fn pl_timeout(&self) -> Option<Instant> {
        self.paths
            .iter()
            .filter_map(|p| p.pl.as_ref().map(|s| s.due))
            .min()
    }

    /// Probe timers: count an unanswered probe, queue the next one.
    pub(super) fn on_pl_timer(&mut self, now: Instant) {
        let Some(iv) = self.probe_interval() else {
            return;
        };
        if !self.is_established() {
            return;
        }
        for i in 0..self.paths.len() {
            let rto = self.paths[i].rto.rto();
            let Some(s) = self.paths[i].pl.as_mut() else {
                continue;
            };
            if s.due > now {
                continue;
            }
            let (size, tries) = match s.probe.take() {
                Some((_, size, tries)) if tries >= MAX_PROBES => {
                    s.failed = size;
                    (None, 0)
                }
                Some((_, size, tries)) => (Some(size), tries),
                None => (None, 0),
            };
            let size = size.or_else(|| next_size(s));
            let Some(size) = size else {
                // Done: search again (for a larger MTU) after the interval.
                s.due = now + iv;
                s.failed = s.max + 1;
                s.top_tried = false;
                continue;
            };
            let nonce = u64::from(self.rng.u32()) << 32 | u64::from(self.rng.u32());
            s.probe = Some((nonce, size, tries + 1));
            s.due = now + rto;
            self.pl_outbox.push((i, nonce, size));
        }
    }

    /// The probe packet for `(path, nonce, size)`: HEARTBEAT and PAD,
    /// exactly `size` bytes.
    pub(super) fn pl_packet(&self, path: usize, nonce: u64, size: usize) -> Vec<u8> {
        let mut info = Vec::with_capacity(13);
        info.extend_from_slice(&(path as u32).to_be_bytes());
        info.extend_from_slice(&nonce.to_be_bytes());
        info.push(b'P');
        let hb = Chunk::Heartbeat(Heartbeat {
            info,
            extra: vec![],
        });
        let used = Packet::HEADER_LEN + hb.encoded_len() + 4;
        let pad = Chunk::Unknown(UnknownChunk {
            chunk_type: PAD,
            flags: 0,
            value: vec![0; size.saturating_sub(used)],
        });
        Packet {
            src_port: self.local_port,
            dst_port: self.peer_port,
            verification_tag: self.peer_vtag,
            chunks: vec![hb, pad],
        }
        .encode()
    }

    /// A HEARTBEAT ACK for a probe: its size passes.
    pub(super) fn pl_on_ack(&mut self, now: Instant, i: usize, nonce: u64) -> bool {
        let overhead = self.overhead(i);
        let Some(p) = self.paths.get_mut(i) else {
            return false;
        };
        let Some(s) = p.pl.as_mut() else {
            return false;
        };
        let Some((n, size, _)) = s.probe else {
            return false;
        };
        if n != nonce {
            return false;
        }
        s.probe = None;
        s.confirmed = size;
        s.due = now;
        if size > p.mtu {
            p.mtu = size;
            p.pmtu = size + overhead;
        }
        true
    }

    /// T3-rtx expired on path `i`: twice in a row at a probed size is a
    /// black hole (RFC 8899 §4.3): back to the base size, search again.
    pub(super) fn pl_on_t3(&mut self, now: Instant, i: usize) {
        let overhead = self.overhead(i);
        let Some(p) = self.paths.get_mut(i) else {
            return;
        };
        let base = Path::sctp_mtu(BASE_PLPMTU, overhead);
        let Some(s) = p.pl.as_mut() else {
            return;
        };
        s.t3_in_a_row = s.t3_in_a_row.saturating_add(1);
        if s.t3_in_a_row >= 2 && p.mtu > base {
            s.failed = p.mtu;
            s.confirmed = base;
            s.probe = None;
            s.due = now;
            s.t3_in_a_row = 0;
            p.mtu = base;
            p.pmtu = BASE_PLPMTU;
        }
    }

    /// A report that `mtu` bytes do not pass on path `i`: the search stays
    /// below it.
    pub(super) fn pl_lower(&mut self, i: usize, mtu: usize) {
        if let Some(s) = self.paths.get_mut(i).and_then(|p| p.pl.as_mut()) {
            s.max = s.max.min(mtu);
            s.failed = s.failed.min(mtu + 1);
            s.confirmed = s.confirmed.min(mtu);
        }
    }

    /// New data acknowledged on path `i`: no black hole there.
    pub(super) fn pl_on_ack_data(&mut self, i: usize) {
        if let Some(s) = self.paths.get_mut(i).and_then(|p| p.pl.as_mut()) {
            s.t3_in_a_row = 0;
        }
    }

    fn overhead(&self, i: usize) -> usize {
        self.paths
            .get(i)
            .map_or(self.cfg.overhead_v4, |p| self.cfg.overhead(p.addr))
    }
}

/// The next size to try: the route's MTU first, then the middle of the
/// range left; None when it is narrower than a step.
fn next_size(s: &mut Plpmtud) -> Option<usize> {
    if !s.top_tried && s.max > s.confirmed {
        s.top_tried = true;
        return Some(s.max);
    }
    if s.failed <= s.confirmed + SEARCH_STEP {
        return None;
    }
    Some(((s.confirmed + s.failed) / 2) & !3).filter(|&m| m > s.confirmed)
}
