//! The libc boundary: the real libc functions, found with
//! `dlsym(RTLD_NEXT, ..)` so that calls made by the engine never re-enter
//! our own interposers, and small safe wrappers over them.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::raw::{c_int, c_void};

use libc::{sockaddr, sockaddr_in, sockaddr_in6, sockaddr_storage, socklen_t};

mod batch;
mod cmsg;
mod diag;
mod real;
mod route;
pub mod sockpage;
mod wait;
pub use batch::{
    GSO_MAX_BYTES, GSO_MAX_SEGMENTS, enable_gro, gso_available, recv_coalesced, send_segments,
};
pub use cmsg::SendOpts;
pub use diag::unix_socket_exists;
pub use real::{Real, real};
pub use route::{
    addr_scope, host_addrs, route_mtu, send_fragmentable, set_dont_fragment, source_ip_for,
};
pub use wait::{epoll_create, epoll_ctl, epoll_wait, poll, readable_within, wake_pipe};

fn cvt(r: c_int) -> io::Result<c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn cvt_size(r: isize) -> io::Result<usize> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as usize)
    }
}

/// A sockaddr buffer for `addr`.
pub fn to_sockaddr(addr: &SocketAddr) -> (sockaddr_storage, socklen_t) {
    // SAFETY: sockaddr_storage is plain old data; all-zero is a valid value.
    let mut ss: sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in.
            unsafe { std::ptr::write(&mut ss as *mut _ as *mut sockaddr_in, sin) };
            std::mem::size_of::<sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in6.
            unsafe { std::ptr::write(&mut ss as *mut _ as *mut sockaddr_in6, sin6) };
            std::mem::size_of::<sockaddr_in6>()
        }
    };
    (ss, len as socklen_t)
}

/// The bytes of `addr` as a `sockaddr_in` / `sockaddr_in6`.
pub fn sockaddr_bytes(addr: &SocketAddr) -> Vec<u8> {
    let (ss, n) = to_sockaddr(addr);
    // SAFETY: sockaddr_storage is plain bytes and `n` is within it.
    unsafe { std::slice::from_raw_parts(&ss as *const sockaddr_storage as *const u8, n as usize) }
        .to_vec()
}

/// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) as the IPv4 address it
/// stands for: the engine keeps IPv4 peers in one form whichever family of
/// UDP socket (dual-stack AF_INET6 or AF_INET) they arrive on.
pub fn unmap(a: SocketAddr) -> SocketAddr {
    match a {
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(ip) => SocketAddr::new(ip.into(), v6.port()),
            None => a,
        },
        v4 => v4,
    }
}

/// An IPv4 address as an AF_INET6 socket reports it: v4-mapped when the
/// socket wants that (SCTP_I_WANT_MAPPED_V4_ADDR, on by default as in Linux).
pub fn present(a: SocketAddr, v6_socket: bool, mapped: bool) -> SocketAddr {
    match a {
        SocketAddr::V4(v4) if v6_socket && mapped => {
            SocketAddr::new(v4.ip().to_ipv6_mapped().into(), v4.port())
        }
        other => other,
    }
}

