//! The send side of the interposers: send, sendto, write, sendmsg on SCTP
//! sockets (one message each).

use std::os::raw::{c_int, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};

use libc::{msghdr, sockaddr, socklen_t};

use super::args::{UserMsg, gather};
use super::client;
use super::cmsg;
use super::fdtable::lookup;
use super::interpose::*;
use crate::runtime::{SCTP_ABORT, SCTP_EOF, SendSpec, SockId, is_many_id};
use crate::sys::{from_sockaddr, real, set_errno};

/// sendto(2): one message. On a one-to-many socket the address picks (or
/// sets up) the association; on a one-to-one socket it sets one up if the
/// socket is fresh, and is ignored otherwise.
///
/// # Safety
/// As for sendto(2).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sendto(
    fd: c_int,
    buf: *const c_void,
    n: usize,
    flags: c_int,
    addr: *const sockaddr,
    alen: socklen_t,
) -> isize {
    let Some(id) = lookup(fd) else {
        // SAFETY: forwarding unchanged.
        return unsafe { (real().sendto)(fd, buf, n, flags, addr, alen) };
    };
    if client::remote() {
        // SAFETY: as for sendto(2).
        return unsafe { remote_send(fd, buf, n, flags, addr, alen) };
    }
    // The address, as the kernel copies it (a null one is no address).
    let dest = if addr.is_null() {
        None
    } else {
        match addr_arg(addr, alen) {
            // SAFETY: `b` holds its length in bytes.
            Ok(b) => unsafe { from_sockaddr(b.as_ptr() as *const sockaddr, b.len() as socklen_t) },
            Err(e) => {
                set_errno(e);
                return -1;
            }
        }
    };
    // SAFETY: the caller's buffer covers `n` bytes.
    unsafe { send_one(fd, id, dest, None, buf, n, flags) }
}

/// send(2).
///
/// # Safety
/// As for send(2).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn send(fd: c_int, buf: *const c_void, n: usize, flags: c_int) -> isize {
    let Some(id) = lookup(fd) else {
        // SAFETY: forwarding unchanged.
        return unsafe { (real().sendto)(fd, buf, n, flags, std::ptr::null(), 0) };
    };
    if client::remote() {
        // SAFETY: as for send(2).
        return unsafe { remote_send(fd, buf, n, flags, std::ptr::null(), 0) };
    }
    // SAFETY: the caller's buffer covers `n` bytes.
    unsafe { send_one(fd, id, None, None, buf, n, flags) }
}

/// write(2): on an SCTP socket, one message with the default parameters.
///
/// # Safety
/// As for write(2).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn write(fd: c_int, buf: *const c_void, n: usize) -> isize {
    let Some(id) = lookup(fd) else {
        // SAFETY: forwarding unchanged.
        return unsafe { (real().write)(fd, buf, n) };
    };
    if client::remote() {
        // SAFETY: as for write(2).
        return unsafe { remote_send(fd, buf, n, 0, std::ptr::null(), 0) };
    }
    // SAFETY: the caller's buffer covers `n` bytes.
    unsafe { send_one(fd, id, None, None, buf, n, 0) }
}

/// A message header over the one buffer `iov` describes (no name, no
/// ancillary data); it points at `iov`, which must outlive its use.
pub(super) fn one_iov(iov: &mut libc::iovec) -> msghdr {
    // SAFETY: an all-zero msghdr is valid.
    let mut m: msghdr = unsafe { std::mem::zeroed() };
    m.msg_iov = iov;
    m.msg_iovlen = 1;
    m
}

/// send, sendto and write forwarded to the shared engine as one sendmsg.
///
/// # Safety
/// `buf` covers `n` bytes; `addr` covers `alen` bytes or is null.
unsafe fn remote_send(
    fd: c_int,
    buf: *const c_void,
    n: usize,
    flags: c_int,
    addr: *const sockaddr,
    alen: socklen_t,
) -> isize {
    let mut iov = libc::iovec {
        iov_base: buf as *mut c_void,
        iov_len: n,
    };
    let mut m = one_iov(&mut iov);
    m.msg_name = addr as *mut c_void;
    m.msg_namelen = if addr.is_null() { 0 } else { alen };
    let mut one = iov;
    client::send_local(fd, &m, &mut one, flags)
}

