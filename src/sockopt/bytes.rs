//! Byte layouts of the option structures, and copying them in and out
//! of the caller's buffers.

use super::*;
use std::time::Duration;

use libc::sockaddr;

use crate::proto::assoc::multihome::PathStatus;
use crate::runtime::{SendSpec, is_many_id};
use crate::sys::{from_sockaddr, sockaddr_bytes, to_sockaddr, unmap};

/// SPP_* flags of struct sctp_paddrparams.
pub(super) const SPP_HB_ENABLE: u32 = 1;
pub(super) const SPP_HB_DISABLE: u32 = 2;
pub(super) const SPP_HB_DEMAND: u32 = 4;
pub(super) const SPP_PMTUD_ENABLE: u32 = 8;
pub(super) const SPP_PMTUD_DISABLE: u32 = 16;
pub(super) const SPP_SACKDELAY_ENABLE: u32 = 32;
pub(super) const SPP_SACKDELAY_DISABLE: u32 = 64;
/// `spinfo_state` (enum sctp_spinfo_state): SCTP_INACTIVE, SCTP_PF,
/// SCTP_ACTIVE, SCTP_UNCONFIRMED.
pub(super) const SCTP_INACTIVE: i32 = 0;
pub(super) const SCTP_PF: i32 = 1;
pub(super) const SCTP_ACTIVE: i32 = 2;
pub(super) const SCTP_UNCONFIRMED: i32 = 3;
/// SCTP_PF_EXPOSE_DISABLE: a PF path's info is not given out (EACCES).
pub(super) const SCTP_PF_EXPOSE_DISABLE: u8 = 1;
/// struct sctp_paddrthlds(_v2): the address (a sockaddr_storage, 8-aligned)
/// after the association id, then the u16 thresholds; 144 bytes both.
pub(super) const THLDS_LEN: usize = 144;

/// The address an option structure names at offset 4 (its
/// sockaddr_storage, after the association id), None when it is the
/// wildcard or none (Linux's sctp_is_any).
pub(super) fn asked_addr(b: &[u8]) -> Option<std::net::SocketAddr> {
    // (The structures read here hold 128 bytes of address at 4.)
    let b = b.get(4..4 + 128)?;
    // SAFETY: 128 readable bytes of sockaddr_storage (checked just above).
    unsafe { from_sockaddr(b.as_ptr() as *const libc::sockaddr, 128) }
        .filter(|a| !a.ip().is_unspecified())
}

/// The path of `status` to `addr` (address and port, as Linux's
/// sctp_addr_id2transport); EINVAL when it has none.
pub(super) fn path_to(
    status: &crate::proto::assoc::Status,
    addr: std::net::SocketAddr,
) -> Result<&crate::proto::assoc::multihome::PathStatus, c_int> {
    let addr = unmap(addr);
    status
        .paths
        .iter()
        .find(|p| unmap(p.addr) == addr)
        .ok_or(libc::EINVAL)
}

/// The association an (association id, peer address) pair names, as
/// Linux's sctp_addr_id2transport: ENOENT when no association of the
/// socket has that peer address, or the id names another.
pub(super) fn assoc_by_addr(
    e: &Engine,
    id: SockId,
    assoc: u32,
    addr: std::net::SocketAddr,
) -> Result<u32, c_int> {
    let addr = unmap(addr);
    let a = e.assoc_for(id, Some(addr)).ok_or(libc::ENOENT)?;
    // Ids up to SCTP_ALL_ASSOC (2) name no association.
    if assoc > 2 && assoc != a {
        return Err(libc::ENOENT);
    }
    let (_, view) = e.assoc_view(id, a)?;
    match view {
        Some(v) if path_to(&v.status, addr).is_ok() => Ok(v.id),
        _ => Err(libc::ENOENT),
    }
}

/// The address of a struct sctp_paddrthlds, None for the wildcard
/// (AF_UNSPEC or an unspecified address: "every path"); an address of
/// another family names no path (ENOENT, as Linux).
pub(super) fn thlds_addr(b: &[u8]) -> Result<Option<std::net::SocketAddr>, c_int> {
    if u16_at(b, 8) == libc::AF_UNSPEC as u16 {
        return Ok(None);
    }
    // SAFETY: `b` holds THLDS_LEN bytes (checked by callers): 128 from 8.
    let a = unsafe { from_sockaddr(b[8..].as_ptr() as *const libc::sockaddr, 128) }
        .ok_or(libc::ENOENT)?;
    Ok((!a.ip().is_unspecified()).then_some(a))
}

