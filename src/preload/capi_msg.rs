//! lksctp's C API, the message half: sctp_sendmsg, sctp_send,
//! sctp_recvmsg, sctp_sendv and sctp_recvv, each a sendmsg or recvmsg with
//! SCTP ancillary data, as libsctp builds and reads it (exported under the
//! symbol versions `capi.rs` declares).

use std::os::raw::{c_int, c_void};

use libc::{iovec, msghdr, sockaddr, socklen_t};

use super::capi::{addr_len, addrs_len, fail};
use super::cmsg::{
    SCTP_AUTHINFO, SCTP_DSTADDRV4, SCTP_DSTADDRV6, SCTP_NXTINFO, SCTP_PRINFO, SCTP_RCVINFO,
    SCTP_SNDINFO, SCTP_SNDRCV, SOL_SCTP,
};
use super::recv::recvmsg;
use super::send::sendmsg;
use crate::usermem;

// Their libsctp symbol versions (see `capi.rs`); a .symver must stand in
// the object that defines the symbol.
std::arch::global_asm!(
    ".symver sctpshim_sctp_sendmsg, sctp_sendmsg@@VERS_1",
    ".symver sctpshim_sctp_send, sctp_send@@VERS_1",
    ".symver sctpshim_sctp_recvmsg, sctp_recvmsg@@VERS_1",
    ".symver sctpshim_sctp_sendv, sctp_sendv@@VERS_1",
    ".symver sctpshim_sctp_recvv, sctp_recvv@@VERS_1",
);

/// sctp_sendv info types (SCTP_SENDV_*).
const SENDV_SNDINFO: u32 = 1;
const SENDV_PRINFO: u32 = 2;
const SENDV_AUTHINFO: u32 = 3;
const SENDV_SPA: u32 = 4;
/// sctp_recvv info types (SCTP_RECVV_*).
const RECVV_NOINFO: u32 = 0;
const RECVV_RCVINFO: u32 = 1;
const RECVV_NXTINFO: u32 = 2;
const RECVV_RN: u32 = 3;
/// struct sctp_sendv_spa validity flags.
const SEND_SNDINFO_VALID: u32 = 1;
const SEND_PRINFO_VALID: u32 = 2;
const SEND_AUTHINFO_VALID: u32 = 4;

/// Fills one control message; returns the space it took.
///
/// # Safety
/// `buf` must have room for CMSG_SPACE(data.len()) bytes, cmsghdr-aligned.
unsafe fn put_cmsg(buf: *mut u8, ty: c_int, data: &[u8]) -> usize {
    // SAFETY: per the caller.
    unsafe {
        let c = buf as *mut libc::cmsghdr;
        (*c).cmsg_level = SOL_SCTP;
        (*c).cmsg_type = ty;
        (*c).cmsg_len = libc::CMSG_LEN(data.len() as u32) as usize;
        std::ptr::copy_nonoverlapping(data.as_ptr(), libc::CMSG_DATA(c), data.len());
        libc::CMSG_SPACE(data.len() as u32) as usize
    }
}

/// Control buffer with u64 alignment for cmsghdr.
#[repr(C, align(8))]
struct Cbuf([u8; 256]);

