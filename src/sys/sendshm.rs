//! A one-to-one socket's send marks in memory shared with the programs
//! that hold the socket: the daemon placement's fast path for sends.
//!
//! With the engine in the shared daemon, a send used to be a round trip:
//! the program asked the daemon to leave its mark (see `send.rs`) and to
//! write the bytes into the pair. Here the program leaves the mark itself,
//! in a page it maps from the daemon (a memfd), and writes into its own end
//! of the pair; the engine picks the marks up the next time it takes the
//! socket's send lock. The page holds:
//!
//! - `lock`, a process-shared robust mutex: held by a program while it
//!   places a mark (the pair's unread bytes, read with FIONREAD on a copy of
//!   the engine's end, plus the bytes the engine took, give the offset) and
//!   by the engine while it reads the pair and cuts it at the marks;
//! - `turn`, the send turn of every thread and process holding the socket,
//!   from a mark to the end of its write (the daemon's own sends take it
//!   too), as `SendSide::app_send` is inside one process;
//! - what a program must know to send without asking: the bytes taken, the
//!   next mark id, the default send parameters, the association's streams,
//!   whether the peer shut down, the largest message allowed whole, and
//!   whether a short write left a message open. A program that cannot
//!   decide alone (an open message, a full ring, a check that fails) takes
//!   the round trip, whose answer and errno are the reference.
//!
//! A program that dies holding a mutex leaves it to the next locker
//! (EOWNERDEAD): the state it guards is consistent between any two stores
//! that matter (a mark is published by the count written last).

use std::os::raw::c_int;

use crate::runtime::SendSpec;

/// Marks a page holds before the engine drains them.
const RING: usize = 80;
/// Layout version check, so a page of another build is refused.
const MAGIC: u64 = 0x5343_5450_5348_4d31; // "SCTPSHM1"

/// Send parameters, as plain data.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
struct PodSpec {
    stream: u16,
    flags: u16,
    ppid: u32,
    context: u32,
    assoc: u32,
}

impl From<SendSpec> for PodSpec {
    fn from(s: SendSpec) -> PodSpec {
        PodSpec {
            stream: s.stream,
            flags: s.flags,
            ppid: s.ppid,
            context: s.context,
            assoc: s.assoc,
        }
    }
}

