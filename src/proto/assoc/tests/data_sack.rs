//! Data transfer and SACK generation (§6, §6.2, §6.7).

use super::*;

// --- Data transfer (§6) ---

#[test]
fn messages_flow_both_ways_in_order() {
    let mut p = Pair::default_pair();
    let (a, z) = p.establish();
    for i in 0..20u8 {
        p.a.send(p.now, a, msg(u16::from(i % 3), &[i; 100]))
            .unwrap();
        p.z.send(p.now, z, msg(0, &[i; 10])).unwrap();
    }
    p.run_for(Duration::from_secs(1));
    let at_z = recv_all(&mut p.z, z);
    let at_a = recv_all(&mut p.a, a);
    assert_eq!(at_z.len(), 20);
    assert_eq!(at_a.len(), 20);
    for s in 0..3u16 {
        let seq: Vec<u8> = at_z
            .iter()
            .filter(|m| m.stream_id == s)
            .map(|m| m.data[0])
            .collect();
        let mut sorted = seq.clone();
        sorted.sort();
        assert_eq!(seq, sorted);
    }
    assert!(
        at_z.iter()
            .all(|m| m.ppid == 42 && !m.unordered && m.data.len() == 100)
    );
    assert_eq!(
        at_a.iter().map(|m| m.data[0]).collect::<Vec<_>>(),
        (0..20).collect::<Vec<_>>()
    );
}

#[test]
fn unordered_messages_are_flagged() {
    let mut p = Pair::default_pair();
    let (a, z) = p.establish();
    let mut m = msg(1, b"u");
    m.unordered = true;
    p.a.send(p.now, a, m).unwrap();
    p.run_for(Duration::from_millis(50));
    let r = p.z.recv(z).unwrap();
    assert!(r.unordered);
    assert_eq!(r.stream_id, 1);
}

#[test]
fn small_messages_are_bundled_into_one_packet() {
    let mut p = Pair::default_pair();
    let (a, z) = p.establish();
    let n0 = p.trace.len();
    for i in 0..10u8 {
        p.a.send(p.now, a, msg(0, &[i; 20])).unwrap();
    }
    p.flush();
    let sent: Vec<_> = p.trace[n0..].iter().filter(|t| t.from == Side::A).collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0]
            .packet
            .chunks
            .iter()
            .filter(|c| matches!(c, Chunk::Data(_)))
            .count(),
        10
    );
    p.run_for(Duration::from_millis(300));
    assert_eq!(recv_all(&mut p.z, z).len(), 10);
}

#[test]
fn large_message_is_fragmented_and_reassembled() {
    let mut ca = Config::default();
    ca.sndbuf = 4 << 20;
    let mut cz = Config::default();
    cz.rcvbuf = 4 << 20;
    let mut p = Pair::new(ca, cz);
    p.tracing = false;
    let (a, z) = p.establish();
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    p.a.send(p.now, a, msg(2, &data)).unwrap();
    assert!(p.run_until(Duration::from_secs(60), |p| {
        p.z.assoc(z).unwrap().has_message()
    }));
    let m = p.z.recv(z).unwrap();
    assert_eq!(m.data, data);
    assert_eq!(m.stream_id, 2);
    assert!(p.a.assoc(a).unwrap().stats().data_chunks_sent > 2000);
}

#[test]
fn data_chunks_respect_the_path_mtu() {
    let mut p = Pair::default_pair();
    let (a, _) = p.establish();
    p.a.send(p.now, a, msg(0, &vec![1; 10_000])).unwrap();
    p.run_for(Duration::from_secs(1));
    for t in p.trace.iter().filter(|t| t.from == Side::A) {
        assert!(t.packet.encode().len() <= 1472);
    }
    assert!(
        p.count_sent(
            Side::A,
            |c| matches!(c, Chunk::Data(d) if d.payload.len() == 1472 - 28)
        ) >= 6
    );
}

