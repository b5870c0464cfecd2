//! sendfile(2) and splice(2) on SCTP sockets, with the messages Linux
//! makes of them.
//!
//! Linux's SCTP has no page-sending path of its own: the kernel cuts what
//! sendfile or splice moves into pieces (a page cache page or a pipe
//! buffer on Linux 6.1; up to 16 of them on kernels whose splice sends
//! batches) and each piece is one sctp_sendmsg, so one message. The shim
//! lets the running kernel do the same cutting into an AF_UNIX
//! SOCK_SEQPACKET pair (whose sendmsg also keeps each piece whole), then
//! sends each piece it reads back as one SCTP message. splice from an
//! SCTP socket reads one message (sock_splice_read's recvmsg) into the
//! pipe.

use std::os::raw::{c_int, c_uint, c_void};

use libc::{loff_t, off_t};

use super::fdtable::lookup;
use super::interpose::is_nonblocking;
use crate::sys::{self, real, set_errno};
use crate::usermem;

/// Most bytes asked of the kernel per round (from a page boundary of a
/// seekable source, so no piece is cut in two). The cutter takes fewer
/// when full (its queue holds net.unix.max_dgram_qlen pieces and its send
/// buffer's bytes), always whole pieces.
const ROUND: usize = 1 << 20;

/// Room for the largest piece: more than an AF_UNIX socket's default send
/// buffer, which bounds one message.
const PIECE: usize = 256 << 10;

/// The kernel's cutter: an AF_UNIX SOCK_SEQPACKET pair, both ends
/// non-blocking.
struct Cutter {
    tx: c_int,
    rx: c_int,
}

impl Cutter {
    fn new() -> Result<Cutter, c_int> {
        let (tx, rx) = sys::socketpair(
            libc::SOCK_SEQPACKET,
            libc::SOCK_NONBLOCK,
            libc::SOCK_NONBLOCK,
        )
        .map_err(|e| e.raw_os_error().unwrap_or(libc::ENOMEM))?;
        Ok(Cutter { tx, rx })
    }

    /// Sends each piece queued in the cutter as one message on the SCTP
    /// socket `out`. Returns the bytes sent and the error that stopped it.
    /// With `keep` (a source that cannot be read again), a full send
    /// buffer is waited out instead of answering EAGAIN, so that no piece
    /// already taken from the source is dropped.
    fn forward(&self, out: c_int, keep: bool, buf: &mut [u8]) -> (usize, Option<c_int>) {
        let mut sent = 0;
        loop {
            // SAFETY: our own buffer of its length.
            let n = unsafe {
                (real().recvfrom)(
                    self.rx,
                    buf.as_mut_ptr() as *mut c_void,
                    buf.len(),
                    libc::MSG_DONTWAIT,
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                )
            };
            if n <= 0 {
                return (sent, None);
            }
            loop {
                // SAFETY: our buffer's first `n` bytes; the send interposer.
                let r =
                    unsafe { super::send::send(out, buf.as_ptr() as *const c_void, n as usize, 0) };
                if r >= 0 {
                    sent += r as usize;
                    break;
                }
                let e = errno();
                if keep && e == libc::EAGAIN {
                    let mut p = [libc::pollfd {
                        fd: out,
                        events: libc::POLLOUT,
                        revents: 0,
                    }];
                    let _ = sys::poll(&mut p, 1000);
                    continue;
                }
                return (sent, Some(e));
            }
        }
    }
}

impl Drop for Cutter {
    fn drop(&mut self) {
        sys::close(self.tx);
        sys::close(self.rx);
    }
}

fn errno() -> c_int {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// The position of a seekable descriptor (None for a pipe or socket).
fn position(fd: c_int) -> Option<off_t> {
    // SAFETY: lseek without pointers.
    let p = unsafe { libc::lseek(fd, 0, libc::SEEK_CUR) };
    (p >= 0).then_some(p)
}

/// Moves up to `count` bytes from `feed` (the kernel's sendfile or splice
/// into the cutter, given the cutter's descriptor, a byte count and the
/// source position to read at, if any) to the SCTP socket `out`. `at` is
/// the source position for a seekable source; it ends just past what was
/// sent, so nothing the socket did not take is lost.
fn pump(
    out: c_int,
    count: usize,
    at: &mut Option<off_t>,
    mut feed: impl FnMut(c_int, usize, Option<&mut off_t>, bool) -> isize,
) -> Result<usize, c_int> {
    if count == 0 {
        return Ok(0);
    }
    let cut = Cutter::new()?;
    let nonblocking = is_nonblocking(out);
    let mut buf = vec![0u8; PIECE];
    let mut sent = 0usize;
    while sent < count {
        let want = (count - sent).min(ROUND - at.map_or(0, |p| p as usize % 4096));
        let mut pos = *at;
        let moved = feed(cut.tx, want, pos.as_mut(), sent > 0);
        if moved < 0 {
            let e = errno();
            return if sent > 0 { Ok(sent) } else { Err(e) };
        }
        if moved == 0 {
            break;
        }
        let (n, err) = cut.forward(out, nonblocking && at.is_none(), &mut buf);
        sent += n;
        if let Some(p) = at.as_mut() {
            *p += n as off_t;
        }
        if let Some(e) = err {
            return if sent > 0 { Ok(sent) } else { Err(e) };
        }
    }
    Ok(sent)
}

fn answer(r: Result<usize, c_int>) -> isize {
    match r {
        Ok(n) => n as isize,
        Err(e) => {
            set_errno(e);
            -1
        }
    }
}

/// sendfile(2): on an SCTP socket, the pieces the kernel cuts are
/// messages (see the module's text).
///
/// # Safety
/// As for sendfile(2) (`offset` is read and written with EFAULT checks).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sendfile(
    out: c_int,
    inp: c_int,
    offset: *mut off_t,
    count: usize,
) -> isize {
    if lookup(out).is_none() {
        // SAFETY: forwarding unchanged.
        return unsafe { (real().sendfile)(out, inp, offset, count) };
    }
    answer(send_file(out, inp, offset, count))
}

