//! One-to-many (UDP-style, SOCK_SEQPACKET) sockets, RFC 6458 §3: one socket
//! holds any number of associations, set up implicitly by sendmsg to a new
//! peer or accepted automatically while listening.
//!
//! Received messages reach the application through the socket's inbox like
//! on one-to-one sockets (`inbox.rs`); sends bypass the pair: the interposer
//! hands each message to the engine with its destination and send info.

use std::net::{IpAddr, SocketAddr};
use std::os::raw::c_int;

use super::{Engine, Kind, Sock, Watch, now};
use crate::proto::assoc::{AssocId, SendError};
use crate::sys;

/// Socket ids of one-to-many sockets carry this bit, so the receive paths
/// know without a lock whether records carry metadata.
pub const MANY_BIT: u64 = 1 << 39;

/// True if `id` names a one-to-many socket.
pub fn is_many_id(id: super::SockId) -> bool {
    id & MANY_BIT != 0
}

/// `sinfo_flags` / `snd_flags` bits (Linux values).
pub const SCTP_UNORDERED: u16 = 1;
pub const SCTP_ADDR_OVER: u16 = 1 << 1;
pub const SCTP_ABORT: u16 = 1 << 2;
pub const SCTP_EOF: u16 = 0x200;
pub const SCTP_SENDALL: u16 = 64;

/// What the kernel would say about one record in ancillary data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordMeta {
    pub assoc: AssocId,
    pub peer: Option<SocketAddr>,
    pub stream: u16,
    pub ssn: u16,
    pub ppid: u32,
    pub tsn: u32,
    pub unordered: bool,
    /// The record is a notification (MSG_NOTIFICATION).
    pub notification: bool,
    /// SCTP_CONTEXT of the association.
    pub context: u32,
}

/// How to send one message (from SCTP_SNDRCV / SCTP_SNDINFO or defaults).
#[derive(Clone, Copy, Debug, Default)]
pub struct SendSpec {
    pub stream: u16,
    pub ppid: u32,
    pub flags: u16,
    pub assoc: AssocId,
    /// `sinfo_context`, returned in SEND_FAILED notifications.
    pub context: u32,
    /// SCTP_INIT: (ostreams, instreams, max attempts, max init timeout ms)
    /// for an association this send sets up.
    pub init: Option<(u16, u16, u16, u16)>,
    /// The peer address whose path the message takes (see
    /// `OutMessage::path`).
    pub path: Option<IpAddr>,
}

impl SendSpec {
    /// Whether two sends describe the same kind of message (stream, PPID,
    /// flags, context): a retried remainder must match what it continues.
    pub fn same_message_kind(&self, o: &SendSpec) -> bool {
        (self.stream, self.ppid, self.flags, self.context) == (o.stream, o.ppid, o.flags, o.context)
    }
}

impl Engine {
    /// A new one-to-many socket; returns its id and the application's descriptor.
    pub fn socket_many(&self, v6: bool, flags: c_int) -> std::io::Result<(super::SockId, c_int)> {
        let (afd, efd) = super::stream_pair(flags).map_err(std::io::Error::from_raw_os_error)?;
        let mut st = self.lock_quiet();
        let id = st.next | MANY_BIT;
        st.next += 1;
        let mut s = Sock::new(v6, efd, &self.defaults);
        s.kind = Kind::Many;
        s.cfg.sndbuf_auto = false;
        st.socks.insert(id, s);
        st.dirty.insert(id);
        drop(st);
        self.wake();
        Ok((id, afd))
    }

    /// connect() on a one-to-many socket: sets up one more association and,
    /// unless `nonblocking`, waits for it (RFC 6458 §3.1.5).
    pub fn connect_many(
        &self,
        id: super::SockId,
        dest: SocketAddr,
        nonblocking: bool,
    ) -> Result<(), c_int> {
        self.ensure_bound(id)?;
        let mut st = self.lock(id);
        let aid = {
            let st_ref = &mut *st;
            let port = st_ref
                .socks
                .get(&id)
                .and_then(|s| s.port)
                .ok_or(libc::EINVAL)?;
            let ep = st_ref.eps.get_mut(&port).ok_or(libc::EINVAL)?;
            if ep.endpoint.find(dest).is_some() {
                return Err(libc::EISCONN);
            }
            let a = ep
                .endpoint
                .connect(now(), dest, super::udp_port_for(ep.endpoint.config(), dest))
                .map_err(|_| libc::EINVAL)?;
            ep.socks.insert(a, id);
            if let Some(s) = st_ref.socks.get_mut(&id) {
                ep.endpoint
                    .add_peer_paths(a, &std::mem::take(&mut s.connect_extra));
            }
            a
        };
        self.wake();
        if nonblocking {
            return Err(libc::EINPROGRESS);
        }
        loop {
            let s = st.socks.get(&id).ok_or(libc::EBADF)?;
            if s.is_up(aid) {
                return Ok(());
            }
            let port = s.port.ok_or(libc::EINVAL)?;
            let gone = st
                .eps
                .get(&port)
                .is_none_or(|ep| ep.endpoint.assoc(aid).is_none_or(|a| a.is_closed()));
            if gone {
                return Err(libc::ECONNREFUSED);
            }
            st = self.wait(st, Some(id), None).0;
        }
    }

