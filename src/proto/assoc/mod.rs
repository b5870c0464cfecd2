//! One SCTP association (RFC 9260): handshake, data transfer, congestion
//! control, heartbeats, shutdown and abort, as a sans-IO state machine.
//!
//! The endpoint feeds it packets addressed to it and the current time;
//! it hands back packets to send ([`Association::poll_transmit`]), its next
//! deadline ([`Association::poll_timeout`]) and events
//! ([`Association::poll_event`]).

mod buffers;
pub mod handshake;
mod heartbeat;
mod inbound;
pub mod multihome;
pub mod path;
pub mod plpmtud;
mod pmtu;
mod receive;
mod recovery;
pub mod rx;
mod shutdown;
mod timers;
mod transmit;
pub mod tx;

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use crate::proto::config::Config;
use crate::proto::cookie::Rng;
use crate::proto::serial::Tsn;
use crate::proto::wire::{Chunk, ErrorCause, Init, Packet};

use path::Path;
use rx::{Message, Reassembly, TsnTracker};
use tx::{OutMessage, Outstanding, SendQueue};

/// Process-unique association id (`sctp_assoc_t`).
pub type AssocId = u32;

/// Why an association ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CloseReason {
    /// SHUTDOWN sequence completed.
    Graceful,
    /// The peer answered INIT with ABORT: nothing listens there (ECONNREFUSED).
    Refused,
    /// Max.Init.Retransmits or Association.Max.Retrans exceeded (ETIMEDOUT).
    TimedOut,
    /// The peer aborted (ECONNRESET).
    PeerAbort(Vec<ErrorCause>),
    /// We aborted by request.
    LocalAbort,
    /// We aborted after the peer broke the protocol (ECONNREFUSED during
    /// the handshake, ECONNABORTED after, as Linux's sctp_sf_abort_violation).
    Violation,
}

/// Something the socket layer should hear about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AssocEvent {
    /// The association is up (SCTP_COMM_UP).
    Connected,
    /// The peer restarted (SCTP_RESTART).
    Restarted,
    /// The peer sent SHUTDOWN: no more data will arrive (SCTP_SHUTDOWN_EVENT).
    PeerShutdown,
    /// The peer reported errors in an ERROR chunk (SCTP_REMOTE_ERROR).
    RemoteError(Vec<ErrorCause>),
    /// A path changed state (SCTP_PEER_ADDR_CHANGE). Moves into and out of
    /// the potentially-failed state are reported only when exposed
    /// (`Config::pf_expose` enabled), as Linux does.
    PathChange { addr: IpAddr, state: PathState },
    /// The peer's INIT or INIT ACK carried an Adaptation Layer Indication
    /// (SCTP_ADAPTATION_INDICATION), reported after Connected.
    Adaptation(u32),
    /// The association is gone; unsent messages are returned (SCTP_SEND_FAILED).
    Closed {
        reason: CloseReason,
        unsent: Vec<OutMessage>,
        /// The first `in_flight` entries of `unsent` went out (DATA chunk
        /// payloads) but were never acknowledged; the rest never left.
        in_flight: usize,
    },
}

/// Why `send` refused a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendError {
    /// The stream id is not below the negotiated outbound stream count.
    InvalidStream,
    /// The association is shutting down or closed (EPIPE).
    Shutdown,
    /// The send buffer is full (EAGAIN).
    WouldBlock,
    /// Empty messages cannot be sent (a DATA chunk must carry data).
    Empty,
    /// SCTP_DISABLE_FRAGMENTS is on and the message needs several chunks
    /// (EMSGSIZE).
    TooBig,
}

/// Association states (§4). Handshake states carry what they retransmit.
#[derive(Clone, Debug)]
pub enum State {
    /// INIT sent, waiting for INIT ACK.
    CookieWait(CookieWait),
    /// COOKIE ECHO sent, waiting for COOKIE ACK.
    CookieEchoed(CookieEchoed),
    Established,
    /// Shutdown requested; waiting for outstanding data to be acknowledged.
    ShutdownPending,
    ShutdownSent,
    ShutdownReceived,
    ShutdownAckSent,
    Closed,
}

