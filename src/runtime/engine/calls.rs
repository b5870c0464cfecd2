//! Engine calls behind the interposed receive and send paths and the
//! notification-related socket options.

use std::net::{IpAddr, SocketAddr};
use std::os::raw::c_int;
use std::sync::Arc;
use std::time::Instant;

use super::inbox::Slice;
use super::notify::{Events, ev};
use super::send::{SendSide, Ticket};
use super::{Engine, Kind, SendSpec, SockId};
use crate::proto::assoc::multihome::PathParamsSet;
use crate::proto::assoc::{AssocId, Association};
use crate::sys;

/// What option gets report about one association.
#[derive(Clone, Debug)]
pub struct AssocView {
    pub id: AssocId,
    pub status: crate::proto::assoc::Status,
    pub local_rwnd: u32,
    pub paths: usize,
    pub stats: crate::proto::assoc::Stats,
    /// UDP port the primary path sends to.
    pub udp_port: u16,
}

/// SCTP_ALL_ASSOC; ids up to it (FUTURE 0, CURRENT 1, ALL 2) name no association.
pub const ALL_ASSOC: AssocId = 2;

impl Engine {
    /// The record the reader of `afd` (the application's end of socket `id`)
    /// stands in; None when nothing is known yet (the pair holds no record).
    pub fn next_record(&self, id: SockId, afd: c_int) -> Option<Slice> {
        let mut st = self.lock_quiet();
        let s = st.socks.get_mut(&id)?;
        // Under the lock: the engine writes into the pair only while holding it.
        let unread = sys::pending_bytes(afd);
        s.inbox.at(unread)
    }

    /// The application read from socket `id`: if unread bytes in its pair
    /// held its receive window down, the engine looks at once (the window
    /// update goes out now rather than at the next `PAIR_WATCH_EVERY`).
    pub fn note_read(&self, id: SockId) {
        let mut st = self.lock_quiet();
        // (Also when records wait for a reader of the shared page to move
        // on: this reader went through the daemon.)
        let held = st.socks.get(&id).is_some_and(|s| s.inbox.held());
        if held || st.pair_watch.contains(&id) {
            st.dirty.insert(id);
            drop(st);
            self.wake();
        }
    }

    /// A program reading on its own (see `sys::sockpage`) moved on: held
    /// messages may go into the pair, a window update may be due.
    pub fn reader_moved(&self, id: SockId) {
        self.lock_quiet().dirty.insert(id);
        self.wake();
    }

    /// Whether SCTP_RCVINFO / SCTP_NXTINFO / SCTP_SNDRCV (data_io) go with
    /// received data.
    pub fn recv_options(&self, id: SockId) -> crate::sys::sockpage::RecvWants {
        self.lock_quiet()
            .socks
            .get(&id)
            .map(|s| s.recv_wants())
            .unwrap_or_default()
    }

    /// An interposed send of `len` bytes on one-to-one socket `id` is about
    /// to write into the pair: leaves its mark (see `send.rs`). EINVAL for a
    /// stream the association does not have. Takes only the socket's send
    /// lock once its send side is known, never the engine lock.
    pub fn mark_send(
        &self,
        id: SockId,
        len: usize,
        spec: Option<SendSpec>,
    ) -> Result<Ticket, c_int> {
        self.send_side(id).ok_or(libc::EBADF)?.mark(len, spec)
    }

    /// The send behind `ticket` moved `written` bytes.
    pub fn settle_mark(&self, id: SockId, ticket: Ticket, written: usize) {
        if let Some(side) = self.send_side(id) {
            side.lock().settle(ticket, written);
        }
    }

