//! The shared engine's side (`sctpshimd`): one engine for every process of
//! a user in a network namespace. Each client connection gets a thread that
//! runs the forwarded socket calls through the same code the interposers
//! run in-process, on a copy of the caller's descriptor that came with the
//! request (so the calls read and write the very socket pair the program
//! holds). The copy is closed before the answer goes back: the engine still
//! sees EOF once the program's last copy is closed.

use std::collections::HashMap;
use std::os::raw::{c_int, c_void};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use libc::{msghdr, sockaddr, socklen_t};

use super::fdtable::{insert, lookup, remove};
use super::interpose::{
    SCTP_SOCKOPT_CONNECTX3, SCTP_SOCKOPT_PEELOFF, SCTP_SOCKOPT_PEELOFF_FLAGS, SOL_SCTP,
    accept_impl, connect_outcome, connect_start,
};
use super::opts::{getsockopt, setsockopt};
use crate::ipc::transport::{listen_abstract, peer_cred, recv_frame, send_frame, socket_inode};
use crate::ipc::{Request, Response};
use crate::runtime::{SockId, engine};
use crate::sys::{self, real};

/// The shared engine's UDP port when SCTPSHIM_UDP_PORT is not set.
const DAEMON_UDP_PORT: u16 = 9899;

/// Set first thing in the daemon: its interposers run the calls here.
static DAEMON: AtomicBool = AtomicBool::new(false);

/// Connections being served.
static CLIENTS: AtomicUsize = AtomicUsize::new(0);

/// True in sctpshimd.
pub fn is_daemon() -> bool {
    DAEMON.load(Ordering::Relaxed)
}

/// Which socket each application end is, by inode, and who made it.
#[derive(Default)]
struct Known {
    by_ino: HashMap<u64, SockId>,
    by_id: HashMap<SockId, (u64, u32)>,
    /// Receivers of one socket take turns: each message goes to one whole.
    readers: HashMap<SockId, Arc<Mutex<()>>>,
}

static KNOWN: Mutex<Option<Known>> = Mutex::new(None);

fn known() -> MutexGuard<'static, Option<Known>> {
    KNOWN.lock().unwrap_or_else(|e| e.into_inner())
}

fn with_known<T>(f: impl FnOnce(&mut Known) -> T) -> T {
    f(known().get_or_insert_with(Known::default))
}