/// COOKIE-WAIT data.
#[derive(Clone, Debug)]
pub struct CookieWait {
    /// The INIT to retransmit.
    pub init: Init,
    /// Retransmissions so far.
    pub retries: u32,
}

/// COOKIE-ECHOED data.
#[derive(Clone, Debug)]
pub struct CookieEchoed {
    /// The INIT we sent (kept to restart after a stale cookie).
    pub init: Init,
    pub cookie: Vec<u8>,
    pub retries: u32,
    /// Errors to bundle with the COOKIE ECHO (unrecognized INIT ACK parameters).
    pub errors: Vec<ErrorCause>,
}

/// Chunks waiting for the next packet, with the path they must use (if any).
#[derive(Debug, Default)]
struct Control {
    queue: VecDeque<(Option<usize>, Chunk)>,
}

/// Receive-side state.
#[derive(Debug)]
struct RxState {
    tracker: TsnTracker,
    reasm: Reassembly,
    /// A SACK is owed.
    sack_pending: bool,
    /// It must go now, not after the delay.
    sack_now: bool,
    /// Packets with DATA since the last SACK.
    unacked_packets: u32,
    /// The TSNs received had gaps after the previous DATA packet.
    had_gaps: bool,
    /// Delayed-SACK deadline.
    sack_timer: Option<Instant>,
    /// A packet with DATA has arrived (the first is acknowledged at once).
    data_seen: bool,
    /// Window we last advertised.
    last_rwnd: u32,
    /// New data bytes received so far.
    received_bytes: u64,
    /// How far the peer may send (bytes received when a window was
    /// advertised, plus the window): the last SACK's edge, or for a while
    /// after a SACK moved it back, the edge before (`window_edge_until`).
    /// What the peer sent within a window before it learnt that the
    /// window closed (the shared space went to other associations) is
    /// taken: dropping what was allowed costs the peer a T3-rtx.
    window_edge: u64,
    last_edge: u64,
    window_edge_until: Option<Instant>,
    /// Receive space shared with other associations (a one-to-many
    /// socket's buffer, as Linux's default rcvbuf_policy): the window never
    /// advertises more than this; None when the association has its own.
    shared_space: Option<usize>,
    /// `received_bytes` when `shared_space` was set.
    received_at_share: u64,
    /// Path the last DATA came from: SACKs go there (§6.4).
    last_data_path: usize,
}

/// What a path change reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathState {
    /// Reachable again (SCTP_ADDR_AVAILABLE).
    Available,
    /// Past the PF threshold (SCTP_ADDR_POTENTIALLY_FAILED).
    PotentiallyFailed,
    /// Past Path.Max.Retrans (SCTP_ADDR_UNREACHABLE).
    Unreachable,
    /// An address the peer listed answered its first HEARTBEAT
    /// (SCTP_ADDR_CONFIRMED): it may carry data now.
    Confirmed,
    /// The application made it the primary path (SCTP_ADDR_MADE_PRIM).
    MadePrimary,
}

/// A snapshot for SCTP_STATUS (RFC 6458 §8.2.1), in the socket API's units.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// `sstat_state`: Linux's `enum sctp_sstat_state` (CLOSED=1 .. SHUTDOWN_ACK_SENT=8).
    pub state: i32,
    /// The peer's receive window.
    pub rwnd: u32,
    /// DATA chunks sent and not acknowledged.
    pub unacked: u32,
    /// Messages queued and not yet sent.
    pub pending: u32,
    pub inbound_streams: u16,
    pub outbound_streams: u16,
    /// Largest DATA payload per packet.
    pub fragmentation_point: u32,
    /// The primary path: its place in `paths`.
    pub primary: usize,
    /// Every path (SCTP_GET_PEER_ADDR_INFO asks about one).
    pub paths: Vec<multihome::PathStatus>,
}

