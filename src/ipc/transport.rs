//! Frames over a Unix stream socket, each with at most one descriptor
//! (SCM_RIGHTS), and the daemon's abstract-namespace address. Every call
//! goes to the real libc functions: the interposers are not in the way.

use std::io;
use std::os::raw::{c_int, c_void};

use super::MAX_FRAME;
use crate::sys::real;

fn last() -> io::Error {
    io::Error::last_os_error()
}

/// Room for one SCM_RIGHTS message of up to 8 descriptors.
const CMSG_ROOM: usize = 64;

/// Sends one frame (length prefix and `body`), with `fd` attached if given.
pub fn send_frame(sock: c_int, body: &[u8], fd: Option<c_int>) -> io::Result<()> {
    let mut frame = Vec::with_capacity(4 + body.len());
    frame.extend_from_slice(&(body.len() as u32).to_le_bytes());
    frame.extend_from_slice(body);
    let mut cbuf = [0u64; CMSG_ROOM / 8];
    let mut sent = 0;
    while sent < frame.len() {
        let mut iov = libc::iovec {
            iov_base: frame[sent..].as_ptr() as *mut c_void,
            iov_len: frame.len() - sent,
        };
        // SAFETY: a zeroed msghdr is valid; the pointers set below outlive the call.
        let mut m: libc::msghdr = unsafe { std::mem::zeroed() };
        m.msg_iov = &mut iov;
        m.msg_iovlen = 1;
        if let (Some(fd), 0) = (fd, sent) {
            // SAFETY: CMSG_SPACE/CMSG_LEN are pure size computations.
            let space = unsafe { libc::CMSG_SPACE(4) } as usize;
            m.msg_control = cbuf.as_mut_ptr() as *mut c_void;
            m.msg_controllen = space;
            // SAFETY: `cbuf` has room for one cmsg carrying one int (space <= CMSG_ROOM).
            unsafe {
                let c = libc::CMSG_FIRSTHDR(&m);
                (*c).cmsg_level = libc::SOL_SOCKET;
                (*c).cmsg_type = libc::SCM_RIGHTS;
                (*c).cmsg_len = libc::CMSG_LEN(4) as usize;
                std::ptr::write_unaligned(libc::CMSG_DATA(c) as *mut c_int, fd);
            }
        }
        // SAFETY: `m` describes valid buffers for the duration of the call.
        let n = unsafe { (real().sendmsg)(sock, &m, libc::MSG_NOSIGNAL) };
        if n < 0 {
            let e = last();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        sent += n as usize;
    }
    Ok(())
}

/// Reads exactly `buf.len()` bytes; false at EOF before the first byte.
fn read_exact(sock: c_int, buf: &mut [u8]) -> io::Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        // SAFETY: the buffer is valid for the remaining length.
        let n = unsafe {
            (real().read)(
                sock,
                buf[got..].as_mut_ptr() as *mut c_void,
                buf.len() - got,
            )
        };
        if n < 0 {
            let e = last();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            return if got == 0 {
                Ok(false)
            } else {
                Err(io::ErrorKind::UnexpectedEof.into())
            };
        }
        got += n as usize;
    }
    Ok(true)
}

/// One frame received: its body, the descriptor that came with it
/// (close-on-exec), and whether a descriptor was sent but could not be
/// taken (the receiver is at its RLIMIT_NOFILE: the kernel drops it and
/// says so with MSG_CTRUNC).
pub type Frame = (Vec<u8>, Option<c_int>, bool);

/// Receives one frame; None at a clean end of stream.
pub fn recv_frame(sock: c_int) -> io::Result<Option<Frame>> {
    recv_frame_in(sock, CMSG_ROOM)
}

