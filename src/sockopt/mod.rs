//! The RFC 6458 socket options Linux implements, beyond the ones
//! `interpose.rs` handles inline: each get reads the socket's or the named
//! association's settings, each set changes what goes on the wire (via the
//! association's `Config`). Layouts and checks are Linux's (`<linux/sctp.h>`,
//! net/sctp/socket.c): wrong sizes are EINVAL, unknown association ids
//! EINVAL, NULL buffers EFAULT.

use std::os::raw::{c_int, c_void};

use libc::socklen_t;

use crate::runtime::{Engine, Events, SockId};

mod bytes;
mod get_table;
mod set_table;

// (used by the preload layer's control messages)
#[cfg_attr(not(feature = "preload"), allow(unused_imports))]
pub(crate) use bytes::ppid_from_api;
pub(crate) use bytes::{
    SCTP_STATUS_LEN, get_int, ip_opt_int, packed_addrs, ppid_to_api, put_addrs, put_bytes, put_int,
    status_bytes,
};
use get_table::get_table;
use set_table::set_table;

pub const SCTP_RTOINFO: c_int = 0;
pub const SCTP_ASSOCINFO: c_int = 1;
pub const SCTP_SET_PEER_PRIMARY_ADDR: c_int = 5;
pub const SCTP_PRIMARY_ADDR: c_int = 6;
pub const SCTP_DISABLE_FRAGMENTS: c_int = 8;
pub const SCTP_PEER_ADDR_PARAMS: c_int = 9;
pub const SCTP_DEFAULT_SEND_PARAM: c_int = 10;
pub const SCTP_MAXSEG: c_int = 13;
pub const SCTP_GET_PEER_ADDR_INFO: c_int = 15;
pub const SCTP_DELAYED_SACK: c_int = 16;
pub const SCTP_FRAGMENT_INTERLEAVE: c_int = 18;
pub const SCTP_CONTEXT: c_int = 17;
pub const SCTP_MAX_BURST: c_int = 20;
pub const SCTP_AUTH_CHUNK: c_int = 21;
pub const SCTP_AUTH_DEACTIVATE_KEY: c_int = 35;
pub const SCTP_PR_SUPPORTED: c_int = 113;
pub const SCTP_DEFAULT_PRINFO: c_int = 114;
pub const SCTP_GET_ASSOC_NUMBER: c_int = 28;
pub const SCTP_GET_ASSOC_ID_LIST: c_int = 29;
pub const SCTP_DEFAULT_SNDINFO: c_int = 34;
pub const SCTP_GET_ASSOC_STATS: c_int = 112;
pub const SCTP_REMOTE_UDP_ENCAPS_PORT: c_int = 132;
pub const SCTP_NODELAY: c_int = 3;
pub const SCTP_I_WANT_MAPPED_V4_ADDR: c_int = 12;
pub const SCTP_PEER_ADDR_THLDS: c_int = 31;
pub const SCTP_REUSE_PORT: c_int = 36;
pub const SCTP_PEER_ADDR_THLDS_V2: c_int = 37;
pub const SCTP_EXPOSE_POTENTIALLY_FAILED_STATE: c_int = 131;
pub const SCTP_PLPMTUD_PROBE_INTERVAL: c_int = 133;
pub const SCTP_INITMSG: c_int = 2;
pub const SCTP_AUTOCLOSE: c_int = 4;
pub const SCTP_ADAPTATION_LAYER: c_int = 7;
pub const SCTP_EVENTS: c_int = 11;
pub const SCTP_STATUS: c_int = 14;
pub const SCTP_PARTIAL_DELIVERY_POINT: c_int = 19;
pub const SCTP_RECVRCVINFO: c_int = 32;
pub const SCTP_RECVNXTINFO: c_int = 33;
pub const SCTP_SOCKOPT_BINDX_ADD: c_int = 100;
pub const SCTP_SOCKOPT_BINDX_REM: c_int = 101;
pub const SCTP_GET_PEER_ADDRS: c_int = 108;
pub const SCTP_GET_LOCAL_ADDRS: c_int = 109;
pub const SCTP_EVENT: c_int = 127;

