//! Path heartbeats (§8.3): probe idle paths, measure their RTT and detect
//! unreachable ones.

use std::time::{Duration, Instant};

use super::Association;
use super::path::Probe;
use crate::proto::wire::{Chunk, Heartbeat};

impl Association {
    /// Arms the heartbeat timer of every path; unconfirmed ones are
    /// probed at once (§5.4).
    pub(super) fn start_heartbeats(&mut self, now: Instant) {
        for p in &mut self.paths {
            if !p.confirmed {
                p.hb_due = Some(now);
            } else if let Some(iv) = p.params.hb() {
                p.hb_due = Some(now + iv + p.rto.rto());
            }
        }
    }

    /// Queues a HEARTBEAT on path `i` (a fresh nonce in its info).
    pub(super) fn send_heartbeat(&mut self, now: Instant, i: usize) {
        let nonce = u64::from(self.rng.u32()) << 32 | u64::from(self.rng.u32());
        let mut info = Vec::with_capacity(12);
        info.extend_from_slice(&(i as u32).to_be_bytes());
        info.extend_from_slice(&nonce.to_be_bytes());
        self.paths[i].probe = Some(Probe { nonce, sent: now });
        self.control.queue.push_back((
            Some(i),
            Chunk::Heartbeat(Heartbeat {
                info,
                extra: vec![],
            }),
        ));
    }

    /// An unconfirmed path's timer: a probe every RTO (backed off while
    /// unanswered), heartbeats on or off, as Linux's sctp_transport_timeout.
    /// Its failures count against the path only, and no event tells of
    /// them (sctp_do_8_2_transport_strike, sctp_assoc_control_transport).
    fn probe_unconfirmed(&mut self, now: Instant, i: usize) {
        if !self.is_established() {
            self.paths[i].hb_due = None;
            return;
        }
        let p = &mut self.paths[i];
        if p.probe.take().is_some() {
            p.rto.back_off();
            p.error_count = p.error_count.saturating_add(1);
        }
        self.send_heartbeat(now, i);
        let p = &mut self.paths[i];
        p.hb_due = Some(now + p.rto.rto());
    }

    /// Heartbeat timer of path `i`: count an unanswered probe, send a new one.
    pub(super) fn on_heartbeat_timer(&mut self, now: Instant, i: usize) {
        if !self.paths[i].confirmed {
            self.probe_unconfirmed(now, i);
            return;
        }
        let Some(iv) = self.paths[i].params.hb() else {
            self.paths[i].hb_due = None;
            return;
        };
        if !self.is_established() {
            self.paths[i].hb_due = None;
            return;
        }
        if self.paths[i].probe.take().is_some() {
            self.paths[i].rto.back_off();
            if self.count_path_error(now, i) {
                return;
            }
        }
        // Only idle paths need probing: recent data proves the path already.
        let busy = self.paths[i]
            .last_data_sent
            .is_some_and(|t| now.saturating_duration_since(t) < iv);
        if !busy || self.paths[i].pf {
            self.send_heartbeat(now, i);
        }
        let p = &mut self.paths[i];
        // Jitter of ±50% of the RTO, as §8.3 asks, from the nonce stream.
        let jitter =
            Duration::from_micros(u64::from(self.rng.u32()) % (p.rto.rto().as_micros() as u64 + 1));
        // A potentially failed path is probed every RTO (RFC 7829 §5.1).
        let iv = if p.pf { Duration::ZERO } else { iv };
        p.hb_due = Some(now + iv + p.rto.rto() / 2 + jitter);
    }

    /// HEARTBEAT ACK: a matching nonce confirms the path and gives an RTT.
    pub(super) fn on_heartbeat_ack(&mut self, now: Instant, _from: usize, hb: &Heartbeat) {
        let (Some(idx), Some(nonce)) = (
            hb.info
                .get(0..4)
                .and_then(|b| b.try_into().ok())
                .map(u32::from_be_bytes),
            hb.info
                .get(4..12)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_be_bytes),
        ) else {
            return;
        };
        let i = idx as usize;
        if hb.info.get(12) == Some(&b'P') {
            // A PLPMTUD probe (plpmtud.rs), not a path heartbeat.
            self.pl_on_ack(now, i, nonce);
            return;
        }
        let Some(p) = self.paths.get_mut(i) else {
            return;
        };
        if p.probe.is_some_and(|pr| pr.nonce == nonce) {
            let sent = p.probe.take().map(|pr| pr.sent).unwrap_or(now);
            p.rto.on_rtt(now.saturating_duration_since(sent));
            if !p.confirmed {
                self.confirm_path(i);
                // From now on an idle path's heartbeats (if on).
                let p = &mut self.paths[i];
                p.hb_due = p.params.hb().map(|iv| now + iv + p.rto.rto());
                return;
            }
            // (The nonce shows the HEARTBEAT went to path `i`.)
            self.path_heard(i, true);
        }
    }
}
