//! IP-level options (SOL_IP, SOL_IPV6) on SCTP sockets, answered by the
//! kernel's own IP layer: each call replays the socket's recorded options
//! onto a fresh kernel UDP socket of the same family and makes the call
//! there, so that validation, errnos, defaults and value formats (an int
//! or a byte for IP_TOS, ...) are Linux's. Linux's SCTP passes these
//! levels to the same ip_setsockopt / ipv6_setsockopt code.

use std::os::raw::{c_int, c_void};

use libc::socklen_t;

use super::interpose::os_result;
use crate::runtime::{Engine, SockId};
use crate::sys::{self, real};
use crate::usermem;

/// Whether `level` is one this module answers.
pub(super) fn handles(level: c_int) -> bool {
    level == libc::IPPROTO_IP || level == libc::IPPROTO_IPV6
}

/// A kernel UDP socket of the SCTP socket's family, with its options.
struct Scratch(c_int);

impl Scratch {
    fn new(e: &Engine, id: SockId) -> Result<Scratch, c_int> {
        let fd = sys::scratch_udp(e.is_v6(id))?;
        let s = Scratch(fd);
        for (level, name, v) in e.ip_opts(id)? {
            // SAFETY: `v` is a live buffer of its length. A value the kernel
            // took once is taken again; no answer is needed.
            unsafe {
                (real().setsockopt)(fd, level, name, v.as_ptr() as *const c_void, v.len() as _)
            };
        }
        Ok(s)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        sys::close(self.0);
    }
}

/// getsockopt at an IP level.
///
/// # Safety
/// As for getsockopt(2) (bad pointers are the kernel's to refuse).
pub(super) unsafe fn get(
    e: &Engine,
    id: SockId,
    level: c_int,
    name: c_int,
    val: *mut c_void,
    len: *mut socklen_t,
) -> Result<c_int, c_int> {
    let s = Scratch::new(e, id)?;
    // SAFETY: the caller's pointers go to the kernel, which checks them.
    os_result(unsafe { (real().getsockopt)(s.0, level, name, val, len) })
}

/// setsockopt at an IP level: the kernel judges the value, then the
/// socket records it.
///
/// # Safety
/// As for setsockopt(2) (bad pointers are the kernel's to refuse).
pub(super) unsafe fn set(
    e: &Engine,
    id: SockId,
    fd: c_int,
    level: c_int,
    name: c_int,
    val: *const c_void,
    len: socklen_t,
) -> Result<c_int, c_int> {
    let s = Scratch::new(e, id)?;
    // SAFETY: the caller's pointer goes to the kernel, which checks it.
    os_result(unsafe { (real().setsockopt)(s.0, level, name, val, len) })?;
    let value = usermem::read_exact(val, len as usize)?;
    if (level, name) == (libc::IPPROTO_IP, libc::IP_TOS) {
        let int = crate::sockopt::ip_opt_int;
        let old = e
            .ip_opts(id)?
            .iter()
            .find(|(l, n, _)| (*l, *n) == (level, name))
            .map(|(_, _, v)| int(v));
        tos_priority(fd, old, int(&value));
    }
    e.record_ip_opt(id, level, name, value).map(|_| 0)
}

/// After IP_TOS was set on `scratch`: a new type of service sets the
/// socket's priority as Linux's __ip_sock_set_tos does (rt_tos2priority),
/// on the socket's descriptor, which keeps SO_PRIORITY.
fn tos_priority(fd: c_int, old: Option<c_int>, new: c_int) {
    if old.unwrap_or(0) & 0xff == new & 0xff {
        return;
    }
    // ip_tos2prio: best effort, bulk, interactive, interactive bulk.
    const PRIO: [c_int; 4] = [0, 2, 6, 4];
    let prio = PRIO[((new & 0x1e) >> 3) as usize];
    sys::set_int_option(fd, libc::SOL_SOCKET, libc::SO_PRIORITY, prio);
}

/// An option at a level SCTP sockets do not have (IPPROTO_TCP, ...): as
/// Linux, setsockopt is ENOPROTOOPT; getsockopt is EOPNOTSUPP on an
/// AF_INET socket (do_ip_getsockopt) and ENOPROTOOPT on an AF_INET6 one
/// (ipv6_getsockopt).
pub(super) fn foreign_level(e: &Engine, id: SockId, get: bool) -> c_int {
    if get && !e.is_v6(id) {
        libc::EOPNOTSUPP
    } else {
        libc::ENOPROTOOPT
    }
}