/// Options this module answers.
pub fn handles(name: c_int) -> bool {
    matches!(
        name,
        SCTP_RTOINFO
            | SCTP_ASSOCINFO
            | SCTP_SET_PEER_PRIMARY_ADDR
            | SCTP_PRIMARY_ADDR
            | SCTP_DISABLE_FRAGMENTS
            | SCTP_PEER_ADDR_PARAMS
            | SCTP_DEFAULT_SEND_PARAM
            | SCTP_MAXSEG
            | SCTP_GET_PEER_ADDR_INFO
            | SCTP_DELAYED_SACK
            | SCTP_FRAGMENT_INTERLEAVE
            | SCTP_MAX_BURST
            | SCTP_CONTEXT
            | SCTP_AUTH_CHUNK
            ..=27
                | SCTP_AUTH_DEACTIVATE_KEY
                | SCTP_PR_SUPPORTED
                | SCTP_DEFAULT_PRINFO
                | SCTP_GET_ASSOC_NUMBER
                | SCTP_GET_ASSOC_ID_LIST
                | SCTP_DEFAULT_SNDINFO
                | SCTP_GET_ASSOC_STATS
                | SCTP_REMOTE_UDP_ENCAPS_PORT
                | SCTP_NODELAY
                | SCTP_I_WANT_MAPPED_V4_ADDR
                | SCTP_PEER_ADDR_THLDS
                | SCTP_REUSE_PORT
                | SCTP_PEER_ADDR_THLDS_V2
                | SCTP_EXPOSE_POTENTIALLY_FAILED_STATE
                | SCTP_PLPMTUD_PROBE_INTERVAL
                | SCTP_INITMSG
                | SCTP_AUTOCLOSE
                | SCTP_ADAPTATION_LAYER
                | SCTP_EVENTS
                | SCTP_STATUS
                | SCTP_PARTIAL_DELIVERY_POINT
                | SCTP_RECVRCVINFO
                | SCTP_RECVNXTINFO
                | SCTP_SOCKOPT_BINDX_ADD
                | SCTP_SOCKOPT_BINDX_REM
                | SCTP_GET_PEER_ADDRS
                | SCTP_GET_LOCAL_ADDRS
                | SCTP_EVENT
    )
}

