//! Which descriptors are SCTP sockets: a lock-free, allocation-free table
//! indexed by fd, holding the engine's socket id (0 = not ours).

use std::os::raw::c_int;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::runtime::SockId;

const SIZE: usize = 1 << 16;

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: AtomicU64 = AtomicU64::new(0);
static TABLE: [AtomicU64; SIZE] = [EMPTY; SIZE];

/// The socket behind `fd`, if it is one of ours.
#[inline]
pub fn lookup(fd: c_int) -> Option<SockId> {
    let slot = TABLE.get(usize::try_from(fd).ok()?)?;
    match slot.load(Ordering::Relaxed) {
        0 => None,
        id => Some(id),
    }
}

/// Records `fd` as socket `id` (false if the fd is beyond the table).
pub fn insert(fd: c_int, id: SockId) -> bool {
    match usize::try_from(fd).ok().and_then(|i| TABLE.get(i)) {
        Some(slot) => {
            slot.store(id, Ordering::Relaxed);
            true
        }
        None => false,
    }
}

/// Forgets `fd`; returns the socket it was, if any.
pub fn remove(fd: c_int) -> Option<SockId> {
    let slot = TABLE.get(usize::try_from(fd).ok()?)?;
    match slot.swap(0, Ordering::Relaxed) {
        0 => None,
        id => Some(id),
    }
}

/// The SCTP sockets among descriptors `first..=last`.
pub fn in_range(first: u32, last: u32) -> Vec<c_int> {
    let end = (last as usize).min(SIZE - 1);
    (first as usize..=end)
        .filter(|&i| TABLE[i].load(Ordering::Relaxed) != 0)
        .map(|i| i as c_int)
        .collect()
}
