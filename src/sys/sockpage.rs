//! A one-to-one socket's send marks and receive records in memory shared
//! with the programs that hold the socket: the daemon placement's fast
//! path for sends and receives.
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
//! Receives work the same way in the other direction: the engine writes
//! messages into the pair and, under the same lock, publishes the bytes
//! written so far and the first records (message ranges in that byte
//! stream, as `inbox.rs` keeps them). A program finds where it stands
//! (written minus the unread bytes in its own end), reads at most to the
//! end of its record, and publishes how far it read, so the engine can
//! forget the records behind it. `rturn` makes readers of all processes
//! take turns, as `SendSide::app_recv` does inside one.
//!
//! A program that dies holding a mutex leaves it to the next locker
//! (EOWNERDEAD): the state it guards is consistent between any two stores
//! that matter (a mark is published by the count written last).

use std::os::raw::c_int;

use crate::runtime::{RecordMeta, SendSpec};

mod meta;
use meta::PodMeta;
pub use meta::RecvWants;

/// Marks a page holds before the engine drains them.
const RING: usize = 56;
/// Records of received messages a page shows (from the oldest unread).
const RECS: usize = 256;
/// A reader tells the engine (a round trip) when it read this much since
/// the last time, while the engine waits for reads to open its window.
const NOTE_EVERY: u64 = 16 << 10;

const COMPLETE: u32 = 1;
const ABORTED: u32 = 2;
const NOTIFICATION: u32 = 4;
/// `RecvWants` bits of the page's `wants`.
const WANT_RCVINFO: u32 = 1;
const WANT_NXTINFO: u32 = 2;
const WANT_DATA_IO: u32 = 4;
/// Layout version check, so a page of another build is refused.
const MAGIC: u64 = 0x5343_5450_5348_4d32; // "SCTPSHM2"

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
            path: None,
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

/// One received message's range of the pair's byte stream, and what a
/// receive returns beside its bytes (a one-to-many socket's readers fill
/// the name and ancillary data from it).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
struct PodRec {
    start: u64,
    end: u64,
    flags: u32,
    meta: PodMeta,
}

#[repr(C)]
struct Page {
    lock: libc::pthread_mutex_t,
    turn: libc::pthread_mutex_t,
    rturn: libc::pthread_mutex_t,
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
    /// Bytes the engine wrote into the pair so far.
    written: u64,
    /// How far readers got (the engine drops the records before it).
    read_pos: u64,
    /// `read_pos` when a reader last told the engine.
    noted: u64,
    /// The engine waits for reads to open its receive window.
    watched: u8,
    /// The engine holds messages back until a reader moves on.
    held: u8,
    /// ... past this offset (half the records shown: one note per half).
    wake_at: u64,
    rec_count: u32,
    /// The number of the first record shown: record n is in
    /// `recs[n % RECS]`, so that records already shown stay in place.
    rec_first: u64,
    /// `RecvWants` bits (WANT_*).
    wants: u32,
    recs: [PodRec; RECS],
}

/// Where a reader stands in its record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecSlice {
    /// The reader's offset in the pair's byte stream.
    pub pos: u64,
    /// Bytes left in the record from there (in the pair or still coming).
    pub left: usize,
    /// All of the message is in the record.
    pub complete: bool,
    /// Reading to the end of the record ends the message (MSG_EOR).
    pub eor_at_end: bool,
    pub notification: bool,
    /// The record's metadata, and the next record's with its length (if
    /// the page shows it), for the name and ancillary data.
    pub meta: RecordMeta,
    pub next: Option<(RecordMeta, usize)>,
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
pub struct SockPage {
    page: *mut Page,
    /// The memfd (the daemon keeps it to hand out; -1 in programs).
    fd: c_int,
}

// SAFETY: the page is only touched under its process-shared mutexes, and
// the pointer stays valid until drop.
unsafe impl Send for SockPage {}
// SAFETY: as above.
unsafe impl Sync for SockPage {}

const SIZE: usize = std::mem::size_of::<Page>();

