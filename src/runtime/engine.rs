//! Engine state and thread. See the module documentation in `mod.rs`.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::os::raw::c_int;
use std::time::{Duration, Instant};

// std's futex mutex, not parking_lot's: the lock is held across fork() and
// released in the child, and parking_lot's eventually-fair unlock can hand it
// to the engine thread, which does not exist in the child.
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use crate::proto::Config;
use crate::proto::assoc::{AssocEvent, AssocId, Association, CloseReason};
use crate::proto::endpoint::Endpoint;
use crate::sys;

mod calls;
mod deliver;
mod inbox;
mod many;
mod notify;
mod send;

pub use calls::AssocView;
pub use inbox::Slice;
pub use many::{RecordMeta, SCTP_ABORT, SCTP_EOF, SCTP_UNORDERED, SendSpec, is_many_id};
pub use notify::Events;
pub use send::Ticket;

use inbox::Inbox;
use send::SendSide;

/// Engine-wide handle of one application socket.
pub type SockId = u64;

/// Largest chunk of application bytes taken as one SCTP message.
const APP_READ: usize = 64 * 1024;
/// Bytes of received data staged toward the application at most.
const TO_APP_MAX: usize = 256 * 1024;

#[derive(Debug, PartialEq, Eq)]
enum Kind {
    /// Created, maybe bound, not yet listening or connected.
    Fresh,
    /// Accepting associations; one byte per pending association sits in the pair.
    Listener { pending: VecDeque<AssocId> },
    /// One association (TCP-style socket).
    Stream { assoc: AssocId },
    /// Any number of associations (UDP-style socket, see `many.rs`).
    Many,
}

#[derive(Debug)]
struct Sock {
    v6: bool,
    /// SCTP_I_WANT_MAPPED_V4_ADDR: an AF_INET6 socket reports IPv4 peers as
    /// v4-mapped IPv6 addresses (on by default, as in Linux).
    v4mapped: bool,
    /// SO_REUSEADDR / SCTP_REUSE_PORT: may share its port with other
    /// sockets that allow it too, none of them listening (Linux's
    /// sctp_get_port_local rule). Sharers use one endpoint (UDP socket).
    reuse: bool,
    kind: Kind,
    /// Local SCTP port once bound.
    port: Option<u16>,
    /// Address the application bound (unspecified when it did not say).
    local: Option<SocketAddr>,
    peer: Option<SocketAddr>,
    /// Engine end of the socketpair.
    efd: c_int,
    /// Received messages and notifications on their way to the application.
    inbox: Inbox,
    /// One-to-one send side: the pair's bytes cut back into messages.
    tx: Arc<SendSide>,
    /// Send parameters of bytes no send call described (SCTP_DEFAULT_SNDINFO).
    default_spec: SendSpec,
    /// Subscribed notifications (SCTP_EVENTS / SCTP_EVENT): the socket's,
    /// which associations start with.
    events: Events,
    /// Associations whose subscriptions differ from `events` (Linux keeps
    /// them per association: SCTP_EVENT with an association id, or a
    /// socket-wide change the existing associations do not take).
    assoc_events: HashMap<AssocId, Events>,
    /// SCTP_RECVRCVINFO / SCTP_RECVNXTINFO.
    recv_rcvinfo: bool,
    recv_nxtinfo: bool,
    /// SCTP_AUTOCLOSE in seconds (one-to-many sockets; 0: off).
    autoclose: u32,
    /// What notifications need to remember about each association.
    watch: HashMap<AssocId, Watch>,
    /// The association ended: EOF once `to_app` is flushed.
    eof_pending: bool,
    eof_sent: bool,
    /// The application's end is closed (EOF read on `efd`).
    app_gone: bool,
    /// The association is over and `efd` is shut both ways: the app reads
    /// EOF after the data and gets EPIPE on write, as from a kernel socket.
    shut: bool,
    /// Descriptors of this process that refer to the socket (fd table entries).
    refs: usize,
    /// Error a read at EOF reports once (ECONNRESET after an abort, ...).
    terminal: c_int,
    /// The application has read EOF (or the terminal error) once already.
    eof_seen: bool,
    /// The application's end hung up (or errored), as epoll last said.
    hup: bool,
    /// SO_LINGER on with a zero timeout: close aborts instead of shutting down.
    linger_abort: bool,
    /// Addresses added with sctp_bindx beyond the bound one (listed by
    /// sctp_getladdrs; not used as paths yet: associations are single-homed).
    extra_local: Vec<IpAddr>,
    /// Per-socket protocol settings (SCTP_INITMSG, ...), given to the
    /// endpoint when the socket is bound.
    cfg: Config,
    /// Bytes written into the pair to hold off POLLOUT during a non-blocking
    /// connect; dropped once the handshake ends.
    junk: usize,
    connected: bool,
    /// errno for SO_ERROR / connect.
    error: c_int,
    /// Received bytes each association holds for this socket (as last
    /// looked at), and their sum: the socket's share of SO_RCVBUF in use.
    held: HashMap<AssocId, usize>,
    held_total: usize,
    /// The free receive space last given to all the socket's associations.
    shared_free: Option<usize>,
    /// Associations with messages that wait for room in the inbox.
    stalled: BTreeSet<AssocId>,
}

/// Per-association notes of a socket.
#[derive(Debug)]
struct Watch {
    /// COMM_UP was reported (a later close is COMM_LOST, not CANT_STR_ASSOC).
    up: bool,
    /// Nothing queued or unacknowledged (SENDER_DRY fires when it becomes so).
    dry: bool,
    /// Last data sent or received (SCTP_AUTOCLOSE).
    active: Instant,
}

impl Watch {
    fn new() -> Watch {
        Watch {
            up: false,
            dry: true,
            active: now(),
        }
    }
}

#[derive(Debug)]
struct Ep {
    endpoint: Endpoint,
    udp: c_int,
    listener: Option<SockId>,
    socks: HashMap<AssocId, SockId>,
}

impl Ep {
    /// The associations of socket `sid` on this endpoint.
    fn assocs_of(&self, sid: SockId) -> Vec<AssocId> {
        self.socks
            .iter()
            .filter(|&(_, &x)| x == sid)
            .map(|(&a, _)| a)
            .collect()
    }
}

#[derive(Debug, Default)]
struct State {
    socks: HashMap<SockId, Sock>,
    eps: HashMap<u16, Ep>,
    next: SockId,
    /// Set by the exit hook: shut every association down.
    exiting: bool,
    /// Sockets freed since the engine last forgot their send sides.
    reaped: Vec<SockId>,
    /// Descriptors of freed sockets and endpoints, closed by
    /// `Engine::forget_reaped` once unregistered from epoll.
    closing: Vec<c_int>,
    /// Descriptors unregistered and closed since the engine's last sync.
    unwatched: Vec<c_int>,
    /// SCTPSHIM_IMPAIR: loss, duplication, delay... on every datagram.
    impair: Option<super::impair::Impair>,
    /// The next turn looks at every endpoint, association and socket: set
    /// by application calls (which may change anything), at exit and for
    /// SCTP_AUTOCLOSE. Other turns look only at what changed: associations
    /// the endpoints report (packets, timers, calls) and `dirty` sockets.
    sweep: bool,
    /// Sockets the application read from or wrote to since the last turn.
    dirty: HashSet<SockId>,
    /// Sockets the last turn looked at (their epoll interest may differ);
    /// `sync_all`: every socket's may.
    visited: HashSet<SockId>,
    sync_all: bool,
    /// When the last sweep was.
    swept: Option<Instant>,
}

