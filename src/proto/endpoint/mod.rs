//! An SCTP endpoint (one local port): demultiplexes packets to its
//! associations, answers INIT statelessly with a signed cookie (§5.1.3),
//! creates associations from valid COOKIE ECHOs, handles out-of-the-blue
//! packets (§8.4) and keeps the accept queue. It holds any number of
//! associations, so one-to-one and one-to-many sockets both sit on it.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::proto::Transmit;
use crate::proto::assoc::handshake::{self, CookieOutcome, InitAnswer, init_is_valid};
use crate::proto::assoc::multihome;
use crate::proto::assoc::rx::Message;
use crate::proto::assoc::tx::OutMessage;
use crate::proto::assoc::{AssocEvent, AssocId, Association, SendError};
use crate::proto::config::Config;
use crate::proto::cookie::{CookieData, CookieError, Rng};
use crate::proto::deadlines::Deadlines;
use crate::proto::wire::{
    Abort, Chunk, ErrorCause, ErrorChunk, Init, Packet, Param, ShutdownComplete, UnknownAction,
};

mod inbound;

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
    /// The listener is an IPV6_V6ONLY socket: IPv4 peers find no endpoint.
    v6_only: bool,
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
    /// Associations whose last chunk (their ABORT, SHUTDOWN COMPLETE) went
    /// out in `poll_transmit`: over only then, which the caller has to see
    /// (`take_changed`) though nothing else changes them again.
    finished: BTreeSet<AssocId>,
    /// Each association's next deadline.
    timers: Deadlines<AssocId>,
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
            v6_only: false,
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
            finished: BTreeSet::new(),
            timers: Deadlines::default(),
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
        if !on {
            self.v6_only = false;
        }
        // A new (or no) listener holds nothing for accept() yet.
        self.waiting = 0;
    }

    /// The listener takes IPv6 peers only (IPV6_V6ONLY): an IPv4 or
    /// v4-mapped peer's INIT and COOKIE ECHO are refused as if nobody
    /// listened (Linux finds no endpoint for them).
    pub fn set_v6_only(&mut self, on: bool) {
        self.v6_only = on;
    }

    /// Whether a new association from `from` may be accepted.
    fn takes(&self, from: SocketAddr) -> bool {
        self.listening
            && !(self.v6_only
                && match from {
                    SocketAddr::V4(_) => true,
                    SocketAddr::V6(a) => a.ip().to_ipv4_mapped().is_some(),
                })
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

    /// Gives association `id` the receive space it shares with the other
    /// associations of its socket. Only one whose window update is now due
    /// counts as changed: with thousands of associations on a socket whose
    /// shared space moved, the others are not all looked at again (each
    /// advertises the space with its next SACK).
    pub fn share_space(&mut self, id: AssocId, space: usize) {
        let due = self
            .assocs
            .get_mut(&id)
            .is_some_and(|a| a.set_shared_space(Some(space)));
        if due {
            self.touch(id);
        }
    }

    /// Receive buffer auto-tuning: association `id`'s window may grow to
    /// `bytes` (`Association::grow_rcvbuf`).
    pub fn grow_rcvbuf(&mut self, id: AssocId, bytes: usize) {
        let due = self
            .assocs
            .get_mut(&id)
            .is_some_and(|a| a.grow_rcvbuf(bytes));
        if due {
            self.touch(id);
        }
    }

    /// Marks an association changed (see `assoc_mut`).
    fn touch(&mut self, id: AssocId) {
        self.assoc_mut(id);
    }

    /// The associations changed (by packets, timers or calls) since the
    /// last call: all a caller has to look at again.
    pub fn take_changed(&mut self) -> BTreeSet<AssocId> {
        let mut changed = std::mem::take(&mut self.changed);
        changed.append(&mut self.finished);
        changed
    }

    /// True if datagrams or events wait to be taken (by `poll_transmit` and
    /// `poll_event`), now or once changed associations are looked at.
    pub fn has_output(&self) -> bool {
        !self.outbox.is_empty()
            || !self.events.is_empty()
            || !self.to_transmit.is_empty()
            || !self.to_report.is_empty()
            || !self.finished.is_empty()
    }

    /// True if the endpoint has work before its next deadline: datagrams
    /// or events waiting, or associations changed since they were drained.
    pub fn is_busy(&self) -> bool {
        !self.outbox.is_empty()
            || !self.events.is_empty()
            || !self.to_transmit.is_empty()
            || !self.to_report.is_empty()
            || !self.changed.is_empty()
            || !self.finished.is_empty()
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
        self.timers.set(id, None);
        for set in [
            &mut self.to_transmit,
            &mut self.to_report,
            &mut self.to_rearm,
            &mut self.changed,
        ] {
            set.remove(&id);
        }
    }

    /// sctp_connectx's other addresses: confirmed paths of association
    /// `id` (the INIT retransmissions visit them in turn), and packets from
    /// them reach it.
    pub fn add_peer_paths(&mut self, id: AssocId, addrs: &[IpAddr]) {
        if let Some(a) = self.assocs.get_mut(&id) {
            a.add_paths(addrs, true);
        }
        self.map_new_paths(id);
    }

    /// Packets from the addresses an association added as paths (the
    /// peer's INIT ACK listed them) reach it.
    fn map_new_paths(&mut self, id: AssocId) {
        let Some(a) = self.assocs.get_mut(&id) else {
            return;
        };
        if !a.take_paths_added() {
            return;
        }
        let port = a.peer_port();
        let addrs: Vec<IpAddr> = a.peer_addrs().collect();
        for ip in addrs {
            self.by_peer.entry((ip, port)).or_insert(id);
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
        // (The endpoint's addresses are its own, whoever's settings.)
        let cfg = Config {
            own_addrs: self.cfg.own_addrs.clone(),
            ..cfg
        };
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

    /// Next datagram to send. When the queue is empty, one pass takes
    /// everything the associations changed since the last pass have to
    /// send (an association's datagrams change only with its state): with
    /// many associations, looking at every one would cost them all per turn.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Transmit> {
        if self.outbox.is_empty() {
            for id in std::mem::take(&mut self.to_transmit) {
                if let Some(a) = self.assocs.get_mut(&id) {
                    let before = self.outbox.len();
                    while let Some(t) = a.poll_transmit(now) {
                        self.outbox.push_back(t);
                    }
                    if self.outbox.len() > before && a.is_closed() {
                        self.finished.insert(id);
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
            self.timers.set(id, due);
        }
    }

    /// The earliest current heap entry (stale ones are dropped).
    fn next_timer(&mut self) -> Option<(Instant, AssocId)> {
        self.rearm();
        self.timers.earliest()
    }

    /// Earliest deadline of any association.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        self.next_timer().map(|(t, _)| t)
    }

    /// Fires due timers.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((_, id)) = self.next_timer().filter(|&(t, _)| t <= now) {
            self.timers.set(id, None);
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
        assert!(ep.timers.is_compact());
    }

    /// An IPV6_V6ONLY listener: an IPv4 or v4-mapped peer's INIT finds
    /// nobody (ABORT), an IPv6 peer's gets its INIT ACK.
    #[test]
    fn a_v6_only_listener_refuses_ipv4_peers() {
        let t = epoch();
        let mut server = Endpoint::new(Config::default(), 7000, [1; 32], t);
        server.listen(true);
        server.set_v6_only(true);
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:9899".parse().unwrap();
        let v4: SocketAddr = "127.0.0.1:9899".parse().unwrap();
        let v6: SocketAddr = "[::1]:9899".parse().unwrap();
        for (from, want) in [
            (v4, crate::proto::wire::chunk_type::ABORT),
            (mapped, crate::proto::wire::chunk_type::ABORT),
            (v6, crate::proto::wire::chunk_type::INIT_ACK),
        ] {
            let mut client = Endpoint::new(Config::default(), 6000, [2; 32], t);
            client
                .connect(t, SocketAddr::new(from.ip(), 7000), 9899)
                .unwrap();
            let init = client.poll_transmit(t).expect("INIT");
            server.handle(t, from, &init.payload);
            let answer = server.poll_transmit(t).expect("an answer");
            assert_eq!(answer.payload[12], want, "answer to {from}");
        }
        server.listen(false);
        server.listen(true);
        let mut client = Endpoint::new(Config::default(), 6000, [3; 32], t);
        client
            .connect(t, SocketAddr::new(v4.ip(), 7000), 9899)
            .unwrap();
        let init = client.poll_transmit(t).expect("INIT");
        server.handle(t, v4, &init.payload);
        let answer = server.poll_transmit(t).expect("an answer");
        assert_eq!(
            answer.payload[12],
            crate::proto::wire::chunk_type::INIT_ACK,
            "a new listener takes IPv4 again"
        );
    }

    /// A client in COOKIE-WAIT and the packet `chunk` from its peer under
    /// tag `vtag`: what it answers.
    fn cookie_wait_answer(vtag: u32, chunk: Chunk) -> Option<Packet> {
        let t = epoch();
        let server: SocketAddr = "127.0.0.1:7000".parse().unwrap();
        let mut client = Endpoint::new(Config::default(), 6000, [4; 32], t);
        client.connect(t, server, 7000).unwrap();
        let init = Packet::decode(&client.poll_transmit(t).expect("INIT").payload).unwrap();
        let Chunk::Init(i) = &init.chunks[0] else {
            panic!("INIT")
        };
        let vtag = if vtag == 0 { i.initiate_tag } else { vtag };
        let p = Packet {
            src_port: 7000,
            dst_port: 6000,
            verification_tag: vtag,
            chunks: vec![chunk],
        };
        client.handle(t, server, &p.encode());
        client
            .poll_transmit(t)
            .map(|x| Packet::decode(&x.payload).unwrap())
    }

    /// RFC 9260 §9.2 / §8.5.1 C: a SHUTDOWN ACK in COOKIE-WAIT is out of the
    /// blue (§8.4 rule 5): SHUTDOWN COMPLETE with its tag and the T bit.
    #[test]
    fn shutdown_ack_in_cookie_wait_gets_shutdown_complete_with_t_bit() {
        let r = cookie_wait_answer(0x5555, Chunk::ShutdownAck).expect("an answer");
        assert_eq!(r.verification_tag, 0x5555);
        assert!(matches!(
            r.chunks[0],
            Chunk::ShutdownComplete(ShutdownComplete { t_bit: true })
        ));
    }

    /// RFC 9260 §5.1.2, §3.3.10.5: an INIT ACK with a Host Name Address is
    /// answered with ABORT "Unresolvable Address", under the peer's tag.
    #[test]
    fn init_ack_with_a_host_name_is_aborted_as_unresolvable() {
        let ia = Init {
            initiate_tag: 0x2000,
            a_rwnd: 65536,
            outbound_streams: 10,
            inbound_streams: 10,
            initial_tsn: 1,
            params: vec![
                Param::StateCookie(b"cookie".to_vec()),
                Param::HostNameAddress(b"peer.example\0".to_vec()),
            ],
        };
        let r = cookie_wait_answer(0, Chunk::InitAck(ia)).expect("an answer");
        assert_eq!(r.verification_tag, 0x2000);
        let Chunk::Abort(a) = &r.chunks[0] else {
            panic!("want ABORT: {r:?}")
        };
        assert!(matches!(
            a.causes[0],
            ErrorCause::UnresolvableAddress { .. }
        ));
    }

    /// An association closed by its own ABORT is over only once the ABORT
    /// went out (`is_closed`): it shows in `take_changed` again then, so
    /// that its owner releases it though nothing else changes it.
    #[test]
    fn an_association_is_changed_when_its_last_chunk_goes() {
        let mut p = crate::proto::harness::Pair::default_pair();
        let (a, _) = p.establish();
        p.a.take_changed();
        let t = p.now;
        p.a.assoc_mut(a).expect("up").abort(t, b"test");
        assert_eq!(p.a.take_changed().into_iter().collect::<Vec<_>>(), [a]);
        assert!(!p.a.assoc(a).expect("held").is_closed(), "the ABORT waits");
        assert!(
            !p.a.has_output() || p.a.poll_transmit(t).is_some(),
            "the ABORT goes"
        );
        assert!(p.a.poll_transmit(t).is_none(), "one packet");
        assert!(p.a.assoc(a).expect("held").is_closed());
        assert!(p.a.has_output(), "the caller is told to look again");
        assert_eq!(p.a.take_changed().into_iter().collect::<Vec<_>>(), [a]);
        assert!(p.a.take_changed().is_empty(), "once");
    }
}
