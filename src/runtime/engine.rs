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
use crate::proto::assoc::{AssocEvent, AssocId, Association};
use crate::proto::endpoint::Endpoint;
use crate::sys;

mod active;
mod autotune;
mod calls;
mod closing;
mod deliver;
mod early;
mod event_loop;
mod inbox;
mod ipopts;
mod many;
mod notify;
mod registry;
mod send;
mod settings;
mod setup;
mod shared;
mod shutdown;
mod sock;
mod turn;
mod udp;

pub use calls::AssocView;
pub use inbox::Slice;
pub use many::{RecordMeta, SCTP_ABORT, SCTP_EOF, SCTP_UNORDERED, SendSpec, is_many_id};
pub use notify::Events;
pub use registry::{after_fork, before_fork, configure_daemon, current_engine, engine, engine_of};
pub use send::Ticket;
pub use settings::{Settings, from_env_text as settings_text, report_bad as report_bad_settings};

use inbox::Inbox;
use send::SendSide;
use shutdown::SEND_EOF_READ;
pub use shutdown::ShutdownAction;
use sock::apply_bufs;

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
    /// RCV_SHUTDOWN: the peer sent SHUTDOWN, or the application shut the
    /// receive side: reads end with 0 (EOF), not ENOTCONN.
    rcv_shut: bool,
    /// What the application shut with shutdown(2): SHUT_RD (1) and SHUT_WR
    /// (2) as bits (Linux's RCV_SHUTDOWN / SEND_SHUTDOWN).
    app_shut: u8,
    /// The application's end hung up (or errored), as epoll last said.
    hup: bool,
    /// SO_LINGER on with a zero timeout: close aborts instead of shutting down.
    linger_abort: bool,
    /// SO_LINGER's timeout in seconds (0: close returns at once).
    linger_wait: u32,
    /// IP-level options (IP_TOS, IPV6_V6ONLY, ...).
    ip: ipopts::IpOpts,
    /// SO_RCVBUF and SO_SNDBUF as the application set them, for the
    /// sockets accept and sctp_peeloff make (sctp_copy_sock copies them).
    bufs: [Option<c_int>; 2],
    /// Addresses added with sctp_bindx beyond the bound one (listed by
    /// sctp_getladdrs, and in INIT / INIT ACK: see `Engine::bindx`).
    extra_local: Vec<IpAddr>,
    /// sctp_connectx's addresses after the first, for the association the
    /// next connect makes (`Engine::set_connect_extra`).
    connect_extra: Vec<IpAddr>,
    /// Per-socket protocol settings (SCTP_INITMSG, ...), given to the
    /// endpoint when the socket is bound.
    cfg: Config,
    /// SCTPSHIM_IMPAIR and SCTPSHIM_LOOPBACK=udp of the process that made
    /// the socket, for the endpoint it binds (see `settings.rs`).
    impair: Option<super::impair::Spec>,
    loopback_udp: bool,
    /// Bytes written into the pair to hold off POLLOUT during a non-blocking
    /// connect; dropped once the handshake ends.
    junk: usize,
    /// Events of an accepted association from while it waited in the
    /// accept queue, replayed once the messages it holds are delivered.
    replay: Vec<AssocEvent>,
    connected: bool,
    /// errno for SO_ERROR / connect.
    error: c_int,
    /// Received bytes each association holds for this socket (as last
    /// looked at), and their sum: the socket's share of SO_RCVBUF in use.
    held: HashMap<AssocId, usize>,
    held_total: usize,
    /// The associations that received lately: the free space is divided
    /// among them.
    active: active::Active,
    /// The free receive space last given to the socket's associations.
    shared_free: Option<usize>,
    /// Associations that last advertised less than a share step: the ones
    /// told at once when the shared space opens (the others' peers still
    /// have room to send, and their next packet brings them up to date).
    starved: BTreeSet<AssocId>,
    /// Where the next look at `starved` starts, and how many of them the
    /// current pass has still to tell.
    starved_next: AssocId,
    starved_left: usize,
    /// `inbox.written()` when the pair was last seen empty (see
    /// `Sock::unread_in_pair`).
    pair_mark: u64,
    /// Receive buffer auto-tuning (autotune.rs), once the socket is a
    /// one-to-one socket whose application did not set SO_RCVBUF.
    rx_auto: Option<autotune::RxAuto>,
    /// Associations with messages that wait for room in the inbox, and
    /// where the next look at them starts (`Sock::stalled_batch`).
    stalled: BTreeSet<AssocId>,
    stalled_next: AssocId,
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
    /// The peer's adaptation indication, told after COMM_UP.
    adaptation: Option<u32>,
}