    /// For a program that places its own send marks or reads records on
    /// its own (see `sys::sockpage`): a copy of socket `id`'s shared page,
    /// or with `pair_end` of the engine's end of its pair (whose unread
    /// bytes place a mark). A one-to-many socket's page serves receives
    /// only (its sends name their association: they go to the daemon).
    pub fn send_page(&self, id: SockId, pair_end: bool) -> Result<c_int, c_int> {
        let (side, efd) = {
            let st = self.lock_quiet();
            let s = st.socks.get(&id).ok_or(libc::EBADF)?;
            if matches!(s.kind, Kind::Listener { .. }) {
                return Err(libc::EOPNOTSUPP);
            }
            (s.tx.clone(), s.efd)
        };
        let err = |e: std::io::Error| e.raw_os_error().unwrap_or(libc::EIO);
        let page = side.shared_page().map_err(err)?;
        // The records already in the pair, published at once, and whether
        // the engine waits for reads to open its window.
        {
            let mut st = self.lock_quiet();
            let watched = st.pair_watch.contains(&id);
            if let Some(s) = st.socks.get_mut(&id) {
                s.inbox.flush(s.efd, s.tx.page());
                s.publish_wants();
                if let Some(p) = s.tx.page() {
                    p.lock().set_watched(watched);
                }
            }
        }
        sys::dup_cloexec(if pair_end { efd } else { page }).map_err(err)
    }

    /// The per-socket turns of the application's sends and receives (see
    /// `SendSide::app_send`).
    pub fn gates(&self, id: SockId) -> Option<Arc<SendSide>> {
        self.send_side(id)
    }

    fn send_side(&self, id: SockId) -> Option<Arc<SendSide>> {
        let known = self.sends().get(&id).cloned();
        if known.is_some() {
            return known;
        }
        let side = self.lock_quiet().socks.get(&id)?.tx.clone();
        self.sends().insert(id, side.clone());
        Some(side)
    }

    /// sctp_bindx (SCTP_SOCKOPT_BINDX_ADD/REM). Adding to an unbound socket
    /// binds it to the first address; further addresses must use the same
    /// port (0 = the bound one) and are recorded. Removing the bound address
    /// or the last one is refused as Linux does (EBUSY), an unknown one EINVAL.
    pub fn bindx(&self, id: SockId, addrs: &[SocketAddr], add: bool) -> Result<(), c_int> {
        let first = *addrs.first().ok_or(libc::EINVAL)?;
        if add
            && self
                .lock(id)
                .socks
                .get(&id)
                .ok_or(libc::EBADF)?
                .port
                .is_none()
        {
            self.bind(id, first)?;
        }
        let mut st = self.lock(id);
        let st = &mut *st;
        let s = st.socks.get_mut(&id).ok_or(libc::EBADF)?;
        let port = s.port.ok_or(libc::EINVAL)?;
        let bound = s.local.map(|l| l.ip());
        for a in addrs {
            if a.port() != 0 && a.port() != port {
                return Err(libc::EINVAL);
            }
            let known = Some(a.ip()) == bound || s.extra_local.contains(&a.ip());
            match (add, known) {
                (true, true) => {}
                (true, false) => s.extra_local.push(a.ip()),
                (false, false) => return Err(libc::EINVAL),
                (false, true) if Some(a.ip()) == bound => return Err(libc::EBUSY),
                (false, true) => s.extra_local.retain(|x| *x != a.ip()),
            }
        }
        // With more than one address, INIT and INIT ACK list them all: the
        // peer gets a path to each (multi-homing).
        let list: Vec<IpAddr> = if s.extra_local.is_empty() {
            Vec::new()
        } else {
            bound
                .into_iter()
                .chain(s.extra_local.iter().copied())
                .map(|ip| sys::unmap(SocketAddr::new(ip, 0)).ip())
                .filter(|ip| !ip.is_unspecified())
                .collect()
        };
        s.cfg.local_addrs = list.clone();
        let own_udp = st.shared.is_none();
        if let Some(ep) = st.eps.get_mut(&port) {
            ep.endpoint.config_mut().local_addrs = list;
            // An endpoint with a UDP socket of its own bound to one address
            // (the thread placement) takes datagrams to the others too.
            if own_udp && ep.udp >= 0 && !ep.ip.is_unspecified() && s.extra_local.len() == 1 {
                let any: IpAddr = if ep.ip.is_ipv4() {
                    std::net::Ipv4Addr::UNSPECIFIED.into()
                } else {
                    std::net::Ipv6Addr::UNSPECIFIED.into()
                };
                sys::close(ep.udp);
                ep.udp = sys::udp_bind(SocketAddr::new(any, port)).unwrap_or(-1);
                st.sync_all = true;
                if ep.udp < 0 {
                    return Err(libc::EADDRINUSE);
                }
            }
        }
        Ok(())
    }

