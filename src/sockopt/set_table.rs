//! setsockopt for the options that change an association's (or the
//! socket's) settings.

use super::bytes::*;
use super::*;
use std::time::Duration;

use crate::proto::Config;
use crate::proto::assoc::multihome::PathParamsSet;
use crate::runtime::SendSpec;
use crate::sys::from_sockaddr;

/// setsockopt for the options of this module.
///
/// # Safety
/// `val` must be readable for `len` bytes (or null).
pub(super) unsafe fn set_table(
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
            if name == SCTP_SET_PEER_PRIMARY_ADDR {
                // It asks the peer through ASCONF (RFC 5061), which the
                // shim does not have: Linux's answer with ASCONF off (its
                // default, net.sctp.addip_enable = 0).
                return Err(libc::EPERM);
            }
            // SAFETY: 128 bytes of sockaddr_storage in our copy.
            let a = unsafe { from_sockaddr(b[4..].as_ptr() as *const libc::sockaddr, 128) }
                .ok_or(libc::EINVAL)?;
            // An address that is no path of the association is EINVAL
            // (Linux's sctp_addr_id2transport).
            e.set_primary(id, v.id, a).map(|_| 0)
        }
        SCTP_PEER_ADDR_PARAMS => {
            // The full struct, or older headers' (up to spp_flags), as Linux.
            if len != 152 && len != 156 {
                return Err(libc::EINVAL);
            }
            // SAFETY: `val` holds at least 152 bytes (checked).
            let b = unsafe { input(val, len, 152) }?;
            let (hb, pathmaxrxt, pathmtu, sackdelay, flags) = (
                u32_at(&b, 132),
                u16_at(&b, 136),
                u32_at(&b, 138),
                u32_at(&b, 142),
                u32_at(&b, 146),
            );
            // (Linux: a path MTU below SCTP_DEFAULT_MINSEGMENT, 512, is EINVAL.)
            if flags & SPP_HB_ENABLE != 0 && flags & SPP_HB_DISABLE != 0
                || flags & SPP_SACKDELAY_ENABLE != 0 && flags & SPP_SACKDELAY_DISABLE != 0
                || flags & SPP_PMTUD_ENABLE != 0 && flags & SPP_PMTUD_DISABLE != 0
                || (pathmtu != 0 && pathmtu < 512)
                || sackdelay > 500
            {
                return Err(libc::EINVAL);
            }
            let assoc = u32_at(&b, 0);
            let demand = flags & SPP_HB_DEMAND != 0;
            // An address (not the wildcard) names one path, found by
            // address and port (sctp_addr_id2transport): EINVAL if none.
            let on = |en: u32, dis: u32| (flags & (en | dis) != 0).then_some(flags & en != 0);
            let set = PathParamsSet {
                hb_interval: (hb != 0).then(|| Duration::from_millis(u64::from(hb))),
                hb_on: on(SPP_HB_ENABLE, SPP_HB_DISABLE),
                max_retrans: (pathmaxrxt != 0).then_some(u32::from(pathmaxrxt)),
                pmtud: on(SPP_PMTUD_ENABLE, SPP_PMTUD_DISABLE),
                pmtu: (pathmtu != 0).then_some(pathmtu as usize),
                demand,
                ..Default::default()
            };
            if let Some(a) = asked_addr(&b) {
                let named = assoc_by_addr(e, id, assoc, a).map_err(|_| libc::EINVAL)?;
                // (The delayed SACK settings are the association's.)
                if flags & (SPP_SACKDELAY_ENABLE | SPP_SACKDELAY_DISABLE) != 0 || sackdelay != 0 {
                    e.assoc_config(id, named, |c: &mut Config| sack_params(c, flags, sackdelay))?;
                }
                return e.path_params(id, named, a, &set).map(|_| 0);
            }
            // A heartbeat on demand needs an association (each path gets one).
            let (_, view) = e.assoc_view(id, assoc)?;
            if demand && view.is_none() {
                return Err(libc::EINVAL);
            }
            e.assoc_config(id, assoc, |c: &mut Config| {
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
                if pathmtu != 0 {
                    c.pmtu = pathmtu as usize;
                }
                if flags & SPP_PMTUD_DISABLE != 0 {
                    c.pmtud = false;
                } else if flags & SPP_PMTUD_ENABLE != 0 {
                    c.pmtud = true;
                }
                sack_params(c, flags, sackdelay);
            })?;
            // And what was given to each path, as Linux's loop over the
            // transports writes it (whether or not the association's value
            // changed), a heartbeat on demand included.
            if let Some(v) = view {
                e.all_path_params(id, v.id, &set)?;
            }
            Ok(0)
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
                    ppid: ppid_from_api(&b, 8),
                    context: u32_at(&b, 12),
                    assoc: u32_at(&b, 28),
                    init: None,
                    path: None,
                }
            } else {
                SendSpec {
                    stream: u16_at(&b, 0),
                    flags: u16_at(&b, 2),
                    ppid: ppid_from_api(&b, 4),
                    context: u32_at(&b, 8),
                    assoc: u32_at(&b, 12),
                    init: None,
                    path: None,
                }
            };
            e.assoc_view(id, spec.assoc)?;
            e.set_default_send(id, SendSpec { assoc: 0, ..spec })
                .map(|_| 0)
        }
        SCTP_DELAYED_SACK => {
            // struct sctp_sack_info, or (deprecated, as Linux takes it) the
            // 8-byte struct sctp_assoc_value holding the delay, where a
            // delay of 0 turns delayed SACK off.
            if len != 12 && len != 8 {
                return Err(libc::EINVAL);
            }
            // SAFETY: `val` holds `len` bytes (checked).
            let b = unsafe { input(val, len, len) }?;
            let (delay, freq) = match len {
                12 => (u32_at(&b, 4), u32_at(&b, 8)),
                _ => (u32_at(&b, 4), u32::from(u32_at(&b, 4) == 0)),
            };
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
            // Linux's sctp_setsockopt_maxseg: at least the DATA payload of
            // a 512-byte packet (sctp_min_frag_point: 512 less the IP, SCTP
            // and DATA headers), at most a chunk's 65535 less the DATA header.
            let min = if e.is_v6(id) { 444 } else { 464 };
            if name == SCTP_MAXSEG && v != 0 && !(min..=65535 - 16).contains(&v) {
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
        SCTP_PLPMTUD_PROBE_INTERVAL => {
            // struct sctp_probeinterval { assoc id; sockaddr_storage; u32 ms }.
            exact(144)?;
            // SAFETY: `val` holds 144 bytes (checked).
            let b = unsafe { input(val, len, 144) }?;
            let ms = u32_at(&b, 136);
            // (Linux: SCTP_PROBE_TIMER_MIN, 5 s.)
            if ms != 0 && ms < 5000 {
                return Err(libc::EINVAL);
            }
            // SAFETY: 128 bytes of sockaddr_storage in our copy.
            let addr = unsafe { from_sockaddr(b[8..].as_ptr() as *const libc::sockaddr, 128) }
                .filter(|a| !a.ip().is_unspecified());
            // With an address: the association that has a path to it
            // (address and port, Linux's sctp_addr_id2transport), else
            // EINVAL. (Linux keeps the interval per path; here the
            // association's paths share it.)
            let assoc = match addr {
                Some(a) => assoc_by_addr(e, id, u32_at(&b, 0), a).map_err(|_| libc::EINVAL)?,
                None => u32_at(&b, 0),
            };
            let iv = (ms != 0).then(|| Duration::from_millis(u64::from(ms)));
            e.assoc_config(id, assoc, |c: &mut Config| c.probe_interval = iv)
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
            // As Linux's transport (sctp_setsockopt_paddr_thresholds): an
            // address sets that path only (ENOENT if none); the wildcard
            // sets the association and every one of its paths.
            let set = PathParamsSet {
                max_retrans: (maxrxt != 0).then_some(u32::from(maxrxt)),
                pf_retrans: Some(u32::from(pf)),
                ps_retrans: v2.then_some(u32::from(ps)),
                ..Default::default()
            };
            if let Some(a) = thlds_addr(&b)? {
                return e
                    .path_params(id, assoc, a, &set)
                    .map(|_| 0)
                    .map_err(|_| libc::ENOENT);
            }
            e.assoc_config(id, assoc, |c: &mut Config| {
                if maxrxt != 0 {
                    c.path_max_retrans = u32::from(maxrxt);
                }
                c.pf_retrans = u32::from(pf);
                if v2 {
                    c.ps_retrans = u32::from(ps);
                }
            })?;
            // (Paths whose own values differ take these too, as Linux's
            // loop over the transports; none yet is fine.)
            match e.all_path_params(id, assoc, &set) {
                Ok(()) | Err(libc::EINVAL) => Ok(0),
                Err(x) => Err(x),
            }
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

/// SCTP_PEER_ADDR_PARAMS' delayed SACK part (the association's).
fn sack_params(c: &mut Config, flags: u32, sackdelay: u32) {
    if flags & SPP_SACKDELAY_DISABLE != 0 {
        c.sack_freq = 1;
    } else if flags & SPP_SACKDELAY_ENABLE != 0 && sackdelay != 0 {
        c.sack_delay = Duration::from_millis(u64::from(sackdelay));
        c.sack_freq = c.sack_freq.max(2);
    }
}
