//! DATA reception and SACK generation (§6.2, §6.7), and SACK processing on
//! the send side (§6.2.1).

use std::time::Instant;

use super::rx::TsnStatus;
use super::{Association, State};
use crate::proto::serial::Tsn;
use crate::proto::wire::{Chunk, DataChunk, ErrorCause, ErrorChunk, Sack};

/// Most gap blocks and duplicate TSNs reported in one SACK, so that it fits
/// a minimum-MTU packet.
const MAX_GAP_BLOCKS: usize = 64;
const MAX_DUPS: usize = 32;
/// How far past the cumulative TSN we track out-of-order data.
const MAX_TSN_AHEAD: u32 = 1 << 20;
/// The least and the most time a window that moved back still takes what
/// the peer sent before it knew (`advertised_edge`): past the most, a
/// peer's zero window probes (one RTO apart) never fall in it.
const EDGE_GRACE_MIN: std::time::Duration = std::time::Duration::from_millis(10);
const EDGE_GRACE_MAX: std::time::Duration = std::time::Duration::from_millis(200);

impl Association {
    /// One DATA chunk (§6.2).
    /// (The payload is taken out of `d` when the chunk is new.)
    pub(super) fn on_data(&mut self, now: Instant, path: usize, d: &mut DataChunk) {
        if !self.is_established() {
            return;
        }
        if matches!(self.state, State::ShutdownReceived | State::ShutdownAckSent) {
            // The peer promised no more new data (§9.2).
            return;
        }
        self.stats.data_chunks_received += 1;
        self.rx.last_data_path = path;
        let tsn = Tsn(d.tsn);
        if d.payload.is_empty() {
            let causes = vec![ErrorCause::NoUserData { tsn: d.tsn }];
            self.abort_and_close(causes, false, super::CloseReason::Violation);
            return;
        }
        self.rx.sack_pending = true;
        if d.immediate {
            self.rx.sack_now = true;
        }
        let cum = self.rx.tracker.cum_tsn();
        if tsn.gt(cum) && tsn.since(cum) > MAX_TSN_AHEAD {
            return;
        }
        // Receive buffer full: drop what would extend past the highest TSN
        // seen; fill gaps still (§6.2). Not what an advertised window let the
        // peer send (`window_edge`). The rest of a message whose first
        // fragments are here is taken too, up to the partial delivery
        // point: dropping it could hold the space those fragments use
        // forever (a window shared by many associations, each holding a
        // piece of a message, never reopens; nothing of it can be read).
        let pd_threshold = match self.cfg.pd_point {
            0 => self.cfg.rcvbuf / 4 * 3,
            p => p,
        };
        let continues = !d.beginning
            && self.rx.tracker.is_received(tsn.prev())
            && self.rx.reasm.buffered_bytes() + d.payload.len() <= pd_threshold;
        if self.rx.window_edge_until.is_some_and(|t| t <= now) {
            self.rx.window_edge = self.rx.last_edge;
            self.rx.window_edge_until = None;
        }
        let promised = self.rx.received_bytes + d.payload.len() as u64 <= self.rx.window_edge;
        if self.a_rwnd() == 0
            && !promised
            && tsn.gt(self.rx.tracker.highest_received())
            && !self.rx.tracker.is_received(tsn)
            && !continues
        {
            self.stats.dropped_no_room += 1;
            self.rx.sack_now = true;
            return;
        }
        match self.rx.tracker.on_tsn(tsn) {
            TsnStatus::Duplicate => {
                self.stats.duplicate_tsns += 1;
                self.rx.sack_now = true;
            }
            TsnStatus::New => {
                if d.stream_id >= self.inbound_streams {
                    // Acknowledge and drop, and tell the peer (§6.5).
                    let err = ErrorChunk {
                        causes: vec![ErrorCause::InvalidStreamIdentifier {
                            stream_id: d.stream_id,
                        }],
                    };
                    self.control.queue.push_back((None, Chunk::Error(err)));
                    self.rx.sack_now = true;
                } else {
                    self.rx.received_bytes += d.payload.len() as u64;
                    self.rx.reasm.insert(DataChunk {
                        payload: std::mem::take(&mut d.payload),
                        ..*d
                    });
                    // §6.9: a message too large to wait for goes up in pieces.
                    self.rx.reasm.start_partial(pd_threshold);
                }
            }
        }
    }

    /// After a packet with DATA: decide between immediate and delayed SACK (§6.2).
    pub(super) fn after_data_packet(&mut self, now: Instant) {
        if !self.rx.sack_pending {
            return;
        }
        self.rx.unacked_packets += 1;
        // §6.7: SACK at once while there are gaps and when they are filled
        // (the sender waits for that SACK to leave fast recovery, and
        // after a timeout it may have nothing else in flight to clock it).
        let gaps = self.rx.tracker.has_gaps();
        let filled = std::mem::replace(&mut self.rx.had_gaps, gaps) && !gaps;
        // The first DATA of the association is acknowledged at once (Linux
        // starts with sack_needed, FreeBSD likewise), and so is data that
        // leaves the window closed: the sender must learn it at once.
        let first = !std::mem::replace(&mut self.rx.data_seen, true);
        if gaps
            || filled
            || first
            || self.a_rwnd() == 0
            || self.rx.unacked_packets >= self.cfg.sack_freq
            || matches!(self.state, State::ShutdownSent)
        {
            self.rx.sack_now = true;
        }
        if matches!(self.state, State::ShutdownSent) {
            // §9.2: answer DATA in SHUTDOWN-SENT with SACK and SHUTDOWN at once.
            self.control
                .queue
                .retain(|(_, c)| !matches!(c, Chunk::Shutdown(_)));
            let s = crate::proto::wire::Shutdown {
                cum_tsn_ack: self.rx.tracker.cum_tsn().0,
            };
            self.control.queue.push_back((None, Chunk::Shutdown(s)));
        }
        if !self.rx.sack_now && self.rx.sack_timer.is_none() {
            self.rx.sack_timer = Some(now + self.cfg.sack_delay);
        }
    }