    /// The socket's local addresses (SCTP_GET_LOCAL_ADDRS / sctp_getladdrs)
    /// for association `assoc` (0: the socket's own). A socket bound to the
    /// wildcard address (or not bound before it connected) has all of the
    /// host's addresses of its families, as Linux's local address list;
    /// an association the ones in its peer's scope (sctp_in_scope). EINVAL
    /// for an association the socket does not have.
    pub fn local_addrs(&self, id: SockId, assoc: u32) -> Result<Vec<SocketAddr>, c_int> {
        let Some((Some(local), _)) = self.names(id) else {
            return Ok(Vec::new());
        };
        let st = self.lock_quiet();
        let Some(s) = st.socks.get(&id) else {
            return Ok(Vec::new());
        };
        // The peer whose scope limits the list (sctp_id2assoc: a
        // one-to-one socket's association whatever the id).
        let peer = match s.kind {
            Kind::Stream { .. } if assoc != 0 => s.peer,
            Kind::Many if assoc != 0 => {
                let ep = s.port.and_then(|p| st.eps.get(&p)).ok_or(libc::EINVAL)?;
                let a = ep
                    .endpoint
                    .assoc(assoc)
                    .filter(|a| !a.is_closed() && ep.socks.get(&assoc) == Some(&id))
                    .ok_or(libc::EINVAL)?;
                Some(a.peer_addr())
            }
            _ => None,
        };
        if s.local.is_some_and(|l| !l.ip().is_unspecified()) {
            let extra = s
                .extra_local
                .iter()
                .map(|&ip| s.present(SocketAddr::new(ip, local.port())));
            return Ok(std::iter::once(local).chain(extra).collect());
        }
        let scope = peer.map(|p| sys::addr_scope(sys::unmap(p).ip()));
        Ok(sys::host_addrs()
            .into_iter()
            .filter(|ip| match ip {
                IpAddr::V4(_) => !s.v6 || !s.ip.v6only,
                IpAddr::V6(_) => s.v6,
            })
            .filter(|&ip| scope.is_none_or(|sc| sys::addr_scope(ip) <= sc))
            .map(|ip| s.present(SocketAddr::new(ip, local.port())))
            .collect())
    }

    /// The association of a one-to-one socket, or of a one-to-many socket
    /// with peer `peer`.
    pub fn assoc_for(&self, id: SockId, peer: Option<SocketAddr>) -> Option<AssocId> {
        let st = self.lock_quiet();
        let s = st.socks.get(&id)?;
        match s.kind {
            Kind::Stream { assoc } => Some(assoc),
            Kind::Many => {
                let ep = s.port.and_then(|p| st.eps.get(&p))?;
                ep.endpoint
                    .find(peer?)
                    .filter(|a| ep.socks.get(a) == Some(&id))
            }
            _ => None,
        }
    }

    /// SCTP_EVENTS: the subscription bytes.
    pub fn events(&self, id: SockId) -> [u8; ev::COUNT] {
        self.lock_quiet()
            .socks
            .get(&id)
            .map(|s| s.events.bytes())
            .unwrap_or_default()
    }

    /// SCTP_EVENTS: new subscriptions for the socket and all its
    /// associations (Linux copies them to every association).
    pub fn set_events(&self, id: SockId, f: impl FnOnce(&mut Events)) -> Result<(), c_int> {
        let mut st = self.lock(id);
        let st = &mut *st;
        let s = st.socks.get_mut(&id).ok_or(libc::EBADF)?;
        let before = s.clone_events();
        f(&mut s.events);
        s.assoc_events.clear();
        s.publish_wants();
        st.report_dry(id, &before);
        Ok(())
    }

    /// SCTP_EVENT get: the subscription of the association `assoc` names
    /// (on a connected one-to-one socket, its association whatever the id),
    /// else the socket's. EINVAL for other ids on one-to-many sockets.
    pub fn event_on(&self, id: SockId, assoc: AssocId, e: usize) -> Result<bool, c_int> {
        let st = self.lock_quiet();
        let s = st.socks.get(&id).ok_or(libc::EBADF)?;
        let mine = st.assocs_of(id);
        let named = match s.kind {
            Kind::Stream { assoc } if s.connected => Some(assoc),
            Kind::Many if assoc == 0 => None,
            Kind::Many if mine.contains(&assoc) => Some(assoc),
            Kind::Many => return Err(libc::EINVAL),
            _ => None,
        };
        Ok(named.map_or(&s.events, |a| s.events_of(a)).on(e))
    }

