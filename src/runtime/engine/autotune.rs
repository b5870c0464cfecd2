//! Receive buffer auto-tuning for one-to-one sockets whose application
//! did not set SO_RCVBUF, after Linux TCP's dynamic right-sizing
//! (tcp_rcv_space_adjust): the window must cover what the application
//! reads in a round trip, and SO_RCVBUF's default (212,992 bytes, as
//! Linux answers) held a sender on a fast path to a fraction of what the
//! reader took. Once per interval (the smoothed RTT, at least 1 ms) the
//! buffer becomes at least twice what the application read in it, up to
//! `AUTO_BUF_MAX`; it never shrinks. A reader that does not keep up
//! never grows it, so memory follows the reader's pace. getsockopt still
//! answers the size the application would see on Linux (the pair's).
//! The send side follows the congestion window (`Association::sndbuf`).

use std::time::{Duration, Instant};

use crate::proto::config::AUTO_BUF_MAX;

/// Shortest measuring interval: on loopback and veth paths the RTT is tens
/// of microseconds, while a round of the pipeline (engine, pair, reader)
/// takes hundreds.
const MIN_INTERVAL: Duration = Duration::from_millis(1);

/// One socket's measurement.
#[derive(Debug)]
pub(super) struct RxAuto {
    since: Instant,
    read_then: u64,
    /// The receive buffer as tuned so far.
    buf: usize,
}

impl RxAuto {
    pub fn new(now: Instant, read: u64, buf: usize) -> RxAuto {
        RxAuto {
            since: now,
            read_then: read,
            buf,
        }
    }

    /// The application had read `read` bytes in all at `now`, on a path of
    /// smoothed RTT `srtt`: the buffer, grown when an interval ended with
    /// more than half of it read.
    pub fn observe(&mut self, now: Instant, read: u64, srtt: Option<Duration>) -> usize {
        let interval = srtt.unwrap_or_default().max(MIN_INTERVAL);
        if now.saturating_duration_since(self.since) >= interval {
            let took = read.saturating_sub(self.read_then) as usize;
            self.buf = self.buf.max(took.saturating_mul(2).min(AUTO_BUF_MAX));
            self.since = now;
            self.read_then = read;
        }
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_to_twice_what_is_read_per_interval_and_never_shrinks() {
        let t0 = super::super::now();
        let mut a = RxAuto::new(t0, 0, 212_992);
        let ms = Duration::from_millis(1);
        // Within an interval nothing changes.
        assert_eq!(a.observe(t0 + ms / 2, 900_000, None), 212_992);
        // 900 KB read in the first millisecond: 1.8 MB.
        assert_eq!(a.observe(t0 + ms, 900_000, None), 1_800_000);
        // A slow interval does not shrink it.
        assert_eq!(a.observe(t0 + 2 * ms, 900_100, None), 1_800_000);
        // Never past the maximum.
        assert_eq!(a.observe(t0 + 3 * ms, 10_000_000, None), AUTO_BUF_MAX);
        // A long RTT is the interval.
        let mut b = RxAuto::new(t0, 0, 212_992);
        let rtt = Some(Duration::from_millis(50));
        assert_eq!(b.observe(t0 + 10 * ms, 1_000_000, rtt), 212_992);
        assert_eq!(b.observe(t0 + 50 * ms, 1_000_000, rtt), 2_000_000);
    }

    #[test]
    fn a_reader_that_keeps_below_half_the_buffer_never_grows_it() {
        let t0 = super::super::now();
        let mut a = RxAuto::new(t0, 0, 212_992);
        let mut read = 0;
        for i in 1..1000 {
            read += 100_000;
            assert_eq!(
                a.observe(t0 + Duration::from_millis(i), read, None),
                212_992
            );
        }
    }
}
