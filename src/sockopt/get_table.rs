//! getsockopt for the options read from an association's (or the
//! socket's) settings.

use super::bytes::*;
use super::*;
use crate::sys::sockaddr_bytes;

/// getsockopt for the options of this module.
///
/// # Safety
/// `val`/`len` as for getsockopt(2).
pub(super) unsafe fn get_table(
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
        // Older headers' struct ends before spp_ipv6_flowlabel (152 bytes).
        SCTP_PEER_ADDR_PARAMS if (152..156).contains(&have) => 152,
        SCTP_PEER_ADDR_PARAMS => 156,
        SCTP_DEFAULT_SEND_PARAM => 32,
        SCTP_DEFAULT_SNDINFO => 16,
        SCTP_GET_PEER_ADDR_INFO => 152,
        SCTP_DELAYED_SACK if have == 8 => 8,
        SCTP_DELAYED_SACK => 12,
        SCTP_MAXSEG | SCTP_MAX_BURST => 4,
        SCTP_CONTEXT | SCTP_PR_SUPPORTED | SCTP_DEFAULT_PRINFO => 8,
        SCTP_GET_ASSOC_ID_LIST => 4,
        SCTP_GET_ASSOC_STATS => 8,
        SCTP_REMOTE_UDP_ENCAPS_PORT | SCTP_PLPMTUD_PROBE_INTERVAL => 144,
        SCTP_PEER_ADDR_THLDS | SCTP_PEER_ADDR_THLDS_V2 => THLDS_LEN,
        SCTP_EXPOSE_POTENTIALLY_FAILED_STATE => 8,
        _ => 4,
    };
    // SAFETY: the caller's buffer holds `have` bytes.
    let mut b = unsafe { input(val, have, need) }?;
    // Where the association id sits in the option's structure.
    // The peer address the option names, for those that name one.
    let asked = match name {
        SCTP_GET_PEER_ADDR_INFO | SCTP_PEER_ADDR_PARAMS => asked_addr(&b),
        // (struct sctp_probeinterval is not packed: the address is at 8.)
        SCTP_PLPMTUD_PROBE_INTERVAL => asked_addr(&b[4..]),
        _ => None,
    };
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
        // The transport by its address (Linux's sctp_addr_id2transport):
        // an id of 0 on a one-to-many socket is fine; none is EINVAL.
        SCTP_GET_PEER_ADDR_INFO | SCTP_PEER_ADDR_PARAMS | SCTP_PLPMTUD_PROBE_INTERVAL => {
            match asked {
                Some(a) => assoc_by_addr(e, id, u32_at(&b, 0), a).map_err(|_| libc::EINVAL)?,
                None => u32_at(&b, 0),
            }
        }
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
            let a = sockaddr_bytes(&v.status.primary_path().addr);
            b[4..4 + a.len()].copy_from_slice(&a);
            b[..132].to_vec()
        }
        SCTP_GET_PEER_ADDR_INFO => {
            let v = view.ok_or(libc::EINVAL)?;
            // The path asked about, by address and port as Linux's
            // sctp_addr_id2transport (the primary when no address is given).
            let p = path_to(&v.status, asked.unwrap_or(v.status.primary_path().addr))?;
            if p.pf && cfg.pf_expose == SCTP_PF_EXPOSE_DISABLE {
                return Err(libc::EACCES);
            }
            paddrinfo(v.id, p).to_vec()
        }
        // One path's (an address given), as Linux's transport reports them.
        SCTP_PEER_ADDR_PARAMS if asked.is_some() => {
            let v = view.ok_or(libc::EINVAL)?;
            let p = path_to(&v.status, asked.ok_or(libc::EINVAL)?)?;
            let pp = p.params;
            put32(&mut b, 132, ms(pp.hb_interval));
            put16(&mut b, 136, pp.max_retrans.min(0xffff) as u16);
            put32(&mut b, 138, p.mtu);
            put32(&mut b, 142, ms(cfg.sack_delay));
            put32(
                &mut b,
                146,
                spp_flags(pp.hb_on, pp.pmtud, cfg.sack_freq > 1),
            );
            b[..if have >= 156 { 156 } else { 152 }].to_vec()
        }
        SCTP_PEER_ADDR_PARAMS => {
            let hb = cfg.hb_interval;
            put32(&mut b, 132, hb.map_or(0, ms));
            put16(&mut b, 136, cfg.path_max_retrans.min(0xffff) as u16);
            put32(
                &mut b,
                138,
                view.as_ref()
                    .map_or(cfg.pmtu as u32, |v| v.status.primary_path().mtu),
            );
            put32(&mut b, 142, ms(cfg.sack_delay));
            put32(
                &mut b,
                146,
                spp_flags(hb.is_some(), cfg.pmtud, cfg.sack_freq > 1),
            );
            b[..if have >= 156 { 156 } else { 152 }].to_vec()
        }
        SCTP_DEFAULT_SEND_PARAM => sndrcv_bytes(&e.default_send(id)?).to_vec(),
        SCTP_DEFAULT_SNDINFO => sndinfo_bytes(&e.default_send(id)?).to_vec(),
        SCTP_DELAYED_SACK => {
            // A frequency of 1 is delayed SACK off: Linux reports delay 0.
            let off = cfg.sack_freq == 1;
            put32(&mut b, 4, if off { 0 } else { ms(cfg.sack_delay) });
            if have == 8 {
                b[..8].to_vec()
            } else {
                put32(&mut b, 8, cfg.sack_freq);
                b[..12].to_vec()
            }
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
            // An address: that path's, as Linux's transport (ENOENT if none).
            let (maxrxt, pf, ps) = match thlds_addr(&b)? {
                Some(a) => {
                    let v = view.as_ref().ok_or(libc::ENOENT)?;
                    let pp = path_to(&v.status, a).map_err(|_| libc::ENOENT)?.params;
                    (pp.max_retrans, pp.pf_retrans, pp.ps_retrans)
                }
                None => (cfg.path_max_retrans, cfg.pf_retrans, cfg.ps_retrans),
            };
            put16(&mut b, 136, maxrxt.min(0xffff) as u16);
            put16(&mut b, 138, pf.min(0xffff) as u16);
            if name == SCTP_PEER_ADDR_THLDS_V2 {
                put16(&mut b, 140, ps.min(0xffff) as u16);
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
        SCTP_PLPMTUD_PROBE_INTERVAL => {
            put32(&mut b, 136, cfg.probe_interval.map_or(0, ms));
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
            let a = sockaddr_bytes(&v.status.primary_path().addr);
            o[8..8 + a.len()].copy_from_slice(&a);
            let s = &v.stats;
            let counters = [
                u64::from(v.status.primary_path().rto_ms), // sas_maxrto
                0,                                         // sas_isacks
                s.sacks_sent,                              // sas_osacks
                s.packets_sent,                            // sas_opackets
                s.packets_received,                        // sas_ipackets
                s.retransmitted_chunks,                    // sas_rtxchunks
                0,                                         // sas_outofseqtsns
                s.duplicate_tsns,                          // sas_idupchunks
                0,                                         // sas_gapcnt
                0,                                         // sas_ouodchunks
                0,                                         // sas_iuodchunks
                s.data_chunks_sent,                        // sas_oodchunks
                s.data_chunks_received,                    // sas_iodchunks
                0,                                         // sas_octrlchunks
                0,                                         // sas_ictrlchunks
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

/// spp_flags: heartbeats, path MTU discovery and delayed SACK on or off.
fn spp_flags(hb: bool, pmtud: bool, sack_delay: bool) -> u32 {
    let pick = |on: bool, yes: u32, no: u32| if on { yes } else { no };
    pick(hb, SPP_HB_ENABLE, SPP_HB_DISABLE)
        | pick(pmtud, SPP_PMTUD_ENABLE, SPP_PMTUD_DISABLE)
        | pick(sack_delay, SPP_SACKDELAY_ENABLE, SPP_SACKDELAY_DISABLE)
}
