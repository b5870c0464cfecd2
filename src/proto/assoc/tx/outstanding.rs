//! DATA chunks sent and not yet cumulatively acknowledged, kept in TSN
//! order so that a TSN's slot is its distance from the cumulative ack point.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::proto::assoc::path::Path;
use crate::proto::serial::Tsn;
use crate::proto::wire::{DataChunk, Sack};

/// Why a SACK is wrong enough to abort the association.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SackError {
    /// It acknowledges a TSN that was never sent (§6.2.1, protocol violation).
    AcksUnsentTsn,
}

/// One DATA chunk handed to the wire.
#[derive(Clone, Debug)]
pub struct Sent {
    /// The chunk, TSN filled in.
    pub chunk: DataChunk,
    /// Index of the path of its last transmission.
    pub path: usize,
    /// Time of its last transmission.
    pub sent_at: Instant,
    /// How often it was transmitted.
    pub transmissions: u32,
    /// Acknowledged by a gap block (it may still be reneged).
    pub gap_acked: bool,
    /// Counted in its path's flight size.
    pub in_flight: bool,
    /// Miss indications (§7.2.4).
    pub misses: u8,
    /// Marked for retransmission.
    pub marked: bool,
    /// The mark comes from fast retransmit (may bypass cwnd once).
    pub fast: bool,
    /// The mark is a tail loss probe's: its retransmission leaves T3-rtx
    /// as it was (the probe is not one of RFC 9260's rules).
    pub probe: bool,
    /// Retransmitted when TSNs up to this one had been sent. Miss
    /// indications for it count again only from SACKs that newly acknowledge
    /// a later TSN: data sent after the retransmission arrived, so the
    /// retransmission itself was lost and may be fast-retransmitted again
    /// rather than wait for T3 (as FreeBSD's stack does). Under heavy loss
    /// one lost retransmission would otherwise cost a whole RTO.
    pub rtx_after: Option<Tsn>,
}

/// What a SACK changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SackOutcome {
    /// The cumulative ack point moved forward.
    pub cum_advanced: bool,
    /// An RTT sample from a chunk sent once (Karn's rule), with its path.
    pub rtt: Option<(usize, Duration)>,
    /// Chunks were newly marked for fast retransmit.
    pub fast_retransmit: bool,
    /// Paths that had data newly acknowledged.
    pub acked_paths: Vec<usize>,
    /// Nothing is outstanding any more.
    pub all_acked: bool,
    /// RACK found chunks lost (rack.rs).
    pub rack_lost: bool,
    /// When RACK would find the next chunk lost, if no SACK comes first.
    pub rack_timer: Option<Instant>,
}

/// The retransmission queue.
#[derive(Debug)]
pub struct Outstanding {
    chunks: VecDeque<Sent>,
    /// Highest TSN the peer acknowledged cumulatively.
    cum_ack: Tsn,
    /// TSN the next new chunk gets.
    next_tsn: Tsn,
    /// Payload bytes of chunks counted in flight, all paths.
    in_flight_bytes: usize,
    /// Payload bytes of every chunk held (`held_bytes`).
    held_bytes: usize,
    /// Chunks marked for retransmission: `first_marked` looks only when
    /// some are (a scan of a few thousand chunks per packet otherwise).
    marked: usize,
    /// While in fast recovery: the highest TSN outstanding when it began.
    recovery_exit: Option<Tsn>,
    /// Time-based loss detection (rack.rs).
    pub(super) rack: super::rack::Rack,
}

impl Outstanding {
    /// A queue whose first TSN will be `initial_tsn`.
    pub fn new(initial_tsn: Tsn) -> Outstanding {
        Outstanding {
            chunks: VecDeque::new(),
            cum_ack: initial_tsn.prev(),
            next_tsn: initial_tsn,
            in_flight_bytes: 0,
            held_bytes: 0,
            marked: 0,
            recovery_exit: None,
            rack: Default::default(),
        }
    }

    /// The peer's cumulative TSN ack point as we know it.
    pub fn cum_ack(&self) -> Tsn {
        self.cum_ack
    }

