//! Descriptors the engine holds for itself (its wake pipe, its epoll
//! instance, its UDP sockets and its ends of the socket pairs), so that a
//! program that closes every descriptor it does not know about (daemon
//! start-up code, `close_range`, `closefrom`) cannot pull them from under
//! the engine. The interposers ask [`is_protected`] before closing or
//! overwriting a descriptor; the program then sees the descriptor as not
//! open (EBADF), which is what it would see on a kernel with SCTP.
//!
//! The marks belong to the process that made them. A forked child drops
//! them all ([`forget_after_fork`]): what it inherited is only a copy, and
//! closing it must work. A vfork child (posix_spawn, Python's subprocess)
//! shares this memory with its parent until it execs, so nothing here may
//! change there: [`in_vfork_child`] tells, and the marks do not protect it
//! (its descriptor table is its own).

use std::os::raw::c_int;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

const WORDS: usize = 1 << 10;

#[allow(clippy::declare_interior_mutable_const)]
const ZERO: AtomicU64 = AtomicU64::new(0);
static MARKS: [AtomicU64; WORDS] = [ZERO; WORDS];

/// The process whose memory this is (0 until first asked).
static OWNER: AtomicU32 = AtomicU32::new(0);

fn slot(fd: c_int) -> Option<(&'static AtomicU64, u64)> {
    let i = usize::try_from(fd).ok()?;
    Some((MARKS.get(i / 64)?, 1u64 << (i % 64)))
}

/// True in a child made by vfork (or `clone(CLONE_VM)`) that has not exec'd
/// yet: its memory is its parent's, so no bookkeeping may change.
pub fn in_vfork_child() -> bool {
    let me = std::process::id();
    match OWNER.compare_exchange(0, me, Ordering::Relaxed, Ordering::Relaxed) {
        Ok(_) => false,
        Err(owner) => owner != me,
    }
}

/// Marks `fd` as the engine's own.
pub fn claim(fd: c_int) {
    if in_vfork_child() {
        return;
    }
    if let Some((w, bit)) = slot(fd) {
        w.fetch_or(bit, Ordering::Release);
    }
}

/// Unmarks `fd`; called before the engine closes it, so that the number is
/// free for the program as soon as the kernel reuses it.
pub fn release(fd: c_int) {
    if in_vfork_child() {
        return;
    }
    if let Some((w, bit)) = slot(fd) {
        w.fetch_and(!bit, Ordering::Release);
    }
}

/// Whether `fd` is one of the engine's own in this process. One relaxed
/// load for the descriptors that are not.
#[inline]
pub fn is_protected(fd: c_int) -> bool {
    match slot(fd) {
        Some((w, bit)) if w.load(Ordering::Acquire) & bit != 0 => !in_vfork_child(),
        _ => false,
    }
}

/// The engine's own descriptors in `first..=last`, in order.
pub fn protected_in(first: u32, last: u32) -> Vec<c_int> {
    if in_vfork_child() {
        return Vec::new();
    }
    let end = (last as usize).min(WORDS * 64 - 1);
    let mut out = Vec::new();
    let mut i = first as usize;
    while i <= end {
        let word = MARKS[i / 64].load(Ordering::Acquire) >> (i % 64);
        if word == 0 {
            i = (i / 64 + 1) * 64;
            continue;
        }
        let at = i + word.trailing_zeros() as usize;
        if at > end {
            break;
        }
        out.push(at as c_int);
        i = at + 1;
    }
    out
}

/// Records this process as the owner of this memory; called when the
/// library loads, before any child can exist.
pub fn adopt() {
    OWNER.store(std::process::id(), Ordering::Relaxed);
}

/// In a forked child: this memory is now the child's, and what the parent
/// marked is only an inherited copy.
pub fn forget_after_fork() {
    adopt();
    for w in &MARKS {
        w.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_found_in_ranges() {
        // Numbers far above what other tests in this process open.
        let fds = [40003, 40063, 40064, 40065, 40700, 65535];
        for fd in fds {
            claim(fd);
        }
        assert!(is_protected(40064) && !is_protected(40066) && !is_protected(-1));
        assert!(!is_protected(1 << 20));
        assert_eq!(protected_in(40000, u32::MAX), fds.to_vec());
        assert_eq!(protected_in(40064, 40700), vec![40064, 40065, 40700]);
        assert_eq!(protected_in(40066, 40699), Vec::<c_int>::new());
        for fd in fds {
            release(fd);
        }
        assert!(protected_in(40000, u32::MAX).is_empty());
    }
}
