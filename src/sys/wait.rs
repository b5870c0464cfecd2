//! Waiting: poll(2), the engine's epoll instance and its wake pipe.

use std::io;
use std::os::raw::c_int;

use super::{cvt, real};

/// poll(2) through the real libc.
pub fn poll(fds: &mut [libc::pollfd], timeout_ms: c_int) -> io::Result<usize> {
    // SAFETY: the slice is valid for its length.
    cvt(unsafe { (real().poll)(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) })
        .map(|n| n as usize)
}

/// A new epoll instance (close-on-exec).
pub fn epoll_create() -> io::Result<c_int> {
    // SAFETY: plain syscall, no pointers.
    let fd = cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
    crate::ownfds::claim(fd);
    Ok(fd)
}

/// epoll_ctl(2): `op` (EPOLL_CTL_ADD/MOD/DEL) for `fd` with `events`,
/// reported with `token`.
pub fn epoll_ctl(epfd: c_int, op: c_int, fd: c_int, events: u32, token: u64) -> io::Result<()> {
    let mut ev = libc::epoll_event { events, u64: token };
    // SAFETY: `ev` is a valid epoll_event for the duration of the call.
    cvt(unsafe { libc::epoll_ctl(epfd, op, fd, &mut ev) }).map(|_| ())
}

/// Waits on `epfd` into `evs` (its capacity; its length becomes the
/// count), at most `timeout`. epoll_pwait2(2) takes
/// the timeout to the nanosecond (the engine's loss timers are tens of
/// microseconds on a fast path); where the kernel (before 5.11) or a
/// seccomp filter refuses it, epoll_wait(2) with whole milliseconds,
/// rounded up.
pub fn epoll_wait(
    epfd: c_int,
    evs: &mut Vec<libc::epoll_event>,
    timeout: std::time::Duration,
) -> io::Result<()> {
    use std::sync::atomic::{AtomicBool, Ordering};
    static NO_PWAIT2: AtomicBool = AtomicBool::new(false);
    evs.clear();
    let room = evs.capacity().clamp(1, c_int::MAX as usize);
    evs.reserve(room);
    let mut n = -1;
    if !NO_PWAIT2.load(Ordering::Relaxed) {
        let ts = libc::timespec {
            tv_sec: timeout.as_secs().min(i32::MAX as u64) as libc::time_t,
            tv_nsec: timeout.subsec_nanos() as libc::c_long,
        };
        // SAFETY: `evs` has room for `room` events, `ts` is alive across
        // the call, and no signal mask is passed (null, with the kernel's
        // sigset size).
        let r = unsafe {
            libc::syscall(
                libc::SYS_epoll_pwait2,
                epfd,
                evs.as_mut_ptr(),
                room as c_int,
                &ts as *const libc::timespec,
                std::ptr::null::<libc::sigset_t>(),
                8usize,
            )
        };
        if r >= 0 {
            n = r as c_int;
        } else {
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::ENOSYS) | Some(libc::EPERM) => NO_PWAIT2.store(true, Ordering::Relaxed),
                _ => return Err(e),
            }
        }
    }
    if n < 0 {
        let ms = timeout.as_micros().div_ceil(1000).min(c_int::MAX as u128) as c_int;
        // SAFETY: `evs` has room for `room` events; the kernel writes at
        // most that many and returns how many.
        n = cvt(unsafe { libc::epoll_wait(epfd, evs.as_mut_ptr(), room as c_int, ms) })?;
    }
    // SAFETY: the first `n` (<= room) entries were written by the kernel.
    unsafe { evs.set_len(n as usize) };
    Ok(())
}

/// Whether `fd` turns readable within `timeout_ms`.
pub fn readable_within(fd: c_int, timeout_ms: c_int) -> bool {
    let mut pfd = [libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }];
    matches!(poll(&mut pfd, timeout_ms), Ok(n) if n > 0)
}

/// A pipe used to wake the engine thread: (read end, write end), both non-blocking.
pub fn wake_pipe() -> io::Result<(c_int, c_int)> {
    let mut fds = [0 as c_int; 2];
    // SAFETY: `fds` has room for two descriptors.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) })?;
    crate::ownfds::claim(fds[0]);
    crate::ownfds::claim(fds[1]);
    Ok((fds[0], fds[1]))
}