    /// TSN for the next new chunk.
    pub fn next_tsn(&self) -> Tsn {
        self.next_tsn
    }

    /// True when no chunk awaits acknowledgement.
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// Number of chunks not cumulatively acknowledged.
    pub fn len(&self) -> usize {
        self.chunks.len()
    }

    /// Payload bytes counted in flight over all paths.
    pub fn in_flight_bytes(&self) -> usize {
        self.in_flight_bytes
    }

    /// Payload bytes held (for the send buffer).
    pub fn held_bytes(&self) -> usize {
        self.held_bytes
    }

    /// True while fast recovery is in progress.
    pub fn in_fast_recovery(&self) -> bool {
        self.recovery_exit.is_some()
    }

    /// Records a new chunk as sent on `path`; assigns and returns its TSN.
    pub fn push_new(
        &mut self,
        mut chunk: DataChunk,
        path: &mut Path,
        path_idx: usize,
        now: Instant,
    ) -> Tsn {
        let tsn = self.next_tsn;
        self.next_tsn = tsn.next();
        chunk.tsn = tsn.0;
        let len = chunk.payload.len();
        path.flight_size += len;
        self.in_flight_bytes += len;
        self.held_bytes += len;
        self.chunks.push_back(Sent {
            chunk,
            path: path_idx,
            sent_at: now,
            transmissions: 1,
            gap_acked: false,
            in_flight: true,
            misses: 0,
            marked: false,
            fast: false,
            probe: false,
            rtx_after: None,
        });
        tsn
    }

    /// Slot of the first chunk marked for retransmission, if any.
    pub fn first_marked(&self, fast_only: bool) -> Option<usize> {
        debug_assert_eq!(self.marked, self.chunks.iter().filter(|s| s.marked).count());
        debug_assert_eq!(
            self.held_bytes,
            self.chunks
                .iter()
                .map(|s| s.chunk.payload.len())
                .sum::<usize>()
        );
        if self.marked == 0 {
            return None;
        }
        self.chunks
            .iter()
            .position(|s| s.marked && (!fast_only || s.fast))
    }

    /// The chunk in slot `i`.
    pub fn get(&self, i: usize) -> Option<&Sent> {
        self.chunks.get(i)
    }

    pub(super) fn chunks_mut(&mut self) -> impl Iterator<Item = &mut Sent> {
        self.chunks.iter_mut()
    }

    /// `n` more chunks were marked through `chunks_mut` (rack.rs).
    pub(super) fn count_marked(&mut self, n: usize) {
        self.marked += n;
    }

    /// Takes `len` bytes of a chunk leaving flight off its path's and the
    /// association's flight size.
    pub(super) fn take_from_flight(&mut self, path: usize, len: usize, paths: &mut [Path]) {
        if let Some(p) = paths.get_mut(path) {
            p.flight_size = p.flight_size.saturating_sub(len);
        }
        self.in_flight_bytes = self.in_flight_bytes.saturating_sub(len);
    }

    /// Records the retransmission of slot `i` on `path`.
    pub fn retransmitted(&mut self, i: usize, path: &mut Path, path_idx: usize, now: Instant) {
        let Some(s) = self.chunks.get_mut(i) else {
            return;
        };
        let len = s.chunk.payload.len();
        if std::mem::take(&mut s.marked) {
            self.marked -= 1;
        }
        s.fast = false;
        s.probe = false;
        s.misses = 0;
        s.rtx_after = Some(self.next_tsn.prev());
        s.transmissions += 1;
        s.sent_at = now;
        s.path = path_idx;
        if !s.in_flight {
            s.in_flight = true;
            path.flight_size += len;
            self.in_flight_bytes += len;
        }
    }

    fn leave_flight(s: &mut Sent, paths: &mut [Path], in_flight_bytes: &mut usize) {
        if s.in_flight {
            s.in_flight = false;
            let len = s.chunk.payload.len();
            if let Some(p) = paths.get_mut(s.path) {
                p.flight_size = p.flight_size.saturating_sub(len);
            }
            *in_flight_bytes = in_flight_bytes.saturating_sub(len);
        }
    }

