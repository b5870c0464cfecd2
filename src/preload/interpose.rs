//! The exported libc names. Each checks the fd table first and hands
//! anything that is not an SCTP socket straight to libc.

use std::os::raw::{c_int, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};

use libc::{sockaddr, socklen_t};

use super::client;
use super::fdtable::{insert, lookup};
use crate::proto::assoc::AssocId;
use crate::runtime::{Engine, SockId, engine, engine_of, is_many_id};
use crate::sys::{self, from_sockaddr, real, set_errno, to_sockaddr};

pub(super) const IPPROTO_SCTP: c_int = 132;
pub(super) const SOL_SCTP: c_int = 132;
pub(super) const SCTP_SOCKOPT_PEELOFF: c_int = 102;
pub(super) const SCTP_SOCKOPT_PEELOFF_FLAGS: c_int = 122;
pub(super) const SCTP_SOCKOPT_CONNECTX_OLD: c_int = 107;
pub(super) const SCTP_SOCKOPT_CONNECTX: c_int = 110;
pub(super) const SCTP_SOCKOPT_CONNECTX3: c_int = 111;

/// sctp_connectx: sets up an association with the first address (the
/// others would be extra paths: single-homed for now) and returns its id,
/// also when the socket is non-blocking (then with EINPROGRESS).
pub(super) fn connectx(
    fd: c_int,
    id: SockId,
    addrs: &[std::net::SocketAddr],
) -> Result<AssocId, (c_int, Option<AssocId>)> {
    let e = of(id);
    let first = *addrs.first().ok_or((libc::EINVAL, None))?;
    let first = e.peer_arg(id, first).map_err(|x| (x, None))?;
    // The others become paths of the new association (multi-homing).
    let others = addrs[1..]
        .iter()
        .map(|&a| e.peer_arg(id, a))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|x| (x, None))?;
    e.set_connect_extra(id, &others);
    let r = if is_many_id(id) {
        e.connect_many(id, first, is_nonblocking(fd))
    } else {
        let (ss, n) = to_sockaddr(&first);
        // SAFETY: a sockaddr of our own, `n` bytes long.
        if unsafe { connect(fd, &ss as *const _ as *const sockaddr, n) } == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EIO))
        }
    };
    e.set_connect_extra(id, &[]);
    let aid = e.assoc_for(id, Some(first));
    match (r, aid) {
        (Ok(()), Some(a)) => Ok(a),
        (Ok(()), None) => Err((libc::ECONNREFUSED, None)),
        (Err(err), aid) => Err((err, aid)),
    }
}

/// The engine that owns socket `id` (after fork, inherited sockets belong to
/// the parent's engine, new ones to the child's).
pub(super) fn of(id: SockId) -> &'static Engine {
    engine_of(id).unwrap_or_else(engine)
}

/// A libc return value as `Ok(value)` or `Err(errno)`.
pub(super) fn os_result(r: c_int) -> Result<c_int, c_int> {
    if r < 0 {
        Err(std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EINVAL))
    } else {
        Ok(r)
    }
}

/// Runs `f`, mapping `Err(errno)` to -1 with errno set, and never letting a
/// panic cross into C.
pub(super) fn guard(f: impl FnOnce() -> Result<c_int, c_int>) -> c_int {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            set_errno(e);
            -1
        }
        Err(_) => {
            set_errno(libc::EIO);
            -1
        }
    }
}

/// Copies `addr` into a caller's sockaddr buffer as the kernel's
/// move_addr_to_user: `*len` read (EFAULT), at most that much of the
/// address written (EFAULT), then `*len` set to the address's full size
/// (0 for none).
///
/// # Safety
/// None beyond the C contract: every access is checked.
pub(super) unsafe fn write_addr(
    addr: Option<std::net::SocketAddr>,
    out: *mut sockaddr,
    len: *mut socklen_t,
) -> Result<(), c_int> {
    let room = crate::usermem::get(len)?;
    if (room as c_int) < 0 {
        return Err(libc::EINVAL);
    }
    let (bytes, n) = match addr {
        Some(a) => {
            let (ss, n) = to_sockaddr(&a);
            // SAFETY: viewing the sockaddr_storage as its bytes.
            let b = unsafe { std::slice::from_raw_parts(&ss as *const _ as *const u8, n as usize) }
                .to_vec();
            (b, n)
        }
        None => (Vec::new(), 0),
    };
    let k = (room as usize).min(bytes.len());
    if k > 0 {
        crate::usermem::write(out as *mut c_void, &bytes[..k])?;
    }
    crate::usermem::put(len, n)
}