/// The daemon's main: listens on the abstract name of this user and
/// configuration, and serves until idle. Returns the exit status.
pub fn run(foreground: bool) -> i32 {
    DAEMON.store(true, Ordering::Relaxed);
    // SAFETY: ignoring SIGPIPE process-wide; writes to closed pairs and
    // clients report EPIPE instead.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    let name = super::client::daemon_name();
    let lfd = match listen_abstract(&name) {
        Ok(fd) => fd,
        // Another daemon has the name: it serves.
        Err(e) if e.raw_os_error() == Some(libc::EADDRINUSE) => return 0,
        Err(e) => {
            eprintln!("sctpshimd: cannot listen on @{name}: {e}");
            return 1;
        }
    };
    if !foreground {
        // The listening socket exists before the starter's child exits, so
        // the starter's connect succeeds at once; the daemon itself leaves
        // the starter's session and process tree.
        // SAFETY: fork before any thread exists in this process.
        match unsafe { libc::fork() } {
            -1 => return 1,
            0 => {
                // SAFETY: plain syscall.
                unsafe { libc::setsid() };
            }
            // SAFETY: the parent ends without running exit handlers.
            _ => unsafe { libc::_exit(0) },
        }
    }
    // Each socket holds two descriptors here (its pair's end and its
    // shared page): the soft limit goes up to the hard one, as a server
    // of many connections sets it for itself.
    sys::raise_fd_limit();
    eprintln!("sctpshimd: pid {} serving @{name}", std::process::id());
    // A separate instance (tests) leaves 9899 to the default daemon.
    let instance = std::env::var_os("SCTPSHIM_INSTANCE").is_some_and(|v| !v.is_empty());
    crate::runtime::configure_daemon(if instance { 0 } else { DAEMON_UDP_PORT });
    let _ = engine();
    std::thread::Builder::new()
        .name("sctpshimd-gc".into())
        .spawn(collect_garbage)
        .ok();
    let idle_limit = std::env::var("SCTPSHIM_DAEMON_IDLE_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(Duration::from_secs(10), Duration::from_secs);
    let mut idle_since: Option<Instant> = None;
    loop {
        if sys::readable_within(lfd, 1000) {
            accept_client(lfd);
        }
        if CLIENTS.load(Ordering::Acquire) == 0 && engine().is_idle() {
            // The daemon's own clock for its idle time (runtime-level code).
            #[allow(clippy::disallowed_methods)]
            let since = *idle_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= idle_limit {
                eprintln!("sctpshimd: idle, exiting");
                return 0;
            }
        } else {
            idle_since = None;
        }
    }
}

fn accept_client(lfd: c_int) {
    // SAFETY: accept4 without an address.
    let c = unsafe {
        (real().accept4)(
            lfd,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            libc::SOCK_CLOEXEC,
        )
    };
    if c < 0 {
        return;
    }
    // Only the daemon's own user may reach its sockets.
    // SAFETY: plain syscall.
    let me = unsafe { libc::getuid() };
    let Some((pid, uid)) = peer_cred(c).filter(|&(_, uid)| uid == me) else {
        sys::close(c);
        return;
    };
    let _ = uid;
    CLIENTS.fetch_add(1, Ordering::AcqRel);
    let spawned = std::thread::Builder::new()
        .name(format!("sctpshimd-{pid}"))
        .spawn(move || {
            serve(c, pid);
            sys::close(c);
            CLIENTS.fetch_sub(1, Ordering::AcqRel);
        });
    if spawned.is_err() {
        sys::close(c);
        CLIENTS.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One client connection: requests in order until it closes.
fn serve(c: c_int, pid: u32) {
    while let Ok(Some((body, fd, lost))) = recv_frame(c) {
        let (resp, out) = match Request::decode(&body) {
            // The program's descriptor did not come through: this daemon
            // is at its descriptor limit (each socket holds two here).
            Ok(Request::Moved { .. }) if lost => continue,
            Ok(_) if lost => {
                out_of_descriptors(pid);
                (Response::error(libc::ENOBUFS), None)
            }
            // Told, not asked: no answer.
            Ok(Request::Moved { id }) => {
                engine().reader_moved(id);
                if let Some(fd) = fd {
                    sys::close(fd);
                }
                continue;
            }
            Ok(req) => execute(req, fd, pid),
            Err(_) => {
                if let Some(fd) = fd {
                    sys::close(fd);
                }
                (Response::error(libc::EINVAL), None)
            }
        };
        let sent = send_frame(c, &resp.encode(), out);
        if let Some(nfd) = out {
            // The program has its copy now (or never will): ours goes.
            remove(nfd);
            sys::close(nfd);
        }
        if sent.is_err() {
            return;
        }
    }
}

/// Says once a minute that calls fail because the daemon has no
/// descriptor left, and what to do about it.
fn out_of_descriptors(pid: u32) {
    static LAST: Mutex<Option<Instant>> = Mutex::new(None);
    let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
    let t = crate::runtime::now();
    if last.is_some_and(|l| t.saturating_duration_since(l) < Duration::from_secs(60)) {
        return;
    }
    *last = Some(t);
    let (soft, _) = sys::fd_limits();
    eprintln!(
        "sctpshimd: out of descriptors (RLIMIT_NOFILE {soft}, two per SCTP socket): \
         a call of pid {pid} failed with ENOBUFS; raise the hard limit (ulimit -Hn) \
         of the program that starts the daemon"
    );
}

/// Runs one request; a descriptor to hand back comes with the answer.
fn execute(req: Request, fd: Option<c_int>, pid: u32) -> (Response, Option<c_int>) {
    let Some(tmp) = fd else {
        return match req {
            Request::Socket {
                domain,
                ty,
                protocol,
                settings,
            } => {
                // SAFETY: our own interposer, plain integers.
                let nfd = unsafe { super::interpose::socket(domain, ty, protocol) };
                if let Some(id) = (nfd >= 0).then(|| lookup(nfd)).flatten() {
                    engine().apply_settings(id, &String::from_utf8_lossy(&settings));
                }
                adopt(nfd, pid)
            }
            Request::Closed { id } => {
                engine().released(id);
                // A socket whose association is over (a shut pair always
                // reads as hung up) goes as soon as no process holds its
                // end, rather than at the next collection (which also asks
                // /proc/net/unix where the kernel cannot say).
                if engine().is_held_after_shut(id)
                    && app_end(id).and_then(sys::unix_socket_exists) == Some(false)
                {
                    engine().drop_ref(id);
                }
                // SO_LINGER with a timeout: the caller's close() waits here.
                engine().linger_close(id);
                (Response::ok(0), None)
            }
            Request::Stat => {
                let owners = |id: SockId| with_known(|k| k.by_id.get(&id).map(|&(_, p)| p));
                let text = format!(
                    "sctpshimd pid {} @{}\n{}",
                    std::process::id(),
                    super::client::daemon_name(),
                    engine().stat_text(&owners)
                );
                let mut r = Response::ok(0);
                r.data = text.into_bytes();
                (r, None)
            }
            _ => (Response::error(libc::EBADF), None),
        };
    };
    let Some(id) = identify(tmp) else {
        sys::close(tmp);
        return (Response::error(libc::ENOTSOCK), None);
    };
    insert(tmp, id);
    let r = on_socket(req, tmp, id, pid);
    remove(tmp);
    sys::close(tmp);
    r
}

/// The socket behind a descriptor the daemon received.
fn identify(fd: c_int) -> Option<SockId> {
    let ino = socket_inode(fd)?;
    let id = with_known(|k| k.by_ino.get(&ino).copied())?;
    if engine().knows(id) {
        return Some(id);
    }
    with_known(|k| {
        k.by_ino.remove(&ino);
        k.by_id.remove(&id);
    });
    None
}

/// A descriptor the interposers just made in this process (`nfd`, or -1
/// with errno): remembered by inode and handed to the program.
fn adopt(nfd: c_int, pid: u32) -> (Response, Option<c_int>) {
    if nfd < 0 {
        return (Response::error(errno()), None);
    }
    let (Some(id), Some(ino)) = (lookup(nfd), socket_inode(nfd)) else {
        sys::close(nfd);
        return (Response::error(libc::EIO), None);
    };
    with_known(|k| {
        k.by_ino.insert(ino, id);
        k.by_id.insert(id, (ino, pid));
    });
    let mut r = Response::ok(0);
    r.id = id;
    (r, Some(nfd))
}

fn errno() -> c_int {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

fn answer(r: c_int) -> Response {
    if r < 0 {
        Response::error(errno())
    } else {
        Response::ok(r.into())
    }
}

fn answer_result(r: Result<c_int, c_int>) -> Response {
    match r {
        Ok(v) => Response::ok(v.into()),
        Err(e) => Response::error(e),
    }
}

fn ptr_or_null(b: &[u8]) -> *const sockaddr {
    if b.is_empty() {
        std::ptr::null()
    } else {
        b.as_ptr() as *const sockaddr
    }
}

/// A request about socket `id`, whose application end is `fd` here.
fn on_socket(req: Request, fd: c_int, id: SockId, pid: u32) -> (Response, Option<c_int>) {
    let r = match req {
        Request::Identify => {
            let mut r = Response::ok(0);
            r.id = id;
            r
        }
        // SAFETY (bind, listen): our interposers with our own buffers.
        Request::Bind { addr } => {
            answer(unsafe { super::interpose::bind(fd, ptr_or_null(&addr), addr.len() as _) })
        }
        Request::Listen { backlog } => answer(unsafe { super::interpose::listen(fd, backlog) }),
        Request::Shutdown { how } => answer_result(super::interpose::shutdown_socket(fd, id, how)),
        Request::BytesReady => answer_result(super::vectors::bytes_ready(fd, id)),
        Request::SendPage { pair_end } => {
            return match engine().send_page(id, pair_end) {
                Ok(give) => (Response::ok(0), Some(give)),
                Err(e) => (Response::error(e), None),
            };
        }
        Request::Settle { mark, len, written } => {
            let len = usize::try_from(len).unwrap_or(usize::MAX);
            let written = usize::try_from(written).unwrap_or(0).min(len);
            engine().settle_mark(id, crate::runtime::Ticket::placed(mark, len), written);
            Response::ok(0)
        }
        Request::Connect { addr } => answer_result(
            super::interpose::connect_addr(&addr)
                .and_then(|a| connect_start(fd, id, Some(a), true)),
        ),
        Request::ConnectDone => answer_result(connect_outcome(id)),
        Request::Accept { flags, addrlen } => {
            let mut name = vec![0u8; addrlen.min(128) as usize];
            let mut len = name.len() as socklen_t;
            let nfd = accept_impl(
                fd,
                id,
                name.as_mut_ptr() as *mut sockaddr,
                &mut len,
                flags,
                true,
            );
            let (mut r, out) = adopt(nfd, pid);
            name.truncate(len.min(addrlen) as usize);
            r.name = name;
            r.namelen = len;
            return (r, out);
        }
        Request::Name { peer, addrlen } => {
            let mut name = vec![0u8; addrlen.min(128) as usize];
            let mut len = name.len() as socklen_t;
            let p = name.as_mut_ptr() as *mut sockaddr;
            // SAFETY: our interposers with our own buffer of `len` bytes.
            let ret = unsafe {
                if peer {
                    super::interpose::getpeername(fd, p, &mut len)
                } else {
                    super::interpose::getsockname(fd, p, &mut len)
                }
            };
            let mut r = answer(ret);
            name.truncate(len.min(addrlen) as usize);
            r.name = name;
            r.namelen = len;
            r
        }
        Request::GetOpt { level, name, val } => return get_option(fd, level, name, val, pid),
        // SAFETY: our interposer with our own buffer.
        Request::SetOpt { level, name, val } => answer(unsafe {
            setsockopt(
                fd,
                level,
                name,
                val.as_ptr() as *const c_void,
                val.len() as _,
            )
        }),
        Request::Send {
            flags,
            mut name,
            mut control,
            mut data,
        } => {
            let mut iov = libc::iovec {
                iov_base: data.as_mut_ptr() as *mut c_void,
                iov_len: data.len(),
            };
            let m = message(&mut iov, &mut name, &mut control);
            // SAFETY: our interposer with our own message.
            let n = unsafe { super::send::sendmsg(fd, &m, flags | libc::MSG_NOSIGNAL) };
            if n < 0 {
                Response::error(errno())
            } else {
                Response::ok(n as i64)
            }
        }
        Request::Recv {
            flags,
            len,
            namelen,
            controllen,
        } => receive(fd, id, flags, len, namelen, controllen),
        Request::Socket { .. } | Request::Closed { .. } | Request::Stat | Request::Moved { .. } => {
            Response::error(libc::EINVAL)
        }
    };
    (r, None)
}

/// A message header over `iov` with `name` and `control` (each left null
/// when empty); it points at all three, which must outlive its use.
fn message(iov: &mut libc::iovec, name: &mut [u8], control: &mut [u8]) -> msghdr {
    let mut m = super::send::one_iov(iov);
    if !name.is_empty() {
        m.msg_name = name.as_mut_ptr() as *mut c_void;
        m.msg_namelen = name.len() as _;
    }
    if !control.is_empty() {
        m.msg_control = control.as_mut_ptr() as *mut c_void;
        m.msg_controllen = control.len();
    }
    m
}

/// recvmsg without waiting (the program waited on its own descriptor),
/// one receiver of the socket at a time so each message goes whole to one.
fn receive(
    fd: c_int,
    id: SockId,
    flags: c_int,
    len: u32,
    namelen: u32,
    controllen: u32,
) -> Response {
    let turn = with_known(|k| k.readers.entry(id).or_default().clone());
    let _turn = turn.lock().unwrap_or_else(|e| e.into_inner());
    let mut data = vec![0u8; len.min(1 << 20) as usize];
    let mut name = vec![0u8; namelen.min(128) as usize];
    let mut control = vec![0u8; controllen.min(64 << 10) as usize];
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr() as *mut c_void,
        iov_len: data.len(),
    };
    let mut m = message(&mut iov, &mut name, &mut control);
    // SAFETY: our interposer with our own buffers.
    let n = unsafe {
        super::recv::recvmsg_as(
            fd,
            id,
            &mut m,
            flags | libc::MSG_DONTWAIT,
            super::recv::app_blocking(fd, flags),
        )
    };
    if n < 0 {
        return Response::error(errno());
    }
    data.truncate(n as usize);
    name.truncate((m.msg_namelen as usize).min(name.len()));
    control.truncate(m.msg_controllen.min(control.len()));
    Response {
        ret: n as i64,
        flags: m.msg_flags,
        namelen: m.msg_namelen,
        data,
        name,
        control,
        ..Default::default()
    }
}

/// getsockopt with the program's option buffer. CONNECTX3 carries a pointer
/// to the addresses: the program sends them after the struct's first 8
/// bytes instead. PEELOFF makes a descriptor, handed back with the answer.
fn get_option(
    fd: c_int,
    level: c_int,
    name: c_int,
    mut val: Vec<u8>,
    pid: u32,
) -> (Response, Option<c_int>) {
    if level == SOL_SCTP && name == SCTP_SOCKOPT_CONNECTX3 {
        if val.len() < 8 {
            return (Response::error(libc::EINVAL), None);
        }
        let addrs = val.split_off(8);
        let mut s = [0u8; 16];
        s[..8].copy_from_slice(&val);
        s[8..].copy_from_slice(&(addrs.as_ptr() as usize).to_ne_bytes());
        let mut len: socklen_t = 16;
        // SAFETY: our interposer; `s` holds the struct, its pointer `addrs`.
        let ret = unsafe { getsockopt(fd, level, name, s.as_mut_ptr() as *mut c_void, &mut len) };
        let mut r = answer(ret);
        r.data = s[..4].to_vec();
        r.namelen = 16;
        return (r, None);
    }
    let mut len = val.len() as socklen_t;
    // SAFETY: our interposer with our own buffer of `len` bytes.
    let ret = unsafe { getsockopt(fd, level, name, val.as_mut_ptr() as *mut c_void, &mut len) };
    if ret >= 0
        && level == SOL_SCTP
        && (name == SCTP_SOCKOPT_PEELOFF || name == SCTP_SOCKOPT_PEELOFF_FLAGS)
        && val.len() >= 8
    {
        let nfd = i32::from_ne_bytes([val[4], val[5], val[6], val[7]]);
        let (mut r, out) = adopt(nfd, pid);
        r.data = val;
        r.namelen = len;
        return (r, out);
    }
    let mut r = answer(ret);
    // SCTP_GET_LOCAL_ADDRS's optlen leaves out its 8-byte header (as
    // Linux's), which is written all the same.
    let written = if ret >= 0 && level == SOL_SCTP && name == crate::sockopt::SCTP_GET_LOCAL_ADDRS {
        len as usize + 8
    } else {
        len as usize
    };
    val.truncate(written.min(val.len()));
    r.data = val;
    r.namelen = len;
    (r, None)
}

/// Every two seconds: sockets whose association ended while a program held
/// them are released once no copy of their application end is left
/// (/proc/net/unix no longer lists it), and forgotten sockets are dropped
/// from the table.
fn collect_garbage() {
    loop {
        std::thread::sleep(Duration::from_secs(2));
        let mut live = None;
        for id in engine().held_after_shut() {
            if app_end_gone(id, &mut live) {
                engine().drop_ref(id);
            }
        }
        let ids: Vec<SockId> = with_known(|k| k.by_id.keys().copied().collect());
        let gone: Vec<SockId> = ids.into_iter().filter(|&id| !engine().knows(id)).collect();
        with_known(|k| {
            for id in gone {
                if let Some((ino, _)) = k.by_id.remove(&id) {
                    k.by_ino.remove(&ino);
                }
                k.readers.remove(&id);
            }
        });
    }
}

/// Whether no process holds the program's end of socket `id` any more:
/// the kernel's answer for its inode, or where it cannot say, whether
/// /proc/net/unix lists it (`live`: read once for all the calls that
/// share it).
fn app_end_gone(id: SockId, live: &mut Option<Option<std::collections::HashSet<u64>>>) -> bool {
    let Some(ino) = app_end(id) else {
        return true;
    };
    if let Some(there) = sys::unix_socket_exists(ino) {
        return !there;
    }
    live.get_or_insert_with(live_unix_inodes)
        .as_ref()
        .is_some_and(|l| !l.contains(&ino))
}

/// The inode of the program's end of socket `id`.
fn app_end(id: SockId) -> Option<u64> {
    with_known(|k| k.by_id.get(&id).map(|&(i, _)| i))
}

/// Inodes of every Unix socket of this network namespace (None when the
/// kernel does not say).
fn live_unix_inodes() -> Option<std::collections::HashSet<u64>> {
    let text = std::fs::read_to_string("/proc/net/unix").ok()?;
    let live: std::collections::HashSet<u64> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(6)?.parse().ok())
        .collect();
    (!live.is_empty()).then_some(live)
}