    /// Processes a SACK: cumulative and gap acknowledgements, Karn-filtered
    /// RTT sample, HTNA miss indications, fast-retransmit marking and the
    /// congestion window updates that go with them (§6.2.1, §7.2).
    pub fn on_sack(
        &mut self,
        sack: &Sack,
        paths: &mut [Path],
        now: Instant,
        rack_on: bool,
    ) -> Result<SackOutcome, SackError> {
        let cum = Tsn(sack.cum_tsn_ack);
        let mut out = SackOutcome::default();
        if cum.lt(self.cum_ack) {
            // Out of order SACK: older information than we have.
            out.all_acked = self.chunks.is_empty();
            return Ok(out);
        }
        if cum.ge(self.next_tsn) {
            return Err(SackError::AcksUnsentTsn);
        }
        // Window fully used before this SACK, per path (for cwnd growth).
        let full: Vec<bool> = paths
            .iter()
            .map(|p| p.flight_size + p.mtu > p.cc.cwnd)
            .collect();
        let mut acked_bytes = vec![0usize; paths.len()];
        let mut htna: Option<Tsn> = None;
        let mut rtt: Option<(usize, Duration, Tsn)> = None;
        let rack = &mut self.rack;
        let mut note_ack = |s: &Sent, acked_bytes: &mut Vec<usize>, htna: &mut Option<Tsn>| {
            rack.on_delivered(s, now);
            let tsn = Tsn(s.chunk.tsn);
            if let Some(b) = acked_bytes.get_mut(s.path) {
                *b += s.chunk.payload.len();
            }
            if htna.is_none_or(|h| tsn.gt(h)) {
                *htna = Some(tsn);
            }
            if s.transmissions == 1 && rtt.is_none_or(|(_, _, t)| tsn.gt(t)) {
                rtt = Some((s.path, now.saturating_duration_since(s.sent_at), tsn));
            }
        };

        // Cumulative part.
        let n = cum.since(self.cum_ack) as usize;
        for _ in 0..n {
            let Some(mut s) = self.chunks.pop_front() else {
                break;
            };
            self.held_bytes -= s.chunk.payload.len();
            if s.marked {
                self.marked -= 1;
            }
            if !s.gap_acked {
                note_ack(&s, &mut acked_bytes, &mut htna);
            }
            Self::leave_flight(&mut s, paths, &mut self.in_flight_bytes);
        }
        out.cum_advanced = n > 0;
        self.cum_ack = cum;

        // Gap blocks: chunk slot i has TSN cum+1+i, a block covers offsets start..=end.
        let mut acked_now = vec![false; self.chunks.len()];
        let mut highest_gap: Option<usize> = None;
        for &(start, end) in &sack.gap_blocks {
            if start == 0 || end < start {
                continue;
            }
            for off in usize::from(start)..=usize::from(end) {
                let i = off - 1;
                if i >= self.chunks.len() {
                    break;
                }
                acked_now[i] = true;
                highest_gap = Some(highest_gap.map_or(i, |h| h.max(i)));
            }
        }
        for (i, s) in self.chunks.iter_mut().enumerate() {
            if acked_now[i] {
                if !s.gap_acked {
                    s.gap_acked = true;
                    if std::mem::take(&mut s.marked) {
                        self.marked -= 1;
                    }
                    note_ack(s, &mut acked_bytes, &mut htna);
                    Self::leave_flight(s, paths, &mut self.in_flight_bytes);
                }
            } else if s.gap_acked {
                // Reneged (§6.2.1 D): treat as outstanding again; T3 will resend it.
                s.gap_acked = false;
            }
        }

        // Miss indications with HTNA (§7.2.4).
        if self.recovery_exit.is_some_and(|x| cum.ge(x)) {
            self.recovery_exit = None;
        }
        let limit = match (
            self.recovery_exit.is_some() && out.cum_advanced,
            highest_gap,
        ) {
            (true, Some(h)) => Some(Tsn(self.chunks[h].chunk.tsn)),
            _ => htna,
        };
        let mut newly_fast: Vec<usize> = Vec::new();
        if let Some(limit) = limit {
            for s in self.chunks.iter_mut() {
                let tsn = Tsn(s.chunk.tsn);
                if !tsn.lt(limit) {
                    break;
                }
                if s.gap_acked || s.marked {
                    continue;
                }
                if s.rtx_after
                    .is_some_and(|after| htna.is_none_or(|h| !h.gt(after)))
                {
                    continue;
                }
                s.misses = s.misses.saturating_add(1);
                if s.misses >= 3 {
                    s.marked = true;
                    self.marked += 1;
                    s.fast = true;
                    newly_fast.push(s.path);
                    Self::leave_flight(s, paths, &mut self.in_flight_bytes);
                }
            }
        }
        // Time-based detection finds what the miss counts have not yet.
        let (rack_lost, rack_next) = if rack_on {
            self.rack_detect(now, paths)
        } else {
            (Vec::new(), None)
        };
        out.rack_timer = rack_next;
        if !rack_lost.is_empty() {
            out.rack_lost = true;
            newly_fast.extend(rack_lost);
        }
        if !newly_fast.is_empty() {
            out.fast_retransmit = true;
            self.enter_recovery(newly_fast, paths);
        }

        // Congestion window growth: only when the cumulative point advanced
        // and not during fast recovery (§7.2.1, §7.2.2).
        for (i, &bytes) in acked_bytes.iter().enumerate() {
            if bytes == 0 {
                continue;
            }
            out.acked_paths.push(i);
            if out.cum_advanced && self.recovery_exit.is_none() {
                let p = &mut paths[i];
                let mtu = p.mtu;
                p.cc.on_ack(bytes, full[i], mtu);
            }
        }
        out.rtt = rtt.map(|(p, d, _)| (p, d));
        out.all_acked = self.chunks.is_empty();
        Ok(out)
    }

