//! SCTP notifications (RFC 6458 §6.1) in Linux's layouts (`<linux/sctp.h>`),
//! and the per-socket subscriptions (SCTP_EVENTS / SCTP_EVENT).

use std::net::SocketAddr;

use crate::proto::assoc::AssocId;
use crate::proto::assoc::tx::OutMessage;
use crate::sys::sockaddr_bytes;

/// `SCTP_SN_TYPE_BASE`: notification type n is `BASE + n`, and event n is
/// byte n of `struct sctp_event_subscribe`.
pub const SN_TYPE_BASE: u16 = 0x8000;

/// Event numbers (type - SN_TYPE_BASE, index in `sctp_event_subscribe`).
pub mod ev {
    pub const DATA_IO: usize = 0;
    pub const ASSOC_CHANGE: usize = 1;
    pub const PEER_ADDR_CHANGE: usize = 2;
    pub const SEND_FAILED: usize = 3;
    pub const REMOTE_ERROR: usize = 4;
    pub const SHUTDOWN: usize = 5;
    pub const PARTIAL_DELIVERY: usize = 6;
    pub const ADAPTATION: usize = 7;
    pub const AUTHENTICATION: usize = 8;
    pub const SENDER_DRY: usize = 9;
    pub const SEND_FAILED_EVENT: usize = 13;
    /// Events Linux knows (SCTP_SN_TYPE_MAX - BASE + 1).
    pub const COUNT: usize = 14;
}

/// `sac_state` values.
pub const SCTP_COMM_UP: u16 = 0;
pub const SCTP_COMM_LOST: u16 = 1;
pub const SCTP_RESTART: u16 = 2;
pub const SCTP_SHUTDOWN_COMP: u16 = 3;
pub const SCTP_CANT_STR_ASSOC: u16 = 4;

/// `spc_state` values.
pub const SCTP_ADDR_AVAILABLE: i32 = 0;
pub const SCTP_ADDR_UNREACHABLE: i32 = 1;
pub const SCTP_ADDR_MADE_PRIM: i32 = 4;
pub const SCTP_ADDR_CONFIRMED: i32 = 5;
pub const SCTP_ADDR_POTENTIALLY_FAILED: i32 = 6;

/// `ssf_flags`: the data never went out / went out but was not acknowledged.
pub const SCTP_DATA_UNSENT: u16 = 0;
pub const SCTP_DATA_SENT: u16 = 1;

/// A socket's subscriptions, one flag per event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Events(pub [bool; ev::COUNT]);

impl Events {
    pub fn on(&self, e: usize) -> bool {
        self.0.get(e).copied().unwrap_or(false)
    }

    /// SCTP_EVENTS: `struct sctp_event_subscribe` bytes (a shorter buffer
    /// sets only the events it covers, as Linux).
    pub fn set_bytes(&mut self, b: &[u8]) {
        for (d, v) in self.0.iter_mut().zip(b) {
            *d = *v != 0;
        }
    }

    pub fn bytes(&self) -> [u8; ev::COUNT] {
        self.0.map(u8::from)
    }

    /// The event number of notification type `ty`, if Linux knows it.
    pub fn index_of(ty: u16) -> Option<usize> {
        let i = usize::from(ty.checked_sub(SN_TYPE_BASE)?);
        (i < ev::COUNT).then_some(i)
    }
}

fn header(ty: usize, flags: u16, len: usize) -> Vec<u8> {
    let mut b = Vec::with_capacity(len);
    b.extend_from_slice(&(SN_TYPE_BASE + ty as u16).to_ne_bytes());
    b.extend_from_slice(&flags.to_ne_bytes());
    b.extend_from_slice(&(len as u32).to_ne_bytes());
    b
}

/// `struct sctp_assoc_change` (20 bytes).
pub fn assoc_change(state: u16, error: u16, streams: (u16, u16), assoc: AssocId) -> Vec<u8> {
    let mut b = header(ev::ASSOC_CHANGE, 0, 20);
    for v in [state, error, streams.0, streams.1] {
        b.extend_from_slice(&v.to_ne_bytes());
    }
    b.extend_from_slice(&assoc.to_ne_bytes());
    b
}

/// `struct sctp_shutdown_event` (12 bytes).
pub fn shutdown_event(assoc: AssocId) -> Vec<u8> {
    let mut b = header(ev::SHUTDOWN, 0, 12);
    b.extend_from_slice(&assoc.to_ne_bytes());
    b
}

