//! The library's side of the shared engine: the interposed calls forwarded
//! as requests (see `crate::ipc`; the connection itself is `daemon.rs`). Waiting (accept, receive, connect) happens
//! here on the program's own descriptor, so signals interrupt it with EINTR
//! and SO_RCVTIMEO applies as on a kernel socket; the daemon is only asked
//! once there is something to take.

use std::os::raw::{c_int, c_void};

use libc::{msghdr, sockaddr, socklen_t};

use super::args::iovecs_of;
use super::fdtable::insert;
use super::interpose::{
    SCTP_SOCKOPT_CONNECTX3, SCTP_SOCKOPT_PEELOFF, SCTP_SOCKOPT_PEELOFF_FLAGS, SOL_SCTP,
};
use crate::ipc::transport::{connect_abstract, peer_cred, socket_inode};
use crate::ipc::{Request, Response};
use crate::runtime::{SockId, is_many_id};
use crate::sys::{self, real, set_errno};
use crate::usermem;

pub use super::daemon::{call, daemon_name, remote, tell};
use super::daemon::{exchange, ours};

/// The result of a forwarded call as a C return value, errno set.
fn ret(r: &Response) -> c_int {
    if r.ret < 0 {
        set_errno(r.errno);
        -1
    } else {
        r.ret as c_int
    }
}

fn fail(e: c_int) -> c_int {
    set_errno(e);
    -1
}

/// A descriptor the daemon handed over: recorded as socket `id`, with
/// close-on-exec as the caller asked.
fn take_new(got: Option<c_int>, id: SockId, cloexec: bool) -> Result<c_int, c_int> {
    let nfd = got.ok_or(libc::EIO)?;
    if !cloexec {
        // SAFETY: F_SETFD on the descriptor just received.
        unsafe { (real().fcntl)(nfd, libc::F_SETFD, 0) };
    }
    if !insert(nfd, id) {
        sys::close(nfd);
        return Err(libc::EMFILE);
    }
    Ok(nfd)
}

/// socket(2) for SCTP.
pub fn socket(domain: c_int, ty: c_int, protocol: c_int) -> c_int {
    warn_config_once();
    let settings = crate::runtime::settings_text().into_bytes();
    let req = Request::Socket {
        domain,
        ty,
        protocol,
        settings,
    };
    match call(&req, None) {
        Ok((r, got)) if r.ret >= 0 => {
            take_new(got, r.id, ty & libc::SOCK_CLOEXEC != 0).unwrap_or_else(fail)
        }
        Ok((r, _)) => ret(&r),
        Err(e) => fail(e),
    }
}

/// Settings the daemon reads are checked here too, so that a mistake is
/// reported to the program that made it and not only in the daemon's log.
fn warn_config_once() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(crate::runtime::report_bad_settings);
}

/// A request about socket `fd`, the answer as a C return value.
fn simple(fd: c_int, req: Request) -> c_int {
    match call(&req, Some(fd)) {
        Ok((r, _)) => ret(&r),
        Err(e) => fail(e),
    }
}

/// bind(2).
///
/// # Safety
/// `addr` valid for `len` bytes or null.
pub unsafe fn bind(fd: c_int, addr: *const sockaddr, len: socklen_t) -> c_int {
    match super::interpose::addr_arg(addr, len) {
        Ok(addr) => simple(fd, Request::Bind { addr }),
        Err(e) => fail(e),
    }
}

/// ioctl(FIONREAD): the length of the next message.
pub fn bytes_ready(fd: c_int) -> Result<c_int, c_int> {
    match call(&Request::BytesReady, Some(fd)) {
        Ok((r, _)) if r.ret >= 0 => Ok(r.ret as c_int),
        Ok((r, _)) => Err(r.errno),
        Err(e) => Err(e),
    }
}

/// shutdown(2).
pub fn shutdown(fd: c_int, how: c_int) -> c_int {
    simple(fd, Request::Shutdown { how })
}