impl Watch {
    fn new() -> Watch {
        Watch {
            up: false,
            dry: true,
            active: now(),
            adaptation: None,
        }
    }
}

#[derive(Debug)]
struct Ep {
    endpoint: Endpoint,
    udp: c_int,
    /// The address the UDP socket is bound to (unspecified: any).
    ip: IpAddr,
    /// Bound to the wildcard address: the families (IPv4, IPv6) of the
    /// host's addresses it has (`Config::own_addrs`).
    any_families: Option<(bool, bool)>,
    /// SCTPSHIM_IMPAIR of the process that bound it: loss, duplication,
    /// delay... on every datagram of this endpoint.
    impair: Option<super::impair::Impair>,
    /// Its datagrams to other endpoints of this engine skip UDP (off with
    /// SCTPSHIM_LOOPBACK=udp and under SCTPSHIM_IMPAIR, which works on real
    /// datagrams).
    shortcut: bool,
    listener: Option<SockId>,
    socks: HashMap<AssocId, SockId>,
    /// What happened to associations waiting in the listener's accept
    /// queue (data stays in the association): replayed after accept (see
    /// `Sock::replay`), so a peer that sent, shut down or aborted before
    /// accept() is seen as Linux's sctp_sock_migrate shows it.
    parked: HashMap<AssocId, Vec<AssocEvent>>,
}

impl Ep {
    /// A datagram for this endpoint (endpoint `port`), through its
    /// impairment if it has one.
    fn take_in(&mut self, t: Instant, port: u16, from: SocketAddr, d: &[u8]) {
        match self.impair.as_mut() {
            Some(im) => {
                for d in im.apply(t, true, port, from, d) {
                    self.endpoint.handle(t, from, &d);
                }
            }
            None => self.endpoint.handle(t, from, d),
        }
    }

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
    /// The next turn looks at every endpoint, association and socket: set
    /// once a second, by the calls that may change anything (`lock_all`),
    /// at exit and for SCTP_AUTOCLOSE. Other turns look only at what
    /// changed: associations the endpoints report (packets, timers, calls)
    /// and `dirty` sockets (an application call marks its own).
    sweep: bool,
    /// Sockets the application read from or wrote to since the last turn.
    dirty: HashSet<SockId>,
    /// Sockets whose window is held down by bytes unread in the pair: no
    /// event says when the application reads them, so they are looked at
    /// every few milliseconds (`PAIR_WATCH_EVERY`).
    pair_watch: HashSet<SockId>,
    /// Sockets the last turn looked at (their epoll interest may differ);
    /// `sync_all`: every socket's may.
    visited: HashSet<SockId>,
    sync_all: bool,
    /// Endpoints bound since the last sync: their UDP sockets are watched.
    new_udp: Vec<u16>,
    /// When the last sweep was.
    swept: Option<Instant>,
    /// Each endpoint's next timer: a turn refreshes the deadline of every
    /// endpoint it looked at (an application call's socket is dirty, so
    /// its endpoint is looked at), so turns and the wait find the due
    /// endpoints without asking each one.
    deadlines: crate::proto::deadlines::Deadlines<u16>,
    /// Endpoints given input outside a turn (datagrams, ICMP errors) or
    /// left with output after one: the next turn looks at them. With the
    /// `dirty` sockets' and the due timers' endpoints, that is every
    /// endpoint with work, so a turn need not ask every endpoint.
    touched: BTreeSet<u16>,
    /// Some endpoint impairs its datagrams (their delays end in turns).
    any_impair: bool,
    /// Some socket has had SCTP_AUTOCLOSE set: turns look for idle
    /// associations (otherwise they skip that scan over every socket).
    autoclose_on: bool,
    /// Datagrams between two endpoints of this engine, handed over within
    /// the turn instead of through UDP: (destination port, source, bytes).
    loopback: VecDeque<(u16, SocketAddr, Vec<u8>)>,
    /// The engine-wide UDP port, when one carries every endpoint (udp.rs).
    shared: Option<udp::SharedUdp>,
    /// Path MTUs of the routes to peers, and when they were looked up.
    route_mtus: HashMap<IpAddr, (usize, Instant)>,
    /// The source address of the route to each peer address, and when it
    /// was looked up (`State::pick_source`).
    route_srcs: HashMap<IpAddr, (Option<IpAddr>, Instant)>,
    /// When wildcard endpoints last took the host's addresses again, and
    /// those addresses (a wildcard bind takes them too, rather than a
    /// netlink dump of its own).
    hosts_at: Option<Instant>,
    hosts: Vec<IpAddr>,
    /// When turns last looked whether wildcard endpoints need them again.
    hosts_checked: Option<Instant>,
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
    /// What new sockets start with: this process's settings, or in the
    /// shared daemon the defaults until a client's arrive with its socket.
    defaults: Settings,
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

/// The monotonic clock (the one place outside the tests that reads it).
#[allow(clippy::disallowed_methods)]
pub fn now() -> Instant {
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

    /// The state, for an application call on socket `id`: what it changes
    /// is the socket and its endpoint's associations (which count as
    /// changed when touched), so the next turn looks at the socket and its
    /// endpoint. (A sweep after every call cost each send a turn over every
    /// socket: with thousands of associations, most of the engine's time.)
    fn lock(&self, id: SockId) -> MutexGuard<'_, State> {
        let mut st = self.lock_quiet();
        st.dirty.insert(id);
        st
    }

