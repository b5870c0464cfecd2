//! The exported libc names. Each checks the fd table first and hands
//! anything that is not an SCTP socket straight to libc.

use std::os::raw::{c_int, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};

use libc::{msghdr, sockaddr, socklen_t};

use super::cmsg;
use super::fdtable::{insert, lookup, remove};
use crate::proto::assoc::AssocId;
use crate::runtime::{
    Engine, SCTP_ABORT, SendSpec, SockId, current_engine, engine, engine_of, is_many_id,
};
use crate::sockopt::{self as options, SCTP_STATUS, get_int, packed_addrs, put_int};
use crate::sys::{self, from_sockaddr, real, set_errno, to_sockaddr};

const IPPROTO_SCTP: c_int = 132;
const SOL_SCTP: c_int = 132;
const SCTP_SOCKOPT_PEELOFF: c_int = 102;
const SCTP_SOCKOPT_PEELOFF_FLAGS: c_int = 122;
const SCTP_SOCKOPT_CONNECTX_OLD: c_int = 107;
const SCTP_SOCKOPT_CONNECTX: c_int = 110;
const SCTP_SOCKOPT_CONNECTX3: c_int = 111;

/// sctp_connectx: sets up an association with the first address (the
/// others would be extra paths: single-homed for now) and returns its id,
/// also when the socket is non-blocking (then with EINPROGRESS).
fn connectx(
    fd: c_int,
    id: SockId,
    addrs: &[std::net::SocketAddr],
) -> Result<AssocId, (c_int, Option<AssocId>)> {
    let e = of(id);
    let first = *addrs.first().ok_or((libc::EINVAL, None))?;
    let first = e.peer_arg(id, first).map_err(|x| (x, None))?;
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
    let aid = e.assoc_for(id, Some(first));
    match (r, aid) {
        (Ok(()), Some(a)) => Ok(a),
        (Ok(()), None) => Err((libc::ECONNREFUSED, None)),
        (Err(err), aid) => Err((err, aid)),
    }
}

/// The engine that owns socket `id` (after fork, inherited sockets belong to
/// the parent's engine, new ones to the child's).
fn of(id: SockId) -> &'static Engine {
    engine_of(id).unwrap_or_else(engine)
}