/// listen(2).
pub fn listen(fd: c_int, backlog: c_int) -> c_int {
    simple(fd, Request::Listen { backlog })
}

/// connect(2): the handshake is awaited here, on the program's descriptor.
///
/// # Safety
/// `addr` valid for `len` bytes or null.
pub unsafe fn connect_socket(
    fd: c_int,
    id: SockId,
    addr: *const sockaddr,
    len: socklen_t,
) -> c_int {
    let addr = match super::interpose::addr_arg(addr, len) {
        Ok(a) => a,
        Err(e) => return fail(e),
    };
    let r = match call(&Request::Connect { addr }, Some(fd)) {
        Ok((r, _)) => r,
        Err(e) => return fail(e),
    };
    if r.ret < 0
        && r.errno == libc::EINPROGRESS
        && !is_many_id(id)
        && !super::interpose::is_nonblocking(fd)
    {
        if let Err(e) = super::interpose::wait_connected(fd) {
            return fail(e);
        }
        return simple(fd, Request::ConnectDone);
    }
    ret(&r)
}

/// accept4(2): waits on the listener's own descriptor, then takes one.
///
/// # Safety
/// `addr`/`len` as for accept(2).
pub unsafe fn accept(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t, flags: c_int) -> c_int {
    let room = if addr.is_null() {
        0
    } else {
        match usermem::get(len) {
            Ok(n) => n,
            Err(e) => return fail(e),
        }
    };
    loop {
        let (r, got) = match call(
            &Request::Accept {
                flags,
                addrlen: room,
            },
            Some(fd),
        ) {
            Ok(x) => x,
            Err(e) => return fail(e),
        };
        if r.ret >= 0 {
            let nfd = match take_new(got, r.id, flags & libc::SOCK_CLOEXEC != 0) {
                Ok(n) => n,
                Err(e) => return fail(e),
            };
            if !addr.is_null() && put_name(&r, addr, len).is_err() {
                // As Linux: the new socket is released, the caller gets EFAULT.
                // SAFETY: our own close interposer on the descriptor just made.
                unsafe { super::fds::close(nfd) };
                return fail(libc::EFAULT);
            }
            return nfd;
        }
        if r.errno != libc::EAGAIN || super::interpose::is_nonblocking(fd) {
            return ret(&r);
        }
        if let Err(e) = wait_in(fd, 0) {
            return fail(e);
        }
    }
}

/// Waits until `fd` is readable as a blocking read would (signals give
/// EINTR, SO_RCVTIMEO gives EAGAIN), without taking anything.
pub(super) fn wait_in(fd: c_int, flags: c_int) -> Result<(), c_int> {
    match super::recv::wait_readable(fd, flags) {
        Some(got) if got.r < 0 => Err(std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO)),
        _ => Ok(()),
    }
}

/// Writes an address the daemon returned into the caller's buffers (at
/// most the room `*len` says), and its full length into `*len`.
/// As the kernel's move_addr_to_user: a length that cannot be read, or an
/// address that cannot be written, is EFAULT.
fn put_name(r: &Response, addr: *mut sockaddr, len: *mut socklen_t) -> Result<(), c_int> {
    let room = usermem::get(len)?;
    if (room as c_int) < 0 {
        return Err(libc::EINVAL);
    }
    let n = (room as usize).min(r.name.len());
    if n > 0 {
        usermem::write(addr as *mut c_void, &r.name[..n])?;
    }
    usermem::put(len, r.namelen)
}

/// getsockname (peer false) / getpeername (peer true).
///
/// # Safety
/// `addr`/`len` as for getsockname(2).
pub unsafe fn name(fd: c_int, peer: bool, addr: *mut sockaddr, len: *mut socklen_t) -> c_int {
    let addrlen = match usermem::get(len) {
        Ok(n) => n,
        Err(e) => return fail(e),
    };
    match call(&Request::Name { peer, addrlen }, Some(fd)) {
        Ok((r, _)) => {
            if r.ret >= 0
                && let Err(e) = put_name(&r, addr, len)
            {
                return fail(e);
            }
            ret(&r)
        }
        Err(e) => fail(e),
    }
}

