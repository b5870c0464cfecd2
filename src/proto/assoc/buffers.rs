//! The association's buffers and windows: what the application may still
//! queue (the send buffer, auto-tuned when nobody sized it), the receive
//! window advertised to the peer (§6.2), shared with the socket's other
//! associations, and the window updates that tell the peer it opened.

use super::{Association, State};
use crate::proto::config::AUTO_BUF_MAX;

impl Association {
    /// Chunks sent and not yet acknowledged.
    pub fn unacked_chunks(&self) -> usize {
        self.out.len()
    }

    /// Bytes queued or in flight (counted against SO_SNDBUF).
    pub fn buffered_send_bytes(&self) -> usize {
        self.queue.bytes() + self.out.held_bytes()
    }

    /// True when nothing is queued or awaiting acknowledgement.
    pub fn all_data_acked(&self) -> bool {
        self.queue.is_empty() && self.out.is_empty()
    }

    /// Bytes the application may still queue.
    pub fn send_space(&self) -> usize {
        self.sndbuf().saturating_sub(self.buffered_send_bytes())
    }

    /// The send buffer: SO_SNDBUF's or, with `Config::sndbuf_auto`, room
    /// for twice the largest congestion window of the paths, up to
    /// `AUTO_BUF_MAX` (as Linux TCP's tcp_sndbuf_expand): a sender is never
    /// held below what its windows allow by a buffer nobody sized.
    pub fn sndbuf(&self) -> usize {
        if !self.cfg.sndbuf_auto {
            return self.cfg.sndbuf;
        }
        let cwnd = self.paths.iter().map(|p| p.cc.cwnd).max().unwrap_or(0);
        self.cfg.sndbuf.max((2 * cwnd).min(AUTO_BUF_MAX))
    }

    /// Receive buffer auto-tuning (the engine's, for a one-to-one socket
    /// whose application did not set SO_RCVBUF): the window may grow to
    /// `bytes` (never shrinks here). True when a window update is due.
    pub fn grow_rcvbuf(&mut self, bytes: usize) -> bool {
        if bytes <= self.cfg.rcvbuf {
            return false;
        }
        self.cfg.rcvbuf = bytes;
        self.window_update_if_opened()
    }

    /// True if a message is ready for `recv`.
    pub fn has_message(&self) -> bool {
        self.rx.reasm.has_ready()
    }

    /// Our receive window as we would advertise it now.
    pub fn local_rwnd(&self) -> u32 {
        self.a_rwnd()
    }

    /// Our advertised receive window (§6.2): what the application has not
    /// taken, within the shared space when there is one.
    pub(super) fn a_rwnd(&self) -> u32 {
        let held = self.rx.reasm.buffered_bytes();
        let own = self.cfg.rcvbuf.saturating_sub(held);
        // What it received since the shared space was set comes off it
        // (handing it on to the socket frees nothing of the socket's
        // buffer: only the socket's next share does, after reads).
        self.rx.shared_space.map_or(own, |s| {
            let since = (self.rx.received_bytes - self.rx.received_at_share) as usize;
            own.min(s.saturating_sub(since))
        }) as u32
    }

    /// New data bytes received in all.
    pub fn received_bytes(&self) -> u64 {
        self.rx.received_bytes
    }

    /// Bytes received and not yet taken by `recv`.
    pub fn rx_buffered(&self) -> usize {
        self.rx.reasm.buffered_bytes()
    }

    /// The receive window last advertised to the peer.
    pub fn advertised_rwnd(&self) -> u32 {
        self.rx.last_rwnd
    }

    /// The shared receive space last set (`set_shared_space`).
    pub fn shared_space(&self) -> Option<usize> {
        self.rx.shared_space
    }

    /// Whether `set_shared_space(Some(space))` would change nothing.
    pub fn shares(&self, space: usize) -> bool {
        self.rx.shared_space == Some(space) && self.rx.received_at_share == self.rx.received_bytes
    }

    /// Sets the receive space this association shares with others (None:
    /// only its own buffer). Once the window has opened well beyond what
    /// was last advertised, a window update goes out: returns true then
    /// (the association has a packet to send).
    pub fn set_shared_space(&mut self, space: Option<usize>) -> bool {
        self.rx.shared_space = space;
        self.rx.received_at_share = self.rx.received_bytes;
        self.window_update_if_opened()
    }

    /// Window update (§6.2): once the window has opened well beyond what we
    /// last advertised, tell the sender rather than wait for its probe.
    pub(super) fn window_update_if_opened(&mut self) -> bool {
        let after = self.a_rwnd();
        // As Linux (sctp_peer_needs_update): an MTU or a 16th of the
        // buffer, whichever is more, but never more than a quarter of it.
        let mtu = self.paths[self.primary].mtu as u32;
        let buf = self.cfg.rcvbuf as u32;
        let step = mtu.max(buf / 16).min(buf / 4);
        // Only while the peer may still send (sctp_peer_needs_update's
        // states): after SHUTDOWN ACK the peer has closed, and an update
        // would reach it as out of the blue and come back as an ABORT.
        let peer_sends = matches!(
            self.state,
            State::Established
                | State::ShutdownPending
                | State::ShutdownReceived
                | State::ShutdownSent
        );
        // A closed window that opens at all is worth telling too: the
        // peer waits for it (a one-to-many socket's space divided among
        // thousands of associations gives each less than a step).
        let opened = self.rx.last_rwnd == 0 && after > 0;
        let due = peer_sends && (after >= self.rx.last_rwnd.saturating_add(step) || opened);
        if due {
            self.rx.sack_pending = true;
            self.rx.sack_now = true;
        }
        due
    }
}
