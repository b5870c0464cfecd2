//! Ancillary data of one-to-many sockets: SCTP_SNDRCV / SCTP_SNDINFO on
//! send, SCTP_SNDRCV on receive (with the data_io event), MSG_EOR and
//! MSG_NOTIFICATION, in Linux's layouts (`<linux/sctp.h>`).

use std::os::raw::c_int;

use libc::{msghdr, sockaddr, socklen_t};

use crate::runtime::{RecordMeta, SCTP_UNORDERED, SendSpec};
use crate::sys::to_sockaddr;

const SOL_SCTP: c_int = 132;
const SCTP_SNDRCV: c_int = 1;
const SCTP_SNDINFO: c_int = 2;
const SCTP_RCVINFO: c_int = 3;
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

/// The send parameters given in a sendmsg's control data.
///
/// # Safety
/// `m` must be a valid msghdr whose control buffer covers `msg_controllen`.
pub unsafe fn send_spec(m: &msghdr) -> SendSpec {
    let mut spec = SendSpec::default();
    if m.msg_control.is_null() || m.msg_controllen == 0 {
        return spec;
    }
    // SAFETY: walking the caller's control buffer with libc's CMSG macros.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(m);
        while !c.is_null() {
            let h = &*c;
            let data_len = (h.cmsg_len as usize).saturating_sub(libc::CMSG_LEN(0) as usize);
            let data = std::slice::from_raw_parts(libc::CMSG_DATA(c), data_len);
            if h.cmsg_level == SOL_SCTP && h.cmsg_type == SCTP_SNDRCV && data_len >= SNDRCV_LEN {
                spec.stream = u16_at(data, 0);
                spec.flags = u16_at(data, 4);
                spec.ppid = u32_at(data, 8);
                spec.assoc = u32_at(data, 28);
            } else if h.cmsg_level == SOL_SCTP
                && h.cmsg_type == SCTP_SNDINFO
                && data_len >= SNDINFO_LEN
            {
                spec.stream = u16_at(data, 0);
                spec.flags = u16_at(data, 2);
                spec.ppid = u32_at(data, 4);
                spec.assoc = u32_at(data, 12);
            }
            c = libc::CMSG_NXTHDR(m, c);
        }
    }
    spec
}

/// The bytes of a sendmsg's iovecs, in order.
///
/// # Safety
/// `m` must be a valid msghdr with `msg_iovlen` valid iovecs.
pub unsafe fn gather(m: &msghdr) -> Vec<u8> {
    let mut out = Vec::new();
    if m.msg_iov.is_null() {
        return out;
    }
    // SAFETY: the caller's iovec array has msg_iovlen entries, each valid.
    unsafe {
        for v in std::slice::from_raw_parts(m.msg_iov, m.msg_iovlen) {
            if !v.iov_base.is_null() {
                out.extend_from_slice(std::slice::from_raw_parts(
                    v.iov_base as *const u8,
                    v.iov_len,
                ));
            }
        }
    }
    out
}

/// `struct sctp_sndrcvinfo` describing a received record.
fn sndrcv_of(meta: &RecordMeta) -> [u8; SNDRCV_LEN] {
    let mut b = [0u8; SNDRCV_LEN];
    b[0..2].copy_from_slice(&meta.stream.to_ne_bytes());
    b[2..4].copy_from_slice(&meta.ssn.to_ne_bytes());
    let flags: u16 = if meta.unordered { SCTP_UNORDERED } else { 0 };
    b[4..6].copy_from_slice(&flags.to_ne_bytes());
    b[8..12].copy_from_slice(&meta.ppid.to_ne_bytes());
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
    b[8..12].copy_from_slice(&meta.ppid.to_ne_bytes());
    b[12..16].copy_from_slice(&meta.tsn.to_ne_bytes());
    b[24..28].copy_from_slice(&meta.assoc.to_ne_bytes());
    b
}

/// Fills what recvmsg returns beside the data: the peer address, MSG_EOR /
/// MSG_NOTIFICATION and, when the data_io event is on, SCTP_SNDRCV.
///
/// # Safety
/// `out` must be the caller's valid msghdr.
pub unsafe fn fill_recv(
    out: &mut msghdr,
    meta: &RecordMeta,
    data_io: bool,
    rcvinfo: bool,
    kernel_flags: c_int,
) {
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
    if meta.eor {
        flags |= libc::MSG_EOR;
    }
    if meta.notification {
        flags |= MSG_NOTIFICATION;
    }
    let mut used = 0usize;
    let mut cmsgs: Vec<(c_int, Vec<u8>)> = Vec::new();
    if !meta.notification {
        if data_io {
            cmsgs.push((SCTP_SNDRCV, sndrcv_of(meta).to_vec()));
        }
        if rcvinfo {
            cmsgs.push((SCTP_RCVINFO, rcvinfo_of(meta).to_vec()));
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

/// Writes a record's source into a recvfrom address buffer.
///
/// # Safety
/// As for recvfrom(2)'s address arguments.
pub unsafe fn fill_from(meta: &RecordMeta, addr: *mut sockaddr, alen: *mut socklen_t) {
    if addr.is_null() || alen.is_null() {
        return;
    }
    // SAFETY: caller's buffers per recvfrom(2).
    unsafe {
        match meta.peer {
            Some(p) => {
                let (ss, n) = to_sockaddr(&p);
                let room = (*alen).min(n) as usize;
                std::ptr::copy_nonoverlapping(&ss as *const _ as *const u8, addr as *mut u8, room);
                *alen = n;
            }
            None => *alen = 0,
        }
    }
}
