//! Out-of-the-blue packets, verification tags, unknown chunks and parameters (§8.4, §8.5, §3.2).

use super::*;

// --- Out of the blue and verification tags (§8.4, §8.5) ---

#[test]
fn out_of_the_blue_packets_get_abort_with_t_bit() {
    let mut p = Pair::default_pair();
    let sack = Chunk::Sack(Sack {
        cum_tsn_ack: 1,
        a_rwnd: 10,
        gap_blocks: vec![],
        dup_tsns: vec![],
    });
    inject_to_z(
        &mut p,
        Packet {
            src_port: 5001,
            dst_port: 5002,
            verification_tag: 0xabcd,
            chunks: vec![sack],
        },
    );
    assert_eq!(p.z.stats().out_of_the_blue, 1);
    let mut ab = None;
    p.run_until(Duration::from_millis(50), |p| {
        ab = p
            .trace
            .iter()
            .find(|t| t.from == Side::Z)
            .map(|t| t.packet.clone());
        ab.is_some()
    });
    let ab = ab.unwrap();
    assert_eq!(ab.verification_tag, 0xabcd);
    assert!(matches!(
        ab.chunks[0],
        Chunk::Abort(Abort { t_bit: true, .. })
    ));
}

#[test]
fn out_of_the_blue_shutdown_ack_gets_shutdown_complete() {
    let mut p = Pair::default_pair();
    inject_to_z(
        &mut p,
        Packet {
            src_port: 5001,
            dst_port: 5002,
            verification_tag: 0x1234,
            chunks: vec![Chunk::ShutdownAck],
        },
    );
    p.run_for(Duration::from_millis(10));
    let r = last_sent_by(&p, Side::Z);
    assert_eq!(r.verification_tag, 0x1234);
    assert!(matches!(
        r.chunks[0],
        Chunk::ShutdownComplete(ShutdownComplete { t_bit: true })
    ));
}

#[test]
fn out_of_the_blue_abort_and_shutdown_complete_are_ignored() {
    let mut p = Pair::default_pair();
    for c in [
        Chunk::Abort(Abort::default()),
        Chunk::ShutdownComplete(ShutdownComplete::default()),
        Chunk::CookieAck,
    ] {
        inject_to_z(
            &mut p,
            Packet {
                src_port: 5001,
                dst_port: 5002,
                verification_tag: 5,
                chunks: vec![c],
            },
        );
    }
    p.run_for(Duration::from_millis(10));
    assert!(p.trace.iter().all(|t| t.from != Side::Z));
}

#[test]
fn wrong_verification_tag_is_dropped() {
    let mut p = Pair::default_pair();
    let (a, z) = p.establish();
    let (zl, _) = p.z.assoc(z).unwrap().vtags();
    let d = DataChunk {
        tsn: 999,
        stream_id: 0,
        beginning: true,
        ending: true,
        payload: b"evil".to_vec(),
        ..Default::default()
    };
    inject_to_z(
        &mut p,
        Packet {
            src_port: 5001,
            dst_port: 5002,
            verification_tag: zl ^ 1,
            chunks: vec![Chunk::Data(d)],
        },
    );
    p.run_for(Duration::from_secs(1));
    assert!(!p.z.assoc(z).unwrap().has_message());
    assert!(p.a.assoc(a).unwrap().is_established());
}

#[test]
fn blind_abort_with_guessed_tags_does_not_kill_association() {
    let mut p = Pair::default_pair();
    let (a, z) = p.establish();
    let (zl, zp) = p.z.assoc(z).unwrap().vtags();
    for guess in [0u32, 1, zl ^ 0x8000, zp ^ 1] {
        inject_to_z(
            &mut p,
            Packet {
                src_port: 5001,
                dst_port: 5002,
                verification_tag: guess,
                chunks: vec![Chunk::Abort(Abort::default())],
            },
        );
        let t = Abort {
            t_bit: true,
            causes: vec![],
        };
        inject_to_z(
            &mut p,
            Packet {
                src_port: 5001,
                dst_port: 5002,
                verification_tag: guess ^ 2,
                chunks: vec![Chunk::Abort(t)],
            },
        );
        let sc = Chunk::ShutdownComplete(ShutdownComplete { t_bit: false });
        inject_to_z(
            &mut p,
            Packet {
                src_port: 5001,
                dst_port: 5002,
                verification_tag: guess,
                chunks: vec![sc],
            },
        );
    }
    assert!(p.z.assoc(z).unwrap().is_established());
    assert!(p.a.assoc(a).unwrap().is_established());
}

