//! The RFC 6458 socket options Linux implements, beyond the ones
//! `interpose.rs` handles inline: each get reads the socket's or the named
//! association's settings, each set changes what goes on the wire (via the
//! association's `Config`). Layouts and checks are Linux's (`<linux/sctp.h>`,
//! net/sctp/socket.c): wrong sizes are EINVAL, unknown association ids
//! EINVAL, NULL buffers EFAULT.

use std::os::raw::{c_int, c_void};
use std::time::Duration;

use libc::{sockaddr, socklen_t};

use crate::proto::Config;
use crate::runtime::{AssocView, Engine, Events, SendSpec, SockId, is_many_id};
use crate::sys::{from_sockaddr, sockaddr_bytes, to_sockaddr, unmap};

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

/// SPP_* flags of struct sctp_paddrparams.
const SPP_HB_ENABLE: u32 = 1;
const SPP_HB_DISABLE: u32 = 2;
const SPP_SACKDELAY_ENABLE: u32 = 32;
const SPP_SACKDELAY_DISABLE: u32 = 64;
/// `spinfo_state` (enum sctp_spinfo_state): SCTP_INACTIVE, SCTP_PF, SCTP_ACTIVE.
const SCTP_INACTIVE: i32 = 0;
const SCTP_PF: i32 = 1;
const SCTP_ACTIVE: i32 = 2;
/// SCTP_PF_EXPOSE_DISABLE: a PF path's info is not given out (EACCES).
const SCTP_PF_EXPOSE_DISABLE: u8 = 1;
/// struct sctp_paddrthlds(_v2): the address (a sockaddr_storage, 8-aligned)
/// after the association id, then the u16 thresholds; 144 bytes both.
const THLDS_LEN: usize = 144;

/// The primary path's `spinfo_state`.
pub fn spinfo_state(st: &crate::proto::assoc::Status) -> i32 {
    match (st.primary_active, st.primary_pf) {
        (false, _) => SCTP_INACTIVE,
        (true, true) => SCTP_PF,
        (true, false) => SCTP_ACTIVE,
    }
}

/// The association an (association id, peer address) pair names, as
/// Linux's sctp_addr_id2transport: ENOENT when no association of the
/// socket has that peer address, or the id names another.
fn assoc_by_addr(
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
        Some(v) if unmap(v.status.primary).ip() == addr.ip() => Ok(v.id),
        _ => Err(libc::ENOENT),
    }
}

/// The address of a struct sctp_paddrthlds, None for the wildcard
/// (AF_UNSPEC or an unspecified address: "every path"); an address of
/// another family names no path (ENOENT, as Linux).
fn thlds_addr(b: &[u8]) -> Result<Option<std::net::SocketAddr>, c_int> {
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
fn thlds_assoc(e: &Engine, id: SockId, b: &[u8]) -> Result<u32, c_int> {
    let assoc = u32_at(b, 0);
    match thlds_addr(b)? {
        Some(a) => assoc_by_addr(e, id, assoc, a),
        None if is_many_id(id) && (assoc == 1 || assoc == 2) => Err(libc::EINVAL),
        None => Ok(assoc),
    }
}

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_ne_bytes([b[o], b[o + 1]])
}

fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_ne_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}

fn put16(b: &mut [u8], o: usize, v: u16) {
    b[o..o + 2].copy_from_slice(&v.to_ne_bytes());
}

fn put32(b: &mut [u8], o: usize, v: u32) {
    b[o..o + 4].copy_from_slice(&v.to_ne_bytes());
}

fn ms(d: Duration) -> u32 {
    d.as_millis().min(u128::from(u32::MAX)) as u32
}