/// getsockopt(2).
///
/// # Safety
/// As for getsockopt(2).
pub unsafe fn getsockopt(
    fd: c_int,
    level: c_int,
    name: c_int,
    val: *mut c_void,
    len: *mut socklen_t,
) -> c_int {
    let room = match usermem::get(len) {
        Ok(n) => (n as usize).min(1 << 20),
        Err(e) => return fail(e),
    };
    let mut sent = match usermem::read(val, room) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let connectx3 = level == SOL_SCTP && name == SCTP_SOCKOPT_CONNECTX3 && sent.len() >= 16;
    if connectx3 {
        // struct sctp_getaddrs_old { assoc_id; addr_num (bytes); addrs * }:
        // the addresses go in place of the pointer.
        let bytes = i32::from_ne_bytes([sent[4], sent[5], sent[6], sent[7]]).max(0) as usize;
        let mut p = [0u8; 8];
        p.copy_from_slice(&sent[8..16]);
        let ptr = usize::from_ne_bytes(p) as *const c_void;
        let addrs = match usermem::read(ptr, bytes.min(1 << 16)) {
            Ok(a) => a,
            Err(e) => return fail(e),
        };
        sent.truncate(8);
        sent.extend_from_slice(&addrs);
    }
    let (r, got) = match call(
        &Request::GetOpt {
            level,
            name,
            val: sent,
        },
        Some(fd),
    ) {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    let mut data = r.data.clone();
    let peeloff =
        level == SOL_SCTP && (name == SCTP_SOCKOPT_PEELOFF || name == SCTP_SOCKOPT_PEELOFF_FLAGS);
    let mut result = None;
    if r.ret >= 0 && peeloff && data.len() >= 8 {
        let flags = if data.len() >= 12 {
            i32::from_ne_bytes([data[8], data[9], data[10], data[11]])
        } else {
            0
        };
        match take_new(got, r.id, flags & libc::SOCK_CLOEXEC != 0) {
            Ok(nfd) => {
                data[4..8].copy_from_slice(&nfd.to_ne_bytes());
                // The new descriptor is also the call's result (as Linux).
                result = Some(nfd);
            }
            Err(e) => return fail(e),
        }
    }
    let n = if connectx3 { 4 } else { data.len().min(room) };
    if usermem::write(val, &data[..n]).is_err()
        || (!connectx3 && r.ret >= 0 && usermem::put(len, r.namelen).is_err())
    {
        return fail(libc::EFAULT);
    }
    result.unwrap_or_else(|| ret(&r))
}

/// setsockopt(2).
///
/// # Safety
/// As for setsockopt(2).
pub unsafe fn setsockopt(
    fd: c_int,
    level: c_int,
    name: c_int,
    val: *const c_void,
    len: socklen_t,
) -> c_int {
    match usermem::read(val, (len as usize).min(1 << 20)) {
        Ok(val) => simple(fd, Request::SetOpt { level, name, val }),
        Err(e) => fail(e),
    }
}

/// sendmsg(2), and send/sendto/write through it.
pub fn sendmsg(fd: c_int, msg: *const msghdr, flags: c_int) -> isize {
    let fast = super::fdtable::lookup(fd).and_then(|id| {
        let m = usermem::get(msg).ok()?;
        let mut iov = iovecs_of(&m).ok()?;
        super::fastsend::try_send(fd, id, &m, &mut iov, flags)
    });
    if let Some(r) = fast {
        return r;
    }
    send_slow(fd, msg, flags)
}

/// send, sendto without an address, write: the header and its one iovec
/// are ours, so the fast path needs no checked copies of them.
pub fn send_local(fd: c_int, m: &msghdr, iov: &mut libc::iovec, flags: c_int) -> isize {
    let fast = super::fdtable::lookup(fd)
        .and_then(|id| super::fastsend::try_send(fd, id, m, std::slice::from_mut(iov), flags));
    match fast {
        Some(r) => r,
        None => send_slow(fd, m, flags),
    }
}

/// sendmsg through the daemon.
fn send_slow(fd: c_int, msg: *const msghdr, flags: c_int) -> isize {
    let gathered = (|| {
        let m = usermem::get(msg)?;
        let data = super::args::gather(&iovecs_of(&m)?)?;
        let name = if m.msg_name.is_null() {
            Vec::new()
        } else {
            usermem::read(m.msg_name, (m.msg_namelen as usize).min(128))?
        };
        let control = if m.msg_control.is_null() {
            Vec::new()
        } else {
            usermem::read(m.msg_control, m.msg_controllen.min(1 << 16))?
        };
        Ok((data, name, control))
    })();
    let (data, name, control) = match gathered {
        Ok(g) => g,
        Err(e) => return fail(e) as isize,
    };
    match call(
        &Request::Send {
            flags,
            name,
            control,
            data,
        },
        Some(fd),
    ) {
        Ok((r, _)) => {
            if r.ret < 0 && r.errno == libc::EPIPE && flags & libc::MSG_NOSIGNAL == 0 {
                // The kernel raises SIGPIPE in the sender; the daemon cannot.
                // SAFETY: plain libc call.
                unsafe { libc::raise(libc::SIGPIPE) };
            }
            ret(&r) as isize
        }
        Err(e) => fail(e) as isize,
    }
}

/// read, recv, recvfrom without an address: the header and its one iovec
/// are ours, so the fast path needs no checked copies of them.
pub fn recv_local(fd: c_int, m: &mut msghdr, iov: &libc::iovec, flags: c_int) -> isize {
    let fast = super::fdtable::lookup(fd)
        .and_then(|id| super::fastrecv::try_recv(fd, id, m, std::slice::from_ref(iov), flags));
    match fast {
        Some(f) => f.r,
        None => recv_checked(fd, m, flags, false),
    }
}

/// recvmsg(2), and read/recv/recvfrom through it: waits on the program's
/// descriptor, then takes one message (or the next piece of one).
pub fn recvmsg(fd: c_int, msg: *mut msghdr, flags: c_int) -> isize {
    recv_checked(fd, msg, flags, true)
}

/// recvmsg with the header copied in (EFAULT), trying the fast path first
/// when `fast`.
fn recv_checked(fd: c_int, msg: *mut msghdr, flags: c_int, fast: bool) -> isize {
    let (m, iov) = match usermem::get(msg as *const msghdr).and_then(|m| Ok((m, iovecs_of(&m)?))) {
        Ok(x) => x,
        Err(e) => return fail(e) as isize,
    };
    let len: usize = iov.iter().map(|v| v.iov_len).sum();
    let req = Request::Recv {
        flags,
        len: len.min(1 << 20) as u32,
        namelen: if m.msg_name.is_null() {
            0
        } else {
            m.msg_namelen
        },
        controllen: if m.msg_control.is_null() {
            0
        } else {
            m.msg_controllen.min(1 << 16) as u32
        },
    };
    let fast = super::fdtable::lookup(fd)
        .filter(|_| fast)
        .and_then(|id| super::fastrecv::try_recv(fd, id, &m, &iov, flags));
    if let Some(f) = fast {
        if f.r >= 0 {
            let done = match &f.record {
                // The record's name and ancillary data.
                Some((slice, eor, wants)) => {
                    // (The header and iovecs read above.)
                    let mut um = super::args::UserMsg::for_recv_of(m, iov);
                    // SAFETY: `um.hdr` points at our name and control buffers.
                    unsafe { super::cmsg::fill_recv(&mut um.hdr, slice, *eor, *wants, f.flags) };
                    um.finish_recv(msg)
                }
                None => {
                    let at = field::<c_int>(msg, std::mem::offset_of!(msghdr, msg_flags));
                    usermem::put(at, f.flags)
                }
            };
            if let Err(e) = done {
                return fail(e) as isize;
            }
        }
        return f.r;
    }
    let blocking = super::recv::app_blocking(fd, flags);
    let r = loop {
        let r = match call(&req, Some(fd)) {
            Ok((r, _)) => r,
            Err(e) => return fail(e) as isize,
        };
        if r.ret >= 0 || r.errno != libc::EAGAIN || !blocking {
            break r;
        }
        if let Err(e) = wait_in(fd, flags) {
            return fail(e) as isize;
        }
    };
    if r.ret < 0 {
        return ret(&r) as isize;
    }
    match deliver(&r, msg, &m, &iov) {
        Ok(()) => r.ret as isize,
        Err(e) => fail(e) as isize,
    }
}

/// Writes what a receive got into the program's buffers and header.
fn deliver(r: &Response, msg: *mut msghdr, m: &msghdr, iov: &[libc::iovec]) -> Result<(), c_int> {
    let mut at = 0;
    for v in iov {
        if at >= r.data.len() {
            break;
        }
        let n = v.iov_len.min(r.data.len() - at);
        usermem::write(v.iov_base, &r.data[at..at + n])?;
        at += n;
    }
    let mut flags = r.flags;
    if !m.msg_name.is_null() {
        let n = (m.msg_namelen as usize).min(r.name.len());
        usermem::write(m.msg_name, &r.name[..n])?;
        usermem::put(
            field::<socklen_t>(msg, std::mem::offset_of!(msghdr, msg_namelen)),
            r.namelen,
        )?;
    }
    let mut clen = 0;
    if !m.msg_control.is_null() {
        clen = m.msg_controllen.min(r.control.len());
        if clen < r.control.len() {
            flags |= libc::MSG_CTRUNC;
        }
        // Control data that cannot be written is left out (Linux's put_cmsg).
        if usermem::write(m.msg_control, &r.control[..clen]).is_err() {
            clen = 0;
        }
    }
    usermem::put(
        field::<usize>(msg, std::mem::offset_of!(msghdr, msg_controllen)),
        clen,
    )?;
    usermem::put(
        field::<c_int>(msg, std::mem::offset_of!(msghdr, msg_flags)),
        flags,
    )
}

/// The address of a field of the program's message header (not dereferenced).
fn field<T>(msg: *mut msghdr, offset: usize) -> *mut T {
    (msg as *mut u8).wrapping_add(offset) as *mut T
}

/// The process closed a descriptor of socket `id`.
pub fn closed(id: SockId) {
    let _ = call(&Request::Closed { id }, None);
}

/// At load (after exec): SCTP sockets inherited from the process that
/// exec'd this one are recognised by asking the daemon about every Unix
/// socket whose peer is the daemon.
pub fn adopt_inherited() {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    let fds: Vec<c_int> = dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    let mut candidates: Vec<(c_int, u32)> = Vec::new();
    for fd in fds {
        if super::fdtable::lookup(fd).is_some() || socket_inode(fd).is_none() {
            continue;
        }
        if let Some((pid, _)) = peer_cred(fd) {
            candidates.push((fd, pid));
        }
    }
    if candidates.is_empty() {
        return;
    }
    let Some(c) = connect_abstract(&daemon_name())
        .ok()
        .and_then(|c| ours(c).ok())
    else {
        return;
    };
    if let Some((daemon, _)) = peer_cred(c) {
        for (fd, _) in candidates.into_iter().filter(|&(_, p)| p == daemon) {
            if let Ok((r, _)) = exchange(c, &Request::Identify, Some(fd))
                && r.ret >= 0
                && r.id != 0
            {
                insert(fd, r.id);
            }
        }
    }
    sys::close(c);
}

/// `sctpshim stat`: the daemon's listing, or None when none runs.
pub fn stat() -> Option<String> {
    let c = ours(connect_abstract(&daemon_name()).ok()?).ok()?;
    let r = exchange(c, &Request::Stat, None).ok();
    sys::close(c);
    r.map(|(r, _)| String::from_utf8_lossy(&r.data).into_owned())
}