impl Status {
    /// The primary path's status (SCTP_STATUS' sstat_primary).
    pub fn primary_path(&self) -> &multihome::PathStatus {
        &self.paths[self.primary]
    }

    /// Every path's address as `f` shows it (a socket's address family).
    pub fn present(&mut self, f: impl Fn(SocketAddr) -> SocketAddr) {
        for p in &mut self.paths {
            p.addr = f(p.addr);
        }
    }
}

/// Counters, for SCTP_STATUS / SCTP_GET_ASSOC_STATS and tests.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub packets_sent: u64,
    pub packets_received: u64,
    pub data_chunks_sent: u64,
    pub data_chunks_received: u64,
    pub retransmitted_chunks: u64,
    pub fast_retransmits: u64,
    /// Tail loss probes sent (recovery.rs).
    pub loss_probes: u64,
    /// Asks whether a closed window opened (recovery.rs).
    pub window_asks: u64,
    pub t3_expiries: u64,
    pub duplicate_tsns: u64,
    /// New DATA dropped because the receive window was closed (§6.2).
    pub dropped_no_room: u64,
    pub sacks_sent: u64,
}

/// An SCTP association.
#[derive(Debug)]
pub struct Association {
    id: AssocId,
    cfg: Config,
    state: State,
    local_port: u16,
    peer_port: u16,
    /// Tag the peer puts on packets to us.
    local_vtag: u32,
    /// Tag we put on packets to the peer.
    peer_vtag: u32,
    paths: Vec<Path>,
    primary: usize,
    peer_rwnd: u32,
    queue: SendQueue,
    out: Outstanding,
    rx: RxState,
    control: Control,
    events: VecDeque<AssocEvent>,
    /// T1-init / T1-cookie deadline.
    t1: Option<Instant>,
    /// T2-shutdown deadline.
    t2: Option<Instant>,
    /// Consecutive unanswered retransmissions (§8.1).
    error_count: u32,
    /// Packets of new data we may still send before waiting for input (Max.Burst).
    burst_budget: u32,
    /// After a T3-rtx expiry only one packet may be in flight until a SACK
    /// comes (§7.2.3, §6.3.3 E3; Linux's sctp_outq_flush_rtx): 1 while that
    /// packet may go, 2 once it went.
    t3_hold: u8,
    /// The peer closed its window with nothing in flight: the first zero
    /// window probe waits until then (§6.1 A: one RTO), `probe_wait` while
    /// it does.
    probe_at: Option<Instant>,
    /// Until then, asking the peer whether its window opened (a lost
    /// window update): when, and how many asks went (recovery.rs).
    window_ask_at: Option<Instant>,
    window_asks: u32,
    /// RACK's reordering timer (tx/rack.rs).
    rack_at: Option<Instant>,
    /// The tail loss probe's deadline, and how many probes went since the
    /// last SACK (recovery.rs).
    tlp_at: Option<Instant>,
    tlp_sent: u32,
    /// The last new DATA asked for an immediate SACK (RFC 7053 I bit).
    sack_asked: bool,
    /// PLPMTUD probes to send: (path, nonce, size) (plpmtud.rs).
    pl_outbox: Vec<(usize, u64, usize)>,
    probe_wait: bool,
    /// The peer's Adaptation Layer Indication, if it sent one.
    peer_adaptation: Option<u32>,
    /// shutdown() was called during the handshake: shut down once established.
    shutdown_after_setup: bool,
    /// T2-shutdown expiries in the current shutdown state (§9.2: at most
    /// Association.Max.Retrans, whatever heartbeats say about the path).
    t2_retries: u32,
    rng: Rng,
    inbound_streams: u16,
    stats: Stats,
    /// Paths were added (the endpoint maps their addresses).
    paths_added: bool,
    /// Where retransmissions go after a T3-rtx timeout (§6.4.1).
    rtx_path: Option<usize>,
    /// Where the INIT ACK came from: the COOKIE ECHO goes there.
    handshake_path: Option<usize>,
}

