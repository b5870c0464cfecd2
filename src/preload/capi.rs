//! lksctp's C API (`libsctp`), exported by the shim: programs built with
//! `include/netinet/sctp.h` and `-lsctpshim` need no libsctp, and binaries
//! linked against libsctp.so.1 get these when the shim is preloaded. Each
//! function is what libsctp does on Linux: a socket call with SCTP options or
//! ancillary data, here served by the interposers of the same library.

use std::os::raw::{c_int, c_void};

use libc::{sockaddr, socklen_t};

use super::cmsg::SOL_SCTP;
use super::opts::{getsockopt, setsockopt};
use crate::sys::set_errno;
use crate::usermem;

// libsctp's symbol versions (build/libsctp.map defines the nodes): binaries
// linked against libsctp.so.1 reference e.g. sctp_bindx@VERS_1 and, for
// sctp_connectx, one of its three forms; each binds to the matching one here.
std::arch::global_asm!(
    ".symver sctpshim_sctp_getaddrlen, sctp_getaddrlen@@VERS_1",
    ".symver sctpshim_sctp_bindx, sctp_bindx@@VERS_1",
    ".symver sctpshim_sctp_peeloff, sctp_peeloff@@VERS_1",
    ".symver sctpshim_sctp_peeloff_flags, sctp_peeloff_flags@@VERS_1",
    ".symver sctpshim_sctp_getpaddrs, sctp_getpaddrs@@VERS_1",
    ".symver sctpshim_sctp_getladdrs, sctp_getladdrs@@VERS_1",
    ".symver sctpshim_sctp_freepaddrs, sctp_freepaddrs@@VERS_1",
    ".symver sctpshim_sctp_freeladdrs, sctp_freeladdrs@@VERS_1",
    ".symver sctpshim_sctp_opt_info, sctp_opt_info@@VERS_1",
    ".symver sctpshim_sctp_connectx_v1, sctp_connectx@VERS_1",
    ".symver sctpshim_sctp_connectx_v2, sctp_connectx@VERS_2",
    ".symver sctpshim_sctp_connectx, sctp_connectx@@VERS_3",
);

const SCTP_SOCKOPT_BINDX_ADD: c_int = 100;
const SCTP_SOCKOPT_BINDX_REM: c_int = 101;
const SCTP_SOCKOPT_PEELOFF: c_int = 102;
const SCTP_SOCKOPT_CONNECTX_OLD: c_int = 107;
const SCTP_GET_PEER_ADDRS: c_int = 108;
const SCTP_GET_LOCAL_ADDRS: c_int = 109;
const SCTP_SOCKOPT_CONNECTX: c_int = 110;
const SCTP_SOCKOPT_CONNECTX3: c_int = 111;
const SCTP_SOCKOPT_PEELOFF_FLAGS: c_int = 122;
/// sctp_bindx flags.
const SCTP_BINDX_ADD_ADDR: c_int = 1;
const SCTP_BINDX_REM_ADDR: c_int = 2;

/// Bytes of `cnt` packed addresses (sockaddr_in / sockaddr_in6 by family).
///
/// # Safety
/// `addrs` must hold `cnt` packed addresses.
pub(super) unsafe fn addrs_len(addrs: *const sockaddr, cnt: c_int) -> Result<usize, c_int> {
    if addrs.is_null() || cnt <= 0 {
        return Err(libc::EINVAL);
    }
    let mut off = 0usize;
    for _ in 0..cnt {
        // An address starts at `off`: its family first (EFAULT checked).
        let family = usermem::get((addrs as *const u8).wrapping_add(off) as *const u16)?;
        off += addr_len(c_int::from(family)).ok_or(libc::EINVAL)?;
    }
    Ok(off)
}

pub(super) fn addr_len(family: c_int) -> Option<usize> {
    match family {
        libc::AF_INET => Some(std::mem::size_of::<libc::sockaddr_in>()),
        libc::AF_INET6 => Some(std::mem::size_of::<libc::sockaddr_in6>()),
        _ => None,
    }
}