impl From<PodSpec> for SendSpec {
    fn from(p: PodSpec) -> SendSpec {
        SendSpec {
            stream: p.stream,
            flags: p.flags,
            ppid: p.ppid,
            context: p.context,
            assoc: p.assoc,
            init: None,
        }
    }
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
struct PodMark {
    id: u64,
    start: u64,
    len: u64,
    spec: PodSpec,
}

#[repr(C)]
struct Page {
    lock: libc::pthread_mutex_t,
    turn: libc::pthread_mutex_t,
    magic: u64,
    taken: u64,
    next_id: u64,
    /// u64::MAX: no limit.
    whole_limit: u64,
    default: PodSpec,
    streams: u16,
    peer_shut: u8,
    open: u8,
    /// The oldest undrained mark and how many follow it.
    head: u32,
    count: u32,
    ring: [PodMark; RING],
}

/// What the engine publishes for the programs after each hold of the lock.
#[derive(Clone, Copy, Debug)]
pub struct Mirror {
    pub taken: u64,
    pub next_id: u64,
    pub whole_limit: Option<usize>,
    pub default: SendSpec,
    pub streams: u16,
    pub peer_shut: bool,
    pub open: bool,
}

/// One mapping of a socket's page (the daemon's, or a program's).
#[derive(Debug)]
pub struct SendShm {
    page: *mut Page,
    /// The memfd (the daemon keeps it to hand out; -1 in programs).
    fd: c_int,
}

// SAFETY: the page is only touched under its process-shared mutexes, and
// the pointer stays valid until drop.
unsafe impl Send for SendShm {}
// SAFETY: as above.
unsafe impl Sync for SendShm {}

const SIZE: usize = std::mem::size_of::<Page>();

impl SendShm {
    /// A new page (the daemon, for a socket's first fast-path program).
    pub fn create() -> std::io::Result<SendShm> {
        // SAFETY: memfd_create with a NUL-terminated name.
        let fd = unsafe { libc::memfd_create(c"sctpshim-send".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: plain syscall on our new descriptor.
        if unsafe { libc::ftruncate(fd, SIZE as libc::off_t) } < 0 {
            let e = std::io::Error::last_os_error();
            crate::sys::close(fd);
            return Err(e);
        }
        let shm = match SendShm::map_fd(fd) {
            Ok(p) => SendShm { page: p, fd },
            Err(e) => {
                crate::sys::close(fd);
                return Err(e);
            }
        };
        // SAFETY: a fresh zeroed page of our own: the attributes and
        // mutexes are initialised before anyone else can map it.
        unsafe {
            let mut attr: libc::pthread_mutexattr_t = std::mem::zeroed();
            libc::pthread_mutexattr_init(&mut attr);
            libc::pthread_mutexattr_setpshared(&mut attr, libc::PTHREAD_PROCESS_SHARED);
            libc::pthread_mutexattr_setrobust(&mut attr, libc::PTHREAD_MUTEX_ROBUST);
            libc::pthread_mutex_init(&mut (*shm.page).lock, &attr);
            libc::pthread_mutex_init(&mut (*shm.page).turn, &attr);
            libc::pthread_mutexattr_destroy(&mut attr);
            (*shm.page).whole_limit = u64::MAX;
            (*shm.page).magic = MAGIC;
        }
        Ok(shm)
    }

    /// A program's mapping of the page behind `fd` (closed here either way).
    pub fn attach(fd: c_int) -> std::io::Result<SendShm> {
        // SAFETY: struct stat is plain data; all zeroes is a valid value.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: fstat writes one struct stat.
        let ok = unsafe { libc::fstat(fd, &mut st) } == 0 && st.st_size as usize == SIZE;
        let page = if ok {
            SendShm::map_fd(fd)
        } else {
            Err(std::io::Error::from_raw_os_error(libc::EINVAL))
        };
        crate::sys::close(fd);
        let shm = SendShm {
            page: page?,
            fd: -1,
        };
        // SAFETY: the mapping is SIZE bytes long.
        if unsafe { (*shm.page).magic } != MAGIC {
            return Err(std::io::Error::from_raw_os_error(libc::EINVAL));
        }
        Ok(shm)
    }

    fn map_fd(fd: c_int) -> std::io::Result<*mut Page> {
        // Away from where the kernel puts mappings by default (top down
        // from the stack): a page the program just unmapped is its own
        // dangling memory, and must stay unmapped (its bad pointers get
        // EFAULT, and never write into this page).
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let step = SIZE.next_multiple_of(4096);
        let k = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % (1 << 20);
        let hint = (0x2a00_0000_0000usize + k * step) as *mut libc::c_void;
        // SAFETY: a shared mapping of SIZE bytes of a memfd that long; the
        // address is a hint (no MAP_FIXED), never replacing a mapping.
        let p = unsafe {
            libc::mmap(
                hint,
                SIZE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        Ok(p as *mut Page)
    }

    /// The memfd, to hand a copy to a program.
    pub fn fd(&self) -> c_int {
        self.fd
    }

    /// Takes the page's lock (waiting).
    pub fn lock(&self) -> ShmGuard<'_> {
        // SAFETY: the page's mutex, initialised at creation.
        lock_robust(unsafe { &raw mut (*self.page).lock }, false);
        ShmGuard { shm: self }
    }

    /// Takes the send turn: waiting unless `nonblocking` (None: busy).
    pub fn turn(&self, nonblocking: bool) -> Option<TurnGuard<'_>> {
        // SAFETY: the page's mutex, initialised at creation.
        let m = unsafe { &raw mut (*self.page).turn };
        lock_robust(m, nonblocking).then_some(TurnGuard { m, _shm: self })
    }
}

impl Drop for SendShm {
    fn drop(&mut self) {
        // SAFETY: our mapping of SIZE bytes, unmapped once.
        unsafe { libc::munmap(self.page as *mut libc::c_void, SIZE) };
        if self.fd >= 0 {
            crate::sys::close(self.fd);
        }
    }
}

/// Locks a robust mutex (tries once when `try_only`); a dead owner's lock
/// is taken over. False: busy (only when `try_only`) or unusable.
fn lock_robust(m: *mut libc::pthread_mutex_t, try_only: bool) -> bool {
    // SAFETY: `m` points at an initialised process-shared mutex.
    let r = unsafe {
        if try_only {
            libc::pthread_mutex_trylock(m)
        } else {
            libc::pthread_mutex_lock(m)
        }
    };
    match r {
        0 => true,
        libc::EOWNERDEAD => {
            // SAFETY: we own it now; it was left by a dead holder.
            unsafe { libc::pthread_mutex_consistent(m) };
            true
        }
        _ => false,
    }
}

/// The send turn, held from a mark to the end of its write.
pub struct TurnGuard<'a> {
    m: *mut libc::pthread_mutex_t,
    _shm: &'a SendShm,
}

impl Drop for TurnGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: we hold it.
        unsafe { libc::pthread_mutex_unlock(self.m) };
    }
}

/// The page, locked.
pub struct ShmGuard<'a> {
    shm: &'a SendShm,
}

impl Drop for ShmGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: we hold it.
        unsafe { libc::pthread_mutex_unlock(&raw mut (*self.shm.page).lock) };
    }
}

/// Why a program cannot mark alone: it takes the round trip instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AskDaemon;

