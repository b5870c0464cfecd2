//! getsockopt and setsockopt on SCTP sockets: SOL_SCTP options (most in
//! `sockopt/`), the socket-level ones an SCTP socket answers itself, and
//! the IP levels (`ipopts.rs`). The program's buffers are copied in and
//! out with EFAULT checks (`args.rs`).

use std::os::raw::{c_int, c_void};

use libc::socklen_t;

use super::args::OptBuf;
use super::client;
use super::fdtable::{insert, lookup};
use super::interpose::*;
use super::ipopts;
use crate::runtime::is_many_id;
use crate::sockopt::{self as options, SCTP_STATUS, get_int, packed_addrs, put_int};
use crate::sys::{self, real, set_errno};

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
    if client::remote() {
        // SAFETY: as for getsockopt(2).
        return unsafe { client::getsockopt(fd, level, name, val, len) };
    }
    // The option buffer, copied in (EFAULT); the code below works on the
    // copy, which goes back after a successful call.
    let (uval, ulen) = (val, len);
    let mut ob = match OptBuf::for_get(val, len) {
        Ok(b) => b,
        Err(e) => {
            set_errno(e);
            return -1;
        }
    };
    let val = ob.ptr();
    let len = std::ptr::addr_of_mut!(ob.len);
    let r = guard(|| match (level, name) {
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
        (libc::SOL_SOCKET, libc::SO_ACCEPTCONN) => unsafe {
            put_int(val, len, c_int::from(of(id).accepts_connections(id)))
        },
        (libc::SOL_SOCKET, libc::SO_PROTOCOL) => unsafe { put_int(val, len, IPPROTO_SCTP) },
        (libc::SOL_SOCKET, libc::SO_DOMAIN) => {
            let v6 = of(id).is_v6(id);
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
            // Other readers of the one-to-many socket wait: its unread
            // bytes come out of `fd` and go back in (see Engine::peeloff).
            let side = of(id).gates(id);
            let _turn = side
                .as_ref()
                .map(|s| s.app_recv.lock().unwrap_or_else(|e| e.into_inner()));
            // (Programs reading through the shared page take turns too.)
            let _shared = side.as_ref().and_then(|s| s.shared_recv_turn());
            let (nid, nfd) = of(id).peeloff(id, assoc, flags, fd)?;
            if !insert(nfd, nid) {
                sys::close(nfd);
                return Err(libc::EMFILE);
            }
            sys::copy_socket_options(fd, nfd);
            // SAFETY: the caller's buffer holds the argument struct (checked).
            unsafe {
                std::ptr::write_unaligned((val as *mut u8).add(4) as *mut c_int, nfd);
                *len = need as socklen_t;
            }
            // As Linux's sctp_getsockopt_peeloff: the new descriptor is also
            // the call's result.
            Ok(nfd)
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
        // SAFETY: as for this function.
        (l, _) if ipopts::handles(l) => unsafe { ipopts::get(of(id), id, level, name, val, len) },
        // SAFETY: other socket-level options answer from our pair (buffers, timeouts).
        (libc::SOL_SOCKET, _) => {
            os_result(unsafe { (real().getsockopt)(fd, level, name, val, len) })
        }
        _ => Err(ipopts::foreign_level(of(id), id, true)),
    });
    if r >= 0
        && let Err(e) = ob.finish_get(uval, ulen)
    {
        set_errno(e);
        return -1;
    }
    // Linux's SCTP_GET_LOCAL_ADDRS reports the addresses' bytes only, its
    // 8-byte header left out ("we can't change it anymore", says
    // sctp_getsockopt_local_addrs); the header is written all the same.
    if r >= 0
        && (level, name) == (SOL_SCTP, options::SCTP_GET_LOCAL_ADDRS)
        && let Err(e) = crate::usermem::put(ulen, ob.len.saturating_sub(8))
    {
        set_errno(e);
        return -1;
    }
    r
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
    if client::remote() {
        // SAFETY: as for setsockopt(2).
        return unsafe { client::setsockopt(fd, level, name, val, len) };
    }
    // The value, copied in (EFAULT); the code below reads the copy.
    let copy = match crate::usermem::read_exact(val, (len as usize).min(1 << 20)) {
        Ok(c) => c,
        Err(e) => {
            set_errno(e);
            return -1;
        }
    };
    let len = copy.len() as socklen_t;
    // Never null: an empty value is a length question, not a bad address.
    let val = if copy.is_empty() {
        std::ptr::NonNull::<c_int>::dangling().as_ptr() as *const c_void
    } else {
        copy.as_ptr() as *const c_void
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
            of(id).remember_buf(id, rcv, v as c_int);
            of(id).assoc_config(id, 2, |c| {
                if rcv {
                    c.rcvbuf = bytes;
                } else {
                    c.sndbuf = bytes;
                    c.sndbuf_auto = false;
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
        // SAFETY: as for this function.
        (l, _) if ipopts::handles(l) => unsafe {
            ipopts::set(of(id), id, fd, level, name, val, len)
        },
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
            // The pair keeps the value for getsockopt (an AF_UNIX socket's
            // close does not linger).
            // SAFETY: forwarding the caller's value to our pair.
            os_result(unsafe { (real().setsockopt)(fd, level, name, val, len) })
        }
        // SAFETY: other socket-level options apply to our pair (buffers, timeouts).
        (libc::SOL_SOCKET, _) => {
            os_result(unsafe { (real().setsockopt)(fd, level, name, val, len) })
        }
        _ => Err(ipopts::foreign_level(of(id), id, false)),
    })
}