#[test]
fn empty_message_is_refused() {
    let mut p = Pair::default_pair();
    let (a, _) = p.establish();
    assert_eq!(
        p.a.send(p.now, a, msg(0, b"")),
        Err(crate::proto::assoc::SendError::Empty)
    );
}

#[test]
fn data_without_user_data_is_aborted() {
    let mut p = Pair::default_pair();
    let (_, z) = p.establish();
    let (zl, _) = p.z.assoc(z).unwrap().vtags();
    let a = p.a.assoc_ids().next().unwrap();
    let tsn = p.a.assoc(a).unwrap().out.next_tsn().0;
    let d = DataChunk {
        tsn,
        beginning: true,
        ending: true,
        ..Default::default()
    };
    inject_to_z(
        &mut p,
        Packet {
            src_port: 5001,
            dst_port: 5002,
            verification_tag: zl,
            chunks: vec![Chunk::Data(d)],
        },
    );
    assert_eq!(closed_reason(&p.z_events, z), Some(CloseReason::Violation));
    let r = last_sent_by(&p, Side::Z);
    assert!(
        matches!(&r.chunks[0], Chunk::Abort(ab) if ab.causes == vec![ErrorCause::NoUserData { tsn }])
    );
    p.run_for(Duration::from_millis(20));
    assert!(matches!(
        closed_reason(&p.a_events, a),
        Some(CloseReason::PeerAbort(_))
    ));
}

#[test]
fn data_on_invalid_stream_is_acked_and_reported() {
    let mut p = Pair::default_pair();
    let (a, z) = p.establish();
    let (zl, _) = p.z.assoc(z).unwrap().vtags();
    let tsn = p.a.assoc(a).unwrap().out.next_tsn().0;
    let d = DataChunk {
        tsn,
        stream_id: 5000,
        beginning: true,
        ending: true,
        payload: b"x".to_vec(),
        ..Default::default()
    };
    inject_to_z(
        &mut p,
        Packet {
            src_port: 5001,
            dst_port: 5002,
            verification_tag: zl,
            chunks: vec![Chunk::Data(d)],
        },
    );
    let r = last_sent_by(&p, Side::Z);
    let has_err = r.chunks.iter().any(|c| matches!(c, Chunk::Error(e) if e.causes == vec![ErrorCause::InvalidStreamIdentifier { stream_id: 5000 }]));
    let acks = r
        .chunks
        .iter()
        .any(|c| matches!(c, Chunk::Sack(s) if s.cum_tsn_ack == tsn));
    assert!(has_err && acks, "{r:?}");
    assert!(!p.z.assoc(z).unwrap().has_message());
}

#[test]
fn sack_for_unsent_tsn_aborts_as_protocol_violation() {
    let mut p = Pair::default_pair();
    let (a, z) = p.establish();
    let (al, _) = p.a.assoc(a).unwrap().vtags();
    let bogus = p.a.assoc(a).unwrap().out.next_tsn().0.wrapping_add(10);
    let s = Chunk::Sack(Sack {
        cum_tsn_ack: bogus,
        a_rwnd: 1000,
        gap_blocks: vec![],
        dup_tsns: vec![],
    });
    inject_to_a(
        &mut p,
        Packet {
            src_port: 5002,
            dst_port: 5001,
            verification_tag: al,
            chunks: vec![s],
        },
    );
    assert_eq!(closed_reason(&p.a_events, a), Some(CloseReason::Violation));
    p.run_for(Duration::from_millis(20));
    assert!(
        matches!(closed_reason(&p.z_events, z), Some(CloseReason::PeerAbort(c)) if matches!(c[0], ErrorCause::ProtocolViolation { .. }))
    );
}

// --- SACK generation (§6.2, §6.7) ---

/// When the `n`th SACK from Z went out.
fn nth_sack_at(p: &Pair, n: usize) -> std::time::Instant {
    p.trace
        .iter()
        .filter(|t| t.from == Side::Z && matches!(t.packet.chunks[0], Chunk::Sack(_)))
        .nth(n)
        .expect("a SACK")
        .at
}

