//! A timer index: the next deadline of each of many timers (an
//! association's, an endpoint's) in one heap, so the earliest and the due
//! ones are found without asking every owner. The endpoint keeps its
//! associations' deadlines in one; the engine its endpoints'.
//!
//! Entries are replaced rather than updated: a changed deadline pushes a
//! new entry and the old one is skipped when it surfaces; the heap is
//! rebuilt once stale entries outnumber live ones.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::Hash;
use std::time::Instant;

#[derive(Debug)]
pub struct Deadlines<K> {
    /// (deadline, key), stale entries included: an entry counts only while
    /// it equals `due[key]`.
    heap: BinaryHeap<Reverse<(Instant, K)>>,
    due: HashMap<K, Instant>,
}

impl<K> Default for Deadlines<K> {
    fn default() -> Self {
        Deadlines {
            heap: BinaryHeap::new(),
            due: HashMap::new(),
        }
    }
}

impl<K: Copy + Ord + Hash> Deadlines<K> {
    /// `key`'s next deadline is `at` (None: none, or gone).
    pub fn set(&mut self, key: K, at: Option<Instant>) {
        match at {
            Some(t) if self.due.get(&key) != Some(&t) => {
                self.due.insert(key, t);
                self.heap.push(Reverse((t, key)));
            }
            Some(_) => {}
            None => {
                self.due.remove(&key);
            }
        }
        if self.heap.len() > 2 * self.due.len() + 64 {
            self.heap = self.due.iter().map(|(&k, &t)| Reverse((t, k))).collect();
        }
    }

    /// The earliest deadline and its key.
    pub fn earliest(&mut self) -> Option<(Instant, K)> {
        while let Some(&Reverse((t, key))) = self.heap.peek() {
            if self.due.get(&key) == Some(&t) {
                return Some((t, key));
            }
            self.heap.pop();
        }
        None
    }

    /// The keys whose deadline is `now` or earlier, earliest first; they
    /// are taken out until set again.
    pub fn take_due(&mut self, now: Instant) -> Vec<K> {
        let mut keys = Vec::new();
        while let Some((_, key)) = self.earliest().filter(|&(t, _)| t <= now) {
            self.heap.pop();
            self.due.remove(&key);
            keys.push(key);
        }
        keys
    }

    /// Whether stale entries are kept in check (for tests).
    pub fn is_compact(&self) -> bool {
        self.heap.len() <= 2 * self.due.len() + 64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn due_ports_come_out_in_order_and_stale_entries_are_skipped() {
        #[allow(clippy::disallowed_methods)] // a test: no time passes
        let t0 = Instant::now();
        let s = |ms| t0 + Duration::from_millis(ms);
        let mut d: Deadlines<u16> = Deadlines::default();
        d.set(1, Some(s(30)));
        d.set(2, Some(s(10)));
        d.set(3, Some(s(20)));
        // Moved later, then gone: the old entries no longer count.
        d.set(2, Some(s(50)));
        d.set(3, None);
        assert_eq!(d.earliest(), Some((s(30), 1)));
        assert_eq!(d.take_due(s(40)), vec![1]);
        assert_eq!(d.earliest(), Some((s(50), 2)));
        assert!(d.take_due(s(40)).is_empty());
        // Taken out until set again.
        assert_eq!(d.take_due(s(60)), vec![2]);
        assert_eq!(d.earliest(), None);
        d.set(2, Some(s(70)));
        assert_eq!(d.take_due(s(70)), vec![2]);
    }

    #[test]
    fn stale_entries_do_not_pile_up() {
        #[allow(clippy::disallowed_methods)] // a test: no time passes
        let t0 = Instant::now();
        let mut d: Deadlines<u16> = Deadlines::default();
        for i in 0..10_000u64 {
            d.set(7, Some(t0 + Duration::from_micros(i)));
        }
        assert!(d.is_compact());
        assert_eq!(d.earliest(), Some((t0 + Duration::from_micros(9_999), 7)));
    }
}