/// A libc return value as `Ok(value)` or `Err(errno)`.
fn os_result(r: c_int) -> Result<c_int, c_int> {
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
fn guard(f: impl FnOnce() -> Result<c_int, c_int>) -> c_int {
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

/// Copies `addr` into a caller's sockaddr buffer, truncating like the kernel.
///
/// # Safety
/// `out` must be valid for `*len` bytes and `len` valid, or either null.
unsafe fn write_addr(addr: Option<std::net::SocketAddr>, out: *mut sockaddr, len: *mut socklen_t) {
    if out.is_null() || len.is_null() {
        return;
    }
    let Some(addr) = addr else {
        // SAFETY: `len` is non-null and valid per the contract.
        unsafe { *len = 0 };
        return;
    };
    let (ss, n) = to_sockaddr(&addr);
    // SAFETY: `len` is valid; we copy at most the caller's buffer size.
    unsafe {
        let room = (*len).min(n) as usize;
        std::ptr::copy_nonoverlapping(&ss as *const _ as *const u8, out as *mut u8, room);
        *len = n;
    }
}

/// socket(2): SCTP one-to-one sockets come from the engine.
///
/// # Safety
/// Plain C ABI entry point.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn socket(domain: c_int, ty: c_int, protocol: c_int) -> c_int {
    let base = ty & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC);
    if protocol != IPPROTO_SCTP || !(domain == libc::AF_INET || domain == libc::AF_INET6) {
        // SAFETY: forwarding the caller's arguments unchanged.
        return unsafe { (real().socket)(domain, ty, protocol) };
    }
    guard(|| {
        let v6 = domain == libc::AF_INET6;
        let made = match base {
            libc::SOCK_STREAM => engine().socket(v6, ty),
            libc::SOCK_SEQPACKET => engine().socket_many(v6, ty),
            _ => return Err(libc::EPROTONOSUPPORT),
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
    if addr.is_null() {
        set_errno(libc::EFAULT);
        return -1;
    }
    // SAFETY: the caller guarantees `addr` covers `len` bytes.
    let a = unsafe { from_sockaddr(addr, len) };
    guard(|| of(id).bind(id, a.ok_or(libc::EINVAL)?).map(|_| 0))
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
    guard(|| of(id).listen(id).map(|_| 0))
}

fn is_nonblocking(fd: c_int) -> bool {
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
    if addr.is_null() {
        set_errno(libc::EFAULT);
        return -1;
    }
    // SAFETY: the caller guarantees `addr` covers `len` bytes.
    let a = unsafe { from_sockaddr(addr, len) };
    guard(|| {
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
        let junk = hold_writability(fd);
        match e.connect_holding(id, a, true, junk) {
            Err(libc::EINPROGRESS) if !nonblocking => {}
            r => return r.map(|_| 0),
        }
        // Blocking connect: wait for the pair to turn writable (the engine
        // drops the filler when the handshake ends either way) in poll(), so
        // that a signal interrupts it with EINTR as it does a kernel connect;
        // the association goes on being set up in the background.
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLOUT,
            revents: 0,
        };
        loop {
            // SAFETY: one valid pollfd.
            let r = unsafe { (real().poll)(&mut p, 1, -1) };
            if r > 0 {
                break;
            }
            let err = std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EINTR);
            if r < 0 {
                return Err(err);
            }
        }
        match e.take_error(id) {
            0 if e.is_connected(id) => Ok(0),
            0 => Err(libc::ECONNREFUSED),
            err => Err(err),
        }
    })
}

/// A kernel socket is not writable until its non-blocking connect finishes.
/// Ours is one end of a socketpair, so fill its send buffer with filler the
/// engine drops when the handshake ends; returns how many bytes that took.
fn hold_writability(fd: c_int) -> usize {
    let filler = [0u8; 16384];
    let mut total = 0;
    loop {
        // SAFETY: sending from a local buffer on the caller's (non-blocking) fd.
        let n = unsafe {
            (real().sendto)(
                fd,
                filler.as_ptr() as *const c_void,
                filler.len(),
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
                std::ptr::null(),
                0,
            )
        };
        if n <= 0 {
            return total;
        }
        total += n as usize;
    }
}

fn accept_impl(
    fd: c_int,
    id: SockId,
    addr: *mut sockaddr,
    len: *mut socklen_t,
    flags: c_int,
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
        // SAFETY: one-byte buffer.
        let n = unsafe { (real().read)(fd, b.as_mut_ptr() as *mut c_void, 1) };
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
        // SAFETY: caller's buffers, contract of accept(2).
        unsafe { write_addr(Some(peer), addr, len) };
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
        Some(id) => accept_impl(fd, id, addr, len, 0),
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
        Some(id) => accept_impl(fd, id, addr, len, flags),
        // SAFETY: forwarding unchanged.
        None => unsafe { (real().accept4)(fd, addr, len, flags) },
    }
}

/// close(2): forget the mapping; the engine sees EOF once every copy is closed.
///
/// # Safety
/// Plain C ABI entry point.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn close(fd: c_int) -> c_int {
    // SAFETY: forwarding unchanged.
    let r = unsafe { (real().close)(fd) };
    if lookup(fd).is_some()
        && let Some(id) = remove(fd)
    {
        of(id).drop_ref(id);
    }
    r
}

/// dup(2): the copy is the same SCTP socket.
///
/// # Safety
/// Plain C ABI entry point.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dup(fd: c_int) -> c_int {
    // SAFETY: forwarding unchanged.
    let nfd = unsafe { (real().dup)(fd) };
    if nfd >= 0
        && let Some(id) = lookup(fd)
        && insert(nfd, id)
    {
        of(id).add_ref(id);
    }
    nfd
}

/// dup2(2).
///
/// # Safety
/// Plain C ABI entry point.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dup2(old: c_int, new: c_int) -> c_int {
    // SAFETY: forwarding unchanged.
    let r = unsafe { (real().dup2)(old, new) };
    if r >= 0 && old != new {
        mirror(old, new);
    }
    r
}