/// The address argument of bind, connect and sendto, copied in as the
/// kernel's move_addr_to_kernel does: longer than a sockaddr_storage is
/// EINVAL, an unreadable one EFAULT, length 0 nothing (the protocol then
/// finds it too short).
pub(super) fn addr_arg(addr: *const sockaddr, len: socklen_t) -> Result<Vec<u8>, c_int> {
    if len as usize > std::mem::size_of::<libc::sockaddr_storage>() {
        return Err(libc::EINVAL);
    }
    crate::usermem::read_exact(addr as *const c_void, len as usize)
}

/// The address of a connect: shorter than its family field is EINVAL,
/// AF_UNSPEC (a TCP "disconnect") EOPNOTSUPP, as Linux's
/// sctp_inet_connect; one the socket cannot take EINVAL.
pub(super) fn connect_addr(b: &[u8]) -> Result<std::net::SocketAddr, c_int> {
    if b.len() < 2 {
        return Err(libc::EINVAL);
    }
    if c_int::from(u16::from_ne_bytes([b[0], b[1]])) == libc::AF_UNSPEC {
        return Err(libc::EOPNOTSUPP);
    }
    // SAFETY: `b` holds its length in bytes.
    unsafe { from_sockaddr(b.as_ptr() as *const sockaddr, b.len() as socklen_t) }
        .ok_or(libc::EINVAL)
}

/// socket(2): SCTP one-to-one sockets come from the engine.
///
/// # Safety
/// Plain C ABI entry point.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn socket(domain: c_int, ty: c_int, protocol: c_int) -> c_int {
    let base = ty & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC);
    // Only the two SCTP socket types are ours; the kernel answers the rest
    // as Linux does (a bad type EINVAL, SOCK_DGRAM EPROTONOSUPPORT, and
    // SOCK_RAW a raw IP socket for protocol 132).
    let ours = base == libc::SOCK_STREAM || base == libc::SOCK_SEQPACKET;
    if protocol != IPPROTO_SCTP || !(domain == libc::AF_INET || domain == libc::AF_INET6) || !ours {
        // SAFETY: forwarding the caller's arguments unchanged.
        return unsafe { (real().socket)(domain, ty, protocol) };
    }
    if client::remote() {
        return client::socket(domain, ty, protocol);
    }
    guard(|| {
        let v6 = domain == libc::AF_INET6;
        let made = if base == libc::SOCK_STREAM {
            engine().socket(v6, ty)
        } else {
            engine().socket_many(v6, ty)
        };
        let (id, fd) = made.map_err(|e| e.raw_os_error().unwrap_or(libc::ENOMEM))?;
        if !insert(fd, id) {
            sys::close(fd);
            return Err(libc::EMFILE);
        }
        Ok(fd)
    })
}

/// bind(2).
///
/// # Safety
/// `addr` must be valid for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bind(fd: c_int, addr: *const sockaddr, len: socklen_t) -> c_int {
    let Some(id) = lookup(fd) else {
        // SAFETY: forwarding unchanged.
        return unsafe { (real().bind)(fd, addr, len) };
    };
    if client::remote() {
        // SAFETY: as for bind(2).
        return unsafe { client::bind(fd, addr, len) };
    }
    guard(|| {
        let b = addr_arg(addr, len)?;
        // SAFETY: `b` holds its length in bytes.
        let a = unsafe { from_sockaddr(b.as_ptr() as *const sockaddr, b.len() as socklen_t) };
        of(id).bind(id, a.ok_or(libc::EINVAL)?).map(|_| 0)
    })
}

/// listen(2).
///
/// # Safety
/// Plain C ABI entry point.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn listen(fd: c_int, backlog: c_int) -> c_int {
    let Some(id) = lookup(fd) else {
        // SAFETY: forwarding unchanged.
        return unsafe { (real().listen)(fd, backlog) };
    };
    if client::remote() {
        return client::listen(fd, backlog);
    }
    guard(|| {
        of(id).listen(id, backlog)?;
        // A listening socket is never writable (Linux's sctp_poll answers
        // only POLLIN, when an association waits): its pair's send buffer
        // is filled once, and the engine never reads a listener's pair.
        if !is_many_id(id) {
            sys::fill_pair(fd);
            // Sends on it are EPIPE (and SIGPIPE), as Linux's sctp_sendmsg
            // answers on a listening one-to-one socket.
            sys::shutdown(fd, libc::SHUT_WR);
        }
        Ok(0)
    })
}

