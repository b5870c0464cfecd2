//! The engine's timer index: each endpoint's next deadline in one heap, so
//! that a turn and the event loop's wait find the due endpoints without
//! asking every endpoint (with an endpoint per socket and hundreds of
//! sockets, asking each one cost most of every turn).
//!
//! A turn refreshes the deadline of every endpoint it looked at; a sweep
//! (after any application call that may change timers) looks at all.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::Instant;

#[derive(Debug, Default)]
pub(super) struct Deadlines {
    /// (deadline, port), stale entries included: an entry counts only while
    /// it equals `due[port]`.
    heap: BinaryHeap<Reverse<(Instant, u16)>>,
    due: HashMap<u16, Instant>,
}

impl Deadlines {
    /// Endpoint `port`'s next deadline is `at` (None: none, or gone).
    pub(super) fn set(&mut self, port: u16, at: Option<Instant>) {
        match at {
            Some(t) if self.due.get(&port) != Some(&t) => {
                self.due.insert(port, t);
                self.heap.push(Reverse((t, port)));
            }
            Some(_) => {}
            None => {
                self.due.remove(&port);
            }
        }
        if self.heap.len() > 2 * self.due.len() + 64 {
            self.heap = self.due.iter().map(|(&p, &t)| Reverse((t, p))).collect();
        }
    }

    /// The earliest deadline of any endpoint.
    pub(super) fn next(&mut self) -> Option<Instant> {
        while let Some(&Reverse((t, port))) = self.heap.peek() {
            if self.due.get(&port) == Some(&t) {
                return Some(t);
            }
            self.heap.pop();
        }
        None
    }

    /// The endpoints whose deadline is `now` or earlier; they are taken out
    /// until their turn sets them again.
    pub(super) fn take_due(&mut self, now: Instant) -> Vec<u16> {
        let mut ports = Vec::new();
        while let Some(t) = self.next().filter(|&t| t <= now) {
            let Some(Reverse((_, port))) = self.heap.pop() else {
                break;
            };
            self.due.remove(&port);
            ports.push(port);
            debug_assert!(t <= now);
        }
        ports
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn due_ports_come_out_in_order_and_stale_entries_are_skipped() {
        let t0 = crate::runtime::engine::now();
        let s = |ms| t0 + Duration::from_millis(ms);
        let mut d = Deadlines::default();
        d.set(1, Some(s(30)));
        d.set(2, Some(s(10)));
        d.set(3, Some(s(20)));
        // Moved later, then gone: the old entries no longer count.
        d.set(2, Some(s(50)));
        d.set(3, None);
        assert_eq!(d.next(), Some(s(30)));
        assert_eq!(d.take_due(s(40)), vec![1]);
        assert_eq!(d.next(), Some(s(50)));
        assert!(d.take_due(s(40)).is_empty());
        // Taken out until set again.
        assert_eq!(d.take_due(s(60)), vec![2]);
        assert_eq!(d.next(), None);
        d.set(2, Some(s(70)));
        assert_eq!(d.take_due(s(70)), vec![2]);
    }

    #[test]
    fn stale_entries_do_not_pile_up() {
        let t0 = crate::runtime::engine::now();
        let mut d = Deadlines::default();
        for i in 0..10_000u64 {
            d.set(7, Some(t0 + Duration::from_micros(i)));
        }
        assert!(d.heap.len() <= 2 * d.due.len() + 64);
        assert_eq!(d.next(), Some(t0 + Duration::from_micros(9_999)));
    }
}