/// The association a struct sctp_paddrthlds names: the one holding its
/// address, or its assoc id. As Linux, a one-to-many socket takes the
/// wildcard address only with FUTURE or an association's id (CURRENT and
/// ALL are EINVAL there: thresholds are per path).
pub(super) fn thlds_assoc(e: &Engine, id: SockId, b: &[u8]) -> Result<u32, c_int> {
    let assoc = u32_at(b, 0);
    match thlds_addr(b)? {
        Some(a) => assoc_by_addr(e, id, assoc, a),
        None if is_many_id(id) && (assoc == 1 || assoc == 2) => Err(libc::EINVAL),
        None => Ok(assoc),
    }
}

pub(super) fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_ne_bytes([b[o], b[o + 1]])
}

pub(super) fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_ne_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}

pub(super) fn put16(b: &mut [u8], o: usize, v: u16) {
    b[o..o + 2].copy_from_slice(&v.to_ne_bytes());
}

pub(super) fn put32(b: &mut [u8], o: usize, v: u32) {
    b[o..o + 4].copy_from_slice(&v.to_ne_bytes());
}

pub(super) fn ms(d: Duration) -> u32 {
    d.as_millis().min(u128::from(u32::MAX)) as u32
}

/// The caller's option buffer (its first `need` bytes at least).
///
/// # Safety
/// `val` must be readable for `len` bytes (or null).
pub(super) unsafe fn input(val: *const c_void, len: usize, need: usize) -> Result<Vec<u8>, c_int> {
    if val.is_null() {
        return Err(libc::EFAULT);
    }
    if len < need {
        return Err(libc::EINVAL);
    }
    // SAFETY: per the caller.
    Ok(unsafe { std::slice::from_raw_parts(val as *const u8, len) }.to_vec())
}

/// Writes `out` back (at most what the caller's buffer holds; `*len` set).
///
/// # Safety
/// `val`/`len` as for getsockopt(2), `*len >= out.len()` checked by callers
/// through `input`.
pub(super) unsafe fn output(
    val: *mut c_void,
    len: *mut socklen_t,
    out: &[u8],
) -> Result<c_int, c_int> {
    // SAFETY: per the caller.
    unsafe {
        let n = (*len as usize).min(out.len());
        std::ptr::copy_nonoverlapping(out.as_ptr(), val as *mut u8, n);
        *len = n as socklen_t;
    }
    Ok(0)
}

/// The payload protocol identifier is opaque to the socket API (Linux
/// copies it between the application's structures and the DATA chunk
/// unchanged): the application's four bytes are the wire's, so as a
/// number (the DATA chunk's, in network order) they read big-endian.
pub(crate) fn ppid_from_api(b: &[u8], o: usize) -> u32 {
    u32::from_be_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}

/// An IP-level option's value as an int: Linux's ip_setsockopt takes a
/// whole int or, for the byte options (IP_TOS, IP_TTL, ...), a single byte.
pub(crate) fn ip_opt_int(b: &[u8]) -> c_int {
    match b.len() {
        0 => 0,
        1..=3 => c_int::from(b[0]),
        _ => c_int::from_ne_bytes([b[0], b[1], b[2], b[3]]),
    }
}

/// The application's bytes of a payload protocol identifier (see
/// [`ppid_from_api`]).
pub(crate) fn ppid_to_api(ppid: u32) -> [u8; 4] {
    ppid.to_be_bytes()
}

/// `struct sctp_sndrcvinfo` (send fields) from a SendSpec and back.
pub(super) fn sndrcv_bytes(s: &SendSpec) -> [u8; 32] {
    let mut b = [0u8; 32];
    put16(&mut b, 0, s.stream);
    put16(&mut b, 4, s.flags);
    b[8..12].copy_from_slice(&ppid_to_api(s.ppid));
    put32(&mut b, 12, s.context);
    put32(&mut b, 28, s.assoc);
    b
}

pub(super) fn sndinfo_bytes(s: &SendSpec) -> [u8; 16] {
    let mut b = [0u8; 16];
    put16(&mut b, 0, s.stream);
    put16(&mut b, 2, s.flags);
    b[4..8].copy_from_slice(&ppid_to_api(s.ppid));
    put32(&mut b, 8, s.context);
    put32(&mut b, 12, s.assoc);
    b
}