    /// SCTP_EVENT set, as Linux: a named association (on a connected
    /// one-to-one socket, its association) changes only that one; FUTURE
    /// the socket's (associations that exist keep theirs); CURRENT every
    /// existing association; ALL both. Subscribing to SENDER_DRY reports it
    /// at once for the associations concerned that have nothing in flight.
    pub fn set_event(&self, id: SockId, assoc: AssocId, e: usize, on: bool) -> Result<(), c_int> {
        let mut st = self.lock(id);
        let st = &mut *st;
        let mine = st.assocs_of(id);
        let s = st.socks.get_mut(&id).ok_or(libc::EBADF)?;
        let (future, targets) = match s.kind {
            Kind::Stream { assoc } if s.connected => (false, vec![assoc]),
            Kind::Many => match assoc {
                0 => (true, Vec::new()),
                1 => (false, mine.clone()),
                ALL_ASSOC => (true, mine.clone()),
                a if mine.contains(&a) => (false, vec![a]),
                _ => return Err(libc::EINVAL),
            },
            _ => (true, Vec::new()),
        };
        let before = s.clone_events();
        if future {
            for &a in &mine {
                s.assoc_events.entry(a).or_insert(s.events);
            }
            s.events.0[e] = on;
        }
        for a in targets {
            s.assoc_events.entry(a).or_insert(s.events).0[e] = on;
        }
        s.publish_wants();
        st.report_dry(id, &before);
        Ok(())
    }

    /// SCTP_RECVRCVINFO / SCTP_RECVNXTINFO.
    pub fn set_recv_options(
        &self,
        id: SockId,
        rcvinfo: Option<bool>,
        nxtinfo: Option<bool>,
    ) -> Result<(), c_int> {
        let mut st = self.lock(id);
        let s = st.socks.get_mut(&id).ok_or(libc::EBADF)?;
        if let Some(v) = rcvinfo {
            s.recv_rcvinfo = v;
        }
        if let Some(v) = nxtinfo {
            s.recv_nxtinfo = v;
        }
        s.publish_wants();
        Ok(())
    }

    /// Changes protocol settings for what `assoc` names, as Linux applies
    /// an option with an association id: on a one-to-one socket the socket
    /// and its association (the id is ignored); on a one-to-many socket
    /// FUTURE (0) the socket's defaults, CURRENT (1) every existing
    /// association, ALL (2) both, or one association of the socket (EINVAL
    /// for an id it does not have).
    pub fn assoc_config(
        &self,
        id: SockId,
        assoc: AssocId,
        f: impl Fn(&mut crate::proto::Config),
    ) -> Result<(), c_int> {
        let mut st = self.lock(id);
        let st = &mut *st;
        let s = st.socks.get_mut(&id).ok_or(libc::EBADF)?;
        let ep = s.port.and_then(|p| st.eps.get_mut(&p));
        let (future, current, only) = match s.kind {
            Kind::Many => match assoc {
                0 => (true, false, None),
                1 => (false, true, None),
                ALL_ASSOC => (true, true, None),
                a => {
                    if ep.as_ref().is_none_or(|ep| ep.socks.get(&a) != Some(&id)) {
                        return Err(libc::EINVAL);
                    }
                    (false, false, Some(a))
                }
            },
            Kind::Stream { assoc } => (true, false, Some(assoc)),
            _ => (true, false, None),
        };
        if future {
            f(&mut s.cfg);
        }
        if let Some(ep) = ep {
            if future {
                f(ep.endpoint.config_mut());
            }
            let mine: Vec<AssocId> = ep
                .socks
                .iter()
                .filter(|&(a, &x)| x == id && (current || only == Some(*a)))
                .map(|(&a, _)| a)
                .collect();
            for a in mine {
                if let Some(x) = ep.endpoint.assoc_mut(a) {
                    x.update_config(super::now(), &f);
                    if matches!(s.kind, Kind::Stream { .. }) {
                        s.tx.lock().track_limits(x);
                    }
                }
            }
        }
        // New timers (a heartbeat interval, path MTU probes): the engine
        // thread, asleep until the old deadlines, looks again.
        self.wake();
        Ok(())
    }

