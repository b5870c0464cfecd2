//! Mapping of wrapping 32-bit TSNs onto a monotonic 64-bit line.
//!
//! Ordered containers (`BTreeMap`, range sets) cannot key on a wrapping
//! value, because serial order is not a total order. Within the live window
//! of an association every TSN is less than 2^31 away from the most recent
//! one, so it has exactly one 64-bit value nearest to that anchor, and those
//! values sort correctly across any number of 2^32 wraps.

use crate::proto::serial::Tsn;

/// Unwrapped values start this high so that stepping back from the very
/// first anchor (e.g. `initial_tsn - 1` with `initial_tsn == 0`) never
/// underflows.
const BASE: u64 = 1 << 32;

/// Half the 32-bit serial space: the RFC 1982 comparison horizon.
const HALF: u32 = 1 << 31;

/// Maps a [`Tsn`] to the 64-bit value closest to an anchor that only moves
/// forward.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TsnUnwrapper {
    last: u64,
}

impl TsnUnwrapper {
    /// Anchors the unwrapper at `anchor`.
    pub fn new(anchor: Tsn) -> Self {
        Self {
            last: BASE + u64::from(anchor.0),
        }
    }

    /// The current anchor as an unwrapped value.
    pub fn last(&self) -> u64 {
        self.last
    }

    /// The unwrapped value of `tsn` nearest to the anchor, without moving it.
    ///
    /// A TSN exactly 2^31 away is ambiguous under RFC 1982; it maps backwards
    /// so that callers treat it as old rather than as new data.
    pub fn peek(&self, tsn: Tsn) -> u64 {
        // Truncation is the point: only the low 32 bits carry serial meaning.
        let d = tsn.0.wrapping_sub(self.last as u32);
        if d < HALF {
            self.last.saturating_add(u64::from(d))
        } else {
            self.last.saturating_sub(u64::from(d.wrapping_neg()))
        }
    }

    /// Like [`peek`](Self::peek), and moves the anchor forward to the result
    /// if it is ahead, so that a stream of increasing TSNs keeps resolving.
    pub fn unwrap(&mut self, tsn: Tsn) -> u64 {
        let v = self.peek(tsn);
        self.advance_to(v);
        v
    }

    /// Moves the anchor forward to `v`; never moves it back, because old
    /// (duplicate) TSNs must not drag the window behind live data.
    pub fn advance_to(&mut self, v: u64) {
        if v > self.last {
            self.last = v;
        }
    }

    /// The 32-bit TSN of an unwrapped value.
    pub fn wrap(v: u64) -> Tsn {
        Tsn(v as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchor_maps_to_itself() {
        let u = TsnUnwrapper::new(Tsn(7));
        assert_eq!(u.peek(Tsn(7)), u.last());
        assert_eq!(TsnUnwrapper::wrap(u.last()), Tsn(7));
    }

    #[test]
    fn forward_and_backward_are_relative_to_anchor() {
        let u = TsnUnwrapper::new(Tsn(100));
        assert_eq!(u.peek(Tsn(101)), u.last() + 1);
        assert_eq!(u.peek(Tsn(99)), u.last() - 1);
        assert_eq!(u.peek(Tsn(100 + 1000)), u.last() + 1000);
    }

    #[test]
    fn crosses_the_wrap_forward() {
        let mut u = TsnUnwrapper::new(Tsn(u32::MAX - 1));
        let a = u.unwrap(Tsn(u32::MAX));
        let b = u.unwrap(Tsn(0));
        let c = u.unwrap(Tsn(1));
        assert_eq!(b, a + 1);
        assert_eq!(c, a + 2);
        assert_eq!(TsnUnwrapper::wrap(c), Tsn(1));
    }

    #[test]
    fn crosses_the_wrap_backward() {
        let u = TsnUnwrapper::new(Tsn(0));
        assert_eq!(u.peek(Tsn(u32::MAX)), u.last() - 1);
        assert_eq!(u.peek(Tsn(u32::MAX - 9)), u.last() - 10);
    }

    #[test]
    fn no_underflow_behind_first_anchor() {
        let u = TsnUnwrapper::new(Tsn(0));
        // Farthest backward value: exactly half the space behind.
        assert_eq!(u.peek(Tsn(HALF)), u.last() - u64::from(HALF));
        assert!(u.peek(Tsn(HALF)) > 0);
    }

    #[test]
    fn half_space_is_treated_as_old() {
        let u = TsnUnwrapper::new(Tsn(10));
        assert!(u.peek(Tsn(10u32.wrapping_add(HALF))) < u.last());
        assert!(u.peek(Tsn(10u32.wrapping_add(HALF - 1))) > u.last());
    }

    #[test]
    fn anchor_never_moves_back() {
        let mut u = TsnUnwrapper::new(Tsn(50));
        let start = u.last();
        assert_eq!(u.unwrap(Tsn(40)), start - 10);
        assert_eq!(u.last(), start);
        u.advance_to(start - 5);
        assert_eq!(u.last(), start);
        u.advance_to(start + 5);
        assert_eq!(u.last(), start + 5);
    }

    #[test]
    fn survives_many_wraps() {
        let mut u = TsnUnwrapper::new(Tsn(0));
        let start = u.last();
        let mut t = Tsn(0);
        // Stride under the horizon so every step resolves forward.
        for _ in 0..20 {
            t = t + 0x4000_0000;
            u.unwrap(t);
        }
        assert_eq!(u.last(), start + 20 * 0x4000_0000);
        assert_eq!(TsnUnwrapper::wrap(u.last()), t);
    }

    #[test]
    fn order_agrees_with_serial_comparison() {
        let mut x: u32 = 0x1234_5678;
        for _ in 0..1000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let anchor = Tsn(x);
            let u = TsnUnwrapper::new(anchor);
            let other = Tsn(x.rotate_left(7));
            if other.since(anchor) == HALF {
                continue;
            }
            assert_eq!(u.peek(other) > u.last(), other.gt(anchor));
            assert_eq!(u.peek(other) < u.last(), other.lt(anchor));
            assert_eq!(TsnUnwrapper::wrap(u.peek(other)), other);
        }
    }

    #[test]
    fn peek_does_not_move_anchor() {
        let u = TsnUnwrapper::new(Tsn(3));
        let before = u.last();
        let _ = u.peek(Tsn(1_000_000));
        assert_eq!(u.last(), before);
    }

    #[test]
    fn wrap_roundtrips_every_peek() {
        let u = TsnUnwrapper::new(Tsn(0x8000_0000));
        for x in [0u32, 1, 0x7FFF_FFFF, 0x8000_0000, 0x8000_0001, u32::MAX] {
            assert_eq!(TsnUnwrapper::wrap(u.peek(Tsn(x))), Tsn(x));
        }
    }

    #[test]
    fn unwrap_returns_increasing_values_for_increasing_tsns() {
        let mut u = TsnUnwrapper::new(Tsn(u32::MAX - 3));
        let mut prev = u.last();
        let mut t = Tsn(u32::MAX - 3);
        for _ in 0..10 {
            t = t.next();
            let v = u.unwrap(t);
            assert_eq!(v, prev + 1);
            prev = v;
        }
    }
}
