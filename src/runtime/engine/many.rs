//! One-to-many (UDP-style, SOCK_SEQPACKET) sockets, RFC 6458 §3: one socket
//! holds any number of associations, set up implicitly by sendmsg to a new
//! peer or accepted automatically while listening.
//!
//! The application's end is a SOCK_SEQPACKET pair, one record per message
//! (or per piece of a large one); what the kernel would put in ancillary data
//! (association, stream, PPID, peer address, notification flag) travels in a
//! queue beside it, popped by the interposed receive calls in record order.
//! Sends bypass the pair: the interposer hands each message to the engine
//! with its destination and send info.

use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::os::raw::c_int;

use super::{Engine, Kind, Sock, State, now};
use crate::proto::assoc::tx::OutMessage;
use crate::proto::assoc::{AssocId, CloseReason, SendError};
use crate::sys;

/// Socket ids of one-to-many sockets carry this bit, so the receive paths
/// know without a lock whether records carry metadata.
pub const MANY_BIT: u64 = 1 << 39;

/// True if `id` names a one-to-many socket.
pub fn is_many_id(id: super::SockId) -> bool {
    id & MANY_BIT != 0
}

/// Largest record written to the pair; bigger messages span several records,
/// MSG_EOR marking the last (partial delivery).
const RECORD_MAX: usize = 64 * 1024;
/// Messages staged toward the application at most, per socket.
const PENDING_MAX: usize = 256;

/// `sinfo_flags` / `snd_flags` bits (Linux values).
pub const SCTP_UNORDERED: u16 = 1;
pub const SCTP_ABORT: u16 = 1 << 2;
pub const SCTP_EOF: u16 = 0x200;

/// Notification types (`SCTP_SN_TYPE_BASE` + n) and association states.
const SCTP_ASSOC_CHANGE: u16 = 0x8001;
const SCTP_SHUTDOWN_EVENT: u16 = 0x8005;
const SCTP_COMM_UP: u16 = 0;
const SCTP_COMM_LOST: u16 = 1;
const SCTP_RESTART: u16 = 2;
const SCTP_SHUTDOWN_COMP: u16 = 3;
const SCTP_CANT_STR_ASSOC: u16 = 4;

/// What the kernel would say about one record in ancillary data.
#[derive(Clone, Debug, Default)]
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
    /// Last record of its message (MSG_EOR).
    pub eor: bool,
}

/// How to send one message (from SCTP_SNDRCV / SCTP_SNDINFO or defaults).
#[derive(Clone, Copy, Debug, Default)]
pub struct SendSpec {
    pub stream: u16,
    pub ppid: u32,
    pub flags: u16,
    pub assoc: AssocId,
}

/// Per-socket state of a one-to-many socket.
#[derive(Debug, Default)]
pub struct ManyState {
    /// Metadata of records already in the pair, oldest first.
    pub meta: VecDeque<RecordMeta>,
    /// Records waiting for room in the pair.
    pending: VecDeque<(RecordMeta, Vec<u8>)>,
    /// `struct sctp_event_subscribe`, byte per event.
    pub events: [u8; 14],
    /// Associations that reached COMM_UP.
    up: HashSet<AssocId>,
    /// SCTP_RECVRCVINFO: add SCTP_RCVINFO to received data.
    pub rcvinfo: bool,
}

impl ManyState {
    fn wants(&self, i: usize) -> bool {
        self.events.get(i).is_some_and(|&b| b != 0)
    }
}

fn assoc_change(state: u16, error: u16, outs: u16, ins: u16, assoc: AssocId) -> Vec<u8> {
    let mut b = Vec::with_capacity(20);
    b.extend_from_slice(&SCTP_ASSOC_CHANGE.to_ne_bytes());
    b.extend_from_slice(&0u16.to_ne_bytes());
    b.extend_from_slice(&20u32.to_ne_bytes());
    for v in [state, error, outs, ins] {
        b.extend_from_slice(&v.to_ne_bytes());
    }
    b.extend_from_slice(&assoc.to_ne_bytes());
    b
}