    /// sctp_connectx: the peer's addresses after the first, which the next
    /// connect of socket `id` makes paths of its association.
    pub fn set_connect_extra(&self, id: SockId, addrs: &[SocketAddr]) {
        if let Some(s) = self.lock(id).socks.get_mut(&id) {
            s.connect_extra = addrs.iter().map(|&a| sys::unmap(a).ip()).collect();
        }
    }

    /// SCTP_PRIMARY_ADDR: the path to `addr` becomes association
    /// `assoc`'s primary; EINVAL when the association has no such path
    /// (Linux's sctp_addr_id2transport) or the socket no such association.
    pub fn set_primary(&self, id: SockId, assoc: AssocId, addr: SocketAddr) -> Result<(), c_int> {
        self.with_assoc(id, assoc, |a, _| {
            a.set_primary(sys::unmap(addr).ip())
                .then_some(())
                .ok_or(libc::EINVAL)
        })
    }

    /// SCTP_PEER_ADDR_PARAMS for the path to `addr` of association
    /// `assoc`: EINVAL when it has no such path (address and port).
    pub fn path_params(
        &self,
        id: SockId,
        assoc: AssocId,
        addr: SocketAddr,
        set: &PathParamsSet,
    ) -> Result<(), c_int> {
        let addr = sys::unmap(addr);
        self.with_assoc(id, assoc, |a, now| {
            let ok = a.peer_addr().port() == addr.port() && a.set_path_params(now, addr.ip(), set);
            ok.then_some(()).ok_or(libc::EINVAL)
        })
    }

    /// `set` on every path of association `assoc` (SCTP_PEER_ADDR_PARAMS
    /// and SCTP_PEER_ADDR_THLDS without an address, as Linux's loop over
    /// the transports); EINVAL when there is no association.
    pub fn all_path_params(
        &self,
        id: SockId,
        assoc: AssocId,
        set: &PathParamsSet,
    ) -> Result<(), c_int> {
        self.with_assoc(id, assoc, |a, now| {
            for ip in a.paths().iter().map(|p| p.addr).collect::<Vec<_>>() {
                a.set_path_params(now, ip, set);
            }
            Ok(())
        })
    }

    /// Runs `f` on the association of socket `id` (a one-to-one socket's
    /// own, whatever `assoc` says), and has the engine look at its
    /// endpoint; EINVAL when there is none.
    fn with_assoc<T>(
        &self,
        id: SockId,
        assoc: AssocId,
        f: impl FnOnce(&mut Association, Instant) -> Result<T, c_int>,
    ) -> Result<T, c_int> {
        let mut st = self.lock(id);
        let st = &mut *st;
        let s = st.socks.get(&id).ok_or(libc::EBADF)?;
        let port = s.port.ok_or(libc::EINVAL)?;
        let ep = st.eps.get_mut(&port).ok_or(libc::EINVAL)?;
        let named = match s.kind {
            Kind::Stream { assoc } => assoc,
            Kind::Many if ep.socks.get(&assoc) == Some(&id) => assoc,
            _ => return Err(libc::EINVAL),
        };
        let a = ep.endpoint.assoc_mut(named).ok_or(libc::EINVAL)?;
        let r = f(a, super::now())?;
        st.touched.insert(port);
        self.wake();
        Ok(r)
    }

    /// The settings an option get reads for `assoc` (see `assoc_config`),
    /// with the association's status when one is named (or is the socket's).
    pub fn assoc_view(
        &self,
        id: SockId,
        assoc: AssocId,
    ) -> Result<(crate::proto::Config, Option<AssocView>), c_int> {
        let st = self.lock_quiet();
        let s = st.socks.get(&id).ok_or(libc::EBADF)?;
        let ep = s.port.and_then(|p| st.eps.get(&p));
        let named = match s.kind {
            Kind::Stream { assoc } => Some(assoc),
            Kind::Many if assoc > ALL_ASSOC => {
                if ep.is_none_or(|ep| ep.socks.get(&assoc) != Some(&id)) {
                    return Err(libc::EINVAL);
                }
                Some(assoc)
            }
            _ => None,
        };
        let a = named.and_then(|a| ep.and_then(|ep| ep.endpoint.assoc(a)));
        Ok(match a {
            Some(a) => (
                a.config().clone(),
                Some(AssocView {
                    id: a.id(),
                    status: {
                        let mut st = a.status();
                        st.present(|a| s.present(a));
                        st
                    },
                    local_rwnd: a.local_rwnd(),
                    paths: a.paths().len(),
                    stats: a.stats().clone(),
                    udp_port: a.paths()[a.primary()].udp_port,
                }),
            ),
            None => (s.cfg.clone(), None),
        })
    }

