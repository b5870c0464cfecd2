//! The library's side of the shared engine: where the daemon is, starting
//! it, one connection per thread, and the interposed calls forwarded as
//! requests (see `crate::ipc`). Waiting (accept, receive, connect) happens
//! here on the program's own descriptor, so signals interrupt it with EINTR
//! and SO_RCVTIMEO applies as on a kernel socket; the daemon is only asked
//! once there is something to take.

use std::cell::RefCell;
use std::os::raw::{c_int, c_void};
use std::os::unix::ffi::OsStrExt;

use libc::{msghdr, sockaddr, socklen_t};
use once_cell::sync::OnceCell;

use super::args::iovecs_of;
use super::fdtable::insert;
use super::interpose::{
    SCTP_SOCKOPT_CONNECTX3, SCTP_SOCKOPT_PEELOFF, SCTP_SOCKOPT_PEELOFF_FLAGS, SOL_SCTP,
};
use crate::ipc::transport::{connect_abstract, peer_cred, recv_frame, send_frame, socket_inode};
use crate::ipc::{Request, Response};
use crate::ownfds;
use crate::runtime::{SockId, is_many_id};
use crate::sys::{self, real, set_errno};
use crate::usermem;

/// Whether SCTP sockets of this process live in the shared daemon
/// (SCTPSHIM_ENGINE=daemon, the default) rather than in an engine thread
/// of the process (SCTPSHIM_ENGINE=thread).
pub fn remote() -> bool {
    static REMOTE: OnceCell<bool> = OnceCell::new();
    !super::server::is_daemon()
        && *REMOTE.get_or_init(|| match std::env::var("SCTPSHIM_ENGINE").as_deref() {
            Ok("thread") => false,
            Ok("daemon") => true,
            _ => DEFAULT_REMOTE,
        })
}

/// The placement when SCTPSHIM_ENGINE is not set.
const DEFAULT_REMOTE: bool = true;

/// The daemon's abstract socket name: per user (abstract names are already
/// per network namespace) and per installation. Processes with different
/// SCTPSHIM_* settings share it: their settings travel with their sockets.
pub fn daemon_name() -> String {
    // Once per process: a rebuild while it runs must not move its later
    // connections (new threads, a forked child) to another daemon.
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(compute_daemon_name).clone()
}

fn compute_daemon_name() -> String {
    // The daemon of this installation (another build's may speak another
    // version of the protocol), and SCTPSHIM_INSTANCE for a separate one.
    // The binary's size and modification time are part of it, so that a
    // rebuilt or upgraded installation starts its own daemon (the old one
    // exits when idle).
    let exe = daemon_path()
        .map(|p| {
            let stamp = std::fs::metadata(p.to_string_lossy().as_ref())
                .and_then(|m| Ok((m.len(), m.modified()?)))
                .map(|(n, t)| format!("{n}:{t:?}"))
                .unwrap_or_default();
            format!("{}:{stamp}", p.to_string_lossy())
        })
        .unwrap_or_default();
    let instance = std::env::var("SCTPSHIM_INSTANCE").unwrap_or_default();
    // FNV-1a: stable across builds and processes.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in exe.bytes().chain([0]).chain(instance.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    // SAFETY: plain syscall.
    let uid = unsafe { libc::getuid() };
    format!("sctpshimd.{uid}.{h:016x}")
}

/// This thread's connection to the daemon, and the process it belongs to
/// (after fork the child makes its own).
struct Conn {
    fd: c_int,
    pid: u32,
}

impl Drop for Conn {
    fn drop(&mut self) {
        if self.fd >= 0 && self.pid == std::process::id() {
            sys::close(self.fd);
        }
    }
}

thread_local! {
    static CONN: RefCell<Conn> = const { RefCell::new(Conn { fd: -1, pid: 0 }) };
}

