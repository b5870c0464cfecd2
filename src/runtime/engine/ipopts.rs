//! IP-level socket options (SOL_IP / SOL_IPV6) of an SCTP socket: the
//! values the application set, in order, so that the socket layer can
//! answer reads through a kernel socket of the same family (see
//! `preload/ipopts.rs`), and the two with an effect here: IPV6_V6ONLY
//! (which addresses the socket takes) and IP_TOS / IPV6_TCLASS.

use super::*;

/// What the application set at the IP levels.
#[derive(Clone, Debug, Default)]
pub(super) struct IpOpts {
    /// (level, name, value as given), the last value of each pair.
    set: Vec<(c_int, c_int, Vec<u8>)>,
    /// IPV6_V6ONLY: an AF_INET6 socket takes no IPv4 (or v4-mapped) address.
    pub(super) v6only: bool,
}

use crate::sockopt::ip_opt_int as int_of;

impl IpOpts {
    /// What a socket made by accept or sctp_peeloff takes, as Linux's
    /// sctp_copy_sock / sctp_v6_create_accept_sk: the IPv4 options but the
    /// type of service and the multicast ones, and every IPv6 option (the
    /// whole ipv6_pinfo is copied); with the traffic class its packets
    /// then carry (IPV6_TCLASS on an AF_INET6 socket, else none).
    pub(super) fn for_child(&self, v6: bool) -> (IpOpts, u8) {
        let dropped = [
            libc::IP_TOS,
            libc::IP_MULTICAST_TTL,
            libc::IP_MULTICAST_LOOP,
            libc::IP_MULTICAST_IF,
        ];
        let set: Vec<_> = self
            .set
            .iter()
            .filter(|(l, n, _)| !(*l == libc::IPPROTO_IP && dropped.contains(n)))
            .cloned()
            .collect();
        let tos = set
            .iter()
            .find(|(l, n, _)| v6 && (*l, *n) == (libc::IPPROTO_IPV6, libc::IPV6_TCLASS))
            .map_or(0, |(_, _, v)| int_of(v).clamp(0, 255) as u8);
        (
            IpOpts {
                set,
                v6only: self.v6only,
            },
            tos,
        )
    }
}

impl Engine {
    /// The IP-level options set on socket `id`, in the order they were set.
    pub fn ip_opts(&self, id: SockId) -> Result<Vec<(c_int, c_int, Vec<u8>)>, c_int> {
        Ok(self
            .lock_quiet()
            .socks
            .get(&id)
            .ok_or(libc::EBADF)?
            .ip
            .set
            .clone())
    }

    /// Records an IP-level option the kernel accepted for a socket of this
    /// family. IPV6_V6ONLY is fixed once the socket is bound (EINVAL, as
    /// Linux's ipv6_setsockopt).
    pub fn record_ip_opt(
        &self,
        id: SockId,
        level: c_int,
        name: c_int,
        value: Vec<u8>,
    ) -> Result<(), c_int> {
        let mut st = self.lock(id);
        let s = st.socks.get_mut(&id).ok_or(libc::EBADF)?;
        if (level, name) == (libc::IPPROTO_IPV6, libc::IPV6_V6ONLY) {
            if s.port.is_some() {
                return Err(libc::EINVAL);
            }
            s.ip.v6only = int_of(&value) != 0;
        }
        let tos_opt = matches!(
            (level, name),
            (libc::IPPROTO_IP, libc::IP_TOS) | (libc::IPPROTO_IPV6, libc::IPV6_TCLASS)
        );
        let mut value = value;
        if tos_opt && s.kind != Kind::Many {
            // A SOCK_STREAM socket's ECN bits are the stack's, not the
            // application's (ip_setsockopt, do_ipv6_setsockopt).
            if value.len() >= 4 {
                value = (int_of(&value) & !3).to_ne_bytes().to_vec();
            } else if let Some(b) = value.first_mut() {
                *b &= !3;
            }
        }
        let tos = tos_opt.then(|| int_of(&value).clamp(0, 255) as u8);
        s.ip.set.retain(|(l, n, _)| (*l, *n) != (level, name));
        s.ip.set.push((level, name, value));
        drop(st);
        // The packets of the socket's associations carry it (RFC 6951 puts
        // SCTP in UDP: the outer IP header's DSCP is the one that counts).
        if let Some(tos) = tos {
            self.assoc_config(id, 2, |c| c.tos = tos)?;
        }
        Ok(())
    }

    /// Whether socket `id` may use address `a` (bind, connect, sendto): an
    /// IPv4 or v4-mapped address on an IPV6_V6ONLY socket may not.
    pub(super) fn v6only_refuses(s: &Sock, a: SocketAddr) -> bool {
        s.ip.v6only && sys::unmap(a).is_ipv4()
    }
}