impl Association {
    #[allow(clippy::too_many_arguments)]
    fn blank(
        id: AssocId,
        cfg: Config,
        rng: Rng,
        local_port: u16,
        peer_port: u16,
        local_vtag: u32,
        local_tsn: Tsn,
        peer: SocketAddr,
        state: State,
    ) -> Association {
        let path = Path::new(&cfg, peer.ip(), peer.port(), cfg.rcvbuf as u32);
        let streams = cfg.outbound_streams;
        Association {
            id,
            state,
            local_port,
            peer_port,
            local_vtag,
            peer_vtag: 0,
            paths: vec![path],
            primary: 0,
            peer_rwnd: 0,
            queue: SendQueue::new(streams),
            out: Outstanding::new(local_tsn),
            rx: RxState {
                tracker: TsnTracker::new(Tsn(0)),
                reasm: Reassembly::new(0),
                sack_pending: false,
                sack_now: false,
                unacked_packets: 0,
                had_gaps: false,
                sack_timer: None,
                data_seen: false,
                last_rwnd: cfg.rcvbuf as u32,
                received_bytes: 0,
                window_edge: cfg.rcvbuf as u64,
                last_edge: cfg.rcvbuf as u64,
                window_edge_until: None,
                shared_space: None,
                received_at_share: 0,
                last_data_path: 0,
            },
            control: Control::default(),
            events: VecDeque::new(),
            t1: None,
            t2: None,
            t2_retries: 0,
            shutdown_after_setup: false,
            error_count: 0,
            burst_budget: cfg.max_burst,
            t3_hold: 0,
            probe_at: None,
            window_ask_at: None,
            window_asks: 0,
            rack_at: None,
            tlp_at: None,
            tlp_sent: 0,
            sack_asked: false,
            pl_outbox: Vec::new(),
            probe_wait: false,
            peer_adaptation: None,
            rng,
            inbound_streams: 0,
            stats: Stats::default(),
            paths_added: false,
            rtx_path: None,
            handshake_path: None,
            cfg,
        }
    }

    /// This association's id.
    /// The association's settings.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Changes the association's settings (socket options on an existing
    /// association); RTO bounds apply to every path at once, and a new
    /// heartbeat interval restarts the heartbeat timers (as Linux's
    /// sctp_apply_peer_addr_params).
    pub fn update_config(&mut self, now: Instant, f: impl Fn(&mut Config)) {
        let hb = self.cfg.hb_interval;
        let mtu = (self.cfg.pmtu, self.cfg.pmtud, self.cfg.probe_interval);
        let params = path::PathParams::of(&self.cfg);
        f(&mut self.cfg);
        // Set for the association: what changed, for each of its paths
        // (Linux's sctp_setsockopt_peer_addr_params).
        let new = path::PathParams::of(&self.cfg);
        if new != params {
            for p in &mut self.paths {
                p.params.take_changes(&params, &new);
            }
        }
        if self.cfg.pmtu != mtu.0 || (mtu.1 && !self.cfg.pmtud) {
            self.apply_fixed_mtu();
        }
        if (self.cfg.pmtud, self.cfg.probe_interval) != (mtu.1, mtu.2) {
            for i in 0..self.paths.len() {
                let p = &self.paths[i];
                let max = p.route_mtu.unwrap_or(p.mtu);
                self.pl_reset(now, i, max);
            }
        }
        for p in &mut self.paths {
            p.rto.set_bounds(self.cfg.rto_min, self.cfg.rto_max);
        }
        if self.cfg.hb_interval != hb && self.is_established() {
            for p in &mut self.paths {
                p.hb_due = None;
            }
            self.start_heartbeats(now);
        }
    }