fn shutdown_event(assoc: AssocId) -> Vec<u8> {
    let mut b = Vec::with_capacity(12);
    b.extend_from_slice(&SCTP_SHUTDOWN_EVENT.to_ne_bytes());
    b.extend_from_slice(&0u16.to_ne_bytes());
    b.extend_from_slice(&12u32.to_ne_bytes());
    b.extend_from_slice(&assoc.to_ne_bytes());
    b
}

impl Sock {
    fn notify(&mut self, assoc: AssocId, body: Vec<u8>) {
        if let Some(m) = self.many.as_mut() {
            let meta = RecordMeta {
                assoc,
                notification: true,
                eor: true,
                ..Default::default()
            };
            m.pending.push_back((meta, body));
        }
    }

    /// Writes staged records into the pair, each with its metadata.
    pub(super) fn flush_records(&mut self) {
        let Some(m) = self.many.as_mut() else { return };
        while let Some((meta, data)) = m.pending.front() {
            match sys::write(self.efd, data) {
                Ok(_) => {
                    m.meta.push_back(meta.clone());
                    m.pending.pop_front();
                }
                Err(_) => return,
            }
        }
    }
}

impl State {
    /// An association of a one-to-many socket came up / ended / got SHUTDOWN.
    pub(super) fn many_up(
        &mut self,
        sid: super::SockId,
        aid: AssocId,
        streams: (u16, u16),
        restart: bool,
    ) {
        if let Some(s) = self.socks.get_mut(&sid)
            && let Some(m) = s.many.as_mut()
        {
            m.up.insert(aid);
            if m.wants(1) {
                let state = if restart { SCTP_RESTART } else { SCTP_COMM_UP };
                s.notify(aid, assoc_change(state, 0, streams.0, streams.1, aid));
            }
        }
    }

    pub(super) fn many_closed(&mut self, sid: super::SockId, aid: AssocId, reason: &CloseReason) {
        if let Some(s) = self.socks.get_mut(&sid)
            && let Some(m) = s.many.as_mut()
        {
            let was_up = m.up.remove(&aid);
            if m.wants(1) {
                let (state, err) = match reason {
                    CloseReason::Graceful => (SCTP_SHUTDOWN_COMP, 0),
                    _ if !was_up => (SCTP_CANT_STR_ASSOC, super::errno_of(reason) as u16),
                    _ => (SCTP_COMM_LOST, super::errno_of(reason) as u16),
                };
                s.notify(aid, assoc_change(state, err, 0, 0, aid));
            }
        }
    }

    pub(super) fn many_peer_shutdown(&mut self, sid: super::SockId, aid: AssocId) {
        if let Some(s) = self.socks.get_mut(&sid)
            && s.many.as_ref().is_some_and(|m| m.wants(5))
        {
            s.notify(aid, shutdown_event(aid));
        }
    }

    /// Moves received messages of every association of a one-to-many socket
    /// into records, then into the pair.
    pub(super) fn deliver_many(&mut self, port: u16, sid: super::SockId) {
        let Some(ep) = self.eps.get_mut(&port) else {
            return;
        };
        let Some(s) = self.socks.get_mut(&sid) else {
            return;
        };
        let Some(m) = s.many.as_mut() else { return };
        let aids: Vec<AssocId> = ep
            .socks
            .iter()
            .filter(|&(_, &x)| x == sid)
            .map(|(&a, _)| a)
            .collect();
        for aid in aids {
            while m.pending.len() < PENDING_MAX {
                let peer = ep.endpoint.assoc(aid).map(|a| a.peer_addr());
                let Some(msg) = ep.endpoint.recv(aid) else {
                    break;
                };
                let base = RecordMeta {
                    assoc: aid,
                    peer,
                    stream: msg.stream_id,
                    ssn: msg.ssn,
                    ppid: msg.ppid,
                    tsn: msg.first_tsn.0,
                    unordered: msg.unordered,
                    notification: false,
                    eor: false,
                };
                let pieces = msg.data.len().div_ceil(RECORD_MAX).max(1);
                for (i, piece) in msg.data.chunks(RECORD_MAX).enumerate() {
                    let meta = RecordMeta {
                        eor: i + 1 == pieces,
                        ..base.clone()
                    };
                    m.pending.push_back((meta, piece.to_vec()));
                }
            }
        }
        s.flush_records();
        // Forget associations that are over once their data is staged.
        let done: Vec<AssocId> = ep
            .socks
            .iter()
            .filter(|&(_, &x)| x == sid)
            .map(|(&a, _)| a)
            .filter(|&a| {
                ep.endpoint
                    .assoc(a)
                    .is_none_or(|x| x.is_closed() && !x.has_message())
            })
            .collect();
        for a in done {
            ep.socks.remove(&a);
            ep.endpoint.release(a);
        }
    }
}

