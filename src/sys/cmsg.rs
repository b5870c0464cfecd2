//! Ancillary data for the engine's UDP sends: segmentation offload
//! (UDP_SEGMENT), the traffic class (IP_TOS / IPV6_TCLASS) and the source
//! address (IP_PKTINFO / IPV6_PKTINFO), built with libc's CMSG macros.

use std::net::{IpAddr, SocketAddr};
use std::os::raw::{c_int, c_void};

use super::batch::{SOL_UDP, UDP_SEGMENT};

/// What one sendmsg carries besides the data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SendOpts {
    /// Segment size for UDP_SEGMENT (several datagrams in one call).
    pub segment: Option<u16>,
    /// IP_TOS / IPV6_TCLASS, when not 0.
    pub tos: u8,
    /// The source address, when the association chose one (a multi-homed
    /// socket sends from one of its addresses, not the route's).
    pub src: Option<IpAddr>,
}

impl SendOpts {
    /// Whether a plain sendto does it (nothing to add).
    pub fn is_plain(&self) -> bool {
        self.segment.is_none() && self.tos == 0 && self.src.is_none()
    }
}

/// A control buffer for [`SendOpts`] (room for three messages, 8-aligned).
pub struct Control {
    buf: [u64; 16],
    len: usize,
}

impl Control {
    /// The control messages `o` needs for a datagram to `to`. A source of
    /// the other family than `to` is left out (the kernel would refuse it).
    pub fn new(to: &SocketAddr, o: &SendOpts) -> Control {
        let mut c = Control {
            buf: [0; 16],
            len: 0,
        };
        if let Some(seg) = o.segment {
            c.push(SOL_UDP, UDP_SEGMENT, &seg.to_ne_bytes());
        }
        if o.tos != 0 {
            let (level, ty) = if to.is_ipv4() {
                (libc::IPPROTO_IP, libc::IP_TOS)
            } else {
                (libc::IPPROTO_IPV6, libc::IPV6_TCLASS)
            };
            c.push(level, ty, &c_int::from(o.tos).to_ne_bytes());
        }
        match (o.src, to) {
            (Some(IpAddr::V4(a)), SocketAddr::V4(_)) => {
                let info = libc::in_pktinfo {
                    ipi_ifindex: 0,
                    ipi_spec_dst: libc::in_addr {
                        s_addr: u32::from_ne_bytes(a.octets()),
                    },
                    ipi_addr: libc::in_addr { s_addr: 0 },
                };
                c.push(libc::IPPROTO_IP, libc::IP_PKTINFO, as_bytes(&info));
            }
            (Some(IpAddr::V6(a)), SocketAddr::V6(_)) => {
                let info = libc::in6_pktinfo {
                    ipi6_addr: libc::in6_addr {
                        s6_addr: a.octets(),
                    },
                    ipi6_ifindex: 0,
                };
                c.push(libc::IPPROTO_IPV6, libc::IPV6_PKTINFO, as_bytes(&info));
            }
            _ => {}
        }
        c
    }

    /// Appends one control message of `data`.
    fn push(&mut self, level: c_int, ty: c_int, data: &[u8]) {
        // SAFETY: CMSG_SPACE / CMSG_LEN are pure size computations.
        let (space, clen) = unsafe {
            (
                libc::CMSG_SPACE(data.len() as u32) as usize,
                libc::CMSG_LEN(data.len() as u32) as usize,
            )
        };
        let room = std::mem::size_of_val(&self.buf);
        assert!(self.len + space <= room, "control buffer too small");
        // SAFETY: the header and its data lie within `buf` (checked above);
        // `buf` is 8-aligned as a cmsghdr must be, and `len` is a sum of
        // CMSG_SPACE values, so the header at `len` is aligned too.
        unsafe {
            let base = (self.buf.as_mut_ptr() as *mut u8).add(self.len);
            let h = base as *mut libc::cmsghdr;
            (*h).cmsg_level = level;
            (*h).cmsg_type = ty;
            (*h).cmsg_len = clen as _;
            let d = libc::CMSG_DATA(h);
            std::ptr::copy_nonoverlapping(data.as_ptr(), d, data.len());
        }
        self.len += space;
    }