    /// sendmsg on a one-to-many socket: picks or sets up the association
    /// (by `spec.assoc`, else by `dest`), honours SCTP_EOF / SCTP_ABORT /
    /// SCTP_SENDALL, and queues the message, waiting for send space unless
    /// `nonblocking`. `init` (SCTP_INIT) sets up a new association's streams.
    pub fn send_many(
        &self,
        id: super::SockId,
        dest: Option<SocketAddr>,
        spec: SendSpec,
        data: &[u8],
        nonblocking: bool,
    ) -> Result<usize, c_int> {
        self.ensure_bound(id)?;
        if spec.flags & SCTP_SENDALL != 0 {
            return self.send_all(id, spec, data);
        }
        let mut st = self.lock(id);
        let mut fresh = None;
        loop {
            let st_ref = &mut *st;
            let s = st_ref.socks.get_mut(&id).ok_or(libc::EBADF)?;
            let port = s.port.ok_or(libc::EINVAL)?;
            let ep = st_ref.eps.get_mut(&port).ok_or(libc::EINVAL)?;
            let existing = if spec.assoc != 0 {
                Some(spec.assoc).filter(|a| ep.socks.get(a) == Some(&id))
            } else {
                dest.and_then(|d| ep.endpoint.find(d))
                    .filter(|a| ep.socks.get(a) == Some(&id))
            };
            let t = now();
            let assoc = match existing {
                Some(a) => a,
                None if spec.assoc != 0 => return Err(libc::EINVAL),
                None if spec.flags & (SCTP_ABORT | SCTP_EOF) != 0 => return Err(libc::EINVAL),
                // Linux: no address and no association to send on.
                None if dest.is_none() => return Err(libc::EPIPE),
                None => {
                    let d = dest.ok_or(libc::EDESTADDRREQ)?;
                    // SCTP_INIT applies to this association only.
                    let saved = ep.endpoint.config_mut().clone();
                    if let Some(init) = spec.init {
                        super::apply_initmsg(ep.endpoint.config_mut(), init);
                    }
                    let udp = super::udp_port_for(ep.endpoint.config(), d);
                    let a = ep.endpoint.connect(t, d, udp);
                    *ep.endpoint.config_mut() = saved;
                    let a = a.map_err(|_| libc::EINVAL)?;
                    ep.socks.insert(a, id);
                    fresh = Some(a);
                    a
                }
            };
            let Some(a) = ep.endpoint.assoc_mut(assoc) else {
                return Err(libc::EPIPE);
            };
            if spec.flags & SCTP_ABORT != 0 {
                a.abort(t, data);
                drop(st);
                self.wake();
                // Linux's sctp_sendmsg answers 0: no data was sent.
                return Ok(0);
            }
            if data.is_empty() {
                if spec.flags & SCTP_EOF != 0 {
                    a.shutdown(t);
                    drop(st);
                    self.wake();
                    return Ok(0);
                }
                return Err(libc::EINVAL);
            }
            // SCTP_ADDR_OVER: the address names the path, not only the
            // association (Linux's sctp_sendmsg).
            let path = dest
                .filter(|_| spec.flags & SCTP_ADDR_OVER != 0)
                .map(|d| sys::unmap(d).ip());
            let spec = SendSpec { path, ..spec };
            match a.send(t, super::send::message(&spec, data.to_vec())) {
                Ok(()) => {
                    if spec.flags & SCTP_EOF != 0 {
                        a.shutdown(t);
                    }
                    s.watch.entry(assoc).or_insert_with(Watch::new).active = t;
                    self.wake();
                    if let (Some(aid), Some(d)) = (fresh, dest)
                        && d.ip().is_loopback()
                    {
                        // Linux runs a loopback handshake inside the sending
                        // call (softirq), so COMM_UP is readable when it
                        // returns, even non-blocking; programs rely on that.
                        self.settle_loopback_setup(st, id, aid);
                    }
                    return Ok(data.len());
                }
                Err(SendError::WouldBlock) if !nonblocking => st = self.wait(st, Some(id), None).0,
                Err(e) => return Err(super::early::errno_of_send(e)),
            }
        }
    }