    /// The state, for a call that may change anything (exit, fork): the
    /// next turn sweeps everything.
    fn lock_all(&self) -> MutexGuard<'_, State> {
        let mut st = self.lock_quiet();
        st.sweep = true;
        st.sync_all = true;
        st
    }

    /// The state, for the engine thread and for application calls that
    /// change nothing the engine must look at again (reading records, the
    /// option and name getters): no sweep, which with thousands of sockets
    /// would cost every such call a turn over all of them.
    fn lock_quiet(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves the state usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits on the condition variable until `deadline` (None: forever);
    /// returns the guard and whether the deadline passed. The caller's
    /// socket `id`, if any, is marked for the next turn: what the call
    /// changes after waiting (a send that found room) is looked at then.
    fn wait<'a>(
        &self,
        st: MutexGuard<'a, State>,
        id: Option<SockId>,
        deadline: Option<Instant>,
    ) -> (MutexGuard<'a, State>, bool) {
        let (mut g, timed_out) = match deadline {
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
        // Callers only look after waiting, or change their own socket's
        // associations: no sweep needed.
        if let Some(id) = id {
            g.dirty.insert(id);
        }
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
        // Not writable before it connects, as Linux's sctp_poll answers for
        // a one-to-one socket in CLOSED: the engine drops the filler when
        // an association comes up (see Sock::drop_junk).
        let junk = sys::fill_pair(afd);
        let mut st = self.lock_quiet();
        let id = st.next;
        st.next += 1;
        let mut s = Sock::new(v6, efd, &self.defaults);
        s.junk = junk;
        st.socks.insert(id, s);
        st.dirty.insert(id);
        drop(st);
        self.wake();
        Ok((id, afd))
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
        let mut local = s.local.or_else(|| s.port.map(|p| SocketAddr::new(any, p)));
        // A one-to-one socket's association uses a concrete local address
        // even when the socket was bound to the wildcard (or not at all):
        // the one the route to its peer gives, as Linux reports it.
        if let (Kind::Stream { .. }, Some(l), Some(p)) = (&s.kind, local, s.peer)
            && l.ip().is_unspecified()
            && let Some(ip) = sys::source_ip_for(p.ip())
        {
            local = Some(SocketAddr::new(ip, l.port()));
        }
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
        if let Some(s) = self.lock_quiet().socks.get_mut(&id) {
            s.refs += 1;
        }
    }

    /// A descriptor referring to the socket was closed.
    pub fn drop_ref(&self, id: SockId) {
        let mut st = self.lock(id);
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
        let st = self.lock_quiet();
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
        let mut st = self.lock(id);
        let st = &mut *st;
        let s = st.socks.get_mut(&id).ok_or(libc::EBADF)?;
        apply_initmsg(&mut s.cfg, v);
        if let Some(ep) = s.port.and_then(|p| st.eps.get_mut(&p)) {
            apply_initmsg(ep.endpoint.config_mut(), v);
        }
        Ok(())
    }

    /// SO_LINGER: `Some(0)` makes close abort the association, `Some(t)`
    /// makes the last close of a one-to-one socket wait up to `t` seconds.
    pub fn set_linger(&self, id: SockId, linger: Option<u32>) {
        if let Some(s) = self.lock(id).socks.get_mut(&id) {
            s.linger_abort = linger == Some(0);
            s.linger_wait = linger.unwrap_or(0);
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
        let st = self.lock_quiet();
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
        let st = self.lock_quiet();
        let (assoc, a) = st.assoc_of(id, wanted, libc::EINVAL)?;
        let mut status = a.status();
        if let Some(s) = st.socks.get(&id) {
            status.present(|a| s.present(a));
            // shutdown(SHUT_WR) returned: the engine may not have read the
            // EOF yet, but Linux is in SHUTDOWN-PENDING (4 -> 5) by then.
            if Engine::sending_shut(s) && status.state == 4 {
                status.state = 5;
            }
        }
        Ok((assoc, status))
    }

    /// sendmsg/sendto with an address on a socket that is not connected
    /// yet: set the association up implicitly, as Linux does; the data waits
    /// in the socket until it is established.
    pub fn implicit_connect(&self, id: SockId, peer: SocketAddr) -> Result<(), c_int> {
        let fresh = matches!(
            self.lock_quiet().socks.get(&id).map(|s| &s.kind),
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
        // Linux frees an association when it ends (ABORT, SHUTDOWN
        // COMPLETE): a closed one is no longer there to ask about.
        if a.has_ended() {
            return Err(if matches!(s.kind, Kind::Many) {
                libc::EINVAL
            } else {
                none
            });
        }
        Ok((assoc, a))
    }

    /// Debug dump of every socket and association (SCTPSHIM_DEBUG, on idle).
    fn dump(&self) {
        let pid = std::process::id();
        for (id, s) in &self.socks {
            eprintln!(
                "sctpshim[{pid}]: sock {id:#x} {:?} port {:?} staged {} records {} unread {} eof {}/{} shut {} junk {}",
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
                        "sctpshim[{pid}]: port {port} assoc {a} peer {} -> {:?} state {} unacked {} pending {} msg {} t3 {:?} rwnd {} cwnd {} flight {} srtt {:?} mtu {} exiting {} stats {:?}",
                        x.peer_addr(),
                        ep.socks.get(&a),
                        st.state,
                        st.unacked,
                        st.pending,
                        x.has_message(),
                        x.paths()[0].t3.map(|t| t.saturating_duration_since(now())),
                        x.peer_rwnd(),
                        x.paths()[0].cc.cwnd,
                        x.paths()[0].flight_size,
                        x.paths()[0].rto.srtt(),
                        x.paths()[0].mtu,
                        self.exiting,
                        x.stats()
                    );
                    for (i, p) in x.paths().iter().enumerate() {
                        eprintln!(
                            "sctpshim[{pid}]:   path {i} {} confirmed {} active {} pf {} errors {} flight {} cwnd {} mtu {}",
                            p.addr,
                            p.confirmed,
                            p.active,
                            p.pf,
                            p.error_count,
                            p.flight_size,
                            p.cc.cwnd,
                            p.mtu
                        );
                    }
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
