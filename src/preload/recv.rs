//! The receive side of the interposers: read, recv, recvfrom, recvmsg on
//! SCTP sockets (one record each, see the engine's `inbox.rs`).

use std::os::raw::{c_int, c_void};

use libc::{msghdr, sockaddr, socklen_t};

use super::args::UserMsg;
use super::client;
use super::cmsg;
use super::fdtable::lookup;
use super::interpose::*;
use super::send::{iov_window, iovecs, one_iov};
use crate::runtime::SockId;
use crate::sys::{self, real, set_errno};

/// SCTP is message-based: MSG_WAITALL does not wait for more messages, so it
/// must not make our byte-stream pair wait for a full buffer.
pub(super) const fn recv_flags(flags: c_int) -> c_int {
    flags & !(libc::MSG_WAITALL | libc::MSG_TRUNC)
}

/// Whether a receive with `flags` on `fd` may wait (no MSG_DONTWAIT, the
/// descriptor blocking).
pub(super) fn app_blocking(fd: c_int, flags: c_int) -> bool {
    flags & libc::MSG_DONTWAIT == 0 && !is_nonblocking(fd)
}

/// A read that returned `r` on `fd`: at EOF, an association that ended in
/// error reports it once (ECONNRESET, ETIMEDOUT), as a kernel socket does;
/// after that a blocking read is ENOTCONN and a non-blocking one EAGAIN
/// (Linux's sctp_skb_recv_datagram gives up before sctp_wait_for_packet
/// finds no association).
pub(super) fn at_eof(fd: c_int, r: isize, wanted: usize, blocking: bool) -> isize {
    if r == 0
        && wanted > 0
        && let Some(id) = lookup(fd)
        && let Some(e) = of(id).take_terminal_error(id)
    {
        set_errno(if e == libc::ENOTCONN && !blocking {
            libc::EAGAIN
        } else {
            e
        });
        return -1;
    }
    r
}

/// What one receive got: the byte count (or -1 with errno set), the pair's
/// msg_flags, and the record it read from with whether it reached its end.
pub(super) struct Received {
    pub(super) r: isize,
    flags: c_int,
    record: Option<(crate::runtime::Slice, bool)>,
}

/// One receive on an SCTP socket: at most the rest of the current record
/// (message or notification), so message boundaries hold; see the engine's
/// `inbox.rs`. `m` carries the caller's iovecs; its name and control
/// fields are ignored.
///
/// `blocking` is whether the application's call may wait (the daemon
/// receives for it with MSG_DONTWAIT): a blocking receive on a socket with
/// no association that is not listening is ENOTCONN rather than a wait
/// for nothing (sctp_wait_for_packet).
///
/// # Safety
/// `m` must describe valid, writable iovecs.
pub(super) unsafe fn recv_record(
    fd: c_int,
    id: SockId,
    m: &msghdr,
    flags: c_int,
    blocking: bool,
) -> Received {
    // (A forked child's copy of the engine is its parent's as it was at
    // fork: another thread may have held a turn then.)
    let side = if of(id).is_foreign() {
        None
    } else {
        of(id).gates(id)
    };
    let Some(side) = side else {
        // SAFETY: per this function's contract.
        return unsafe { recv_unserialized(fd, id, m, flags) };
    };
    // One receiver at a time takes a record, without waiting; a blocking
    // call waits for data outside its turn, as Linux's sctp_recvmsg
    // releases the socket lock while it sleeps.
    let may_wait = app_blocking(fd, flags);
    loop {
        {
            let _turn = side.app_recv.lock().unwrap_or_else(|e| e.into_inner());
            // Programs reading on their own (sys::sockpage) take turns too.
            let _shared = side.shared_recv_turn();
            // SAFETY: per this function's contract.
            let got = unsafe { recv_unserialized(fd, id, m, flags | libc::MSG_DONTWAIT) };
            let again =
                got.r < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EAGAIN);
            if again && blocking && of(id).nothing_to_wait_for(id) {
                // The engine may have delivered the last data (or the EOF)
                // between that read and the check (an association that
                // ended in the accept queue, handed over by accept): one
                // more read decides; nothing then is nothing for good.
                // SAFETY: per this function's contract.
                let got = unsafe { recv_unserialized(fd, id, m, flags | libc::MSG_DONTWAIT) };
                if got.r < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EAGAIN)
                {
                    set_errno(libc::ENOTCONN);
                }
                return got;
            }
            if !(may_wait && again) {
                return got;
            }
        }
        if let Some(r) = wait_readable(fd, flags) {
            return r;
        }
    }
}

