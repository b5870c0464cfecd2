//! SCTP ancillary data, in Linux's layouts (`<linux/sctp.h>`): on send
//! SCTP_INIT, SCTP_SNDRCV, SCTP_SNDINFO, SCTP_PRINFO, SCTP_AUTHINFO and
//! SCTP_DSTADDRV4/V6 (checked as Linux's sctp_msghdr_parse does); on
//! receive SCTP_SNDRCV (data_io event), SCTP_RCVINFO, SCTP_NXTINFO, MSG_EOR
//! and MSG_NOTIFICATION.

use std::os::raw::c_int;

use libc::msghdr;

use crate::runtime::{RecordMeta, SCTP_UNORDERED, SendSpec, Slice};
use crate::sockopt::{ppid_from_api, ppid_to_api};
use crate::sys::to_sockaddr;

pub(super) const SOL_SCTP: c_int = 132;
pub(super) const SCTP_INIT: c_int = 0;
pub(super) const SCTP_SNDRCV: c_int = 1;
pub(super) const SCTP_SNDINFO: c_int = 2;
pub(super) const SCTP_RCVINFO: c_int = 3;
pub(super) const SCTP_NXTINFO: c_int = 4;
pub(super) const SCTP_PRINFO: c_int = 5;
pub(super) const SCTP_AUTHINFO: c_int = 6;
pub(super) const SCTP_DSTADDRV4: c_int = 7;
pub(super) const SCTP_DSTADDRV6: c_int = 8;
/// sizeof(struct sctp_nxtinfo).
const NXTINFO_LEN: usize = 16;
/// `sinfo_flags` Linux accepts on send: UNORDERED, ADDR_OVER, ABORT,
/// SACK_IMMEDIATELY, SENDALL, the PR-SCTP policy bits, EOF.
const SEND_FLAGS: u16 = 1 | 2 | 4 | 8 | 64 | 0x30 | 0x200;
/// sizeof(struct sctp_rcvinfo).
const RCVINFO_LEN: usize = 28;
/// sizeof(struct sctp_sndrcvinfo).
const SNDRCV_LEN: usize = 32;
/// sizeof(struct sctp_sndinfo).
const SNDINFO_LEN: usize = 16;
/// recvmsg flag of notifications.
pub const MSG_NOTIFICATION: c_int = 0x8000;

fn u16_at(b: &[u8], off: usize) -> u16 {
    b.get(off..off + 2)
        .map_or(0, |x| u16::from_ne_bytes([x[0], x[1]]))
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    b.get(off..off + 4)
        .map_or(0, |x| u32::from_ne_bytes([x[0], x[1], x[2], x[3]]))
}

/// What a sendmsg's control data asks for.
#[derive(Debug, Default)]
pub struct SendCmsgs {
    pub spec: SendSpec,
    /// SCTP_INIT: (ostreams, instreams, max attempts, max init timeout).
    pub init: Option<(u16, u16, u16, u16)>,
    /// SCTP_DSTADDRV4/V6: more peer addresses for a new association.
    pub dst: Vec<std::net::IpAddr>,
}