    /// The SACK to send now; clears the pending state.
    pub(super) fn take_sack(&mut self, now: Instant) -> Sack {
        self.rx.sack_pending = false;
        self.rx.sack_now = false;
        self.rx.unacked_packets = 0;
        self.rx.sack_timer = None;
        let a_rwnd = self.a_rwnd();
        self.rx.last_rwnd = a_rwnd;
        self.advertised_edge(now, self.rx.received_bytes + a_rwnd as u64);
        self.stats.sacks_sent += 1;
        Sack {
            cum_tsn_ack: self.rx.tracker.cum_tsn().0,
            a_rwnd,
            gap_blocks: self.rx.tracker.gap_blocks(MAX_GAP_BLOCKS),
            dup_tsns: self.rx.tracker.take_dups(MAX_DUPS),
        }
    }

    /// A window was advertised that lets the peer send up to `edge`. When
    /// it moved back, data the peer sent before it learnt so is still on
    /// its way: the edge before holds for two smoothed RTTs (10 to 200
    /// ms; 200 ms before the RTT is known).
    fn advertised_edge(&mut self, now: Instant, edge: u64) {
        self.rx.last_edge = edge;
        if edge >= self.rx.window_edge {
            self.rx.window_edge = edge;
            self.rx.window_edge_until = None;
        } else if self.rx.window_edge_until.is_none() {
            let p = &self.paths[self.primary];
            let grace = p.rto.srtt().map_or(EDGE_GRACE_MAX, |s| 2 * s);
            let grace = grace.clamp(EDGE_GRACE_MIN, EDGE_GRACE_MAX);
            self.rx.window_edge_until = Some(now + grace);
        }
    }

    /// A SACK from the peer (§6.2.1).
    /// A SACK that came over path `from`.
    pub(super) fn on_sack(&mut self, now: Instant, from: usize, s: &Sack) {
        if !self.is_established() {
            return;
        }
        let flight_before = self.out.in_flight_bytes();
        let outcome = match self.out.on_sack(s, &mut self.paths, now, self.cfg.rack) {
            Ok(o) => o,
            Err(_) => {
                self.protocol_violation("SACK acknowledges an unsent TSN");
                return;
            }
        };
        if Tsn(s.cum_tsn_ack).lt(self.out.cum_ack()) {
            return;
        }
        // §6.2.1: peer rwnd is a_rwnd less what is still in flight.
        self.peer_rwnd = s.a_rwnd.saturating_sub(self.out.in_flight_bytes() as u32);
        // An acknowledgement came: the one-packet hold of a T3-rtx expiry ends.
        self.t3_hold = 0;
        // §6.1 A: a window closed with nothing in flight is probed after
        // one RTO (a window left open cancels that).
        if s.a_rwnd != 0 {
            self.probe_at = None;
        } else if self.out.in_flight_bytes() == 0 && self.probe_at.is_none() {
            self.probe_at = Some(now + self.rto());
        }
        self.arm_window_ask(now, s.a_rwnd);
        // §6.1 A: SACKs that keep the window closed while the only chunk
        // out is a zero window probe mean the peer is alive: unanswered
        // probes do not count as errors (Linux clears the counters too).
        if s.a_rwnd == 0 && self.out.len() == 1 {
            self.error_count = 0;
            for p in &mut self.paths {
                p.error_count = 0;
            }
        }
        // Max.Burst (§6.1 D) limits bursts beyond ack clocking: what this SACK
        // took out of flight may be replaced, plus Max.Burst packets. (A SACK
        // covering many packets, as a receiver that acks once per batch
        // sends, would otherwise throttle the sender to Max.Burst per SACK.)
        let acked = flight_before.saturating_sub(self.out.in_flight_bytes());
        let mtu = self.paths.first().map_or(1200, |p| p.mtu).max(1);
        self.burst_budget = self.burst_budget.saturating_add(acked.div_ceil(mtu) as u32);
        if let Some((p, rtt)) = outcome.rtt {
            self.paths[p].rto.on_rtt(rtt);
        }
        for &p in &outcome.acked_paths {
            self.path_heard(p, p == from);
            self.pl_on_ack_data(p);
        }
        if outcome.fast_retransmit {
            self.stats.fast_retransmits += 1;
        }
        self.rack_at = outcome.rack_timer;
        // The probes back off until a SACK acknowledges something new: a
        // SACK that only repeats what the peer has (it dropped the probe)
        // must not start them over (RFC 8985 §7.2 arms the probe on new
        // acknowledgements).
        if outcome.cum_advanced || !outcome.acked_paths.is_empty() {
            self.tlp_sent = 0;
        }
        self.arm_tlp(now);
        // A closed window: what is out is a zero window probe, which T3-rtx
        // repeats (§6.1 A), not a tail loss probe.
        if s.a_rwnd == 0 {
            self.tlp_at = None;
        }
        for i in 0..self.paths.len() {
            if !self.out.has_outstanding_on(i) {
                self.paths[i].t3 = None;
            } else if outcome.cum_advanced || self.paths[i].t3.is_none() {
                self.start_t3(now, i);
            }
        }
        if outcome.all_acked {
            self.on_all_acked(now);
        }
    }
}