/// After a successful dup2/dup3, `new` is whatever `old` is; what `new` was
/// before has one descriptor fewer.
fn mirror(old: c_int, new: c_int) {
    if let Some(prev) = remove(new) {
        of(prev).drop_ref(prev);
    }
    if let Some(id) = lookup(old)
        && insert(new, id)
    {
        of(id).add_ref(id);
    }
}

/// dup3(2).
///
/// # Safety
/// Plain C ABI entry point.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dup3(old: c_int, new: c_int, flags: c_int) -> c_int {
    // SAFETY: forwarding unchanged.
    let r = unsafe { (real().dup3)(old, new, flags) };
    if r >= 0 {
        mirror(old, new);
    }
    r
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
    guard(|| {
        let (local, _) = of(id).names(id).ok_or(libc::EBADF)?;
        // Unbound: the wildcard address and port 0, as for a kernel socket.
        let local = local.unwrap_or_else(|| {
            std::net::SocketAddr::new(std::net::Ipv4Addr::UNSPECIFIED.into(), 0)
        });
        // SAFETY: caller's buffers.
        unsafe { write_addr(Some(local), addr, len) };
        Ok(0)
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
    guard(|| {
        let (_, peer) = of(id).names(id).ok_or(libc::EBADF)?;
        let peer = peer.ok_or(libc::ENOTCONN)?;
        // SAFETY: caller's buffers.
        unsafe { write_addr(Some(peer), addr, len) };
        Ok(0)
    })
}

/// getsockopt(2).
///
/// # Safety
/// As for getsockopt(2).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn getsockopt(
    fd: c_int,
    level: c_int,
    name: c_int,
    val: *mut c_void,
    len: *mut socklen_t,
) -> c_int {
    let Some(id) = lookup(fd) else {
        // SAFETY: forwarding unchanged.
        return unsafe { (real().getsockopt)(fd, level, name, val, len) };
    };
    guard(|| match (level, name) {
        // SAFETY (all arms): caller's option buffer, checked by put_int.
        (libc::SOL_SOCKET, libc::SO_ERROR) => unsafe { put_int(val, len, of(id).take_error(id)) },
        (libc::SOL_SOCKET, libc::SO_TYPE) => unsafe {
            put_int(
                val,
                len,
                if is_many_id(id) {
                    libc::SOCK_SEQPACKET
                } else {
                    libc::SOCK_STREAM
                },
            )
        },
        (libc::SOL_SOCKET, libc::SO_PROTOCOL) => unsafe { put_int(val, len, IPPROTO_SCTP) },
        (libc::SOL_SOCKET, libc::SO_DOMAIN) => {
            let v6 = of(id)
                .names(id)
                .and_then(|(l, _)| l)
                .is_some_and(|a| a.is_ipv6());
            unsafe { put_int(val, len, if v6 { libc::AF_INET6 } else { libc::AF_INET }) }
        }
        (SOL_SCTP, SCTP_SOCKOPT_PEELOFF | SCTP_SOCKOPT_PEELOFF_FLAGS) => {
            // struct sctp_peeloff_arg_t { sctp_assoc_t associd; int sd; } (+ unsigned flags).
            let need = if name == SCTP_SOCKOPT_PEELOFF { 8 } else { 12 };
            if val.is_null() || len.is_null() {
                return Err(libc::EFAULT);
            }
            // SAFETY: non-null caller pointers; sizes checked before use.
            let (assoc, flags) = unsafe {
                if (*len as usize) < need {
                    return Err(libc::EINVAL);
                }
                let b = std::slice::from_raw_parts(val as *const u8, need);
                let assoc = u32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
                let flags = if need == 12 {
                    i32::from_ne_bytes([b[8], b[9], b[10], b[11]])
                } else {
                    0
                };
                (assoc, flags)
            };
            if !is_many_id(id) {
                return Err(libc::EINVAL);
            }
            if flags & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) != 0 {
                return Err(libc::EINVAL);
            }
            let (nid, nfd) = of(id).peeloff(id, assoc, flags)?;
            if !insert(nfd, nid) {
                sys::close(nfd);
                return Err(libc::EMFILE);
            }
            // SAFETY: the caller's buffer holds the argument struct (checked).
            unsafe {
                std::ptr::write_unaligned((val as *mut u8).add(4) as *mut c_int, nfd);
                *len = need as socklen_t;
            }
            Ok(0)
        }
        (SOL_SCTP, SCTP_SOCKOPT_CONNECTX3) => {
            // struct sctp_getaddrs_old { sctp_assoc_t assoc_id; int addr_num
            // (bytes, as libsctp passes it); struct sockaddr *addrs; }
            if val.is_null() || len.is_null() {
                return Err(libc::EFAULT);
            }
            // SAFETY: non-null caller pointers; the size is checked before reading.
            let (bytes, ptr) = unsafe {
                if (*len as usize) < 16 {
                    return Err(libc::EINVAL);
                }
                let b = val as *const u8;
                (
                    std::ptr::read_unaligned(b.add(4) as *const c_int),
                    std::ptr::read_unaligned(b.add(8) as *const *const c_void),
                )
            };
            // SAFETY: the caller's address array covers `bytes` bytes.
            let addrs = unsafe { packed_addrs(ptr, bytes.max(0) as usize) }?;
            let (aid, r) = match connectx(fd, id, &addrs) {
                Ok(a) => (Some(a), Ok(0)),
                Err((e, a)) => (a, Err(e)),
            };
            if let Some(a) = aid.filter(|_| matches!(r, Ok(_) | Err(libc::EINPROGRESS))) {
                // SAFETY: the caller's struct holds 16 bytes (checked).
                unsafe { std::ptr::write_unaligned(val as *mut u32, a) };
            }
            r
        }
        // A forked child sees the parent's engine state as it was at fork;
        // the pair tells whether the association has ended since.
        (SOL_SCTP, SCTP_STATUS)
            if of(id).is_foreign() && !is_many_id(id) && sys::is_hung_up(fd) =>
        {
            Err(libc::EINVAL)
        }
        // SAFETY: caller's option buffer, checked inside.
        (SOL_SCTP, n) if options::handles(n) => unsafe { options::get(of(id), id, n, val, len) },
        (SOL_SCTP, _) => Err(libc::ENOPROTOOPT),
        // SAFETY: other socket-level options answer from our pair (buffers, timeouts).
        _ => os_result(unsafe { (real().getsockopt)(fd, level, name, val, len) }),
    })
}