/// `int sctp_sendmsg(int s, const void *msg, size_t len, struct sockaddr *to,
/// socklen_t tolen, uint32_t ppid, uint32_t flags, uint16_t stream_no,
/// uint32_t timetolive, uint32_t context)`.
///
/// # Safety
/// As sendmsg(2) for the buffers.
#[unsafe(export_name = "sctpshim_sctp_sendmsg")]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn sctp_sendmsg(
    s: c_int,
    msg: *const c_void,
    len: usize,
    to: *mut sockaddr,
    tolen: socklen_t,
    ppid: u32,
    flags: u32,
    stream_no: u16,
    timetolive: u32,
    context: u32,
) -> isize {
    let mut info = [0u8; 32];
    info[0..2].copy_from_slice(&stream_no.to_ne_bytes());
    info[4..6].copy_from_slice(&(flags as u16).to_ne_bytes());
    info[8..12].copy_from_slice(&ppid.to_ne_bytes());
    info[12..16].copy_from_slice(&context.to_ne_bytes());
    info[16..20].copy_from_slice(&timetolive.to_ne_bytes());
    let mut cbuf = Cbuf([0; 256]);
    // SAFETY: 256 aligned bytes hold one SNDRCV cmsg.
    let clen = unsafe { put_cmsg(cbuf.0.as_mut_ptr(), SCTP_SNDRCV, &info) };
    let mut iov = iovec {
        iov_base: msg as *mut c_void,
        iov_len: len,
    };
    // SAFETY: an all-zero msghdr is valid.
    let mut m: msghdr = unsafe { std::mem::zeroed() };
    m.msg_name = to as *mut c_void;
    m.msg_namelen = tolen;
    m.msg_iov = &mut iov;
    m.msg_iovlen = 1;
    m.msg_control = cbuf.0.as_mut_ptr() as *mut c_void;
    m.msg_controllen = clen;
    // SAFETY: `m` describes the caller's buffers and our control data.
    unsafe { sendmsg(s, &m, 0) }
}

/// `int sctp_send(int s, const void *msg, size_t len,
/// const struct sctp_sndrcvinfo *sinfo, int flags)`.
///
/// # Safety
/// As sendmsg(2); `sinfo` null or a valid sctp_sndrcvinfo.
#[unsafe(export_name = "sctpshim_sctp_send")]
pub unsafe extern "C" fn sctp_send(
    s: c_int,
    msg: *const c_void,
    len: usize,
    sinfo: *const c_void,
    flags: c_int,
) -> isize {
    let mut cbuf = Cbuf([0; 256]);
    let mut clen = 0;
    if !sinfo.is_null() {
        // A struct sctp_sndrcvinfo (32 bytes), EFAULT checked.
        let info = match usermem::read_exact(sinfo, 32) {
            Ok(b) => b,
            Err(e) => return fail(e) as isize,
        };
        // SAFETY: 256 aligned bytes hold one SNDRCV cmsg.
        clen = unsafe { put_cmsg(cbuf.0.as_mut_ptr(), SCTP_SNDRCV, &info) };
    }
    let mut iov = iovec {
        iov_base: msg as *mut c_void,
        iov_len: len,
    };
    // SAFETY: an all-zero msghdr is valid.
    let mut m: msghdr = unsafe { std::mem::zeroed() };
    m.msg_iov = &mut iov;
    m.msg_iovlen = 1;
    if clen > 0 {
        m.msg_control = cbuf.0.as_mut_ptr() as *mut c_void;
        m.msg_controllen = clen;
    }
    // SAFETY: `m` describes the caller's buffers and our control data.
    unsafe { sendmsg(s, &m, flags) }
}