pub(super) fn fail(e: c_int) -> c_int {
    set_errno(e);
    -1
}

/// `int sctp_getaddrlen(sa_family_t family)`.
#[unsafe(export_name = "sctpshim_sctp_getaddrlen")]
pub extern "C" fn sctp_getaddrlen(family: libc::sa_family_t) -> c_int {
    match addr_len(c_int::from(family)) {
        Some(n) => n as c_int,
        None => fail(libc::EINVAL),
    }
}

/// `int sctp_bindx(int sd, struct sockaddr *addrs, int addrcnt, int flags)`.
///
/// # Safety
/// `addrs` must hold `addrcnt` packed addresses.
#[unsafe(export_name = "sctpshim_sctp_bindx")]
pub unsafe extern "C" fn sctp_bindx(
    sd: c_int,
    addrs: *mut sockaddr,
    addrcnt: c_int,
    flags: c_int,
) -> c_int {
    let opt = match flags {
        SCTP_BINDX_ADD_ADDR => SCTP_SOCKOPT_BINDX_ADD,
        SCTP_BINDX_REM_ADDR => SCTP_SOCKOPT_BINDX_REM,
        _ => return fail(libc::EINVAL),
    };
    // SAFETY: per the caller.
    match unsafe { addrs_len(addrs, addrcnt) } {
        // SAFETY: `addrs` covers `n` bytes.
        Ok(n) => unsafe { setsockopt(sd, SOL_SCTP, opt, addrs as *const c_void, n as socklen_t) },
        Err(e) => fail(e),
    }
}

/// `int sctp_connectx(int sd, struct sockaddr *addrs, int addrcnt,
/// sctp_assoc_t *id)` (libsctp's current, VERS_3 form): 0, or -1 with errno
/// (EINPROGRESS on a non-blocking socket, the id set all the same).
///
/// # Safety
/// `addrs` must hold `addrcnt` packed addresses; `id` null or writable.
#[unsafe(export_name = "sctpshim_sctp_connectx")]
pub unsafe extern "C" fn sctp_connectx(
    sd: c_int,
    addrs: *mut sockaddr,
    addrcnt: c_int,
    id: *mut u32,
) -> c_int {
    // SAFETY: per the caller.
    let n = match unsafe { addrs_len(addrs, addrcnt) } {
        Ok(n) => n,
        Err(e) => return fail(e),
    };
    // struct sctp_getaddrs_old { sctp_assoc_t assoc_id; int addr_num; struct sockaddr *addrs; }
    #[repr(C)]
    struct Param {
        assoc_id: u32,
        addr_num: c_int,
        addrs: *mut sockaddr,
    }
    let mut p = Param {
        assoc_id: 0,
        addr_num: n as c_int,
        addrs,
    };
    let mut len = std::mem::size_of::<Param>() as socklen_t;
    // SAFETY: our own parameter struct.
    let r = unsafe {
        getsockopt(
            sd,
            SOL_SCTP,
            SCTP_SOCKOPT_CONNECTX3,
            &mut p as *mut Param as *mut c_void,
            &mut len,
        )
    };
    let in_progress = std::io::Error::last_os_error().raw_os_error() == Some(libc::EINPROGRESS);
    if (r == 0 || in_progress) && !id.is_null() && usermem::put(id, p.assoc_id).is_err() {
        return fail(libc::EFAULT);
    }
    r
}

/// The old sctp_connectx forms: the packed addresses as a set option.
///
/// # Safety
/// As [`sctp_connectx`].
unsafe fn connectx_by_option(sd: c_int, addrs: *mut sockaddr, addrcnt: c_int, opt: c_int) -> c_int {
    // SAFETY: per the caller.
    match unsafe { addrs_len(addrs, addrcnt) } {
        // SAFETY: `addrs` covers `n` bytes.
        Ok(n) => unsafe { setsockopt(sd, SOL_SCTP, opt, addrs as *const c_void, n as socklen_t) },
        Err(e) => fail(e),
    }
}

