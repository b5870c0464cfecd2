//! Two-peer in-memory harness on virtual time, with a seeded impaired link
//! (loss, duplication, reordering, delay, corruption). Protocol tests are a
//! few lines on top of [`Pair`].

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use crate::proto::assoc::{AssocEvent, AssocId};
use crate::proto::config::Config;
use crate::proto::endpoint::Endpoint;
use crate::proto::wire::{Chunk, Packet};

/// Tiny deterministic PRNG for link impairments.
#[derive(Clone, Debug)]
pub struct XorShift(pub u64);

impl XorShift {
    /// Next raw value.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }
}

/// Impairments applied to every packet, both directions.
#[derive(Clone, Debug)]
pub struct Link {
    pub loss: f64,
    pub dup: f64,
    /// Probability a packet gets extra delay (up to `reorder_by`) and so overtakes others.
    pub reorder: f64,
    pub reorder_by: Duration,
    pub corrupt: f64,
    pub delay: Duration,
    pub rng: XorShift,
    /// Drop everything (a dead link).
    pub down: bool,
}

impl Default for Link {
    fn default() -> Self {
        Link {
            loss: 0.0,
            dup: 0.0,
            reorder: 0.0,
            reorder_by: Duration::from_millis(20),
            corrupt: 0.0,
            delay: Duration::from_millis(5),
            rng: XorShift(0x9e37_79b9_7f4a_7c15),
            down: false,
        }
    }
}

/// Which side sent a traced packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    A,
    Z,
}

/// A packet as it left its sender (before impairment).
#[derive(Clone, Debug)]
pub struct Traced {
    pub at: Instant,
    pub from: Side,
    pub packet: Packet,
}

/// A datagram on the link: (arrival, sequence, to Z?, bytes, source
/// address), ordered by arrival.
type InFlight = Reverse<(Instant, u64, bool, Vec<u8>, SocketAddr)>;
/// Test hook deciding whether to drop a packet.
pub type DropFilter = Box<dyn FnMut(Side, &Packet) -> bool>;

/// Two endpoints joined by a link, on virtual time.
pub struct Pair {
    pub a: Endpoint,
    pub z: Endpoint,
    pub a_addr: SocketAddr,
    pub z_addr: SocketAddr,
    pub now: Instant,
    pub link: Link,
    queue: BinaryHeap<InFlight>,
    seq: u64,
    pub a_events: Vec<(AssocId, AssocEvent)>,
    pub z_events: Vec<(AssocId, AssocEvent)>,
    pub trace: Vec<Traced>,
    /// Record every packet in `trace` (off for bulk tests, to save memory).
    pub tracing: bool,
    /// Drop the next packets sent by a side whose first chunk matches (test hook).
    pub drop_filter: Option<DropFilter>,
    /// Largest SCTP packet the link carries whole. A bigger one is a test
    /// failure unless `icmp_mtu` is set: then it is dropped and its sender
    /// told the path MTU (ICMP "fragmentation needed"), or, sent as
    /// fragmentable, delivered and counted in `fragmented`.
    pub link_mtu: usize,
    pub icmp_mtu: Option<usize>,
    pub fragmented: usize,
    /// Packets larger than `link_mtu` vanish without a word (a path that
    /// blocks ICMP), counted in `black_holed`.
    pub black_hole: bool,
    pub black_holed: usize,
    /// More addresses of each side (multi-homing), on A's and Z's ports:
    /// link k joins A's k-th address and Z's (0: `a_addr` and `z_addr`),
    /// and a packet to Z's k-th address leaves from A's k-th (or its
    /// first), as a route would choose.
    pub a_more: Vec<IpAddr>,
    pub z_more: Vec<IpAddr>,
    /// Links that carry nothing (a cut cable).
    pub cut: HashSet<usize>,
}

/// A fixed start of virtual time.
pub fn epoch() -> Instant {
    #[allow(clippy::disallowed_methods)]
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    #[allow(clippy::disallowed_methods)]
    *START.get_or_init(Instant::now)
}