/// `struct sctp_paddrinfo` (152 bytes) of the association's primary path.
pub(super) fn paddrinfo(assoc: u32, p: &PathStatus) -> [u8; 152] {
    let mut b = [0u8; 152];
    put32(&mut b, 0, assoc);
    let a = sockaddr_bytes(&p.addr);
    b[4..4 + a.len()].copy_from_slice(&a);
    put32(&mut b, 132, path_state(p) as u32);
    put32(&mut b, 136, p.cwnd);
    put32(&mut b, 140, p.srtt_ms);
    put32(&mut b, 144, p.rto_ms);
    put32(&mut b, 148, p.mtu);
    b
}

/// `spinfo_state` of one path (Linux's enum sctp_spinfo_state).
pub fn path_state(p: &PathStatus) -> i32 {
    match (p.confirmed, p.active, p.pf) {
        (false, ..) => SCTP_UNCONFIRMED,
        (true, false, _) => SCTP_INACTIVE,
        (true, true, true) => SCTP_PF,
        (true, true, false) => SCTP_ACTIVE,
    }
}

/// Fills `struct sctp_getaddrs { sctp_assoc_t assoc_id; u32 addr_num; u8 addrs[]; }`
/// with packed sockaddr_in / sockaddr_in6 entries, as Linux does; ENOMEM when
/// the caller's buffer is too small (libsctp then retries with a larger one).
///
/// # Safety
/// `val`/`len` as for getsockopt(2).
pub(crate) unsafe fn put_addrs(
    val: *mut c_void,
    len: *mut socklen_t,
    addrs: &[std::net::SocketAddr],
) -> Result<c_int, c_int> {
    if val.is_null() || len.is_null() {
        return Err(libc::EFAULT);
    }
    // SAFETY: non-null caller pointer.
    let room = unsafe { *len } as usize;
    if room < 8 {
        return Err(libc::EINVAL);
    }
    let mut out = Vec::with_capacity(8 + 28 * addrs.len());
    // SAFETY: at least 8 readable bytes (checked): keep the caller's assoc id.
    out.extend_from_slice(unsafe { std::slice::from_raw_parts(val as *const u8, 4) });
    out.extend_from_slice(&(addrs.len() as u32).to_ne_bytes());
    for a in addrs {
        let (ss, n) = to_sockaddr(a);
        // SAFETY: sockaddr_storage is plain bytes; `n` is within it.
        out.extend_from_slice(unsafe {
            std::slice::from_raw_parts(&ss as *const _ as *const u8, n as usize)
        });
    }
    if out.len() > room {
        return Err(libc::ENOMEM);
    }
    // SAFETY: the caller's buffer holds `room` >= out.len() bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(out.as_ptr(), val as *mut u8, out.len());
        *len = out.len() as socklen_t;
    }
    Ok(0)
}

/// sizeof(struct sctp_status) in Linux's ABI.
pub(crate) const SCTP_STATUS_LEN: usize = 176;

/// Serializes `struct sctp_status` (with its packed `struct sctp_paddrinfo`).
pub(crate) fn status_bytes(assoc: u32, st: &crate::proto::assoc::Status) -> [u8; SCTP_STATUS_LEN] {
    let mut b = [0u8; SCTP_STATUS_LEN];
    let mut put = |off: usize, v: &[u8]| b[off..off + v.len()].copy_from_slice(v);
    put(0, &assoc.to_ne_bytes());
    put(4, &st.state.to_ne_bytes());
    put(8, &st.rwnd.to_ne_bytes());
    put(12, &(st.unacked.min(0xffff) as u16).to_ne_bytes());
    put(14, &(st.pending.min(0xffff) as u16).to_ne_bytes());
    put(16, &st.inbound_streams.to_ne_bytes());
    put(18, &st.outbound_streams.to_ne_bytes());
    put(20, &st.fragmentation_point.to_ne_bytes());
    // sstat_primary: the primary path as SCTP_GET_PEER_ADDR_INFO gives it.
    put(24, &paddrinfo(assoc, st.primary_path()));
    b
}

