//! One engine turn over the state: packets in, application bytes in,
//! timers, deliveries, and what the epoll instance should watch.

use super::event_loop::Key;
use crate::proto::Transmit;

/// Rounds of datagrams exchanged within the engine in one turn: a loopback
/// handshake (INIT, INIT ACK, COOKIE ECHO, COOKIE ACK) takes four.
const LOOPBACK_ROUNDS: usize = 8;
use super::*;

impl State {
    /// Read the app's bytes only when the association can take them.
    /// What the engine's epoll instance should watch socket `id` for, if
    /// anything. Hang-ups are reported whatever the mask: a socket whose
    /// application end is gone, or that hung up while the engine has
    /// nothing to read from it (no send space), is not watched (it would
    /// make every wait return at once) until it wants to be read again.
    pub(super) fn interest(&self, id: SockId, s: &Sock) -> Option<(Key, c_int, u32)> {
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
        if s.inbox.staged() > 0 && !s.inbox.held() {
            ev |= libc::EPOLLOUT as u32;
        }
        Some((Key::Sock(id), s.efd, ev))
    }

    pub(super) fn wants_app_data(&self, s: &Sock) -> bool {
        if s.app_gone {
            return false;
        }
        match s.kind {
            // Only the close of the application's end matters on these, and
            // POLLHUP reports it without asking; never read their bytes (a
            // non-blocking connect parks filler in a fresh socket's pair).
            Kind::Fresh | Kind::Listener { .. } | Kind::Many => false,
            // Half closed by shutdown(SHUT_WR): nothing more to read.
            Kind::Stream { .. } if s.app_shut & SEND_EOF_READ != 0 => false,
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

    pub(super) fn read_udp(&mut self, port: u16, t: Instant, buf: &mut [u8]) {
        let Some(ep) = self.eps.get_mut(&port) else {
            return;
        };
        let udp = ep.udp;
        while let Some(err) = sys::recv_error(udp) {
            self.on_icmp(t, port, &err);
        }
        let Some(ep) = self.eps.get_mut(&port) else {
            return;
        };
        self.touched.insert(port);
        for _ in 0..256 {
            match sys::recv_coalesced(ep.udp, buf) {
                Ok((n, from, seg)) => {
                    for d in buf[..n].chunks(seg) {
                        ep.take_in(t, port, from, d);
                    }
                }
                Err(_) => break,
            }
        }
    }

    pub(super) fn read_app(&mut self, id: SockId, t: Instant, buf: &mut [u8], revents: i16) {
        let Some(s) = self.socks.get_mut(&id) else {
            return;
        };
        if revents & libc::POLLOUT != 0 {
            s.inbox.flush(s.efd, s.tx.page());
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
                    // Closed: as Linux's sctp_close, each association is
                    // aborted if the socket left data unread (any of its
                    // associations'), if it holds data of its own not yet
                    // delivered, or with SO_LINGER's zero timeout; else it
                    // shuts down gracefully.
                    s.app_gone = true;
                    let reset = sys::take_error(s.efd) == libc::ECONNRESET;
                    let unread = s.inbox.data_left(reset);
                    s.inbox.discard();
                    let linger = s.linger_abort;
                    if let Some(ep) = port.and_then(|p| self.eps.get_mut(&p)) {
                        // (A socket bound to the port since, and listening,
                        // keeps listening: its close may come first.)
                        if ep.listener == Some(id) {
                            ep.listener = None;
                            ep.endpoint.listen(false);
                        }
                        for a in ep.assocs_of(id) {
                            let Some(x) = ep.endpoint.assoc_mut(a) else {
                                continue;
                            };
                            if linger || unread || x.has_message() || x.rx_buffered() > 0 {
                                x.abort(t, close_abort_reason(linger));
                            } else {
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
                if s.app_shut & SEND_EOF_READ != 0 {
                    // Half closed earlier: only the close of the rest matters
                    // (data received and never read turns it into an ABORT,
                    // as below).
                    // (Once the engine shut its own direction for an EOF,
                    // the hang-up says nothing: the close is seen by the
                    // descriptor count then, as for any ended socket.)
                    if revents & libc::POLLHUP != 0 && !s.eof_sent {
                        s.app_gone = true;
                        let unread = s.inbox.staged() > 0
                            || s.held_total > 0
                            || sys::take_error(s.efd) == libc::ECONNRESET;
                        if let Some(a) = ep.endpoint.assoc_mut(assoc)
                            && (unread || s.linger_abort)
                        {
                            a.abort(t, close_abort_reason(s.linger_abort));
                        }
                    }
                    return;
                }
                let Some(a) = ep.endpoint.assoc(assoc) else {
                    return;
                };
                if s.junk > 0 {
                    if a.is_established() || a.is_closed() {
                        s.drop_junk();
                    }
                    return;
                }
                // The pair is read under the send side's lock (see send.rs).
                let side = s.tx.clone();
                let mut tx = side.lock();
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
                let got = sys::read(s.efd, &mut buf[..want]);
                let closed = match &got {
                    Ok(0) => true,
                    Err(e) => e.raw_os_error() == Some(libc::ECONNRESET),
                    Ok(_) => false,
                };
                match got {
                    // shutdown(SHUT_WR): what was written goes out, then
                    // SHUTDOWN; the application still reads.
                    // (A hang-up with it is the application's close, unless
                    // the engine shut its own direction already: then only
                    // the descriptor count tells, as for any ended socket.)
                    Ok(0)
                        if Engine::sending_shut(s)
                            && (revents & libc::POLLHUP == 0 || s.eof_sent) =>
                    {
                        s.app_shut |= SEND_EOF_READ;
                        if let Some(a) = ep.endpoint.assoc_mut(assoc) {
                            tx.finish();
                            tx.pump(a, t);
                        }
                    }
                    // ECONNRESET: the application closed its end with bytes
                    // unread in the pair (see sys::take_error).
                    _ if closed => {
                        s.app_gone = true;
                        // Linux's sctp_close: data received and never read
                        // (what the engine still holds for the application,
                        // or left in the pair) turns the close into an ABORT.
                        let reset = match &got {
                            Err(_) => true,
                            Ok(_) => sys::take_error(s.efd) == libc::ECONNRESET,
                        };
                        let unread = s.inbox.staged() > 0 || s.held_total > 0 || reset;
                        if let Some(a) = ep.endpoint.assoc_mut(assoc) {
                            if s.linger_abort || unread {
                                a.abort(t, close_abort_reason(s.linger_abort));
                            } else {
                                // What was written goes out, then SHUTDOWN.
                                tx.finish();
                                tx.pump(a, t);
                            }
                        }
                    }
                    Ok(n) if n > 0 => {
                        tx.carve(&buf[..n]);
                        if let Some(a) = ep.endpoint.assoc_mut(assoc) {
                            // A closed association drops the bytes as the kernel would.
                            tx.pump(a, t);
                            s.watch.entry(assoc).or_insert_with(Watch::new).active = t;
                        }
                    }
                    Ok(_) | Err(_) => {}
                }
            }
        }
    }

    /// After input: timers, events, delivery to the app, transmission, cleanup.
    pub(super) fn turn(&mut self, t: Instant) {
        // Impaired datagrams whose delay is over (the loop visits every
        // endpoint: only when some endpoint is impaired).
        if self.any_impair {
            let mut late = Vec::new();
            for (&port, ep) in self.eps.iter_mut() {
                let Some(im) = ep.impair.as_mut() else {
                    continue;
                };
                for (_, from, d) in im.due(t, true) {
                    ep.endpoint.handle(t, from, &d);
                    self.touched.insert(port);
                }
                late.extend(
                    im.due(t, false)
                        .into_iter()
                        .map(|(_, to, d)| (port, ep.udp, to, d)),
                );
            }
            for (port, udp, to, d) in late {
                // (From the source address it had when it was sent.)
                let opts = sys::SendOpts {
                    src: self.pick_source(port, to.ip(), t),
                    ..Default::default()
                };
                sys::send_with(self.udp_out(udp, &to), &d, &to, &opts).ok();
            }
        }
        let exiting = self.exiting;
        let sweep = std::mem::take(&mut self.sweep)
            || exiting
            || self.autoclose_deadline().is_some_and(|d| d <= t);
        let mut dirty = std::mem::take(&mut self.dirty);
        dirty.extend(self.pair_watch.iter().copied());
        let autoclose: HashSet<u16> = if self.autoclose_on {
            self.socks
                .values()
                .filter(|s| s.autoclose > 0)
                .filter_map(|s| s.port)
                .collect()
        } else {
            HashSet::new()
        };
        let mut visited: HashSet<SockId> = dirty.clone();
        let ports: Vec<u16> = if sweep {
            self.swept = Some(t);
            self.eps.keys().copied().collect()
        } else {
            let mut ports: BTreeSet<u16> = dirty
                .iter()
                .filter_map(|id| self.socks.get(id)?.port)
                .collect();
            ports.extend(self.deadlines.take_due(t));
            ports.append(&mut self.touched);
            debug_assert!(
                self.eps
                    .iter()
                    .all(|(p, ep)| !ep.endpoint.is_busy() || ports.contains(p)),
                "an endpoint with work nobody marked"
            );
            ports.into_iter().collect()
        };
        // The sockets the application used, by endpoint: each endpoint's
        // part of the turn looks at its own (looking through all of them
        // for each endpoint cost O(endpoints x sockets) per turn, most of
        // an engine holding 10,000 one-socket endpoints).
        let mut dirty_of: HashMap<u16, Vec<SockId>> = HashMap::new();
        for id in &dirty {
            if let Some(p) = self.socks.get(id).and_then(|s| s.port) {
                dirty_of.entry(p).or_default().push(*id);
            }
        }
        let mut ports = ports;
        let mut sweep_now = sweep;
        for round in 0..LOOPBACK_ROUNDS {
            for port in ports {
                let mine = dirty_of.get(&port).map_or(&[][..], Vec::as_slice);
                self.turn_port(port, t, sweep_now, exiting, mine, &autoclose, &mut visited);
            }
            if self.loopback.is_empty() || round + 1 == LOOPBACK_ROUNDS {
                break;
            }
            // Datagrams one endpoint of this engine sent another: their
            // receivers take their turn now (what is left after the last
            // round waits for the next turn).
            ports = self.take_loopback(t);
            sweep_now = false;
        }
        self.reap((!sweep).then_some(&visited));
        self.sync_all |= sweep;
        self.visited.extend(visited);
    }

    /// One endpoint's part of a turn: its timers and events, delivery to
    /// its sockets, and what it sends.
    #[allow(clippy::too_many_arguments)]
    fn turn_port(
        &mut self,
        port: u16,
        t: Instant,
        sweep: bool,
        exiting: bool,
        dirty: &[SockId],
        autoclose: &HashSet<u16>,
        visited: &mut HashSet<SockId>,
    ) {
        let Some(ep) = self.eps.get_mut(&port) else {
            return;
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
                        s.tx.lock().is_blocked() || (!s.app_gone && sys::pending_bytes(s.efd) > 0)
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
        let mut pairs = self.pairs_to_visit(port, sweep, dirty, autoclose);
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
        // Room left and more waiting: the next turn goes on (at once).
        for &(_, sid) in &more {
            self.dirty.insert(sid);
        }
        pairs.sort_unstable();
        pairs.dedup();
        self.replay_parked(port, t, &pairs);
        self.share_rcvbuf(port, t, &pairs, dirty, sweep);
        self.transmit(port, t);
        let Some(ep) = self.eps.get_mut(&port) else {
            return;
        };
        if ep.endpoint.has_output() {
            self.touched.insert(port);
        }
        self.deadlines.set(port, ep.endpoint.poll_timeout());
    }

    /// Sends what endpoint `port` has to send: to an endpoint of this
    /// engine directly, else by UDP (through the impairment, if any).
    /// Datagrams too big for their path are sent again, smaller, once.
    fn transmit(&mut self, port: u16, t: Instant) {
        for _ in 0..2 {
            let Some(ep) = self.eps.get_mut(&port) else {
                return;
            };
            let udp = ep.udp;
            let out: Vec<_> = std::iter::from_fn(|| ep.endpoint.poll_transmit(t)).collect();
            let mut too_big = false;
            // Datagrams for one destination go out together (udp.rs).
            let mut batch: Vec<Transmit> = Vec::new();
            for mut tx in out {
                if tx.src.is_none() {
                    tx.src = self.pick_source(port, tx.dst.ip(), t);
                }
                let fd = self.udp_out(udp, &tx.dst);
                if let Some(to) = self.local_target(port, tx.dst, &tx.payload) {
                    // (On loopback a kernel's source is the destination.)
                    let ip = tx.src.unwrap_or(tx.dst.ip());
                    let from = SocketAddr::new(ip, self.udp_source_port(port));
                    self.loopback.push_back((to, from, tx.payload));
                    continue;
                }
                match self.eps.get_mut(&port).and_then(|ep| ep.impair.as_mut()) {
                    Some(im) => {
                        for d in im.apply(t, false, port, tx.dst, &tx.payload) {
                            too_big |= self.send_datagram(port, fd, &tx, &d, t);
                        }
                    }
                    None => {
                        if !udp::batches_with(&batch, &tx) {
                            too_big |= self.send_batch(port, udp, &batch, t);
                            batch.clear();
                        }
                        batch.push(tx);
                    }
                }
            }
            too_big |= self.send_batch(port, udp, &batch, t);
            if !too_big {
                return;
            }
        }
    }

    /// Hands the datagrams exchanged within the engine to their endpoints;
    /// returns the ports that received some.
    fn take_loopback(&mut self, t: Instant) -> Vec<u16> {
        let mut ports = BTreeSet::new();
        while let Some((port, from, d)) = self.loopback.pop_front() {
            if let Some(ep) = self.eps.get_mut(&port) {
                ep.endpoint.handle(t, from, &d);
                ports.insert(port);
            }
        }
        ports.into_iter().collect()
    }

    /// The (association, socket) pairs of endpoint `port` a turn looks at:
    /// all of them in a sweep, else those whose association changed, and
    /// of the sockets the application used, a one-to-one socket's own and
    /// those a one-to-many socket has messages waiting in (`stalled`).
    /// Sockets with SCTP_AUTOCLOSE on have all theirs looked at.
    pub(super) fn pairs_to_visit(
        &mut self,
        port: u16,
        sweep: bool,
        dirty: &[SockId],
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
            let Some(s) = self.socks.get_mut(id).filter(|s| s.port == Some(port)) else {
                continue;
            };
            match s.kind {
                Kind::Stream { assoc } => {
                    wanted.insert(assoc);
                }
                Kind::Many => wanted.extend(s.stalled_batch()),
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

    /// The next stalled associations of the sockets in `pairs` whose inbox
    /// has room (`Sock::stalled_batch`).
    pub(super) fn unstalled(&mut self, pairs: &[(AssocId, SockId)]) -> Vec<(AssocId, SockId)> {
        let socks: BTreeSet<SockId> = pairs.iter().map(|p| p.1).collect();
        let mut more = Vec::new();
        for sid in socks {
            let Some(s) = self.socks.get_mut(&sid) else {
                continue;
            };
            more.extend(s.stalled_batch().into_iter().map(|a| (a, sid)));
        }
        more
    }

    /// Frees sockets whose application end is closed and whose association
    /// is over, and endpoints nobody uses.
    /// Only `among` these sockets unless None (all).
    pub(super) fn reap(&mut self, among: Option<&HashSet<SockId>>) {
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
                    self.touched.insert(port);
                    for a in pending {
                        ep.parked.remove(&a);
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
                self.deadlines.set(port, None);
                if ep.udp >= 0 {
                    self.closing.push(ep.udp);
                }
            }
        }
    }
}

/// The text of the User-Initiated Abort cause an ABORT at a socket's close
/// carries: SO_LINGER's zero timeout, or data left unread.
fn close_abort_reason(linger_abort: bool) -> &'static [u8] {
    if linger_abort {
        b"SO_LINGER 0"
    } else {
        b"data unread at close"
    }
}