    /// Points `m` at the control messages (none: no control data).
    pub fn attach(&mut self, m: &mut libc::msghdr) {
        if self.len == 0 {
            m.msg_control = std::ptr::null_mut();
            m.msg_controllen = 0;
        } else {
            m.msg_control = self.buf.as_mut_ptr() as *mut c_void;
            m.msg_controllen = self.len as _;
        }
    }
}

/// The bytes of a plain C struct.
fn as_bytes<T: Copy>(v: &T) -> &[u8] {
    // SAFETY: `T` is a plain C struct (Copy, no padding we read as
    // meaningful); the slice covers exactly its size and borrows it.
    unsafe { std::slice::from_raw_parts(v as *const T as *const u8, std::mem::size_of::<T>()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A datagram from a wildcard-bound socket leaves from the source asked
    /// (a multi-homed association's own address, not the route's).
    #[test]
    fn the_source_address_is_the_one_asked() {
        use std::os::fd::AsRawFd;
        let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let tx = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
        let to = rx.local_addr().unwrap();
        let o = SendOpts {
            src: Some("127.0.0.5".parse().unwrap()),
            ..SendOpts::default()
        };
        super::super::send_with(tx.as_raw_fd(), b"from .5", &to, &o).unwrap();
        let mut b = [0u8; 16];
        let (n, from) = rx.recv_from(&mut b).unwrap();
        assert_eq!(&b[..n], b"from .5");
        assert_eq!(from.ip(), "127.0.0.5".parse::<IpAddr>().unwrap());
        assert_eq!(from.port(), tx.local_addr().unwrap().port());
    }

    /// Each option adds its control message, in order, with the kernel's
    /// levels and types; nothing asked, no control data.
    #[test]
    fn control_messages_as_asked() {
        let to: SocketAddr = "10.0.0.2:9899".parse().unwrap();
        let mut m: libc::msghdr = unsafe { std::mem::zeroed() };
        let mut c = Control::new(&to, &SendOpts::default());
        c.attach(&mut m);
        assert!(m.msg_control.is_null() && m.msg_controllen == 0);
        let o = SendOpts {
            segment: Some(1400),
            tos: 0x10,
            src: Some("10.0.1.1".parse().unwrap()),
        };
        let mut c = Control::new(&to, &o);
        c.attach(&mut m);
        let mut seen = Vec::new();
        // SAFETY: `m` points at our control buffer, walked with libc's macros.
        unsafe {
            let mut h = libc::CMSG_FIRSTHDR(&m);
            while !h.is_null() {
                seen.push(((*h).cmsg_level, (*h).cmsg_type));
                if (*h).cmsg_type == libc::IP_PKTINFO {
                    let info =
                        std::ptr::read_unaligned(libc::CMSG_DATA(h) as *const libc::in_pktinfo);
                    assert_eq!(info.ipi_spec_dst.s_addr.to_ne_bytes(), [10, 0, 1, 1]);
                }
                h = libc::CMSG_NXTHDR(&m, h);
            }
        }
        assert_eq!(
            seen,
            vec![
                (SOL_UDP, UDP_SEGMENT),
                (libc::IPPROTO_IP, libc::IP_TOS),
                (libc::IPPROTO_IP, libc::IP_PKTINFO)
            ]
        );
        // A source of the other family is left out.
        let o = SendOpts {
            src: Some("fd00::1".parse().unwrap()),
            ..SendOpts::default()
        };
        let mut c = Control::new(&to, &o);
        c.attach(&mut m);
        assert_eq!(m.msg_controllen, 0);
    }
}