#[test]
fn abort_with_t_bit_and_peer_tag_is_accepted() {
    let mut p = Pair::default_pair();
    let (_, z) = p.establish();
    let (_, zp) = p.z.assoc(z).unwrap().vtags();
    let t = Abort {
        t_bit: true,
        causes: vec![],
    };
    inject_to_z(
        &mut p,
        Packet {
            src_port: 5001,
            dst_port: 5002,
            verification_tag: zp,
            chunks: vec![Chunk::Abort(t)],
        },
    );
    assert!(matches!(
        closed_reason(&p.z_events, z),
        Some(CloseReason::PeerAbort(_))
    ));
}

#[test]
fn corrupted_packets_are_dropped_by_checksum() {
    let mut p = Pair::default_pair();
    let (_, z) = p.establish();
    let (zl, _) = p.z.assoc(z).unwrap().vtags();
    let d = DataChunk {
        tsn: 1,
        payload: b"x".to_vec(),
        beginning: true,
        ending: true,
        ..Default::default()
    };
    let mut bytes = Packet {
        src_port: 5001,
        dst_port: 5002,
        verification_tag: zl,
        chunks: vec![Chunk::Data(d)],
    }
    .encode();
    let n = bytes.len();
    bytes[n - 1] ^= 0xff;
    p.z.handle(p.now, p.a_addr, &bytes);
    assert_eq!(p.z.stats().bad_checksum, 1);
    p.z.handle(p.now, p.a_addr, &bytes[..5]);
    assert_eq!(p.z.stats().malformed, 1);
}

// --- Unknown chunks and parameters (§3.2, §3.2.1) ---

fn unknown_chunk_then_data(p: &mut Pair, z: u32, chunk_type: u8) -> bool {
    let (zl, _) = p.z.assoc(z).unwrap().vtags();
    let a = p.a.assoc_ids().next().unwrap();
    let tsn = p.a.assoc(a).unwrap().out.next_tsn();
    let unk = Chunk::Unknown(UnknownChunk {
        chunk_type,
        flags: 0,
        value: vec![1, 2, 3, 4],
    });
    let d = DataChunk {
        tsn: tsn.0,
        payload: b"after".to_vec(),
        beginning: true,
        ending: true,
        ..Default::default()
    };
    inject_to_z(
        p,
        Packet {
            src_port: 5001,
            dst_port: 5002,
            verification_tag: zl,
            chunks: vec![unk, Chunk::Data(d)],
        },
    );
    p.z.assoc(z).unwrap().has_message()
}

fn reported_unrecognized(p: &Pair, chunk_type: u8) -> bool {
    p.trace.iter().any(|t| {
        t.from == Side::Z
            && t.packet.chunks.iter().any(|c| match c {
                Chunk::Error(e) => e
                    .causes
                    .iter()
                    .any(|c| matches!(c, ErrorCause::UnrecognizedChunkType { chunk } if chunk.first() == Some(&chunk_type))),
                _ => false,
            })
    })
}

#[test]
fn unknown_chunk_00_stops_silently() {
    let mut p = Pair::default_pair();
    let (_, z) = p.establish();
    assert!(!unknown_chunk_then_data(&mut p, z, 0x3e));
    p.run_for(Duration::from_millis(10));
    assert!(!reported_unrecognized(&p, 0x3e));
}

#[test]
fn unknown_chunk_01_stops_and_reports() {
    let mut p = Pair::default_pair();
    let (_, z) = p.establish();
    assert!(!unknown_chunk_then_data(&mut p, z, 0x7e));
    p.run_for(Duration::from_millis(10));
    assert!(reported_unrecognized(&p, 0x7e));
}