/// setsockopt(2).
///
/// # Safety
/// As for setsockopt(2).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn setsockopt(
    fd: c_int,
    level: c_int,
    name: c_int,
    val: *const c_void,
    len: socklen_t,
) -> c_int {
    let Some(id) = lookup(fd) else {
        // SAFETY: forwarding unchanged.
        return unsafe { (real().setsockopt)(fd, level, name, val, len) };
    };
    guard(|| match (level, name) {
        (SOL_SCTP, SCTP_SOCKOPT_CONNECTX_OLD | SCTP_SOCKOPT_CONNECTX) => {
            // SAFETY: the caller's buffer covers `len` bytes.
            let addrs = unsafe { packed_addrs(val, len as usize) }?;
            match connectx(fd, id, &addrs) {
                // SCTP_SOCKOPT_CONNECTX returns the association id.
                Ok(a) if name == SCTP_SOCKOPT_CONNECTX => Ok(a as c_int),
                Ok(_) => Ok(0),
                Err((e, _)) => Err(e),
            }
        }
        // SAFETY: caller's option buffer, checked inside.
        (SOL_SCTP, n) if options::handles(n) => unsafe { options::set(of(id), id, n, val, len) },
        (SOL_SCTP, _) => Err(libc::ENOPROTOOPT),
        (libc::SOL_SOCKET, libc::SO_RCVBUF | libc::SO_SNDBUF) => {
            // SAFETY: the caller's buffer, checked inside.
            let v = unsafe { get_int(val, len) }?.max(0) as usize;
            // As Linux: the kernel doubles the value (bookkeeping overhead);
            // it sizes the advertised window resp. the send buffer of the
            // socket's associations, and the pair's own buffer.
            let bytes = (v * 2).max(4096);
            let rcv = name == libc::SO_RCVBUF;
            of(id).assoc_config(id, 2, |c| {
                if rcv {
                    c.rcvbuf = bytes;
                } else {
                    c.sndbuf = bytes;
                }
            })?;
            // SAFETY: forwarding the caller's value to our pair.
            os_result(unsafe { (real().setsockopt)(fd, level, name, val, len) })
        }
        // SO_REUSEADDR lets sockets share a port, as on Linux's SCTP (see
        // `Sock::reuse`); the pair keeps the value for getsockopt.
        (libc::SOL_SOCKET, libc::SO_REUSEADDR | libc::SO_REUSEPORT) => {
            if name == libc::SO_REUSEADDR {
                // SAFETY: the caller's buffer, checked inside.
                let v = unsafe { get_int(val, len) }?;
                of(id).set_reuse(id, v != 0, false)?;
            }
            // SAFETY: forwarding the caller's value to our pair.
            unsafe { (real().setsockopt)(fd, level, name, val, len) };
            Ok(0)
        }
        (libc::IPPROTO_IP | libc::IPPROTO_IPV6, _) => Ok(0),
        (libc::SOL_SOCKET, libc::SO_LINGER) => {
            if val.is_null() {
                return Err(libc::EFAULT);
            }
            if (len as usize) < std::mem::size_of::<libc::linger>() {
                return Err(libc::EINVAL);
            }
            // SAFETY: the caller's buffer holds a struct linger (size checked).
            let l: libc::linger = unsafe { std::ptr::read_unaligned(val as *const libc::linger) };
            of(id).set_linger(id, (l.l_onoff != 0).then_some(l.l_linger.max(0) as u32));
            Ok(0)
        }
        // SAFETY: other socket-level options apply to our pair (buffers, timeouts, linger).
        _ => os_result(unsafe { (real().setsockopt)(fd, level, name, val, len) }),
    })
}

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
    // SAFETY: the caller's address covers `alen` bytes.
    let dest = unsafe { from_sockaddr(addr, alen) };
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
    // SAFETY: the caller's buffer covers `n` bytes.
    unsafe { send_one(fd, id, None, None, buf, n, 0) }
}