/// getsockopt(SOL_SCTP, `name`) on socket `id` of engine `e`: the
/// options with a layout of their own, then the table.
///
/// # Safety
/// `val`/`len` as for getsockopt(2).
pub unsafe fn get(
    e: &Engine,
    id: SockId,
    name: c_int,
    val: *mut c_void,
    len: *mut socklen_t,
) -> Result<c_int, c_int> {
    match name {
        // Set-only options, as Linux.
        SCTP_SOCKOPT_BINDX_ADD | SCTP_SOCKOPT_BINDX_REM | SCTP_SET_PEER_PRIMARY_ADDR => {
            Err(libc::ENOPROTOOPT)
        }
        SCTP_RECVRCVINFO | SCTP_RECVNXTINFO => {
            let w = e.recv_options(id);
            let on = if name == SCTP_RECVRCVINFO {
                w.rcvinfo
            } else {
                w.nxtinfo
            };
            // SAFETY: caller's option buffer, checked by put_int.
            unsafe { put_int(val, len, c_int::from(on)) }
        }
        SCTP_ADAPTATION_LAYER => {
            let v = e.config(id)?.adaptation_ind;
            // SAFETY: caller's option buffer, checked by put_int.
            unsafe { put_int(val, len, v as c_int) }
        }
        SCTP_PARTIAL_DELIVERY_POINT => {
            let v = e.pd_point(id)?;
            // SAFETY: caller's option buffer, checked by put_int.
            unsafe { put_int(val, len, v as c_int) }
        }
        SCTP_AUTOCLOSE => {
            let secs = e.autoclose(id)?;
            // SAFETY: caller's option buffer, checked by put_int.
            unsafe { put_int(val, len, secs as c_int) }
        }
        SCTP_EVENT => {
            // struct sctp_event { sctp_assoc_t se_assoc_id; u16 se_type; u8 se_on; }
            if val.is_null() || len.is_null() {
                return Err(libc::EFAULT);
            }
            // SAFETY: non-null caller pointers; the size is checked before use.
            let b: [u8; 8] = unsafe {
                if (*len as usize) < 8 {
                    return Err(libc::EINVAL);
                }
                std::ptr::read_unaligned(val as *const [u8; 8])
            };
            let assoc = u32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
            let ty = u16::from_ne_bytes([b[4], b[5]]);
            let ev = Events::index_of(ty).ok_or(libc::EINVAL)?;
            let on = u8::from(e.event_on(id, assoc, ev)?);
            // SAFETY: the caller's buffer holds 8 bytes (checked).
            unsafe {
                *(val as *mut u8).add(6) = on;
                *len = 8;
            }
            Ok(0)
        }
        SCTP_EVENTS => {
            if val.is_null() || len.is_null() {
                return Err(libc::EFAULT);
            }
            let ev = e.events(id);
            // SAFETY: non-null caller pointers; we copy at most the caller's size.
            unsafe {
                let n = (*len as usize).min(ev.len());
                std::ptr::copy_nonoverlapping(ev.as_ptr(), val as *mut u8, n);
                *len = n as socklen_t;
            }
            Ok(0)
        }
        SCTP_INITMSG => {
            let (o, i, a, t) = e.initmsg(id).ok_or(libc::EBADF)?;
            let mut b = [0u8; 8];
            for (k, v) in [o, i, a, t].into_iter().enumerate() {
                b[2 * k..2 * k + 2].copy_from_slice(&v.to_ne_bytes());
            }
            // SAFETY: caller's option buffer, checked inside.
            unsafe { put_bytes(val, len, &b) }
        }
        SCTP_STATUS => {
            if val.is_null() || len.is_null() {
                return Err(libc::EFAULT);
            }
            // SAFETY: non-null caller pointers; the size is checked before writing.
            if (unsafe { *len } as usize) < SCTP_STATUS_LEN {
                return Err(libc::EINVAL);
            }
            // SAFETY: the buffer holds at least SCTP_STATUS_LEN bytes (checked): sstat_assoc_id first.
            let wanted = unsafe { std::ptr::read_unaligned(val as *const u32) };
            let (assoc, st) = e.status(id, wanted)?;
            let bytes = status_bytes(assoc, &st);
            // SAFETY: the caller's buffer holds at least SCTP_STATUS_LEN bytes (checked).
            unsafe {
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), val as *mut u8, SCTP_STATUS_LEN);
                *len = SCTP_STATUS_LEN as socklen_t;
            }
            Ok(0)
        }
        SCTP_GET_PEER_ADDRS => {
            if val.is_null() || len.is_null() || (unsafe { *len } as usize) < 8 {
                return Err(libc::EINVAL);
            }
            // SAFETY: at least 8 readable bytes (checked): assoc_id first.
            let wanted = unsafe { std::ptr::read_unaligned(val as *const u32) };
            let addrs = e.peer_addrs(id, wanted)?;
            // SAFETY: caller's option buffer, checked inside.
            unsafe { put_addrs(val, len, &addrs) }
        }
        SCTP_GET_LOCAL_ADDRS => {
            if val.is_null() || len.is_null() || (unsafe { *len } as usize) < 8 {
                return Err(libc::EINVAL);
            }
            // SAFETY: at least 8 readable bytes (checked): assoc_id first.
            let wanted = unsafe { std::ptr::read_unaligned(val as *const u32) };
            let local = e.local_addrs(id, wanted)?;
            // SAFETY: caller's option buffer, checked inside. (The optlen
            // the application sees leaves out the 8-byte header, as
            // Linux's: see preload::opts::getsockopt.)
            unsafe { put_addrs(val, len, &local) }
        }
        // SAFETY: as for this function.
        _ => unsafe { get_table(e, id, name, val, len) },
    }
}

