//! Socket set-up: bind (the endpoint and its UDP side), listen, connect
//! (with the loopback handshake inside the call) and accept.

use super::*;

/// A message to queue on a new association before its handshake, and the
/// SCTP_INIT that goes with it.
type FirstSend = (
    crate::proto::assoc::tx::OutMessage,
    Option<(u16, u16, u16, u16)>,
);

impl Engine {
    /// bind(): takes the UDP port of the same number.
    pub fn bind(&self, id: SockId, addr: SocketAddr) -> Result<(), c_int> {
        let mut st = self.lock(id);
        let st = &mut *st;
        let s = st.socks.get_mut(&id).ok_or(libc::EBADF)?;
        if s.port.is_some() {
            return Err(libc::EINVAL);
        }
        // An AF_INET socket takes only IPv4 addresses (AF_INET6 ones take both).
        if !s.v6 && addr.is_ipv6() {
            return Err(libc::EINVAL);
        }
        // IPV6_V6ONLY: an IPv4 address is EINVAL, a v4-mapped one not
        // available (Linux's sctp_sockaddr_af, then sctp_v6_available).
        if Engine::v6only_refuses(s, addr) {
            return Err(if addr.is_ipv4() {
                libc::EINVAL
            } else {
                libc::EADDRNOTAVAIL
            });
        }
        if addr.port() != 0 && st.eps.contains_key(&addr.port()) {
            let port = addr.port();
            let reuse = s.reuse;
            let own_cfg = s.cfg.clone();
            let mut live = st
                .socks
                .values()
                // (no descriptor left is closed, even before the engine
                // has seen the close)
                .filter(|o| o.port == Some(port) && !o.app_gone && o.refs > 0)
                .peekable();
            // Only associations of closed sockets are left on the port:
            // Linux keeps them going without the port's reservation, so the
            // new socket takes the endpoint over with its own settings.
            let abandoned = live.peek().is_none();
            let shareable = live.all(|o| o.reuse && !matches!(o.kind, Kind::Listener { .. }));
            let listening = st.eps[&port]
                .listener
                .is_some_and(|l| st.socks.get(&l).is_some_and(|o| !o.app_gone && o.refs > 0));
            if !abandoned && (!(reuse && shareable) || listening) {
                return Err(libc::EADDRINUSE);
            }
            if abandoned {
                let mut cfg = own_cfg;
                cfg.backlog = usize::MAX;
                // New associations take the new socket's addresses (its
                // bind may name another address or family than the closed
                // socket's: IPv6 after IPv4); the ones still running keep
                // those they were set up with.
                let (own, any_families) = st.bound_addrs(id, addr);
                cfg.own_addrs = own;
                let ep = st.eps.get_mut(&port).ok_or(libc::EINVAL)?;
                *ep.endpoint.config_mut() = cfg;
                ep.ip = addr.ip();
                ep.any_families = any_families;
                ep.endpoint.listen(false);
                ep.listener = None;
            }
            let s = st.socks.get_mut(&id).ok_or(libc::EBADF)?;
            s.port = Some(port);
            s.local = Some(addr);
            return Ok(());
        }
        let (udp, port) = if st.shared.is_some() {
            // One UDP port carries every endpoint: the SCTP port is ours to
            // give (EADDRINUSE above when taken).
            let port = match addr.port() {
                0 => st.ephemeral_port().ok_or(libc::EADDRINUSE)?,
                p => p,
            };
            (-1, port)
        } else {
            let udp = sys::udp_bind(addr).map_err(|e| e.raw_os_error().unwrap_or(libc::EINVAL))?;
            let port = sys::local_addr(udp)
                .map_err(|e| e.raw_os_error().unwrap_or(libc::EINVAL))?
                .port();
            (udp, port)
        };
        let s = st.socks.get_mut(&id).ok_or(libc::EBADF)?;
        s.port = Some(port);
        s.local = Some(SocketAddr::new(addr.ip(), port));
        // The endpoint's accept queue is claimed by sockets as soon as each
        // association is up, but a burst of COOKIE ECHOs read in one turn
        // would hit its limit first: the socket layer does the limiting.
        let mut cfg = s.cfg.clone();
        cfg.backlog = usize::MAX;
        let impair = s.impair.clone();
        let shortcut = !s.loopback_udp && s.impair.is_none();
        let (own, any_families) = st.bound_addrs(id, addr);
        cfg.own_addrs = own;
        let endpoint = Endpoint::new(cfg, port, sys::random_seed(), now());
        st.any_impair |= impair.is_some();
        st.eps.insert(
            port,
            Ep {
                endpoint,
                udp,
                ip: addr.ip(),
                any_families,
                impair: impair.map(crate::runtime::impair::Impair::new),
                shortcut,
                listener: None,
                socks: HashMap::new(),
                parked: HashMap::new(),
            },
        );
        if udp >= 0 {
            st.new_udp.push(port);
        }
        self.wake();
        Ok(())
    }