/// The path of sctpshimd: SCTPSHIM_DAEMON, else beside this library.
fn daemon_path() -> Option<std::ffi::CString> {
    if let Some(p) = std::env::var_os("SCTPSHIM_DAEMON") {
        return std::ffi::CString::new(std::os::unix::ffi::OsStrExt::as_bytes(p.as_os_str())).ok();
    }
    // SAFETY: a zeroed Dl_info is valid; dladdr fills it for an address of ours.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: any address inside this library will do.
    if unsafe { libc::dladdr(daemon_path as *const c_void, &mut info) } == 0
        || info.dli_fname.is_null()
    {
        return None;
    }
    // SAFETY: dladdr returns a NUL-terminated path.
    let lib = unsafe { std::ffi::CStr::from_ptr(info.dli_fname) }
        .to_str()
        .ok()?;
    // Linked into a program (sctpshimd, sctpshim) dladdr may give the name it
    // was started by: the canonical path is the same whoever asks.
    let lib = match std::fs::canonicalize(lib) {
        Ok(p) => p,
        Err(_) => std::env::current_exe().ok()?,
    };
    let dir = lib.parent()?;
    std::ffi::CString::new(dir.join("sctpshimd").to_str()?).ok()
}

/// Starts sctpshimd (LD_PRELOAD removed, output to its log) and waits for
/// the starter process, which exits once the daemon listens.
fn spawn_daemon() {
    let Some(path) = daemon_path() else { return };
    if std::fs::metadata(std::ffi::OsStr::from_bytes(path.as_bytes())).is_err() {
        eprintln!(
            "sctpshim: {} not found: install it beside the library, or set SCTPSHIM_ENGINE=thread",
            path.to_string_lossy()
        );
        return;
    }
    let env: Vec<std::ffi::CString> = std::env::vars_os()
        .filter(|(k, _)| k != "LD_PRELOAD")
        .filter_map(|(k, v)| {
            let mut b = std::os::unix::ffi::OsStrExt::as_bytes(k.as_os_str()).to_vec();
            b.push(b'=');
            b.extend_from_slice(std::os::unix::ffi::OsStrExt::as_bytes(v.as_os_str()));
            std::ffi::CString::new(b).ok()
        })
        .collect();
    let mut envp: Vec<*mut libc::c_char> = env.iter().map(|c| c.as_ptr() as *mut _).collect();
    envp.push(std::ptr::null_mut());
    let argv = [path.as_ptr() as *mut libc::c_char, std::ptr::null_mut()];
    // SAFETY: plain syscall.
    let uid = unsafe { libc::getuid() };
    let log = std::env::var("SCTPSHIM_DAEMON_LOG")
        .unwrap_or_else(|_| format!("/tmp/sctpshimd-{uid}.log"));
    let Ok(log) = std::ffi::CString::new(log) else {
        return;
    };
    let null = c"/dev/null";
    // SAFETY: posix_spawn with file actions and argument/environment arrays
    // that are NULL-terminated and outlive the call; the actions are
    // destroyed afterwards.
    unsafe {
        let mut fa: libc::posix_spawn_file_actions_t = std::mem::zeroed();
        libc::posix_spawn_file_actions_init(&mut fa);
        libc::posix_spawn_file_actions_addopen(&mut fa, 0, null.as_ptr(), libc::O_RDONLY, 0);
        let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND;
        libc::posix_spawn_file_actions_addopen(&mut fa, 1, log.as_ptr(), flags, 0o600);
        libc::posix_spawn_file_actions_adddup2(&mut fa, 1, 2);
        let mut pid: libc::pid_t = 0;
        let r = libc::posix_spawn(
            &mut pid,
            path.as_ptr(),
            &fa,
            std::ptr::null(),
            argv.as_ptr(),
            envp.as_ptr(),
        );
        libc::posix_spawn_file_actions_destroy(&mut fa);
        if r == 0 {
            let mut status = 0;
            while libc::waitpid(pid, &mut status, 0) < 0 && *libc::__errno_location() == libc::EINTR
            {
            }
        }
    }
}

