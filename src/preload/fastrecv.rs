//! Receives on sockets of the shared daemon without the round trip: the
//! program finds its record in the socket's shared page (`sys::sockpage`)
//! and reads at most to its end from its own end of the pair, as the
//! in-process placement does with the engine's record index: read, recv
//! and recvmsg, whose name and ancillary data (sctp_recvmsg's, SCTP_RCVINFO,
//! ...) are made from the record's metadata in the page, as the daemon
//! makes them. No flags but MSG_DONTWAIT; the rest, and whatever the page cannot
//! tell (end of file, errors, bytes past the records it shows), go to the
//! daemon as before.

use std::os::raw::c_int;

use libc::msghdr;

use super::client::{tell, wait_in};
use super::fastpath::attached;
use super::recv::app_blocking;
use super::send::iov_window;
use crate::ipc::Request;
use crate::runtime::{Slice, SockId, is_many_id};
use crate::sys::sockpage::RecvWants;
use crate::sys::{self, real, set_errno};

/// What a receive without the daemon got.
pub struct FastRecv {
    /// The bytes read, or -1 with errno.
    pub r: isize,
    /// MSG_EOR, MSG_NOTIFICATION.
    pub flags: c_int,
    /// For a recvmsg with a name or control data, or on a one-to-many
    /// socket: the record read, whether the read ended it, and the
    /// ancillary data the socket's receives return.
    pub record: Option<(Slice, bool, RecvWants)>,
}

/// recvmsg on socket `id` without the daemon, or None when the daemon must
/// take it. `m` and `iov` are the header and its iovecs in our memory (the
/// buffers they point at are the caller's).
pub fn try_recv(
    fd: c_int,
    id: SockId,
    m: &msghdr,
    iov: &[libc::iovec],
    flags: c_int,
) -> Option<FastRecv> {
    let plain = (m.msg_name.is_null() || m.msg_namelen == 0)
        && (m.msg_control.is_null() || m.msg_controllen == 0);
    let many = is_many_id(id);
    if flags & !libc::MSG_DONTWAIT != 0 {
        return None;
    }
    let total: usize = iov.iter().map(|v| v.iov_len).sum();
    if total == 0 {
        return None;
    }
    let a = attached(fd, id)?;
    let mut waited = false;
    // (Asked only when it matters: it costs a system call.)
    let blocking = || app_blocking(fd, flags);
    loop {
        let turn = match a.page.recv_turn(true) {
            Some(t) => t,
            None if !blocking() => return None,
            None => a.page.recv_turn(false)?,
        };
        let (slice, up, wants) = {
            let mut g = a.page.lock();
            // Under the page's lock: the engine writes into the pair and
            // publishes how much only while holding it. (A one-to-many
            // socket's wait is the daemon's: whether there is anything to
            // wait for, ENOTCONN else, is not in the page.)
            let up = !many && g.established();
            (g.slice_at(sys::pending_bytes(fd)).ok()?, up, g.wants())
        };
        let Some(slice) = slice.filter(|s| s.left > 0) else {
            // Nothing to read yet (or all of a message arriving in pieces
            // was read): wait as the caller's read would, then look again.
            // Readable with nothing in it is the end or an error, and a
            // socket without an association has nothing to wait for: the
            // daemon answers those.
            drop(turn);
            if !up || waited && sys::pending_bytes(fd) == 0 || !blocking() {
                return None;
            }
            if let Err(e) = wait_in(fd, flags) {
                set_errno(e);
                return Some(FastRecv {
                    r: -1,
                    flags: 0,
                    record: None,
                });
            }
            waited = true;
            continue;
        };
        let want = total.min(slice.left);
        let got = read_record(fd, iov, want, slice.complete);
        if got <= 0 {
            // (The unread bytes said there was data.)
            return None;
        }
        let note = a.page.lock().advance(slice.pos + got as u64);
        drop(turn);
        if note {
            tell(&Request::Moved { id });
        }
        let mut out = 0;
        let eor = slice.eor_at_end && got as usize == slice.left;
        if eor {
            out |= libc::MSG_EOR;
        }
        if slice.notification {
            out |= libc::MSG_NOTIFICATION;
        }
        let record = (many || !plain).then(|| {
            let s = Slice {
                meta: slice.meta,
                left: slice.left,
                next: slice.next,
                complete: slice.complete,
                eor_at_end: slice.eor_at_end,
            };
            (s, eor, wants)
        });
        return Some(FastRecv {
            r: got,
            flags: out,
            record,
        });
    }
}

/// Reads `want` bytes of one record into `iov`; a message the engine holds
/// whole but had not all written into the pair yet (the pair was full) is
/// waited for a little, so that it arrives in one piece as from a kernel
/// socket. The bytes read, or -1.
fn read_record(fd: c_int, iov: &[libc::iovec], want: usize, complete: bool) -> isize {
    let mut got = 0usize;
    let mut waits = 0;
    while got < want {
        let mut cut = iov_window(iov, got, want - got);
        // SAFETY: a zeroed msghdr is valid; it points at our iovec window
        // over the caller's buffers (the kernel checks them: EFAULT).
        let mut h: msghdr = unsafe { std::mem::zeroed() };
        h.msg_iov = cut.as_mut_ptr();
        h.msg_iovlen = cut.len();
        // SAFETY: as above.
        let r = unsafe { (real().recvmsg)(fd, &mut h, libc::MSG_DONTWAIT) };
        if r > 0 {
            got += r as usize;
            continue;
        }
        if got == 0 {
            return r;
        }
        let again = r < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EAGAIN);
        if !again || !complete || waits >= 10 {
            break;
        }
        if !sys::readable_within(fd, 100) {
            waits += 1;
        }
    }
    got as isize
}