/// The first DATA of an association is acknowledged at once (as Linux and
/// FreeBSD, and what conformance tests expect); after that a lone packet
/// waits for the delayed-SACK timer (§6.2).
#[test]
fn single_packet_is_acked_after_the_delayed_sack_timeout() {
    let mut p = Pair::default_pair();
    let (a, _) = p.establish();
    p.a.send(p.now, a, msg(0, b"one")).unwrap();
    let sent_at = p.now;
    assert!(p.run_until(Duration::from_secs(2), |p| {
        p.count_sent(Side::Z, |c| matches!(c, Chunk::Sack(_))) > 0
    }));
    assert_eq!(nth_sack_at(&p, 0) - sent_at, Duration::from_millis(5));
    p.run_for(Duration::from_millis(50));
    p.a.send(p.now, a, msg(0, b"two")).unwrap();
    let sent_at = p.now;
    assert!(p.run_until(Duration::from_secs(2), |p| {
        p.count_sent(Side::Z, |c| matches!(c, Chunk::Sack(_))) > 1
    }));
    assert_eq!(nth_sack_at(&p, 1) - sent_at, Duration::from_millis(5 + 200));
}

#[test]
fn every_second_packet_is_acked_at_once() {
    let mut p = Pair::default_pair();
    let (a, _) = p.establish();
    p.a.send(p.now, a, msg(0, &[0; 1400])).unwrap();
    p.a.send(p.now, a, msg(0, &[0; 1400])).unwrap();
    let sent_at = p.now;
    assert!(p.run_until(Duration::from_secs(2), |p| {
        p.count_sent(Side::Z, |c| matches!(c, Chunk::Sack(_))) > 0
    }));
    let sack_at = p
        .trace
        .iter()
        .find(|t| t.from == Side::Z && matches!(t.packet.chunks[0], Chunk::Sack(_)))
        .unwrap()
        .at;
    assert_eq!(sack_at - sent_at, Duration::from_millis(5));
}

#[test]
fn gaps_and_duplicates_are_reported_at_once() {
    let mut p = Pair::default_pair();
    let (a, z) = p.establish();
    let (zl, _) = p.z.assoc(z).unwrap().vtags();
    let t0 = p.a.assoc(a).unwrap().out.next_tsn().0;
    let data = |tsn: u32| {
        let d = DataChunk {
            tsn,
            beginning: true,
            ending: true,
            payload: vec![1],
            ..Default::default()
        };
        Packet {
            src_port: 5001,
            dst_port: 5002,
            verification_tag: zl,
            chunks: vec![Chunk::Data(d)],
        }
    };
    inject_to_z(&mut p, data(t0));
    inject_to_z(&mut p, data(t0 + 2));
    let Chunk::Sack(s) = &last_sent_by(&p, Side::Z).chunks[0] else {
        panic!()
    };
    assert_eq!((s.cum_tsn_ack, s.gap_blocks.clone()), (t0, vec![(2, 2)]));
    inject_to_z(&mut p, data(t0 + 2));
    let Chunk::Sack(s) = &last_sent_by(&p, Side::Z).chunks[0] else {
        panic!()
    };
    assert_eq!(s.dup_tsns, vec![t0 + 2]);
}

#[test]
fn immediate_bit_asks_for_sack_at_once() {
    let mut p = Pair::default_pair();
    let (a, z) = p.establish();
    let (zl, _) = p.z.assoc(z).unwrap().vtags();
    let t0 = p.a.assoc(a).unwrap().out.next_tsn().0;
    let d = DataChunk {
        tsn: t0,
        immediate: true,
        beginning: true,
        ending: true,
        payload: vec![1],
        ..Default::default()
    };
    let n = p.count_sent(Side::Z, |c| matches!(c, Chunk::Sack(_)));
    inject_to_z(
        &mut p,
        Packet {
            src_port: 5001,
            dst_port: 5002,
            verification_tag: zl,
            chunks: vec![Chunk::Data(d)],
        },
    );
    assert_eq!(
        p.count_sent(Side::Z, |c| matches!(c, Chunk::Sack(_))),
        n + 1
    );
}