/// libsctp's first sctp_connectx (VERS_1): 0 or -1.
///
/// # Safety
/// As [`sctp_connectx`].
#[unsafe(export_name = "sctpshim_sctp_connectx_v1")]
pub unsafe extern "C" fn sctp_connectx_v1(
    sd: c_int,
    addrs: *mut sockaddr,
    addrcnt: c_int,
) -> c_int {
    // SAFETY: per the caller.
    unsafe { connectx_by_option(sd, addrs, addrcnt, SCTP_SOCKOPT_CONNECTX_OLD) }
}

/// libsctp's second sctp_connectx (VERS_2): the association id, or -1.
///
/// # Safety
/// As [`sctp_connectx`].
#[unsafe(export_name = "sctpshim_sctp_connectx_v2")]
pub unsafe extern "C" fn sctp_connectx_v2(
    sd: c_int,
    addrs: *mut sockaddr,
    addrcnt: c_int,
) -> c_int {
    // SAFETY: per the caller.
    unsafe { connectx_by_option(sd, addrs, addrcnt, SCTP_SOCKOPT_CONNECTX) }
}

/// `int sctp_peeloff(int sd, sctp_assoc_t assoc_id)`: the new descriptor.
#[unsafe(export_name = "sctpshim_sctp_peeloff")]
pub extern "C" fn sctp_peeloff(sd: c_int, assoc_id: u32) -> c_int {
    let mut arg = [assoc_id as c_int, -1];
    let mut len = std::mem::size_of_val(&arg) as socklen_t;
    // SAFETY: our own sctp_peeloff_arg_t.
    let r = unsafe {
        getsockopt(
            sd,
            SOL_SCTP,
            SCTP_SOCKOPT_PEELOFF,
            arg.as_mut_ptr() as *mut c_void,
            &mut len,
        )
    };
    if r < 0 { r } else { arg[1] }
}

/// `int sctp_peeloff_flags(int sd, sctp_assoc_t assoc_id, unsigned flags)`.
#[unsafe(export_name = "sctpshim_sctp_peeloff_flags")]
pub extern "C" fn sctp_peeloff_flags(sd: c_int, assoc_id: u32, flags: u32) -> c_int {
    let mut arg = [assoc_id as c_int, -1, flags as c_int];
    let mut len = std::mem::size_of_val(&arg) as socklen_t;
    // SAFETY: our own sctp_peeloff_flags_arg_t.
    let r = unsafe {
        getsockopt(
            sd,
            SOL_SCTP,
            SCTP_SOCKOPT_PEELOFF_FLAGS,
            arg.as_mut_ptr() as *mut c_void,
            &mut len,
        )
    };
    if r < 0 { r } else { arg[1] }
}

/// sctp_getpaddrs / sctp_getladdrs: a malloc'd `struct sctp_getaddrs`
/// grown until the addresses fit; `*addrs` points into it.
///
/// # Safety
/// `addrs` must be writable.
unsafe fn get_addrs(sd: c_int, id: u32, addrs: *mut *mut sockaddr, opt: c_int) -> c_int {
    if addrs.is_null() {
        return fail(libc::EINVAL);
    }
    let mut size = 8 + 4 * std::mem::size_of::<libc::sockaddr_in6>();
    loop {
        // SAFETY: malloc; freed by sctp_free[pl]addrs or below.
        let buf = unsafe { libc::malloc(size) } as *mut u8;
        if buf.is_null() {
            return fail(libc::ENOMEM);
        }
        // SAFETY: `buf` holds `size` >= 8 bytes; assoc id first.
        unsafe { std::ptr::write_unaligned(buf as *mut u32, id) };
        let mut len = size as socklen_t;
        // SAFETY: `buf` holds `len` bytes.
        let r = unsafe { getsockopt(sd, SOL_SCTP, opt, buf as *mut c_void, &mut len) };
        if r < 0 {
            let e = std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EINVAL);
            // SAFETY: our own allocation.
            unsafe { libc::free(buf as *mut c_void) };
            if e == libc::ENOMEM && size < (1 << 20) {
                size *= 4;
                continue;
            }
            return fail(e);
        }
        // SAFETY: the option filled addr_num at offset 4.
        let n = unsafe { std::ptr::read_unaligned(buf.add(4) as *const u32) };
        if n == 0 {
            // SAFETY: our own allocation.
            unsafe { libc::free(buf as *mut c_void) };
            return match usermem::put(addrs, std::ptr::null_mut()) {
                Ok(()) => 0,
                Err(e) => fail(e),
            };
        }
        // The addresses start at offset 8.
        // SAFETY: within our allocation.
        if let Err(e) = usermem::put(addrs, unsafe { buf.add(8) } as *mut sockaddr) {
            // SAFETY: our own allocation.
            unsafe { libc::free(buf as *mut c_void) };
            return fail(e);
        }
        return n as c_int;
    }
}