impl Pair {
    /// Endpoints on 127.0.0.1:5001 (A) and 127.0.0.2:5002 (Z, listening).
    pub fn new(cfg_a: Config, cfg_z: Config) -> Pair {
        let now = epoch();
        let a_addr: SocketAddr = "127.0.0.1:5001".parse().expect("literal");
        let z_addr: SocketAddr = "127.0.0.2:5002".parse().expect("literal");
        let a = Endpoint::new(cfg_a, a_addr.port(), [1; 32], now);
        let mut z = Endpoint::new(cfg_z, z_addr.port(), [2; 32], now);
        z.listen(true);
        Pair {
            a,
            z,
            a_addr,
            z_addr,
            now,
            link: Link::default(),
            queue: BinaryHeap::new(),
            seq: 0,
            a_events: Vec::new(),
            z_events: Vec::new(),
            trace: Vec::new(),
            tracing: true,
            drop_filter: None,
            link_mtu: 1500,
            icmp_mtu: None,
            fragmented: 0,
            black_hole: false,
            black_holed: 0,
            a_more: Vec::new(),
            z_more: Vec::new(),
            cut: HashSet::new(),
        }
    }

    /// Side `side`'s k-th address (0: its first).
    fn addr_of(&self, side: Side, k: usize) -> Option<SocketAddr> {
        let (first, more) = match side {
            Side::A => (self.a_addr, &self.a_more),
            Side::Z => (self.z_addr, &self.z_more),
        };
        match k {
            0 => Some(first),
            k => more.get(k - 1).map(|ip| SocketAddr::new(*ip, first.port())),
        }
    }

    /// Which link a packet from `from` to `dst` takes (None: an address
    /// the other side does not have).
    fn link_to(&self, from: Side, dst: SocketAddr) -> Option<usize> {
        let to = if from == Side::A { Side::Z } else { Side::A };
        (0..=self.a_more.len().max(self.z_more.len()))
            .find(|&k| self.addr_of(to, k).is_some_and(|a| a.ip() == dst.ip()))
    }

    /// Two endpoints with default settings.
    pub fn default_pair() -> Pair {
        Pair::new(Config::default(), Config::default())
    }

    /// A connects to Z; returns A's association id (not yet established).
    pub fn connect(&mut self) -> AssocId {
        let id = self
            .a
            .connect(self.now, self.z_addr, self.z_addr.port())
            .expect("connect");
        self.flush();
        id
    }

    /// Connects and drives until both sides are up; returns (A's id, Z's id).
    pub fn establish(&mut self) -> (AssocId, AssocId) {
        let a = self.connect();
        assert!(
            self.run_until(Duration::from_secs(60), |p| p.z_id().is_some() && p.a_up(a)),
            "handshake did not finish"
        );
        let z = self.z_id().expect("accepted");
        (a, z)
    }

    /// Z's first association, if any.
    pub fn z_id(&self) -> Option<AssocId> {
        self.z.assoc_ids().next()
    }

    fn a_up(&self, id: AssocId) -> bool {
        self.a.assoc(id).is_some_and(|a| a.is_established())
    }

    /// Moves every packet the endpoints want to send onto the link.
    pub fn flush(&mut self) {
        loop {
            let mut any = false;
            while let Some(t) = self.a.poll_transmit(self.now) {
                assert_eq!(t.dst.port(), self.z_addr.port(), "A sent to another port");
                self.launch(Side::A, t.dst, t.payload, t.frag_ok);
                any = true;
            }
            while let Some(t) = self.z.poll_transmit(self.now) {
                assert_eq!(t.dst.port(), self.a_addr.port(), "Z sent to another port");
                self.launch(Side::Z, t.dst, t.payload, t.frag_ok);
                any = true;
            }
            if !any {
                break;
            }
        }
        while let Some(e) = self.a.poll_event() {
            self.a_events.push(e);
        }
        while let Some(e) = self.z.poll_event() {
            self.z_events.push(e);
        }
    }