#[test]
fn sack_is_bundled_with_outgoing_data() {
    let mut p = Pair::default_pair();
    let (a, z) = p.establish();
    // (The first DATA is acknowledged at once, alone.)
    p.a.send(p.now, a, msg(0, b"first")).unwrap();
    p.run_for(Duration::from_millis(50));
    p.a.send(p.now, a, msg(0, b"ping")).unwrap();
    p.run_for(Duration::from_millis(10));
    p.z.send(p.now, z, msg(0, b"pong")).unwrap();
    p.flush();
    let r = last_sent_by(&p, Side::Z);
    assert!(matches!(r.chunks[0], Chunk::Sack(_)));
    assert!(matches!(r.chunks[1], Chunk::Data(_)));
}

/// A shared receive space counts what the association held when it was
/// set; what arrives after comes off it, so the window the SACK carries is
/// exact between the engine's looks (RFC 9260 §6.2).
#[test]
fn shared_space_shrinks_with_data_received_after_it_was_set() {
    let mut p = Pair::default_pair();
    let (a, z) = p.establish();
    p.z.assoc_mut(z).unwrap().set_shared_space(Some(3000));
    assert_eq!(p.z.assoc(z).unwrap().local_rwnd(), 3000);
    p.a.send(p.now, a, msg(0, &[1u8; 1000])).unwrap();
    assert!(p.run_until(Duration::from_secs(1), |p| {
        p.z.assoc(z).unwrap().rx_buffered() > 0
    }));
    assert_eq!(p.z.assoc(z).unwrap().local_rwnd(), 2000);
    // Taken by the socket: the engine's next look says what is left.
    assert!(p.z.recv(z).is_some());
    p.z.assoc_mut(z).unwrap().set_shared_space(Some(2000));
    assert_eq!(p.z.assoc(z).unwrap().local_rwnd(), 2000);
}

/// Sends 40 one-packet messages from A with a large cwnd; returns the
/// pair, the association and A's tag.
fn burst_pair() -> (Pair, AssocId, u32) {
    let mut p = Pair::default_pair();
    let (a, _) = p.establish();
    let (al, _) = p.a.assoc(a).unwrap().vtags();
    p.a.assoc_mut(a).unwrap().paths[0].cc.cwnd = 100_000;
    (p, a, al)
}

fn queue_messages(p: &mut Pair, a: AssocId, n: u8) {
    for i in 0..n {
        p.a.send(p.now, a, msg(0, &[i; 1000])).unwrap();
    }
}

/// A's DATA packets that poll_transmit gives now.
fn data_packets(p: &mut Pair) -> usize {
    std::iter::from_fn(|| p.a.poll_transmit(p.now))
        .filter(|t| {
            let pk = Packet::decode(&t.payload).unwrap();
            pk.chunks.iter().any(|c| matches!(c, Chunk::Data(_)))
        })
        .count()
}

/// Z's SACK up to `cum`, straight into A's endpoint.
fn sack_to_a(p: &mut Pair, al: u32, cum: u32) {
    let sack = Chunk::Sack(Sack {
        cum_tsn_ack: cum,
        a_rwnd: 200_000,
        gap_blocks: vec![],
        dup_tsns: vec![],
    });
    let bytes = packet(false, al, vec![sack]).encode();
    let from = p.z_addr;
    p.a.handle(p.now, from, &bytes);
}