/// `recv_frame` with `room` bytes for control data.
fn recv_frame_in(sock: c_int, room: usize) -> io::Result<Option<Frame>> {
    let mut len = [0u8; 4];
    let mut cbuf = [0u64; CMSG_ROOM / 8];
    let mut fds = Vec::new();
    let mut got = 0;
    let mut lost = false;
    while got == 0 {
        let mut iov = libc::iovec {
            iov_base: len.as_mut_ptr() as *mut c_void,
            iov_len: 4,
        };
        // SAFETY: a zeroed msghdr is valid; the pointers set below outlive the call.
        let mut m: libc::msghdr = unsafe { std::mem::zeroed() };
        m.msg_iov = &mut iov;
        m.msg_iovlen = 1;
        m.msg_control = cbuf.as_mut_ptr() as *mut c_void;
        m.msg_controllen = room.min(CMSG_ROOM);
        // SAFETY: `m` describes valid buffers for the duration of the call.
        let n = unsafe { (real().recvmsg)(sock, &mut m, libc::MSG_CMSG_CLOEXEC) };
        if n < 0 {
            let e = last();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            return Ok(None);
        }
        got = n as usize;
        lost = m.msg_flags & libc::MSG_CTRUNC != 0;
        // SAFETY: walking the control data the kernel wrote into `cbuf`.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&m);
            while !c.is_null() {
                if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                    let data = libc::CMSG_DATA(c) as *const c_int;
                    let count = ((*c).cmsg_len - libc::CMSG_LEN(0) as usize) / 4;
                    for i in 0..count {
                        fds.push(std::ptr::read_unaligned(data.add(i)));
                    }
                }
                c = libc::CMSG_NXTHDR(&m, c);
            }
        }
    }
    // Only one descriptor is ever meant: any others are closed.
    let fd = fds.first().copied();
    for &extra in fds.iter().skip(1) {
        crate::sys::close(extra);
    }
    let fail = |e: io::Error| {
        if let Some(fd) = fd {
            crate::sys::close(fd);
        }
        Err(e)
    };
    if got < 4 {
        match read_exact(sock, &mut len[got..]) {
            Ok(true) => {}
            Ok(false) => return fail(io::ErrorKind::UnexpectedEof.into()),
            Err(e) => return fail(e),
        }
    }
    let n = u32::from_le_bytes(len) as usize;
    if n > MAX_FRAME {
        return fail(io::ErrorKind::InvalidData.into());
    }
    let mut body = vec![0u8; n];
    let lost = lost && fd.is_none();
    match read_exact(sock, &mut body) {
        Ok(true) => Ok(Some((body, fd, lost))),
        Ok(false) if n == 0 => Ok(Some((body, fd, lost))),
        Ok(false) => fail(io::ErrorKind::UnexpectedEof.into()),
        Err(e) => fail(e),
    }
}

/// An abstract-namespace sockaddr_un for `name` (without the leading NUL).
fn abstract_addr(name: &str) -> (libc::sockaddr_un, libc::socklen_t) {
    // SAFETY: a zeroed sockaddr_un is valid.
    let mut a: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    a.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let bytes = name.as_bytes();
    let n = bytes.len().min(a.sun_path.len() - 1);
    for (i, &b) in bytes[..n].iter().enumerate() {
        a.sun_path[i + 1] = b as libc::c_char;
    }
    let len = std::mem::size_of::<libc::sa_family_t>() + 1 + n;
    (a, len as libc::socklen_t)
}