/// `int sctp_getpaddrs(int sd, sctp_assoc_t id, struct sockaddr **addrs)`.
///
/// # Safety
/// `addrs` must be writable.
#[unsafe(export_name = "sctpshim_sctp_getpaddrs")]
pub unsafe extern "C" fn sctp_getpaddrs(sd: c_int, id: u32, addrs: *mut *mut sockaddr) -> c_int {
    // SAFETY: per the caller.
    unsafe { get_addrs(sd, id, addrs, SCTP_GET_PEER_ADDRS) }
}

/// `int sctp_getladdrs(int sd, sctp_assoc_t id, struct sockaddr **addrs)`.
///
/// # Safety
/// `addrs` must be writable.
#[unsafe(export_name = "sctpshim_sctp_getladdrs")]
pub unsafe extern "C" fn sctp_getladdrs(sd: c_int, id: u32, addrs: *mut *mut sockaddr) -> c_int {
    // SAFETY: per the caller.
    unsafe { get_addrs(sd, id, addrs, SCTP_GET_LOCAL_ADDRS) }
}

/// `int sctp_freepaddrs(struct sockaddr *addrs)`.
///
/// # Safety
/// `addrs` must come from sctp_getpaddrs (or be null).
#[unsafe(export_name = "sctpshim_sctp_freepaddrs")]
pub unsafe extern "C" fn sctp_freepaddrs(addrs: *mut sockaddr) -> c_int {
    if !addrs.is_null() {
        // SAFETY: the allocation starts 8 bytes before the addresses.
        unsafe { libc::free((addrs as *mut u8).sub(8) as *mut c_void) };
    }
    0
}

/// `int sctp_freeladdrs(struct sockaddr *addrs)`.
///
/// # Safety
/// `addrs` must come from sctp_getladdrs (or be null).
#[unsafe(export_name = "sctpshim_sctp_freeladdrs")]
pub unsafe extern "C" fn sctp_freeladdrs(addrs: *mut sockaddr) -> c_int {
    // SAFETY: per the caller.
    unsafe { sctp_freepaddrs(addrs) }
}

/// `int sctp_opt_info(int sd, sctp_assoc_t id, int opt, void *arg,
/// socklen_t *size)`: getsockopt with the association id in the option's
/// first field, as libsctp does (for every option but SCTP_*ASSOC*_NUMBER
/// and friends, whose first field is not an id, Linux ignores it anyway).
///
/// # Safety
/// `arg` must hold `*size` bytes.
#[unsafe(export_name = "sctpshim_sctp_opt_info")]
pub unsafe extern "C" fn sctp_opt_info(
    sd: c_int,
    id: u32,
    opt: c_int,
    arg: *mut c_void,
    size: *mut socklen_t,
) -> c_int {
    if arg.is_null() || size.is_null() {
        return fail(libc::EINVAL);
    }
    let room = match usermem::get(size) {
        Ok(n) => n,
        Err(e) => return fail(e),
    };
    if room >= 4
        && opt != 28
        && opt != 29
        && let Err(e) = usermem::write(arg, &id.to_ne_bytes())
    {
        return fail(e);
    }
    // SAFETY: getsockopt checks the caller's buffers.
    unsafe { getsockopt(sd, SOL_SCTP, opt, arg, size) }
}
