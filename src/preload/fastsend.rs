//! Sends on one-to-one sockets of the shared daemon without the round trip:
//! the program places its message's mark in the socket's shared send page
//! (`sys::sendshm`) and writes the bytes into its own end of the pair, as
//! the in-process placement does. Whatever it cannot decide alone (the
//! association not up yet, an open message, SCTP_EOF, an address, a
//! failed write) goes to the daemon as before, whose answer is the
//! reference; so does a socket's first few sends, which keeps short-lived
//! sockets (connect, send, close) from paying for the page.

use std::collections::HashMap;
use std::os::raw::c_int;
use std::sync::{Arc, RwLock};

use libc::msghdr;

use super::args::iovecs_of;
use super::client::call;
use super::interpose::is_nonblocking;
use crate::ipc::Request;
use crate::runtime::{SCTP_UNORDERED, SockId, is_many_id};
use crate::sys::sendshm::SendShm;
use crate::sys::{self, real, set_errno};
use crate::{ownfds, usermem};

/// Sends through the daemon before a socket gets its page.
const SLOW_SENDS_FIRST: u32 = 3;

/// A socket's page and this process's copy of the engine's end of its pair.
struct Attached {
    shm: SendShm,
    efd: c_int,
}

impl Drop for Attached {
    fn drop(&mut self) {
        sys::close(self.efd);
    }
}

enum Slot {
    /// Sends so far through the daemon.
    Counting(u32),
    Ready(Arc<Attached>),
    /// The daemon has no page for it (a listener, or it failed).
    Never,
}

fn table() -> &'static RwLock<HashMap<SockId, Slot>> {
    static T: std::sync::OnceLock<RwLock<HashMap<SockId, Slot>>> = std::sync::OnceLock::new();
    T.get_or_init(|| RwLock::new(HashMap::new()))
}

/// sendmsg on one-to-one socket `id` without the daemon, or None when the
/// daemon must take it.
pub fn try_send(fd: c_int, id: SockId, msg: *const msghdr, flags: c_int) -> Option<isize> {
    if is_many_id(id) || flags & !(libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) != 0 {
        return None;
    }
    let m = usermem::get(msg).ok()?;
    if !m.msg_name.is_null() && m.msg_namelen > 0 {
        return None;
    }
    let mut iov = iovecs_of(&m).ok()?;
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
        let mut c = m;
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
    let turn = match a.shm.turn(true) {
        Some(t) => t,
        // Busy: a non-blocking send gets its EAGAIN from the daemon.
        None if flags & libc::MSG_DONTWAIT != 0 || is_nonblocking(fd) => return None,
        None => a.shm.turn(false)?,
    };
    let mark = a
        .shm
        .lock()
        .place(sys::pending_bytes(a.efd), total, spec)
        .ok()?;
    let mut plain = m;
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

/// The socket's page, asked for once it has sent a few messages.
fn attached(fd: c_int, id: SockId) -> Option<Arc<Attached>> {
    match table().read().ok()?.get(&id) {
        Some(Slot::Ready(a)) => return Some(a.clone()),
        Some(Slot::Never) => return None,
        Some(Slot::Counting(_)) | None => {}
    }
    let mut t = table().write().ok()?;
    let slot = t.entry(id).or_insert(Slot::Counting(0));
    match slot {
        Slot::Counting(n) if *n < SLOW_SENDS_FIRST => {
            *n += 1;
            return None;
        }
        Slot::Counting(_) => {}
        Slot::Ready(a) => return Some(a.clone()),
        Slot::Never => return None,
    }
    *slot = match fetch(fd) {
        Some(a) => Slot::Ready(Arc::new(a)),
        None => Slot::Never,
    };
    match slot {
        Slot::Ready(a) => Some(a.clone()),
        _ => None,
    }
}

/// The page and the pair end from the daemon.
fn fetch(fd: c_int) -> Option<Attached> {
    let get = |pair_end: bool| match call(&Request::SendPage { pair_end }, Some(fd)) {
        Ok((r, Some(got))) if r.ret >= 0 => Some(got),
        Ok((_, Some(got))) => {
            sys::close(got);
            None
        }
        _ => None,
    };
    let shm = SendShm::attach(get(false)?).ok()?;
    let efd = get(true)?;
    ownfds::claim(efd);
    Some(Attached { shm, efd })
}

/// The process closed a descriptor of socket `id`: with none left, its
/// page and pair end go.
pub fn closed(id: SockId) {
    let known = table().read().is_ok_and(|t| t.contains_key(&id));
    if !known {
        return;
    }
    let open = super::fdtable::in_range(0, u32::MAX)
        .into_iter()
        .any(|fd| super::fdtable::lookup(fd) == Some(id));
    if !open && let Ok(mut t) = table().write() {
        t.remove(&id);
    }
}