impl SockPage {
    /// How many records a page shows.
    pub const RECORDS: usize = RECS;

    /// A new page (the daemon, for a socket's first fast-path program).
    pub fn create() -> std::io::Result<SockPage> {
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
        let shm = match SockPage::map_fd(fd) {
            Ok(p) => SockPage { page: p, fd },
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
            libc::pthread_mutex_init(&mut (*shm.page).rturn, &attr);
            libc::pthread_mutexattr_destroy(&mut attr);
            (*shm.page).whole_limit = u64::MAX;
            (*shm.page).magic = MAGIC;
        }
        Ok(shm)
    }

    /// A program's mapping of the page behind `fd` (closed here either way).
    pub fn attach(fd: c_int) -> std::io::Result<SockPage> {
        // SAFETY: struct stat is plain data; all zeroes is a valid value.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: fstat writes one struct stat.
        let ok = unsafe { libc::fstat(fd, &mut st) } == 0 && st.st_size as usize == SIZE;
        let page = if ok {
            SockPage::map_fd(fd)
        } else {
            Err(std::io::Error::from_raw_os_error(libc::EINVAL))
        };
        crate::sys::close(fd);
        let shm = SockPage {
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

    /// Takes the receive turn, as [`SockPage::turn`].
    pub fn recv_turn(&self, nonblocking: bool) -> Option<TurnGuard<'_>> {
        // SAFETY: the page's mutex, initialised at creation.
        let m = unsafe { &raw mut (*self.page).rturn };
        lock_robust(m, nonblocking).then_some(TurnGuard { m, _shm: self })
    }
}

impl Drop for SockPage {
    fn drop(&mut self) {
        // SAFETY: our mapping of SIZE bytes, unmapped once.
        unsafe { libc::munmap(self.page as *mut libc::c_void, SIZE) };
        if self.fd >= 0 {
            crate::sys::close(self.fd);
        }
    }
}

/// Spin iterations before a page lock waits in the kernel (about 6 us
/// here: a pause is 25 ns on this AMD EPYC).
const LOCK_SPINS: u32 = 256;

/// Locks a robust mutex (tries once when `try_only`); a dead owner's lock
/// is taken over. False: busy (only when `try_only`) or unusable.
fn lock_robust(m: *mut libc::pthread_mutex_t, try_only: bool) -> bool {
    // SAFETY: `m` points at an initialised process-shared mutex.
    let mut r = unsafe { libc::pthread_mutex_trylock(m) };
    // Held: the other side's hold is a few hundred nanoseconds (a mark, a
    // record's metadata), while a futex wait is a sleep, a wake-up and two
    // system calls. Spin a little first (glibc's robust mutexes never do).
    let mut spins = 0;
    while r == libc::EBUSY && !try_only && spins < LOCK_SPINS {
        std::hint::spin_loop();
        spins += 1;
        if spins % 16 == 0 {
            // SAFETY: as above.
            r = unsafe { libc::pthread_mutex_trylock(m) };
        }
    }
    if r == libc::EBUSY && !try_only {
        // SAFETY: as above.
        r = unsafe { libc::pthread_mutex_lock(m) };
    }
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
    _shm: &'a SockPage,
}

impl Drop for TurnGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: we hold it.
        unsafe { libc::pthread_mutex_unlock(self.m) };
    }
}

