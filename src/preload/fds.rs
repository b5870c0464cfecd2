//! Descriptor life cycle: close, dup and its relatives, fcntl's F_DUPFD,
//! close_range and closefrom. SCTP sockets are tracked through copies; the
//! engine's own descriptors (see `crate::ownfds`) cannot be closed or
//! overwritten by the program; a vfork child changes no bookkeeping.

use std::os::raw::c_int;

use super::client;
use super::fdtable::{insert, lookup, remove};
use super::interpose::of;
use crate::ownfds;
use crate::sys::{real, set_errno};

/// close(2): forget the mapping; the engine sees EOF once every copy is
/// closed. The engine's own descriptors are not the program's to close: it
/// gets EBADF, as for a descriptor that is not open.
///
/// # Safety
/// Plain C ABI entry point.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn close(fd: c_int) -> c_int {
    if ownfds::is_protected(fd) {
        set_errno(libc::EBADF);
        return -1;
    }
    // SAFETY: forwarding unchanged.
    let r = unsafe { (real().close)(fd) };
    if lookup(fd).is_some() {
        forget(fd);
    }
    r
}

/// `fd` was closed: one descriptor fewer for its socket. Nothing changes in
/// a vfork child, whose memory (this table) is its parent's.
fn forget(fd: c_int) {
    if ownfds::in_vfork_child() {
        return;
    }
    if let Some(id) = remove(fd) {
        if client::remote() {
            client::closed(id);
            super::fastpath::closed(id);
        } else {
            of(id).drop_ref(id);
            of(id).linger_close(id);
        }
    }
}

/// `copy` was made from `fd` (dup, F_DUPFD): the same SCTP socket.
fn copied(fd: c_int, copy: c_int) {
    if copy < 0 || ownfds::in_vfork_child() {
        return;
    }
    if let Some(id) = lookup(fd)
        && insert(copy, id)
        && !client::remote()
    {
        of(id).add_ref(id);
    }
}

/// dup(2): the copy is the same SCTP socket.
///
/// # Safety
/// Plain C ABI entry point.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dup(fd: c_int) -> c_int {
    // SAFETY: forwarding unchanged.
    let nfd = unsafe { (real().dup)(fd) };
    copied(fd, nfd);
    nfd
}

/// dup2(2). Overwriting one of the engine's own descriptors is refused
/// with EBUSY (Linux's answer when dup2 meets a descriptor being set up).
///
/// # Safety
/// Plain C ABI entry point.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dup2(old: c_int, new: c_int) -> c_int {
    if old != new && ownfds::is_protected(new) {
        set_errno(libc::EBUSY);
        return -1;
    }
    // SAFETY: forwarding unchanged.
    let r = unsafe { (real().dup2)(old, new) };
    if r >= 0 && old != new {
        mirror(old, new);
    }
    r
}

/// After a successful dup2/dup3, `new` is whatever `old` is; what `new` was
/// before has one descriptor fewer.
fn mirror(old: c_int, new: c_int) {
    if lookup(new).is_some() {
        forget(new);
    }
    copied(old, new);
}

/// dup3(2): as dup2.
///
/// # Safety
/// Plain C ABI entry point.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dup3(old: c_int, new: c_int, flags: c_int) -> c_int {
    if old != new && ownfds::is_protected(new) {
        set_errno(libc::EBUSY);
        return -1;
    }
    // SAFETY: forwarding unchanged.
    let r = unsafe { (real().dup3)(old, new, flags) };
    if r >= 0 {
        mirror(old, new);
    }
    r
}

/// fcntl(2). Only F_DUPFD and F_DUPFD_CLOEXEC concern us (the copy is the
/// same SCTP socket); everything else is forwarded as is.
///
/// fcntl is variadic in C. Its optional third argument is an int or a
/// pointer, which the x86-64 and AArch64 Linux calling conventions pass in
/// the same register as a fixed third argument, so receiving it as one
/// machine word and passing it on unchanged is exact for every command.
///
/// # Safety
/// As for fcntl(2).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fcntl(fd: c_int, cmd: c_int, arg: libc::c_ulong) -> c_int {
    // SAFETY: forwarding the caller's arguments unchanged.
    let r = unsafe { (real().fcntl)(fd, cmd, arg) };
    if cmd == libc::F_DUPFD || cmd == libc::F_DUPFD_CLOEXEC {
        copied(fd, r);
    }
    r
}

/// fcntl64: glibc's name for fcntl in programs built with 64-bit offsets.
///
/// # Safety
/// As for fcntl(2).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fcntl64(fd: c_int, cmd: c_int, arg: libc::c_ulong) -> c_int {
    // SAFETY: same contract (the commands we look at take no pointer).
    unsafe { fcntl(fd, cmd, arg) }
}

/// close_range(2): closes the range around the engine's own descriptors,
/// and forgets the SCTP sockets in it.
///
/// # Safety
/// Plain C ABI entry point.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn close_range(
    first: libc::c_uint,
    last: libc::c_uint,
    flags: c_int,
) -> c_int {
    if first > last {
        set_errno(libc::EINVAL);
        return -1;
    }
    // Marking close-on-exec closes nothing now: the engine's descriptors
    // are close-on-exec already.
    if flags & libc::CLOSE_RANGE_CLOEXEC as c_int != 0 {
        return sys_close_range(first.into(), last.into(), flags);
    }
    let mut from = u64::from(first);
    for own in ownfds::protected_in(first, last) {
        let own = own as u64;
        if own > from && sys_close_range(from, own - 1, flags) < 0 {
            return -1;
        }
        from = own + 1;
    }
    if from <= u64::from(last) && sys_close_range(from, u64::from(last), flags) < 0 {
        return -1;
    }
    for fd in super::fdtable::in_range(first, last) {
        forget(fd);
    }
    0
}

/// The close_range system call (glibc before 2.34 has no wrapper).
fn sys_close_range(first: u64, last: u64, flags: c_int) -> c_int {
    let (first, last) = (first as libc::c_uint, last as libc::c_uint);
    // SAFETY: the close_range system call takes three integers.
    unsafe { libc::syscall(libc::SYS_close_range, first, last, flags) as c_int }
}

/// closefrom(3): every descriptor from `low` on, but the engine's own.
///
/// # Safety
/// Plain C ABI entry point.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn closefrom(low: c_int) {
    let low = low.max(0) as libc::c_uint;
    // SAFETY: our own interposer, plain integers.
    if unsafe { close_range(low, libc::c_uint::MAX, 0) } == 0 {
        return;
    }
    // Kernels before 5.9 have no close_range: one close per open descriptor.
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    let open: Vec<c_int> = dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&fd: &c_int| fd >= low as c_int)
        .collect();
    for fd in open {
        // SAFETY: our own interposer.
        unsafe { close(fd) };
    }
}
