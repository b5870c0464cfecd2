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
    let shared = match super::udp::port_from_env(DEFAULT_UDP_PORT.load(Ordering::Relaxed)) {
        0 => None,
        port => super::udp::SharedUdp::open(port),
    };
    let mut cfg = config_from_env();
    if let Some(sh) = &shared {
        // Peers are reached on the same port unless a path learns another
        // from the packets it receives (or SCTP_REMOTE_UDP_ENCAPS_PORT says).
        cfg.remote_udp_port = sh.port;
    }
    let e: &'static Engine = Box::leak(Box::new(Engine {
        state: Mutex::new(State {
            next: (generation << GEN_SHIFT) | 1,
            impair: impair_from_env(),
            shortcut: std::env::var("SCTPSHIM_LOOPBACK").as_deref() != Ok("udp"),
            shared,
            ..Default::default()
        }),
        sends: Mutex::new(HashMap::new()),
        cond: Condvar::new(),
        wake_w,
        wake_r,
        epfd: AtomicI32::new(-1),
        pid: std::process::id(),
        cfg,
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

/// The daemon's default: one engine-wide UDP port (before the engine starts).
pub fn set_default_udp_port(port: u16) {
    DEFAULT_UDP_PORT.store(port, Ordering::Relaxed);
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
pub(super) fn impair_from_env() -> Option<crate::runtime::impair::Impair> {
    let v = std::env::var("SCTPSHIM_IMPAIR").ok()?;
    match crate::runtime::impair::Spec::parse(&v) {
        Ok(spec) => Some(crate::runtime::impair::Impair::new(spec)),
        Err(e) => {
            eprintln!("sctpshim: SCTPSHIM_IMPAIR ignored: {e}");
            None
        }
    }
}

pub(super) fn config_from_env() -> Config {
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