    /// Associations of a one-to-many socket (SCTP_GET_ASSOC_ID_LIST).
    pub fn assoc_ids(&self, id: SockId) -> Result<Vec<AssocId>, c_int> {
        let st = self.lock_quiet();
        let s = st.socks.get(&id).ok_or(libc::EBADF)?;
        if s.kind != Kind::Many {
            return Err(libc::EINVAL);
        }
        let Some(ep) = s.port.and_then(|p| st.eps.get(&p)) else {
            return Ok(Vec::new());
        };
        let mut v: Vec<AssocId> = ep
            .socks
            .iter()
            .filter(|&(a, &x)| x == id && ep.endpoint.assoc(*a).is_some_and(|x| !x.is_closed()))
            .map(|(&a, _)| a)
            .collect();
        v.sort_unstable();
        Ok(v)
    }

    /// SCTP_DEFAULT_SEND_PARAM / SCTP_DEFAULT_SNDINFO.
    pub fn default_send(&self, id: SockId) -> Result<SendSpec, c_int> {
        Ok(self
            .lock_quiet()
            .socks
            .get(&id)
            .ok_or(libc::EBADF)?
            .default_spec)
    }

    /// Sets the send parameters of sends that give none.
    pub fn set_default_send(&self, id: SockId, spec: SendSpec) -> Result<(), c_int> {
        let mut st = self.lock(id);
        let s = st.socks.get_mut(&id).ok_or(libc::EBADF)?;
        s.default_spec = spec;
        s.tx.lock().default = spec;
        Ok(())
    }

    /// True for a one-to-one socket after listen().
    pub fn is_listening(&self, id: SockId) -> bool {
        self.lock_quiet()
            .socks
            .get(&id)
            .is_some_and(|s| matches!(s.kind, Kind::Listener { .. }))
    }

    /// Remembers SO_RCVBUF (`rcv`) or SO_SNDBUF as the application set it,
    /// for the sockets accept and sctp_peeloff make from this one.
    pub fn remember_buf(&self, id: SockId, rcv: bool, v: c_int) {
        // (A new SO_RCVBUF moves the share of every association of the
        // socket: the next turn looks at them all.)
        let mut st = if rcv { self.lock_all() } else { self.lock(id) };
        if let Some(s) = st.socks.get_mut(&id) {
            s.bufs[usize::from(!rcv)] = Some(v);
        }
    }

    /// SO_ACCEPTCONN: a listening socket of either style.
    pub fn accepts_connections(&self, id: SockId) -> bool {
        let st = self.lock_quiet();
        let Some(s) = st.socks.get(&id) else {
            return false;
        };
        let port = s.port;
        matches!(s.kind, Kind::Listener { .. })
            || port
                .and_then(|p| st.eps.get(&p))
                .is_some_and(|ep| ep.listener == Some(id))
    }

    /// True for AF_INET6 sockets.
    pub fn is_v6(&self, id: SockId) -> bool {
        self.lock_quiet().socks.get(&id).is_some_and(|s| s.v6)
    }

    /// A peer address the application gave (connect, sendto, sctp_connectx,
    /// an option): IPv6 ones only on AF_INET6 sockets (EINVAL otherwise, as
    /// Linux's sctp_verify_addr); a v4-mapped one names the IPv4 peer.
    pub fn peer_arg(&self, id: SockId, a: SocketAddr) -> Result<SocketAddr, c_int> {
        let st = self.lock_quiet();
        let s = st.socks.get(&id).ok_or(libc::EBADF)?;
        if a.is_ipv6() && !s.v6 || Engine::v6only_refuses(s, a) {
            return Err(libc::EINVAL);
        }
        Ok(sys::unmap(a))
    }

    /// SO_REUSEADDR / SCTP_REUSE_PORT (see `Sock::reuse`).
    pub fn reuse(&self, id: SockId) -> Result<bool, c_int> {
        Ok(self.lock_quiet().socks.get(&id).ok_or(libc::EBADF)?.reuse)
    }

