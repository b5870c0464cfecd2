//! The engine thread: one epoll wait per turn over the wake pipe, the UDP
//! sockets and the engine's ends of the socket pairs.

use super::*;

/// The shortest and the longest wait for a timer.
const MIN_WAIT: Duration = Duration::from_micros(10);
const MAX_WAIT: Duration = Duration::from_secs(60);

impl Engine {
    /// A new epoll instance watching the wake pipe (retried until the
    /// process has a descriptor to spare).
    pub(super) fn new_epoll(&self) -> c_int {
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
        epfd
    }

    /// The engine thread's loop.
    pub(super) fn run(&self) {
        let mut buf = vec![0u8; 65536];
        let mut epfd = self.new_epoll();
        let mut watched = Watched::default();
        let mut evs: Vec<libc::epoll_event> = Vec::with_capacity(1024);
        // (Read once: getenv on every turn showed in profiles.)
        let debug = std::env::var_os("SCTPSHIM_DEBUG").is_some();
        let spin_for = busy_poll();
        let mut spin_until: Option<Instant> = None;
        loop {
            let timeout;
            {
                let mut st = self.lock_quiet();
                watched.sync(epfd, &mut st);
                let t = now();
                // Associations changed after the turn sent (aborts when a
                // listener is reaped) have datagrams or events waiting.
                let pending = (!st.loopback.is_empty() || !st.touched.is_empty())
                    .then(|| t + Duration::from_millis(1));
                // Sockets a turn left work for (stalled associations).
                let unfinished = (!st.dirty.is_empty()).then_some(t);
                let pair_watch = (!st.pair_watch.is_empty()).then(|| t + deliver::PAIR_WATCH_EVERY);
                let others = [
                    pair_watch,
                    st.autoclose_deadline(),
                    st.any_impair
                        .then(|| {
                            st.eps
                                .values()
                                .filter_map(|ep| ep.impair.as_ref()?.next_due())
                                .min()
                        })
                        .flatten(),
                    pending,
                    unfinished,
                ];
                // To the microsecond (RACK's reordering window on a fast
                // path is tens of them), at least MIN_WAIT.
                timeout = st
                    .deadlines
                    .earliest()
                    .map(|(t, _)| t)
                    .into_iter()
                    .chain(others.into_iter().flatten())
                    .min()
                    .map(|d| d.saturating_duration_since(t).max(MIN_WAIT).min(MAX_WAIT))
                    .unwrap_or(MAX_WAIT);
            }
            let limit = if debug {
                timeout.min(Duration::from_secs(3))
            } else {
                timeout
            };
            if let Err(e) = wait(epfd, &mut evs, limit, spin_until) {
                if e.raw_os_error() != Some(libc::EINTR) {
                    // The instance is gone (closed by a raw system call the
                    // interposers never saw): a new one, everything
                    // registered again, rather than failing in a loop.
                    sys::close(epfd);
                    epfd = self.new_epoll();
                    watched = Watched::default();
                    self.lock_quiet().sync_all = true;
                }
                continue;
            }
            if !evs.is_empty() && !spin_for.is_zero() {
                spin_until = Some(now() + spin_for);
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
                    Key::Shared(v6) => st.read_shared(v6, t, &mut buf),
                    // A socket reaped since the wait was unregistered then.
                    Key::Sock(id) if st.socks.contains_key(&id) => {
                        st.dirty.insert(id);
                        st.read_app(id, t, &mut buf, revents)
                    }
                    Key::Sock(_) => {}
                }
            }
            // A turn sweeps at most once a second, busy or not: what no
            // change reported (SCTP_AUTOCLOSE's idle time, ...) is seen then.
            if st
                .swept
                .is_none_or(|w| t.saturating_duration_since(w) >= SWEEP_EVERY)
            {
                st.sweep = true;
            }
            st.refresh_own_addrs(t);
            st.turn(t);
            self.forget_reaped(&mut st);
            drop(st);
            self.cond.notify_all();
        }
    }
}

/// How long the engine polls for the next event after a turn that had
/// some, before it sleeps (SCTPSHIM_BUSY_POLL_US; 0: never).
const BUSY_POLL_DEFAULT: Duration = Duration::from_micros(50);

/// SCTPSHIM_BUSY_POLL_US, read once per engine.
fn busy_poll() -> Duration {
    std::env::var("SCTPSHIM_BUSY_POLL_US")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .map_or(BUSY_POLL_DEFAULT, Duration::from_micros)
}

/// A yield that took longer than this ran another thread.
const YIELD_RAN_OTHERS: Duration = Duration::from_micros(20);
/// Yields that ran other threads after which a poll gives up: the CPUs
/// are wanted elsewhere. (One is the usual case of polling for a reply:
/// the program that makes it ran on this CPU in the meantime.)
const BUSY_YIELDS: u32 = 2;

/// Waits up to `limit` for events. Until `spin_until` it polls instead of
/// sleeping, yielding the CPU between polls: an exchange (a reply, the
/// next message of a burst) usually comes within tens of microseconds of
/// the last, and a sleeping engine's wake-up costs about as much again on
/// each hop (on a VM, a halted CPU's wake-up more): a ping-pong between
/// two namespaces took 170-210 us without it, 95-105 us with 50 us of
/// polling. The state is not locked meanwhile.
fn wait(
    epfd: c_int,
    evs: &mut Vec<libc::epoll_event>,
    limit: Duration,
    spin_until: Option<Instant>,
) -> std::io::Result<()> {
    let start = now();
    let end = start + limit;
    let Some(until) = spin_until.filter(|&u| u > start && !limit.is_zero()) else {
        return sys::epoll_wait(epfd, evs, limit);
    };
    let mut busy = 0;
    loop {
        sys::epoll_wait(epfd, evs, Duration::ZERO)?;
        let t = now();
        if !evs.is_empty() || t >= end {
            return Ok(());
        }
        if t >= until || busy >= BUSY_YIELDS {
            return sys::epoll_wait(epfd, evs, end - t);
        }
        std::thread::yield_now();
        if now().saturating_duration_since(t) >= YIELD_RAN_OTHERS {
            busy += 1;
        }
    }
}

