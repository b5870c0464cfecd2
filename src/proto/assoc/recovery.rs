//! Loss recovery beyond RFC 9260's floor, where the RFC leaves room:
//! - RACK's reordering timer (tx/rack.rs): a chunk overtaken by a later
//!   one is found lost when its window passes, even if no SACK follows;
//! - tail loss probes (RFC 8985 §7): when SACKs stop while data is out,
//!   after two smoothed RTTs (plus the peer's delayed SACK when one packet
//!   is out and the peer has no gap) the last chunk goes again, so that
//!   the SACK it draws reveals any loss to RACK instead of waiting for
//!   T3-rtx (RTO.Min is 1 s). A probe changes neither cwnd nor RTO. A
//!   probe whose SACK does not come (the probe or its SACK lost too: at
//!   10% loss each way, one probe in five) is followed by another after
//!   twice the time, as QUIC's probe timeout backs off (RFC 9002 §6.2.1),
//!   for as long as the next would come before T3-rtx: one packet per
//!   doubling;
//! - asking whether a closed window opened: the window update that
//!   reopens it may be lost, and §6.1 A's zero window probe waits one RTO.
//!   Until then, a DATA chunk with the TSN the peer acknowledged last and
//!   one byte goes after two smoothed RTTs, then after each doubling: a
//!   duplicate, which the peer acknowledges at once with its window (§6.2)
//!   and otherwise drops (TCP's window probes send an old sequence number
//!   likewise). It takes no window and no cwnd and is not outstanding.
//!
//! T3-rtx stays armed as RFC 9260 §6.3.2 says (probes do not restart it),
//! with its back-off (E2) only on its own expiry: losses found by SACKs
//! never back the timer off.

use std::time::{Duration, Instant};

use super::Association;
use crate::proto::wire::{Chunk, DataChunk};

/// The shortest base of the probe timers: twice the smoothed RTT, but not
/// less than this (RFC 9002 §6.2.1's kGranularity; Linux TCP's probe
/// timeout has a floor too). Inside one engine a packet arrives in the
/// turn it was sent, so the RTT measures 0, and a base of 0 would send a
/// probe every turn however many times it is doubled.
const PROBE_GRANULARITY: Duration = Duration::from_millis(1);

impl Association {
    /// Arms the tail loss probe after data went out or a SACK came (none
    /// before the first RTT measurement, none when it would not come
    /// before T3-rtx).
    pub(super) fn arm_tlp(&mut self, now: Instant) {
        self.tlp_at = None;
        if self.out.is_empty() || !self.cfg.rack {
            return;
        }
        let p = &self.paths[self.data_path()];
        let Some(srtt) = p.rto.srtt() else {
            return;
        };
        let mut pto = (srtt * 2).max(PROBE_GRANULARITY);
        if self.out.in_flight_bytes() <= p.mtu && !self.sack_asked && !self.out.in_fast_recovery() {
            // One packet out: the peer may hold its SACK (§6.2); not while
            // it has a gap (in fast recovery), which it acknowledges at
            // once (§6.7).
            pto += self.cfg.sack_delay;
        }
        // Probes since the last SACK: each waits twice as long.
        pto = pto.saturating_mul(1 << self.tlp_sent.min(16));
        if pto < p.rto.rto() {
            self.tlp_at = Some(now + pto);
        }
    }

    /// A SACK with window `a_rwnd` came: while the window is closed with
    /// nothing in flight, the next ask goes after 2 SRTT, doubled for each
    /// ask already sent, if before the zero window probe.
    pub(super) fn arm_window_ask(&mut self, now: Instant, a_rwnd: u32) {
        self.window_ask_at = None;
        if a_rwnd != 0 || !self.cfg.rack {
            self.window_asks = 0;
            return;
        }
        let (Some(until), Some(srtt)) = (self.probe_at, self.paths[self.primary].rto.srtt()) else {
            return;
        };
        let base = (srtt * 2).max(PROBE_GRANULARITY);
        let at = now + base.saturating_mul(1 << self.window_asks.min(16));
        if at < until {
            self.window_ask_at = Some(at);
        }
    }

    /// The duplicate that asks the peer for its window.
    fn window_ask(&self) -> DataChunk {
        DataChunk {
            immediate: true,
            unordered: true,
            beginning: true,
            ending: true,
            tsn: self.out.cum_ack().0,
            stream_id: 0,
            ssn: 0,
            ppid: 0,
            payload: vec![0],
        }
    }

    /// RFC 7053: the last DATA chunk of a packet after which the sender
    /// must wait (cwnd or the peer's window exhausted with data queued)
    /// carries the I bit, so the peer acknowledges at once instead of
    /// holding its SACK up to 200 ms (§6.2). Off with the RFC 9260-only
    /// recovery.
    pub(super) fn ask_immediate_sack(&mut self, path: usize, mtu: usize, new: &mut [DataChunk]) {
        if new.is_empty() {
            return;
        }
        let sent: usize = new.iter().map(|d| d.payload.len()).sum();
        let p = &self.paths[path];
        let blocked = self
            .queue
            .peek_len(self.max_payload(mtu))
            .is_some_and(|next| {
                p.flight_size + sent + next > p.cc.cwnd || (self.peer_rwnd as usize) < next
            });
        self.sack_asked = self.cfg.rack && blocked;
        if self.sack_asked
            && let Some(last) = new.last_mut()
        {
            last.immediate = true;
        }
    }

    /// The RACK reordering timer or the tail loss probe is due.
    pub(super) fn on_recovery_timers(&mut self, now: Instant) {
        if self.rack_at.is_some_and(|t| t <= now) {
            let (lost, next) = self.out.rack_detect(now, &mut self.paths);
            self.rack_at = next;
            if !lost.is_empty() {
                self.stats.fast_retransmits += 1;
                self.out.enter_recovery(lost, &mut self.paths);
            }
        }
        if self.window_ask_at.is_some_and(|t| t <= now) {
            self.window_ask_at = None;
            if self.is_established() && self.out.in_flight_bytes() == 0 {
                let ask = Chunk::Data(self.window_ask());
                let path = self.data_path();
                self.control.queue.push_back((Some(path), ask));
                self.window_asks += 1;
                self.stats.window_asks += 1;
            }
        }
        if self.tlp_at.is_some_and(|t| t <= now) {
            self.tlp_at = None;
            if self.is_established() && self.out.mark_probe(&mut self.paths) {
                self.tlp_sent += 1;
                self.stats.loss_probes += 1;
            }
        }
    }
}