/// A send of one contiguous buffer (sendto, send, write).
///
/// # Safety
/// `buf` covers `n` bytes (or is null with `n` 0).
unsafe fn send_one(
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
    // SAFETY: an all-zero msghdr is valid; it points at one iovec.
    let mut m: msghdr = unsafe { std::mem::zeroed() };
    m.msg_iov = &mut iov;
    m.msg_iovlen = 1;
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
    // SAFETY: `msg` is non-null and valid per the caller; we copy it.
    let m: msghdr = unsafe { std::ptr::read(msg) };
    // SAFETY: the caller's control buffer and name.
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
    // SAFETY: `m` is the caller's valid header.
    unsafe { send_msg(fd, id, dest, spec, &m, flags) }
}

/// One message on an SCTP socket. One-to-many: handed to the engine with
/// its destination. One-to-one: marked, then written into the pair (see
/// the engine's `send.rs`), so the kernel does the blocking.
///
/// # Safety
/// `m` must describe valid iovecs; its name and control data are not used.
unsafe fn send_msg(
    fd: c_int,
    id: SockId,
    dest: Option<std::net::SocketAddr>,
    spec: Option<SendSpec>,
    m: &msghdr,
    flags: c_int,
) -> isize {
    let e = of(id);
    let dest = match dest.map(|a| e.peer_arg(id, a)).transpose() {
        Ok(d) => d,
        Err(err) => {
            set_errno(err);
            return -1;
        }
    };
    if is_many_id(id) {
        // SAFETY: valid iovecs per the caller.
        let data = unsafe { cmsg::gather(m) };
        // No SCTP_SNDRCV/SNDINFO: SCTP_DEFAULT_SNDINFO's values.
        let spec = spec.unwrap_or_else(|| e.default_send(id).unwrap_or_default());
        return send_many(fd, id, dest, spec, &data, flags);
    }
    if let Err(err) = implicit_connect(id, dest) {
        set_errno(err);
        return -1;
    }
    if let Some(sp) = spec
        && sp.flags & SCTP_ABORT != 0
    {
        // SAFETY: valid iovecs per the caller.
        let data = unsafe { cmsg::gather(m) };
        return match e.abort_stream(id, &data) {
            Ok(()) => data.len() as isize,
            Err(err) => {
                set_errno(err);
                -1
            }
        };
    }
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
    let ticket = match e.mark_send(id, len, spec) {
        Ok(k) => k,
        Err(err) => {
            set_errno(err);
            return -1;
        }
    };
    // SAFETY: the copied header points at the caller's iovecs.
    let r = unsafe { (real().sendmsg)(fd, &plain, flags) };
    if !ticket.settled_by(r) {
        // Short, refused, or the rest of an earlier short send.
        e.settle_mark(id, ticket, r.max(0) as usize);
    }
    r
}

