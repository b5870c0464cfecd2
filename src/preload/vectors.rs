//! readv, writev, sendmmsg, recvmmsg and ioctl on SCTP sockets. Each keeps
//! the socket's message semantics as Linux's do: writev is one message,
//! readv takes one, sendmmsg and recvmmsg move one message per entry (all
//! through the sendmsg/recvmsg interposers), and ioctl(FIONREAD / SIOCINQ)
//! is the length of the next message (sctp_ioctl).

use std::os::raw::{c_int, c_uint, c_ulong};

use libc::{iovec, mmsghdr, msghdr};

use super::client;
use super::fdtable::lookup;
use super::interpose::of;
use crate::runtime::SockId;
use crate::sys::{real, set_errno};
use crate::usermem;

/// Most iovecs or messages one call takes (UIO_MAXIOV).
use super::args::IOV_MAX as MAX_VEC;

/// A message header over `cnt` iovecs at `iov` (EINVAL for a count Linux
/// refuses).
fn over(iov: *const iovec, cnt: c_int) -> Result<msghdr, c_int> {
    if !(0..=MAX_VEC as c_int).contains(&cnt) {
        return Err(libc::EINVAL);
    }
    // SAFETY: an all-zero msghdr is valid.
    let mut m: msghdr = unsafe { std::mem::zeroed() };
    m.msg_iov = iov as *mut iovec;
    m.msg_iovlen = cnt as usize;
    Ok(m)
}

/// writev(2): on an SCTP socket, one message.
///
/// # Safety
/// As for writev(2) (the iovecs are read with EFAULT checks).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writev(fd: c_int, iov: *const iovec, cnt: c_int) -> isize {
    if lookup(fd).is_none() {
        // SAFETY: forwarding unchanged.
        return unsafe { (real().writev)(fd, iov, cnt) };
    }
    match over(iov, cnt) {
        // SAFETY: our header over the caller's iovecs.
        Ok(m) => unsafe { super::send::sendmsg(fd, &m, 0) },
        Err(e) => {
            set_errno(e);
            -1
        }
    }
}

/// readv(2): on an SCTP socket, one message (or the next piece of one).
///
/// # Safety
/// As for readv(2).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn readv(fd: c_int, iov: *const iovec, cnt: c_int) -> isize {
    if lookup(fd).is_none() {
        // SAFETY: forwarding unchanged.
        return unsafe { (real().readv)(fd, iov, cnt) };
    }
    match over(iov, cnt) {
        // SAFETY: our header over the caller's iovecs.
        Ok(mut m) => unsafe { super::recv::recvmsg(fd, &mut m, 0) },
        Err(e) => {
            set_errno(e);
            -1
        }
    }
}

/// Where entry `i`'s msg_len lives (not dereferenced here).
fn len_of(v: *mut mmsghdr, i: usize) -> *mut c_uint {
    let entry = (v as *mut u8).wrapping_add(i * std::mem::size_of::<mmsghdr>());
    entry.wrapping_add(std::mem::offset_of!(mmsghdr, msg_len)) as *mut c_uint
}

/// Entry `i` moved `r` bytes (or failed, errno set): its msg_len is set;
/// false when the loop ends here (a failure, or msg_len not writable:
/// EFAULT).
fn entry_done(v: *mut mmsghdr, i: usize, r: isize) -> bool {
    if r < 0 {
        return false;
    }
    if usermem::put(len_of(v, i), r as c_uint).is_err() {
        set_errno(libc::EFAULT);
        return false;
    }
    true
}

/// The result of sendmmsg/recvmmsg: the count of entries done, or -1 (with
/// the first entry's errno) when none was.
fn counted(done: usize) -> c_int {
    if done == 0 { -1 } else { done as c_int }
}

/// sendmmsg(2): one message per entry, until one fails; the count sent,
/// or -1 when the first fails.
///
/// # Safety
/// As for sendmmsg(2).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sendmmsg(fd: c_int, v: *mut mmsghdr, n: c_uint, flags: c_int) -> c_int {
    if lookup(fd).is_none() {
        // SAFETY: forwarding unchanged.
        return unsafe { (real().sendmmsg)(fd, v, n, flags) };
    }
    if n == 0 {
        return 0;
    }
    let mut done = 0usize;
    for i in 0..(n as usize).min(MAX_VEC) {
        let hdr = (v as *mut u8).wrapping_add(i * std::mem::size_of::<mmsghdr>()) as *const msghdr;
        // SAFETY: the interposer reads the header with EFAULT checks.
        let r = unsafe { super::send::sendmsg(fd, hdr, flags) };
        if !entry_done(v, i, r) {
            break;
        }
        done += 1;
    }
    counted(done)
}

/// recvmmsg(2): one message per entry; after the first, MSG_WAITFORONE
/// takes only what is there. The timeout is Linux's: checked after each
/// message (a wait for the next one is not cut short), with the time left
/// written back.
///
/// # Safety
/// As for recvmmsg(2).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn recvmmsg(
    fd: c_int,
    v: *mut mmsghdr,
    n: c_uint,
    flags: c_int,
    timeout: *mut libc::timespec,
) -> c_int {
    if lookup(fd).is_none() {
        // SAFETY: forwarding unchanged.
        return unsafe { (real().recvmmsg)(fd, v, n, flags, timeout) };
    }
    let end = match deadline(timeout) {
        Ok(e) => e,
        Err(e) => {
            set_errno(e);
            return -1;
        }
    };
    if n == 0 {
        return 0;
    }
    let mut done = 0usize;
    for i in 0..(n as usize).min(MAX_VEC) {
        let mut f = flags & !libc::MSG_WAITFORONE;
        if done > 0 && flags & libc::MSG_WAITFORONE != 0 {
            f |= libc::MSG_DONTWAIT;
        }
        let hdr = (v as *mut u8).wrapping_add(i * std::mem::size_of::<mmsghdr>()) as *mut msghdr;
        // SAFETY: the interposer reads and writes the header with EFAULT checks.
        let r = unsafe { super::recv::recvmsg(fd, hdr, f) };
        if !entry_done(v, i, r) {
            break;
        }
        done += 1;
        if r == 0 {
            break;
        }
        if let Some(end) = end {
            let left = end.saturating_duration_since(crate::runtime::now());
            let ts = libc::timespec {
                tv_sec: left.as_secs() as libc::time_t,
                tv_nsec: left.subsec_nanos() as libc::c_long,
            };
            if usermem::put(timeout, ts).is_err() {
                break;
            }
            if left.is_zero() {
                break;
            }
        }
    }
    counted(done)
}