impl ShmGuard<'_> {
    fn page(&mut self) -> &mut Page {
        // SAFETY: the lock is held, so the page is ours to read and write.
        unsafe { &mut *self.shm.page }
    }

    /// The engine: every mark programs placed since the last drain, oldest
    /// first, as (id, start, len, spec).
    pub fn drain(&mut self, mut f: impl FnMut(u64, u64, u64, SendSpec)) {
        let p = self.page();
        while p.count > 0 {
            let m = p.ring[p.head as usize % RING];
            p.head = (p.head + 1) % RING as u32;
            p.count -= 1;
            f(m.id, m.start, m.len, m.spec.into());
        }
    }

    /// The next mark id the programs gave (none below it is free).
    pub fn next_id(&mut self) -> u64 {
        self.page().next_id
    }

    /// The engine: what programs need to place marks.
    pub fn publish(&mut self, m: &Mirror) {
        let p = self.page();
        p.taken = m.taken;
        p.next_id = p.next_id.max(m.next_id);
        p.whole_limit = m.whole_limit.map_or(u64::MAX, |l| l as u64);
        p.default = m.default.into();
        p.streams = m.streams;
        p.peer_shut = m.peer_shut.into();
        p.open = m.open.into();
    }

    /// A program's send of `len` bytes (`spec` None: the defaults), with
    /// `unread` bytes in the pair the engine has not read: its mark id.
    pub fn place(
        &mut self,
        unread: usize,
        len: usize,
        spec: Option<SendSpec>,
    ) -> Result<u64, AskDaemon> {
        let p = self.page();
        let spec = spec.map_or(p.default, PodSpec::from);
        let refused = p.open != 0
            || p.streams == 0
            || spec.stream >= p.streams
            || p.peer_shut != 0
            || len as u64 > p.whole_limit
            || len == 0
            || p.count as usize >= RING;
        if refused {
            return Err(AskDaemon);
        }
        p.next_id += 1;
        let mark = PodMark {
            id: p.next_id,
            start: p.taken + unread as u64,
            len: len as u64,
            spec,
        };
        p.ring[(p.head as usize + p.count as usize) % RING] = mark;
        p.count += 1;
        Ok(mark.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mirror(streams: u16) -> Mirror {
        Mirror {
            taken: 100,
            next_id: 7,
            whole_limit: None,
            default: SendSpec {
                ppid: 9,
                ..Default::default()
            },
            streams,
            peer_shut: false,
            open: false,
        }
    }

    #[test]
    fn marks_travel_through_the_page() {
        let daemon = SendShm::create().unwrap();
        // SAFETY: a copy of our own memfd for the "program" side.
        let prog = SendShm::attach(unsafe { libc::dup(daemon.fd()) }).unwrap();
        // Not established yet: the program asks the daemon.
        assert_eq!(prog.lock().place(0, 5, None), Err(AskDaemon));
        daemon.lock().publish(&mirror(2));
        let turn = prog.turn(true).unwrap();
        assert!(daemon.turn(true).is_none(), "one send turn for all");
        assert_eq!(prog.lock().place(3, 5, None), Ok(8));
        let s1 = SendSpec {
            stream: 1,
            ..Default::default()
        };
        assert_eq!(prog.lock().place(0, 2, Some(s1)), Ok(9));
        let bad = SendSpec {
            stream: 2,
            ..Default::default()
        };
        assert_eq!(prog.lock().place(0, 2, Some(bad)), Err(AskDaemon));
        drop(turn);
        let mut got = vec![];
        let mut g = daemon.lock();
        g.drain(|id, start, len, spec| got.push((id, start, len, spec.stream, spec.ppid)));
        assert_eq!(g.next_id(), 9);
        assert_eq!(got, vec![(8, 103, 5, 0, 9), (9, 100, 2, 1, 0)]);
        // An open message, a limit, a shut peer: the daemon decides.
        g.publish(&Mirror {
            open: true,
            ..mirror(2)
        });
        drop(g);
        assert_eq!(prog.lock().place(0, 1, None), Err(AskDaemon));
        daemon.lock().publish(&Mirror {
            whole_limit: Some(10),
            ..mirror(2)
        });
        assert_eq!(prog.lock().place(0, 11, None), Err(AskDaemon));
        assert!(prog.lock().place(0, 10, None).is_ok());
    }

    #[test]
    fn a_full_ring_and_a_foreign_page_are_refused() {
        let daemon = SendShm::create().unwrap();
        daemon.lock().publish(&mirror(1));
        for _ in 0..RING {
            assert!(daemon.lock().place(0, 1, None).is_ok());
        }
        assert_eq!(daemon.lock().place(0, 1, None), Err(AskDaemon));
        let mut n = 0;
        daemon.lock().drain(|_, _, _, _| n += 1);
        assert_eq!(n, RING);
        assert!(daemon.lock().place(0, 1, None).is_ok());
        // SAFETY: a memfd of the wrong size.
        let other = unsafe { libc::memfd_create(c"x".as_ptr(), 0) };
        assert!(SendShm::attach(other).is_err());
    }

    #[test]
    fn a_dead_holder_leaves_the_lock_usable() {
        let daemon = SendShm::create().unwrap();
        // SAFETY: fork in a test: the child only locks and exits.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let g = daemon.lock();
            std::mem::forget(g);
            let t = daemon.turn(false);
            std::mem::forget(t);
            // SAFETY: leaving the child at once.
            unsafe { libc::_exit(0) };
        }
        let mut status = 0;
        // SAFETY: plain syscall.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        daemon.lock().publish(&mirror(1));
        assert!(daemon.turn(true).is_some());
    }
}