    /// Chunks sent on `lost_on` were found lost by SACKs: fast recovery
    /// (§7.2.4), whose one window reduction per path happens on entry.
    pub fn enter_recovery(&mut self, mut lost_on: Vec<usize>, paths: &mut [Path]) {
        if self.recovery_exit.is_some() {
            return;
        }
        self.recovery_exit = Some(self.next_tsn.prev());
        lost_on.sort_unstable();
        lost_on.dedup();
        for p in lost_on {
            if let Some(path) = paths.get_mut(p) {
                let mtu = path.mtu;
                path.cc.on_fast_retransmit(mtu);
            }
        }
    }

    /// A tail loss probe (recovery.rs): the last chunk sent and not yet
    /// acknowledged goes again, as a fast retransmission (past cwnd for
    /// one packet). False when there is none to probe with.
    pub fn mark_probe(&mut self, paths: &mut [Path]) -> bool {
        let Some(s) = self
            .chunks
            .iter_mut()
            .rev()
            .find(|s| !s.gap_acked && !s.marked)
        else {
            return false;
        };
        Self::leave_flight(s, paths, &mut self.in_flight_bytes);
        s.marked = true;
        self.marked += 1;
        s.fast = true;
        s.probe = true;
        true
    }

    /// T3-rtx expired on `path_idx` (§6.3.3 E1–E3): every chunk last sent
    /// there and not gap-acked is marked for retransmission.
    pub fn on_t3_expiry(&mut self, path_idx: usize, paths: &mut [Path]) -> usize {
        self.recovery_exit = None;
        self.mark_path(path_idx, paths)
    }

    /// Marks every chunk last sent on `path_idx` and not gap-acked for
    /// retransmission; returns how many.
    pub fn mark_path(&mut self, path_idx: usize, paths: &mut [Path]) -> usize {
        let mut n = 0;
        for s in self.chunks.iter_mut() {
            if s.path == path_idx && !s.gap_acked {
                Self::leave_flight(s, paths, &mut self.in_flight_bytes);
                if !s.marked {
                    self.marked += 1;
                }
                s.marked = true;
                s.fast = false;
                s.probe = false;
                n += 1;
            }
        }
        n
    }

