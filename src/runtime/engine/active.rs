//! How many associations of a socket have received lately: the number its
//! free receive space is divided by (`State::share_rcvbuf`). Linux gives
//! every association of a one-to-many socket a window of the whole buffer
//! (rcvbuf_policy 0) and drops what overflows it; with thousands of
//! associations sending at once that is thousands of buffers let in
//! flight, most of it dropped and sent again after T3-rtx. Dividing by the
//! associations told in one engine turn is not enough either: the others,
//! told in earlier turns, still hold their shares.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::proto::assoc::AssocId;

/// How long an association counts as active after it last received.
const PERIOD: Duration = Duration::from_millis(100);

/// The associations seen in the current period and in the one before.
#[derive(Debug, Default)]
pub struct Active {
    /// The period each association was last seen receiving in, and the
    /// bytes it had received then.
    seen: HashMap<AssocId, (u32, u64)>,
    period: u32,
    started: Option<Instant>,
    now: usize,
    before: usize,
}

impl Active {
    /// Association `aid` had received `received` bytes in all at `t`
    /// (it counts if that grew since it was last looked at).
    pub fn saw(&mut self, aid: AssocId, t: Instant, received: u64) {
        let since = self.started.map(|s| t.saturating_duration_since(s));
        if since.is_none_or(|d| d >= PERIOD) {
            // (After a period with nobody seen, the one before counts none.)
            self.before = if since.is_some_and(|d| d >= 2 * PERIOD) {
                0
            } else {
                self.now
            };
            self.now = 0;
            self.period = self.period.wrapping_add(1);
            self.started = Some(t);
        }
        let last = self.seen.get(&aid).copied();
        if last.is_some_and(|(_, r)| r == received) {
            return;
        }
        self.seen.insert(aid, (self.period, received));
        if last.is_none_or(|(p, _)| p != self.period) {
            self.now += 1;
        }
    }

    /// Association `aid` left the socket.
    pub fn forget(&mut self, aid: AssocId) {
        self.seen.remove(&aid);
    }

    /// Associations active lately (at least 1).
    pub fn count(&self) -> usize {
        self.now.max(self.before).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_associations_of_the_last_two_periods() {
        let t = crate::runtime::engine::now();
        let mut a = Active::default();
        assert_eq!(a.count(), 1);
        for i in 0..10 {
            a.saw(i, t, 100);
            a.saw(i, t + Duration::from_millis(1), 200);
        }
        assert_eq!(a.count(), 10);
        // The next period: two receive, the others are only looked at
        // (a sweep), and the ten still count.
        for i in 0..10 {
            a.saw(i, t + PERIOD, if i < 2 { 300 } else { 200 });
        }
        assert_eq!(a.count(), 10);
        // Two periods on only those two are left.
        a.saw(1, t + PERIOD * 2, 400);
        a.saw(0, t + PERIOD * 2, 400);
        a.saw(5, t + PERIOD * 2, 200);
        assert_eq!(a.count(), 2);
        a.forget(1);
        a.saw(1, t + PERIOD * 2, 500);
        assert_eq!(a.count(), 3, "forgotten, then seen again: counted again");
        // A quiet spell: only what comes after it counts.
        a.saw(3, t + PERIOD * 5, 300);
        assert_eq!(a.count(), 1);
    }
}