/// `int sctp_recvmsg(int s, void *msg, size_t len, struct sockaddr *from,
/// socklen_t *fromlen, struct sctp_sndrcvinfo *sinfo, int *msg_flags)`.
///
/// # Safety
/// As recvmsg(2); `sinfo`, `fromlen`, `msg_flags` null or writable.
#[unsafe(export_name = "sctpshim_sctp_recvmsg")]
pub unsafe extern "C" fn sctp_recvmsg(
    s: c_int,
    msg: *mut c_void,
    len: usize,
    from: *mut sockaddr,
    fromlen: *mut socklen_t,
    sinfo: *mut c_void,
    msg_flags: *mut c_int,
) -> isize {
    let mut cbuf = Cbuf([0; 256]);
    let mut iov = iovec {
        iov_base: msg,
        iov_len: len,
    };
    // SAFETY: an all-zero msghdr is valid.
    let mut m: msghdr = unsafe { std::mem::zeroed() };
    m.msg_iov = &mut iov;
    m.msg_iovlen = 1;
    m.msg_control = cbuf.0.as_mut_ptr() as *mut c_void;
    m.msg_controllen = cbuf.0.len();
    if !from.is_null() && !fromlen.is_null() {
        m.msg_name = from as *mut c_void;
        m.msg_namelen = match usermem::get(fromlen) {
            Ok(n) => n,
            Err(e) => return fail(e) as isize,
        };
    }
    // SAFETY: `m` describes the caller's buffers and ours.
    let r = unsafe { recvmsg(s, &mut m, 0) };
    if r < 0 {
        return r;
    }
    let mut info = [0u8; 32];
    // SAFETY: reading our own control buffer as recvmsg filled it.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&m);
        while !c.is_null() {
            if (*c).cmsg_level == SOL_SCTP && (*c).cmsg_type == SCTP_SNDRCV {
                std::ptr::copy_nonoverlapping(libc::CMSG_DATA(c), info.as_mut_ptr(), 32);
            }
            c = libc::CMSG_NXTHDR(&m, c);
        }
    }
    // Back through the caller's pointers, EFAULT checked.
    let out = (|| {
        if !from.is_null() && !fromlen.is_null() {
            usermem::put(fromlen, m.msg_namelen)?;
        }
        if !msg_flags.is_null() {
            usermem::put(msg_flags, m.msg_flags)?;
        }
        if !sinfo.is_null() {
            usermem::write(sinfo, &info)?;
        }
        Ok(())
    })();
    match out {
        Ok(()) => r,
        Err(e) => fail(e) as isize,
    }
}