/// Parses a sendmsg's control data; EINVAL for what Linux refuses (a
/// length that is not exactly the structure's, unknown SCTP types, flags
/// outside SEND_FLAGS).
///
/// # Safety
/// `m` must be a valid msghdr whose control buffer covers `msg_controllen`.
pub unsafe fn send_cmsgs(m: &msghdr) -> Result<SendCmsgs, c_int> {
    let mut out = SendCmsgs::default();
    if m.msg_control.is_null() || m.msg_controllen == 0 {
        return Ok(out);
    }
    if m.msg_controllen < std::mem::size_of::<libc::cmsghdr>() {
        return Err(libc::EINVAL);
    }
    // SAFETY: walking the caller's control buffer with libc's CMSG macros;
    // each header lies within msg_controllen (CMSG_NXTHDR checks it) and
    // its data is read only up to cmsg_len, itself checked against the end.
    unsafe {
        let end = (m.msg_control as *const u8).add(m.msg_controllen);
        let mut c = libc::CMSG_FIRSTHDR(m);
        while !c.is_null() {
            let h = &*c;
            if (h.cmsg_len as usize) < libc::CMSG_LEN(0) as usize
                || (c as *const u8).add(h.cmsg_len as usize) > end
            {
                return Err(libc::EINVAL);
            }
            if h.cmsg_level != SOL_SCTP {
                c = libc::CMSG_NXTHDR(m, c);
                continue;
            }
            let data_len = h.cmsg_len as usize - libc::CMSG_LEN(0) as usize;
            let data = std::slice::from_raw_parts(libc::CMSG_DATA(c), data_len);
            let want = match h.cmsg_type {
                SCTP_INIT => 8,
                SCTP_SNDRCV => SNDRCV_LEN,
                SCTP_SNDINFO => SNDINFO_LEN,
                SCTP_PRINFO => 8,
                SCTP_AUTHINFO => 2,
                SCTP_DSTADDRV4 => 4,
                SCTP_DSTADDRV6 => 16,
                _ => return Err(libc::EINVAL),
            };
            if data_len != want {
                return Err(libc::EINVAL);
            }
            match h.cmsg_type {
                SCTP_INIT => {
                    let f = |k: usize| u16_at(data, 2 * k);
                    out.init = Some((f(0), f(1), f(2), f(3)));
                }
                SCTP_SNDRCV => {
                    out.spec.stream = u16_at(data, 0);
                    out.spec.flags = u16_at(data, 4);
                    out.spec.ppid = ppid_from_api(data, 8);
                    out.spec.context = u32_at(data, 12);
                    out.spec.assoc = u32_at(data, 28);
                }
                SCTP_SNDINFO => {
                    out.spec.stream = u16_at(data, 0);
                    out.spec.flags = u16_at(data, 2);
                    out.spec.ppid = ppid_from_api(data, 4);
                    out.spec.context = u32_at(data, 8);
                    out.spec.assoc = u32_at(data, 12);
                }
                SCTP_DSTADDRV4 => {
                    let a: [u8; 4] = data.try_into().map_err(|_| libc::EINVAL)?;
                    out.dst.push(std::net::Ipv4Addr::from(a).into());
                }
                SCTP_DSTADDRV6 => {
                    let a: [u8; 16] = data.try_into().map_err(|_| libc::EINVAL)?;
                    out.dst.push(std::net::Ipv6Addr::from(a).into());
                }
                // PR-SCTP policies and AUTH keys: accepted; neither extension
                // is negotiated yet, so they change nothing on the wire.
                _ => {}
            }
            c = libc::CMSG_NXTHDR(m, c);
        }
    }
    if out.spec.flags & !SEND_FLAGS != 0 {
        return Err(libc::EINVAL);
    }
    Ok(out)
}

/// `struct sctp_sndrcvinfo` describing a received record.
fn sndrcv_of(meta: &RecordMeta) -> [u8; SNDRCV_LEN] {
    let mut b = [0u8; SNDRCV_LEN];
    b[0..2].copy_from_slice(&meta.stream.to_ne_bytes());
    b[2..4].copy_from_slice(&meta.ssn.to_ne_bytes());
    let flags: u16 = if meta.unordered { SCTP_UNORDERED } else { 0 };
    b[4..6].copy_from_slice(&flags.to_ne_bytes());
    b[8..12].copy_from_slice(&ppid_to_api(meta.ppid));
    b[12..16].copy_from_slice(&meta.context.to_ne_bytes());
    b[20..24].copy_from_slice(&meta.tsn.to_ne_bytes());
    b[28..32].copy_from_slice(&meta.assoc.to_ne_bytes());
    b
}

/// `struct sctp_rcvinfo` describing a received record (SCTP_RECVRCVINFO).
fn rcvinfo_of(meta: &RecordMeta) -> [u8; RCVINFO_LEN] {
    let mut b = [0u8; RCVINFO_LEN];
    b[0..2].copy_from_slice(&meta.stream.to_ne_bytes());
    b[2..4].copy_from_slice(&meta.ssn.to_ne_bytes());
    let flags: u16 = if meta.unordered { SCTP_UNORDERED } else { 0 };
    b[4..6].copy_from_slice(&flags.to_ne_bytes());
    b[8..12].copy_from_slice(&ppid_to_api(meta.ppid));
    b[12..16].copy_from_slice(&meta.tsn.to_ne_bytes());
    b[20..24].copy_from_slice(&meta.context.to_ne_bytes());
    b[24..28].copy_from_slice(&meta.assoc.to_ne_bytes());
    b
}