/// sendfile64(2), the same call under its large-file name.
///
/// # Safety
/// As for sendfile(2).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sendfile64(
    out: c_int,
    inp: c_int,
    offset: *mut off_t,
    count: usize,
) -> isize {
    // SAFETY: as for sendfile (off_t is 64 bits on the targets we build).
    unsafe { sendfile(out, inp, offset, count) }
}

fn send_file(out: c_int, inp: c_int, offset: *mut off_t, count: usize) -> Result<usize, c_int> {
    let given = !offset.is_null();
    let mut at = if given {
        Some(usermem::get(offset as *const off_t)?)
    } else {
        position(inp)
    };
    let start = at;
    let r = pump(out, count, &mut at, |tx, want, pos, _| {
        let p = pos.map_or(std::ptr::null_mut(), |p| p as *mut off_t);
        // SAFETY: the kernel's sendfile into our cutter; `p` is ours or null.
        unsafe { (real().sendfile)(tx, inp, p, want) }
    });
    match (given, at) {
        (true, Some(p)) => usermem::put(offset, p)?,
        (false, Some(p)) if start.is_some() => {
            // SAFETY: lseek without pointers.
            unsafe { libc::lseek(inp, p, libc::SEEK_SET) };
        }
        _ => {}
    }
    r
}

/// splice(2): into an SCTP socket each piece the kernel cuts is a message;
/// out of one, one message (or its first `len` bytes) goes to the pipe.
///
/// # Safety
/// As for splice(2).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn splice(
    fd_in: c_int,
    off_in: *mut loff_t,
    fd_out: c_int,
    off_out: *mut loff_t,
    len: usize,
    flags: c_uint,
) -> isize {
    match (lookup(fd_in), lookup(fd_out)) {
        // SAFETY: forwarding unchanged.
        (None, None) => unsafe { (real().splice)(fd_in, off_in, fd_out, off_out, len, flags) },
        (Some(_), Some(_)) => answer(Err(libc::EINVAL)),
        (None, Some(_)) => answer(splice_in(fd_in, off_in, fd_out, off_out, len, flags)),
        (Some(_), None) => answer(splice_out(fd_in, off_in, fd_out, off_out, len, flags)),
    }
}

/// splice from a pipe into an SCTP socket (do_splice: one side must be a
/// pipe, EINVAL otherwise; an offset on the pipe is ESPIPE, on the socket
/// EINVAL).
fn splice_in(
    fd_in: c_int,
    off_in: *mut loff_t,
    out: c_int,
    off_out: *mut loff_t,
    len: usize,
    flags: c_uint,
) -> Result<usize, c_int> {
    if !sys::is_fifo(fd_in) {
        return Err(libc::EINVAL);
    }
    if !off_in.is_null() {
        return Err(libc::ESPIPE);
    }
    if !off_out.is_null() {
        return Err(libc::EINVAL);
    }
    pump(out, len, &mut None, |tx, want, _, later| {
        // Only the first round waits for the pipe, as splice does.
        let f = (flags & !libc::SPLICE_F_MORE) | if later { libc::SPLICE_F_NONBLOCK } else { 0 };
        // SAFETY: the kernel's splice from the caller's pipe into our cutter.
        unsafe {
            (real().splice)(
                fd_in,
                std::ptr::null_mut(),
                tx,
                std::ptr::null_mut(),
                want,
                f,
            )
        }
    })
}

/// splice from an SCTP socket into a pipe: one receive (the next message
/// or its next piece), written to the pipe.
fn splice_out(
    inp: c_int,
    off_in: *mut loff_t,
    out: c_int,
    off_out: *mut loff_t,
    len: usize,
    flags: c_uint,
) -> Result<usize, c_int> {
    // (do_splice: EINVAL for an offset on the socket, ESPIPE on the pipe.)
    if !off_in.is_null() {
        return Err(libc::EINVAL);
    }
    if !off_out.is_null() {
        return Err(libc::ESPIPE);
    }
    if !sys::is_fifo(out) {
        return Err(libc::EINVAL);
    }
    if len == 0 {
        return Ok(0);
    }
    // SPLICE_F_NONBLOCK is about the pipe: the socket's read waits unless
    // the socket is non-blocking (generic_file_splice_read).
    let _ = flags;
    let mut buf = vec![0u8; len.min(PIECE)];
    // SAFETY: our buffer; the recv interposer.
    let n = unsafe { super::recv::recv(inp, buf.as_mut_ptr() as *mut c_void, buf.len(), 0) };
    if n < 0 {
        return Err(errno());
    }
    let mut at = 0;
    while at < n as usize {
        // SAFETY: our buffer's unwritten rest, to the caller's pipe.
        let w =
            unsafe { (real().write)(out, buf[at..].as_ptr() as *const c_void, n as usize - at) };
        if w < 0 {
            if errno() == libc::EINTR {
                continue;
            }
            return if at > 0 { Ok(at) } else { Err(errno()) };
        }
        at += w as usize;
    }
    Ok(at)
}