    /// True if `path_idx` has chunks not yet acknowledged.
    pub fn has_outstanding_on(&self, path_idx: usize) -> bool {
        self.chunks
            .iter()
            .any(|s| s.path == path_idx && !s.gap_acked)
    }

    /// Empties the queue (abort); returns the chunks that never got acknowledged.
    pub fn drain(&mut self) -> Vec<DataChunk> {
        self.in_flight_bytes = 0;
        self.held_bytes = 0;
        self.marked = 0;
        self.chunks
            .drain(..)
            .filter(|s| !s.gap_acked)
            .map(|s| s.chunk)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::config::Config;

    struct T {
        q: Outstanding,
        paths: Vec<Path>,
        now: Instant,
    }

    fn setup(n: u32, first: u32) -> T {
        #[allow(clippy::disallowed_methods)]
        let now = Instant::now();
        let mut paths = vec![Path::new(
            &Config::default(),
            "127.0.0.1".parse().unwrap(),
            1,
            1 << 20,
        )];
        paths[0].cc.cwnd = 100_000;
        let mut q = Outstanding::new(Tsn(first));
        for _ in 0..n {
            let c = DataChunk {
                payload: vec![0; 100],
                beginning: true,
                ending: true,
                ..Default::default()
            };
            q.push_new(c, &mut paths[0], 0, now);
        }
        T { q, paths, now }
    }

    fn sack(cum: u32, gaps: &[(u16, u16)]) -> Sack {
        Sack {
            cum_tsn_ack: cum,
            a_rwnd: 1 << 20,
            gap_blocks: gaps.to_vec(),
            dup_tsns: vec![],
        }
    }

    #[test]
    fn push_assigns_consecutive_tsns_and_counts_flight() {
        let t = setup(3, 10);
        assert_eq!(t.q.next_tsn(), Tsn(13));
        assert_eq!(t.q.in_flight_bytes(), 300);
        assert_eq!(t.paths[0].flight_size, 300);
        assert_eq!(t.q.cum_ack(), Tsn(9));
    }

    #[test]
    fn cumulative_ack_removes_chunks_and_samples_rtt() {
        let mut t = setup(3, 10);
        let later = t.now + Duration::from_millis(30);
        let o =
            t.q.on_sack(&sack(11, &[]), &mut t.paths, later, false)
                .unwrap();
        assert!(o.cum_advanced);
        assert_eq!(o.rtt, Some((0, Duration::from_millis(30))));
        assert_eq!(t.q.len(), 1);
        assert_eq!(t.paths[0].flight_size, 100);
        let o =
            t.q.on_sack(&sack(12, &[]), &mut t.paths, later, false)
                .unwrap();
        assert!(o.all_acked);
        assert_eq!(t.q.in_flight_bytes(), 0);
    }

    #[test]
    fn sack_for_unsent_tsn_is_an_error_and_old_sack_is_ignored() {
        let mut t = setup(2, 10);
        assert_eq!(
            t.q.on_sack(&sack(12, &[]), &mut t.paths, t.now, false),
            Err(SackError::AcksUnsentTsn)
        );
        t.q.on_sack(&sack(10, &[]), &mut t.paths, t.now, false)
            .unwrap();
        let o =
            t.q.on_sack(&sack(9, &[]), &mut t.paths, t.now, false)
                .unwrap();
        assert!(!o.cum_advanced);
        assert_eq!(t.q.cum_ack(), Tsn(10));
    }

    #[test]
    fn gap_blocks_ack_and_three_misses_mark_fast_retransmit() {
        let mut t = setup(6, 1);
        let cwnd = t.paths[0].cc.cwnd;
        // TSN 1 lost; 2, 3, 4 arrive one by one.
        for end in 1..=3u16 {
            let o =
                t.q.on_sack(&sack(0, &[(2, end + 1)]), &mut t.paths, t.now, false)
                    .unwrap();
            assert_eq!(o.fast_retransmit, end == 3, "end {end}");
        }
        assert_eq!(t.q.first_marked(true), Some(0));
        assert!(t.q.in_fast_recovery());
        assert_eq!(t.paths[0].cc.cwnd, cwnd / 2);
        // Not counted in flight while marked: 2,3,4 gap acked, 1 marked, 5,6 in flight.
        assert_eq!(t.paths[0].flight_size, 200);
        let p = &mut t.paths[0];
        t.q.retransmitted(0, p, 0, t.now);
        assert_eq!(t.q.get(0).unwrap().transmissions, 2);
        // Recovery ends when the cum ack reaches the exit point.
        t.q.on_sack(&sack(6, &[]), &mut t.paths, t.now, false)
            .unwrap();
        assert!(!t.q.in_fast_recovery());
    }

    #[test]
    fn htna_counts_only_below_highest_newly_acked() {
        let mut t = setup(5, 1);
        t.q.on_sack(&sack(0, &[(2, 2)]), &mut t.paths, t.now, false)
            .unwrap();
        // Same SACK again: nothing newly acked, so no new miss indications.
        t.q.on_sack(&sack(0, &[(2, 2)]), &mut t.paths, t.now, false)
            .unwrap();
        t.q.on_sack(&sack(0, &[(2, 2)]), &mut t.paths, t.now, false)
            .unwrap();
        assert_eq!(t.q.get(0).unwrap().misses, 1);
        assert_eq!(t.q.first_marked(false), None);
    }

    #[test]
    fn retransmitted_chunk_gives_no_rtt_sample() {
        let mut t = setup(1, 1);
        let p = &mut t.paths[0];
        t.q.on_t3_expiry(0, std::slice::from_mut(p));
        t.q.retransmitted(0, p, 0, t.now);
        let o =
            t.q.on_sack(&sack(1, &[]), &mut t.paths, t.now, false)
                .unwrap();
        assert_eq!(o.rtt, None);
    }

    #[test]
    fn t3_marks_everything_on_the_path_but_gap_acked() {
        let mut t = setup(4, 1);
        t.q.on_sack(&sack(0, &[(2, 2)]), &mut t.paths, t.now, false)
            .unwrap();
        assert_eq!(t.q.on_t3_expiry(0, &mut t.paths), 3);
        assert_eq!(t.paths[0].flight_size, 0);
        assert_eq!(t.q.first_marked(false), Some(0));
        assert_eq!(t.q.first_marked(true), None);
    }

    #[test]
    fn reneged_gap_ack_becomes_outstanding() {
        let mut t = setup(3, 1);
        t.q.on_sack(&sack(0, &[(2, 3)]), &mut t.paths, t.now, false)
            .unwrap();
        assert!(t.q.get(2).unwrap().gap_acked);
        t.q.on_sack(&sack(0, &[]), &mut t.paths, t.now, false)
            .unwrap();
        assert!(!t.q.get(2).unwrap().gap_acked);
        assert_eq!(t.q.on_t3_expiry(0, &mut t.paths), 3);
    }

    #[test]
    fn tsn_wrap_is_handled() {
        let mut t = setup(4, u32::MAX - 1);
        let o =
            t.q.on_sack(&sack(u32::MAX, &[(2, 2)]), &mut t.paths, t.now, false)
                .unwrap();
        assert!(o.cum_advanced);
        assert_eq!(t.q.len(), 2);
        assert!(t.q.get(1).unwrap().gap_acked);
        assert_eq!(t.q.get(1).unwrap().chunk.tsn, 1);
        assert_eq!(t.q.next_tsn(), Tsn(2));
    }

    #[test]
    fn cwnd_grows_in_slow_start_on_cum_ack_when_window_full() {
        let mut t = setup(3, 1);
        t.paths[0].cc.cwnd = 300;
        t.paths[0].cc.ssthresh = 1 << 20;
        t.q.on_sack(&sack(3, &[]), &mut t.paths, t.now, false)
            .unwrap();
        assert_eq!(t.paths[0].cc.cwnd, 600);
    }

    #[test]
    fn drain_returns_unacked_chunks() {
        let mut t = setup(3, 1);
        t.q.on_sack(&sack(0, &[(2, 2)]), &mut t.paths, t.now, false)
            .unwrap();
        assert_eq!(t.q.drain().len(), 2);
        assert!(t.q.is_empty());
    }
}