/// A connection to the daemon, starting it when `start` and none answers.
fn connect_daemon(start: bool) -> Result<c_int, c_int> {
    let name = daemon_name();
    let refused =
        |e: &std::io::Error| matches!(e.raw_os_error(), Some(libc::ECONNREFUSED | libc::ENOENT));
    match connect_abstract(&name) {
        Ok(fd) => return ours(fd),
        Err(e) if !start || !refused(&e) => return Err(libc::ECONNREFUSED),
        Err(_) => {}
    }
    spawn_daemon();
    // Another process may be starting it at the same moment: whichever
    // daemon got the name serves both.
    for _ in 0..200 {
        if let Ok(fd) = connect_abstract(&name) {
            return ours(fd);
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    Err(libc::ECONNREFUSED)
}

/// A connection whose other end runs as this user: abstract names have no
/// permissions, so another user could hold ours and would see our data.
fn ours(fd: c_int) -> Result<c_int, c_int> {
    // SAFETY: plain syscall.
    let me = unsafe { libc::getuid() };
    if peer_cred(fd).is_some_and(|(_, uid)| uid == me) {
        return Ok(fd);
    }
    sys::close(fd);
    eprintln!(
        "sctpshim: @{} is held by another user's process: refused",
        daemon_name()
    );
    Err(libc::ECONNREFUSED)
}

/// Sends `req` (with `fd` attached) and waits for the answer. Only a new
/// socket may start the daemon; a daemon that is gone makes every call on
/// existing sockets fail as a reset connection.
pub fn call(req: &Request, fd: Option<c_int>) -> Result<(Response, Option<c_int>), c_int> {
    let start = matches!(req, Request::Socket { .. });
    // A connection of its own, not kept.
    let once = || {
        let c = connect_daemon(start).map_err(|e| if start { e } else { libc::ECONNRESET })?;
        let r = exchange(c, req, fd);
        sys::close(c);
        r
    };
    if ownfds::in_vfork_child() {
        // This memory is the parent's.
        return once();
    }
    // (At thread or process exit the thread's connection may be gone
    // already: calls made by later destructors, an atexit handler's
    // shutdown for one, take their own.)
    CONN.try_with(|cell| {
        let mut conn = cell.borrow_mut();
        let me = std::process::id();
        for attempt in 0..2 {
            if conn.fd < 0 || conn.pid != me {
                if conn.fd >= 0 && conn.pid == me {
                    sys::close(conn.fd);
                }
                // No daemon for a socket it made: it is gone, and so are
                // the socket's associations.
                let c =
                    connect_daemon(start).map_err(|e| if start { e } else { libc::ECONNRESET })?;
                ownfds::claim(c);
                *conn = Conn { fd: c, pid: me };
            }
            match exchange(conn.fd, req, fd) {
                Err(e) if e == libc::ECONNRESET && start && attempt == 0 => {
                    sys::close(conn.fd);
                    conn.fd = -1;
                }
                r => {
                    if r.is_err() {
                        sys::close(conn.fd);
                        conn.fd = -1;
                    }
                    return r;
                }
            }
        }
        Err(libc::ECONNRESET)
    })
    .unwrap_or_else(|_| once())
}

/// Sends `req`, which has no answer, on this thread's connection (made
/// and kept if it has none). Nothing is sent when no daemon answers.
pub fn tell(req: &Request) {
    if ownfds::in_vfork_child() {
        return;
    }
    let _ = CONN.try_with(|cell| {
        let mut conn = cell.borrow_mut();
        let me = std::process::id();
        if conn.fd < 0 || conn.pid != me {
            if conn.fd >= 0 && conn.pid == me {
                sys::close(conn.fd);
            }
            let Ok(c) = connect_daemon(false) else {
                conn.fd = -1;
                return;
            };
            ownfds::claim(c);
            *conn = Conn { fd: c, pid: me };
        }
        if send_frame(conn.fd, &req.encode(), None).is_err() {
            sys::close(conn.fd);
            conn.fd = -1;
        }
    });
}

fn exchange(
    c: c_int,
    req: &Request,
    fd: Option<c_int>,
) -> Result<(Response, Option<c_int>), c_int> {
    send_frame(c, &req.encode(), fd).map_err(|_| libc::ECONNRESET)?;
    let (body, got) = recv_frame(c)
        .map_err(|_| libc::ECONNRESET)?
        .ok_or(libc::ECONNRESET)?;
    match Response::decode(&body) {
        Ok(r) => Ok((r, got)),
        Err(_) => {
            if let Some(g) = got {
                sys::close(g);
            }
            Err(libc::EIO)
        }
    }
}

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
        Some((r, _)) => r,
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
    if let Some((r, out)) = fast {
        if r >= 0 {
            let at = field::<c_int>(msg, std::mem::offset_of!(msghdr, msg_flags));
            if let Err(e) = usermem::put(at, out) {
                return fail(e) as isize;
            }
        }
        return r;
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