/// Longest time between two turns that look at everything (State::sweep).
pub(super) const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// What the engine's epoll instance watches.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Key {
    Wake,
    Udp(u16),
    /// The engine-wide UDP socket, IPv6 (true) or IPv4.
    Shared(bool),
    Sock(SockId),
}

impl Key {
    const UDP: u64 = 1 << 62;
    const SHARED: u64 = 1 << 20;
    const WAKE: u64 = 1 << 63;

    /// The epoll token (socket ids stay below 2^62: generation << 40).
    pub(super) fn token(self) -> u64 {
        match self {
            Key::Wake => Key::WAKE,
            Key::Udp(port) => Key::UDP | u64::from(port),
            Key::Shared(v6) => Key::UDP | Key::SHARED | u64::from(v6),
            Key::Sock(id) => id,
        }
    }

    pub(super) fn of(token: u64) -> Key {
        if token & Key::WAKE != 0 {
            Key::Wake
        } else if token & Key::UDP != 0 && token & Key::SHARED != 0 {
            Key::Shared(token & 1 != 0)
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
pub(super) struct Watched {
    now: HashMap<Key, (c_int, u32)>,
    seen: Vec<Key>,
}

impl Watched {
    /// Registers `fd` for `ev` under `key` unless it is already; false if
    /// epoll refused.
    pub(super) fn register(&mut self, epfd: c_int, key: Key, fd: c_int, ev: u32) -> bool {
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

    pub(super) fn sync(&mut self, epfd: c_int, st: &mut State) {
        // Descriptors closed since the last turn were unregistered then;
        // their numbers may be back already (a new endpoint's UDP socket on
        // the same port), so their entries must not look current.
        if !st.unwatched.is_empty() {
            let gone: std::collections::HashSet<c_int> = st.unwatched.drain(..).collect();
            self.now.retain(|_, &mut (fd, _)| !gone.contains(&fd));
        }
        let visited = std::mem::take(&mut st.visited);
        let new_udp = std::mem::take(&mut st.new_udp);
        if !std::mem::take(&mut st.sync_all) && !self.now.is_empty() {
            for port in new_udp {
                if let Some(ep) = st.eps.get(&port).filter(|ep| ep.udp >= 0) {
                    self.register(epfd, Key::Udp(port), ep.udp, libc::EPOLLIN as u32);
                }
            }
            // Only sockets a turn looked at can want something else (new
            // sockets are marked by the calls that make them, new endpoints
            // listed in `new_udp`; freed ones were unregistered when closed).
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
            .filter(|(_, ep)| ep.udp >= 0)
            .map(|(&port, ep)| (Key::Udp(port), ep.udp, libc::EPOLLIN as u32))
            .chain(st.shared.iter().flat_map(|sh| {
                [(Key::Shared(false), sh.v4), (Key::Shared(true), sh.v6)]
                    .into_iter()
                    .filter(|&(_, fd)| fd >= 0)
                    .map(|(k, fd)| (k, fd, libc::EPOLLIN as u32))
            }));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// An epoll instance watching one end of a socket pair.
    fn watched_pair() -> (c_int, c_int, c_int) {
        let ep = sys::epoll_create().unwrap();
        let (a, b) = sys::socketpair(libc::SOCK_STREAM, 0, 0).unwrap();
        sys::epoll_ctl(ep, libc::EPOLL_CTL_ADD, a, libc::EPOLLIN as u32, 7).unwrap();
        (ep, a, b)
    }

    #[test]
    fn polling_catches_an_event_that_comes_meanwhile() {
        let (ep, a, b) = watched_pair();
        let mut evs = Vec::with_capacity(8);
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(2));
            sys::write(b, b"x").unwrap();
            b
        });
        let t0 = now();
        let until = Some(t0 + Duration::from_secs(5));
        wait(ep, &mut evs, Duration::from_secs(10), until).unwrap();
        assert_eq!(evs.len(), 1, "the write during the poll is reported");
        assert!(now() - t0 < Duration::from_secs(5));
        let b = writer.join().unwrap();
        for fd in [ep, a, b] {
            sys::close(fd);
        }
    }

    #[test]
    fn polling_ends_at_the_timer_and_sleeping_waits_for_it() {
        let (ep, a, b) = watched_pair();
        let mut evs = Vec::with_capacity(8);
        // Polling longer than the timer: returns at the timer, no events.
        let t0 = now();
        let spin = Some(t0 + Duration::from_secs(5));
        wait(ep, &mut evs, Duration::from_millis(3), spin).unwrap();
        let took = now() - t0;
        assert!(evs.is_empty());
        assert!(took >= Duration::from_millis(3) && took < Duration::from_secs(5));
        // Polling over (in the past): a plain wait of the limit.
        let t1 = now();
        wait(ep, &mut evs, Duration::from_millis(3), Some(t0)).unwrap();
        assert!(evs.is_empty());
        assert!(now() - t1 >= Duration::from_millis(3));
        // Something to read: returned at once either way.
        sys::write(b, b"x").unwrap();
        wait(ep, &mut evs, Duration::from_secs(10), None).unwrap();
        assert_eq!(evs.len(), 1);
        for fd in [ep, a, b] {
            sys::close(fd);
        }
    }
}