/// setsockopt(SOL_SCTP, `name`) on socket `id` of engine `e`.
///
/// # Safety
/// `val` covers `len` bytes (or is null).
pub unsafe fn set(
    e: &Engine,
    id: SockId,
    name: c_int,
    val: *const c_void,
    len: socklen_t,
) -> Result<c_int, c_int> {
    match name {
        SCTP_RECVRCVINFO | SCTP_RECVNXTINFO => {
            // SAFETY: the caller's buffer, checked inside.
            let on = unsafe { get_int(val, len) }? != 0;
            let (rcv, nxt) = if name == SCTP_RECVRCVINFO {
                (Some(on), None)
            } else {
                (None, Some(on))
            };
            e.set_recv_options(id, rcv, nxt).map(|_| 0)
        }
        SCTP_SOCKOPT_BINDX_ADD | SCTP_SOCKOPT_BINDX_REM => {
            // SAFETY: the caller's buffer covers `len` bytes.
            let addrs = unsafe { packed_addrs(val, len as usize) }?;
            e.bindx(id, &addrs, name == SCTP_SOCKOPT_BINDX_ADD)
                .map(|_| 0)
        }
        SCTP_ADAPTATION_LAYER => {
            // struct sctp_setadaptation { u32 ssb_adaptation_ind; }
            if len as usize != std::mem::size_of::<u32>() {
                return Err(libc::EINVAL);
            }
            // SAFETY: the caller's buffer, checked inside.
            let v = unsafe { get_int(val, len) }? as u32;
            e.update_config(id, |c| c.adaptation_ind = v).map(|_| 0)
        }
        SCTP_PARTIAL_DELIVERY_POINT => {
            if len as usize != std::mem::size_of::<u32>() {
                return Err(libc::EINVAL);
            }
            // SAFETY: the caller's buffer, checked inside.
            let v = unsafe { get_int(val, len) }?;
            e.set_pd_point(id, v as u32).map(|_| 0)
        }
        SCTP_AUTOCLOSE => {
            if len as usize != std::mem::size_of::<c_int>() {
                return Err(libc::EINVAL);
            }
            // SAFETY: the caller's buffer, checked inside.
            let secs = unsafe { get_int(val, len) }?;
            e.set_autoclose(id, secs.max(0) as u32).map(|_| 0)
        }
        SCTP_EVENT => {
            if val.is_null() {
                return Err(libc::EFAULT);
            }
            if (len as usize) < 8 {
                return Err(libc::EINVAL);
            }
            // SAFETY: the caller's buffer holds 8 bytes (checked).
            let b: [u8; 8] = unsafe { std::ptr::read_unaligned(val as *const [u8; 8]) };
            let assoc = u32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
            let ty = u16::from_ne_bytes([b[4], b[5]]);
            let ev = Events::index_of(ty).ok_or(libc::EINVAL)?;
            e.set_event(id, assoc, ev, b[6] != 0).map(|_| 0)
        }
        SCTP_EVENTS => {
            if val.is_null() {
                return Err(libc::EFAULT);
            }
            if len as usize > 14 {
                return Err(libc::EINVAL);
            }
            // SAFETY: the caller's buffer covers `len` bytes.
            let b = unsafe { std::slice::from_raw_parts(val as *const u8, len as usize) };
            e.set_events(id, |e| e.set_bytes(b)).map(|_| 0)
        }
        SCTP_INITMSG => {
            if val.is_null() {
                return Err(libc::EFAULT);
            }
            if (len as usize) < 8 {
                return Err(libc::EINVAL);
            }
            // SAFETY: the caller's buffer holds a struct sctp_initmsg (8 bytes, checked).
            let b: [u8; 8] = unsafe { std::ptr::read_unaligned(val as *const [u8; 8]) };
            let f = |k: usize| u16::from_ne_bytes([b[2 * k], b[2 * k + 1]]);
            e.set_initmsg(id, (f(0), f(1), f(2), f(3))).map(|_| 0)
        }
        // SAFETY: as for this function.
        _ => unsafe { set_table(e, id, name, val, len) },
    }
}