#[test]
fn unknown_chunk_10_is_skipped() {
    let mut p = Pair::default_pair();
    let (_, z) = p.establish();
    assert!(unknown_chunk_then_data(&mut p, z, 0xbe));
    p.run_for(Duration::from_millis(10));
    assert!(!reported_unrecognized(&p, 0xbe));
}

#[test]
fn unknown_chunk_11_is_skipped_and_reported() {
    let mut p = Pair::default_pair();
    let (_, z) = p.establish();
    assert!(unknown_chunk_then_data(&mut p, z, 0xfe));
    p.run_for(Duration::from_millis(10));
    assert!(reported_unrecognized(&p, 0xfe));
}

#[test]
fn unknown_init_parameters_follow_upper_bits() {
    let mut p = Pair::default_pair();
    let params = vec![
        Param::Unknown {
            param_type: 0x8123,
            value: vec![1, 2, 3, 4],
        }, // skip
        Param::Unknown {
            param_type: 0xc456,
            value: vec![5],
        }, // skip, report
        Param::Unknown {
            param_type: 0x4789,
            value: vec![],
        }, // stop, report
        Param::Unknown {
            param_type: 0xc999,
            value: vec![],
        }, // never reached
    ];
    let init = Init {
        initiate_tag: 5,
        a_rwnd: 5000,
        outbound_streams: 2,
        inbound_streams: 2,
        initial_tsn: 1,
        params,
    };
    inject_to_z(
        &mut p,
        Packet {
            src_port: 5001,
            dst_port: 5002,
            verification_tag: 0,
            chunks: vec![Chunk::Init(init)],
        },
    );
    let Chunk::InitAck(ia) = &last_sent_by(&p, Side::Z).chunks[0] else {
        panic!("INIT ACK expected")
    };
    let reported: Vec<u16> = ia
        .params
        .iter()
        .filter_map(|x| match x {
            Param::UnrecognizedParameter(tlv) => Some(u16::from_be_bytes([tlv[0], tlv[1]])),
            _ => None,
        })
        .collect();
    assert_eq!(reported, vec![0xc456, 0x4789]);
}

#[test]
fn invalid_init_is_aborted() {
    let mut p = Pair::default_pair();
    let init = Init {
        initiate_tag: 5,
        a_rwnd: 5000,
        outbound_streams: 0,
        inbound_streams: 2,
        initial_tsn: 1,
        params: vec![],
    };
    inject_to_z(
        &mut p,
        Packet {
            src_port: 5001,
            dst_port: 5002,
            verification_tag: 0,
            chunks: vec![Chunk::Init(init)],
        },
    );
    let r = last_sent_by(&p, Side::Z);
    assert_eq!(r.verification_tag, 5);
    assert!(
        matches!(&r.chunks[0], Chunk::Abort(a) if a.causes == vec![ErrorCause::InvalidMandatoryParameter])
    );
    // A zero initiate tag is dropped silently.
    let n = p.trace.len();
    let init = Init {
        initiate_tag: 0,
        a_rwnd: 5000,
        outbound_streams: 1,
        inbound_streams: 2,
        initial_tsn: 1,
        params: vec![],
    };
    inject_to_z(
        &mut p,
        Packet {
            src_port: 5001,
            dst_port: 5002,
            verification_tag: 0,
            chunks: vec![Chunk::Init(init)],
        },
    );
    assert_eq!(p.trace.len(), n);
}

#[test]
fn init_with_host_name_is_refused_as_unresolvable() {
    let mut p = Pair::default_pair();
    let init = Init {
        initiate_tag: 5,
        a_rwnd: 5000,
        outbound_streams: 1,
        inbound_streams: 1,
        initial_tsn: 1,
        params: vec![Param::HostNameAddress(b"example.invalid\0".to_vec())],
    };
    inject_to_z(
        &mut p,
        Packet {
            src_port: 5001,
            dst_port: 5002,
            verification_tag: 0,
            chunks: vec![Chunk::Init(init)],
        },
    );
    let r = last_sent_by(&p, Side::Z);
    assert!(
        matches!(&r.chunks[0], Chunk::Abort(a) if matches!(a.causes[0], ErrorCause::UnresolvableAddress { .. }))
    );
}
