//! Sends on one-to-one sockets of the shared daemon without the round trip:
//! the program places its message's mark in the socket's shared send page
//! (`sys::sockpage`) and writes the bytes into its own end of the pair, as
//! the in-process placement does. Whatever it cannot decide alone (the
//! association not up yet, an open message, SCTP_EOF, an address, a
//! failed write) goes to the daemon as before, whose answer is the
//! reference (so are a socket's first few calls: see `fastpath.rs`).

use std::os::raw::c_int;

use libc::msghdr;

use super::client::call;
use super::fastpath::attached;
use super::interpose::is_nonblocking;
use crate::ipc::Request;
use crate::runtime::{SCTP_UNORDERED, SockId, is_many_id};
use crate::sys::{self, real, set_errno};
use crate::usermem;

/// sendmsg on one-to-one socket `id` without the daemon, or None when the
/// daemon must take it. `m` and `iov` are the header and its iovecs in our
/// memory (the buffers and control data they point at are the caller's).
pub fn try_send(
    fd: c_int,
    id: SockId,
    m: &msghdr,
    iov: &mut [libc::iovec],
    flags: c_int,
) -> Option<isize> {
    if is_many_id(id) || flags & !(libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) != 0 {
        return None;
    }
    if !m.msg_name.is_null() && m.msg_namelen > 0 {
        return None;
    }
    let total = iov
        .iter()
        .try_fold(0usize, |t, v| t.checked_add(v.iov_len))?;
    if total == 0 || total > isize::MAX as usize {
        return None;
    }
    // As the daemon reads them: control data makes the send parameters
    // explicit; only stream, PPID, context and SCTP_UNORDERED stay here.
    let spec = if m.msg_control.is_null() || m.msg_controllen == 0 {
        None
    } else {
        let mut control = usermem::read(m.msg_control, m.msg_controllen.min(1 << 16)).ok()?;
        let mut c = *m;
        c.msg_control = control.as_mut_ptr() as *mut libc::c_void;
        c.msg_controllen = control.len();
        // SAFETY: `c` points at our copy of the control data.
        let p = unsafe { super::cmsg::send_cmsgs(&c) }.ok()?;
        if p.init.is_some() || !p.dst.is_empty() || p.spec.flags & !SCTP_UNORDERED != 0 {
            return None;
        }
        Some(p.spec)
    };
    let a = attached(fd, id)?;
    let turn = match a.page.turn(true) {
        Some(t) => t,
        // Busy: a non-blocking send gets its EAGAIN from the daemon.
        None if flags & libc::MSG_DONTWAIT != 0 || is_nonblocking(fd) => return None,
        None => a.page.turn(false)?,
    };
    let mark = a
        .page
        .lock()
        .place(sys::pending_bytes(a.efd), total, spec)
        .ok()?;
    let mut plain = *m;
    plain.msg_name = std::ptr::null_mut();
    plain.msg_namelen = 0;
    plain.msg_control = std::ptr::null_mut();
    plain.msg_controllen = 0;
    plain.msg_iov = iov.as_mut_ptr();
    plain.msg_iovlen = iov.len();
    // SAFETY: our copy of the header and iovecs, pointing at the caller's
    // buffers (the kernel checks them: EFAULT). No SIGPIPE from the pair.
    let r = unsafe { (real().sendmsg)(fd, &plain, flags | libc::MSG_NOSIGNAL) };
    if r >= 0 && r as usize == total {
        return Some(r);
    }
    let err = std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO);
    // Short or refused: the daemon settles the mark before anyone else
    // may write (the turn is still ours).
    let settle = Request::Settle {
        mark,
        len: total as u64,
        written: r.max(0) as u64,
    };
    let _ = call(&settle, Some(fd));
    drop(turn);
    if r < 0 && err == libc::EPIPE {
        // The association's error or EPIPE with SIGPIPE: the daemon knows.
        return None;
    }
    if r < 0 {
        set_errno(err);
    }
    Some(r)
}