/// The end of recvmmsg's timeout (EFAULT for a bad pointer, EINVAL for a
/// negative or malformed time, as poll_select_set_timeout).
fn deadline(t: *mut libc::timespec) -> Result<Option<std::time::Instant>, c_int> {
    if t.is_null() {
        return Ok(None);
    }
    let ts = usermem::get(t as *const libc::timespec)?;
    if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
        return Err(libc::EINVAL);
    }
    let d = std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
    // (Beyond a century the wait is unbounded in practice.)
    let d = d.min(std::time::Duration::from_secs(1 << 32));
    Ok(crate::runtime::now().checked_add(d))
}

/// FIONREAD / SIOCINQ on socket `id` (application end `fd`): the length of
/// the next message, 0 when none; ENOTCONN on a one-to-one listener (as
/// Linux answers).
pub(super) fn bytes_ready(fd: c_int, id: SockId) -> Result<c_int, c_int> {
    let e = of(id);
    if e.is_listening(id) {
        return Err(libc::ENOTCONN);
    }
    Ok(e.next_record(id, fd)
        .map_or(0, |s| s.left.min(c_int::MAX as usize) as c_int))
}

/// ioctl(2) on an SCTP socket, as Linux's inet_ioctl / sctp_ioctl answer:
/// FIONREAD (SIOCINQ) is the next message's length; SIOCOUTQ is not an
/// SCTP request (ENOTTY); requests on the descriptor itself (FIONBIO,
/// FIOASYNC, FIOCLEX, owners) go to it; the rest (SIOCGIFADDR and the
/// other interface and routing requests, SIOCGSTAMP, unknown ones) are
/// the kernel's IP layer's, asked through a UDP socket of the same family.
///
/// # Safety
/// As for ioctl(2).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ioctl(fd: c_int, req: c_ulong, arg: c_ulong) -> c_int {
    let Some(id) = lookup(fd) else {
        // SAFETY: forwarding unchanged.
        return unsafe { (real().ioctl)(fd, req, arg) };
    };
    const ON_DESCRIPTOR: [c_ulong; 8] = [
        libc::FIONBIO,
        libc::FIOASYNC,
        libc::FIOCLEX,
        libc::FIONCLEX,
        0x8901, // FIOSETOWN
        0x8902, // SIOCSPGRP
        0x8903, // FIOGETOWN
        0x8904, // SIOCGPGRP
    ];
    let r = match req {
        libc::FIONREAD => {
            let n = if client::remote() {
                client::bytes_ready(fd)
            } else {
                bytes_ready(fd, id)
            };
            n.and_then(|n| usermem::put(arg as *mut c_int, n))
                .map(|_| 0)
        }
        libc::TIOCOUTQ | 0x894B => Err(libc::ENOTTY), // SIOCOUTQ, SIOCOUTQNSD
        // SAFETY: forwarding unchanged to the socket's own descriptor.
        r if ON_DESCRIPTOR.contains(&r) => return unsafe { (real().ioctl)(fd, req, arg) },
        // SAFETY: the caller's argument goes to the kernel, which checks it.
        _ => unsafe { ip_ioctl(fd, req, arg) },
    };
    match r {
        Ok(v) => v,
        Err(e) => {
            set_errno(e);
            -1
        }
    }
}

/// An ioctl the kernel's IP layer answers for any socket of the family.
///
/// # Safety
/// As for ioctl(2).
unsafe fn ip_ioctl(fd: c_int, req: c_ulong, arg: c_ulong) -> Result<c_int, c_int> {
    let mut family: c_int = 0;
    let mut len = std::mem::size_of::<c_int>() as libc::socklen_t;
    // SAFETY: our int and its length; the getsockopt interposer answers.
    unsafe {
        super::opts::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_DOMAIN,
            &mut family as *mut c_int as *mut std::ffi::c_void,
            &mut len,
        )
    };
    let s = crate::sys::scratch_udp(family == libc::AF_INET6)?;
    // The interface requests take a struct ifreq: copied in and out with
    // EFAULT checks, so the kernel only sees our copy.
    let ifreq = (0x8910..=0x8960).contains(&req) && req != 0x8912; // not SIOCGIFCONF
    let r = if ifreq {
        const IFREQ: usize = std::mem::size_of::<libc::ifreq>();
        match usermem::read_exact(arg as *const std::ffi::c_void, IFREQ) {
            Ok(mut b) => {
                // SAFETY: our copy of the caller's struct ifreq.
                let r = super::interpose::os_result(unsafe {
                    (real().ioctl)(s, req, b.as_mut_ptr() as c_ulong)
                });
                r.and_then(|v| usermem::write(arg as *mut std::ffi::c_void, &b).map(|_| v))
            }
            Err(e) => Err(e),
        }
    } else {
        // SAFETY: the caller's request and argument, on our scratch socket.
        super::interpose::os_result(unsafe { (real().ioctl)(s, req, arg) })
    };
    crate::sys::close(s);
    r
}