/// Reads a socket address from a C buffer; `None` for other families or short lengths.
///
/// # Safety
/// `sa` must point to at least `len` readable bytes.
pub unsafe fn from_sockaddr(sa: *const sockaddr, len: socklen_t) -> Option<SocketAddr> {
    if sa.is_null() || (len as usize) < std::mem::size_of::<libc::sa_family_t>() {
        return None;
    }
    // SAFETY: caller guarantees `len` readable bytes; the family field comes first.
    let family = c_int::from(unsafe { std::ptr::read_unaligned(sa as *const libc::sa_family_t) });
    match family {
        libc::AF_INET if len as usize >= std::mem::size_of::<sockaddr_in>() => {
            // SAFETY: length checked just above.
            let sin = unsafe { std::ptr::read_unaligned(sa as *const sockaddr_in) };
            let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
            Some(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 if len as usize >= std::mem::size_of::<sockaddr_in6>() => {
            // SAFETY: length checked just above.
            let s6 = unsafe { std::ptr::read_unaligned(sa as *const sockaddr_in6) };
            let ip = Ipv6Addr::from(s6.sin6_addr.s6_addr);
            Some(SocketAddr::V6(SocketAddrV6::new(
                ip,
                u16::from_be(s6.sin6_port),
                s6.sin6_flowinfo,
                s6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

/// A non-blocking UDP socket bound to `addr` (port 0 picks an ephemeral one).
pub fn udp_bind(addr: SocketAddr) -> io::Result<c_int> {
    udp_bind_as(addr, false)
}

/// As [`udp_bind`] for an IPv6 address, taking IPv6 only (IPV6_V6ONLY), so
/// that an IPv4 socket can have the same port.
pub fn udp_bind_v6only(addr: SocketAddr) -> io::Result<c_int> {
    udp_bind_as(addr, true)
}

fn udp_bind_as(addr: SocketAddr, v6only: bool) -> io::Result<c_int> {
    let r = real();
    let domain = if addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    // SAFETY: plain socket(2) call.
    let fd = cvt(unsafe {
        (r.socket)(
            domain,
            libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    })?;
    crate::ownfds::claim(fd);
    if v6only && addr.is_ipv6() {
        let one: c_int = 1;
        // SAFETY: `one` is a c_int option value of the size given.
        unsafe {
            (r.setsockopt)(
                fd,
                libc::IPPROTO_IPV6,
                libc::IPV6_V6ONLY,
                &one as *const _ as *const c_void,
                4,
            )
        };
    }
    let (ss, len) = to_sockaddr(&addr);
    // SAFETY: `ss` holds a valid sockaddr of `len` bytes.
    if let Err(e) = cvt(unsafe { (r.bind)(fd, &ss as *const _ as *const sockaddr, len) }) {
        close(fd);
        return Err(e);
    }
    // Ask for ICMP errors (port unreachable when the peer's process is gone):
    // the engine reads them from the error queue (RFC 9260 Appendix C).
    let one: c_int = 1;
    let (level, opt) = if addr.is_ipv4() {
        (libc::IPPROTO_IP, libc::IP_RECVERR)
    } else {
        (libc::IPPROTO_IPV6, libc::IPV6_RECVERR)
    };
    // SAFETY: `one` is a c_int option value of the size given.
    unsafe { (r.setsockopt)(fd, level, opt, &one as *const _ as *const c_void, 4) };
    // Never fragmented: a datagram past the path MTU fails with EMSGSIZE
    // and the engine learns the smaller MTU (a dual-stack IPv6 socket also
    // carries IPv4).
    set_dont_fragment(fd, false, true);
    if addr.is_ipv6() {
        set_dont_fragment(fd, true, true);
    }
    enable_gro(fd);
    let big: c_int = 4 << 20;
    for opt in [libc::SO_RCVBUF, libc::SO_SNDBUF] {
        // SAFETY: `big` is a c_int option value of the size given.
        unsafe {
            (r.setsockopt)(
                fd,
                libc::SOL_SOCKET,
                opt,
                &big as *const _ as *const c_void,
                4,
            )
        };
    }
    Ok(fd)
}

/// The local address a socket is bound to.
pub fn local_addr(fd: c_int) -> io::Result<SocketAddr> {
    local_addr_of(fd)
}

/// setsockopt of an int on one of our descriptors (the answer unused).
pub fn set_int_option(fd: c_int, level: c_int, name: c_int, v: c_int) {
    // SAFETY: setsockopt with a local int of its size.
    unsafe {
        (real().setsockopt)(
            fd,
            level,
            name,
            &v as *const c_int as *const c_void,
            std::mem::size_of::<c_int>() as socklen_t,
        )
    };
}

/// net.core.somaxconn, the most a listen() backlog can be (4096, Linux's
/// default, when it cannot be read).
pub fn somaxconn() -> u32 {
    static V: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *V.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/net/core/somaxconn")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(4096)
    })
}

fn local_addr_of(fd: c_int) -> io::Result<SocketAddr> {
    // SAFETY: zeroed sockaddr_storage is valid; getsockname writes at most `len` bytes.
    let mut ss: sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<sockaddr_storage>() as socklen_t;
    // SAFETY: buffer and length are valid.
    cvt(unsafe { (real().getsockname)(fd, &mut ss as *mut _ as *mut sockaddr, &mut len) })?;
    // SAFETY: the kernel wrote `len` bytes into `ss`.
    unsafe { from_sockaddr(&ss as *const _ as *const sockaddr, len) }
        .ok_or_else(|| io::Error::from_raw_os_error(libc::EAFNOSUPPORT))
}

/// Receives one datagram.
pub fn recv_from(fd: c_int, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
    // SAFETY: zeroed sockaddr_storage is valid.
    let mut ss: sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<sockaddr_storage>() as socklen_t;
    // SAFETY: buffer pointers and lengths are valid for the call.
    let n = cvt_size(unsafe {
        (real().recvfrom)(
            fd,
            buf.as_mut_ptr() as *mut c_void,
            buf.len(),
            0,
            &mut ss as *mut _ as *mut sockaddr,
            &mut len,
        )
    })?;
    // SAFETY: the kernel wrote `len` bytes into `ss`.
    let from = unsafe { from_sockaddr(&ss as *const _ as *const sockaddr, len) }
        .ok_or_else(|| io::Error::from_raw_os_error(libc::EAFNOSUPPORT))?;
    Ok((n, unmap(from)))
}

/// An ICMP error queued on a UDP socket: where the failed datagram went,
/// whether it means "port unreachable", the path MTU it reports when the
/// datagram was too big (ICMP "fragmentation needed", ICMPv6 "packet too
/// big"; the kernel's own EMSGSIZE comes back from the send call), and the
/// datagram's first bytes.
pub struct IcmpError {
    pub to: SocketAddr,
    pub port_unreachable: bool,
    pub too_big: Option<u32>,
    pub payload: Vec<u8>,
}

/// Takes one error from a socket's error queue (IP_RECVERR), if any.
pub fn recv_error(fd: c_int) -> Option<IcmpError> {
    let mut data = [0u8; 256];
    let mut ctrl = [0u64; 64];
    // SAFETY: zeroed sockaddr_storage / msghdr are valid starting values.
    let mut name: sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr() as *mut c_void,
        iov_len: data.len(),
    };
    // SAFETY: as above.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = &mut name as *mut _ as *mut c_void;
    msg.msg_namelen = std::mem::size_of::<sockaddr_storage>() as socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = ctrl.as_mut_ptr() as *mut c_void;
    msg.msg_controllen = std::mem::size_of_val(&ctrl);
    // SAFETY: every pointer in `msg` refers to a live local buffer of the stated size.
    let n = unsafe { (real().recvmsg)(fd, &mut msg, libc::MSG_ERRQUEUE | libc::MSG_DONTWAIT) };
    if n < 0 {
        return None;
    }
    // SAFETY: the kernel wrote `msg_namelen` bytes of address.
    let to = unsafe { from_sockaddr(&name as *const _ as *const sockaddr, msg.msg_namelen) }
        .map(unmap)?;
    let mut port_unreachable = false;
    let mut too_big = None;
    // SAFETY: walking the control buffer the kernel filled, with libc's CMSG macros.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            let h = &*c;
            let is_err = (h.cmsg_level == libc::IPPROTO_IP && h.cmsg_type == libc::IP_RECVERR)
                || (h.cmsg_level == libc::IPPROTO_IPV6 && h.cmsg_type == libc::IPV6_RECVERR);
            if is_err {
                let ee =
                    std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const libc::sock_extended_err);
                port_unreachable |=
                    (ee.ee_origin == libc::SO_EE_ORIGIN_ICMP && ee.ee_type == 3 && ee.ee_code == 3)
                        || (ee.ee_origin == libc::SO_EE_ORIGIN_ICMP6
                            && ee.ee_type == 1
                            && ee.ee_code == 4);
                let big =
                    (ee.ee_origin == libc::SO_EE_ORIGIN_ICMP && ee.ee_type == 3 && ee.ee_code == 4)
                        || (ee.ee_origin == libc::SO_EE_ORIGIN_ICMP6 && ee.ee_type == 2);
                if big && ee.ee_info > 0 {
                    too_big = Some(ee.ee_info);
                }
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    Some(IcmpError {
        to,
        port_unreachable,
        too_big,
        payload: data[..(n as usize).min(data.len())].to_vec(),
    })
}

/// Sends one datagram.
pub fn send_to(fd: c_int, buf: &[u8], to: &SocketAddr) -> io::Result<usize> {
    sendto_nosignal(fd, buf, Some(to))
}

/// As [`send_to`], with `o`'s traffic class (IP_TOS / IPV6_TCLASS, for
/// this datagram: the UDP socket is shared) and source address.
pub fn send_with(fd: c_int, buf: &[u8], to: &SocketAddr, o: &SendOpts) -> io::Result<usize> {
    if o.is_plain() {
        return send_to(fd, buf, to);
    }
    let mut iov = [libc::iovec {
        iov_base: buf.as_ptr() as *mut c_void,
        iov_len: buf.len(),
    }];
    batch::send_iov(fd, &mut iov, to, o)
}

/// sendto(2) with MSG_NOSIGNAL: the engine must never raise SIGPIPE.
fn sendto_nosignal(fd: c_int, buf: &[u8], to: Option<&SocketAddr>) -> io::Result<usize> {
    let addr = to.map(to_sockaddr);
    let (sa, len) = match &addr {
        Some((ss, len)) => (ss as *const _ as *const sockaddr, *len),
        None => (std::ptr::null(), 0),
    };
    // SAFETY: buffer valid for its length; `sa` is null or a valid sockaddr of `len` bytes.
    cvt_size(unsafe {
        (real().sendto)(
            fd,
            buf.as_ptr() as *const c_void,
            buf.len(),
            libc::MSG_NOSIGNAL,
            sa,
            len,
        )
    })
}

/// read(2) through the real libc.
pub fn read(fd: c_int, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: buffer valid for `len` bytes.
    cvt_size(unsafe { (real().read)(fd, buf.as_mut_ptr() as *mut c_void, buf.len()) })
}

/// send(2) on a connected socket (our socketpair ends), without SIGPIPE.
pub fn write(fd: c_int, buf: &[u8]) -> io::Result<usize> {
    sendto_nosignal(fd, buf, None)
}

/// write(2) through the real libc (for pipes; sockets use [`write`]).
pub fn write_fd(fd: c_int, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: buffer valid for `len` bytes.
    cvt_size(unsafe { (real().write)(fd, buf.as_ptr() as *const c_void, buf.len()) })
}

/// True when the other end of a socketpair has been closed everywhere (POLLHUP).
pub fn is_hung_up(fd: c_int) -> bool {
    let mut p = [libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    }];
    poll(&mut p, 0).is_ok_and(|n| n == 1) && p[0].revents & libc::POLLHUP != 0
}

/// Bytes waiting to be read on a socket (FIONREAD).
/// SO_ERROR of `fd`, which reading clears (0: none). The engine's end of
/// a pair reads ECONNRESET when the application closed its end with
/// bytes unread (Linux's unix_release_sock).
pub fn take_error(fd: c_int) -> c_int {
    let mut e: c_int = 0;
    let mut l = std::mem::size_of::<c_int>() as libc::socklen_t;
    // SAFETY: SO_ERROR writes one int into `e`, its size in `l`.
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ERROR,
            &mut e as *mut c_int as *mut libc::c_void,
            &mut l,
        )
    };
    if r < 0 { 0 } else { e }
}

/// SIOCOUTQ: what `fd` sent that its peer has not read yet. For an AF_UNIX
/// socket this is memory (each buffer's true size), so at least the bytes.
pub fn outq_bytes(fd: c_int) -> usize {
    let mut n: c_int = 0;
    // SAFETY: SIOCOUTQ writes one int.
    let r = unsafe { (real().ioctl)(fd, libc::TIOCOUTQ, &mut n as *mut c_int as libc::c_ulong) };
    if r < 0 { 0 } else { n.max(0) as usize }
}

pub fn pending_bytes(fd: c_int) -> usize {
    let mut n: c_int = 0;
    // SAFETY: FIONREAD writes one int.
    let r = unsafe { (real().ioctl)(fd, libc::FIONREAD, &mut n as *mut c_int as libc::c_ulong) };
    if r < 0 { 0 } else { n.max(0) as usize }
}

/// Fills the send buffer of `fd` (an application's end of a pair) with
/// filler until it takes no more, so that it does not poll writable;
/// returns how many bytes went in (the engine drops them unread).
pub fn fill_pair(fd: c_int) -> usize {
    let filler = [0u8; 16384];
    let mut total = 0;
    loop {
        // SAFETY: sending from a local buffer, without waiting.
        let n = unsafe {
            (real().sendto)(
                fd,
                filler.as_ptr() as *const c_void,
                filler.len(),
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
                std::ptr::null(),
                0,
            )
        };
        if n <= 0 {
            return total;
        }
        total += n as usize;
    }
}

/// Reads, without waiting, everything `fd` holds for its reader.
pub fn drain(fd: c_int) -> Vec<u8> {
    let mut out = vec![0u8; pending_bytes(fd)];
    let mut got = 0;
    while got < out.len() {
        // SAFETY: the buffer has room for what is asked.
        let r = unsafe {
            (real().recvfrom)(
                fd,
                out[got..].as_mut_ptr() as *mut c_void,
                out.len() - got,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        if r <= 0 {
            break;
        }
        got += r as usize;
    }
    out.truncate(got);
    out
}

/// This process's descriptor limits (soft, hard).
pub fn fd_limits() -> (u64, u64) {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into `r`.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) };
    (r.rlim_cur, r.rlim_max)
}

/// Raises the soft descriptor limit to the hard one (a process may).
pub fn raise_fd_limit() {
    let (soft, hard) = fd_limits();
    if soft < hard {
        let r = libc::rlimit {
            rlim_cur: hard,
            rlim_max: hard,
        };
        // SAFETY: setrlimit reads `r`.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &r) };
    }
}

/// close(2) through the real libc (the engine's own descriptors are
/// unmarked first: see [`crate::ownfds`]).
pub fn close(fd: c_int) {
    crate::ownfds::release(fd);
    // SAFETY: closing an fd we own.
    unsafe { (real().close)(fd) };
}

/// Copies the socket-level options Linux's sctp_copy_sock gives a socket
/// made by accept or sctp_peeloff (timeouts, linger, the SOCK_* flags)
/// from the parent's descriptor to the new one: on the shim both are
/// socketpair ends, which keep these options.
pub fn copy_socket_options(from: c_int, to: c_int) {
    for name in [
        libc::SO_RCVTIMEO,
        libc::SO_SNDTIMEO,
        libc::SO_LINGER,
        libc::SO_KEEPALIVE,
        libc::SO_OOBINLINE,
        libc::SO_TIMESTAMP,
        libc::SO_TIMESTAMPNS,
        libc::SO_DONTROUTE,
    ] {
        let mut v = [0u8; 32];
        let mut len = v.len() as libc::socklen_t;
        // SAFETY: our buffer and its length.
        let r = unsafe {
            (real().getsockopt)(
                from,
                libc::SOL_SOCKET,
                name,
                v.as_mut_ptr() as *mut c_void,
                &mut len,
            )
        };
        if r == 0 && v[..len as usize].iter().any(|&b| b != 0) {
            // SAFETY: the bytes just read, with their length.
            unsafe {
                (real().setsockopt)(to, libc::SOL_SOCKET, name, v.as_ptr() as *const c_void, len)
            };
        }
    }
}

/// A kernel UDP socket (close-on-exec) of AF_INET6 when `v6`, else
/// AF_INET, for questions the kernel's IP layer answers; Err(errno).
pub fn scratch_udp(v6: bool) -> Result<c_int, c_int> {
    let family = if v6 { libc::AF_INET6 } else { libc::AF_INET };
    // SAFETY: plain socket(2) call.
    let fd = unsafe { (real().socket)(family, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        Err(io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::ENOMEM))
    } else {
        Ok(fd)
    }
}

/// Whether `fd` is a pipe (FIFO).
pub fn is_fifo(fd: c_int) -> bool {
    // SAFETY: fstat fills our zeroed struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is a valid stat buffer.
    unsafe { libc::fstat(fd, &mut st) == 0 && st.st_mode & libc::S_IFMT == libc::S_IFIFO }
}

/// shutdown(2) through the real libc.
pub fn shutdown(fd: c_int, how: c_int) {
    // SAFETY: plain syscall on an fd we own.
    unsafe { (real().shutdown)(fd, how) };
}

/// A connected AF_UNIX socket pair of `kind` (SOCK_STREAM or SOCK_SEQPACKET)
/// with the given flags on each end: the first for the application, the
/// second the engine's own (marked in [`crate::ownfds`]).
pub fn socketpair(kind: c_int, flags_a: c_int, flags_b: c_int) -> io::Result<(c_int, c_int)> {
    let mut fds = [0 as c_int; 2];
    // SAFETY: `fds` has room for two descriptors.
    cvt(unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            kind | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    })?;
    for (fd, flags) in [(fds[0], flags_a), (fds[1], flags_b)] {
        if flags & libc::SOCK_NONBLOCK != 0 {
            set_nonblocking(fd, true);
        }
        if flags & libc::SOCK_CLOEXEC == 0 {
            // SAFETY: F_SETFD on an fd we own.
            unsafe { (real().fcntl)(fd, libc::F_SETFD, 0) };
        }
    }
    crate::ownfds::claim(fds[1]);
    // What the engine writes for the application may wait in the kernel up
    // to what net.core.wmem_max allows (doubled, as SO_SNDBUF is), not
    // wmem_default: a receive window's worth is then in the reader's reach
    // while the engine is busy elsewhere (bulk between two namespaces:
    // 5.2-5.5 -> 6.0-6.5 Gbit/s). The data there still counts against the
    // window; the application's end keeps its default, which getsockopt
    // answers.
    set_sndbuf(fds[1], crate::proto::config::AUTO_BUF_MAX);
    Ok((fds[0], fds[1]))
}

/// Asks for a send buffer of `bytes` (the kernel may cap it).
pub fn set_sndbuf(fd: c_int, bytes: usize) {
    let v = bytes.min(c_int::MAX as usize) as c_int;
    // SAFETY: `v` is a c_int option value of the size given.
    unsafe {
        (real().setsockopt)(
            fd,
            libc::SOL_SOCKET,
            libc::SO_SNDBUF,
            &v as *const c_int as *const c_void,
            4,
        )
    };
}

/// Sets or clears O_NONBLOCK.
pub fn set_nonblocking(fd: c_int, on: bool) {
    let r = real();
    // SAFETY: F_GETFL/F_SETFL on a valid fd.
    unsafe {
        let fl = (r.fcntl)(fd, libc::F_GETFL, 0);
        let fl = if on {
            fl | libc::O_NONBLOCK
        } else {
            fl & !libc::O_NONBLOCK
        };
        (r.fcntl)(fd, libc::F_SETFL, fl as libc::c_ulong);
    }
}

/// A copy of `fd` that closes on exec (through the real fcntl).
pub fn dup_cloexec(fd: c_int) -> io::Result<c_int> {
    // SAFETY: F_DUPFD_CLOEXEC on a descriptor; no memory passed.
    let r = unsafe { (real().fcntl)(fd, libc::F_DUPFD_CLOEXEC, 0) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// 32 bytes from the OS random source.
pub fn random_seed() -> [u8; 32] {
    let mut b = [0u8; 32];
    // SAFETY: `b` is valid for 32 bytes.
    let n = unsafe { libc::getrandom(b.as_mut_ptr() as *mut c_void, b.len(), 0) };
    if n != 32 {
        // Fall back on time and pid: weak, but tags stay unique per process.
        let t = std::time::SystemTime::UNIX_EPOCH
            .elapsed()
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        b[..16].copy_from_slice(&t.to_ne_bytes());
        b[16..20].copy_from_slice(&std::process::id().to_ne_bytes());
    }
    b
}

/// Sets errno.
pub fn set_errno(e: c_int) {
    // SAFETY: __errno_location returns this thread's errno slot.
    unsafe { *libc::__errno_location() = e };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The TOS a datagram was received with (IP_RECVTOS).
    fn received_tos(fd: c_int) -> Option<u8> {
        let mut buf = [0u8; 64];
        let mut control = [0u64; 8];
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr() as *mut c_void,
            iov_len: buf.len(),
        };
        // SAFETY: a zeroed msghdr pointing at live local buffers.
        unsafe {
            let mut m: libc::msghdr = std::mem::zeroed();
            m.msg_iov = &mut iov;
            m.msg_iovlen = 1;
            m.msg_control = control.as_mut_ptr() as *mut c_void;
            m.msg_controllen = std::mem::size_of_val(&control);
            if (real().recvmsg)(fd, &mut m, 0) < 0 {
                return None;
            }
            let mut c = libc::CMSG_FIRSTHDR(&m);
            while !c.is_null() {
                if (*c).cmsg_level == libc::IPPROTO_IP && (*c).cmsg_type == libc::IP_TOS {
                    return Some(*libc::CMSG_DATA(c));
                }
                c = libc::CMSG_NXTHDR(&m, c);
            }
        }
        None
    }

    #[test]
    fn send_with_marks_the_datagram() {
        let rx = udp_bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let tx = udp_bind("127.0.0.1:0".parse().unwrap()).unwrap();
        set_int_option(rx, libc::IPPROTO_IP, libc::IP_RECVTOS, 1);
        let to = local_addr(rx).unwrap();
        send_with(
            tx,
            b"dscp",
            &to,
            &SendOpts {
                tos: 0x20,
                ..SendOpts::default()
            },
        )
        .unwrap();
        let mut p = [libc::pollfd {
            fd: rx,
            events: libc::POLLIN,
            revents: 0,
        }];
        assert!(poll(&mut p, 2000).unwrap() == 1);
        assert_eq!(received_tos(rx), Some(0x20));
        send_with(tx, b"plain", &to, &SendOpts::default()).unwrap();
        assert!(poll(&mut p, 2000).unwrap() == 1);
        assert_eq!(received_tos(rx), Some(0));
        close(rx);
        close(tx);
    }
}
