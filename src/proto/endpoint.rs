//! An SCTP endpoint (one local port): demultiplexes packets to its
//! associations, answers INIT statelessly with a signed cookie (§5.1.3),
//! creates associations from valid COOKIE ECHOs, handles out-of-the-blue
//! packets (§8.4) and keeps the accept queue. It holds any number of
//! associations, so one-to-one and one-to-many sockets both sit on it.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::proto::Transmit;
use crate::proto::assoc::handshake::{self, CookieOutcome, InitAnswer, init_is_valid};
use crate::proto::assoc::rx::Message;
use crate::proto::assoc::tx::OutMessage;
use crate::proto::assoc::{AssocEvent, AssocId, Association, SendError};
use crate::proto::config::Config;
use crate::proto::cookie::{CookieData, CookieError, Rng};
use crate::proto::wire::{
    Abort, Chunk, ErrorCause, ErrorChunk, Init, Packet, Param, ShutdownComplete, UnknownAction,
};

/// Association ids are unique in the process, as `sctp_assoc_t` must be.
static NEXT_ASSOC_ID: AtomicU32 = AtomicU32::new(1);

fn next_assoc_id() -> AssocId {
    loop {
        let id = NEXT_ASSOC_ID.fetch_add(1, Ordering::Relaxed);
        // 0..=2 are SCTP_FUTURE_ASSOC / CURRENT_ASSOC / ALL_ASSOC in the socket API.
        if id > 2 {
            return id;
        }
    }
}

/// Why `connect` failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectError {
    /// An association with that peer exists already (EISCONN).
    AlreadyConnected,
    /// The association limit is reached (EAGAIN / ENOBUFS).
    TooMany,
    /// Port 0 or an unspecified address (EINVAL).
    InvalidAddress,
}

/// Counters of packets the endpoint itself dealt with.
#[derive(Clone, Debug, Default)]
pub struct EndpointStats {
    pub malformed: u64,
    pub bad_checksum: u64,
    pub out_of_the_blue: u64,
    pub init_acks_sent: u64,
    pub cookies_rejected: u64,
    pub stale_cookies: u64,
}

/// One local SCTP port and its associations.
#[derive(Debug)]
pub struct Endpoint {
    cfg: Config,
    local_port: u16,
    secret: [u8; 32],
    rng: Rng,
    epoch: Instant,
    listening: bool,
    assocs: BTreeMap<AssocId, Association>,
    by_peer: HashMap<(IpAddr, u16), AssocId>,
    accept_queue: VecDeque<AssocId>,
    /// Associations the socket layer holds for accept() (set by it).
    waiting: usize,
    outbox: VecDeque<Transmit>,
    events: VecDeque<(AssocId, AssocEvent)>,
    stats: EndpointStats,
    /// Associations changed since `poll_transmit` last drained them.
    to_transmit: BTreeSet<AssocId>,
    /// Associations changed since `poll_event` last drained them.
    to_report: BTreeSet<AssocId>,
    /// Associations changed since their deadline went into `timers`.
    to_rearm: BTreeSet<AssocId>,
    /// Associations changed since the caller last took them (`take_changed`).
    changed: BTreeSet<AssocId>,
    /// Deadlines, earliest first; an entry is current only while it equals
    /// `armed[id]` (later changes push new entries, old ones are skipped).
    timers: BinaryHeap<Reverse<(Instant, AssocId)>>,
    armed: HashMap<AssocId, Instant>,
}

impl std::fmt::Debug for Rng {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Rng")
    }
}

impl Endpoint {
    /// An endpoint on `local_port`; `seed` keys its cookie secret, tags and TSNs.
    pub fn new(cfg: Config, local_port: u16, seed: [u8; 32], now: Instant) -> Endpoint {
        let mut rng = Rng::new(seed);
        Endpoint {
            cfg,
            local_port,
            secret: rng.key(),
            rng,
            epoch: now,
            listening: false,
            assocs: BTreeMap::new(),
            by_peer: HashMap::new(),
            accept_queue: VecDeque::new(),
            waiting: 0,
            outbox: VecDeque::new(),
            events: VecDeque::new(),
            stats: EndpointStats::default(),
            to_transmit: BTreeSet::new(),
            to_report: BTreeSet::new(),
            to_rearm: BTreeSet::new(),
            changed: BTreeSet::new(),
            timers: BinaryHeap::new(),
            armed: HashMap::new(),
        }
    }