/// One receive, as [`recv_record`] without taking turns.
///
/// # Safety
/// As [`recv_record`].
unsafe fn recv_unserialized(fd: c_int, id: SockId, m: &msghdr, flags: c_int) -> Received {
    let e = of(id);
    // A listening one-to-one socket has nothing to read (Linux's
    // sctp_recvmsg: ENOTCONN outside ESTABLISHED and the closing states).
    if e.is_listening(id) {
        set_errno(libc::ENOTCONN);
        return Received {
            r: -1,
            flags: 0,
            record: None,
        };
    }
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
                    if !sys::readable_within(fd, 100) {
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
                    if flags & libc::MSG_PEEK == 0 {
                        e.note_read(id);
                    }
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
pub(super) fn wait_readable(fd: c_int, flags: c_int) -> Option<Received> {
    if flags & libc::MSG_DONTWAIT == 0 && sending_shut(fd) {
        return wait_after_shut(fd);
    }
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

/// Whether the program shut `fd` for sending (shutdown(SHUT_WR)): a send
/// of nothing fails with EPIPE then, and does nothing otherwise.
fn sending_shut(fd: c_int) -> bool {
    // SAFETY: a zeroed msghdr is a valid message of no bytes.
    let m: msghdr = unsafe { std::mem::zeroed() };
    // SAFETY: as above; no SIGPIPE.
    let r = unsafe { (real().sendmsg)(fd, &m, libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) };
    r < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EPIPE)
}

/// How long a read after the program's own shutdown(SHUT_WR) waits before
/// its caller asks again whether anything is left to wait for.
const SHUT_SLICE_MS: c_int = 100;

/// A blocking read's wait after the program's own shutdown(SHUT_WR): the end
/// of a graceful association brings no end of file then (Linux keeps the
/// socket unreadable and the read fails with ENOTCONN), so the wait lasts
/// a slice and the caller looks again. SO_RCVTIMEO, when set, is the wait
/// (EAGAIN after it); a signal is EINTR unless every handler restarts
/// calls (SA_RESTART), as the kernel would restart the read.
fn wait_after_shut(fd: c_int) -> Option<Received> {
    let mut tv = libc::timeval {
        tv_sec: 0,
        tv_usec: 0,
    };
    let mut len = std::mem::size_of::<libc::timeval>() as libc::socklen_t;
    // SAFETY: SO_RCVTIMEO into our timeval of `len` bytes.
    let got = unsafe {
        (real().getsockopt)(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            &mut tv as *mut _ as *mut c_void,
            &mut len,
        )
    };
    let timeo_ms = if got == 0 {
        (tv.tv_sec * 1000 + tv.tv_usec / 1000).clamp(0, i64::from(c_int::MAX)) as c_int
    } else {
        0
    };
    let mut p = [libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }];
    let wait = if timeo_ms > 0 {
        timeo_ms
    } else {
        SHUT_SLICE_MS
    };
    let fail = |e: c_int| {
        set_errno(e);
        Some(Received {
            r: -1,
            flags: 0,
            record: None,
        })
    };
    match sys::poll(&mut p, wait) {
        Ok(0) if timeo_ms > 0 => fail(libc::EAGAIN),
        Ok(_) => None,
        Err(e) => match e.raw_os_error().unwrap_or(libc::EINTR) {
            libc::EINTR if all_handlers_restart() => None,
            e => fail(e),
        },
    }
}

/// Whether every signal with a handler has SA_RESTART.
fn all_handlers_restart() -> bool {
    (1..libc::SIGRTMAX()).all(|sig| {
        // SAFETY: reading the disposition into our zeroed struct.
        let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        if unsafe { libc::sigaction(sig, std::ptr::null(), &mut old) } != 0 {
            return true;
        }
        let handled = old.sa_sigaction != libc::SIG_DFL && old.sa_sigaction != libc::SIG_IGN;
        !handled || old.sa_flags & libc::SA_RESTART != 0
    })
}

/// read, recv and recvfrom forwarded to the shared engine as one recvmsg.
///
/// # Safety
/// `buf` covers `n` writable bytes; `addr`/`alen` as for recvfrom(2).
unsafe fn remote_recv(
    fd: c_int,
    buf: *mut c_void,
    n: usize,
    flags: c_int,
    addr: *mut sockaddr,
    alen: *mut socklen_t,
) -> isize {
    let mut iov = libc::iovec {
        iov_base: buf,
        iov_len: n,
    };
    let mut m = one_iov(&mut iov);
    if !addr.is_null() && !alen.is_null() {
        m.msg_name = addr as *mut c_void;
        match crate::usermem::get(alen) {
            Ok(n) => m.msg_namelen = n,
            Err(e) => {
                set_errno(e);
                return -1;
            }
        }
    }
    if m.msg_name.is_null() {
        return client::recv_local(fd, &mut m, &iov, flags);
    }
    let r = client::recvmsg(fd, &mut m, flags);
    if r >= 0 && !m.msg_name.is_null() && crate::usermem::put(alen, m.msg_namelen).is_err() {
        set_errno(libc::EFAULT);
        return -1;
    }
    r
}

/// A receive into one buffer (read, recv, recvfrom).
///
/// # Safety
/// `buf` covers `n` writable bytes.
pub(super) unsafe fn recv_one(
    fd: c_int,
    id: SockId,
    buf: *mut c_void,
    n: usize,
    flags: c_int,
    blocking: bool,
) -> Received {
    let mut iov = libc::iovec {
        iov_base: buf,
        iov_len: n,
    };
    let m = one_iov(&mut iov);
    // SAFETY: `m` describes the caller's buffer.
    unsafe { recv_record(fd, id, &m, flags, blocking) }
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
    if client::remote() {
        // SAFETY: as for read(2).
        return unsafe { remote_recv(fd, buf, n, 0, std::ptr::null_mut(), std::ptr::null_mut()) };
    }
    let blocking = app_blocking(fd, 0);
    // SAFETY: the caller's buffer.
    let got = unsafe { recv_one(fd, id, buf, n, 0, blocking) };
    at_eof(fd, got.r, n, blocking)
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
    if client::remote() {
        // SAFETY: as for recv(2).
        return unsafe {
            remote_recv(
                fd,
                buf,
                n,
                flags,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
    }
    let blocking = app_blocking(fd, flags);
    // SAFETY: the caller's buffer.
    let got = unsafe { recv_one(fd, id, buf, n, flags, blocking) };
    at_eof(fd, got.r, n, blocking)
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
    if client::remote() {
        // SAFETY: as for recvfrom(2).
        return unsafe { remote_recv(fd, buf, n, flags, addr, alen) };
    }
    let blocking = app_blocking(fd, flags);
    // SAFETY: the caller's buffer.
    let got = unsafe { recv_one(fd, id, buf, n, flags, blocking) };
    if got.r >= 0 {
        let peer = match &got.record {
            Some((slice, _)) => slice.meta.peer,
            None => of(id).names(id).and_then(|(_, p)| p),
        };
        // The address as the kernel's move_addr_to_user gives it (EFAULT
        // after the data was taken, as on Linux).
        if !addr.is_null()
            // SAFETY: checked copies into the caller's buffers.
            && let Err(e) = unsafe { write_addr(peer, addr, alen) }
        {
            set_errno(e);
            return -1;
        }
    }
    at_eof(fd, got.r, n, blocking)
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
    if client::remote() {
        return client::recvmsg(fd, msg, flags);
    }
    // SAFETY: as for this function.
    unsafe { recvmsg_as(fd, id, msg, flags, app_blocking(fd, flags)) }
}

/// recvmsg on an SCTP socket, for a call that may wait (`blocking`) or
/// not; the daemon receives with MSG_DONTWAIT for programs that wait on
/// their own descriptor.
///
/// # Safety
/// As for recvmsg(2).
pub(super) unsafe fn recvmsg_as(
    fd: c_int,
    id: SockId,
    msg: *mut msghdr,
    flags: c_int,
    blocking: bool,
) -> isize {
    // The header, its iovecs and room for name and control, copied in
    // (EFAULT); they go back once the message is read.
    let mut um = match UserMsg::for_recv(msg) {
        Ok(u) => u,
        Err(e) => {
            set_errno(e);
            return -1;
        }
    };
    let m = um.hdr;
    // SAFETY: our copy of the caller's iovecs.
    let got = unsafe { recv_record(fd, id, &m, flags, blocking) };
    if let Some((slice, eor)) = &got.record {
        let wants = of(id).recv_options(id);
        // SAFETY: `um.hdr` points at our name and control buffers.
        unsafe { cmsg::fill_recv(&mut um.hdr, slice, *eor, wants, got.flags) };
        return match um.finish_recv(msg) {
            Ok(()) => got.r,
            Err(e) => {
                set_errno(e);
                -1
            }
        };
    }
    if got.r >= 0 {
        let peer = of(id).names(id).and_then(|(_, p)| p);
        let out = &mut um.hdr;
        if !out.msg_name.is_null() {
            let mut nl = out.msg_namelen;
            // SAFETY: our name buffer of msg_namelen bytes.
            if let Err(e) = unsafe { write_addr(peer, out.msg_name as *mut sockaddr, &mut nl) } {
                set_errno(e);
                return -1;
            }
            out.msg_namelen = nl;
        }
        out.msg_controllen = 0;
        out.msg_flags = got.flags;
        if let Err(e) = um.finish_recv(msg) {
            set_errno(e);
            return -1;
        }
    }
    let total: usize = unsafe { iovecs(&m) }.iter().map(|v| v.iov_len).sum();
    at_eof(fd, got.r, total, blocking)
}
