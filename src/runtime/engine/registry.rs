//! Where engines live: the process's own engine (started on first use) and
//! those inherited through fork, the fork handlers, and the configuration
//! read from the environment.

use super::*;

/// Every engine this process has had: its own, plus the ones inherited
/// through fork (their state stays reachable for inherited sockets, which the
/// parent's engine thread serves).
pub(super) struct Registry {
    all: Vec<&'static Engine>,
    current: Option<&'static Engine>,
}

pub(super) static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    all: Vec::new(),
    current: None,
});

/// Socket ids carry their engine's generation in these high bits.
pub(super) const GEN_SHIFT: u32 = 40;

pub(super) fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// Locks held across fork() by the forking thread: the registry, then every
/// engine's state, so the child's copies are consistent and free.
pub(super) type ForkLocks = (
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
    let states: Vec<_> = engines.iter().map(|e| e.lock_all()).collect();
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
    let daemon = DAEMON.load(Ordering::Relaxed);
    let port = super::udp::port_from_env(DEFAULT_UDP_PORT.load(Ordering::Relaxed));
    let shared = if daemon {
        // The daemon's sockets all go through one port: another if that one
        // is taken (0: any), never a mix of conventions within one engine.
        super::udp::SharedUdp::open(port, true)
    } else if port != 0 {
        super::udp::SharedUdp::open(port, false)
    } else {
        None
    };
    // The daemon's own environment is its first client's: each client's
    // settings come with its sockets instead.
    let mut defaults = if daemon {
        Settings::parse("")
    } else {
        super::settings::report_bad();
        Settings::from_env()
    };
    if let Some(sh) = &shared
        && defaults.cfg.remote_udp_port == 0
    {
        // Peers are reached on the same port unless a path learns another
        // from the packets it receives (or SCTP_REMOTE_UDP_ENCAPS_PORT says).
        defaults.cfg.remote_udp_port = sh.port;
    }
    let e: &'static Engine = Box::leak(Box::new(Engine {
        state: Mutex::new(State {
            next: (generation << GEN_SHIFT) | 1,
            shared,
            ..Default::default()
        }),
        sends: Mutex::new(HashMap::new()),
        cond: Condvar::new(),
        wake_w,
        wake_r,
        epfd: AtomicI32::new(-1),
        pid: std::process::id(),
        defaults,
    }));
    std::thread::Builder::new()
        .name("sctpshim".into())
        .spawn(move || e.run())
        .ok();
    r.all.push(e);
    r.current = Some(e);
    e
}

/// SCTPSHIM_UDP_PORT when it is not set: 0 (one UDP port per SCTP port) for
/// an engine inside the application, 9899 for the shared daemon.
static DEFAULT_UDP_PORT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(0);

/// Set in sctpshimd before its engine starts.
static DAEMON: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The engine of this process is the shared daemon's: one engine-wide UDP
/// port by default (`udp_port`, unless SCTPSHIM_UDP_PORT says otherwise),
/// and settings per client, not from this process's environment.
pub fn configure_daemon(udp_port: u16) {
    DEFAULT_UDP_PORT.store(udp_port, Ordering::Relaxed);
    DAEMON.store(true, Ordering::Relaxed);
}

/// The engine that created socket `id`.
pub fn engine_of(id: SockId) -> Option<&'static Engine> {
    registry().all.get((id >> GEN_SHIFT) as usize).copied()
}

/// This process's own engine, if it has started one (never starts one).
pub fn current_engine() -> Option<&'static Engine> {
    registry().current.filter(|e| !e.is_foreign())
}