/// `struct sctp_sender_dry_event` (12 bytes).
pub fn sender_dry(assoc: AssocId) -> Vec<u8> {
    let mut b = header(ev::SENDER_DRY, 0, 12);
    b.extend_from_slice(&assoc.to_ne_bytes());
    b
}

/// `struct sctp_pdapi_event` (24 bytes: indication, assoc id, stream,
/// sequence), SCTP_PARTIAL_DELIVERY_ABORTED.
pub fn pdapi_aborted(stream: u16, ssn: u16, assoc: AssocId) -> Vec<u8> {
    let mut b = header(ev::PARTIAL_DELIVERY, 0, 24);
    for v in [0u32, assoc, u32::from(stream), u32::from(ssn)] {
        b.extend_from_slice(&v.to_ne_bytes());
    }
    b
}

/// `struct sctp_authkey_event` (20 bytes) saying SCTP_AUTH_NO_AUTH: the
/// association does not use AUTH (RFC 6458 §6.1.8). Without AUTH support
/// every association says so, as Linux's does when AUTH is off.
pub fn no_auth(assoc: AssocId) -> Vec<u8> {
    const SCTP_AUTH_NO_AUTH: u32 = 2;
    let mut b = header(ev::AUTHENTICATION, 0, 20);
    b.extend_from_slice(&[0; 4]); // key number, alternate key number
    b.extend_from_slice(&SCTP_AUTH_NO_AUTH.to_ne_bytes());
    b.extend_from_slice(&assoc.to_ne_bytes());
    b
}

/// `struct sctp_adaptation_event` (16 bytes).
pub fn adaptation(ind: u32, assoc: AssocId) -> Vec<u8> {
    let mut b = header(ev::ADAPTATION, 0, 16);
    b.extend_from_slice(&ind.to_ne_bytes());
    b.extend_from_slice(&assoc.to_ne_bytes());
    b
}

/// `struct sctp_paddr_change` (148 bytes, packed): address, state, error.
pub fn paddr_change(addr: SocketAddr, state: i32, error: i32, assoc: AssocId) -> Vec<u8> {
    let mut b = header(ev::PEER_ADDR_CHANGE, 0, 148);
    let mut storage = [0u8; 128];
    let raw = sockaddr_bytes(&addr);
    storage[..raw.len()].copy_from_slice(&raw);
    b.extend_from_slice(&storage);
    b.extend_from_slice(&state.to_ne_bytes());
    b.extend_from_slice(&error.to_ne_bytes());
    b.extend_from_slice(&assoc.to_ne_bytes());
    b
}

/// `struct sctp_remote_error` (16 bytes + the ERROR chunk's causes):
/// `sre_error` is the first cause code (network byte order, as Linux).
pub fn remote_error(causes: &[u8], assoc: AssocId) -> Vec<u8> {
    let mut b = header(ev::REMOTE_ERROR, 0, 16 + causes.len());
    let first = causes.get(..2).map_or([0, 0], |c| [c[0], c[1]]);
    b.extend_from_slice(&first);
    b.extend_from_slice(&[0, 0]);
    b.extend_from_slice(&assoc.to_ne_bytes());
    b.extend_from_slice(causes);
    b
}

/// `struct sctp_send_failed` (48 bytes + the data): the old form, with a
/// `struct sctp_sndrcvinfo`.
pub fn send_failed(msg: &OutMessage, sent: bool, error: u32, assoc: AssocId) -> Vec<u8> {
    let flags = if sent {
        SCTP_DATA_SENT
    } else {
        SCTP_DATA_UNSENT
    };
    let mut b = header(ev::SEND_FAILED, flags, 48 + msg.data.len());
    b.extend_from_slice(&error.to_ne_bytes());
    let mut info = [0u8; 32];
    info[0..2].copy_from_slice(&msg.stream_id.to_ne_bytes());
    let f: u16 = if msg.unordered { 1 } else { 0 };
    info[4..6].copy_from_slice(&f.to_ne_bytes());
    info[8..12].copy_from_slice(&crate::sockopt::ppid_to_api(msg.ppid));
    info[12..16].copy_from_slice(&msg.context.to_ne_bytes());
    info[28..32].copy_from_slice(&assoc.to_ne_bytes());
    b.extend_from_slice(&info);
    b.extend_from_slice(&assoc.to_ne_bytes());
    b.extend_from_slice(&msg.data);
    b
}