/// A send of one contiguous buffer (sendto, send, write).
///
/// # Safety
/// `buf` covers `n` bytes (or is null with `n` 0).
pub(super) unsafe fn send_one(
    fd: c_int,
    id: SockId,
    dest: Option<std::net::SocketAddr>,
    spec: Option<SendSpec>,
    buf: *const c_void,
    n: usize,
    flags: c_int,
) -> isize {
    let mut iov = libc::iovec {
        iov_base: buf as *mut c_void,
        iov_len: n,
    };
    let m = one_iov(&mut iov);
    // SAFETY: `m` describes the caller's buffer.
    unsafe { send_msg(fd, id, dest, spec, &m, flags) }
}

/// sendmsg(2): one message, with SCTP_SNDRCV / SCTP_SNDINFO / SCTP_INIT...
/// in the control data.
///
/// # Safety
/// As for sendmsg(2).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sendmsg(fd: c_int, msg: *const msghdr, flags: c_int) -> isize {
    let Some(id) = lookup(fd).filter(|_| !msg.is_null()) else {
        // SAFETY: forwarding unchanged.
        return unsafe { (real().sendmsg)(fd, msg, flags) };
    };
    if client::remote() {
        return client::sendmsg(fd, msg, flags);
    }
    // The header, its iovecs, name and control data, copied in (EFAULT).
    let um = match UserMsg::for_send(msg) {
        Ok(u) => u,
        Err(e) => {
            set_errno(e);
            return -1;
        }
    };
    let m = um.hdr;
    // SAFETY: our copies of the control data and name.
    let (parsed, dest) = unsafe {
        (
            cmsg::send_cmsgs(&m),
            from_sockaddr(m.msg_name as *const sockaddr, m.msg_namelen),
        )
    };
    let parsed = match parsed {
        Ok(p) => p,
        Err(e) => {
            set_errno(e);
            return -1;
        }
    };
    let explicit = !m.msg_control.is_null() && m.msg_controllen > 0;
    let mut spec = parsed.spec;
    spec.init = parsed.init;
    let spec = explicit.then_some(spec);
    // SAFETY: `m` points at our copy of the caller's iovecs.
    unsafe { send_msg(fd, id, dest, spec, &m, flags) }
}