/// shutdown(2): Linux's answers (see the engine's `shutdown.rs`); a shut
/// sending side shuts the application's end of the pair, so that the
/// engine reads what was written before, then EOF, and sends SHUTDOWN.
///
/// # Safety
/// Plain C ABI entry point.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn shutdown(fd: c_int, how: c_int) -> c_int {
    let Some(id) = lookup(fd) else {
        // SAFETY: forwarding unchanged.
        return unsafe { (real().shutdown)(fd, how) };
    };
    if client::remote() {
        return client::shutdown(fd, how);
    }
    guard(|| shutdown_socket(fd, id, how))
}

/// shutdown(2) on socket `id`, whose application end is `fd`.
pub(super) fn shutdown_socket(fd: c_int, id: SockId, how: c_int) -> Result<c_int, c_int> {
    if of(id).shutdown(id, how)? == crate::runtime::ShutdownAction::ShutSending {
        // Between whole messages: a send in progress on another thread
        // finishes first (it holds the socket's send turn).
        let side = of(id).gates(id);
        let _turn = side
            .as_ref()
            .map(|s| s.app_send.lock().unwrap_or_else(|e| e.into_inner()));
        sys::shutdown(fd, libc::SHUT_WR);
    }
    of(id).poke(id);
    Ok(0)
}

pub(super) fn is_nonblocking(fd: c_int) -> bool {
    // SAFETY: F_GETFL on the caller's fd.
    let fl = unsafe { (real().fcntl)(fd, libc::F_GETFL, 0) };
    fl >= 0 && fl & libc::O_NONBLOCK != 0
}

/// connect(2): starts the association; blocks for the handshake unless the
/// socket is non-blocking.
///
/// # Safety
/// `addr` must be valid for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn connect(fd: c_int, addr: *const sockaddr, len: socklen_t) -> c_int {
    let Some(id) = lookup(fd) else {
        // SAFETY: forwarding unchanged.
        return unsafe { (real().connect)(fd, addr, len) };
    };
    if client::remote() {
        // SAFETY: as for connect(2).
        return unsafe { client::connect_socket(fd, id, addr, len) };
    }
    guard(|| connect_start(fd, id, Some(connect_addr(&addr_arg(addr, len)?)?), false))
}

/// connect(2) on socket `id` (its application end `fd`). `handshake_async`
/// (the shared engine, whose callers wait themselves) never waits for a
/// one-to-one handshake: EINPROGRESS then, as for a non-blocking socket.
pub(super) fn connect_start(
    fd: c_int,
    id: SockId,
    a: Option<std::net::SocketAddr>,
    handshake_async: bool,
) -> Result<c_int, c_int> {
    let e = of(id);
    let a = e.peer_arg(id, a.ok_or(libc::EINVAL)?)?;
    let nonblocking = is_nonblocking(fd);
    if is_many_id(id) {
        return e.connect_many(id, a, nonblocking).map(|_| 0);
    }
    if !e.is_fresh(id) {
        // Already connecting or connected: EALREADY / EISCONN / the error.
        return e.connect_holding(id, a, true, 0).map(|_| 0);
    }
    // A kernel socket is not writable until its non-blocking connect
    // finishes: the pair takes filler (socket() put some in already) that
    // the engine drops when the handshake ends.
    let junk = sys::fill_pair(fd);
    match e.connect_holding(id, a, true, junk) {
        Err(libc::EINPROGRESS) if !nonblocking && !handshake_async => {}
        r => return r.map(|_| 0),
    }
    wait_connected(fd)?;
    connect_outcome(id)
}

/// Blocking connect: waits for the pair to turn writable (the engine drops
/// the filler when the handshake ends either way) in poll(), so that a
/// signal interrupts it with EINTR as it does a kernel connect; the
/// association goes on being set up in the background.
pub(super) fn wait_connected(fd: c_int) -> Result<(), c_int> {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLOUT,
        revents: 0,
    };
    loop {
        // SAFETY: one valid pollfd.
        let r = unsafe { (real().poll)(&mut p, 1, -1) };
        if r > 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EINTR);
        if r < 0 {
            return Err(err);
        }
    }
}

/// How a one-to-one connect ended, once its pair turned writable.
pub(super) fn connect_outcome(id: SockId) -> Result<c_int, c_int> {
    let e = of(id);
    match e.take_error(id) {
        0 if e.is_connected(id) => Ok(0),
        0 => Err(libc::ECONNREFUSED),
        err => Err(err),
    }
}