/// `struct sctp_nxtinfo` describing the record after this one.
fn nxtinfo_of(meta: &RecordMeta, len: usize) -> [u8; NXTINFO_LEN] {
    let mut b = [0u8; NXTINFO_LEN];
    b[0..2].copy_from_slice(&meta.stream.to_ne_bytes());
    let mut flags: u16 = if meta.unordered { SCTP_UNORDERED } else { 0 };
    if meta.notification {
        flags |= MSG_NOTIFICATION as u16;
    }
    b[2..4].copy_from_slice(&flags.to_ne_bytes());
    b[4..8].copy_from_slice(&ppid_to_api(meta.ppid));
    b[8..12].copy_from_slice(&(len as u32).to_ne_bytes());
    b[12..16].copy_from_slice(&meta.assoc.to_ne_bytes());
    b
}

/// Which ancillary data a receive returns (from the socket's options).
pub use crate::sys::sockpage::RecvWants;

/// Fills what recvmsg returns beside the data: the peer address, MSG_EOR
/// (`eor`: the read reached the end of the record) / MSG_NOTIFICATION, and
/// SCTP_SNDRCV, SCTP_RCVINFO, SCTP_NXTINFO as subscribed.
///
/// # Safety
/// `out` must be the caller's valid msghdr.
pub unsafe fn fill_recv(
    out: &mut msghdr,
    slice: &Slice,
    eor: bool,
    wants: RecvWants,
    kernel_flags: c_int,
) {
    let meta = &slice.meta;
    // SAFETY: the caller's name buffer covers msg_namelen bytes.
    unsafe {
        if !out.msg_name.is_null() {
            match meta.peer {
                Some(p) => {
                    let (ss, n) = to_sockaddr(&p);
                    let room = (out.msg_namelen).min(n) as usize;
                    std::ptr::copy_nonoverlapping(
                        &ss as *const _ as *const u8,
                        out.msg_name as *mut u8,
                        room,
                    );
                    out.msg_namelen = n;
                }
                None => out.msg_namelen = 0,
            }
        }
    }
    let mut flags = kernel_flags & !(libc::MSG_EOR | libc::MSG_CTRUNC);
    if eor {
        flags |= libc::MSG_EOR;
    }
    if meta.notification {
        flags |= MSG_NOTIFICATION;
    }
    let mut used = 0usize;
    let mut cmsgs: Vec<(c_int, Vec<u8>)> = Vec::new();
    // Linux's order: SCTP_NXTINFO (only when the next message is already
    // queued), SCTP_RCVINFO, SCTP_SNDRCV; the last two for data only.
    if wants.nxtinfo
        && let Some((next, len)) = &slice.next
    {
        cmsgs.push((SCTP_NXTINFO, nxtinfo_of(next, *len).to_vec()));
    }
    if !meta.notification {
        if wants.rcvinfo {
            cmsgs.push((SCTP_RCVINFO, rcvinfo_of(meta).to_vec()));
        }
        if wants.data_io {
            cmsgs.push((SCTP_SNDRCV, sndrcv_of(meta).to_vec()));
        }
    }
    for (ty, data) in cmsgs {
        // SAFETY: CMSG_SPACE/LEN are pure size computations.
        let (space, clen) = unsafe {
            (
                libc::CMSG_SPACE(data.len() as u32) as usize,
                libc::CMSG_LEN(data.len() as u32) as usize,
            )
        };
        if out.msg_control.is_null() || used + space > out.msg_controllen {
            flags |= libc::MSG_CTRUNC;
            break;
        }
        // SAFETY: the control buffer holds `used + space` bytes (checked); cmsghdr
        // alignment holds because every CMSG_SPACE is a multiple of it.
        unsafe {
            let c = (out.msg_control as *mut u8).add(used) as *mut libc::cmsghdr;
            (*c).cmsg_level = SOL_SCTP;
            (*c).cmsg_type = ty;
            (*c).cmsg_len = clen;
            std::ptr::copy_nonoverlapping(data.as_ptr(), libc::CMSG_DATA(c), data.len());
        }
        used += space;
    }
    out.msg_controllen = used;
    out.msg_flags = flags;
}