impl Engine {
    /// A new one-to-many socket; returns its id and the application's descriptor.
    pub fn socket_many(&self, v6: bool, flags: c_int) -> std::io::Result<(super::SockId, c_int)> {
        let (afd, efd) = sys::socketpair(
            libc::SOCK_SEQPACKET,
            flags,
            libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
        )?;
        // Records up to RECORD_MAX must fit the pair in one piece.
        sys::set_sndbuf(efd, 4 * RECORD_MAX);
        let mut st = self.lock();
        let id = st.next | MANY_BIT;
        st.next += 1;
        let mut s = Sock::new(v6, efd, self.cfg.clone());
        s.kind = Kind::Many;
        s.many = Some(Box::default());
        st.socks.insert(id, s);
        drop(st);
        self.wake();
        Ok((id, afd))
    }

    /// True for one-to-many sockets.
    pub fn is_many(&self, id: super::SockId) -> bool {
        self.lock()
            .socks
            .get(&id)
            .is_some_and(|s| s.kind == Kind::Many)
    }

    /// SCTP_EVENTS: the subscription bytes.
    pub fn events(&self, id: super::SockId) -> [u8; 14] {
        self.lock()
            .socks
            .get(&id)
            .and_then(|s| s.many.as_ref().map(|m| m.events))
            .unwrap_or_default()
    }

    /// SCTP_EVENTS: subscribe (bytes beyond `ev` keep their value).
    pub fn set_events(&self, id: super::SockId, ev: &[u8]) -> Result<(), c_int> {
        let mut st = self.lock();
        let s = st.socks.get_mut(&id).ok_or(libc::EBADF)?;
        let m = s.many.get_or_insert_with(Box::default);
        for (d, v) in m.events.iter_mut().zip(ev) {
            *d = *v;
        }
        Ok(())
    }

    /// SCTP_RECVRCVINFO.
    pub fn recv_rcvinfo(&self, id: super::SockId) -> bool {
        self.lock()
            .socks
            .get(&id)
            .and_then(|s| s.many.as_ref().map(|m| m.rcvinfo))
            .unwrap_or(false)
    }

    /// Sets SCTP_RECVRCVINFO.
    pub fn set_recv_rcvinfo(&self, id: super::SockId, on: bool) -> Result<(), c_int> {
        let mut st = self.lock();
        let s = st.socks.get_mut(&id).ok_or(libc::EBADF)?;
        s.many.get_or_insert_with(Box::default).rcvinfo = on;
        Ok(())
    }

    /// Pops (or, with `peek`, reads) the metadata of the next record.
    pub fn take_meta(&self, id: super::SockId, peek: bool) -> Option<RecordMeta> {
        let mut st = self.lock();
        let m = st.socks.get_mut(&id)?.many.as_mut()?;
        let r = if peek {
            m.meta.front().cloned()
        } else {
            m.meta.pop_front()
        };
        drop(st);
        // Room in the pair may let staged records in.
        self.wake();
        r
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
        let mut st = self.lock();
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
                .connect(now(), dest, dest.port())
                .map_err(|_| libc::EINVAL)?;
            ep.socks.insert(a, id);
            a
        };
        self.wake();
        if nonblocking {
            return Err(libc::EINPROGRESS);
        }
        loop {
            let s = st.socks.get(&id).ok_or(libc::EBADF)?;
            if s.many.as_ref().is_some_and(|m| m.up.contains(&aid)) {
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
            st = self.wait(st, None).0;
        }
    }

