//! Receive-side TSN bookkeeping for SACK generation (RFC 9260 §6.2, §6.7).
//!
//! Tracks the cumulative TSN ack point, the TSNs received above it (reported
//! as gap ack blocks) and duplicates (reported once in the next SACK).

use super::ranges::RangeSet;
use super::unwrap::TsnUnwrapper;
use crate::proto::serial::Tsn;

/// Upper bound on duplicate TSNs remembered between two SACKs. A SACK can
/// report only so many anyway, and a peer replaying old packets must not be
/// able to grow our memory.
pub const MAX_STORED_DUPS: usize = 256;

/// Outcome of [`TsnTracker::on_tsn`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TsnStatus {
    /// Not seen before: the chunk must be processed.
    New,
    /// Already received (at or below the cumulative point, or in a gap
    /// block): the chunk must be dropped, and it was queued for the
    /// duplicate-TSN list of the next SACK.
    Duplicate,
}

/// Which peer TSNs have been received, for SACK generation.
#[derive(Clone, Debug)]
pub struct TsnTracker {
    // Anchored at the cumulative ack point, so `cum.last()` *is* the cum TSN
    // unwrapped and every received TSN resolves relative to it.
    cum: TsnUnwrapper,
    // Received TSNs above cum. Invariant: every run starts at cum + 2 or
    // later (a run touching cum + 1 would have been folded into cum).
    above: RangeSet,
    dups: Vec<u32>,
}

impl TsnTracker {
    /// A tracker for a peer whose INIT/INIT ACK announced `peer_initial_tsn`;
    /// nothing is received yet, so the cumulative point is the TSN before it.
    pub fn new(peer_initial_tsn: Tsn) -> Self {
        Self {
            cum: TsnUnwrapper::new(peer_initial_tsn.prev()),
            above: RangeSet::new(),
            dups: Vec::new(),
        }
    }

    /// The cumulative TSN ack point: every TSN up to and including it has
    /// been received.
    pub fn cum_tsn(&self) -> Tsn {
        TsnUnwrapper::wrap(self.cum.last())
    }

    /// Records the arrival of `tsn`.
    ///
    /// The caller should first drop chunks it will not buffer (e.g. beyond
    /// its receive window, RFC 9260 §6.2): whatever is recorded here is
    /// acknowledged to the peer, and is kept until the cum point passes it.
    pub fn on_tsn(&mut self, tsn: Tsn) -> TsnStatus {
        let cum = self.cum.last();
        let v = self.cum.peek(tsn);
        if v <= cum || !self.above.insert(v) {
            if self.dups.len() < MAX_STORED_DUPS {
                self.dups.push(tsn.0);
            }
            return TsnStatus::Duplicate;
        }
        self.fold_into_cum();
        TsnStatus::New
    }

    /// Whether `tsn` has been received. Anything at or below the cum point
    /// counts as received, including TSNs skipped by
    /// [`forward_cum`](Self::forward_cum).
    pub fn is_received(&self, tsn: Tsn) -> bool {
        let v = self.cum.peek(tsn);
        v <= self.cum.last() || self.above.contains(v)
    }

    /// Whether anything has been received above the cum point, i.e. whether
    /// a SACK would carry gap ack blocks.
    pub fn has_gaps(&self) -> bool {
        !self.above.is_empty()
    }

    /// Gap ack blocks as `(start, end)` offsets from the cum TSN, exactly as
    /// carried in the SACK chunk (RFC 9260 §3.3.4): block `i` acknowledges
    /// TSNs `cum + start ..= cum + end`.
    ///
    /// At most `max_blocks` are returned. Offsets are 16 bits, so reporting
    /// stops at the first block that starts beyond `cum + 65535`; a block
    /// straddling that limit is cut at 65535, which under-reports (harmless:
    /// the rest is acknowledged later) but never over-reports.
    pub fn gap_blocks(&self, max_blocks: usize) -> Vec<(u16, u16)> {
        let cum = self.cum.last();
        let mut out = Vec::new();
        for (s, e) in self.above.iter() {
            if out.len() >= max_blocks {
                break;
            }
            let Ok(start) = u16::try_from(s.saturating_sub(cum)) else {
                break;
            };
            let end_off = e.saturating_sub(cum);
            match u16::try_from(end_off) {
                Ok(end) => out.push((start, end)),
                Err(_) => {
                    out.push((start, u16::MAX));
                    break;
                }
            }
        }
        out
    }