    fn launch(&mut self, from: Side, dst: SocketAddr, mut bytes: Vec<u8>, frag_ok: bool) {
        let packet = Packet::decode(&bytes).expect("endpoints send only valid packets");
        let k = self
            .link_to(from, dst)
            .unwrap_or_else(|| panic!("{from:?} sent to an unknown address {dst}"));
        let src = self
            .addr_of(from, k)
            .or_else(|| self.addr_of(from, 0))
            .expect("a first address");
        if self.tracing {
            self.trace.push(Traced {
                at: self.now,
                from,
                packet: packet.clone(),
            });
        }
        if bytes.len() > self.link_mtu {
            if frag_ok {
                self.fragmented += 1;
            } else if self.black_hole {
                self.black_holed += 1;
                return;
            } else {
                let icmp = self.icmp_mtu.expect("packet larger than the link's MTU");
                let sender = match from {
                    Side::A => &mut self.a,
                    Side::Z => &mut self.z,
                };
                sender.handle_packet_too_big(self.now, dst, &bytes, icmp);
                return;
            }
        }
        if let Some(f) = self.drop_filter.as_mut()
            && f(from, &packet)
        {
            return;
        }
        let link = &mut self.link;
        if link.down || self.cut.contains(&k) || link.rng.chance(link.loss) {
            return;
        }
        let copies = if link.rng.chance(link.dup) { 2 } else { 1 };
        if link.rng.chance(link.corrupt) {
            let i = link.rng.below(bytes.len() as u64) as usize;
            bytes[i] ^= 1 << link.rng.below(8);
        }
        for _ in 0..copies {
            let mut at = self.now + link.delay;
            if link.rng.chance(link.reorder) {
                at += Duration::from_micros(link.rng.below(link.reorder_by.as_micros() as u64 + 1));
            }
            self.seq += 1;
            self.queue
                .push(Reverse((at, self.seq, from == Side::A, bytes.clone(), src)));
        }
    }

    /// Delivers due packets and fires due timers, once.
    fn deliver_due(&mut self) {
        while let Some(Reverse((at, ..))) = self.queue.peek() {
            if *at > self.now {
                break;
            }
            let Some(Reverse((_, _, to_z, bytes, src))) = self.queue.pop() else {
                break;
            };
            if to_z {
                self.z.handle(self.now, src, &bytes);
            } else {
                self.a.handle(self.now, src, &bytes);
            }
            self.flush();
        }
        if self.a.poll_timeout().is_some_and(|t| t <= self.now) {
            self.a.handle_timeout(self.now);
        }
        if self.z.poll_timeout().is_some_and(|t| t <= self.now) {
            self.z.handle_timeout(self.now);
        }
        self.flush();
    }

    /// The next moment something happens, if anything will.
    fn next_deadline(&mut self) -> Option<Instant> {
        [
            self.queue.peek().map(|Reverse((t, ..))| *t),
            self.a.poll_timeout(),
            self.z.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Advances virtual time event by event until `done` holds or `limit`
    /// of virtual time passes; returns whether `done` held.
    pub fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&mut Pair) -> bool) -> bool {
        let end = self.now + limit;
        self.flush();
        loop {
            self.deliver_due();
            if done(self) {
                return true;
            }
            // The check may have acted (read, sent): let the endpoints answer.
            self.flush();
            match self.next_deadline() {
                Some(t) if t <= end => self.now = self.now.max(t),
                _ => {
                    self.now = end;
                    return done(self);
                }
            }
        }
    }

    /// Advances virtual time by `d`, processing everything due.
    pub fn run_for(&mut self, d: Duration) {
        self.run_until(d, |_| false);
    }

    /// Packets in the trace sent by `side` whose chunks satisfy `pred`.
    pub fn count_sent(&self, side: Side, pred: impl Fn(&Chunk) -> bool) -> usize {
        self.trace
            .iter()
            .filter(|t| t.from == side && t.packet.chunks.iter().any(&pred))
            .count()
    }
}