    /// sendmsg on a one-to-many socket: picks or sets up the association
    /// (by `spec.assoc`, else by `dest`), honours SCTP_EOF / SCTP_ABORT, and
    /// queues the message, waiting for send space unless `nonblocking`.
    pub fn send_many(
        &self,
        id: super::SockId,
        dest: Option<SocketAddr>,
        spec: SendSpec,
        data: &[u8],
        nonblocking: bool,
    ) -> Result<usize, c_int> {
        self.ensure_bound(id)?;
        let mut st = self.lock();
        loop {
            let s = st.socks.get(&id).ok_or(libc::EBADF)?;
            let port = s.port.ok_or(libc::EINVAL)?;
            let st_ref = &mut *st;
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
                None => {
                    let d = dest.ok_or(libc::EDESTADDRREQ)?;
                    let a = ep
                        .endpoint
                        .connect(t, d, d.port())
                        .map_err(|_| libc::EINVAL)?;
                    ep.socks.insert(a, id);
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
                return Ok(data.len());
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
            let msg = OutMessage {
                stream_id: spec.stream,
                ppid: spec.ppid,
                unordered: spec.flags & SCTP_UNORDERED != 0,
                data: data.to_vec(),
            };
            match a.send(t, msg) {
                Ok(()) => {
                    if spec.flags & SCTP_EOF != 0 {
                        a.shutdown(t);
                    }
                    drop(st);
                    self.wake();
                    return Ok(data.len());
                }
                Err(SendError::WouldBlock) if nonblocking => return Err(libc::EAGAIN),
                Err(SendError::WouldBlock) => st = self.wait(st, None).0,
                Err(SendError::InvalidStream) => return Err(libc::EINVAL),
                Err(SendError::Empty) => return Err(libc::EINVAL),
                Err(SendError::Shutdown) => return Err(libc::EPIPE),
            }
        }
    }
}

impl ManyState {
    /// (records waiting, metadata queued) for debugging.
    pub fn lens(&self) -> (usize, usize) {
        (self.pending.len(), self.meta.len())
    }

    /// Records wait for room in the pair.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }
}

impl Engine {
    /// sctp_peeloff: moves association `assoc` of one-to-many socket `id`
    /// onto a new one-to-one socket; `flags` are SOCK_NONBLOCK/SOCK_CLOEXEC.
    /// Messages not yet handed to the application move with it; records
    /// already in the one-to-many socket stay readable there.
    pub fn peeloff(
        &self,
        id: super::SockId,
        assoc: AssocId,
        flags: c_int,
    ) -> Result<(super::SockId, c_int), c_int> {
        let (afd, efd) = super::stream_pair(flags)?;
        let mut st = self.lock();
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
        let mut n = Sock::new(s.v6, efd, s.cfg.clone());
        n.kind = Kind::Stream { assoc };
        n.port = s.port;
        n.local = s.local;
        n.peer = Some(peer);
        n.connected = up;
        if let Some(m) = s.many.as_mut() {
            m.up.remove(&assoc);
            let mut keep = VecDeque::new();
            for (meta, data) in m.pending.drain(..) {
                if meta.assoc == assoc && !meta.notification {
                    n.to_app.extend(data);
                } else if meta.assoc != assoc {
                    keep.push_back((meta, data));
                }
            }
            m.pending = keep;
        }
        let nid = st_ref.next;
        st_ref.next += 1;
        if let Some(ep) = n.port.and_then(|p| st_ref.eps.get_mut(&p)) {
            ep.socks.insert(assoc, nid);
        }
        st_ref.socks.insert(nid, n);
        drop(st);
        self.wake();
        Ok((nid, afd))
    }
}