    /// The local SCTP port.
    pub fn local_port(&self) -> u16 {
        self.local_port
    }

    /// Settings for new associations.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    pub fn config_mut(&mut self) -> &mut Config {
        &mut self.cfg
    }

    /// Accept (or stop accepting) inbound associations.
    pub fn listen(&mut self, on: bool) {
        self.listening = on;
        // A new (or no) listener holds nothing for accept() yet.
        self.waiting = 0;
    }

    /// True while accepting inbound associations.
    pub fn is_listening(&self) -> bool {
        self.listening
    }

    /// Counters.
    pub fn stats(&self) -> &EndpointStats {
        &self.stats
    }

    /// An association by id.
    pub fn assoc(&self, id: AssocId) -> Option<&Association> {
        self.assocs.get(&id)
    }

    /// An association by id, mutably: it counts as changed (its datagrams,
    /// events and timers are looked at again).
    pub fn assoc_mut(&mut self, id: AssocId) -> Option<&mut Association> {
        let a = self.assocs.get_mut(&id)?;
        for set in [
            &mut self.to_transmit,
            &mut self.to_report,
            &mut self.to_rearm,
            &mut self.changed,
        ] {
            set.insert(id);
        }
        Some(a)
    }

    /// Marks an association changed (see `assoc_mut`).
    fn touch(&mut self, id: AssocId) {
        self.assoc_mut(id);
    }

    /// The associations changed (by packets, timers or calls) since the
    /// last call: all a caller has to look at again.
    pub fn take_changed(&mut self) -> BTreeSet<AssocId> {
        std::mem::take(&mut self.changed)
    }

    /// True if datagrams or events wait to be taken (by `poll_transmit` and
    /// `poll_event`), now or once changed associations are looked at.
    pub fn has_output(&self) -> bool {
        !self.outbox.is_empty()
            || !self.events.is_empty()
            || !self.to_transmit.is_empty()
            || !self.to_report.is_empty()
    }

    /// True if the endpoint has work before its next deadline: datagrams
    /// or events waiting, or associations changed since they were drained.
    pub fn is_busy(&self) -> bool {
        !self.outbox.is_empty()
            || !self.events.is_empty()
            || !self.to_transmit.is_empty()
            || !self.to_report.is_empty()
            || !self.changed.is_empty()
    }

    /// Ids of every association held.
    pub fn assoc_ids(&self) -> impl Iterator<Item = AssocId> + '_ {
        self.assocs.keys().copied()
    }

    /// The association with a peer (IP, SCTP port), if any.
    pub fn find(&self, peer: SocketAddr) -> Option<AssocId> {
        self.by_peer.get(&(peer.ip(), peer.port())).copied()
    }

    /// How many associations the socket layer holds for accept(): with the
    /// accept queue, they count against the backlog.
    pub fn set_waiting(&mut self, n: usize) {
        self.waiting = n;
    }

    /// Next inbound association ready to be accepted.
    pub fn accept(&mut self) -> Option<AssocId> {
        self.accept_queue.pop_front()
    }

    /// Takes a specific association off the accept queue (the socket layer
    /// handed it to a socket itself, e.g. a one-to-many socket).
    pub fn claim(&mut self, id: AssocId) {
        self.accept_queue.retain(|&x| x != id);
    }

    /// Forgets a closed association (the socket layer is done with it).
    pub fn release(&mut self, id: AssocId) {
        if let Some(a) = self.assocs.remove(&id) {
            self.unmap(&a, id);
        }
        self.accept_queue.retain(|&x| x != id);
        self.armed.remove(&id);
        for set in [
            &mut self.to_transmit,
            &mut self.to_report,
            &mut self.to_rearm,
            &mut self.changed,
        ] {
            set.remove(&id);
        }
    }

    fn unmap(&mut self, a: &Association, id: AssocId) {
        let port = a.peer_port();
        for ip in a.peer_addrs() {
            if self.by_peer.get(&(ip, port)) == Some(&id) {
                self.by_peer.remove(&(ip, port));
            }
        }
    }

    fn micros_since_epoch(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.epoch).as_micros() as u64
    }

    fn fork_rng(&mut self) -> Rng {
        Rng::new(self.rng.key())
    }

    /// Starts an association to `peer` (IP and SCTP port); its packets go to
    /// UDP port `udp_port` until the peer's own packets say otherwise.
    pub fn connect(
        &mut self,
        now: Instant,
        peer: SocketAddr,
        udp_port: u16,
    ) -> Result<AssocId, ConnectError> {
        self.connect_as(now, peer, udp_port, self.cfg.clone())
    }

    /// `connect` with settings of the caller's (a socket's options) instead
    /// of the endpoint's.
    pub fn connect_as(
        &mut self,
        now: Instant,
        peer: SocketAddr,
        udp_port: u16,
        cfg: Config,
    ) -> Result<AssocId, ConnectError> {
        if peer.port() == 0 || peer.ip().is_unspecified() || udp_port == 0 {
            return Err(ConnectError::InvalidAddress);
        }
        if self.find(peer).is_some() {
            return Err(ConnectError::AlreadyConnected);
        }
        if self.assocs.len() >= self.cfg.max_associations {
            return Err(ConnectError::TooMany);
        }
        let id = next_assoc_id();
        let rng = self.fork_rng();
        let a = Association::connect(id, cfg, rng, now, self.local_port, peer, udp_port);
        self.by_peer.insert((peer.ip(), peer.port()), id);
        self.assocs.insert(id, a);
        self.touch(id);
        Ok(id)
    }

    /// Queues a message on an association.
    pub fn send(&mut self, now: Instant, id: AssocId, msg: OutMessage) -> Result<(), SendError> {
        self.assoc_mut(id)
            .ok_or(SendError::Shutdown)?
            .send(now, msg)
    }

    /// Takes the next received message of an association.
    pub fn recv(&mut self, id: AssocId) -> Option<Message> {
        let m = self.assocs.get_mut(&id)?.recv()?;
        self.touch(id);
        Some(m)
    }

    /// Processes one UDP datagram from `from` carrying an SCTP packet.
    pub fn handle(&mut self, now: Instant, from: SocketAddr, datagram: &[u8]) {
        let packet = match Packet::decode(datagram) {
            Ok(p) => p,
            Err(crate::proto::wire::WireError::BadChecksum) => {
                self.stats.bad_checksum += 1;
                return;
            }
            Err(_) => {
                self.stats.malformed += 1;
                return;
            }
        };
        if packet.dst_port != self.local_port || packet.src_port == 0 || packet.chunks.is_empty() {
            self.stats.malformed += 1;
            return;
        }
        let existing = self.by_peer.get(&(from.ip(), packet.src_port)).copied();
        match packet.chunks.first() {
            Some(Chunk::Init(init)) => {
                // INIT must be alone with a zero tag (§6.10, §8.5.1 A).
                if packet.chunks.len() == 1 && packet.verification_tag == 0 {
                    let init = init.clone();
                    self.on_init(now, from, packet.src_port, &init, existing);
                }
            }
            Some(Chunk::CookieEcho(ce)) => {
                let cookie = ce.cookie.clone();
                self.on_cookie_echo(now, from, packet, &cookie, existing);
            }
            _ => match existing {
                Some(id) => {
                    if let Some(a) = self.assoc_mut(id) {
                        a.handle_packet(now, from, &packet);
                    }
                }
                None => self.out_of_the_blue(from, &packet),
            },
        }
    }

    /// §8.4: answer packets that belong to no association.
    fn out_of_the_blue(&mut self, from: SocketAddr, packet: &Packet) {
        self.stats.out_of_the_blue += 1;
        let mut reply = None;
        for c in &packet.chunks {
            match c {
                Chunk::Abort(_) | Chunk::ShutdownComplete(_) | Chunk::CookieAck => return,
                Chunk::Error(e)
                    if e.causes
                        .iter()
                        .any(|c| matches!(c, ErrorCause::StaleCookie { .. })) =>
                {
                    return;
                }
                Chunk::ShutdownAck => {
                    reply = Some(Chunk::ShutdownComplete(ShutdownComplete { t_bit: true }));
                }
                _ => {}
            }
        }
        let chunk = reply.unwrap_or(Chunk::Abort(Abort {
            t_bit: true,
            causes: vec![],
        }));
        self.reply(from, packet.src_port, packet.verification_tag, chunk);
    }

    fn reply(&mut self, to: SocketAddr, peer_port: u16, vtag: u32, chunk: Chunk) {
        let p = Packet {
            src_port: self.local_port,
            dst_port: peer_port,
            verification_tag: vtag,
            chunks: vec![chunk],
        };
        self.outbox.push_back(Transmit {
            dst: to,
            src: None,
            payload: p.encode(),
            tos: 0,
        });
    }

    /// INIT: stateless INIT ACK (§5.1 B), or the collision answers of §5.2.
    fn on_init(
        &mut self,
        now: Instant,
        from: SocketAddr,
        peer_port: u16,
        init: &Init,
        existing: Option<AssocId>,
    ) {
        if init.initiate_tag == 0 {
            return; // §3.3.2: silently discard.
        }
        if !init_is_valid(init) {
            let abort = Abort {
                t_bit: false,
                causes: vec![ErrorCause::InvalidMandatoryParameter],
            };
            self.reply(from, peer_port, init.initiate_tag, Chunk::Abort(abort));
            return;
        }
        if let Some(Param::HostNameAddress(name)) = init
            .params
            .iter()
            .find(|p| matches!(p, Param::HostNameAddress(_)))
        {
            // Host names are deprecated (§5.1.2): refuse as unresolvable.
            let mut address = Vec::new();
            Param::HostNameAddress(name.clone()).encode(&mut address);
            let abort = Abort {
                t_bit: false,
                causes: vec![ErrorCause::UnresolvableAddress { address }],
            };
            self.reply(from, peer_port, init.initiate_tag, Chunk::Abort(abort));
            return;
        }
        if let Some(id) = existing {
            self.touch(id);
        }
        let answer = match existing.and_then(|id| self.assocs.get_mut(&id)) {
            Some(a) => a.init_answer(),
            None if self.listening => InitAnswer::InitAck {
                local_vtag: self.rng.nonzero_u32(),
                local_tsn: self.rng.u32(),
                local_tie: 0,
                peer_tie: 0,
            },
            None => {
                // Nobody listens: refuse, as Linux does (ECONNREFUSED at the peer).
                self.reply(
                    from,
                    peer_port,
                    init.initiate_tag,
                    Chunk::Abort(Abort::default()),
                );
                return;
            }
        };
        let InitAnswer::InitAck {
            local_vtag,
            local_tsn,
            local_tie,
            peer_tie,
        } = answer
        else {
            return;
        };
        let outbound = self.cfg.outbound_streams.min(init.inbound_streams);
        let inbound = init.outbound_streams.min(self.cfg.max_inbound_streams);
        let cookie = CookieData {
            created_us: self.micros_since_epoch(now),
            lifetime_ms: Association::cookie_life(&self.cfg, init)
                .as_millis()
                .min(u128::from(u32::MAX)) as u32,
            local_port: self.local_port,
            peer_port,
            local_vtag,
            peer_vtag: init.initiate_tag,
            local_initial_tsn: local_tsn,
            peer_initial_tsn: init.initial_tsn,
            peer_rwnd: init.a_rwnd,
            local_tie_tag: local_tie,
            peer_tie_tag: peer_tie,
            outbound_streams: outbound,
            inbound_streams: inbound,
            peer_udp_port: from.port(),
            peer_addrs: vec![from.ip()],
            peer_adaptation: handshake::adaptation_of(&init.params),
        };
        let mut params = vec![Param::StateCookie(cookie.seal(&self.secret))];
        params.extend(handshake::adaptation_param(&self.cfg));
        for p in &init.params {
            if let Param::Unknown { param_type, .. } = p
                && *param_type != handshake::ADAPTATION_IND
            {
                let action = UnknownAction::for_param_type(*param_type);
                if action.reports() {
                    let mut tlv = Vec::new();
                    p.encode(&mut tlv);
                    params.push(Param::UnrecognizedParameter(tlv));
                }
                if action.stops() {
                    break;
                }
            }
        }
        let ack = Init {
            initiate_tag: local_vtag,
            a_rwnd: self.cfg.rcvbuf as u32,
            outbound_streams: outbound,
            inbound_streams: inbound,
            initial_tsn: local_tsn,
            params,
        };
        self.stats.init_acks_sent += 1;
        self.reply(from, peer_port, init.initiate_tag, Chunk::InitAck(ack));
    }

    /// COOKIE ECHO: validate, then create or update the association (§5.1 D, §5.2.4).
    fn on_cookie_echo(
        &mut self,
        now: Instant,
        from: SocketAddr,
        mut packet: Packet,
        cookie: &[u8],
        existing: Option<AssocId>,
    ) {
        let c = match CookieData::open(cookie, &self.secret, self.micros_since_epoch(now)) {
            Ok(c) => c,
            Err(CookieError::Stale {
                staleness_us,
                peer_vtag,
            }) => {
                self.stats.stale_cookies += 1;
                if packet.verification_tag != 0 {
                    let err = ErrorCause::StaleCookie {
                        staleness_us: staleness_us.min(u64::from(u32::MAX)) as u32,
                    };
                    let chunk = Chunk::Error(ErrorChunk { causes: vec![err] });
                    self.reply(from, packet.src_port, peer_vtag, chunk);
                }
                return;
            }
            Err(_) => {
                self.stats.cookies_rejected += 1;
                return;
            }
        };
        if packet.verification_tag != c.local_vtag
            || c.local_port != self.local_port
            || c.peer_port != packet.src_port
        {
            self.stats.cookies_rejected += 1;
            return;
        }
        let id = match existing {
            Some(id) => {
                let Some(a) = self.assoc_mut(id) else {
                    return;
                };
                if a.on_cookie_echo(now, &c) == CookieOutcome::Discarded {
                    return;
                }
                id
            }
            None => {
                if !self.listening
                    // Full as Linux's sk_acceptq_is_full: more waiting than
                    // the backlog (so backlog + 1 may wait).
                    || self.accept_queue.len() + self.waiting > self.cfg.backlog
                    || self.assocs.len() >= self.cfg.max_associations
                {
                    self.reply(
                        from,
                        packet.src_port,
                        c.peer_vtag,
                        Chunk::Abort(Abort::default()),
                    );
                    return;
                }
                let id = next_assoc_id();
                let rng = self.fork_rng();
                let a = Association::accept(id, self.cfg.clone(), rng, now, &c);
                for ip in a.peer_addrs() {
                    self.by_peer.insert((ip, c.peer_port), id);
                }
                self.assocs.insert(id, a);
                self.accept_queue.push_back(id);
                self.touch(id);
                id
            }
        };
        // Chunks bundled after the COOKIE ECHO (DATA, typically).
        packet.chunks.remove(0);
        if !packet.chunks.is_empty()
            && let Some(a) = self.assoc_mut(id)
        {
            packet.verification_tag = a.vtags().0;
            a.handle_packet(now, from, &packet);
        }
    }

    /// An ICMP port unreachable came back for a datagram we sent to `to`
    /// (UDP destination) whose first bytes were `original`. If it carries
    /// an association's own verification tag, the peer's endpoint is gone:
    /// treat it as an ABORT (RFC 9260 Appendix C). Blind ICMP without the
    /// tag is ignored.
    pub fn handle_port_unreachable(&mut self, to: SocketAddr, original: &[u8]) {
        let Some((src, dst, vtag)) = Packet::peek_header(original) else {
            return;
        };
        if src != self.local_port {
            return;
        }
        let Some(id) = self.find(SocketAddr::new(to.ip(), dst)) else {
            return;
        };
        // An INIT carries tag 0; its Initiate Tag (bytes 16..20) proves it ours.
        let init_tag = match original.get(12) {
            Some(&crate::proto::wire::chunk_type::INIT) => original
                .get(16..20)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]])),
            _ => None,
        };
        if let Some(a) = self.assoc_mut(id) {
            a.on_port_unreachable(to, vtag, init_tag);
        }
    }

    /// Next datagram to send. When the queue is empty, one pass takes
    /// everything the associations changed since the last pass have to
    /// send (an association's datagrams change only with its state): with
    /// many associations, looking at every one would cost them all per turn.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Transmit> {
        if self.outbox.is_empty() {
            for id in std::mem::take(&mut self.to_transmit) {
                if let Some(a) = self.assocs.get_mut(&id) {
                    while let Some(t) = a.poll_transmit(now) {
                        self.outbox.push_back(t);
                    }
                    // Sending starts timers (T3-rtx, T1, heartbeats).
                    self.to_rearm.insert(id);
                }
            }
        }
        self.outbox.pop_front()
    }

    /// Puts the deadlines of the associations changed since the last call
    /// into the heap; rebuilds it once stale entries outnumber live ones.
    fn rearm(&mut self) {
        for id in std::mem::take(&mut self.to_rearm) {
            let due = self.assocs.get(&id).and_then(Association::poll_timeout);
            match due {
                Some(t) if self.armed.get(&id) != Some(&t) => {
                    self.armed.insert(id, t);
                    self.timers.push(Reverse((t, id)));
                }
                Some(_) => {}
                None => {
                    self.armed.remove(&id);
                }
            }
        }
        if self.timers.len() > 2 * self.armed.len() + 64 {
            self.timers = self
                .armed
                .iter()
                .map(|(&id, &t)| Reverse((t, id)))
                .collect();
        }
    }

    /// The earliest current heap entry (stale ones are dropped).
    fn next_timer(&mut self) -> Option<(Instant, AssocId)> {
        self.rearm();
        while let Some(&Reverse((t, id))) = self.timers.peek() {
            if self.armed.get(&id) == Some(&t) {
                return Some((t, id));
            }
            self.timers.pop();
        }
        None
    }

    /// Earliest deadline of any association.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        self.next_timer().map(|(t, _)| t)
    }

    /// Fires due timers.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((_, id)) = self.next_timer().filter(|&(t, _)| t <= now) {
            self.timers.pop();
            self.armed.remove(&id);
            if let Some(a) = self.assoc_mut(id)
                && a.poll_timeout().is_some_and(|d| d <= now)
            {
                a.handle_timeout(now);
            }
        }
    }

    /// Next event of any association. A closed association stops being
    /// reachable by peer address at once, so a new one can replace it.
    pub fn poll_event(&mut self) -> Option<(AssocId, AssocEvent)> {
        if let Some(e) = self.events.pop_front() {
            return Some(e);
        }
        let mut closed = Vec::new();
        for id in std::mem::take(&mut self.to_report) {
            let Some(a) = self.assocs.get_mut(&id) else {
                continue;
            };
            while let Some(ev) = a.poll_event() {
                if matches!(ev, AssocEvent::Closed { .. }) {
                    closed.push(id);
                }
                self.events.push_back((id, ev));
            }
        }
        for id in closed {
            if let Some(a) = self.assocs.remove(&id) {
                self.unmap(&a, id);
                self.assocs.insert(id, a);
            }
        }
        self.events.pop_front()
    }

    /// Time since the endpoint started (for cookie ages).
    pub fn age(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.epoch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::assoc::CloseReason;
    use crate::proto::harness::epoch;

    fn peer(i: u16) -> SocketAddr {
        SocketAddr::new(IpAddr::from([10, 0, (i >> 8) as u8, i as u8]), 9)
    }

    fn drain(ep: &mut Endpoint, now: Instant) -> usize {
        std::iter::from_fn(|| ep.poll_transmit(now)).count()
    }

    /// Many associations whose peers never answer: each one's T1 fires on
    /// time from the heap, only the changed ones are polled, and all time
    /// out together (no timer lost to stale heap entries or rebuilds).
    #[test]
    fn timers_of_many_associations_fire_from_the_heap() {
        let cfg = Config {
            max_init_retransmits: 3,
            ..Config::default()
        };
        let mut t = epoch();
        let mut ep = Endpoint::new(cfg, 5000, [7; 32], t);
        let n = 300;
        for i in 0..n {
            ep.connect(t, peer(i), 9899).expect("connect");
        }
        assert_eq!(ep.take_changed().len(), usize::from(n));
        assert_eq!(drain(&mut ep, t), usize::from(n), "one INIT each");
        assert_eq!(drain(&mut ep, t), 0, "nothing changed since");
        // One association changes: only it is looked at again.
        let first = ep.assoc_ids().next().expect("held");
        ep.assoc_mut(first).expect("held").abort(t, b"test");
        assert_eq!(ep.take_changed().into_iter().collect::<Vec<_>>(), [first]);
        assert_eq!(
            drain(&mut ep, t),
            0,
            "an ABORT is not sent before the INIT ACK"
        );
        let mut rounds = 0;
        let mut closed = 0;
        while let Some(due) = ep.poll_timeout() {
            assert!(due >= t, "deadlines never go back in time");
            t = due;
            ep.handle_timeout(t);
            let sent = drain(&mut ep, t);
            assert!(sent == 0 || sent == usize::from(n) - 1, "{sent} INITs");
            while let Some((_, ev)) = ep.poll_event() {
                if let AssocEvent::Closed {
                    reason: CloseReason::TimedOut,
                    ..
                } = ev
                {
                    closed += 1;
                }
            }
            rounds += 1;
            assert!(rounds < 100, "timers keep firing");
        }
        assert_eq!(closed, n - 1, "every unanswered association timed out");
        assert!(ep.timers.len() <= 2 * ep.armed.len() + 64);
    }
}