/// `burst_pair` after four one-packet messages went out (Max.Burst) and a
/// SACK acknowledged all of them, with nothing left queued.
fn four_sent_and_acked() -> (Pair, AssocId) {
    let (mut p, a, al) = burst_pair();
    queue_messages(&mut p, a, 4);
    assert_eq!(data_packets(&mut p), 4);
    let first = p.a.assoc(a).unwrap().out.cum_ack().0.wrapping_add(1);
    sack_to_a(&mut p, al, first + 3);
    (p, a)
}

/// A SACK that comes while the sender has nothing queued keeps its
/// Max.Burst credit for the data that comes next: an application slower
/// than the SACKs does not ratchet the flight down to Max.Burst packets.
#[test]
fn a_sacks_credit_waits_for_the_data_to_use_it() {
    let (mut p, a) = four_sent_and_acked();
    assert_eq!(data_packets(&mut p), 0, "nothing queued");
    // The SACK took 4,000 bytes out of flight: a credit of 3 packets of
    // the path MTU, on top of Max.Burst. One message comes, then more.
    queue_messages(&mut p, a, 1);
    assert_eq!(data_packets(&mut p), 1);
    queue_messages(&mut p, a, 40);
    assert_eq!(data_packets(&mut p), 6);
}

/// §7.2.1: after an RTO without data the cwnd is halved per RTO (at least
/// 4 MTU), and the Max.Burst credit of the SACKs before the pause is gone.
#[test]
fn an_idle_path_restarts_with_half_the_cwnd_per_rto_and_max_burst() {
    let (mut p, a) = four_sent_and_acked();
    let rto = p.a.assoc(a).unwrap().paths[0].rto.rto();
    p.now += rto * 2 + rto / 2;
    queue_messages(&mut p, a, 40);
    assert_eq!(data_packets(&mut p), 4);
    let cwnd = p.a.assoc(a).unwrap().paths[0].cc.cwnd;
    let four_mtu = 4 * p.a.assoc(a).unwrap().paths[0].mtu;
    // 100,000 plus what the SACK grew it by, halved twice.
    assert!(
        (25_000..27_000).contains(&cwnd) && cwnd > four_mtu,
        "{cwnd}"
    );
}

/// Max.Burst (§6.1 D) with a peer that acks in batches: the SACKs a sender
/// takes before it transmits again (one engine turn's receive batch) each
/// free what they took out of flight. Renewing the budget for each packet
/// kept only the last SACK's part, and held a sender whose peer acks once
/// per batch to a few packets more than that SACK acknowledged.
#[test]
fn sacks_taken_together_each_free_room_under_max_burst() {
    let (mut p, a, al) = burst_pair();
    queue_messages(&mut p, a, 40);
    // Max.Burst (4) packets of one chunk each after the sends.
    assert_eq!(data_packets(&mut p), 4);
    let first = p.a.assoc(a).unwrap().out.cum_ack().0.wrapping_add(1);
    sack_to_a(&mut p, al, first + 1);
    sack_to_a(&mut p, al, first + 3);
    // The four acknowledged ones are replaced, and Max.Burst more go.
    assert_eq!(data_packets(&mut p), 8);
}

/// A send buffer nobody sized (`Config::sndbuf_auto`) holds twice the
/// congestion window, up to AUTO_BUF_MAX; SO_SNDBUF's is fixed.
#[test]
fn an_automatic_send_buffer_follows_the_congestion_window() {
    for auto in [false, true] {
        let ca = Config {
            sndbuf: 10_000,
            sndbuf_auto: auto,
            ..Config::default()
        };
        let mut p = Pair::new(ca, Config::default());
        let (a, _) = p.establish();
        let x = p.a.assoc_mut(a).unwrap();
        x.paths[0].cc.cwnd = 100_000;
        assert_eq!(x.sndbuf(), if auto { 200_000 } else { 10_000 });
        x.paths[0].cc.cwnd = 100 << 20;
        assert_eq!(
            x.sndbuf(),
            if auto {
                crate::proto::config::AUTO_BUF_MAX
            } else {
                10_000
            }
        );
    }
}