    /// Returns up to `max` duplicate TSNs received since the last call, in
    /// arrival order, and forgets all of them so each is reported once.
    pub fn take_dups(&mut self, max: usize) -> Vec<u32> {
        let mut out = std::mem::take(&mut self.dups);
        out.truncate(max);
        out
    }

    /// The highest TSN received; the cum TSN if there are no gaps.
    pub fn highest_received(&self) -> Tsn {
        let top = self.above.last().map_or(self.cum.last(), |(_, e)| e);
        TsnUnwrapper::wrap(top)
    }

    /// Moves the cum point forward to `new_cum` (FORWARD TSN, RFC 3758
    /// §3.6), treating every TSN up to it as received and dropping the gap
    /// state below it. Received TSNs directly following `new_cum` are folded
    /// in as well. A `new_cum` at or behind the current cum point is ignored,
    /// as a stale FORWARD TSN must be.
    pub fn forward_cum(&mut self, new_cum: Tsn) {
        let v = self.cum.peek(new_cum);
        if v <= self.cum.last() {
            return;
        }
        self.cum.advance_to(v);
        self.above.remove_through(v);
        self.fold_into_cum();
    }

    /// Absorbs a run starting right after cum into cum. Runs are merged on
    /// insert, so at most one run can qualify.
    fn fold_into_cum(&mut self) {
        let want = self.cum.last().saturating_add(1);
        if let Some((s, _)) = self.above.first()
            && s == want
            && let Some((_, e)) = self.above.pop_first()
        {
            self.cum.advance_to(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn feed(t: &mut TsnTracker, tsns: &[u32]) -> Vec<TsnStatus> {
        tsns.iter().map(|&x| t.on_tsn(Tsn(x))).collect()
    }

    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    #[test]
    fn new_sets_cum_before_initial() {
        let t = TsnTracker::new(Tsn(1000));
        assert_eq!(t.cum_tsn(), Tsn(999));
        assert!(!t.has_gaps());
        assert_eq!(t.highest_received(), Tsn(999));
    }

    #[test]
    fn new_with_zero_initial_wraps_cum() {
        let t = TsnTracker::new(Tsn(0));
        assert_eq!(t.cum_tsn(), Tsn(u32::MAX));
        assert!(t.is_received(Tsn(u32::MAX)));
        assert!(!t.is_received(Tsn(0)));
    }

    #[test]
    fn in_order_advances_cum() {
        let mut t = TsnTracker::new(Tsn(1));
        for x in 1..=100 {
            assert_eq!(t.on_tsn(Tsn(x)), TsnStatus::New);
            assert_eq!(t.cum_tsn(), Tsn(x));
        }
        assert!(!t.has_gaps());
        assert!(t.gap_blocks(16).is_empty());
        assert!(t.take_dups(16).is_empty());
    }

    #[test]
    fn out_of_order_fills_gap() {
        let mut t = TsnTracker::new(Tsn(1));
        assert_eq!(feed(&mut t, &[1, 3, 4]), vec![TsnStatus::New; 3]);
        assert_eq!(t.cum_tsn(), Tsn(1));
        assert!(t.has_gaps());
        assert_eq!(t.on_tsn(Tsn(2)), TsnStatus::New);
        assert_eq!(t.cum_tsn(), Tsn(4));
        assert!(!t.has_gaps());
    }

    #[test]
    fn reverse_order_jumps_cum_at_end() {
        let mut t = TsnTracker::new(Tsn(10));
        for x in (11..=50).rev() {
            assert_eq!(t.on_tsn(Tsn(x)), TsnStatus::New);
            assert_eq!(t.cum_tsn(), Tsn(9));
        }
        assert_eq!(t.gap_blocks(4), vec![(2, 41)]);
        t.on_tsn(Tsn(10));
        assert_eq!(t.cum_tsn(), Tsn(50));
    }

    #[test]
    fn duplicate_below_cum() {
        let mut t = TsnTracker::new(Tsn(1));
        feed(&mut t, &[1, 2, 3]);
        assert_eq!(t.on_tsn(Tsn(2)), TsnStatus::Duplicate);
        assert_eq!(t.on_tsn(Tsn(3)), TsnStatus::Duplicate);
        assert_eq!(t.cum_tsn(), Tsn(3));
        assert_eq!(t.take_dups(10), vec![2, 3]);
    }

    #[test]
    fn duplicate_of_very_old_tsn() {
        let mut t = TsnTracker::new(Tsn(1_000_000));
        assert_eq!(t.on_tsn(Tsn(5)), TsnStatus::Duplicate);
        assert_eq!(t.take_dups(10), vec![5]);
    }

    #[test]
    fn duplicate_above_cum() {
        let mut t = TsnTracker::new(Tsn(1));
        feed(&mut t, &[1, 5, 6]);
        assert_eq!(t.on_tsn(Tsn(5)), TsnStatus::Duplicate);
        assert_eq!(t.on_tsn(Tsn(6)), TsnStatus::Duplicate);
        assert_eq!(t.gap_blocks(4), vec![(4, 5)]);
        assert_eq!(t.take_dups(10), vec![5, 6]);
    }

    #[test]
    fn duplicate_of_cum_itself() {
        let mut t = TsnTracker::new(Tsn(1));
        t.on_tsn(Tsn(1));
        assert_eq!(t.on_tsn(Tsn(1)), TsnStatus::Duplicate);
        // The TSN before the initial one was never sent; still "old".
        assert_eq!(t.on_tsn(Tsn(0)), TsnStatus::Duplicate);
    }

    #[test]
    fn repeated_duplicates_are_each_reported() {
        let mut t = TsnTracker::new(Tsn(1));
        feed(&mut t, &[1, 1, 1, 1]);
        assert_eq!(t.take_dups(10), vec![1, 1, 1]);
    }

    #[test]
    fn take_dups_clears_and_limits() {
        let mut t = TsnTracker::new(Tsn(1));
        t.on_tsn(Tsn(1));
        for _ in 0..5 {
            t.on_tsn(Tsn(1));
        }
        assert_eq!(t.take_dups(2), vec![1, 1]);
        // The rest were dropped, not kept for the next SACK.
        assert!(t.take_dups(10).is_empty());
    }

    #[test]
    fn take_dups_zero_still_clears() {
        let mut t = TsnTracker::new(Tsn(1));
        feed(&mut t, &[1, 1]);
        assert!(t.take_dups(0).is_empty());
        assert!(t.take_dups(10).is_empty());
    }

    #[test]
    fn dups_storage_is_bounded() {
        let mut t = TsnTracker::new(Tsn(1));
        t.on_tsn(Tsn(1));
        for _ in 0..10_000 {
            assert_eq!(t.on_tsn(Tsn(1)), TsnStatus::Duplicate);
        }
        assert_eq!(t.take_dups(usize::MAX).len(), MAX_STORED_DUPS);
    }

    #[test]
    fn gap_blocks_rfc_example() {
        // RFC 9260 §3.3.4 semantics: cum = 100, received 102-103 and 105:
        // blocks (2,3) and (5,5).
        let mut t = TsnTracker::new(Tsn(100));
        feed(&mut t, &[100, 102, 103, 105]);
        assert_eq!(t.cum_tsn(), Tsn(100));
        assert_eq!(t.gap_blocks(16), vec![(2, 3), (5, 5)]);
        assert_eq!(t.highest_received(), Tsn(105));
    }

    #[test]
    fn gap_blocks_several() {
        let mut t = TsnTracker::new(Tsn(1));
        feed(&mut t, &[3, 4, 5, 8, 10, 11, 20]);
        assert_eq!(t.cum_tsn(), Tsn(0));
        assert_eq!(t.gap_blocks(16), vec![(3, 5), (8, 8), (10, 11), (20, 20)]);
    }

    #[test]
    fn gap_blocks_respects_max() {
        let mut t = TsnTracker::new(Tsn(1));
        feed(&mut t, &[3, 5, 7, 9]);
        assert_eq!(t.gap_blocks(2), vec![(3, 3), (5, 5)]);
        assert!(t.gap_blocks(0).is_empty());
    }

    #[test]
    fn gap_blocks_shift_when_cum_advances() {
        let mut t = TsnTracker::new(Tsn(1));
        feed(&mut t, &[1, 3, 5, 6]);
        assert_eq!(t.gap_blocks(8), vec![(2, 2), (4, 5)]);
        t.on_tsn(Tsn(2));
        assert_eq!(t.cum_tsn(), Tsn(3));
        assert_eq!(t.gap_blocks(8), vec![(2, 3)]);
    }

    #[test]
    fn gap_blocks_stop_beyond_u16() {
        let mut t = TsnTracker::new(Tsn(1));
        feed(&mut t, &[10, 65_535, 65_537, 70_000]);
        // cum = 0: offsets equal TSNs. 65_535 fits, 65_537 does not.
        assert_eq!(t.gap_blocks(16), vec![(10, 10), (65_535, 65_535)]);
    }

    #[test]
    fn gap_block_straddling_limit_is_truncated() {
        let mut t = TsnTracker::new(Tsn(1));
        feed(&mut t, &[65_534, 65_535, 65_536, 65_537]);
        assert_eq!(t.gap_blocks(16), vec![(65_534, 65_535)]);
    }

    #[test]
    fn gap_block_entirely_beyond_limit_is_omitted() {
        let mut t = TsnTracker::new(Tsn(1));
        t.on_tsn(Tsn(100_000));
        assert!(t.has_gaps());
        assert!(t.gap_blocks(16).is_empty());
        assert_eq!(t.highest_received(), Tsn(100_000));
    }

    #[test]
    fn is_received_reports_all_states() {
        let mut t = TsnTracker::new(Tsn(1));
        feed(&mut t, &[1, 2, 4]);
        assert!(t.is_received(Tsn(1)));
        assert!(t.is_received(Tsn(2)));
        assert!(!t.is_received(Tsn(3)));
        assert!(t.is_received(Tsn(4)));
        assert!(!t.is_received(Tsn(5)));
    }

    #[test]
    fn highest_received_tracks_top() {
        let mut t = TsnTracker::new(Tsn(1));
        assert_eq!(t.highest_received(), Tsn(0));
        t.on_tsn(Tsn(7));
        assert_eq!(t.highest_received(), Tsn(7));
        t.on_tsn(Tsn(4));
        assert_eq!(t.highest_received(), Tsn(7));
        t.on_tsn(Tsn(1));
        assert_eq!(t.highest_received(), Tsn(7));
    }

    #[test]
    fn wrap_in_order() {
        let start = u32::MAX - 5;
        let mut t = TsnTracker::new(Tsn(start));
        let mut x = Tsn(start);
        for _ in 0..12 {
            assert_eq!(t.on_tsn(x), TsnStatus::New);
            assert_eq!(t.cum_tsn(), x);
            x = x.next();
        }
        assert_eq!(t.cum_tsn(), Tsn(5));
    }

    #[test]
    fn wrap_with_gap_across_zero() {
        let mut t = TsnTracker::new(Tsn(u32::MAX - 1));
        feed(&mut t, &[u32::MAX - 1, 1, 2]);
        assert_eq!(t.cum_tsn(), Tsn(u32::MAX - 1));
        // Offsets computed across the wrap: 1 is cum + 3.
        assert_eq!(t.gap_blocks(4), vec![(3, 4)]);
        assert_eq!(t.highest_received(), Tsn(2));
        assert!(!t.is_received(Tsn(u32::MAX)));
        assert!(!t.is_received(Tsn(0)));
        t.on_tsn(Tsn(u32::MAX));
        assert_eq!(t.gap_blocks(4), vec![(2, 3)]);
        t.on_tsn(Tsn(0));
        assert_eq!(t.cum_tsn(), Tsn(2));
        assert!(!t.has_gaps());
    }

    #[test]
    fn wrap_duplicates() {
        let mut t = TsnTracker::new(Tsn(u32::MAX));
        feed(&mut t, &[u32::MAX, 0, 1]);
        assert_eq!(t.on_tsn(Tsn(u32::MAX)), TsnStatus::Duplicate);
        assert_eq!(t.on_tsn(Tsn(0)), TsnStatus::Duplicate);
        assert_eq!(t.on_tsn(Tsn(u32::MAX - 100)), TsnStatus::Duplicate);
        assert_eq!(t.take_dups(8), vec![u32::MAX, 0, u32::MAX - 100]);
    }

    #[test]
    fn half_space_ahead_is_treated_as_old() {
        let mut t = TsnTracker::new(Tsn(1));
        // cum = 0; 2^31 away is ambiguous and must not be taken as new.
        assert_eq!(t.on_tsn(Tsn(1 << 31)), TsnStatus::Duplicate);
        assert_eq!(t.on_tsn(Tsn((1 << 31) - 1)), TsnStatus::New);
        assert_eq!(t.cum_tsn(), Tsn(0));
    }

    #[test]
    fn forward_cum_skips_missing() {
        let mut t = TsnTracker::new(Tsn(1));
        feed(&mut t, &[1, 4, 5, 9]);
        t.forward_cum(Tsn(3));
        // 4 and 5 follow directly, so they fold in.
        assert_eq!(t.cum_tsn(), Tsn(5));
        assert_eq!(t.gap_blocks(4), vec![(4, 4)]);
    }

    #[test]
    fn forward_cum_drops_state_below() {
        let mut t = TsnTracker::new(Tsn(1));
        feed(&mut t, &[3, 5, 7, 20]);
        t.forward_cum(Tsn(10));
        assert_eq!(t.cum_tsn(), Tsn(10));
        assert_eq!(t.gap_blocks(8), vec![(10, 10)]);
        assert!(t.is_received(Tsn(8)));
        assert_eq!(t.on_tsn(Tsn(6)), TsnStatus::Duplicate);
    }

    #[test]
    fn forward_cum_into_middle_of_run() {
        let mut t = TsnTracker::new(Tsn(1));
        feed(&mut t, &[5, 6, 7, 8]);
        t.forward_cum(Tsn(6));
        assert_eq!(t.cum_tsn(), Tsn(8));
        assert!(!t.has_gaps());
    }

    #[test]
    fn forward_cum_backwards_is_ignored() {
        let mut t = TsnTracker::new(Tsn(1));
        feed(&mut t, &[1, 2, 3, 6]);
        t.forward_cum(Tsn(2));
        assert_eq!(t.cum_tsn(), Tsn(3));
        t.forward_cum(Tsn(3));
        assert_eq!(t.cum_tsn(), Tsn(3));
        assert_eq!(t.gap_blocks(4), vec![(3, 3)]);
    }

    #[test]
    fn forward_cum_across_wrap() {
        let mut t = TsnTracker::new(Tsn(u32::MAX - 3));
        feed(&mut t, &[u32::MAX - 3, 2, 3]);
        t.forward_cum(Tsn(1));
        assert_eq!(t.cum_tsn(), Tsn(3));
        assert!(!t.has_gaps());
        assert_eq!(t.on_tsn(Tsn(4)), TsnStatus::New);
        assert_eq!(t.cum_tsn(), Tsn(4));
    }

    #[test]
    fn forward_cum_then_new_data() {
        let mut t = TsnTracker::new(Tsn(1));
        t.forward_cum(Tsn(100));
        assert_eq!(t.on_tsn(Tsn(50)), TsnStatus::Duplicate);
        assert_eq!(t.on_tsn(Tsn(101)), TsnStatus::New);
        assert_eq!(t.cum_tsn(), Tsn(101));
    }

    #[test]
    fn many_outstanding_is_compact() {
        let mut t = TsnTracker::new(Tsn(1));
        // Everything but TSN 1: one run of 64k above cum.
        for x in 2..=65_537 {
            assert_eq!(t.on_tsn(Tsn(x)), TsnStatus::New);
        }
        assert_eq!(t.above.run_count(), 1);
        assert_eq!(t.gap_blocks(4), vec![(2, 65_535)]);
        t.on_tsn(Tsn(1));
        assert_eq!(t.cum_tsn(), Tsn(65_537));
    }

    #[test]
    fn alternating_gaps_many_blocks() {
        let mut t = TsnTracker::new(Tsn(1));
        for x in (2..2000).step_by(2) {
            t.on_tsn(Tsn(x));
        }
        let blocks = t.gap_blocks(usize::MAX);
        assert_eq!(blocks.len(), 999);
        for (i, &(s, e)) in blocks.iter().enumerate() {
            let off = 2 + 2 * i as u16;
            assert_eq!((s, e), (off, off));
        }
        for x in (1..2000).step_by(2) {
            t.on_tsn(Tsn(x));
        }
        assert_eq!(t.cum_tsn(), Tsn(1999));
        assert!(!t.has_gaps());
    }

    /// Compares against a brute-force model, with the window placed across
    /// the wrap point.
    #[test]
    fn random_against_model() {
        for seed in 1..=20u64 {
            let mut rng = XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
            let initial = u32::MAX - 300;
            let mut t = TsnTracker::new(Tsn(initial));
            let mut seen: BTreeSet<u32> = BTreeSet::new(); // offsets from initial
            let mut dups_expected = Vec::new();
            for _ in 0..1500 {
                let off = rng.below(700) as u32;
                let tsn = initial.wrapping_add(off);
                let status = t.on_tsn(Tsn(tsn));
                if seen.insert(off) {
                    assert_eq!(status, TsnStatus::New);
                } else {
                    assert_eq!(status, TsnStatus::Duplicate);
                    dups_expected.push(tsn);
                }
                let mut cum_off = 0;
                while seen.contains(&cum_off) {
                    cum_off += 1;
                }
                // cum is the last contiguous one: initial + cum_off - 1.
                assert_eq!(
                    t.cum_tsn(),
                    Tsn(initial.wrapping_add(cum_off).wrapping_sub(1))
                );
                let mut blocks = Vec::new();
                let mut iter = seen.range(cum_off..).copied().peekable();
                while let Some(s) = iter.next() {
                    let mut e = s;
                    while iter.peek() == Some(&(e + 1)) {
                        e += 1;
                        iter.next();
                    }
                    blocks.push(((s - cum_off + 1) as u16, (e - cum_off + 1) as u16));
                }
                assert_eq!(t.gap_blocks(usize::MAX), blocks);
                assert_eq!(t.has_gaps(), !blocks.is_empty());
                if rng.below(10) == 0 {
                    dups_expected.truncate(MAX_STORED_DUPS);
                    assert_eq!(t.take_dups(usize::MAX), dups_expected);
                    dups_expected.clear();
                }
            }
        }
    }

    #[test]
    fn fill_joins_two_runs_into_cum() {
        let mut t = TsnTracker::new(Tsn(1));
        feed(&mut t, &[2, 3, 5, 6]);
        t.on_tsn(Tsn(4));
        assert_eq!(t.gap_blocks(4), vec![(2, 6)]);
        t.on_tsn(Tsn(1));
        assert_eq!(t.cum_tsn(), Tsn(6));
        assert!(!t.has_gaps());
    }

    #[test]
    fn dups_keep_arrival_order_across_kinds() {
        let mut t = TsnTracker::new(Tsn(1));
        feed(&mut t, &[1, 2, 5]);
        feed(&mut t, &[5, 1, 5, 2]);
        assert_eq!(t.take_dups(10), vec![5, 1, 5, 2]);
    }

    #[test]
    fn new_tsns_are_not_dups() {
        let mut t = TsnTracker::new(Tsn(1));
        feed(&mut t, &[3, 1, 2, 4]);
        assert!(t.take_dups(10).is_empty());
    }

    #[test]
    fn gap_blocks_across_wrap_multiple() {
        let mut t = TsnTracker::new(Tsn(u32::MAX - 2));
        // cum = MAX - 3; received MAX - 1, 1, 2 and 5.
        feed(&mut t, &[u32::MAX - 1, 1, 2, 5]);
        assert_eq!(t.cum_tsn(), Tsn(u32::MAX - 3));
        assert_eq!(t.gap_blocks(8), vec![(2, 2), (5, 6), (9, 9)]);
        assert_eq!(t.highest_received(), Tsn(5));
    }

    #[test]
    fn far_ahead_within_half_is_new() {
        let mut t = TsnTracker::new(Tsn(0));
        let far = Tsn(u32::MAX) + ((1 << 31) - 1);
        assert_eq!(t.on_tsn(far), TsnStatus::New);
        assert!(t.is_received(far));
        assert_eq!(t.highest_received(), far);
        assert_eq!(t.cum_tsn(), Tsn(u32::MAX));
    }

    #[test]
    fn forward_cum_beyond_everything_clears_gaps() {
        let mut t = TsnTracker::new(Tsn(1));
        feed(&mut t, &[3, 5, 9]);
        t.forward_cum(Tsn(50));
        assert_eq!(t.cum_tsn(), Tsn(50));
        assert!(!t.has_gaps());
        assert_eq!(t.highest_received(), Tsn(50));
        assert!(t.is_received(Tsn(4)));
    }

    #[test]
    fn forward_cum_keeps_dups() {
        let mut t = TsnTracker::new(Tsn(1));
        feed(&mut t, &[1, 1]);
        t.forward_cum(Tsn(10));
        assert_eq!(t.take_dups(4), vec![1]);
    }

    #[test]
    fn forward_cum_to_just_below_run() {
        let mut t = TsnTracker::new(Tsn(1));
        feed(&mut t, &[4, 5, 8]);
        t.forward_cum(Tsn(2));
        assert_eq!(t.cum_tsn(), Tsn(2));
        assert_eq!(t.gap_blocks(4), vec![(2, 3), (6, 6)]);
    }

    #[test]
    fn long_run_across_many_wraps_of_offsets() {
        // Push well over 2^16 TSNs through, past the u32 wrap.
        let mut t = TsnTracker::new(Tsn(u32::MAX - 70_000));
        let mut x = Tsn(u32::MAX - 70_000);
        for _ in 0..140_000 {
            assert_eq!(t.on_tsn(x), TsnStatus::New);
            x = x.next();
        }
        assert_eq!(t.cum_tsn(), x.prev());
        assert!(!t.has_gaps());
    }
}
