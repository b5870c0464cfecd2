//! Whether a Unix socket still exists, asked of the kernel by inode
//! (NETLINK_SOCK_DIAG, unix_diag's exact lookup): one request instead of a
//! read of all of /proc/net/unix.

use std::os::raw::{c_int, c_void};

use super::{close, real};

/// SOCK_DIAG_BY_FAMILY (linux/sock_diag.h).
const SOCK_DIAG_BY_FAMILY: u16 = 20;
/// A cookie that matches any socket (INET_DIAG_NOCOOKIE).
const NO_COOKIE: u32 = !0;

/// struct unix_diag_req (linux/unix_diag.h).
#[repr(C)]
struct UnixDiagReq {
    family: u8,
    protocol: u8,
    pad: u16,
    states: u32,
    ino: u32,
    show: u32,
    cookie: [u32; 2],
}

#[repr(C)]
struct Request {
    hdr: libc::nlmsghdr,
    req: UnixDiagReq,
}

/// Whether the Unix socket with inode `ino` exists in this network
/// namespace; None when the kernel cannot say (no unix_diag).
pub fn unix_socket_exists(ino: u64) -> Option<bool> {
    let ino = u32::try_from(ino).ok()?;
    // SAFETY: plain socket(2) call.
    let fd = unsafe {
        (real().socket)(
            libc::AF_NETLINK,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            libc::NETLINK_SOCK_DIAG,
        )
    };
    if fd < 0 {
        return None;
    }
    let r = ask(fd, ino);
    close(fd);
    r
}

fn ask(fd: c_int, ino: u32) -> Option<bool> {
    let msg = Request {
        hdr: libc::nlmsghdr {
            nlmsg_len: std::mem::size_of::<Request>() as u32,
            nlmsg_type: SOCK_DIAG_BY_FAMILY,
            nlmsg_flags: libc::NLM_F_REQUEST as u16,
            nlmsg_seq: 1,
            nlmsg_pid: 0,
        },
        req: UnixDiagReq {
            family: libc::AF_UNIX as u8,
            protocol: 0,
            pad: 0,
            states: !0,
            ino,
            show: 0,
            cookie: [NO_COOKIE, NO_COOKIE],
        },
    };
    // SAFETY: `msg` is a plain struct of `nlmsg_len` bytes; the kernel is
    // the default destination of a netlink socket.
    let sent = unsafe {
        (real().write)(
            fd,
            &msg as *const Request as *const c_void,
            std::mem::size_of::<Request>(),
        )
    };
    if sent < 0 {
        return None;
    }
    let mut buf = [0u64; 128];
    // SAFETY: `buf` is writable for its whole size.
    let n = unsafe {
        (real().read)(
            fd,
            buf.as_mut_ptr() as *mut c_void,
            std::mem::size_of_val(&buf),
        )
    };
    let hdr_len = std::mem::size_of::<libc::nlmsghdr>();
    if n < hdr_len as isize {
        return None;
    }
    // SAFETY: at least a header was received into the aligned buffer.
    let hdr = unsafe { &*(buf.as_ptr() as *const libc::nlmsghdr) };
    if hdr.nlmsg_type == SOCK_DIAG_BY_FAMILY {
        return Some(true);
    }
    if hdr.nlmsg_type as c_int == libc::NLMSG_ERROR && n >= hdr_len as isize + 4 {
        // SAFETY: the error code follows the header (struct nlmsgerr).
        let err = unsafe { *((buf.as_ptr() as *const u8).add(hdr_len) as *const i32) };
        return (err == -libc::ENOENT).then_some(false);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socket_exists_until_closed() {
        let (a, b) = crate::sys::socketpair(libc::SOCK_STREAM, 0, 0).unwrap();
        let ino = crate::ipc::transport::socket_inode(a).unwrap();
        // (A kernel without unix_diag cannot say: nothing to check there.)
        let Some(there) = unix_socket_exists(ino) else {
            return;
        };
        assert!(there);
        close(a);
        assert_eq!(unix_socket_exists(ino), Some(false));
        close(b);
    }
}