/// Writes an int option value.
///
/// # Safety
/// `val`/`len` as for getsockopt(2).
pub(crate) unsafe fn put_int(
    val: *mut c_void,
    len: *mut socklen_t,
    v: c_int,
) -> Result<c_int, c_int> {
    if val.is_null() || len.is_null() {
        return Err(libc::EFAULT);
    }
    // SAFETY: non-null pointers from the caller, size checked.
    unsafe {
        if (*len as usize) < std::mem::size_of::<c_int>() {
            return Err(libc::EINVAL);
        }
        std::ptr::write_unaligned(val as *mut c_int, v);
        *len = std::mem::size_of::<c_int>() as socklen_t;
    }
    Ok(0)
}

/// Writes a fixed-size option value (EINVAL if the buffer is shorter).
///
/// # Safety
/// `val`/`len` as for getsockopt(2).
pub(crate) unsafe fn put_bytes(
    val: *mut c_void,
    len: *mut socklen_t,
    b: &[u8],
) -> Result<c_int, c_int> {
    if val.is_null() || len.is_null() {
        return Err(libc::EFAULT);
    }
    // SAFETY: non-null caller pointers; the size is checked before writing.
    unsafe {
        if (*len as usize) < b.len() {
            return Err(libc::EINVAL);
        }
        std::ptr::copy_nonoverlapping(b.as_ptr(), val as *mut u8, b.len());
        *len = b.len() as socklen_t;
    }
    Ok(0)
}

/// An int option value; EINVAL when shorter than an int.
///
/// # Safety
/// `val` covers `len` bytes (or is null).
pub(crate) unsafe fn get_int(val: *const c_void, len: socklen_t) -> Result<c_int, c_int> {
    if val.is_null() {
        return Err(libc::EFAULT);
    }
    if (len as usize) < std::mem::size_of::<c_int>() {
        return Err(libc::EINVAL);
    }
    // SAFETY: the caller's buffer holds an int (checked).
    Ok(unsafe { std::ptr::read_unaligned(val as *const c_int) })
}

/// A packed array of sockaddr_in / sockaddr_in6 (sctp_bindx, sctp_connectx),
/// `len` bytes long; EINVAL for an unknown family or a cut-off entry.
///
/// # Safety
/// None beyond the C contract: the bytes are read with EFAULT checks.
pub(crate) unsafe fn packed_addrs(
    buf: *const c_void,
    len: usize,
) -> Result<Vec<std::net::SocketAddr>, c_int> {
    // The whole array first, as Linux copies the option in before reading it.
    let copy = crate::usermem::read_exact(buf, len)?;
    let buf = copy.as_ptr() as *const c_void;
    let mut out = Vec::new();
    let mut off = 0usize;
    while off < len {
        if len - off < 2 {
            return Err(libc::EINVAL);
        }
        // SAFETY: at least 2 readable bytes at `off` (checked).
        let family = unsafe { std::ptr::read_unaligned((buf as *const u8).add(off) as *const u16) };
        let size = match c_int::from(family) {
            libc::AF_INET => std::mem::size_of::<libc::sockaddr_in>(),
            libc::AF_INET6 => std::mem::size_of::<libc::sockaddr_in6>(),
            _ => return Err(libc::EINVAL),
        };
        if len - off < size {
            return Err(libc::EINVAL);
        }
        // SAFETY: `size` readable bytes at `off` (checked).
        let a = unsafe {
            from_sockaddr(
                (buf as *const u8).add(off) as *const sockaddr,
                size as socklen_t,
            )
        }
        .ok_or(libc::EINVAL)?;
        out.push(a);
        off += size;
    }
    if out.is_empty() {
        return Err(libc::EINVAL);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::wire::{Chunk, DataChunk};

    /// An application that sends htonl(7) puts 00 00 00 07 on the wire, as
    /// with Linux's SCTP, and reads back the bytes the peer put there.
    #[test]
    fn ppid_is_opaque() {
        let app = 7u32.to_be_bytes(); // htonl(7) as it sits in memory
        let d = DataChunk {
            immediate: false,
            unordered: false,
            beginning: true,
            ending: true,
            tsn: 1,
            stream_id: 0,
            ssn: 0,
            ppid: ppid_from_api(&app, 0),
            payload: b"x".to_vec(),
        };
        let mut wire = Vec::new();
        Chunk::Data(d).encode(&mut wire);
        assert_eq!(&wire[12..16], &[0, 0, 0, 7]);
        assert_eq!(ppid_to_api(ppid_from_api(&app, 0)), app);
        // Bytes an application wrote without htonl travel as they are too.
        assert_eq!(ppid_to_api(ppid_from_api(&[7, 0, 0, 0], 0)), [7, 0, 0, 0]);
    }
}