/// The part of `iov` from byte `skip` on, at most `cap` bytes long.
fn iov_window(iov: &[libc::iovec], mut skip: usize, mut cap: usize) -> Vec<libc::iovec> {
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
unsafe fn iovecs(m: &msghdr) -> &[libc::iovec] {
    if m.msg_iov.is_null() {
        return &[];
    }
    // SAFETY: per the caller.
    unsafe { std::slice::from_raw_parts(m.msg_iov, m.msg_iovlen) }
}

/// One message on a one-to-many socket (blocking unless O_NONBLOCK or MSG_DONTWAIT).
fn send_many(
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
fn implicit_connect(id: SockId, addr: Option<std::net::SocketAddr>) -> Result<(), c_int> {
    match addr {
        Some(a) => of(id).implicit_connect(id, a),
        None => Ok(()),
    }
}

/// SCTP is message-based: MSG_WAITALL does not wait for more messages, so it
/// must not make our byte-stream pair wait for a full buffer.
const fn recv_flags(flags: c_int) -> c_int {
    flags & !(libc::MSG_WAITALL | libc::MSG_TRUNC)
}

/// A read that returned `r` on `fd`: at EOF, an association that ended in
/// error reports it once (ECONNRESET, ETIMEDOUT), as a kernel socket does.
fn at_eof(fd: c_int, r: isize, wanted: usize) -> isize {
    if r == 0
        && wanted > 0
        && let Some(id) = lookup(fd)
        && let Some(e) = of(id).take_terminal_error(id)
    {
        set_errno(e);
        return -1;
    }
    r
}

/// What one receive got: the byte count (or -1 with errno set), the pair's
/// msg_flags, and the record it read from with whether it reached its end.
struct Received {
    r: isize,
    flags: c_int,
    record: Option<(crate::runtime::Slice, bool)>,
}

/// One receive on an SCTP socket: at most the rest of the current record
/// (message or notification), so message boundaries hold; see the engine's
/// `inbox.rs`. `m` carries the caller's iovecs; its name and control
/// fields are ignored.
///
/// # Safety
/// `m` must describe valid, writable iovecs.
unsafe fn recv_record(fd: c_int, id: SockId, m: &msghdr, flags: c_int) -> Received {
    let e = of(id);
    let mut plain = *m;
    plain.msg_name = std::ptr::null_mut();
    plain.msg_namelen = 0;
    plain.msg_control = std::ptr::null_mut();
    plain.msg_controllen = 0;
    // SAFETY: valid iovecs per the caller.
    let iov = unsafe { iovecs(m) };
    let total: usize = iov.iter().map(|v| v.iov_len).sum();
    let raw = |pm: &mut msghdr| -> Received {
        // SAFETY: `pm` points at the caller's (possibly shortened) iovecs.
        let r = unsafe { (real().recvmsg)(fd, pm, recv_flags(flags)) };
        Received {
            r,
            flags: pm.msg_flags,
            record: None,
        }
    };
    if total == 0 || e.is_foreign() {
        return raw(&mut plain);
    }
    let mut waited = false;
    loop {
        match e.next_record(id, fd) {
            // All of an open (partially delivered) message was read: wait
            // for its next piece like for any data.
            Some(slice) if slice.left == 0 && !waited => {
                if let Some(r) = wait_readable(fd, flags) {
                    return r;
                }
                waited = true;
            }
            Some(slice) if slice.left == 0 => return raw(&mut plain),
            Some(slice) => {
                // At most the record's remaining bytes.
                let want = total.min(slice.left);
                let mut cut = iov_window(iov, 0, want);
                plain.msg_iov = cut.as_mut_ptr();
                plain.msg_iovlen = cut.len();
                let mut got = raw(&mut plain);
                // A message the engine holds whole but had not all written
                // into the pair yet (the pair was full): keep reading, so the
                // caller gets it in one piece as from a kernel socket.
                let mut waits = 0;
                while slice.complete
                    && got.r > 0
                    && (got.r as usize) < want
                    && flags & libc::MSG_PEEK == 0
                    && waits < 10
                {
                    let mut pfd = [libc::pollfd {
                        fd,
                        events: libc::POLLIN,
                        revents: 0,
                    }];
                    if !matches!(sys::poll(&mut pfd, 100), Ok(n) if n > 0) {
                        waits += 1;
                        continue;
                    }
                    let mut more = iov_window(iov, got.r as usize, want - got.r as usize);
                    plain.msg_iov = more.as_mut_ptr();
                    plain.msg_iovlen = more.len();
                    // SAFETY: `plain` points at the caller's iovecs, past what was read.
                    let r = unsafe {
                        (real().recvmsg)(fd, &mut plain, recv_flags(flags) | libc::MSG_DONTWAIT)
                    };
                    if r <= 0 {
                        break;
                    }
                    got.r += r;
                }
                if got.r > 0 {
                    let eor = slice.eor_at_end && got.r as usize == slice.left;
                    got.record = Some((slice, eor));
                }
                return got;
            }
            // Bytes without a record (only if the index lost track): plain read.
            None if waited => return raw(&mut plain),
            None => {
                if let Some(r) = wait_readable(fd, flags) {
                    return r;
                }
                waited = true;
            }
        }
    }
}

/// Waits for data as the caller's read would (blocking mode, MSG_DONTWAIT,
/// SO_RCVTIMEO, signals, EOF) without taking it; Some(result) when the
/// read must end there (EOF or error).
fn wait_readable(fd: c_int, flags: c_int) -> Option<Received> {
    let mut b = 0u8;
    let peek = libc::MSG_PEEK | (flags & libc::MSG_DONTWAIT);
    // SAFETY: one byte of our own.
    let r = unsafe {
        (real().recvfrom)(
            fd,
            &mut b as *mut u8 as *mut c_void,
            1,
            peek,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    (r <= 0).then_some(Received {
        r,
        flags: 0,
        record: None,
    })
}

/// A receive into one buffer (read, recv, recvfrom).
///
/// # Safety
/// `buf` covers `n` writable bytes.
unsafe fn recv_one(fd: c_int, id: SockId, buf: *mut c_void, n: usize, flags: c_int) -> Received {
    let mut iov = libc::iovec {
        iov_base: buf,
        iov_len: n,
    };
    // SAFETY: an all-zero msghdr is valid; it points at one iovec.
    let mut m: msghdr = unsafe { std::mem::zeroed() };
    m.msg_iov = &mut iov;
    m.msg_iovlen = 1;
    // SAFETY: `m` describes the caller's buffer.
    unsafe { recv_record(fd, id, &m, flags) }
}

/// read(2).
///
/// # Safety
/// As for read(2).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn read(fd: c_int, buf: *mut c_void, n: usize) -> isize {
    let Some(id) = lookup(fd) else {
        // SAFETY: forwarding unchanged.
        return unsafe { (real().read)(fd, buf, n) };
    };
    // SAFETY: the caller's buffer.
    let got = unsafe { recv_one(fd, id, buf, n, 0) };
    at_eof(fd, got.r, n)
}

/// recv(2).
///
/// # Safety
/// As for recv(2).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn recv(fd: c_int, buf: *mut c_void, n: usize, flags: c_int) -> isize {
    let Some(id) = lookup(fd) else {
        // SAFETY: forwarding unchanged.
        return unsafe {
            (real().recvfrom)(
                fd,
                buf,
                n,
                flags,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
    };
    // SAFETY: the caller's buffer.
    let got = unsafe { recv_one(fd, id, buf, n, flags) };
    at_eof(fd, got.r, n)
}

/// recvfrom(2): the source is the message's peer.
///
/// # Safety
/// As for recvfrom(2).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn recvfrom(
    fd: c_int,
    buf: *mut c_void,
    n: usize,
    flags: c_int,
    addr: *mut sockaddr,
    alen: *mut socklen_t,
) -> isize {
    let Some(id) = lookup(fd) else {
        // SAFETY: forwarding unchanged.
        return unsafe { (real().recvfrom)(fd, buf, n, flags, addr, alen) };
    };
    // SAFETY: the caller's buffer.
    let got = unsafe { recv_one(fd, id, buf, n, flags) };
    if got.r >= 0 {
        let peer = match &got.record {
            Some((slice, _)) => slice.meta.peer,
            None => of(id).names(id).and_then(|(_, p)| p),
        };
        // SAFETY: caller's address buffer.
        unsafe { write_addr(peer, addr, alen) };
    }
    at_eof(fd, got.r, n)
}

/// recvmsg(2): one message (or the next piece of one), with the peer in
/// msg_name, MSG_EOR / MSG_NOTIFICATION and SCTP ancillary data.
///
/// # Safety
/// As for recvmsg(2).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn recvmsg(fd: c_int, msg: *mut msghdr, flags: c_int) -> isize {
    let Some(id) = lookup(fd).filter(|_| !msg.is_null()) else {
        // SAFETY: forwarding unchanged.
        return unsafe { (real().recvmsg)(fd, msg, flags) };
    };
    // SAFETY: `msg` non-null and valid per the caller.
    let m: msghdr = unsafe { std::ptr::read(msg) };
    // SAFETY: the caller's iovecs.
    let got = unsafe { recv_record(fd, id, &m, flags) };
    if let Some((slice, eor)) = &got.record {
        let (rcvinfo, nxtinfo, data_io) = of(id).recv_options(id);
        let wants = cmsg::RecvWants {
            rcvinfo,
            nxtinfo,
            data_io,
        };
        // SAFETY: `msg` is the caller's valid header.
        unsafe { cmsg::fill_recv(&mut *msg, slice, *eor, wants, got.flags) };
        return got.r;
    }
    if got.r >= 0 {
        let peer = of(id).names(id).and_then(|(_, p)| p);
        // SAFETY: writing back into the caller's header and buffers.
        unsafe {
            let out = &mut *msg;
            let mut nl = out.msg_namelen;
            write_addr(peer, out.msg_name as *mut sockaddr, &mut nl);
            out.msg_namelen = nl;
            out.msg_controllen = 0;
            out.msg_flags = got.flags;
        }
    }
    let total: usize = unsafe { iovecs(&m) }.iter().map(|v| v.iov_len).sum();
    at_eof(fd, got.r, total)
}

extern "C" fn at_exit() {
    let secs = std::env::var("SCTPSHIM_LINGER_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5u64);
    if let Some(e) = current_engine() {
        let _ = catch_unwind(|| e.drain_at_exit(std::time::Duration::from_secs(secs)));
    }
}

type ExitFn = unsafe extern "C" fn(c_int) -> !;

fn real_exit(name: &std::ffi::CStr) -> ExitFn {
    // SAFETY: dlsym with RTLD_NEXT and a NUL-terminated name.
    let p = unsafe { libc::dlsym(libc::RTLD_NEXT, name.as_ptr()) };
    if p.is_null() {
        std::process::abort();
    }
    // SAFETY: `p` is libc's `_exit`/`_Exit`, whose C type is `void (int)`, noreturn.
    unsafe { std::mem::transmute::<*mut c_void, ExitFn>(p) }
}

/// _exit(2): runs no exit handlers, but must not lose queued SCTP data
/// either, so it waits as exit() does before ending the process.
///
/// # Safety
/// Plain C ABI entry point.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _exit(status: c_int) -> ! {
    at_exit();
    // SAFETY: calling libc's _exit.
    unsafe { real_exit(c"_exit")(status) }
}

/// _Exit(3): as `_exit`.
///
/// # Safety
/// Plain C ABI entry point.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _Exit(status: c_int) -> ! {
    at_exit();
    // SAFETY: calling libc's _Exit.
    unsafe { real_exit(c"_Exit")(status) }
}

extern "C" fn fork_prepare() {
    crate::runtime::before_fork();
}

extern "C" fn fork_done() {
    crate::runtime::after_fork();
}

#[ctor::ctor]
fn init() {
    let _ = real();
    // SAFETY: registering plain extern "C" fns with atexit / pthread_atfork.
    unsafe {
        libc::atexit(at_exit);
        libc::pthread_atfork(Some(fork_prepare), Some(fork_done), Some(fork_done));
    }
}
