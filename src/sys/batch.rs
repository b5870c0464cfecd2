//! Fewer system calls per packet on the UDP side: segmentation offload on
//! send (UDP_SEGMENT: one sendmsg carries up to 64 equal-sized datagrams
//! to one destination) and receive offload (UDP_GRO: one recvmsg returns
//! several datagrams of one sender, cut at the size the kernel reports).
//! Where the kernel lacks them (gVisor, old kernels) datagrams go one by one.

use std::io;
use std::net::SocketAddr;
use std::os::raw::{c_int, c_void};
use std::sync::atomic::{AtomicBool, Ordering};

use libc::{sockaddr, sockaddr_storage, socklen_t};

use super::cmsg::{Control, SendOpts};
use super::{cvt_size, from_sockaddr, real, set_int_option, to_sockaddr, unmap};

/// One sendmsg of `iov` to `to` with `o`'s control messages, without
/// SIGPIPE.
pub(super) fn send_iov(
    fd: c_int,
    iov: &mut [libc::iovec],
    to: &SocketAddr,
    o: &SendOpts,
) -> io::Result<usize> {
    let (ss, len) = to_sockaddr(to);
    let mut control = Control::new(to, o);
    // SAFETY: an all-zero msghdr is valid; the name, iovecs and control
    // buffer it points at live until sendmsg returns.
    unsafe {
        let mut m: libc::msghdr = std::mem::zeroed();
        m.msg_name = &ss as *const _ as *mut c_void;
        m.msg_namelen = len;
        m.msg_iov = iov.as_mut_ptr();
        m.msg_iovlen = iov.len();
        control.attach(&mut m);
        cvt_size((real().sendmsg)(fd, &m, libc::MSG_NOSIGNAL))
    }
}

pub(super) const SOL_UDP: c_int = 17;
pub(super) const UDP_SEGMENT: c_int = 103;
const UDP_GRO: c_int = 104;

/// Most datagrams in one segmented send (the kernel's UDP_MAX_SEGMENTS).
pub const GSO_MAX_SEGMENTS: usize = 64;
/// Most bytes in one segmented send (one IP packet's worth of UDP payload).
pub const GSO_MAX_BYTES: usize = 65_000;

static GSO_OFF: AtomicBool = AtomicBool::new(false);

/// Whether segmented sends are worth trying (not refused by this kernel).
pub fn gso_available() -> bool {
    !GSO_OFF.load(Ordering::Relaxed)
}

/// Sends `segs`, each of the first's size but the last (which may be
/// shorter), to `to` in one system call with UDP_SEGMENT; each leaves as
/// its own datagram (with `o`'s traffic class and source). A kernel
/// without segmentation offload turns it off for the process (the caller
/// then sends them one by one).
pub fn send_segments(
    fd: c_int,
    segs: &[&[u8]],
    to: &SocketAddr,
    o: &SendOpts,
) -> io::Result<usize> {
    let mut iov: Vec<libc::iovec> = segs
        .iter()
        .map(|s| libc::iovec {
            iov_base: s.as_ptr() as *mut c_void,
            iov_len: s.len(),
        })
        .collect();
    let o = SendOpts {
        segment: Some(segs.first().map_or(0, |s| s.len()) as u16),
        ..*o
    };
    let r = send_iov(fd, &mut iov, to, &o);
    if let Err(e) = &r
        && matches!(
            e.raw_os_error(),
            Some(libc::EIO | libc::ENOPROTOOPT | libc::EOPNOTSUPP)
        )
    {
        GSO_OFF.store(true, Ordering::Relaxed);
    }
    r
}

/// Asks for receive offload on a UDP socket (ignored where unsupported).
pub fn enable_gro(fd: c_int) {
    set_int_option(fd, SOL_UDP, UDP_GRO, 1);
}

/// Receives one datagram, or with receive offload several of one sender:
/// (bytes, sender, size of each datagram but the last).
pub fn recv_coalesced(fd: c_int, buf: &mut [u8]) -> io::Result<(usize, SocketAddr, usize)> {
    // SAFETY: zeroed sockaddr_storage / msghdr are valid starting values.
    let mut ss: sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr() as *mut c_void,
        iov_len: buf.len(),
    };
    let mut control = [0u64; 8];
    // SAFETY: as above.
    let mut m: libc::msghdr = unsafe { std::mem::zeroed() };
    m.msg_name = &mut ss as *mut _ as *mut c_void;
    m.msg_namelen = std::mem::size_of::<sockaddr_storage>() as socklen_t;
    m.msg_iov = &mut iov;
    m.msg_iovlen = 1;
    m.msg_control = control.as_mut_ptr() as *mut c_void;
    m.msg_controllen = std::mem::size_of_val(&control);
    // SAFETY: every pointer in `m` refers to a live local buffer of the stated size.
    let n = cvt_size(unsafe { (real().recvmsg)(fd, &mut m, libc::MSG_DONTWAIT) })?;
    let mut seg = n;
    // SAFETY: walking the control buffer the kernel filled, with libc's CMSG macros.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&m);
        while !c.is_null() {
            if (*c).cmsg_level == SOL_UDP && (*c).cmsg_type == UDP_GRO {
                let s = std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const c_int);
                if s > 0 {
                    seg = s as usize;
                }
            }
            c = libc::CMSG_NXTHDR(&m, c);
        }
    }
    // SAFETY: the kernel wrote `msg_namelen` bytes into `ss`.
    let from = unsafe { from_sockaddr(&ss as *const _ as *const sockaddr, m.msg_namelen) }
        .ok_or_else(|| io::Error::from_raw_os_error(libc::EAFNOSUPPORT))?;
    Ok((n, unmap(from), seg.max(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segmented_send_arrives_as_separate_datagrams() {
        let rx = crate::sys::udp_bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
        let tx = crate::sys::udp_bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
        let to = crate::sys::local_addr(rx).unwrap();
        let a = [1u8; 1000];
        let b = [2u8; 1000];
        let c = [3u8; 300];
        let sent = send_segments(tx, &[&a, &b, &c], &to, &SendOpts::default());
        if !gso_available() {
            return; // This kernel has no UDP segmentation offload.
        }
        assert_eq!(sent.unwrap(), 2300);
        std::thread::sleep(std::time::Duration::from_millis(20));
        let mut buf = vec![0u8; 65536];
        let mut got = Vec::new();
        while let Ok((n, _, seg)) = recv_coalesced(rx, &mut buf) {
            got.extend(buf[..n].chunks(seg).map(|d| (d.len(), d[0])));
        }
        assert_eq!(got, vec![(1000, 1), (1000, 2), (300, 3)]);
        crate::sys::close(rx);
        crate::sys::close(tx);
    }
}
