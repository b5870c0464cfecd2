//! A set of `u64` values stored as disjoint inclusive ranges.
//!
//! Receivers see long contiguous runs of TSNs with a few holes, so storing
//! runs rather than individual values keeps 64k outstanding TSNs to a
//! handful of map entries, and answers "is this whole span present?" in
//! O(log n).

use std::collections::BTreeMap;

/// Disjoint, non-adjacent inclusive ranges keyed by their start.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RangeSet {
    // start -> end (inclusive). Invariant: ranges neither overlap nor touch,
    // so each maximal run is exactly one entry.
    map: BTreeMap<u64, u64>,
}

impl RangeSet {
    /// An empty set.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// True if no value is stored.
    pub(crate) fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Number of maximal runs.
    #[cfg(test)]
    pub(crate) fn run_count(&self) -> usize {
        self.map.len()
    }

    /// The maximal run containing `v`, if any.
    pub(crate) fn containing(&self, v: u64) -> Option<(u64, u64)> {
        let (&s, &e) = self.map.range(..=v).next_back()?;
        (v <= e).then_some((s, e))
    }

    /// True if `v` is stored.
    pub(crate) fn contains(&self, v: u64) -> bool {
        self.containing(v).is_some()
    }

    /// Adds `v`, merging with neighbouring runs; false if already present.
    pub(crate) fn insert(&mut self, v: u64) -> bool {
        let mut start = v;
        let mut end = v;
        if let Some((&s, &e)) = self.map.range(..=v).next_back() {
            if v <= e {
                return false;
            }
            if e.checked_add(1) == Some(v) {
                start = s;
            }
        }
        if let Some(next) = v.checked_add(1)
            && let Some(e) = self.map.remove(&next)
        {
            end = e;
        }
        self.map.insert(start, end);
        true
    }

    /// Removes every value in `lo..=hi`, splitting runs as needed.
    pub(crate) fn remove_span(&mut self, lo: u64, hi: u64) {
        if lo > hi {
            return;
        }
        let hit: Vec<(u64, u64)> = self
            .map
            .range(..=hi)
            .rev()
            .take_while(|&(_, &e)| e >= lo)
            .map(|(&s, &e)| (s, e))
            .collect();
        for (s, e) in hit {
            self.map.remove(&s);
            if s < lo {
                self.map.insert(s, lo - 1);
            }
            if e > hi {
                self.map.insert(hi + 1, e);
            }
        }
    }

    /// Removes every value `<= v`.
    pub(crate) fn remove_through(&mut self, v: u64) {
        if let Some((&s, _)) = self.map.first_key_value() {
            self.remove_span(s, v);
        }
    }

    /// The lowest run.
    pub(crate) fn first(&self) -> Option<(u64, u64)> {
        self.map.first_key_value().map(|(&s, &e)| (s, e))
    }

    /// The highest run.
    pub(crate) fn last(&self) -> Option<(u64, u64)> {
        self.map.last_key_value().map(|(&s, &e)| (s, e))
    }

    /// Removes and returns the lowest run.
    pub(crate) fn pop_first(&mut self) -> Option<(u64, u64)> {
        self.map.pop_first()
    }

    /// Runs in ascending order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.map.iter().map(|(&s, &e)| (s, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(r: &RangeSet) -> Vec<(u64, u64)> {
        r.iter().collect()
    }

    #[test]
    fn insert_merges_neighbours() {
        let mut r = RangeSet::new();
        assert!(r.insert(5));
        assert!(r.insert(7));
        assert_eq!(runs(&r), vec![(5, 5), (7, 7)]);
        assert!(r.insert(6));
        assert_eq!(runs(&r), vec![(5, 7)]);
        assert!(r.insert(4));
        assert!(r.insert(8));
        assert_eq!(runs(&r), vec![(4, 8)]);
        assert_eq!(r.run_count(), 1);
    }

    #[test]
    fn insert_rejects_present() {
        let mut r = RangeSet::new();
        r.insert(1);
        r.insert(2);
        assert!(!r.insert(1));
        assert!(!r.insert(2));
        assert_eq!(runs(&r), vec![(1, 2)]);
    }

    #[test]
    fn extremes_do_not_overflow() {
        let mut r = RangeSet::new();
        assert!(r.insert(u64::MAX));
        assert!(r.insert(u64::MAX - 1));
        assert!(r.insert(0));
        assert_eq!(runs(&r), vec![(0, 0), (u64::MAX - 1, u64::MAX)]);
        r.remove_span(0, u64::MAX);
        assert!(r.is_empty());
    }

    #[test]
    fn containing_finds_run() {
        let mut r = RangeSet::new();
        for v in [10, 11, 12, 20] {
            r.insert(v);
        }
        assert_eq!(r.containing(11), Some((10, 12)));
        assert_eq!(r.containing(13), None);
        assert_eq!(r.containing(20), Some((20, 20)));
        assert!(!r.contains(9));
        assert!(r.contains(12));
    }

    #[test]
    fn remove_span_splits() {
        let mut r = RangeSet::new();
        for v in 1..=10 {
            r.insert(v);
        }
        r.remove_span(4, 6);
        assert_eq!(runs(&r), vec![(1, 3), (7, 10)]);
        r.remove_span(3, 7);
        assert_eq!(runs(&r), vec![(1, 2), (8, 10)]);
        r.remove_span(0, 100);
        assert!(r.is_empty());
    }

    #[test]
    fn remove_span_inverted_is_noop() {
        let mut r = RangeSet::new();
        r.insert(3);
        r.remove_span(5, 1);
        assert_eq!(runs(&r), vec![(3, 3)]);
    }

    #[test]
    fn remove_through_drops_low_part() {
        let mut r = RangeSet::new();
        for v in [1, 2, 3, 5, 6, 9] {
            r.insert(v);
        }
        r.remove_through(5);
        assert_eq!(runs(&r), vec![(6, 6), (9, 9)]);
        r.remove_through(100);
        assert!(r.is_empty());
        r.remove_through(100);
    }

    #[test]
    fn first_last_pop() {
        let mut r = RangeSet::new();
        assert_eq!(r.first(), None);
        for v in [4, 5, 8] {
            r.insert(v);
        }
        assert_eq!(r.first(), Some((4, 5)));
        assert_eq!(r.last(), Some((8, 8)));
        assert_eq!(r.pop_first(), Some((4, 5)));
        assert_eq!(r.first(), Some((8, 8)));
    }

    #[test]
    fn dense_insert_is_one_run() {
        let mut r = RangeSet::new();
        // Odd values first, then even: worst case for merging.
        for v in (0..70_000u64).filter(|v| v % 2 == 1) {
            r.insert(v);
        }
        assert_eq!(r.run_count(), 35_000);
        for v in (0..70_000u64).filter(|v| v % 2 == 0) {
            r.insert(v);
        }
        assert_eq!(runs(&r), vec![(0, 69_999)]);
    }
}
