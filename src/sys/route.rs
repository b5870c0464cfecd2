//! What the kernel's routing knows about a destination: the source address
//! it picks and the path MTU (the route's, or the one ICMP taught it), and
//! the Don't Fragment setting of the engine's UDP sockets (RFC 8899 §3:
//! a packetization layer that does its own MTU discovery sends with DF).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::raw::{c_int, c_void};

use libc::{sockaddr, socklen_t};

use super::{close, from_sockaddr, local_addr_of, real, set_int_option, to_sockaddr};

/// A UDP socket connected to `peer` (which sends nothing: connect only
/// looks up the route), or None.
fn routed(peer: IpAddr) -> Option<c_int> {
    let family = if peer.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    // SAFETY: plain socket(2) call.
    let fd = unsafe { (real().socket)(family, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return None;
    }
    let (ss, len) = to_sockaddr(&SocketAddr::new(peer, 9));
    // SAFETY: `ss` holds `len` bytes of a sockaddr.
    if unsafe { (real().connect)(fd, &ss as *const _ as *const sockaddr, len) } != 0 {
        close(fd);
        return None;
    }
    Some(fd)
}

/// The source address the kernel picks for packets to `peer` (its route).
pub fn source_ip_for(peer: IpAddr) -> Option<IpAddr> {
    let fd = routed(peer)?;
    let ip = local_addr_of(fd).ok().map(|a| a.ip());
    close(fd);
    ip.filter(|ip| !ip.is_unspecified())
}

/// The path MTU toward `peer` in bytes of IP packet (IP_MTU / IPV6_MTU of
/// a connected socket: the route's MTU, lowered by what ICMP "fragmentation
/// needed" / "packet too big" taught the kernel).
pub fn route_mtu(peer: IpAddr) -> Option<usize> {
    let fd = routed(peer)?;
    let (level, name) = if peer.is_ipv4() {
        (libc::IPPROTO_IP, libc::IP_MTU)
    } else {
        (libc::IPPROTO_IPV6, libc::IPV6_MTU)
    };
    let mut v: c_int = 0;
    let mut len = std::mem::size_of::<c_int>() as socklen_t;
    // SAFETY: `v` is a c_int of the size given; the kernel writes at most `len` bytes.
    let r = unsafe {
        (real().getsockopt)(
            fd,
            level,
            name,
            &mut v as *mut c_int as *mut c_void,
            &mut len,
        )
    };
    close(fd);
    (r == 0 && v > 0).then_some(v as usize)
}

/// IP_MTU_DISCOVER / IPV6_MTU_DISCOVER: with `on`, every datagram leaves
/// with DF set and one larger than the known path MTU fails with EMSGSIZE
/// (never fragmented); off, the kernel may fragment.
pub fn set_dont_fragment(fd: c_int, v6: bool, on: bool) {
    if v6 {
        let mode = if on {
            libc::IPV6_PMTUDISC_DO
        } else {
            libc::IPV6_PMTUDISC_DONT
        };
        set_int_option(fd, libc::IPPROTO_IPV6, libc::IPV6_MTU_DISCOVER, mode);
    } else {
        let mode = if on {
            libc::IP_PMTUDISC_DO
        } else {
            libc::IP_PMTUDISC_DONT
        };
        set_int_option(fd, libc::IPPROTO_IP, libc::IP_MTU_DISCOVER, mode);
    }
}

/// Sends one datagram that may be fragmented by IP: a chunk built for a
/// larger path MTU than the one just learned cannot be split any more
/// (RFC 9260 §7.3 lets such a packet go out fragmented). DF is off for
/// this send only.
pub fn send_fragmentable(
    fd: c_int,
    buf: &[u8],
    to: &SocketAddr,
    o: &super::SendOpts,
) -> io::Result<usize> {
    let v6 = !to.is_ipv4() || local_addr_of(fd).is_ok_and(|a| a.is_ipv6());
    set_dont_fragment(fd, v6, false);
    let r = super::send_with(fd, buf, to, o);
    set_dont_fragment(fd, v6, true);
    r
}

/// The host's addresses (this network namespace's), interface by
/// interface as getifaddrs(3) lists them: what a socket bound to the
/// wildcard address has (Linux's sctp local address list).
pub fn host_addrs() -> Vec<IpAddr> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `head` with a list we free below.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut p = head;
    while !p.is_null() {
        // SAFETY: `p` is a node of the list getifaddrs returned.
        let ifa = unsafe { &*p };
        if !ifa.ifa_addr.is_null() {
            // SAFETY: a sockaddr of its family's size, per getifaddrs.
            let family = unsafe { (*ifa.ifa_addr).sa_family } as c_int;
            let len = match family {
                libc::AF_INET => std::mem::size_of::<libc::sockaddr_in>(),
                libc::AF_INET6 => std::mem::size_of::<libc::sockaddr_in6>(),
                _ => 0,
            };
            // SAFETY: as above, `len` bytes of the family's sockaddr.
            if len > 0
                && let Some(a) = unsafe { from_sockaddr(ifa.ifa_addr, len as socklen_t) }
            {
                out.push(a.ip());
            }
        }
        p = ifa.ifa_next;
    }
    // SAFETY: the list getifaddrs allocated, freed once.
    unsafe { libc::freeifaddrs(head) };
    out
}

/// Linux's address scopes (sctp_v4_scope, sctp_v6_scope): an association
/// lists the local addresses whose scope is no wider than its peer's
/// (sctp_in_scope), so a peer on the Internet is not told of loopback or
/// private addresses. (The protocol core filters the peer's list alike.)
pub use crate::proto::assoc::multihome::addr_scope;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_route_has_the_interface_mtu() {
        let lo = route_mtu("127.0.0.1".parse().unwrap()).expect("loopback route");
        assert!(lo >= 1280, "{lo}");
    }

    fn discover_mode(fd: c_int) -> c_int {
        let mut v: c_int = -1;
        let mut len = std::mem::size_of::<c_int>() as socklen_t;
        // SAFETY: `v` is a c_int of the size given.
        unsafe {
            libc::getsockopt(
                fd,
                libc::IPPROTO_IP,
                libc::IP_MTU_DISCOVER,
                &mut v as *mut c_int as *mut c_void,
                &mut len,
            )
        };
        v
    }

    #[test]
    fn a_fragmentable_send_leaves_dont_fragment_on() {
        let fd = crate::sys::udp_bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
        set_dont_fragment(fd, false, true);
        assert_eq!(discover_mode(fd), libc::IP_PMTUDISC_DO);
        let dst = crate::sys::local_addr(fd).unwrap();
        assert_eq!(
            send_fragmentable(fd, &[0u8; 2000], &dst, &crate::sys::SendOpts::default()).unwrap(),
            2000
        );
        assert_eq!(discover_mode(fd), libc::IP_PMTUDISC_DO);
        close(fd);
    }
}