/// The per-process engine.
pub struct Engine {
    state: Mutex<State>,
    /// Send sides of one-to-one sockets by id, for sending threads (never
    /// held while taking `state`).
    sends: Mutex<HashMap<SockId, Arc<SendSide>>>,
    cond: Condvar,
    wake_w: c_int,
    wake_r: c_int,
    /// The engine thread's epoll instance (-1 until it runs).
    epfd: AtomicI32,
    pid: u32,
    cfg: Config,
}

/// Every engine this process has had: its own, plus the ones inherited
/// through fork (their state stays reachable for inherited sockets, which the
/// parent's engine thread serves).
struct Registry {
    all: Vec<&'static Engine>,
    current: Option<&'static Engine>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    all: Vec::new(),
    current: None,
});

/// Socket ids carry their engine's generation in these high bits.
const GEN_SHIFT: u32 = 40;

fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// Locks held across fork() by the forking thread: the registry, then every
/// engine's state, so the child's copies are consistent and free.
type ForkLocks = (
    Option<MutexGuard<'static, Registry>>,
    Vec<MutexGuard<'static, State>>,
);

thread_local! {
    static HELD_FOR_FORK: std::cell::RefCell<ForkLocks> = const { std::cell::RefCell::new((None, Vec::new())) };
}

/// pthread_atfork "prepare": take the locks (the engine thread may hold one at any time).
pub fn before_fork() {
    let r = registry();
    let engines: Vec<&'static Engine> = r.all.clone();
    let states: Vec<_> = engines.iter().map(|e| e.lock()).collect();
    HELD_FOR_FORK.with(|h| *h.borrow_mut() = (Some(r), states));
}

/// pthread_atfork "parent" and "child": release what `before_fork` took.
pub fn after_fork() {
    HELD_FOR_FORK.with(|h| {
        let mut h = h.borrow_mut();
        h.1.clear();
        h.0 = None;
    });
}

/// This process's engine, started on first use (and again in a forked child,
/// where the parent's engine thread does not exist).
pub fn engine() -> &'static Engine {
    let mut r = registry();
    if let Some(e) = r.current.filter(|e| !e.is_foreign()) {
        return e;
    }
    let generation = r.all.len() as u64;
    let (wake_r, wake_w) = sys::wake_pipe().unwrap_or((-1, -1));
    let e: &'static Engine = Box::leak(Box::new(Engine {
        state: Mutex::new(State {
            next: (generation << GEN_SHIFT) | 1,
            impair: impair_from_env(),
            ..Default::default()
        }),
        sends: Mutex::new(HashMap::new()),
        cond: Condvar::new(),
        wake_w,
        wake_r,
        epfd: AtomicI32::new(-1),
        pid: std::process::id(),
        cfg: config_from_env(),
    }));
    std::thread::Builder::new()
        .name("sctpshim".into())
        .spawn(move || e.run())
        .ok();
    r.all.push(e);
    r.current = Some(e);
    e
}

/// The engine that created socket `id`.
pub fn engine_of(id: SockId) -> Option<&'static Engine> {
    registry().all.get((id >> GEN_SHIFT) as usize).copied()
}

/// This process's own engine, if it has started one (never starts one).
pub fn current_engine() -> Option<&'static Engine> {
    registry().current.filter(|e| !e.is_foreign())
}

/// SCTPSHIM_IMPAIR, if set and valid (an invalid one is reported and ignored).
fn impair_from_env() -> Option<super::impair::Impair> {
    let v = std::env::var("SCTPSHIM_IMPAIR").ok()?;
    match super::impair::Spec::parse(&v) {
        Ok(spec) => Some(super::impair::Impair::new(spec)),
        Err(e) => {
            eprintln!("sctpshim: SCTPSHIM_IMPAIR ignored: {e}");
            None
        }
    }
}