/// `struct sctp_send_failed_event` (32 bytes + the data), with a
/// `struct sctp_sndinfo`.
pub fn send_failed_event(msg: &OutMessage, sent: bool, error: u32, assoc: AssocId) -> Vec<u8> {
    let flags = if sent {
        SCTP_DATA_SENT
    } else {
        SCTP_DATA_UNSENT
    };
    let mut b = header(ev::SEND_FAILED_EVENT, flags, 32 + msg.data.len());
    b.extend_from_slice(&error.to_ne_bytes());
    let mut info = [0u8; 16];
    info[0..2].copy_from_slice(&msg.stream_id.to_ne_bytes());
    let f: u16 = if msg.unordered { 1 } else { 0 };
    info[2..4].copy_from_slice(&f.to_ne_bytes());
    info[4..8].copy_from_slice(&crate::sockopt::ppid_to_api(msg.ppid));
    info[8..12].copy_from_slice(&msg.context.to_ne_bytes());
    info[12..16].copy_from_slice(&assoc.to_ne_bytes());
    b.extend_from_slice(&info);
    b.extend_from_slice(&assoc.to_ne_bytes());
    b.extend_from_slice(&msg.data);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u16_at(b: &[u8], o: usize) -> u16 {
        u16::from_ne_bytes([b[o], b[o + 1]])
    }

    fn u32_at(b: &[u8], o: usize) -> u32 {
        u32::from_ne_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
    }

    #[test]
    fn layouts_match_linux_sizes_and_offsets() {
        let a = assoc_change(SCTP_COMM_UP, 0, (10, 5), 7);
        assert_eq!(
            (a.len(), u16_at(&a, 0), u32_at(&a, 4), u16_at(&a, 12)),
            (20, 0x8001, 20, 10)
        );
        assert_eq!(u32_at(&a, 16), 7);
        let p = paddr_change("10.0.0.1:9".parse().unwrap(), SCTP_ADDR_UNREACHABLE, 0, 3);
        assert_eq!((p.len(), u32_at(&p, 4), u16_at(&p, 0)), (148, 148, 0x8002));
        assert_eq!(u16_at(&p, 8), libc::AF_INET as u16);
        assert_eq!((u32_at(&p, 136), u32_at(&p, 144)), (1, 3));
        let msg = OutMessage {
            stream_id: 2,
            ppid: 9,
            context: 77,
            data: b"xyz".to_vec(),
            ..Default::default()
        };
        let f = send_failed(&msg, true, 5, 4);
        assert_eq!(
            (f.len(), u16_at(&f, 2), u32_at(&f, 8)),
            (51, SCTP_DATA_SENT, 5)
        );
        assert_eq!((u16_at(&f, 12), u32_at(&f, 24), u32_at(&f, 44)), (2, 77, 4));
        assert_eq!(&f[48..], b"xyz");
        let e = send_failed_event(&msg, false, 5, 4);
        assert_eq!((e.len(), u16_at(&e, 0), u16_at(&e, 12)), (35, 0x800d, 2));
        // The PPID as the application's bytes: the wire's (network) order.
        assert_eq!(&e[16..20], &9u32.to_be_bytes());
        assert_eq!((u32_at(&e, 20), u32_at(&e, 28)), (77, 4));
        let r = remote_error(&[0, 1, 0, 8, 0, 5, 0, 0], 6);
        assert_eq!((r.len(), u16_at(&r, 0), r[8], r[9]), (24, 0x8004, 0, 1));
        assert_eq!(u32_at(&r, 12), 6);
        assert_eq!(shutdown_event(3).len(), 12);
        let ad = adaptation(0xabcd, 2);
        assert_eq!(
            (ad.len(), u16_at(&ad, 0), u32_at(&ad, 8), u32_at(&ad, 12)),
            (16, 0x8007, 0xabcd, 2)
        );
        let pd = pdapi_aborted(4, 9, 2);
        assert_eq!(
            (pd.len(), u16_at(&pd, 0), u32_at(&pd, 12), u32_at(&pd, 16)),
            (24, 0x8006, 2, 4)
        );
        assert_eq!(u16_at(&sender_dry(3), 0), 0x8009);
    }

    #[test]
    fn subscriptions_from_bytes_and_types() {
        let mut e = Events::default();
        e.set_bytes(&[1, 1, 0]);
        assert!(e.on(ev::DATA_IO) && e.on(ev::ASSOC_CHANGE) && !e.on(ev::PEER_ADDR_CHANGE));
        assert_eq!(Events::index_of(0x8009), Some(ev::SENDER_DRY));
        assert_eq!(Events::index_of(0x800e), None);
        assert_eq!(Events::index_of(1), None);
        assert_eq!(e.bytes()[..3], [1, 1, 0]);
    }
}
