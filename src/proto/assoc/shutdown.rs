//! Graceful shutdown (§9.2).

use std::time::Instant;

use super::{AssocEvent, Association, CloseReason, State};
use crate::proto::serial::Tsn;
use crate::proto::wire::{Chunk, Shutdown, ShutdownComplete};

impl Association {
    /// Everything we sent is acknowledged: move a pending shutdown along.
    pub(super) fn on_all_acked(&mut self, now: Instant) {
        if !self.queue.is_empty() {
            return;
        }
        match self.state {
            State::ShutdownPending => self.maybe_send_shutdown(now),
            State::ShutdownReceived => self.send_shutdown_ack(now),
            _ => {}
        }
    }

    /// In SHUTDOWN-PENDING with nothing outstanding: send SHUTDOWN, start T2.
    pub(super) fn maybe_send_shutdown(&mut self, now: Instant) {
        if matches!(self.state, State::ShutdownPending) && self.all_data_acked() {
            self.state = State::ShutdownSent;
            self.queue_shutdown();
            self.t2 = Some(now + self.rto());
            self.t2_retries = 0;
        }
    }

    fn queue_shutdown(&mut self) {
        self.control
            .queue
            .retain(|(_, c)| !matches!(c, Chunk::Shutdown(_)));
        let s = Shutdown {
            cum_tsn_ack: self.rx.tracker.cum_tsn().0,
        };
        self.control.queue.push_back((None, Chunk::Shutdown(s)));
        // The SHUTDOWN carries the cumulative ack; a separate SACK is moot.
        self.rx.sack_pending = false;
        self.rx.sack_now = false;
        self.rx.sack_timer = None;
    }

    fn send_shutdown_ack(&mut self, now: Instant) {
        self.state = State::ShutdownAckSent;
        self.control.queue.push_back((None, Chunk::ShutdownAck));
        self.t2 = Some(now + self.rto());
        self.t2_retries = 0;
    }

    /// SHUTDOWN from the peer.
    /// A SHUTDOWN that came over path `from`.
    pub(super) fn on_shutdown(&mut self, now: Instant, from: usize, s: &Shutdown) {
        // SHUTDOWN-RECEIVED first (§9.2): what the cumulative ack completes
        // is then answered with SHUTDOWN ACK, never a SHUTDOWN of our own
        // (a SHUTDOWN-PENDING that would have sent one).
        let first = matches!(self.state, State::Established | State::ShutdownPending);
        if first {
            self.state = State::ShutdownReceived;
            self.events.push_back(AssocEvent::PeerShutdown);
        }
        // Its cumulative TSN acknowledges our data like a SACK (§9.2).
        if self.is_established() && Tsn(s.cum_tsn_ack).ge(self.out.cum_ack()) {
            let sack = crate::proto::wire::Sack {
                cum_tsn_ack: s.cum_tsn_ack,
                a_rwnd: self
                    .peer_rwnd
                    .saturating_add(self.out.in_flight_bytes() as u32),
                gap_blocks: vec![],
                dup_tsns: vec![],
            };
            self.on_sack(now, from, &sack);
        }
        match self.state {
            State::ShutdownReceived if first && self.all_data_acked() && self.queue.is_empty() => {
                self.send_shutdown_ack(now);
            }
            State::ShutdownSent => {
                // Both sides shut down at once.
                self.events.push_back(AssocEvent::PeerShutdown);
                self.send_shutdown_ack(now);
            }
            State::ShutdownAckSent => {
                // §9.2: a SHUTDOWN again (our SHUTDOWN ACK was lost) is
                // answered at once, T2-shutdown running on.
                self.control
                    .queue
                    .retain(|(_, c)| !matches!(c, Chunk::ShutdownAck));
                self.control.queue.push_back((None, Chunk::ShutdownAck));
            }
            _ => {}
        }
    }

    /// SHUTDOWN ACK: answer SHUTDOWN COMPLETE and close.
    pub(super) fn on_shutdown_ack(&mut self, _now: Instant) {
        if matches!(self.state, State::ShutdownSent | State::ShutdownAckSent) {
            self.control.queue.clear();
            self.control.queue.push_back((
                None,
                Chunk::ShutdownComplete(ShutdownComplete { t_bit: false }),
            ));
            self.close(CloseReason::Graceful);
        }
    }

    /// SHUTDOWN COMPLETE: done.
    pub(super) fn on_shutdown_complete(&mut self) {
        if matches!(self.state, State::ShutdownAckSent) {
            self.control.queue.clear();
            self.close(CloseReason::Graceful);
        }
    }

    /// T2-shutdown expiry: resend SHUTDOWN or SHUTDOWN ACK (§9.2).
    pub(super) fn on_t2_expiry(&mut self, now: Instant) {
        let i = self.primary;
        self.paths[i].rto.back_off();
        self.t2_retries += 1;
        if self.t2_retries > self.cfg.assoc_max_retrans {
            self.give_up();
            return;
        }
        if self.count_path_error(now, i) {
            return;
        }
        match self.state {
            State::ShutdownSent => self.queue_shutdown(),
            State::ShutdownAckSent => {
                self.control
                    .queue
                    .retain(|(_, c)| !matches!(c, Chunk::ShutdownAck));
                self.control.queue.push_back((None, Chunk::ShutdownAck));
            }
            _ => return,
        }
        self.t2 = Some(now + self.rto());
    }
}
