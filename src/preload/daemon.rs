//! The connection to the shared engine: where the daemon is, starting it,
//! one connection per thread, and a request's round trip (see
//! `crate::ipc`).

use std::cell::RefCell;
use std::os::raw::{c_int, c_void};
use std::os::unix::ffi::OsStrExt;

use once_cell::sync::OnceCell;

use crate::ipc::transport::{connect_abstract, peer_cred, recv_frame, send_frame};
use crate::ipc::{Request, Response};
use crate::ownfds;
use crate::sys;

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
pub(super) fn ours(fd: c_int) -> Result<c_int, c_int> {
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

pub(super) fn exchange(
    c: c_int,
    req: &Request,
    fd: Option<c_int>,
) -> Result<(Response, Option<c_int>), c_int> {
    send_frame(c, &req.encode(), fd).map_err(|_| libc::ECONNRESET)?;
    let (body, got, lost) = recv_frame(c)
        .map_err(|_| libc::ECONNRESET)?
        .ok_or(libc::ECONNRESET)?;
    match Response::decode(&body) {
        // The daemon made a descriptor for us (socket, accept, peeloff)
        // and this process has no room for it, as the kernel would say.
        Ok(_) if lost => Err(libc::EMFILE),
        Ok(r) => Ok((r, got)),
        Err(_) => {
            if let Some(g) = got {
                sys::close(g);
            }
            Err(libc::EIO)
        }
    }
}