fn config_from_env() -> Config {
    let mut c = Config::default();
    // Loopback and container networks: no need to wait 1 s for a first retransmission.
    if let Some(ms) = std::env::var("SCTPSHIM_RTO_MIN_MS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        c.rto_min = Duration::from_millis(ms);
    }
    if let Some(ms) = std::env::var("SCTPSHIM_RTO_MAX_MS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        c.rto_max = Duration::from_millis(ms);
        c.rto_min = c.rto_min.min(c.rto_max);
        c.rto_initial = c.rto_initial.min(c.rto_max);
    }
    // Association.Max.Retrans and Path.Max.Retrans: how many timeouts in a
    // row end an association (with SCTPSHIM_RTO_MAX_MS, how soon a dead
    // peer is noticed).
    if let Some(n) = std::env::var("SCTPSHIM_MAX_RETRANS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        c.assoc_max_retrans = n;
        c.path_max_retrans = n;
    }
    // The most associations one endpoint (bound port) holds; INITs past it
    // are answered with ABORT.
    if let Some(n) = std::env::var("SCTPSHIM_MAX_ASSOCS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n: &usize| n > 0)
    {
        c.max_associations = n;
    }
    c.nodelay = true;
    c
}

/// `struct sctp_initmsg` values into a config; zero fields keep theirs
/// (RFC 6458 §8.1.3).
fn apply_initmsg(c: &mut Config, v: (u16, u16, u16, u16)) {
    if v.0 != 0 {
        c.outbound_streams = v.0;
    }
    if v.1 != 0 {
        c.max_inbound_streams = v.1;
    }
    if v.2 != 0 {
        c.max_init_retransmits = u32::from(v.2);
    }
    if v.3 != 0 {
        c.max_init_timeo = Duration::from_millis(u64::from(v.3));
    }
}

/// The UDP port to reach `peer` on (RFC 6951): SCTP_REMOTE_UDP_ENCAPS_PORT
/// if set, else the SCTP port (the shim maps SCTP port P to UDP port P).
fn udp_port_for(cfg: &Config, peer: SocketAddr) -> u16 {
    match cfg.remote_udp_port {
        0 => peer.port(),
        p => p,
    }
}

fn errno_of(reason: &CloseReason) -> c_int {
    match reason {
        CloseReason::Graceful => 0,
        CloseReason::Refused => libc::ECONNREFUSED,
        CloseReason::TimedOut => libc::ETIMEDOUT,
        CloseReason::PeerAbort(_) | CloseReason::LocalAbort => libc::ECONNRESET,
    }
}

#[allow(clippy::disallowed_methods)]
fn now() -> Instant {
    Instant::now()
}

impl Engine {
    fn wake(&self) {
        sys::write_fd(self.wake_w, &[1]).ok();
    }

    fn sends(&self) -> MutexGuard<'_, HashMap<SockId, Arc<SendSide>>> {
        self.sends.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn forget_reaped(&self, st: &mut State) {
        // Unregistered from epoll first: a forked child may hold the same
        // files, which would keep their registrations (and events) alive. Not
        // in a child using its parent's engine: the epoll instance is the
        // parent's (shared), and the descriptors only this process's copies.
        let epfd = self.epfd.load(Ordering::Acquire);
        let own = !self.is_foreign();
        for fd in std::mem::take(&mut st.closing) {
            if own && epfd >= 0 {
                let _ = sys::epoll_ctl(epfd, libc::EPOLL_CTL_DEL, fd, 0, 0);
                st.unwatched.push(fd);
            }
            sys::close(fd);
        }
        if !st.reaped.is_empty() {
            let mut sends = self.sends();
            for id in st.reaped.drain(..) {
                sends.remove(&id);
            }
        }
    }

    /// The state, for an application call: it may change anything, so the
    /// engine's next turn sweeps everything.
    fn lock(&self) -> MutexGuard<'_, State> {
        let mut st = self.lock_quiet();
        st.sweep = true;
        st.sync_all = true;
        st
    }

    /// The state, for the engine thread and for application calls that
    /// change nothing the engine must look at again (reading records).
    fn lock_quiet(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves the state usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits on the condition variable until `deadline` (None: forever);
    /// returns the guard and whether the deadline passed.
    fn wait<'a>(
        &self,
        st: MutexGuard<'a, State>,
        deadline: Option<Instant>,
    ) -> (MutexGuard<'a, State>, bool) {
        let (g, timed_out) = match deadline {
            None => (self.cond.wait(st).unwrap_or_else(|e| e.into_inner()), false),
            Some(d) => {
                let left = d.saturating_duration_since(now());
                if left.is_zero() {
                    return (st, true);
                }
                let (g, r) = self
                    .cond
                    .wait_timeout(st, left)
                    .unwrap_or_else(|e| e.into_inner());
                (g, r.timed_out())
            }
        };
        // Callers only look after waiting, or change associations (which
        // the endpoints track): no sweep needed.
        (g, timed_out)
    }

    /// True in a forked child, where the engine thread does not exist.
    pub fn is_foreign(&self) -> bool {
        std::process::id() != self.pid
    }

    /// A new socket; returns its id and the application's descriptor.
    pub fn socket(&self, v6: bool, flags: c_int) -> std::io::Result<(SockId, c_int)> {
        let (afd, efd) = sys::socketpair(
            libc::SOCK_STREAM,
            flags,
            libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
        )?;
        let mut st = self.lock();
        let id = st.next;
        st.next += 1;
        st.socks.insert(id, Sock::new(v6, efd, self.cfg.clone()));
        drop(st);
        self.wake();
        Ok((id, afd))
    }

    /// bind(): takes the UDP port of the same number.
    pub fn bind(&self, id: SockId, addr: SocketAddr) -> Result<(), c_int> {
        let mut st = self.lock();
        let st = &mut *st;
        let s = st.socks.get_mut(&id).ok_or(libc::EBADF)?;
        if s.port.is_some() {
            return Err(libc::EINVAL);
        }
        // An AF_INET socket takes only IPv4 addresses (AF_INET6 ones take both).
        if !s.v6 && addr.is_ipv6() {
            return Err(libc::EINVAL);
        }
        if addr.port() != 0 && st.eps.contains_key(&addr.port()) {
            let port = addr.port();
            let reuse = s.reuse;
            let shareable = st
                .socks
                .values()
                .filter(|o| o.port == Some(port) && !o.app_gone)
                .all(|o| o.reuse && !matches!(o.kind, Kind::Listener { .. }));
            if !(reuse && shareable) || st.eps[&port].listener.is_some() {
                return Err(libc::EADDRINUSE);
            }
            let s = st.socks.get_mut(&id).ok_or(libc::EBADF)?;
            s.port = Some(port);
            s.local = Some(addr);
            return Ok(());
        }
        let udp = sys::udp_bind(addr).map_err(|e| e.raw_os_error().unwrap_or(libc::EINVAL))?;
        let port = sys::local_addr(udp)
            .map_err(|e| e.raw_os_error().unwrap_or(libc::EINVAL))?
            .port();
        s.port = Some(port);
        s.local = Some(SocketAddr::new(addr.ip(), port));
        // The endpoint's accept queue is claimed by sockets as soon as each
        // association is up, but a burst of COOKIE ECHOs read in one turn
        // would hit its limit first: the socket layer does the limiting.
        let mut cfg = s.cfg.clone();
        cfg.backlog = usize::MAX;
        let endpoint = Endpoint::new(cfg, port, sys::random_seed(), now());
        st.eps.insert(
            port,
            Ep {
                endpoint,
                udp,
                listener: None,
                socks: HashMap::new(),
            },
        );
        self.wake();
        Ok(())
    }

    fn ensure_bound(&self, id: SockId) -> Result<(), c_int> {
        let (bound, v6) = {
            let st = self.lock();
            let s = st.socks.get(&id).ok_or(libc::EBADF)?;
            (s.port.is_some(), s.v6)
        };
        if bound {
            return Ok(());
        }
        let any: IpAddr = if v6 {
            std::net::Ipv6Addr::UNSPECIFIED.into()
        } else {
            std::net::Ipv4Addr::UNSPECIFIED.into()
        };
        self.bind(id, SocketAddr::new(any, 0))
    }

    /// listen().
    pub fn listen(&self, id: SockId) -> Result<(), c_int> {
        self.ensure_bound(id)?;
        let mut st = self.lock();
        let st = &mut *st;
        let s = st.socks.get_mut(&id).ok_or(libc::EBADF)?;
        let port = s.port.ok_or(libc::EINVAL)?;
        let ep = st.eps.get_mut(&port).ok_or(libc::EINVAL)?;
        match s.kind {
            Kind::Listener { .. } => return Ok(()),
            Kind::Stream { .. } => return Err(libc::EINVAL),
            // One listener per port, also among sockets sharing it.
            _ if ep.listener.is_some_and(|l| l != id) => return Err(libc::EADDRINUSE),
            Kind::Fresh => {
                s.kind = Kind::Listener {
                    pending: VecDeque::new(),
                }
            }
            // One-to-many: accepted associations join the socket itself.
            Kind::Many => {}
        }
        ep.listener = Some(id);
        ep.endpoint.listen(true);
        Ok(())
    }

    /// connect(); waits for the handshake unless `nonblocking`.
    pub fn connect(&self, id: SockId, peer: SocketAddr, nonblocking: bool) -> Result<(), c_int> {
        self.connect_holding(id, peer, nonblocking, 0)
    }

    /// connect() where the caller filled the pair with `junk` bytes so the
    /// socket does not poll writable before the association is up.
    pub fn connect_holding(
        &self,
        id: SockId,
        peer: SocketAddr,
        nonblocking: bool,
        junk: usize,
    ) -> Result<(), c_int> {
        self.ensure_bound(id)?;
        let mut st = self.lock();
        {
            let st = &mut *st;
            let s = st.socks.get_mut(&id).ok_or(libc::EBADF)?;
            match s.kind {
                Kind::Fresh => {}
                Kind::Listener { .. } | Kind::Many => return Err(libc::EINVAL),
                Kind::Stream { .. } if s.connected => return Err(libc::EISCONN),
                Kind::Stream { .. } if s.error != 0 => return Err(std::mem::take(&mut s.error)),
                Kind::Stream { .. } => return Err(libc::EALREADY),
            }
            let port = s.port.ok_or(libc::EINVAL)?;
            let ep = st.eps.get_mut(&port).ok_or(libc::EINVAL)?;
            // The socket's own settings: sockets sharing a port (reuse)
            // share the endpoint, not their options.
            let assoc = ep
                .endpoint
                .connect_as(now(), peer, udp_port_for(&s.cfg, peer), s.cfg.clone())
                .map_err(|e| match e {
                    crate::proto::endpoint::ConnectError::AlreadyConnected => libc::EISCONN,
                    crate::proto::endpoint::ConnectError::TooMany => libc::EAGAIN,
                    crate::proto::endpoint::ConnectError::InvalidAddress => libc::EINVAL,
                })?;
            ep.socks.insert(assoc, id);
            if let Some(a) = ep.endpoint.assoc(assoc) {
                s.tx.lock().track_limits(a);
            }
            s.kind = Kind::Stream { assoc };
            s.peer = Some(peer);
            s.junk = junk;
        }
        self.wake();
        if nonblocking {
            return Err(libc::EINPROGRESS);
        }
        loop {
            let s = st.socks.get_mut(&id).ok_or(libc::EBADF)?;
            if s.connected {
                return Ok(());
            }
            if s.error != 0 {
                return Err(std::mem::take(&mut s.error));
            }
            st = self.wait(st, None).0;
        }
    }

    /// Takes the next accepted association of a listener (the caller has
    /// consumed its token byte); returns the new socket and app descriptor.
    pub fn accept(&self, id: SockId, flags: c_int) -> Result<(SockId, c_int, SocketAddr), c_int> {
        let (afd, efd) = stream_pair(flags)?;
        let mut st = self.lock();
        let st = &mut *st;
        let l = st.socks.get_mut(&id).ok_or(libc::EBADF)?;
        let (v6, port, local) = (l.v6, l.port, l.local);
        let inherited = l.inherited();
        let Kind::Listener { pending } = &mut l.kind else {
            return Err(libc::EINVAL);
        };
        let Some(assoc) = pending.pop_front() else {
            sys::close(afd);
            sys::close(efd);
            return Err(libc::EAGAIN);
        };
        let port = port.ok_or(libc::EINVAL)?;
        let ep = st.eps.get_mut(&port).ok_or(libc::EINVAL)?;
        let peer = ep
            .endpoint
            .assoc(assoc)
            .map(|a| a.peer_addr())
            .ok_or(libc::ECONNABORTED)?;
        let nid = st.next;
        st.next += 1;
        let mut s = Sock::new(v6, efd, self.cfg.clone());
        s.kind = Kind::Stream { assoc };
        s.port = Some(port);
        s.local = local;
        s.peer = Some(peer);
        s.connected = true;
        s.inherit(&inherited);
        let streams = ep.endpoint.assoc(assoc).map_or((0, 0), |a| a.streams());
        s.came_up(assoc, Some(peer), streams, false);
        if let Some(ind) = ep.endpoint.assoc(assoc).and_then(|a| a.peer_adaptation()) {
            let note = notify::adaptation(ind, assoc);
            s.notify(assoc, Some(peer), notify::ev::ADAPTATION, note);
        }
        s.tx.lock().streams = streams.0;
        if let Some(a) = ep.endpoint.assoc(assoc) {
            s.tx.lock().track_limits(a);
        }
        ep.socks.insert(assoc, nid);
        let peer = s.present(peer);
        st.socks.insert(nid, s);
        self.wake();
        Ok((nid, afd, peer))
    }

    /// (local, peer) addresses.
    pub fn names(&self, id: SockId) -> Option<(Option<SocketAddr>, Option<SocketAddr>)> {
        let st = self.lock_quiet();
        let s = st.socks.get(&id)?;
        let any: IpAddr = if s.v6 {
            std::net::Ipv6Addr::UNSPECIFIED.into()
        } else {
            std::net::Ipv4Addr::UNSPECIFIED.into()
        };
        let local = s.local.or_else(|| s.port.map(|p| SocketAddr::new(any, p)));
        Some((
            local.map(|a| s.present(a)),
            if s.connected || matches!(s.kind, Kind::Stream { .. }) {
                s.peer.map(|a| s.present(a))
            } else {
                None
            },
        ))
    }

    /// Another descriptor of this process refers to the socket (dup, ...).
    pub fn add_ref(&self, id: SockId) {
        if let Some(s) = self.lock().socks.get_mut(&id) {
            s.refs += 1;
        }
    }

    /// A descriptor referring to the socket was closed.
    pub fn drop_ref(&self, id: SockId) {
        let mut st = self.lock();
        if let Some(s) = st.socks.get_mut(&id) {
            s.refs = s.refs.saturating_sub(1);
            // A listening or unconnected socket whose last copy anywhere is
            // closed (EOF on our end, even across fork) frees its port now,
            // as close() does in the kernel, not at the engine's next turn.
            if s.refs == 0
                && matches!(s.kind, Kind::Fresh | Kind::Listener { .. })
                && !s.app_gone
                && sys::is_hung_up(s.efd)
            {
                s.app_gone = true;
            }
            if s.refs == 0 && (s.shut || s.app_gone) {
                // The UDP socket of a freed port is closed here, and epoll
                // holds no reference to it: the port is free when close()
                // returns.
                st.reap(Some(&HashSet::from([id])));
                self.forget_reaped(&mut st);
            }
        }
    }

    /// SCTP_INITMSG as (num_ostreams, max_instreams, max_attempts, max_init_timeo ms).
    pub fn initmsg(&self, id: SockId) -> Option<(u16, u16, u16, u16)> {
        let st = self.lock();
        let c = &st.socks.get(&id)?.cfg;
        let timeo = c.max_init_timeo.as_millis().min(u128::from(u16::MAX)) as u16;
        Some((
            c.outbound_streams,
            c.max_inbound_streams,
            c.max_init_retransmits.min(0xffff) as u16,
            timeo,
        ))
    }

    /// Sets SCTP_INITMSG; zero fields keep their value (RFC 6458 §8.1.3).
    /// Applies to associations started after the call.
    pub fn set_initmsg(&self, id: SockId, v: (u16, u16, u16, u16)) -> Result<(), c_int> {
        let mut st = self.lock();
        let st = &mut *st;
        let s = st.socks.get_mut(&id).ok_or(libc::EBADF)?;
        apply_initmsg(&mut s.cfg, v);
        if let Some(ep) = s.port.and_then(|p| st.eps.get_mut(&p)) {
            apply_initmsg(ep.endpoint.config_mut(), v);
        }
        Ok(())
    }

    /// SO_LINGER: `Some(0)` makes close abort the association.
    pub fn set_linger(&self, id: SockId, linger: Option<u32>) {
        if let Some(s) = self.lock().socks.get_mut(&id) {
            s.linger_abort = linger == Some(0);
        }
    }

    /// At EOF on a one-to-one socket: the error the association ended with,
    /// reported once; after that, once the association is gone, ENOTCONN —
    /// Linux answers reads on a TCP-style socket whose association has
    /// ended that way (lksctp's test_1_to_1_recvmsg checks it), after one EOF.
    pub fn take_terminal_error(&self, id: SockId) -> Option<c_int> {
        let mut st = self.lock_quiet();
        let s = st.socks.get_mut(&id)?;
        if !matches!(s.kind, Kind::Stream { .. }) {
            return None;
        }
        match std::mem::take(&mut s.terminal) {
            0 if s.shut && std::mem::replace(&mut s.eof_seen, true) => Some(libc::ENOTCONN),
            0 => None,
            e => {
                s.error = 0;
                s.eof_seen = true;
                Some(e)
            }
        }
    }

    /// SO_ERROR: takes the pending error.
    pub fn take_error(&self, id: SockId) -> c_int {
        let mut st = self.lock_quiet();
        st.socks
            .get_mut(&id)
            .map(|s| std::mem::take(&mut s.error))
            .unwrap_or(0)
    }

    /// The peer's addresses (SCTP_GET_PEER_ADDRS); ENOTCONN without an association.
    pub fn peer_addrs(&self, id: SockId, wanted: AssocId) -> Result<Vec<SocketAddr>, c_int> {
        let st = self.lock();
        let (_, a) = st.assoc_of(id, wanted, libc::ENOTCONN)?;
        let port = a.peer_port();
        let s = st.socks.get(&id).ok_or(libc::EBADF)?;
        Ok(a.peer_addrs()
            .map(|ip| s.present(SocketAddr::new(ip, port)))
            .collect())
    }

    /// SCTP_STATUS of a socket's association (EINVAL without one, as Linux).
    pub fn status(
        &self,
        id: SockId,
        wanted: AssocId,
    ) -> Result<(AssocId, crate::proto::assoc::Status), c_int> {
        let st = self.lock();
        let (assoc, a) = st.assoc_of(id, wanted, libc::EINVAL)?;
        let mut status = a.status();
        if let Some(s) = st.socks.get(&id) {
            status.primary = s.present(status.primary);
        }
        Ok((assoc, status))
    }

    /// sendmsg/sendto with an address on a socket that is not connected
    /// yet: set the association up implicitly, as Linux does; the data waits
    /// in the socket until it is established.
    pub fn implicit_connect(&self, id: SockId, peer: SocketAddr) -> Result<(), c_int> {
        let fresh = matches!(
            self.lock().socks.get(&id).map(|s| &s.kind),
            Some(Kind::Fresh)
        );
        if !fresh {
            return Ok(());
        }
        match self.connect(id, peer, true) {
            Err(libc::EINPROGRESS) | Ok(()) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// True while the socket is neither connecting, connected nor listening.
    pub fn is_fresh(&self, id: SockId) -> bool {
        self.lock_quiet()
            .socks
            .get(&id)
            .is_some_and(|s| s.kind == Kind::Fresh)
    }

    /// True once a stream socket's association is up (or it failed).
    pub fn is_connected(&self, id: SockId) -> bool {
        self.lock_quiet()
            .socks
            .get(&id)
            .is_some_and(|s| s.connected)
    }

    /// Called at process exit: deliver what is queued, shut associations down,
    /// wait (bounded) for the peers to acknowledge.
    pub fn drain_at_exit(&self, limit: Duration) {
        if self.is_foreign() {
            return;
        }
        let deadline = now() + limit;
        let mut st = self.lock();
        st.exiting = true;
        self.wake();
        while st.eps.values().any(|ep| {
            ep.endpoint
                .assoc_ids()
                .any(|id| ep.endpoint.assoc(id).is_some_and(|a| !a.is_closed()))
        }) {
            let (g, timed_out) = self.wait(st, Some(deadline));
            st = g;
            if timed_out {
                break;
            }
        }
    }

    /// The engine thread's loop.
    fn run(&self) {
        let mut buf = vec![0u8; 65536];
        let epfd = loop {
            match sys::epoll_create() {
                Ok(fd) => break fd,
                // Out of descriptors or memory: try again shortly.
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        };
        let _ = sys::epoll_ctl(
            epfd,
            libc::EPOLL_CTL_ADD,
            self.wake_r,
            libc::EPOLLIN as u32,
            Key::Wake.token(),
        );
        self.epfd.store(epfd, Ordering::Release);
        let mut watched = Watched::default();
        let mut evs: Vec<libc::epoll_event> = Vec::with_capacity(1024);
        loop {
            let timeout_ms;
            {
                let mut st = self.lock_quiet();
                watched.sync(epfd, &mut st);
                let t = now();
                // Associations changed after the turn sent (aborts when a
                // listener is reaped) have datagrams or events waiting.
                let pending = st
                    .eps
                    .values()
                    .any(|ep| ep.endpoint.has_output())
                    .then_some(t);
                let others = [
                    st.autoclose_deadline(),
                    st.impair.as_ref().and_then(|i| i.next_due()),
                    pending,
                ];
                timeout_ms = st
                    .eps
                    .values_mut()
                    .filter_map(|ep| ep.endpoint.poll_timeout())
                    .chain(others.into_iter().flatten())
                    .min()
                    .map(|d| d.saturating_duration_since(t).as_millis().min(60_000) as c_int + 1)
                    .unwrap_or(60_000);
            }
            let debug = std::env::var_os("SCTPSHIM_DEBUG").is_some();
            let limit = if debug {
                timeout_ms.min(3000)
            } else {
                timeout_ms
            };
            if sys::epoll_wait(epfd, &mut evs, limit).is_err() {
                continue;
            }
            let mut st = self.lock_quiet();
            if evs.is_empty() && debug {
                st.dump();
            }
            let t = now();
            for ev in &evs {
                let revents = ev.events as i16;
                match Key::of(ev.u64) {
                    Key::Wake => while sys::read(self.wake_r, &mut buf).is_ok_and(|n| n > 0) {},
                    Key::Udp(port) => st.read_udp(port, t, &mut buf),
                    // A socket reaped since the wait was unregistered then.
                    Key::Sock(id) if st.socks.contains_key(&id) => {
                        st.dirty.insert(id);
                        st.read_app(id, t, &mut buf, revents)
                    }
                    Key::Sock(_) => {}
                }
            }
            // A wait that times out sweeps at most once a second: what no
            // change reported (SCTP_AUTOCLOSE's idle time, ...) is seen then.
            if evs.is_empty()
                && st
                    .swept
                    .is_none_or(|w| t.saturating_duration_since(w) >= SWEEP_EVERY)
            {
                st.sweep = true;
            }
            st.turn(t, self.cfg.clone());
            self.forget_reaped(&mut st);
            drop(st);
            self.cond.notify_all();
        }
    }
}

/// Longest time between two turns that look at everything (State::sweep).
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// What the engine's epoll instance watches.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Wake,
    Udp(u16),
    Sock(SockId),
}

impl Key {
    const UDP: u64 = 1 << 62;
    const WAKE: u64 = 1 << 63;

    /// The epoll token (socket ids stay below 2^62: generation << 40).
    fn token(self) -> u64 {
        match self {
            Key::Wake => Key::WAKE,
            Key::Udp(port) => Key::UDP | u64::from(port),
            Key::Sock(id) => id,
        }
    }

    fn of(token: u64) -> Key {
        if token & Key::WAKE != 0 {
            Key::Wake
        } else if token & Key::UDP != 0 {
            Key::Udp(token as u16)
        } else {
            Key::Sock(token)
        }
    }
}

/// The registrations of the engine's epoll instance: descriptor and event
/// mask per key. Level-triggered, so each turn only changes what changed
/// (the kernel does not rescan every socket as poll() did). Descriptors are
/// unregistered before they are closed (`Engine::forget_reaped`), since a
/// forked child may hold the same file open and keep a stale registration
/// alive.
#[derive(Default)]
struct Watched {
    now: HashMap<Key, (c_int, u32)>,
    seen: Vec<Key>,
}

impl Watched {
    /// Registers `fd` for `ev` under `key` unless it is already; false if
    /// epoll refused.
    fn register(&mut self, epfd: c_int, key: Key, fd: c_int, ev: u32) -> bool {
        let op = match self.now.get(&key) {
            Some(&(f, e)) if f == fd && e == ev => return true,
            Some(&(f, _)) if f == fd => libc::EPOLL_CTL_MOD,
            _ => libc::EPOLL_CTL_ADD,
        };
        let ok = sys::epoll_ctl(epfd, op, fd, ev, key.token()).is_ok();
        if ok {
            self.now.insert(key, (fd, ev));
        }
        ok
    }

    fn sync(&mut self, epfd: c_int, st: &mut State) {
        // Descriptors closed since the last turn were unregistered then;
        // their numbers may be back already (a new endpoint's UDP socket on
        // the same port), so their entries must not look current.
        if !st.unwatched.is_empty() {
            let gone: std::collections::HashSet<c_int> = st.unwatched.drain(..).collect();
            self.now.retain(|_, &mut (fd, _)| !gone.contains(&fd));
        }
        let visited = std::mem::take(&mut st.visited);
        if !std::mem::take(&mut st.sync_all) && !self.now.is_empty() {
            // Only sockets a turn looked at can want something else (new
            // sockets and endpoints come from application calls, which
            // sync everything; freed ones were unregistered when closed).
            for id in visited {
                let key = Key::Sock(id);
                match st.socks.get(&id).and_then(|s| st.interest(id, s)) {
                    Some((_, fd, ev)) => {
                        self.register(epfd, key, fd, ev);
                    }
                    None => {
                        if let Some((fd, _)) = self.now.remove(&key)
                            && st.socks.contains_key(&id)
                        {
                            let _ = sys::epoll_ctl(epfd, libc::EPOLL_CTL_DEL, fd, 0, 0);
                        }
                    }
                }
            }
            return;
        }
        let st = &*st;
        self.seen.clear();
        let udp = st
            .eps
            .iter()
            .map(|(&port, ep)| (Key::Udp(port), ep.udp, libc::EPOLLIN as u32));
        let socks = st.socks.iter().filter_map(|(&id, s)| st.interest(id, s));
        let mut failed = 0;
        for (key, fd, ev) in udp.chain(socks) {
            self.seen.push(key);
            if !self.register(epfd, key, fd, ev) {
                failed += 1;
            }
        }
        // Every key seen is in `now` unless its registration failed: any
        // other entry is one no longer wanted.
        if self.now.len() == self.seen.len() - failed {
            return;
        }
        let seen: std::collections::HashSet<Key> = self.seen.iter().copied().collect();
        self.now.retain(|key, &mut (fd, _)| {
            if seen.contains(key) {
                return true;
            }
            // Still open (a socket that is shut): stop watching it. Gone:
            // forget_reaped unregistered it before closing the descriptor.
            if let Key::Sock(id) = key
                && st.socks.contains_key(id)
            {
                let _ = sys::epoll_ctl(epfd, libc::EPOLL_CTL_DEL, fd, 0, 0);
            }
            false
        });
    }
}

impl Sock {
    fn new(v6: bool, efd: c_int, cfg: Config) -> Sock {
        Sock {
            cfg,
            v6,
            v4mapped: true,
            reuse: false,
            kind: Kind::Fresh,
            port: None,
            local: None,
            peer: None,
            efd,
            inbox: Inbox::default(),
            tx: Arc::new(SendSide::new(efd)),
            default_spec: SendSpec::default(),
            events: Events::default(),
            assoc_events: HashMap::new(),
            recv_rcvinfo: false,
            recv_nxtinfo: false,
            autoclose: 0,
            watch: HashMap::new(),
            eof_pending: false,
            eof_sent: false,
            app_gone: false,
            shut: false,
            refs: 1,
            terminal: 0,
            eof_seen: false,
            hup: false,
            linger_abort: false,
            extra_local: Vec::new(),
            junk: 0,
            connected: false,
            error: 0,
            held: HashMap::new(),
            held_total: 0,
            shared_free: None,
            stalled: BTreeSet::new(),
        }
    }
}

/// Socket settings a new socket takes from the one it comes from (accept,
/// sctp_peeloff), as Linux copies them.
#[derive(Clone, Debug)]
struct Inherited {
    events: Events,
    v4mapped: bool,
    recv_rcvinfo: bool,
    recv_nxtinfo: bool,
    default_spec: SendSpec,
    cfg: Config,
    linger_abort: bool,
}

impl Sock {
    /// An address as this socket reports it to the application.
    fn present(&self, a: SocketAddr) -> SocketAddr {
        sys::present(a, self.v6, self.v4mapped)
    }

    fn inherited(&self) -> Inherited {
        Inherited {
            events: self.events,
            v4mapped: self.v4mapped,
            recv_rcvinfo: self.recv_rcvinfo,
            recv_nxtinfo: self.recv_nxtinfo,
            default_spec: self.default_spec,
            cfg: self.cfg.clone(),
            linger_abort: self.linger_abort,
        }
    }

    fn inherit(&mut self, i: &Inherited) {
        self.events = i.events;
        self.v4mapped = i.v4mapped;
        self.recv_rcvinfo = i.recv_rcvinfo;
        self.recv_nxtinfo = i.recv_nxtinfo;
        self.default_spec = i.default_spec;
        self.tx.lock().default = i.default_spec;
        self.cfg = i.cfg.clone();
        self.linger_abort = i.linger_abort;
    }
}

impl State {
    /// Read the app's bytes only when the association can take them.
    /// What the engine's epoll instance should watch socket `id` for, if
    /// anything. Hang-ups are reported whatever the mask: a socket whose
    /// application end is gone, or that hung up while the engine has
    /// nothing to read from it (no send space), is not watched (it would
    /// make every wait return at once) until it wants to be read again.
    fn interest(&self, id: SockId, s: &Sock) -> Option<(Key, c_int, u32)> {
        if s.shut || s.app_gone {
            return None;
        }
        let mut ev = 0;
        if self.wants_app_data(s) {
            ev |= libc::EPOLLIN as u32;
        }
        if s.hup && ev == 0 {
            return None;
        }
        if s.inbox.staged() > 0 {
            ev |= libc::EPOLLOUT as u32;
        }
        Some((Key::Sock(id), s.efd, ev))
    }

    fn wants_app_data(&self, s: &Sock) -> bool {
        if s.app_gone {
            return false;
        }
        match s.kind {
            // Only the close of the application's end matters on these, and
            // POLLHUP reports it without asking; never read their bytes (a
            // non-blocking connect parks filler in a fresh socket's pair).
            Kind::Fresh | Kind::Listener { .. } | Kind::Many => false,
            Kind::Stream { assoc } => {
                let Some(ep) = s.port.and_then(|p| self.eps.get(&p)) else {
                    return false;
                };
                ep.endpoint.assoc(assoc).is_some_and(|a| {
                    (a.is_established()
                        && !s.tx.lock().is_blocked()
                        && (a.send_space() > 0 || s.junk > 0))
                        || a.is_closed()
                })
            }
        }
    }

    fn read_udp(&mut self, port: u16, t: Instant, buf: &mut [u8]) {
        let Some(ep) = self.eps.get_mut(&port) else {
            return;
        };
        while let Some(err) = sys::recv_error(ep.udp) {
            if err.port_unreachable {
                ep.endpoint.handle_port_unreachable(err.to, &err.payload);
            }
        }
        for _ in 0..256 {
            match sys::recv_from(ep.udp, buf) {
                Ok((n, from)) => match self.impair.as_mut() {
                    Some(im) => {
                        for d in im.apply(t, true, port, from, &buf[..n]) {
                            ep.endpoint.handle(t, from, &d);
                        }
                    }
                    None => ep.endpoint.handle(t, from, &buf[..n]),
                },
                Err(_) => break,
            }
        }
    }

    fn read_app(&mut self, id: SockId, t: Instant, buf: &mut [u8], revents: i16) {
        let Some(s) = self.socks.get_mut(&id) else {
            return;
        };
        if revents & libc::POLLOUT != 0 {
            s.inbox.flush(s.efd);
        }
        if revents & (libc::POLLHUP | libc::POLLERR) != 0 {
            s.hup = true;
        }
        if revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) == 0 || s.app_gone {
            return;
        }
        let port = s.port;
        match s.kind {
            Kind::Fresh | Kind::Listener { .. } => {
                if revents & libc::POLLHUP != 0 {
                    s.app_gone = true;
                }
            }
            Kind::Many => {
                if revents & libc::POLLHUP != 0 {
                    // Closed: every association shuts down gracefully.
                    s.app_gone = true;
                    if let Some(ep) = port.and_then(|p| self.eps.get_mut(&p)) {
                        ep.endpoint.listen(false);
                        for a in ep.assocs_of(id) {
                            if let Some(x) = ep.endpoint.assoc_mut(a) {
                                x.shutdown(t);
                            }
                        }
                    }
                }
            }
            Kind::Stream { assoc } => {
                let Some(ep) = port.and_then(|p| self.eps.get_mut(&p)) else {
                    return;
                };
                let Some(a) = ep.endpoint.assoc(assoc) else {
                    return;
                };
                // The pair is read under the send side's lock (see send.rs).
                let side = s.tx.clone();
                let mut tx = side.lock();
                if s.junk > 0 {
                    if a.is_established() || a.is_closed() {
                        let n = s.junk.min(buf.len());
                        if let Ok(k) = sys::read(s.efd, &mut buf[..n]) {
                            s.junk -= k;
                            tx.skip(k);
                        }
                    }
                    return;
                }
                if tx.is_blocked() && !a.is_closed() {
                    return;
                }
                // Take only what the association can queue: the rest waits in
                // the pair, which is how a slow peer blocks the writer.
                let space = if a.is_established() {
                    a.send_space()
                } else {
                    0
                };
                if space == 0 && !a.is_closed() {
                    return;
                }
                // Take only what the association has room for, but all of a
                // message being gathered: it is queued only once complete
                // (the send buffer is a soft limit), and gathering it in small
                // steps would leave the association idle meanwhile.
                let want = space.max(tx.gathering()).clamp(1, APP_READ).min(buf.len());
                match sys::read(s.efd, &mut buf[..want]) {
                    Ok(0) => {
                        s.app_gone = true;
                        if let Some(a) = ep.endpoint.assoc_mut(assoc) {
                            if s.linger_abort {
                                a.abort(t, b"SO_LINGER 0");
                            } else {
                                // What was written goes out, then SHUTDOWN.
                                tx.finish();
                                tx.pump(a, t);
                            }
                        }
                    }
                    Ok(n) => {
                        tx.carve(&buf[..n]);
                        if let Some(a) = ep.endpoint.assoc_mut(assoc) {
                            // A closed association drops the bytes as the kernel would.
                            tx.pump(a, t);
                            s.watch.entry(assoc).or_insert_with(Watch::new).active = t;
                        }
                    }
                    Err(_) => {}
                }
            }
        }
    }

    /// After input: timers, events, delivery to the app, transmission, cleanup.
    fn turn(&mut self, t: Instant, _cfg: Config) {
        // Impaired datagrams whose delay is over.
        if let Some(im) = self.impair.as_mut() {
            for (port, from, d) in im.due(t, true) {
                if let Some(ep) = self.eps.get_mut(&port) {
                    ep.endpoint.handle(t, from, &d);
                }
            }
            for (port, to, d) in im.due(t, false) {
                if let Some(ep) = self.eps.get(&port) {
                    sys::send_to(ep.udp, &d, &to).ok();
                }
            }
        }
        let exiting = self.exiting;
        let sweep = std::mem::take(&mut self.sweep)
            || exiting
            || self.autoclose_deadline().is_some_and(|d| d <= t);
        let dirty = std::mem::take(&mut self.dirty);
        let autoclose: HashSet<u16> = self
            .socks
            .values()
            .filter(|s| s.autoclose > 0)
            .filter_map(|s| s.port)
            .collect();
        let mut visited: HashSet<SockId> = dirty.clone();
        let ports: Vec<u16> = if sweep {
            self.swept = Some(t);
            self.eps.keys().copied().collect()
        } else {
            let mut ports: BTreeSet<u16> = dirty
                .iter()
                .filter_map(|id| self.socks.get(id)?.port)
                .collect();
            for (&port, ep) in self.eps.iter_mut() {
                if ep.endpoint.is_busy() || ep.endpoint.poll_timeout().is_some_and(|d| d <= t) {
                    ports.insert(port);
                }
            }
            ports.into_iter().collect()
        };
        for port in ports {
            let Some(ep) = self.eps.get_mut(&port) else {
                continue;
            };
            if ep.endpoint.poll_timeout().is_some_and(|d| d <= t) {
                ep.endpoint.handle_timeout(t);
            }
            if exiting {
                // Shut each association down once the application's last
                // bytes have been taken from its socket; never drop them.
                let ids: Vec<AssocId> = ep.endpoint.assoc_ids().collect();
                for id in ids {
                    let unread = ep
                        .socks
                        .get(&id)
                        .and_then(|sid| self.socks.get(sid))
                        .is_some_and(|s| {
                            s.tx.lock().is_blocked()
                                || (!s.app_gone && sys::pending_bytes(s.efd) > 0)
                        });
                    if !unread && let Some(a) = ep.endpoint.assoc_mut(id) {
                        a.shutdown(t);
                    }
                }
            }
            // Events.
            let mut evs = Vec::new();
            while let Some((aid, ev)) = ep.endpoint.poll_event() {
                if ev == AssocEvent::Connected {
                    // Inbound associations go straight to a socket (below):
                    // the endpoint's accept queue must not fill up with them.
                    ep.endpoint.claim(aid);
                }
                let mut sid = ep.socks.get(&aid).copied();
                if sid.is_none()
                    && ev == AssocEvent::Connected
                    && let Some(l) = ep.listener.filter(|l| {
                        self.socks
                            .get(l)
                            .is_some_and(|s| s.kind == Kind::Many && !s.app_gone)
                    })
                {
                    ep.socks.insert(aid, l);
                    sid = Some(l);
                }
                evs.push((aid, ev, sid));
            }
            for (aid, ev, sid) in evs {
                if let Some(l) = self.eps.get(&port).and_then(|ep| ep.listener) {
                    visited.insert(l);
                }
                self.on_event(port, t, aid, ev, sid);
            }
            let mut pairs = self.pairs_to_visit(port, sweep, &dirty, &autoclose);
            visited.extend(pairs.iter().map(|&(_, sid)| sid));
            self.deliver(port, t, &pairs);
            // Messages that waited for room (or for another association's
            // message to be complete) go now if there is room: a flush that
            // emptied the inbox leaves nothing for epoll to report later.
            let mut more = self.unstalled(&pairs);
            for _ in 0..4 {
                if more.is_empty() {
                    break;
                }
                self.deliver(port, t, &more);
                let next = self.unstalled(&more);
                pairs.extend(more);
                more = next;
            }
            pairs.sort_unstable();
            pairs.dedup();
            self.share_rcvbuf(port, &pairs, &dirty, sweep);
            let Some(ep) = self.eps.get_mut(&port) else {
                continue;
            };
            while let Some(tx) = ep.endpoint.poll_transmit(t) {
                match self.impair.as_mut() {
                    Some(im) => {
                        for d in im.apply(t, false, port, tx.dst, &tx.payload) {
                            sys::send_to(ep.udp, &d, &tx.dst).ok();
                        }
                    }
                    None => {
                        sys::send_to(ep.udp, &tx.payload, &tx.dst).ok();
                    }
                }
            }
        }
        self.reap((!sweep).then_some(&visited));
        self.sync_all |= sweep;
        self.visited.extend(visited);
    }

    /// The (association, socket) pairs of endpoint `port` a turn looks at:
    /// all of them in a sweep, else those whose association changed, and
    /// of the sockets the application used, a one-to-one socket's own and
    /// those a one-to-many socket has messages waiting in (`stalled`).
    /// Sockets with SCTP_AUTOCLOSE on have all theirs looked at.
    fn pairs_to_visit(
        &mut self,
        port: u16,
        sweep: bool,
        dirty: &HashSet<SockId>,
        autoclose: &HashSet<u16>,
    ) -> Vec<(AssocId, SockId)> {
        let Some(ep) = self.eps.get_mut(&port) else {
            return Vec::new();
        };
        let changed = ep.endpoint.take_changed();
        if sweep {
            return ep.socks.iter().map(|(&a, &s)| (a, s)).collect();
        }
        let mut wanted: BTreeSet<AssocId> = changed
            .into_iter()
            .filter(|a| ep.socks.contains_key(a))
            .collect();
        for id in dirty {
            let Some(s) = self.socks.get(id).filter(|s| s.port == Some(port)) else {
                continue;
            };
            match s.kind {
                Kind::Stream { assoc } => {
                    wanted.insert(assoc);
                }
                Kind::Many => wanted.extend(s.stalled.iter().copied()),
                _ => {}
            }
        }
        let mut pairs: Vec<(AssocId, SockId)> = wanted
            .into_iter()
            .filter_map(|a| Some((a, *ep.socks.get(&a)?)))
            .collect();
        if autoclose.contains(&port) {
            let listed: HashSet<AssocId> = pairs.iter().map(|p| p.0).collect();
            pairs.extend(ep.socks.iter().filter_map(|(&a, &sid)| {
                let s = self.socks.get(&sid)?;
                (s.autoclose > 0 && !listed.contains(&a)).then_some((a, sid))
            }));
        }
        pairs
    }

    /// The stalled associations of the sockets in `pairs` whose inbox has
    /// room and no message half delivered.
    fn unstalled(&self, pairs: &[(AssocId, SockId)]) -> Vec<(AssocId, SockId)> {
        let socks: BTreeSet<SockId> = pairs.iter().map(|p| p.1).collect();
        let mut more = Vec::new();
        for sid in socks {
            let Some(s) = self.socks.get(&sid) else {
                continue;
            };
            if s.inbox.staged() < TO_APP_MAX && s.inbox.open_assoc().is_none() {
                more.extend(s.stalled.iter().map(|&a| (a, sid)));
            }
        }
        more
    }

    /// Frees sockets whose application end is closed and whose association
    /// is over, and endpoints nobody uses.
    /// Only `among` these sockets unless None (all).
    fn reap(&mut self, among: Option<&HashSet<SockId>>) {
        let mut gone = Vec::new();
        let ids: Vec<SockId> = match among {
            Some(m) => m.iter().copied().collect(),
            None => self.socks.keys().copied().collect(),
        };
        for id in ids {
            let Some(s) = self.socks.get(&id) else {
                continue;
            };
            let done = (s.shut && s.refs == 0)
                || s.app_gone
                    && match s.kind {
                        Kind::Fresh | Kind::Listener { .. } => true,
                        Kind::Many => s
                            .port
                            .and_then(|p| self.eps.get(&p))
                            .is_none_or(|ep| !ep.socks.values().any(|&x| x == id)),
                        Kind::Stream { assoc } => {
                            s.port.and_then(|p| self.eps.get(&p)).is_none_or(|ep| {
                                ep.endpoint.assoc(assoc).is_none_or(|a| a.is_closed())
                            })
                        }
                    };
            if done {
                gone.push(id);
            }
        }
        for id in gone {
            let Some(s) = self.socks.remove(&id) else {
                continue;
            };
            self.reaped.push(id);
            self.closing.push(s.efd);
            let Some(port) = s.port else { continue };
            let Some(ep) = self.eps.get_mut(&port) else {
                continue;
            };
            if let Kind::Stream { assoc } = s.kind {
                ep.socks.remove(&assoc);
                ep.endpoint.release(assoc);
            }
            if ep.listener == Some(id) {
                ep.listener = None;
                ep.endpoint.listen(false);
                if let Kind::Listener { pending } = s.kind {
                    for a in pending {
                        if let Some(x) = ep.endpoint.assoc_mut(a) {
                            x.abort(now(), b"listener closed");
                        }
                    }
                }
            }
            let in_use = self.socks.values().any(|o| o.port == Some(port));
            if !in_use
                && ep
                    .endpoint
                    .assoc_ids()
                    .all(|a| ep.endpoint.assoc(a).is_none_or(|x| x.is_closed()))
                && let Some(ep) = self.eps.remove(&port)
            {
                self.closing.push(ep.udp);
            }
        }
    }
}

impl State {
    /// The association an option call is about: a one-to-one socket's own,
    /// or on a one-to-many socket the one named by `wanted` if it belongs to
    /// it (EINVAL otherwise); `none` is the errno for sockets without one.
    fn assoc_of(
        &self,
        id: SockId,
        wanted: AssocId,
        none: c_int,
    ) -> Result<(AssocId, &Association), c_int> {
        let s = self.socks.get(&id).ok_or(libc::EBADF)?;
        let ep = s.port.and_then(|p| self.eps.get(&p));
        let assoc = match s.kind {
            Kind::Stream { assoc } => assoc,
            Kind::Many if ep.is_some_and(|ep| ep.socks.get(&wanted) == Some(&id)) => wanted,
            Kind::Many => return Err(libc::EINVAL),
            _ => return Err(none),
        };
        let a = ep.and_then(|ep| ep.endpoint.assoc(assoc)).ok_or(none)?;
        Ok((assoc, a))
    }

    /// Debug dump of every socket and association (SCTPSHIM_DEBUG, on idle).
    fn dump(&self) {
        for (id, s) in &self.socks {
            eprintln!(
                "sctpshim: sock {id:#x} {:?} port {:?} staged {} records {} unread {} eof {}/{} shut {} junk {}",
                s.kind,
                s.port,
                s.inbox.staged(),
                s.inbox.records(),
                sys::pending_bytes(s.efd),
                s.eof_pending,
                s.eof_sent,
                s.shut,
                s.junk
            );
        }
        for (port, ep) in &self.eps {
            for a in ep.endpoint.assoc_ids() {
                if let Some(x) = ep.endpoint.assoc(a) {
                    let st = x.status();
                    eprintln!(
                        "sctpshim: port {port} assoc {a} -> {:?} state {} unacked {} pending {} msg {} t3 {:?} rwnd {} cwnd {} flight {}",
                        ep.socks.get(&a),
                        st.state,
                        st.unacked,
                        st.pending,
                        x.has_message(),
                        x.paths()[0].t3.map(|t| t.saturating_duration_since(now())),
                        x.peer_rwnd(),
                        x.paths()[0].cc.cwnd,
                        x.paths()[0].flight_size
                    );
                }
            }
        }
    }
}

/// A one-to-one socket's pair: the app's end with `flags`, ours non-blocking.
fn stream_pair(flags: c_int) -> Result<(c_int, c_int), c_int> {
    sys::socketpair(
        libc::SOCK_STREAM,
        flags,
        libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
    )
    .map_err(|e| e.raw_os_error().unwrap_or(libc::EMFILE))
}