/// `int sctp_sendv(int s, const struct iovec *iov, int iovcnt, struct
/// sockaddr *addrs, int addrcnt, void *info, socklen_t infolen, unsigned int
/// infotype, int flags)`: the first address is the destination, the others
/// go in SCTP_DSTADDRV4/V6.
///
/// # Safety
/// As sendmsg(2) for the buffers; `info` covers `infolen` bytes.
#[unsafe(export_name = "sctpshim_sctp_sendv")]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn sctp_sendv(
    s: c_int,
    iov: *const iovec,
    iovcnt: c_int,
    addrs: *mut sockaddr,
    addrcnt: c_int,
    info: *mut c_void,
    infolen: socklen_t,
    infotype: u32,
    flags: c_int,
) -> isize {
    let mut cbuf = [0u64; 128];
    let base = cbuf.as_mut_ptr() as *mut u8;
    let mut used = 0usize;
    // The info structure, EFAULT checked (at most the largest, sctp_sendv_spa).
    let info_copy = if info.is_null() {
        Vec::new()
    } else {
        match usermem::read_exact(info, (infolen as usize).min(32)) {
            Ok(b) => b,
            Err(e) => return fail(e) as isize,
        }
    };
    let info_bytes = |n: usize| &info_copy[..n];
    let need = |n: usize| info_copy.len() >= n;
    // SAFETY (all put_cmsg below): 1024 aligned bytes hold the few cmsgs we write.
    match infotype {
        0 => {}
        SENDV_SNDINFO if need(16) => {
            used += unsafe { put_cmsg(base, SCTP_SNDINFO, info_bytes(16)) }
        }
        SENDV_PRINFO if need(8) => used += unsafe { put_cmsg(base, SCTP_PRINFO, info_bytes(8)) },
        SENDV_AUTHINFO if need(2) => {
            used += unsafe { put_cmsg(base, SCTP_AUTHINFO, info_bytes(2)) }
        }
        SENDV_SPA if need(32) => {
            // struct sctp_sendv_spa { u32 sendv_flags; sndinfo (16); prinfo (8); authinfo (2) }
            let spa = info_bytes(32);
            let valid = u32::from_ne_bytes([spa[0], spa[1], spa[2], spa[3]]);
            if valid & SEND_SNDINFO_VALID != 0 {
                used += unsafe { put_cmsg(base.add(used), SCTP_SNDINFO, &spa[4..20]) };
            }
            if valid & SEND_PRINFO_VALID != 0 {
                used += unsafe { put_cmsg(base.add(used), SCTP_PRINFO, &spa[20..28]) };
            }
            if valid & SEND_AUTHINFO_VALID != 0 {
                used += unsafe { put_cmsg(base.add(used), SCTP_AUTHINFO, &spa[28..30]) };
            }
        }
        _ => return fail(libc::EINVAL) as isize,
    }
    // SAFETY: an all-zero msghdr is valid.
    let mut m: msghdr = unsafe { std::mem::zeroed() };
    if addrcnt > 0 && !addrs.is_null() {
        // SAFETY: per the caller, `addrcnt` packed addresses.
        let total = match unsafe { addrs_len(addrs, addrcnt) } {
            Ok(n) => n,
            Err(e) => return fail(e) as isize,
        };
        // The whole array, copied (addrs_len read each family).
        let all = match usermem::read_exact(addrs as *const c_void, total) {
            Ok(b) => b,
            Err(e) => return fail(e) as isize,
        };
        let family_at = |off: usize| c_int::from(u16::from_ne_bytes([all[off], all[off + 1]]));
        let first_len = addr_len(family_at(0)).unwrap_or(0);
        m.msg_name = addrs as *mut c_void;
        m.msg_namelen = first_len as socklen_t;
        let mut off = first_len;
        while off < total {
            let family = family_at(off);
            let data: &[u8] = if family == libc::AF_INET {
                &all[off + 4..off + 8]
            } else {
                &all[off + 8..off + 24]
            };
            let ty = if family == libc::AF_INET {
                SCTP_DSTADDRV4
            } else {
                SCTP_DSTADDRV6
            };
            if used + 64 > std::mem::size_of_val(&cbuf) {
                return fail(libc::EINVAL) as isize;
            }
            // SAFETY: room checked above.
            used += unsafe { put_cmsg(base.add(used), ty, data) };
            off += addr_len(family).unwrap_or(total);
        }
    }
    m.msg_iov = iov as *mut iovec;
    m.msg_iovlen = iovcnt.max(0) as usize;
    if used > 0 {
        m.msg_control = base as *mut c_void;
        m.msg_controllen = used;
    }
    // SAFETY: `m` describes the caller's buffers and our control data.
    unsafe { sendmsg(s, &m, flags) }
}