    /// Sets SO_REUSEADDR, or with `sctp_option` SCTP_REUSE_PORT, which
    /// Linux takes only on one-to-one sockets (EOPNOTSUPP) not yet bound
    /// (EFAULT).
    pub fn set_reuse(&self, id: SockId, on: bool, sctp_option: bool) -> Result<(), c_int> {
        let mut st = self.lock(id);
        let s = st.socks.get_mut(&id).ok_or(libc::EBADF)?;
        if sctp_option && s.kind == Kind::Many {
            return Err(libc::EOPNOTSUPP);
        }
        if sctp_option && s.port.is_some() {
            return Err(libc::EFAULT);
        }
        s.reuse = on;
        Ok(())
    }

    /// SCTP_I_WANT_MAPPED_V4_ADDR.
    pub fn v4mapped(&self, id: SockId) -> Result<bool, c_int> {
        Ok(self
            .lock_quiet()
            .socks
            .get(&id)
            .ok_or(libc::EBADF)?
            .v4mapped)
    }

    /// Sets SCTP_I_WANT_MAPPED_V4_ADDR.
    pub fn set_v4mapped(&self, id: SockId, on: bool) -> Result<(), c_int> {
        self.lock(id)
            .socks
            .get_mut(&id)
            .ok_or(libc::EBADF)?
            .v4mapped = on;
        Ok(())
    }

    /// A copy of the socket's protocol settings.
    pub fn config(&self, id: SockId) -> Result<crate::proto::Config, c_int> {
        let st = self.lock_quiet();
        Ok(st.socks.get(&id).ok_or(libc::EBADF)?.cfg.clone())
    }

    /// Changes the socket's protocol settings, and its endpoint's (for
    /// associations set up from now on).
    pub fn update_config(
        &self,
        id: SockId,
        f: impl Fn(&mut crate::proto::Config),
    ) -> Result<(), c_int> {
        let mut st = self.lock(id);
        let st = &mut *st;
        let s = st.socks.get_mut(&id).ok_or(libc::EBADF)?;
        f(&mut s.cfg);
        if let Some(ep) = s.port.and_then(|p| st.eps.get_mut(&p)) {
            f(ep.endpoint.config_mut());
        }
        Ok(())
    }

    /// SCTP_PARTIAL_DELIVERY_POINT (bytes; 0: when the receive buffer fills).
    pub fn pd_point(&self, id: SockId) -> Result<u32, c_int> {
        let st = self.lock_quiet();
        let s = st.socks.get(&id).ok_or(libc::EBADF)?;
        Ok(s.cfg.pd_point as u32)
    }

    /// Sets SCTP_PARTIAL_DELIVERY_POINT for associations set up from now on;
    /// EINVAL beyond half the receive buffer, as Linux.
    pub fn set_pd_point(&self, id: SockId, v: u32) -> Result<(), c_int> {
        let mut st = self.lock(id);
        let st = &mut *st;
        let s = st.socks.get_mut(&id).ok_or(libc::EBADF)?;
        if v as usize > s.cfg.rcvbuf / 2 {
            return Err(libc::EINVAL);
        }
        s.cfg.pd_point = v as usize;
        if let Some(ep) = s.port.and_then(|p| st.eps.get_mut(&p)) {
            ep.endpoint.config_mut().pd_point = v as usize;
        }
        Ok(())
    }

    /// SCTP_AUTOCLOSE (seconds); EOPNOTSUPP on one-to-one sockets, as Linux.
    pub fn autoclose(&self, id: SockId) -> Result<u32, c_int> {
        let st = self.lock_quiet();
        let s = st.socks.get(&id).ok_or(libc::EBADF)?;
        if s.kind != Kind::Many {
            return Err(libc::EOPNOTSUPP);
        }
        Ok(s.autoclose)
    }

    /// Sets SCTP_AUTOCLOSE.
    pub fn set_autoclose(&self, id: SockId, secs: u32) -> Result<(), c_int> {
        let mut st = self.lock(id);
        let s = st.socks.get_mut(&id).ok_or(libc::EBADF)?;
        if s.kind != Kind::Many {
            return Err(libc::EOPNOTSUPP);
        }
        s.autoclose = secs;
        st.autoclose_on |= secs > 0;
        drop(st);
        self.wake();
        Ok(())
    }
}