/// The page, locked.
pub struct ShmGuard<'a> {
    shm: &'a SockPage,
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

    /// The association came up (its streams are known).
    pub fn established(&mut self) -> bool {
        self.page().streams > 0
    }

    /// The engine: how far readers got.
    pub fn read_pos(&mut self) -> u64 {
        self.page().read_pos
    }

    /// The engine: the bytes written into the pair so far, and the records
    /// from the oldest one not read yet (record number `first`, `count` of
    /// them, at most `RECORDS`): those of `changed`, as (number, start,
    /// end, complete, aborted, metadata), are new or changed since the
    /// last call; the others shown are as they were.
    pub fn publish_records<'m>(
        &mut self,
        written: u64,
        first: u64,
        count: usize,
        changed: impl Iterator<Item = (u64, u64, u64, bool, bool, &'m RecordMeta)>,
    ) {
        let p = self.page();
        p.written = written;
        for (n, start, end, complete, aborted, meta) in changed {
            let flags = bit(complete, COMPLETE)
                | bit(aborted, ABORTED)
                | bit(meta.notification, NOTIFICATION);
            p.recs[(n % RECS as u64) as usize] = PodRec {
                start,
                end,
                flags,
                meta: meta.into(),
            };
        }
        p.rec_first = first;
        p.rec_count = count.min(RECS) as u32;
    }

    /// The engine: the ancillary data the socket's receives return.
    pub fn set_wants(&mut self, w: RecvWants) {
        self.page().wants = bit(w.rcvinfo, WANT_RCVINFO)
            | bit(w.nxtinfo, WANT_NXTINFO)
            | bit(w.data_io, WANT_DATA_IO);
    }

    /// The ancillary data the socket's receives return.
    pub fn wants(&mut self) -> RecvWants {
        let w = self.page().wants;
        RecvWants {
            rcvinfo: w & WANT_RCVINFO != 0,
            nxtinfo: w & WANT_NXTINFO != 0,
            data_io: w & WANT_DATA_IO != 0,
        }
    }

    /// The engine: whether messages wait for a reader to move past
    /// `wake_at` (and tell it).
    pub fn set_held(&mut self, on: bool, wake_at: u64) {
        let p = self.page();
        p.held = on.into();
        p.wake_at = wake_at;
    }

    /// The engine: whether it waits for reads to open its window.
    pub fn set_watched(&mut self, on: bool) {
        self.page().watched = on.into();
    }

    /// A reader with `unread` bytes in its end of the pair: its record
    /// (None: nothing to read), or the daemon's turn when the page cannot
    /// tell (records beyond what it shows, bytes without a record).
    pub fn slice_at(&mut self, unread: usize) -> Result<Option<RecSlice>, AskDaemon> {
        let p = self.page();
        let pos = p.written.checked_sub(unread as u64).ok_or(AskDaemon)?;
        let count = (p.rec_count as usize).min(RECS);
        let rec = |i: usize| &p.recs[((p.rec_first + i as u64) % RECS as u64) as usize];
        let at = (0..count).find(|&i| {
            let r = rec(i);
            !(r.end <= pos && r.flags & COMPLETE != 0)
        });
        let r = at.map(rec);
        match r {
            Some(r) if r.start <= pos => Ok(Some(RecSlice {
                pos,
                left: (r.end - pos) as usize,
                complete: r.flags & COMPLETE != 0,
                eor_at_end: r.flags & (COMPLETE | ABORTED) == COMPLETE,
                notification: r.flags & NOTIFICATION != 0,
                meta: r.meta.meta(r.flags & NOTIFICATION != 0),
                next: at.filter(|&i| i + 1 < count).map(|i| rec(i + 1)).map(|n| {
                    let meta = n.meta.meta(n.flags & NOTIFICATION != 0);
                    (meta, (n.end - n.start) as usize)
                }),
            })),
            None if pos >= p.written => Ok(None),
            _ => Err(AskDaemon),
        }
    }

    /// A reader got to `pos`; true when it should tell the engine (it holds
    /// messages back, or waits for reads to open its window: see
    /// `NOTE_EVERY`).
    pub fn advance(&mut self, pos: u64) -> bool {
        let p = self.page();
        p.read_pos = p.read_pos.max(pos);
        if p.held != 0 && p.read_pos >= p.wake_at {
            p.held = 0;
            p.noted = p.read_pos;
            return true;
        }
        if p.watched != 0 && p.read_pos - p.noted >= NOTE_EVERY {
            p.noted = p.read_pos;
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests;

/// `b` when `on`, else 0.
fn bit(on: bool, b: u32) -> u32 {
    if on { b } else { 0 }
}
