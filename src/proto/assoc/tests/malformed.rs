//! Chunks that cannot be decoded (RFC 9260 §3.2, §6.10): the chunks before
//! them are processed, then, as Linux does, a Protocol Violation ABORT
//! (T bit in COOKIE-WAIT, where the peer's tag is not known yet).

use super::*;
use crate::proto::wire::{checksum, chunk_type as ct};

/// A packet from A's side to Z under `vtag` holding `chunks` (raw bytes,
/// lengths as given), with a valid CRC32c.
fn raw_packet(sport: u16, dport: u16, vtag: u32, chunks: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&sport.to_be_bytes());
    b.extend_from_slice(&dport.to_be_bytes());
    b.extend_from_slice(&vtag.to_be_bytes());
    b.extend_from_slice(&[0; 4]);
    b.extend_from_slice(chunks);
    let c = checksum(&b);
    b[8..12].copy_from_slice(&c.to_le_bytes());
    b
}

fn to_z(p: &mut Pair, bytes: &[u8]) {
    let from = p.a_addr;
    p.z.handle(p.now, from, bytes);
    p.flush();
}

fn violation_abort(pk: &Packet) -> bool {
    matches!(&pk.chunks[..], [Chunk::Abort(a)] if !a.t_bit
        && matches!(a.causes[..], [ErrorCause::ProtocolViolation { .. }]))
}

#[test]
fn short_sack_is_a_protocol_violation() {
    let mut p = Pair::default_pair();
    let (_, z) = p.establish();
    let (zl, zp) = p.z.assoc(z).unwrap().vtags();
    // SACK with length 8: shorter than its 16-byte fixed part.
    let b = raw_packet(5001, 5002, zl, &[ct::SACK, 0, 0, 8, 0, 0, 0, 0]);
    to_z(&mut p, &b);
    assert_eq!(closed_reason(&p.z_events, z), Some(CloseReason::Violation));
    let r = last_sent_by(&p, Side::Z);
    assert_eq!(r.verification_tag, zp);
    assert!(violation_abort(r), "{r:?}");
}

#[test]
fn chunks_before_the_malformed_one_are_processed() {
    let mut p = Pair::default_pair();
    let (a, z) = p.establish();
    let (zl, _) = p.z.assoc(z).unwrap().vtags();
    let tsn = p.a.assoc(a).unwrap().out.next_tsn().0;
    let data = Chunk::Data(DataChunk {
        tsn,
        beginning: true,
        ending: true,
        payload: b"kept".to_vec(),
        ..Default::default()
    })
    .to_bytes();
    // DATA, then a DATA whose length runs past the end of the packet.
    let mut chunks = data.clone();
    chunks.extend_from_slice(&[ct::DATA, 3, 0, 200, 0, 0, 0, 1]);
    to_z(&mut p, &raw_packet(5001, 5002, zl, &chunks));
    assert_eq!(closed_reason(&p.z_events, z), Some(CloseReason::Violation));
    assert_eq!(p.z.assoc(z).unwrap().stats().data_chunks_received, 1);
}

#[test]
fn malformed_chunk_under_a_wrong_tag_is_ignored() {
    let mut p = Pair::default_pair();
    let (_, z) = p.establish();
    let (zl, _) = p.z.assoc(z).unwrap().vtags();
    let b = raw_packet(5001, 5002, zl ^ 1, &[ct::SACK, 0, 0, 8, 0, 0, 0, 0]);
    to_z(&mut p, &b);
    assert_eq!(closed_reason(&p.z_events, z), None);
    assert!(p.z.assoc(z).unwrap().is_established());
}

/// §3.3.7: an ABORT with a format error is silently discarded.
#[test]
fn malformed_abort_is_discarded() {
    let mut p = Pair::default_pair();
    let (_, z) = p.establish();
    let (zl, _) = p.z.assoc(z).unwrap().vtags();
    // ABORT whose only cause claims 40 bytes in an 8-byte chunk.
    let b = raw_packet(5001, 5002, zl, &[ct::ABORT, 0, 0, 8, 0, 12, 0, 40]);
    to_z(&mut p, &b);
    assert_eq!(closed_reason(&p.z_events, z), None);
    assert!(p.z.assoc(z).unwrap().is_established());
}

/// An ERROR carries one or more causes (§3.3.10): one without any is
/// answered as a chunk too short (Linux: sctp_sf_violation_chunklen).
#[test]
fn error_without_causes_is_a_protocol_violation() {
    let mut p = Pair::default_pair();
    let (_, z) = p.establish();
    let (zl, _) = p.z.assoc(z).unwrap().vtags();
    to_z(&mut p, &raw_packet(5001, 5002, zl, &[ct::ERROR, 0, 0, 4]));
    assert_eq!(closed_reason(&p.z_events, z), Some(CloseReason::Violation));
    assert!(violation_abort(last_sent_by(&p, Side::Z)));
}

#[test]
fn truncated_init_ack_in_cookie_wait_is_aborted_with_t_bit() {
    let t = p_epoch();
    let server: std::net::SocketAddr = "127.0.0.1:7000".parse().unwrap();
    let mut client = Endpoint::new(Config::default(), 6000, [4; 32], t);
    let id = client.connect(t, server, 7000).unwrap();
    let init = Packet::decode(&client.poll_transmit(t).expect("INIT").payload).unwrap();
    let Chunk::Init(i) = &init.chunks[0] else {
        panic!("INIT")
    };
    let own = i.initiate_tag;
    let b = raw_packet(7000, 6000, own, &[ct::INIT_ACK, 0, 0, 8, 0, 0, 0, 5]);
    client.handle(t, server, &b);
    let r = Packet::decode(&client.poll_transmit(t).expect("ABORT").payload).unwrap();
    assert_eq!(r.verification_tag, own, "our own tag, reflected");
    assert!(matches!(&r.chunks[..], [Chunk::Abort(a)] if a.t_bit
        && matches!(a.causes[..], [ErrorCause::ProtocolViolation { .. }])));
    let mut closed = None;
    while let Some((aid, ev)) = client.poll_event() {
        if let AssocEvent::Closed { reason, .. } = ev
            && aid == id
        {
            closed = Some(reason);
        }
    }
    assert_eq!(closed, Some(CloseReason::Violation));
}

fn p_epoch() -> std::time::Instant {
    crate::proto::harness::epoch()
}