/// accept4 on listener `id` (application end `fd`); `dontwait` takes only
/// an association that is already there (the shared engine's callers wait
/// on their own descriptor first).
pub(super) fn accept_impl(
    fd: c_int,
    id: SockId,
    addr: *mut sockaddr,
    len: *mut socklen_t,
    flags: c_int,
    dontwait: bool,
) -> c_int {
    guard(|| {
        // accept on a socket that is not listening: EINVAL, as Linux (and
        // never a read that would wait forever); one-to-many sockets: EOPNOTSUPP.
        if is_many_id(id) {
            return Err(libc::EOPNOTSUPP);
        }
        if !of(id).is_listening(id) {
            return Err(libc::EINVAL);
        }
        // One token byte per accepted association: blocking, non-blocking and
        // EINTR behaviour all come from the kernel's read on our pair.
        let mut b = [0u8; 1];
        let wait = if dontwait { libc::MSG_DONTWAIT } else { 0 };
        // SAFETY: one-byte buffer.
        let n = unsafe {
            (real().recvfrom)(
                fd,
                b.as_mut_ptr() as *mut c_void,
                1,
                wait,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            return Err(std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EIO));
        }
        if n == 0 {
            return Err(libc::EINVAL);
        }
        let (nid, nfd, peer) = of(id).accept(id, flags)?;
        if !insert(nfd, nid) {
            sys::close(nfd);
            return Err(libc::EMFILE);
        }
        sys::copy_socket_options(fd, nfd);
        // The address only when asked for (accept's contract); a bad one
        // is EFAULT after the association was taken, as on Linux, which
        // then closes the new socket.
        if !addr.is_null()
            // SAFETY: checked copies into the caller's buffers.
            && let Err(e) = unsafe { write_addr(Some(peer), addr, len) }
        {
            // SAFETY: closing the descriptor just made, through our close.
            unsafe { super::fds::close(nfd) };
            return Err(e);
        }
        Ok(nfd)
    })
}

/// accept(2).
///
/// # Safety
/// `addr`/`len` as for accept(2).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn accept(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t) -> c_int {
    match lookup(fd) {
        // SAFETY: as for accept(2).
        Some(_) if client::remote() => unsafe { client::accept(fd, addr, len, 0) },
        Some(id) => accept_impl(fd, id, addr, len, 0, false),
        // SAFETY: forwarding unchanged.
        None => unsafe { (real().accept4)(fd, addr, len, 0) },
    }
}

/// accept4(2).
///
/// # Safety
/// `addr`/`len` as for accept4(2).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn accept4(
    fd: c_int,
    addr: *mut sockaddr,
    len: *mut socklen_t,
    flags: c_int,
) -> c_int {
    match lookup(fd) {
        // SAFETY: as for accept4(2).
        Some(_) if client::remote() => unsafe { client::accept(fd, addr, len, flags) },
        Some(id) => accept_impl(fd, id, addr, len, flags, false),
        // SAFETY: forwarding unchanged.
        None => unsafe { (real().accept4)(fd, addr, len, flags) },
    }
}

/// getsockname(2).
///
/// # Safety
/// As for getsockname(2).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn getsockname(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t) -> c_int {
    let Some(id) = lookup(fd) else {
        // SAFETY: forwarding unchanged.
        return unsafe { (real().getsockname)(fd, addr, len) };
    };
    if client::remote() {
        // SAFETY: as for getsockname(2).
        return unsafe { client::name(fd, false, addr, len) };
    }
    guard(|| {
        let (local, _) = of(id).names(id).ok_or(libc::EBADF)?;
        // Unbound: the wildcard address and port 0, as for a kernel socket.
        let local = local.unwrap_or_else(|| {
            std::net::SocketAddr::new(std::net::Ipv4Addr::UNSPECIFIED.into(), 0)
        });
        // SAFETY: checked copies into the caller's buffers.
        unsafe { write_addr(Some(local), addr, len) }.map(|_| 0)
    })
}

/// getpeername(2).
///
/// # Safety
/// As for getpeername(2).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn getpeername(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t) -> c_int {
    let Some(id) = lookup(fd) else {
        // SAFETY: forwarding unchanged.
        return unsafe { (real().getpeername)(fd, addr, len) };
    };
    if client::remote() {
        // SAFETY: as for getpeername(2).
        return unsafe { client::name(fd, true, addr, len) };
    }
    guard(|| {
        let (_, peer) = of(id).names(id).ok_or(libc::EBADF)?;
        let peer = peer.ok_or(libc::ENOTCONN)?;
        // SAFETY: checked copies into the caller's buffers.
        unsafe { write_addr(Some(peer), addr, len) }.map(|_| 0)
    })
}
