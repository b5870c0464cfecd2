//! Time-based loss detection (RACK, RFC 8985 §6, adapted to SCTP's TSNs
//! and gap blocks): a chunk is lost once a chunk sent after it has been
//! acknowledged and a reordering window has passed since that later
//! chunk's round trip would have brought it too. Unlike the three miss
//! indications of RFC 9260 §7.2.4 (kept: whichever comes first marks), it
//! needs no later packets beyond one, so a loss among the last packets of a
//! window, or of a retransmission, is found without waiting for T3-rtx.
//! RFC 9260 §7.2.4 leaves the loss detection method open beyond its
//! minimum ("fast retransmit on at least three miss indications"); the
//! reaction (one window reduction per recovery, §7.2.3) stays the RFC's.

use std::time::{Duration, Instant};

use super::outstanding::{Outstanding, Sent};
use crate::proto::assoc::path::Path;
use crate::proto::serial::Tsn;

/// Floor of the reordering window: on the in-engine loopback path the
/// RTT is a few microseconds, and a chunk overtaken by less than this is
/// not lost. (It was 1 ms while the engine's timers had milliseconds: on
/// loopback UDP, 64 KiB packets and a 100 us RTT, each loss then stalled
/// a window-limited sender for that millisecond.)
const MIN_REO_WND: Duration = Duration::from_micros(50);

/// RACK's state: the most recently sent chunk known delivered.
#[derive(Clone, Copy, Debug, Default)]
pub struct Rack {
    /// When it was (last) sent, and its TSN (ties within one packet).
    xmit: Option<(Instant, Tsn)>,
    /// Its round trip.
    rtt: Duration,
    /// The smallest round trip seen (the reordering window is a quarter).
    min_rtt: Option<Duration>,
}

impl Rack {
    /// A chunk was newly acknowledged at `now`.
    pub fn on_delivered(&mut self, s: &Sent, now: Instant) {
        let rtt = now.saturating_duration_since(s.sent_at);
        // An ack of a retransmitted chunk that comes sooner than any round
        // trip could is for an earlier transmission (RFC 8985 §6.2 step 2).
        if s.transmissions > 1 && self.min_rtt.is_some_and(|m| rtt < m) {
            return;
        }
        if s.transmissions == 1 {
            self.min_rtt = Some(self.min_rtt.map_or(rtt, |m| m.min(rtt)));
        }
        let key = (s.sent_at, Tsn(s.chunk.tsn));
        let newer = self
            .xmit
            .is_none_or(|(t, tsn)| key.0 > t || (key.0 == t && key.1.gt(tsn)));
        if newer {
            self.xmit = Some(key);
            self.rtt = rtt;
        }
    }

    fn reo_wnd(&self) -> Duration {
        self.min_rtt
            .map_or(MIN_REO_WND, |m| (m / 4).max(MIN_REO_WND))
    }

    /// When `s`, unacknowledged, counts as lost, if a later chunk arrived.
    fn deadline(&self, s: &Sent) -> Option<Instant> {
        let (t, tsn) = self.xmit?;
        let before = s.sent_at < t || (s.sent_at == t && Tsn(s.chunk.tsn).lt(tsn));
        before.then(|| s.sent_at + self.rtt + self.reo_wnd())
    }
}

impl Outstanding {
    /// Marks for fast retransmission every outstanding chunk RACK finds
    /// lost at `now`; returns the paths they were sent on, and when the
    /// next chunk would be found lost if nothing arrives (the reordering
    /// timer).
    pub fn rack_detect(
        &mut self,
        now: Instant,
        paths: &mut [Path],
    ) -> (Vec<usize>, Option<Instant>) {
        let rack = self.rack;
        let mut lost = Vec::new();
        let mut next: Option<Instant> = None;
        for s in self.chunks_mut() {
            if s.gap_acked || s.marked {
                continue;
            }
            let Some(d) = rack.deadline(s) else {
                continue;
            };
            if d <= now {
                s.marked = true;
                s.fast = true;
                lost.push((s.path, s.chunk.payload.len(), s.in_flight));
                s.in_flight = false;
            } else {
                next = Some(next.map_or(d, |n: Instant| n.min(d)));
            }
        }
        self.count_marked(lost.len());
        let mut out = Vec::new();
        for (p, len, in_flight) in lost {
            if in_flight {
                self.take_from_flight(p, len, paths);
            }
            out.push(p);
        }
        out.sort_unstable();
        out.dedup();
        (out, next)
    }
}