    /// Waits (briefly) until association `aid` of socket `id` is up or over.
    fn settle_loopback_setup(
        &self,
        mut st: std::sync::MutexGuard<'_, super::State>,
        id: super::SockId,
        aid: AssocId,
    ) {
        let deadline = now() + std::time::Duration::from_millis(200);
        loop {
            let Some(s) = st.socks.get(&id) else { return };
            let over = s
                .port
                .and_then(|p| st.eps.get(&p))
                .is_none_or(|ep| ep.endpoint.assoc(aid).is_none_or(|a| a.is_closed()));
            if s.is_up(aid) || over {
                return;
            }
            let (g, timed_out) = self.wait(st, Some(id), Some(deadline));
            if timed_out {
                return;
            }
            st = g;
        }
    }

    /// SCTP_SENDALL: the message (or SCTP_EOF / SCTP_ABORT) goes to every
    /// association of the socket that can take it now.
    fn send_all(&self, id: super::SockId, spec: SendSpec, data: &[u8]) -> Result<usize, c_int> {
        let mut st = self.lock(id);
        let st_ref = &mut *st;
        let s = st_ref.socks.get_mut(&id).ok_or(libc::EBADF)?;
        let port = s.port.ok_or(libc::EINVAL)?;
        let ep = st_ref.eps.get_mut(&port).ok_or(libc::EINVAL)?;
        let t = now();
        for aid in ep.assocs_of(id) {
            let Some(a) = ep.endpoint.assoc_mut(aid) else {
                continue;
            };
            if spec.flags & SCTP_ABORT != 0 {
                a.abort(t, data);
                continue;
            }
            if !data.is_empty()
                && a.send(t, super::send::message(&spec, data.to_vec()))
                    .is_ok()
            {
                s.watch.entry(aid).or_insert_with(Watch::new).active = t;
            }
            if spec.flags & SCTP_EOF != 0 {
                a.shutdown(t);
            }
        }
        drop(st);
        self.wake();
        Ok(data.len())
    }

    /// sctp_peeloff: moves association `assoc` of one-to-many socket `id`
    /// onto a new one-to-one socket; `flags` are SOCK_NONBLOCK/SOCK_CLOEXEC.
    /// Everything of the association the application has not read moves
    /// with it (Linux's sctp_sock_migrate), also what already went into
    /// the one-to-many socket's pair: `app_end` is the application's end,
    /// whose unread bytes are taken back (the caller keeps other readers
    /// of the socket out meanwhile).
    pub fn peeloff(
        &self,
        id: super::SockId,
        assoc: AssocId,
        flags: c_int,
        app_end: c_int,
    ) -> Result<(super::SockId, c_int), c_int> {
        let (afd, efd) = super::stream_pair(flags)?;
        let mut st = self.lock(id);
        let st_ref = &mut *st;
        let fail = |e| {
            sys::close(afd);
            sys::close(efd);
            Err(e)
        };
        let Some(s) = st_ref.socks.get_mut(&id).filter(|s| s.kind == Kind::Many) else {
            return fail(libc::EINVAL);
        };
        let Some(ep) = s.port.and_then(|p| st_ref.eps.get_mut(&p)) else {
            return fail(libc::EINVAL);
        };
        let Some(a) = ep
            .endpoint
            .assoc(assoc)
            .filter(|a| !a.is_closed() && ep.socks.get(&assoc) == Some(&id))
        else {
            return fail(libc::EINVAL);
        };
        let peer = a.peer_addr();
        let up = a.is_established();
        let mut n = Sock::new(s.v6, efd, &self.defaults);
        n.cfg = s.cfg.clone();
        n.kind = Kind::Stream { assoc };
        n.port = s.port;
        n.local = s.local;
        n.peer = Some(peer);
        n.connected = up;
        let inherited = s.inherited();
        n.inherit(&inherited, ep.endpoint.assoc_mut(assoc));
        super::apply_bufs(afd, &inherited);
        if let Some(w) = s.watch.remove(&assoc) {
            n.watch.insert(assoc, w);
        }
        if let Some(ev) = s.assoc_events.remove(&assoc) {
            n.assoc_events.insert(assoc, ev);
        }
        s.forget_assoc(assoc);
        // What the application's end holds comes back out of it (under
        // the engine lock: nothing is written into it meanwhile), so that
        // the association's records there move too.
        let unread = sys::drain(app_end);
        for t in s.inbox.take_assoc(assoc, &unread) {
            n.inbox.push_taken(t);
        }
        let nid = st_ref.next;
        st_ref.next += 1;
        if let Some(ep) = n.port.and_then(|p| st_ref.eps.get_mut(&p)) {
            ep.socks.insert(assoc, nid);
        }
        st_ref.socks.insert(nid, n);
        st_ref.dirty.insert(id);
        st_ref.dirty.insert(nid);
        drop(st);
        self.wake();
        Ok((nid, afd))
    }
}