    /// The peer's Adaptation Layer Indication, if it sent one.
    pub fn peer_adaptation(&self) -> Option<u32> {
        self.peer_adaptation
    }

    pub fn id(&self) -> AssocId {
        self.id
    }

    /// The TSN the next new DATA chunk gets.
    pub fn next_tsn(&self) -> u32 {
        self.out.next_tsn().0
    }

    /// The verification tag our packets carry (the peer's Initiate Tag).
    pub fn peer_vtag(&self) -> u32 {
        self.peer_vtag
    }

    /// The current state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// True once the handshake is over and until the association closes.
    pub fn is_established(&self) -> bool {
        !matches!(
            self.state,
            State::CookieWait(_) | State::CookieEchoed(_) | State::Closed
        )
    }

    /// The association has ended (its last chunks may still be queued).
    pub fn has_ended(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// True once nothing more can happen on this association.
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed) && self.control.queue.is_empty()
    }

    /// Our SCTP port.
    pub fn local_port(&self) -> u16 {
        self.local_port
    }

    /// The peer's SCTP port.
    pub fn peer_port(&self) -> u16 {
        self.peer_port
    }

    /// The peer's primary address (IP and SCTP port).
    pub fn peer_addr(&self) -> SocketAddr {
        SocketAddr::new(self.paths[self.primary].addr, self.peer_port)
    }

    /// All peer addresses.
    pub fn peer_addrs(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.paths.iter().map(|p| p.addr)
    }

    /// The paths (for status reporting).
    pub fn paths(&self) -> &[Path] {
        &self.paths
    }

    /// Index of the primary path.
    pub fn primary(&self) -> usize {
        self.primary
    }

    /// The verification tags (local, peer).
    pub fn vtags(&self) -> (u32, u32) {
        (self.local_vtag, self.peer_vtag)
    }

    /// Counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The peer's receive window as last computed.
    pub fn peer_rwnd(&self) -> u32 {
        self.peer_rwnd
    }

    /// Negotiated (outbound, inbound) stream counts.
    pub fn streams(&self) -> (u16, u16) {
        (self.queue.streams(), self.inbound_streams)
    }

    /// The SCTP_STATUS snapshot.
    pub fn status(&self) -> Status {
        let state = match self.state {
            State::Closed => 1,
            State::CookieWait(_) => 2,
            State::CookieEchoed(_) => 3,
            State::Established => 4,
            State::ShutdownPending => 5,
            State::ShutdownSent => 6,
            State::ShutdownReceived => 7,
            State::ShutdownAckSent => 8,
        };
        Status {
            state,
            rwnd: self.peer_rwnd,
            unacked: self.out.len() as u32,
            pending: self.queue.len() as u32,
            inbound_streams: self.inbound_streams,
            outbound_streams: self.queue.streams(),
            fragmentation_point: self.fragmentation_point() as u32,
            primary: self.primary,
            paths: self.path_status(),
        }
    }

    /// Queues a user message (§6.1). Messages larger than the send buffer
    /// are taken when the buffer is empty, so they can still be sent.
    pub fn send(&mut self, now: Instant, msg: OutMessage) -> Result<(), SendError> {
        match self.state {
            State::CookieWait(_) | State::CookieEchoed(_) | State::Established => {}
            _ => return Err(SendError::Shutdown),
        }
        if msg.data.is_empty() {
            return Err(SendError::Empty);
        }
        if msg.stream_id >= self.queue.streams() {
            return Err(SendError::InvalidStream);
        }
        let mtu = self.smallest_mtu();
        if self.cfg.disable_fragments && msg.data.len() > self.max_payload(mtu) {
            return Err(SendError::TooBig);
        }
        // The send buffer is a soft limit, checked before the message: a
        // message is taken while anything is left of it, so the queue stays
        // full (whatever the message size) and holds at most one message
        // beyond it.
        let held = self.buffered_send_bytes();
        if held > 0 && held >= self.sndbuf() {
            return Err(SendError::WouldBlock);
        }
        self.queue.push(msg);
        self.renew_burst();
        let _ = now;
        Ok(())
    }

    /// Takes the next complete message, in order per stream.
    pub fn recv(&mut self) -> Option<Message> {
        let m = self.rx.reasm.pop_message()?;
        self.window_update_if_opened();
        Some(m)
    }

    /// Graceful shutdown (§9.2): SHUTDOWN once everything queued is acknowledged.
    pub fn shutdown(&mut self, now: Instant) {
        match self.state {
            State::CookieWait(_) | State::CookieEchoed(_) => {
                // Finish the handshake first so queued data is not lost;
                // the SHUTDOWN follows once established.
                self.shutdown_after_setup = true;
            }
            State::Established => {
                self.state = State::ShutdownPending;
                self.maybe_send_shutdown(now);
            }
            _ => {}
        }
    }

    /// Aborts the association (§9.1), with a User-Initiated Abort cause.
    pub fn abort(&mut self, _now: Instant, reason: &[u8]) {
        if matches!(self.state, State::Closed) {
            return;
        }
        let abort = crate::proto::wire::Abort {
            t_bit: false,
            causes: vec![ErrorCause::UserInitiatedAbort {
                reason: reason.to_vec(),
            }],
        };
        self.control.queue.clear();
        if !matches!(self.state, State::CookieWait(_)) || self.peer_vtag != 0 {
            self.control.queue.push_back((None, Chunk::Abort(abort)));
        }
        self.close(CloseReason::LocalAbort);
    }

    /// Ends the association and reports it.
    fn close(&mut self, reason: CloseReason) {
        if matches!(self.state, State::Closed) {
            return;
        }
        self.state = State::Closed;
        self.t1 = None;
        self.t2 = None;
        self.rx.sack_timer = None;
        for p in &mut self.paths {
            p.t3 = None;
            p.hb_due = None;
        }
        let mut unsent = Vec::new();
        for c in self.out.drain() {
            unsent.push(OutMessage {
                stream_id: c.stream_id,
                ppid: c.ppid,
                unordered: c.unordered,
                data: c.payload,
                context: 0,
                path: None,
            });
        }
        let in_flight = unsent.len();
        unsent.extend(self.queue.drain());
        self.events.push_back(AssocEvent::Closed {
            reason,
            unsent,
            in_flight,
        });
    }

    /// Aborts because the peer broke the protocol.
    fn protocol_violation(&mut self, info: &str) {
        self.violation_abort(info.as_bytes().to_vec(), false);
    }

    /// Aborts because the peer sent a chunk that cannot be decoded; `t_bit`
    /// when the peer's tag is not known (the ABORT carries our own).
    fn chunk_violation(&mut self, bad: crate::proto::wire::BadChunk, t_bit: bool) {
        self.violation_abort(bad.violation_info(), t_bit);
    }

    pub(super) fn violation_abort(&mut self, info: Vec<u8>, t_bit: bool) {
        let causes = vec![ErrorCause::ProtocolViolation { info }];
        self.abort_and_close(causes, t_bit, CloseReason::Violation);
    }

    /// Ends the association with an ABORT carrying `causes` (`t_bit`: our
    /// own tag reflected), whatever else was queued to go.
    pub(super) fn abort_and_close(
        &mut self,
        causes: Vec<ErrorCause>,
        t_bit: bool,
        reason: CloseReason,
    ) {
        let abort = crate::proto::wire::Abort { t_bit, causes };
        self.control.queue.clear();
        self.control.queue.push_back((None, Chunk::Abort(abort)));
        self.close(reason);
    }

    /// Next event for the socket layer.
    pub fn poll_event(&mut self) -> Option<AssocEvent> {
        self.events.pop_front()
    }
}

#[cfg(test)]
mod tests;