/// The caller's option buffer (its first `need` bytes at least).
///
/// # Safety
/// `val` must be readable for `len` bytes (or null).
unsafe fn input(val: *const c_void, len: usize, need: usize) -> Result<Vec<u8>, c_int> {
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
unsafe fn output(val: *mut c_void, len: *mut socklen_t, out: &[u8]) -> Result<c_int, c_int> {
    // SAFETY: per the caller.
    unsafe {
        let n = (*len as usize).min(out.len());
        std::ptr::copy_nonoverlapping(out.as_ptr(), val as *mut u8, n);
        *len = n as socklen_t;
    }
    Ok(0)
}

/// `struct sctp_sndrcvinfo` (send fields) from a SendSpec and back.
fn sndrcv_bytes(s: &SendSpec) -> [u8; 32] {
    let mut b = [0u8; 32];
    put16(&mut b, 0, s.stream);
    put16(&mut b, 4, s.flags);
    put32(&mut b, 8, s.ppid);
    put32(&mut b, 12, s.context);
    put32(&mut b, 28, s.assoc);
    b
}

fn sndinfo_bytes(s: &SendSpec) -> [u8; 16] {
    let mut b = [0u8; 16];
    put16(&mut b, 0, s.stream);
    put16(&mut b, 2, s.flags);
    put32(&mut b, 4, s.ppid);
    put32(&mut b, 8, s.context);
    put32(&mut b, 12, s.assoc);
    b
}

/// `struct sctp_paddrinfo` (152 bytes) of the association's primary path.
fn paddrinfo(v: &AssocView) -> [u8; 152] {
    let mut b = [0u8; 152];
    put32(&mut b, 0, v.id);
    let a = sockaddr_bytes(&v.status.primary);
    b[4..4 + a.len()].copy_from_slice(&a);
    put32(&mut b, 132, spinfo_state(&v.status) as u32);
    put32(&mut b, 136, v.status.cwnd);
    put32(&mut b, 140, v.status.srtt_ms);
    put32(&mut b, 144, v.status.rto_ms);
    put32(&mut b, 148, v.status.mtu);
    b
}

/// getsockopt for the options of this module.
///
/// # Safety
/// `val`/`len` as for getsockopt(2).
unsafe fn get_table(
    e: &Engine,
    id: SockId,
    name: c_int,
    val: *mut c_void,
    len: *mut socklen_t,
) -> Result<c_int, c_int> {
    if val.is_null() || len.is_null() {
        return Err(libc::EFAULT);
    }
    // SAFETY: non-null caller pointer.
    let have = unsafe { *len } as usize;
    let need = match name {
        SCTP_RTOINFO => 16,
        SCTP_ASSOCINFO => 20,
        SCTP_PRIMARY_ADDR => 132,
        SCTP_PEER_ADDR_PARAMS => 156,
        SCTP_DEFAULT_SEND_PARAM => 32,
        SCTP_DEFAULT_SNDINFO => 16,
        SCTP_GET_PEER_ADDR_INFO => 152,
        SCTP_DELAYED_SACK => 12,
        SCTP_MAXSEG | SCTP_MAX_BURST => 4,
        SCTP_CONTEXT | SCTP_PR_SUPPORTED | SCTP_DEFAULT_PRINFO => 8,
        SCTP_GET_ASSOC_ID_LIST => 4,
        SCTP_GET_ASSOC_STATS => 8,
        SCTP_REMOTE_UDP_ENCAPS_PORT => 144,
        SCTP_PEER_ADDR_THLDS | SCTP_PEER_ADDR_THLDS_V2 => THLDS_LEN,
        SCTP_EXPOSE_POTENTIALLY_FAILED_STATE => 8,
        _ => 4,
    };
    // SAFETY: the caller's buffer holds `have` bytes.
    let mut b = unsafe { input(val, have, need) }?;
    // Where the association id sits in the option's structure.
    let assoc = match name {
        SCTP_DEFAULT_SEND_PARAM => u32_at(&b, 28),
        SCTP_DEFAULT_SNDINFO => u32_at(&b, 12),
        SCTP_GET_ASSOC_NUMBER
        | SCTP_GET_ASSOC_ID_LIST
        | SCTP_DISABLE_FRAGMENTS
        | SCTP_FRAGMENT_INTERLEAVE
        | SCTP_NODELAY
        | SCTP_I_WANT_MAPPED_V4_ADDR
        | SCTP_REUSE_PORT => 0,
        SCTP_PEER_ADDR_THLDS | SCTP_PEER_ADDR_THLDS_V2 => thlds_assoc(e, id, &b)?,
        SCTP_MAXSEG | SCTP_MAX_BURST if have < 8 => 0,
        _ => u32_at(&b, 0),
    };
    let (cfg, view) = e.assoc_view(id, assoc)?;
    let out: Vec<u8> = match name {
        SCTP_RTOINFO => {
            put32(&mut b, 4, ms(cfg.rto_initial));
            put32(&mut b, 8, ms(cfg.rto_max));
            put32(&mut b, 12, ms(cfg.rto_min));
            b[..16].to_vec()
        }
        SCTP_ASSOCINFO => {
            put16(&mut b, 4, cfg.assoc_max_retrans.min(0xffff) as u16);
            put16(&mut b, 6, view.as_ref().map_or(0, |v| v.paths as u16));
            put32(&mut b, 8, view.as_ref().map_or(0, |v| v.status.rwnd));
            put32(
                &mut b,
                12,
                view.as_ref().map_or(cfg.rcvbuf as u32, |v| v.local_rwnd),
            );
            put32(&mut b, 16, ms(cfg.valid_cookie_life));
            b[..20].to_vec()
        }
        SCTP_PRIMARY_ADDR => {
            let v = view.ok_or(libc::EINVAL)?;
            b[..132].fill(0);
            put32(&mut b, 0, v.id);
            let a = sockaddr_bytes(&v.status.primary);
            b[4..4 + a.len()].copy_from_slice(&a);
            b[..132].to_vec()
        }
        SCTP_GET_PEER_ADDR_INFO => {
            let v = view.ok_or(libc::EINVAL)?;
            // SAFETY: 132 readable bytes (checked): the address asked about.
            let asked = unsafe { from_sockaddr(b[4..].as_ptr() as *const libc::sockaddr, 128) };
            if asked.is_some_and(|a| unmap(a).ip() != unmap(v.status.primary).ip()) {
                return Err(libc::EINVAL);
            }
            if v.status.primary_pf && cfg.pf_expose == SCTP_PF_EXPOSE_DISABLE {
                return Err(libc::EACCES);
            }
            paddrinfo(&v).to_vec()
        }
        SCTP_PEER_ADDR_PARAMS => {
            let hb = cfg.hb_interval;
            put32(&mut b, 132, hb.map_or(0, ms));
            put16(&mut b, 136, cfg.path_max_retrans.min(0xffff) as u16);
            put32(
                &mut b,
                138,
                view.as_ref().map_or(cfg.pmtu as u32, |v| v.status.mtu),
            );
            put32(&mut b, 142, ms(cfg.sack_delay));
            let mut flags = if hb.is_some() {
                SPP_HB_ENABLE
            } else {
                SPP_HB_DISABLE
            };
            flags |= if cfg.sack_freq > 1 {
                SPP_SACKDELAY_ENABLE
            } else {
                SPP_SACKDELAY_DISABLE
            };
            put32(&mut b, 146, flags);
            b[..156].to_vec()
        }
        SCTP_DEFAULT_SEND_PARAM => sndrcv_bytes(&e.default_send(id)?).to_vec(),
        SCTP_DEFAULT_SNDINFO => sndinfo_bytes(&e.default_send(id)?).to_vec(),
        SCTP_DELAYED_SACK => {
            put32(&mut b, 4, ms(cfg.sack_delay));
            put32(&mut b, 8, cfg.sack_freq);
            b[..12].to_vec()
        }
        SCTP_MAXSEG | SCTP_MAX_BURST => {
            let v = if name == SCTP_MAX_BURST {
                cfg.max_burst
            } else {
                match view {
                    Some(v) => v.status.fragmentation_point,
                    None => cfg.max_seg as u32,
                }
            };
            if have >= 8 {
                put32(&mut b, 4, v);
                b[..8].to_vec()
            } else {
                v.to_ne_bytes().to_vec()
            }
        }
        SCTP_DISABLE_FRAGMENTS => (cfg.disable_fragments as c_int).to_ne_bytes().to_vec(),
        SCTP_NODELAY => (cfg.nodelay as c_int).to_ne_bytes().to_vec(),
        SCTP_I_WANT_MAPPED_V4_ADDR => (e.v4mapped(id)? as c_int).to_ne_bytes().to_vec(),
        SCTP_REUSE_PORT => (e.reuse(id)? as c_int).to_ne_bytes().to_vec(),
        SCTP_PEER_ADDR_THLDS | SCTP_PEER_ADDR_THLDS_V2 => {
            put16(&mut b, 136, cfg.path_max_retrans.min(0xffff) as u16);
            put16(&mut b, 138, cfg.pf_retrans.min(0xffff) as u16);
            if name == SCTP_PEER_ADDR_THLDS_V2 {
                put16(&mut b, 140, cfg.ps_retrans.min(0xffff) as u16);
            }
            b[..THLDS_LEN].to_vec()
        }
        SCTP_EXPOSE_POTENTIALLY_FAILED_STATE => {
            put32(&mut b, 4, u32::from(cfg.pf_expose));
            b[..8].to_vec()
        }
        SCTP_REMOTE_UDP_ENCAPS_PORT => {
            // struct sctp_udpencaps { assoc id; (pad); sockaddr_storage; u16 port }
            let port = match (&view, cfg.remote_udp_port) {
                (Some(v), 0) => v.udp_port,
                (_, p) => p,
            };
            b[136..138].copy_from_slice(&port.to_be_bytes());
            b[..144].to_vec()
        }
        SCTP_CONTEXT => {
            put32(&mut b, 4, cfg.rcv_context);
            b[..8].to_vec()
        }
        // PR-SCTP is not implemented: not supported, and no default policy.
        SCTP_PR_SUPPORTED => {
            put32(&mut b, 4, 0);
            b[..8].to_vec()
        }
        SCTP_DEFAULT_PRINFO => {
            // struct sctp_default_prinfo { assoc_id; u32 pr_value; u16 pr_policy; }
            put32(&mut b, 4, 0);
            b[8..].fill(0);
            b.truncate(12.min(b.len()));
            b
        }
        // AUTH is off, as on Linux by default (net.sctp.auth_enable = 0).
        SCTP_AUTH_CHUNK..=27 | SCTP_AUTH_DEACTIVATE_KEY => return Err(libc::EACCES),
        SCTP_FRAGMENT_INTERLEAVE => 0i32.to_ne_bytes().to_vec(),
        SCTP_GET_ASSOC_NUMBER => (e.assoc_ids(id)?.len() as u32).to_ne_bytes().to_vec(),
        SCTP_GET_ASSOC_ID_LIST => {
            let ids = e.assoc_ids(id)?;
            if have < 4 + 4 * ids.len() {
                return Err(libc::EINVAL);
            }
            let mut o = (ids.len() as u32).to_ne_bytes().to_vec();
            for a in ids {
                o.extend_from_slice(&a.to_ne_bytes());
            }
            o
        }
        SCTP_GET_ASSOC_STATS => {
            let v = view.ok_or(libc::EINVAL)?;
            // struct sctp_assoc_stats: assoc id, the max-RTO address (a
            // sockaddr_storage, 8-aligned), then 15 u64 counters.
            let mut o = vec![0u8; 256];
            put32(&mut o, 0, v.id);
            let a = sockaddr_bytes(&v.status.primary);
            o[8..8 + a.len()].copy_from_slice(&a);
            let s = &v.stats;
            let counters = [
                u64::from(v.status.rto_ms), // sas_maxrto
                0,                          // sas_isacks
                s.sacks_sent,               // sas_osacks
                s.packets_sent,             // sas_opackets
                s.packets_received,         // sas_ipackets
                s.retransmitted_chunks,     // sas_rtxchunks
                0,                          // sas_outofseqtsns
                s.duplicate_tsns,           // sas_idupchunks
                0,                          // sas_gapcnt
                0,                          // sas_ouodchunks
                0,                          // sas_iuodchunks
                s.data_chunks_sent,         // sas_oodchunks
                s.data_chunks_received,     // sas_iodchunks
                0,                          // sas_octrlchunks
                0,                          // sas_ictrlchunks
            ];
            for (i, c) in counters.iter().enumerate() {
                let at = 136 + 8 * i;
                o[at..at + 8].copy_from_slice(&c.to_ne_bytes());
            }
            o.truncate(have.min(o.len()));
            o
        }
        _ => return Err(libc::ENOPROTOOPT),
    };
    // SAFETY: the caller's buffer; `output` writes at most `*len` bytes.
    unsafe { output(val, len, &out) }
}

/// setsockopt for the options of this module.
///
/// # Safety
/// `val` must be readable for `len` bytes (or null).
unsafe fn set_table(
    e: &Engine,
    id: SockId,
    name: c_int,
    val: *const c_void,
    len: socklen_t,
) -> Result<c_int, c_int> {
    let len = len as usize;
    let exact = |n: usize| if len == n { Ok(()) } else { Err(libc::EINVAL) };
    match name {
        SCTP_RTOINFO => {
            exact(16)?;
            // SAFETY: `val` holds 16 bytes (checked).
            let b = unsafe { input(val, len, 16) }?;
            let (init, max, min) = (u32_at(&b, 4), u32_at(&b, 8), u32_at(&b, 12));
            // Unset fields keep the named association's (or socket's) values.
            let (cur, _) = e.assoc_view(id, u32_at(&b, 0))?;
            let new_min = if min != 0 { min } else { ms(cur.rto_min) };
            let new_max = if max != 0 { max } else { ms(cur.rto_max) };
            if new_min > new_max || (init != 0 && (init < new_min || init > new_max)) {
                return Err(libc::EINVAL);
            }
            e.assoc_config(id, u32_at(&b, 0), |c: &mut Config| {
                if init != 0 {
                    c.rto_initial = Duration::from_millis(u64::from(init));
                }
                c.rto_min = Duration::from_millis(u64::from(new_min));
                c.rto_max = Duration::from_millis(u64::from(new_max));
            })
            .map(|_| 0)
        }
        SCTP_ASSOCINFO => {
            exact(20)?;
            // SAFETY: `val` holds 20 bytes (checked).
            let b = unsafe { input(val, len, 20) }?;
            let (maxrxt, life) = (u16_at(&b, 4), u32_at(&b, 16));
            e.assoc_config(id, u32_at(&b, 0), |c: &mut Config| {
                if maxrxt != 0 {
                    c.assoc_max_retrans = u32::from(maxrxt);
                }
                if life != 0 {
                    c.valid_cookie_life = Duration::from_millis(u64::from(life));
                }
            })
            .map(|_| 0)
        }
        SCTP_PRIMARY_ADDR | SCTP_SET_PEER_PRIMARY_ADDR => {
            exact(132)?;
            // SAFETY: `val` holds 132 bytes (checked).
            let b = unsafe { input(val, len, 132) }?;
            let (_, view) = e.assoc_view(id, u32_at(&b, 0))?;
            let v = view.ok_or(libc::EINVAL)?;
            // SAFETY: 128 bytes of sockaddr_storage in our copy.
            let a = unsafe { from_sockaddr(b[4..].as_ptr() as *const libc::sockaddr, 128) }
                .ok_or(libc::EINVAL)?;
            // Single-homed: the one peer address is the only choice.
            if unmap(a).ip() == unmap(v.status.primary).ip() {
                Ok(0)
            } else {
                Err(libc::EADDRNOTAVAIL)
            }
        }
        SCTP_PEER_ADDR_PARAMS => {
            if len < 152 {
                return Err(libc::EINVAL);
            }
            // SAFETY: `val` holds at least 152 bytes (checked).
            let b = unsafe { input(val, len, 152) }?;
            let (hb, pathmaxrxt, sackdelay, flags) = (
                u32_at(&b, 132),
                u16_at(&b, 136),
                u32_at(&b, 142),
                u32_at(&b, 146),
            );
            if flags & SPP_HB_ENABLE != 0 && flags & SPP_HB_DISABLE != 0
                || flags & SPP_SACKDELAY_ENABLE != 0 && flags & SPP_SACKDELAY_DISABLE != 0
                || sackdelay > 500
            {
                return Err(libc::EINVAL);
            }
            e.assoc_config(id, u32_at(&b, 0), |c: &mut Config| {
                if flags & SPP_HB_DISABLE != 0 {
                    c.hb_interval = None;
                } else if flags & SPP_HB_ENABLE != 0 || hb != 0 {
                    let cur = c.hb_interval.unwrap_or(Duration::from_secs(30));
                    c.hb_interval = Some(if hb != 0 {
                        Duration::from_millis(u64::from(hb))
                    } else {
                        cur
                    });
                }
                if pathmaxrxt != 0 {
                    c.path_max_retrans = u32::from(pathmaxrxt);
                }
                if flags & SPP_SACKDELAY_DISABLE != 0 {
                    c.sack_freq = 1;
                } else if flags & SPP_SACKDELAY_ENABLE != 0 && sackdelay != 0 {
                    c.sack_delay = Duration::from_millis(u64::from(sackdelay));
                    c.sack_freq = c.sack_freq.max(2);
                }
            })
            .map(|_| 0)
        }
        SCTP_DEFAULT_SEND_PARAM | SCTP_DEFAULT_SNDINFO => {
            let n = if name == SCTP_DEFAULT_SEND_PARAM {
                32
            } else {
                16
            };
            exact(n)?;
            // SAFETY: `val` holds `n` bytes (checked).
            let b = unsafe { input(val, len, n) }?;
            let spec = if n == 32 {
                SendSpec {
                    stream: u16_at(&b, 0),
                    flags: u16_at(&b, 4),
                    ppid: u32_at(&b, 8),
                    context: u32_at(&b, 12),
                    assoc: u32_at(&b, 28),
                    init: None,
                }
            } else {
                SendSpec {
                    stream: u16_at(&b, 0),
                    flags: u16_at(&b, 2),
                    ppid: u32_at(&b, 4),
                    context: u32_at(&b, 8),
                    assoc: u32_at(&b, 12),
                    init: None,
                }
            };
            e.assoc_view(id, spec.assoc)?;
            e.set_default_send(id, SendSpec { assoc: 0, ..spec })
                .map(|_| 0)
        }
        SCTP_DELAYED_SACK => {
            exact(12)?;
            // SAFETY: `val` holds 12 bytes (checked).
            let b = unsafe { input(val, len, 12) }?;
            let (delay, freq) = (u32_at(&b, 4), u32_at(&b, 8));
            if delay > 500 {
                return Err(libc::EINVAL);
            }
            e.assoc_config(id, u32_at(&b, 0), |c: &mut Config| {
                if delay != 0 {
                    c.sack_delay = Duration::from_millis(u64::from(delay));
                }
                if freq != 0 {
                    c.sack_freq = freq;
                }
            })
            .map(|_| 0)
        }
        SCTP_MAXSEG | SCTP_MAX_BURST => {
            // struct sctp_assoc_value, or a bare int (deprecated, as Linux).
            let (assoc, v) = match len {
                8 => {
                    // SAFETY: `val` holds 8 bytes (checked).
                    let b = unsafe { input(val, len, 8) }?;
                    (u32_at(&b, 0), u32_at(&b, 4))
                }
                4 => {
                    // SAFETY: `val` holds 4 bytes (checked).
                    let b = unsafe { input(val, len, 4) }?;
                    (0, u32_at(&b, 0))
                }
                _ => return Err(libc::EINVAL),
            };
            if name == SCTP_MAXSEG && v != 0 && !(8..=65535).contains(&v) {
                return Err(libc::EINVAL);
            }
            e.assoc_config(id, assoc, |c: &mut Config| {
                if name == SCTP_MAXSEG {
                    c.max_seg = v as usize;
                } else {
                    c.max_burst = v;
                }
            })
            .map(|_| 0)
        }
        SCTP_DISABLE_FRAGMENTS => {
            exact(4)?;
            // SAFETY: `val` holds 4 bytes (checked).
            let b = unsafe { input(val, len, 4) }?;
            let on = u32_at(&b, 0) != 0;
            e.assoc_config(id, 2, |c: &mut Config| c.disable_fragments = on)
                .map(|_| 0)
        }
        SCTP_CONTEXT => {
            exact(8)?;
            // SAFETY: `val` holds 8 bytes (checked).
            let b = unsafe { input(val, len, 8) }?;
            let v = u32_at(&b, 4);
            e.assoc_config(id, u32_at(&b, 0), |c: &mut Config| c.rcv_context = v)
                .map(|_| 0)
        }
        SCTP_PR_SUPPORTED => {
            exact(8)?;
            // SAFETY: `val` holds 8 bytes (checked).
            let b = unsafe { input(val, len, 8) }?;
            if u32_at(&b, 4) == 0 {
                Ok(0)
            } else {
                Err(libc::EOPNOTSUPP)
            }
        }
        SCTP_DEFAULT_PRINFO => Err(libc::EOPNOTSUPP),
        SCTP_AUTH_CHUNK..=27 | SCTP_AUTH_DEACTIVATE_KEY => Err(libc::EACCES),
        SCTP_NODELAY => {
            // SAFETY: `val` covers `len` bytes (checked inside).
            let b = unsafe { input(val, len, 4) }?;
            let on = u32_at(&b, 0) != 0;
            e.assoc_config(id, 2, |c: &mut Config| c.nodelay = on)
                .map(|_| 0)
        }
        SCTP_REMOTE_UDP_ENCAPS_PORT => {
            exact(144)?;
            // SAFETY: `val` holds 144 bytes (checked).
            let b = unsafe { input(val, len, 144) }?;
            let port = u16::from_be_bytes([b[136], b[137]]);
            // For associations started from now on (the port of existing
            // ones is what their peer uses).
            e.assoc_config(id, u32_at(&b, 0), |c: &mut Config| c.remote_udp_port = port)
                .map(|_| 0)
        }
        SCTP_I_WANT_MAPPED_V4_ADDR | SCTP_REUSE_PORT => {
            // SAFETY: `val` covers `len` bytes (checked inside).
            let b = unsafe { input(val, len, 4) }?;
            let on = u32_at(&b, 0) != 0;
            if name == SCTP_REUSE_PORT {
                e.set_reuse(id, on, true)
            } else {
                e.set_v4mapped(id, on)
            }
            .map(|_| 0)
        }
        SCTP_PEER_ADDR_THLDS | SCTP_PEER_ADDR_THLDS_V2 => {
            let v2 = name == SCTP_PEER_ADDR_THLDS_V2;
            // SAFETY: `val` covers `len` bytes (checked inside).
            let b = unsafe { input(val, len, THLDS_LEN) }?;
            let (maxrxt, pf, ps) = (u16_at(&b, 136), u16_at(&b, 138), u16_at(&b, 140));
            if v2 && pf > ps {
                return Err(libc::EINVAL);
            }
            let assoc = thlds_assoc(e, id, &b)?;
            e.assoc_config(id, assoc, |c: &mut Config| {
                if maxrxt != 0 {
                    c.path_max_retrans = u32::from(maxrxt);
                }
                c.pf_retrans = u32::from(pf);
                if v2 {
                    c.ps_retrans = u32::from(ps);
                }
            })
            .map(|_| 0)
        }
        SCTP_EXPOSE_POTENTIALLY_FAILED_STATE => {
            exact(8)?;
            // SAFETY: `val` holds 8 bytes (checked).
            let b = unsafe { input(val, len, 8) }?;
            let v = u32_at(&b, 4);
            if v > 2 {
                return Err(libc::EINVAL);
            }
            e.assoc_config(id, u32_at(&b, 0), |c: &mut Config| c.pf_expose = v as u8)
                .map(|_| 0)
        }
        SCTP_FRAGMENT_INTERLEAVE => {
            exact(4)?;
            // SAFETY: `val` holds 4 bytes (checked).
            let b = unsafe { input(val, len, 4) }?;
            // Only level 0 (no interleaving) is implemented.
            if u32_at(&b, 0) == 0 {
                Ok(0)
            } else {
                Err(libc::EOPNOTSUPP)
            }
        }
        _ => Err(libc::ENOPROTOOPT),
    }
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
            let (rcv, nxt, _) = e.recv_options(id);
            let on = if name == SCTP_RECVRCVINFO { rcv } else { nxt };
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
            let local = e.local_addrs(id);
            // SAFETY: caller's option buffer, checked inside.
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
    put(24, &assoc.to_ne_bytes());
    let (ss, len) = to_sockaddr(&st.primary);
    // SAFETY: sockaddr_storage is plain bytes; we copy `len` of its 128.
    let raw = unsafe { std::slice::from_raw_parts(&ss as *const _ as *const u8, len as usize) };
    put(28, raw);
    put(156, &spinfo_state(st).to_ne_bytes());
    put(160, &st.cwnd.to_ne_bytes());
    put(164, &st.srtt_ms.to_ne_bytes());
    put(168, &st.rto_ms.to_ne_bytes());
    put(172, &st.mtu.to_ne_bytes());
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
/// `buf` must be readable for `len` bytes (or null).
pub(crate) unsafe fn packed_addrs(
    buf: *const c_void,
    len: usize,
) -> Result<Vec<std::net::SocketAddr>, c_int> {
    if buf.is_null() {
        return Err(libc::EFAULT);
    }
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