fn unix_socket() -> io::Result<c_int> {
    // SAFETY: plain socket(2) call.
    let fd = unsafe { (real().socket)(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 { Err(last()) } else { Ok(fd) }
}

/// A connection to the daemon listening on abstract `name`.
pub fn connect_abstract(name: &str) -> io::Result<c_int> {
    let fd = unix_socket()?;
    let (a, len) = abstract_addr(name);
    loop {
        // SAFETY: `a` is a valid sockaddr_un of `len` bytes.
        let r = unsafe { (real().connect)(fd, &a as *const _ as *const libc::sockaddr, len) };
        if r == 0 {
            return Ok(fd);
        }
        let e = last();
        if e.kind() != io::ErrorKind::Interrupted {
            crate::sys::close(fd);
            return Err(e);
        }
    }
}

/// A listening socket on abstract `name` (EADDRINUSE when a daemon has it).
pub fn listen_abstract(name: &str) -> io::Result<c_int> {
    let fd = unix_socket()?;
    let (a, len) = abstract_addr(name);
    // SAFETY: `a` is a valid sockaddr_un of `len` bytes.
    let r = unsafe { (real().bind)(fd, &a as *const _ as *const libc::sockaddr, len) };
    // SAFETY: plain listen(2).
    if r < 0 || unsafe { (real().listen)(fd, 512) } < 0 {
        let e = last();
        crate::sys::close(fd);
        return Err(e);
    }
    Ok(fd)
}

/// The (pid, uid) of the process at the other end of Unix socket `fd`.
pub fn peer_cred(fd: c_int) -> Option<(u32, u32)> {
    // SAFETY: a zeroed ucred is valid.
    let mut c: libc::ucred = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: `c` has room for `len` bytes.
    let r = unsafe {
        (real().getsockopt)(
            fd,
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            &mut c as *mut _ as *mut c_void,
            &mut len,
        )
    };
    (r == 0).then_some((c.pid as u32, c.uid))
}

/// The inode of the socket behind `fd`, if it is one.
pub fn socket_inode(fd: c_int) -> Option<u64> {
    // SAFETY: a zeroed stat is valid; fstat writes at most its size.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid out pointer.
    let r = unsafe { libc::fstat(fd, &mut st) };
    (r == 0 && st.st_mode & libc::S_IFMT == libc::S_IFSOCK).then_some(st.st_ino)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_and_descriptors_cross_a_socketpair() {
        let (a, b) = crate::sys::socketpair(libc::SOCK_STREAM, 0, 0).unwrap();
        let (x, y) = crate::sys::socketpair(libc::SOCK_STREAM, 0, 0).unwrap();
        let big = vec![7u8; 300_000];
        let t = std::thread::spawn(move || {
            send_frame(a, b"first", Some(x)).unwrap();
            send_frame(a, &big, None).unwrap();
            send_frame(a, b"", None).unwrap();
            crate::sys::close(a);
        });
        let (body, fd, lost) = recv_frame(b).unwrap().unwrap();
        assert_eq!(body, b"first");
        assert!(!lost);
        let fd = fd.unwrap();
        assert_eq!(socket_inode(fd), socket_inode(x));
        let (body, fd2, lost) = recv_frame(b).unwrap().unwrap();
        assert!(body.len() == 300_000 && body.iter().all(|&v| v == 7) && fd2.is_none());
        assert!(!lost);
        assert_eq!(recv_frame(b).unwrap().unwrap().0, b"");
        t.join().unwrap();
        assert!(recv_frame(b).unwrap().is_none());
        for f in [b, x, y, fd] {
            crate::sys::close(f);
        }
    }

    #[test]
    fn a_descriptor_the_receiver_cannot_take_is_reported_lost() {
        let (a, b) = crate::sys::socketpair(libc::SOCK_STREAM, 0, 0).unwrap();
        let (x, y) = crate::sys::socketpair(libc::SOCK_STREAM, 0, 0).unwrap();
        send_frame(a, b"call", Some(x)).unwrap();
        send_frame(a, b"plain", None).unwrap();
        // No room for control data: the kernel drops the descriptor, as it
        // does for a receiver at its descriptor limit.
        let (body, fd, lost) = recv_frame_in(b, 0).unwrap().unwrap();
        assert_eq!((body.as_slice(), fd, lost), (&b"call"[..], None, true));
        let (body, fd, lost) = recv_frame_in(b, 0).unwrap().unwrap();
        assert_eq!((body.as_slice(), fd, lost), (&b"plain"[..], None, false));
        for f in [a, b, x, y] {
            crate::sys::close(f);
        }
    }
}