/// One message on an SCTP socket. One-to-many: handed to the engine with
/// its destination. One-to-one: marked, then written into the pair (see
/// the engine's `send.rs`), so the kernel does the blocking.
///
/// # Safety
/// `m` must describe valid iovecs; its name and control data are not used.
pub(super) unsafe fn send_msg(
    fd: c_int,
    id: SockId,
    dest: Option<std::net::SocketAddr>,
    spec: Option<SendSpec>,
    m: &msghdr,
    flags: c_int,
) -> isize {
    // Linux's sctp_sendmsg_parse: SCTP_EOF and SCTP_ABORT are for
    // one-to-many sockets, SCTP_EOF carries no data, and a message
    // without either must have some.
    let sflags = spec.map_or(0, |sp| sp.flags);
    // SAFETY: the caller's iovec array holds msg_iovlen entries.
    let total: usize = unsafe { iovecs(m) }.iter().map(|v| v.iov_len).sum();
    if (sflags & (SCTP_EOF | SCTP_ABORT) != 0 && !is_many_id(id))
        || (sflags & SCTP_EOF != 0 && total > 0)
        || (sflags & (SCTP_EOF | SCTP_ABORT) == 0 && total == 0)
    {
        set_errno(libc::EINVAL);
        return -1;
    }
    let e = of(id);
    let dest = match dest.map(|a| e.peer_arg(id, a)).transpose() {
        Ok(d) => d,
        Err(err) => {
            set_errno(err);
            return -1;
        }
    };
    if is_many_id(id) {
        // SAFETY: the iovec array is valid per the caller (its buffers
        // are read with EFAULT checks).
        let data = match gather(unsafe { iovecs(m) }) {
            Ok(d) => d,
            Err(err) => {
                set_errno(err);
                return -1;
            }
        };
        // No SCTP_SNDRCV/SNDINFO: SCTP_DEFAULT_SNDINFO's values.
        let spec = spec.unwrap_or_else(|| e.default_send(id).unwrap_or_default());
        return send_many(fd, id, dest, spec, &data, flags);
    }
    // Before the association is up, a message goes to the engine itself
    // (see the engine's `early.rs`): with an address on a fresh socket it
    // sets the association up and rides with the COOKIE ECHO; during the
    // handshake it is queued. SCTP_ABORT / SCTP_EOF take the paths below.
    let nonblocking = flags & libc::MSG_DONTWAIT != 0 || is_nonblocking(fd);
    let plain_data = spec.is_none_or(|sp| sp.flags & (SCTP_ABORT | SCTP_EOF) == 0);
    if plain_data && !e.is_foreign() && !e.is_connected(id) && (dest.is_some() || !e.is_fresh(id)) {
        // SAFETY: the iovec array is valid per the caller (its buffers
        // are read with EFAULT checks).
        let data = match gather(unsafe { iovecs(m) }) {
            Ok(d) => d,
            Err(err) => {
                set_errno(err);
                return -1;
            }
        };
        let sent = match dest {
            Some(d) if e.is_fresh(id) => {
                let spec = spec.unwrap_or_else(|| e.default_send(id).unwrap_or_default());
                e.connect_sending(id, d, &spec, &data, nonblocking)
                    .map(Some)
            }
            _ => e.send_early(id, spec, &data, nonblocking),
        };
        match sent {
            Ok(Some(n)) => return n as isize,
            Ok(None) => {}
            Err(err) => {
                set_errno(err);
                return -1;
            }
        }
    }
    if let Err(err) = implicit_connect(id, dest) {
        set_errno(err);
        return -1;
    }
    // To one of the peer's addresses: that path, while usable (Linux's
    // sctp_sendmsg takes a one-to-one socket's msg_name as the transport).
    let spec = match dest {
        Some(d) if !e.is_foreign() => Some(SendSpec {
            path: Some(crate::sys::unmap(d).ip()),
            ..spec.unwrap_or_else(|| e.default_send(id).unwrap_or_default())
        }),
        _ => spec,
    };
    let mut plain = *m;
    plain.msg_name = std::ptr::null_mut();
    plain.msg_namelen = 0;
    plain.msg_control = std::ptr::null_mut();
    plain.msg_controllen = 0;
    // SAFETY: the caller's iovec array holds msg_iovlen entries.
    let len: usize = unsafe { iovecs(m) }.iter().map(|v| v.iov_len).sum();
    if e.is_foreign() {
        // A forked child's copy: the parent's engine cuts the bytes.
        // SAFETY: the copied header points at the caller's iovecs.
        return unsafe { (real().sendmsg)(fd, &plain, flags) };
    }
    // One sender at a time from its mark to the end of its write (see
    // `SendSide::app_send`); a non-blocking send does not wait for its turn.
    let side = e.gates(id);
    let _turn = match side.as_ref().map(|s| s.app_send.try_lock()) {
        None => None,
        Some(Ok(g)) => Some(g),
        Some(Err(std::sync::TryLockError::Poisoned(p))) => Some(p.into_inner()),
        Some(Err(std::sync::TryLockError::WouldBlock)) if nonblocking => {
            set_errno(libc::EAGAIN);
            return -1;
        }
        Some(Err(std::sync::TryLockError::WouldBlock)) => side
            .as_ref()
            .map(|s| s.app_send.lock().unwrap_or_else(|e| e.into_inner())),
    };
    // Programs placing their own marks (sys::sockpage) take the same turn.
    let _shared = match side.as_ref().map(|s| s.shared_turn(nonblocking)) {
        Some(Err(err)) => {
            set_errno(err);
            return -1;
        }
        Some(Ok(g)) => g,
        None => None,
    };
    let ticket = match e.mark_send(id, len, spec) {
        Ok(k) => k,
        Err(err) => {
            if err == libc::EPIPE && flags & libc::MSG_NOSIGNAL == 0 {
                // SAFETY: raising SIGPIPE on ourselves, as a kernel send would.
                unsafe { libc::raise(libc::SIGPIPE) };
            }
            set_errno(err);
            return -1;
        }
    };
    // SAFETY: the copied header points at the caller's iovecs. No SIGPIPE
    // from the pair: whether the answer is EPIPE is decided below.
    let r = unsafe { (real().sendmsg)(fd, &plain, flags | libc::MSG_NOSIGNAL) };
    let err = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
    if !ticket.settled_by(r) {
        // Short, refused, or the rest of an earlier short send.
        e.settle_mark(id, ticket, r.max(0) as usize);
    }
    if r < 0 && err == libc::EPIPE {
        // Linux's sctp_error: the error the association ended with, if not
        // reported yet, is the answer; otherwise EPIPE, with SIGPIPE.
        if let Some(x) = e.take_send_error(id) {
            set_errno(x);
            return -1;
        }
        if flags & libc::MSG_NOSIGNAL == 0 {
            // SAFETY: raising SIGPIPE on ourselves, as a kernel send would.
            unsafe { libc::raise(libc::SIGPIPE) };
        }
        set_errno(libc::EPIPE);
        return -1;
    }
    if r < 0 {
        set_errno(err);
    }
    r
}