    pub(super) fn ensure_bound(&self, id: SockId) -> Result<(), c_int> {
        let (bound, v6) = {
            let st = self.lock_quiet();
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
        // Another thread's call on the same socket may bind it first: its
        // port is then this call's too (bind itself refuses a second one).
        self.bind(id, SocketAddr::new(any, 0)).or_else(|e| {
            let st = self.lock_quiet();
            match st.socks.get(&id) {
                Some(s) if s.port.is_some() => Ok(()),
                _ => Err(e),
            }
        })
    }

    /// listen().
    pub fn listen(&self, id: SockId, backlog: c_int) -> Result<(), c_int> {
        // As Linux's listen(): a larger (or negative) backlog is somaxconn.
        let backlog = (backlog as u32).min(sys::somaxconn()) as usize;
        self.ensure_bound(id)?;
        let mut st = self.lock(id);
        let st = &mut *st;
        let s = st.socks.get_mut(&id).ok_or(libc::EBADF)?;
        let port = s.port.ok_or(libc::EINVAL)?;
        let ep = st.eps.get_mut(&port).ok_or(libc::EINVAL)?;
        match s.kind {
            // Listening already: the new backlog applies.
            Kind::Listener { .. } => {
                ep.endpoint.config_mut().backlog = backlog;
                return Ok(());
            }
            Kind::Stream { .. } => return Err(libc::EINVAL),
            // One listener per port, also among sockets sharing it.
            _ if ep.listener.is_some_and(|l| l != id) => return Err(libc::EADDRINUSE),
            Kind::Fresh => {
                s.kind = Kind::Listener {
                    pending: VecDeque::new(),
                };
                // One-to-one listeners keep at most backlog + 1 associations
                // waiting for accept() (one-to-many ones take every one).
                ep.endpoint.config_mut().backlog = backlog;
            }
            // One-to-many: accepted associations join the socket itself.
            Kind::Many => {}
        }
        ep.listener = Some(id);
        ep.endpoint.listen(true);
        ep.endpoint.set_v6_only(s.v6 && s.ip.v6only);
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
        self.connect_inner(id, peer, nonblocking, junk, None)
    }

    /// A non-blocking connect with `first` queued on the new association
    /// before its handshake runs, and `init` (SCTP_INIT) for it only (see
    /// `early.rs`).
    pub(super) fn connect_first(
        &self,
        id: SockId,
        peer: SocketAddr,
        first: crate::proto::assoc::tx::OutMessage,
        init: Option<(u16, u16, u16, u16)>,
    ) -> Result<(), c_int> {
        self.connect_inner(id, peer, true, 0, Some((first, init)))
    }

    fn connect_inner(
        &self,
        id: SockId,
        peer: SocketAddr,
        nonblocking: bool,
        junk: usize,
        first: Option<FirstSend>,
    ) -> Result<(), c_int> {
        self.ensure_bound(id)?;
        let mut st = self.lock(id);
        {
            let st = &mut *st;
            let s = st.socks.get_mut(&id).ok_or(libc::EBADF)?;
            match s.kind {
                Kind::Fresh => {}
                Kind::Listener { .. } => return Err(libc::EISCONN),
                Kind::Many => return Err(libc::EINVAL),
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
                .connect_as(now(), peer, udp_port_for(&s.cfg, peer), {
                    let mut cfg = s.cfg.clone();
                    if let Some((_, Some(init))) = &first {
                        apply_initmsg(&mut cfg, *init);
                    }
                    cfg
                })
                .map_err(|e| match e {
                    crate::proto::endpoint::ConnectError::AlreadyConnected => libc::EISCONN,
                    crate::proto::endpoint::ConnectError::TooMany => libc::EAGAIN,
                    crate::proto::endpoint::ConnectError::InvalidAddress => libc::EINVAL,
                })?;
            // Queued before the INIT goes out: it rides with the COOKIE
            // ECHO. Refused (too big, bad stream), the association is
            // dropped before anything was sent, as Linux frees it, and the
            // call fails.
            if let Some((m, _)) = first
                && let Some(Err(e)) = ep.endpoint.assoc_mut(assoc).map(|a| a.send(now(), m))
            {
                ep.endpoint.release(assoc);
                return Err(super::early::errno_of_send(e));
            }
            ep.socks.insert(assoc, id);
            ep.endpoint
                .add_peer_paths(assoc, &std::mem::take(&mut s.connect_extra));
            if let Some(a) = ep.endpoint.assoc(assoc) {
                s.tx.lock().track_limits(a);
            }
            s.kind = Kind::Stream { assoc };
            s.peer = Some(peer);
            // (Added to the filler socket() put in.)
            s.junk += junk;
        }
        // A peer in this engine: the handshake completes now, inside
        // connect(), as on a kernel's loopback (the listener can accept as
        // soon as connect returns).
        let shortcut = st
            .socks
            .get(&id)
            .and_then(|s| st.eps.get(&s.port?))
            .is_some_and(|ep| ep.shortcut);
        if shortcut && peer.ip().is_loopback() {
            st.turn(now());
            self.forget_reaped(&mut st);
            if let Some(s) = st.socks.get_mut(&id).filter(|s| s.connected) {
                s.drop_junk();
            }
            self.cond.notify_all();
        }
        self.wake();
        if nonblocking {
            return Err(libc::EINPROGRESS);
        }
        drop(st);
        self.wait_up(id)
    }

    /// Takes the next accepted association of a listener (the caller has
    /// consumed its token byte); returns the new socket and app descriptor.
    pub fn accept(&self, id: SockId, flags: c_int) -> Result<(SockId, c_int, SocketAddr), c_int> {
        let (afd, efd) = stream_pair(flags)?;
        let mut st = self.lock(id);
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
        let waiting = pending.len();
        let port = port.ok_or(libc::EINVAL)?;
        let ep = st.eps.get_mut(&port).ok_or(libc::EINVAL)?;
        ep.endpoint.set_waiting(waiting);
        let peer = ep
            .endpoint
            .assoc(assoc)
            .map(|a| a.peer_addr())
            .ok_or(libc::ECONNABORTED)?;
        let nid = st.next;
        st.next += 1;
        let mut s = Sock::new(v6, efd, &self.defaults);
        s.kind = Kind::Stream { assoc };
        s.port = Some(port);
        s.local = local;
        s.peer = Some(peer);
        s.connected = true;
        s.inherit(&inherited, ep.endpoint.assoc_mut(assoc));
        apply_bufs(afd, &inherited);
        let streams = ep.endpoint.assoc(assoc).map_or((0, 0), |a| a.streams());
        let ind = ep.endpoint.assoc(assoc).and_then(|a| a.peer_adaptation());
        s.came_up(assoc, Some(peer), streams, false, ind);
        s.tx.lock().streams = streams.0;
        if let Some(a) = ep.endpoint.assoc(assoc) {
            s.tx.lock().track_limits(a);
        }
        ep.socks.insert(assoc, nid);
        // What the association went through while it waited: the next turn
        // delivers the messages it holds, then these (deliver.rs).
        s.replay = ep.parked.remove(&assoc).unwrap_or_default();
        let peer = s.present(peer);
        st.socks.insert(nid, s);
        st.dirty.insert(nid);
        self.wake();
        Ok((nid, afd, peer))
    }
}

/// The addresses of `host` of the families taken (IPv4 `v4`, IPv6 `v6`;
/// no IPv6 link-local: a peer could not reach them, see
/// `multihome::listed_addrs`). An endpoint bound to the wildcard has these
/// (`Config::own_addrs`); one bound to an address, only that one.
fn of_families(host: &[IpAddr], v4: bool, v6: bool) -> Vec<IpAddr> {
    host.iter()
        .copied()
        .filter(|a| match a {
            IpAddr::V4(_) => v4,
            IpAddr::V6(x) => v6 && !x.is_unicast_link_local(),
        })
        .collect()
}

/// How often wildcard endpoints take the host's addresses again.
const HOSTS_EVERY: Duration = Duration::from_secs(2);

impl State {
    /// The addresses an endpoint that socket `id` binds to `addr` has, and
    /// for a wildcard bind the families it takes (IPv4, IPv6).
    fn bound_addrs(&mut self, id: SockId, addr: SocketAddr) -> (Vec<IpAddr>, Option<(bool, bool)>) {
        let (v6, v6only) = self
            .socks
            .get(&id)
            .map_or((addr.is_ipv6(), false), |s| (s.v6, s.ip.v6only));
        let any_families = addr.ip().is_unspecified().then_some((!v6 || !v6only, v6));
        let own = match any_families {
            None => vec![sys::unmap(SocketAddr::new(addr.ip(), 0)).ip()],
            Some((v4, v6)) => of_families(self.host_addrs(now()), v4, v6),
        };
        (own, any_families)
    }

    /// Keeps wildcard endpoints' addresses current (addresses added to or
    /// removed from the host), at most every `HOSTS_EVERY`.
    pub(super) fn refresh_own_addrs(&mut self, t: Instant) {
        let recent =
            |w: Option<Instant>| w.is_some_and(|w| t.saturating_duration_since(w) < HOSTS_EVERY);
        if recent(self.hosts_checked) || recent(self.hosts_at) {
            return;
        }
        self.hosts_checked = Some(t);
        if self.eps.values().all(|ep| ep.any_families.is_none()) {
            return;
        }
        self.take_host_addrs(t);
    }

    /// The host's addresses, read again if older than `HOSTS_EVERY`.
    pub(super) fn host_addrs(&mut self, t: Instant) -> &[IpAddr] {
        if self
            .hosts_at
            .is_none_or(|w| t.saturating_duration_since(w) >= HOSTS_EVERY)
        {
            self.take_host_addrs(t);
        }
        &self.hosts
    }

    /// Reads the host's addresses and gives wildcard endpoints theirs.
    fn take_host_addrs(&mut self, t: Instant) {
        self.hosts_at = Some(t);
        self.hosts = sys::host_addrs();
        for ep in self.eps.values_mut() {
            let Some((v4, v6)) = ep.any_families else {
                continue;
            };
            let now = of_families(&self.hosts, v4, v6);
            if ep.endpoint.config().own_addrs != now {
                ep.endpoint.config_mut().own_addrs = now;
            }
        }
    }
}