/// `int sctp_recvv(int s, const struct iovec *iov, int iovlen, struct
/// sockaddr *from, socklen_t *fromlen, void *info, socklen_t *infolen,
/// unsigned int *infotype, int *flags)`: with SCTP_RECVRCVINFO /
/// SCTP_RECVNXTINFO on, the info is an sctp_rcvinfo, sctp_nxtinfo or both
/// (struct sctp_recvv_rn).
///
/// # Safety
/// As recvmsg(2); the out pointers null or writable.
#[unsafe(export_name = "sctpshim_sctp_recvv")]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn sctp_recvv(
    s: c_int,
    iov: *const iovec,
    iovlen: c_int,
    from: *mut sockaddr,
    fromlen: *mut socklen_t,
    info: *mut c_void,
    infolen: *mut socklen_t,
    infotype: *mut u32,
    flags: *mut c_int,
) -> isize {
    // As libsctp's: the flags in *flags, the name's room in *fromlen.
    let mut cbuf = Cbuf([0; 256]);
    // SAFETY: an all-zero msghdr is valid.
    let mut m: msghdr = unsafe { std::mem::zeroed() };
    m.msg_iov = iov as *mut iovec;
    m.msg_iovlen = iovlen.max(0) as usize;
    m.msg_control = cbuf.0.as_mut_ptr() as *mut c_void;
    m.msg_controllen = cbuf.0.len();
    m.msg_name = from as *mut c_void;
    let read_in = (|| -> Result<(socklen_t, c_int), c_int> {
        let namelen = if fromlen.is_null() {
            0
        } else {
            usermem::get(fromlen)?
        };
        let fl = if flags.is_null() {
            0
        } else {
            usermem::get(flags)?
        };
        Ok((namelen, fl))
    })();
    let (namelen, in_flags) = match read_in {
        Ok(x) => x,
        Err(e) => return fail(e) as isize,
    };
    m.msg_namelen = namelen;
    // SAFETY: `m` describes the caller's buffers and ours.
    let r = unsafe { recvmsg(s, &mut m, in_flags) };
    if r < 0 {
        return r;
    }
    let mut rcv: Option<[u8; 28]> = None;
    let mut nxt: Option<[u8; 16]> = None;
    let mut order = Vec::new();
    // SAFETY: walking our own control buffer as recvmsg filled it.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&m);
        while !c.is_null() {
            if (*c).cmsg_level == SOL_SCTP && (*c).cmsg_type == SCTP_RCVINFO {
                let mut b = [0u8; 28];
                std::ptr::copy_nonoverlapping(libc::CMSG_DATA(c), b.as_mut_ptr(), 28);
                rcv = Some(b);
                order.push(SCTP_RCVINFO);
            }
            if (*c).cmsg_level == SOL_SCTP && (*c).cmsg_type == SCTP_NXTINFO {
                let mut b = [0u8; 16];
                std::ptr::copy_nonoverlapping(libc::CMSG_DATA(c), b.as_mut_ptr(), 16);
                nxt = Some(b);
                order.push(SCTP_NXTINFO);
            }
            c = libc::CMSG_NXTHDR(&m, c);
        }
    }
    // Back through the caller's pointers, EFAULT checked.
    let out = (|| {
        if !fromlen.is_null() {
            usermem::put(fromlen, m.msg_namelen)?;
        }
        if !flags.is_null() {
            usermem::put(flags, m.msg_flags)?;
        }
        if info.is_null() || infotype.is_null() || infolen.is_null() {
            return Ok(());
        }
        let room = usermem::get(infolen)? as usize;
        let (ty, bytes) = recvv_info(&order, rcv, nxt, room);
        usermem::put(infotype, ty)?;
        if !bytes.is_empty() {
            usermem::write(info, &bytes)?;
            usermem::put(infolen, bytes.len() as socklen_t)?;
        }
        Ok(())
    })();
    match out {
        Ok(()) => r,
        Err(e) => fail(e) as isize,
    }
}

/// What sctp_recvv reports, as libsctp decides it: the SCTP_RCVINFO and
/// SCTP_NXTINFO messages in the order they came (`order`), each taken
/// while `room` holds what is reported so far plus it; a piece that does
/// not fit ends the walk. *infolen is left alone when nothing is reported.
fn recvv_info(
    order: &[c_int],
    rcv: Option<[u8; 28]>,
    nxt: Option<[u8; 16]>,
    room: usize,
) -> (u32, Vec<u8>) {
    let (mut ty, mut bytes) = (RECVV_NOINFO, Vec::new());
    for &kind in order {
        match (kind, ty) {
            (SCTP_RCVINFO, RECVV_NOINFO | RECVV_NXTINFO) if room >= bytes.len() + 28 => {
                let r = rcv.unwrap_or([0; 28]);
                bytes.splice(0..0, r);
                ty = if ty == RECVV_NOINFO {
                    RECVV_RCVINFO
                } else {
                    RECVV_RN
                };
            }
            (SCTP_NXTINFO, RECVV_NOINFO | RECVV_RCVINFO) if room >= bytes.len() + 16 => {
                bytes.extend_from_slice(&nxt.unwrap_or([0; 16]));
                ty = if ty == RECVV_NOINFO {
                    RECVV_NXTINFO
                } else {
                    RECVV_RN
                };
            }
            _ => break,
        }
    }
    (ty, bytes)
}