/// The part of `iov` from byte `skip` on, at most `cap` bytes long.
pub(super) fn iov_window(iov: &[libc::iovec], mut skip: usize, mut cap: usize) -> Vec<libc::iovec> {
    let mut out = Vec::with_capacity(iov.len());
    for v in iov {
        if cap == 0 {
            break;
        }
        if skip >= v.iov_len {
            skip -= v.iov_len;
            continue;
        }
        let take = (v.iov_len - skip).min(cap);
        out.push(libc::iovec {
            // The pointer only moves within the caller's buffer.
            iov_base: (v.iov_base as *mut u8).wrapping_add(skip) as *mut c_void,
            iov_len: take,
        });
        cap -= take;
        skip = 0;
    }
    out
}

/// The iovecs of a msghdr.
///
/// # Safety
/// `m.msg_iov` must hold `m.msg_iovlen` valid entries (or be null).
pub(super) unsafe fn iovecs(m: &msghdr) -> &[libc::iovec] {
    if m.msg_iov.is_null() {
        return &[];
    }
    // SAFETY: per the caller.
    unsafe { std::slice::from_raw_parts(m.msg_iov, m.msg_iovlen) }
}

/// One message on a one-to-many socket (blocking unless O_NONBLOCK or MSG_DONTWAIT).
pub(super) fn send_many(
    fd: c_int,
    id: SockId,
    dest: Option<std::net::SocketAddr>,
    spec: SendSpec,
    data: &[u8],
    flags: c_int,
) -> isize {
    let nonblocking = flags & libc::MSG_DONTWAIT != 0 || is_nonblocking(fd);
    match catch_unwind(AssertUnwindSafe(|| {
        of(id).send_many(id, dest, spec, data, nonblocking)
    })) {
        Ok(Ok(n)) => n as isize,
        Ok(Err(e)) => {
            if e == libc::EPIPE && flags & libc::MSG_NOSIGNAL == 0 {
                // SAFETY: raising SIGPIPE on ourselves, as a kernel send would.
                unsafe { libc::raise(libc::SIGPIPE) };
            }
            set_errno(e);
            -1
        }
        Err(_) => {
            set_errno(libc::EIO);
            -1
        }
    }
}

/// Connects a fresh socket to the address a send names (Linux's implicit
/// association setup on TCP-style sockets).
pub(super) fn implicit_connect(
    id: SockId,
    addr: Option<std::net::SocketAddr>,
) -> Result<(), c_int> {
    match addr {
        Some(a) => of(id).implicit_connect(id, a),
        None => Ok(()),
    }
}
