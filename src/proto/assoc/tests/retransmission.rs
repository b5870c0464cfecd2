//! Retransmission, RTO and congestion control (§6.3, §7).

use super::*;

// --- Retransmission, RTO and congestion control (§6.3, §7) ---

#[test]
fn rtt_is_measured_and_rto_clamped_to_min() {
    let mut p = Pair::default_pair();
    let (a, _) = p.establish();
    for _ in 0..10 {
        p.a.send(p.now, a, msg(0, &[0; 1000])).unwrap();
        p.a.send(p.now, a, msg(0, &[0; 1000])).unwrap();
        p.run_for(Duration::from_millis(100));
    }
    let path = &p.a.assoc(a).unwrap().paths()[0];
    assert_eq!(path.rto.srtt(), Some(Duration::from_millis(10)));
    assert_eq!(path.rto.rto(), Duration::from_secs(1));
}

#[test]
fn lost_chunk_is_retransmitted_after_t3_and_cwnd_collapses() {
    let mut p = Pair::default_pair();
    let (a, z) = p.establish();
    let mut first = true;
    p.drop_filter = Some(Box::new(move |s, pk| {
        let hit = s == Side::A && first && pk.chunks.iter().any(|c| matches!(c, Chunk::Data(_)));
        if hit {
            first = false;
        }
        hit
    }));
    p.a.send(p.now, a, msg(0, b"lost once")).unwrap();
    let t0 = p.now;
    assert!(p.run_until(Duration::from_secs(5), |p| {
        p.z.assoc(z).unwrap().has_message()
    }));
    let elapsed = p.now - t0;
    assert!(
        elapsed >= Duration::from_secs(1) && elapsed < Duration::from_millis(1100),
        "{elapsed:?}"
    );
    let asn = p.a.assoc(a).unwrap();
    assert_eq!(asn.stats().t3_expiries, 1);
    assert_eq!(asn.paths()[0].cc.cwnd, asn.paths()[0].mtu);
    assert_eq!(
        asn.paths()[0].rto.rto(),
        Duration::from_secs(2),
        "RTO doubled"
    );
}

/// An established pair whose sender's congestion window has grown: 40
/// full-size messages sent and read (1 MiB send buffer).
fn pair_with_grown_window() -> (Pair, AssocId, AssocId) {
    let mut ca = Config::default();
    ca.sndbuf = 1 << 20;
    let mut p = Pair::new(ca, Config::default());
    let (a, z) = p.establish();
    for _ in 0..40 {
        p.a.send(p.now, a, msg(0, &[1; 1400])).unwrap();
    }
    p.run_for(Duration::from_secs(1));
    recv_all(&mut p.z, z);
    (p, a, z)
}

#[test]
fn third_miss_indication_triggers_fast_retransmit_and_halves_cwnd() {
    let (mut p, a, z) = pair_with_grown_window();
    let cwnd_before = p.a.assoc(a).unwrap().paths()[0].cc.cwnd;
    assert!(cwnd_before > 4404, "slow start grew cwnd: {cwnd_before}");
    let mut n = 0;
    p.drop_filter = Some(Box::new(move |s, pk| {
        if s == Side::A && pk.chunks.iter().any(|c| matches!(c, Chunk::Data(_))) {
            n += 1;
            return n == 2;
        }
        false
    }));
    for _ in 0..20 {
        p.a.send(p.now, a, msg(0, &[2; 1400])).unwrap();
    }
    assert!(p.run_until(Duration::from_secs(5), |p| {
        p.a.assoc(a).unwrap().all_data_acked()
    }));
    let asn = p.a.assoc(a).unwrap();
    assert_eq!(asn.stats().fast_retransmits, 1);
    assert_eq!(asn.stats().t3_expiries, 0);
    assert!(
        p.now - p.trace.iter().rev().find(|t| t.from == Side::A).unwrap().at
            < Duration::from_secs(1)
    );
    assert_eq!(recv_all(&mut p.z, z).len(), 20);
}

#[test]
fn filling_the_last_gap_is_acknowledged_at_once() {
    let mut p = Pair::default_pair();
    let (a, z) = p.establish();
    let mut first = true;
    p.drop_filter = Some(Box::new(move |s, pk| {
        let data = s == Side::A && pk.chunks.iter().any(|c| matches!(c, Chunk::Data(_)));
        data && std::mem::replace(&mut first, false)
    }));
    p.a.send(p.now, a, msg(0, &[1; 1400])).unwrap();
    p.a.send(p.now, a, msg(0, &[2; 1400])).unwrap();
    // The lost chunk comes back by T3; the packet that fills the gap must be
    // answered without the delayed-SACK wait (the sender has nothing else
    // in flight to clock it).
    assert!(p.run_until(Duration::from_secs(5), |p| {
        p.a.assoc(a).unwrap().all_data_acked()
    }));
    let rtx = p
        .trace
        .iter()
        .rev()
        .find(|t| t.from == Side::A && t.packet.chunks.iter().any(|c| matches!(c, Chunk::Data(_))))
        .unwrap()
        .at;
    let sack = p
        .trace
        .iter()
        .find(|t| {
            t.from == Side::Z
                && t.at >= rtx
                && t.packet.chunks.iter().any(|c| matches!(c, Chunk::Sack(_)))
        })
        .unwrap()
        .at;
    assert!(sack - rtx <= p.link.delay, "SACK after {:?}", sack - rtx);
    assert_eq!(recv_all(&mut p.z, z).len(), 2);
}

#[test]
fn lost_fast_retransmission_is_fast_retransmitted_again() {
    let (mut p, a, z) = pair_with_grown_window();
    // The 2nd DATA packet from now on is lost, and so is its fast
    // retransmission; data sent after that retransmission keeps arriving.
    let (mut n, mut victim, mut drops) = (0, None, 0);
    p.drop_filter = Some(Box::new(move |s, pk| {
        let Some(tsn) = pk.chunks.iter().find_map(|c| match c {
            Chunk::Data(d) => Some(d.tsn),
            _ => None,
        }) else {
            return false;
        };
        if s != Side::A {
            return false;
        }
        n += 1;
        if n == 2 {
            victim = Some(tsn);
        }
        if victim == Some(tsn) && drops < 2 {
            drops += 1;
            return true;
        }
        false
    }));
    for _ in 0..60 {
        p.a.send(p.now, a, msg(0, &[2; 1400])).unwrap();
    }
    assert!(p.run_until(Duration::from_secs(5), |p| {
        p.a.assoc(a).unwrap().all_data_acked()
    }));
    let asn = p.a.assoc(a).unwrap();
    assert_eq!(
        asn.stats().fast_retransmits,
        2,
        "the lost retransmission went again"
    );
    assert_eq!(asn.stats().t3_expiries, 0, "without waiting for T3");
    assert_eq!(recv_all(&mut p.z, z).len(), 60);
}

#[test]
fn cwnd_grows_in_slow_start_then_halves_on_loss() {
    let mut ca = Config::default();
    ca.sndbuf = 8 << 20;
    let mut cz = Config::default();
    cz.rcvbuf = 8 << 20;
    let mut p = Pair::new(ca, cz);
    p.tracing = false;
    let (a, z) = p.establish();
    let mut samples = Vec::new();
    for _ in 0..200 {
        let _ = p.a.send(p.now, a, msg(0, &[0; 1444]));
    }
    for _ in 0..30 {
        p.run_for(Duration::from_millis(10));
        samples.push(p.a.assoc(a).unwrap().paths()[0].cc.cwnd);
        recv_all(&mut p.z, z);
    }
    assert!(
        samples.windows(2).all(|w| w[1] >= w[0]),
        "monotone without loss: {samples:?}"
    );
    assert!(*samples.last().unwrap() >= 4 * samples[0], "{samples:?}");
    let before = p.a.assoc(a).unwrap().paths()[0].cc.cwnd;
    let mut n = 0;
    p.drop_filter = Some(Box::new(move |s, pk| {
        if s == Side::A && pk.chunks.iter().any(|c| matches!(c, Chunk::Data(_))) {
            n += 1;
            return n == 1;
        }
        false
    }));
    for _ in 0..100 {
        let _ = p.a.send(p.now, a, msg(0, &[0; 1444]));
    }
    assert!(p.run_until(
        Duration::from_secs(2),
        |p| p.a.assoc(a).unwrap().stats().fast_retransmits > 0
    ));
    let after = p.a.assoc(a).unwrap().paths()[0].cc.clone();
    assert_eq!(after.ssthresh, (before / 2).max(4 * 1472), "halved on loss");
    assert!(after.cwnd <= before / 2 + 1472);
}

#[test]
fn message_larger_than_the_receive_buffer_arrives_in_pieces() {
    let mut p = Pair::default_pair();
    let (a, z) = p.establish();
    let big: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    p.a.send(p.now, a, msg(0, &big)).unwrap();
    let mut got = Vec::new();
    let mut after_sent = false;
    assert!(p.run_until(Duration::from_secs(30), |p| {
        // The big message fills the send buffer: the next one waits for room.
        if !after_sent {
            after_sent = p.a.send(p.now, a, msg(1, b"after")).is_ok();
        }
        got.extend(recv_all(&mut p.z, z));
        got.iter().any(|m| m.data == b"after")
    }));
    let pieces: Vec<_> = got.iter().take_while(|m| m.stream_id == 0).collect();
    assert!(pieces.len() > 1, "delivered in pieces");
    assert!(pieces[..pieces.len() - 1].iter().all(|m| m.more));
    assert!(!pieces.last().unwrap().more);
    let joined: Vec<u8> = pieces.iter().flat_map(|m| m.data.clone()).collect();
    assert_eq!(joined, big);
    // The next message follows the last piece: no interleaving.
    assert_eq!(got.len(), pieces.len() + 1);
    assert_eq!(got.last().unwrap().data, b"after");
    let z_assoc = p.z.assoc(z).unwrap();
    assert!(z_assoc.rx.reasm.buffered_bytes() == 0 && !z_assoc.rx.reasm.in_partial());
}

#[test]
fn partial_delivery_point_starts_pieces_early() {
    let mut cz = Config::default();
    cz.pd_point = 10_000;
    let mut p = Pair::new(Config::default(), cz);
    let (a, z) = p.establish();
    p.a.send(p.now, a, msg(2, &[9; 50_000])).unwrap();
    let mut got = Vec::new();
    assert!(p.run_until(Duration::from_secs(10), |p| {
        got.extend(recv_all(&mut p.z, z));
        got.last().is_some_and(|m| !m.more)
    }));
    assert!(got.len() > 1 && got[0].more && got[0].data.len() < 50_000);
    assert_eq!(got.iter().map(|m| m.data.len()).sum::<usize>(), 50_000);
}

fn data_packets_for_small_messages(nodelay: bool) -> usize {
    let mut ca = Config::default();
    ca.nodelay = nodelay;
    let mut p = Pair::new(ca, Config::default());
    p.link.delay = Duration::from_millis(20);
    let (a, z) = p.establish();
    let before = p.count_sent(Side::A, |c| matches!(c, Chunk::Data(_)));
    for i in 0..6u8 {
        p.a.send(p.now, a, msg(0, &[i; 100])).unwrap();
        p.run_for(Duration::from_millis(1));
    }
    let mut got = 0;
    assert!(p.run_until(Duration::from_secs(5), |p| {
        got += recv_all(&mut p.z, z).len();
        got == 6
    }));
    p.count_sent(Side::A, |c| matches!(c, Chunk::Data(_))) - before
}

#[test]
fn nagle_holds_small_messages_while_data_is_in_flight() {
    // SCTP_NODELAY: small messages leave as they come (about one packet each).
    let nodelay = data_packets_for_small_messages(true);
    assert!(nodelay >= 5, "{nodelay}");
    // Nagle: the first goes, the others wait for its SACK and go together.
    let nagle = data_packets_for_small_messages(false);
    assert!(nagle <= 3, "{nagle}");
}

#[test]
fn zero_window_stops_sender_until_reader_drains() {
    let mut ca = Config::default();
    ca.sndbuf = 1 << 20;
    let mut cz = Config::default();
    cz.rcvbuf = 8000;
    let mut p = Pair::new(ca, cz);
    let (a, z) = p.establish();
    for i in 0..50u8 {
        p.a.send(p.now, a, msg(0, &[i; 1000])).unwrap();
    }
    p.run_for(Duration::from_secs(5));
    let at_z = p.z.assoc(z).unwrap();
    assert!(
        at_z.rx.reasm.buffered_bytes() <= 9000,
        "receiver stayed within its buffer"
    );
    assert!(!p.a.assoc(a).unwrap().all_data_acked());
    let mut got = Vec::new();
    let t0 = p.now;
    assert!(p.run_until(Duration::from_secs(120), |p| {
        got.extend(recv_all(&mut p.z, z));
        got.len() == 50
    }));
    // Window updates, not 1 s probes, reopen the flow.
    assert!(p.now - t0 < Duration::from_secs(1), "{:?}", p.now - t0);
    assert_eq!(
        got.iter().map(|m| m.data[0]).collect::<Vec<_>>(),
        (0..50).collect::<Vec<_>>()
    );
}

/// A window shared with other associations closes while a message is
/// half here: the rest of it is still taken (else the space its first
/// fragment holds would never be freed), a new message is not.
#[test]
fn rest_of_a_message_is_taken_when_a_shared_window_closes() {
    let mut p = Pair::default_pair();
    let (a, z) = p.establish();
    let mut dropped = 0;
    p.drop_filter = Some(Box::new(move |s, pk| {
        let later_fragment = pk
            .chunks
            .iter()
            .any(|c| matches!(c, Chunk::Data(d) if !d.beginning));
        if s == Side::A && later_fragment && dropped < 2 {
            dropped += 1;
            return true;
        }
        false
    }));
    let big = vec![7u8; 4000];
    p.a.send(p.now, a, msg(0, &big)).unwrap();
    assert!(p.run_until(Duration::from_secs(1), |p| {
        p.z.assoc(z).unwrap().rx_buffered() > 0
    }));
    p.z.assoc_mut(z).unwrap().set_shared_space(Some(0));
    assert_eq!(p.z.assoc(z).unwrap().local_rwnd(), 0);
    let mut got = None;
    assert!(p.run_until(Duration::from_secs(10), |p| {
        got = p.z.recv(z);
        got.is_some()
    }));
    assert_eq!(got.unwrap().data, big);
    // The engine looks again: the message now sits in the socket, which
    // still has no room (the shared space counts what the association
    // held when it was set).
    p.z.assoc_mut(z).unwrap().set_shared_space(Some(0));
    // A new message waits for the window.
    p.a.send(p.now, a, msg(0, b"later")).unwrap();
    p.run_for(Duration::from_secs(5));
    assert!(p.z.recv(z).is_none());
    p.z.assoc_mut(z).unwrap().set_shared_space(None);
    assert!(p.run_until(Duration::from_secs(60), |p| p.z.recv(z).is_some()));
}

/// T3-rtx is started when DATA goes out (poll_transmit), with nothing
/// else happening: the endpoint must still see the new deadline (a timer
/// heap that only learns of deadlines from packets would retransmit at
/// the next heartbeat instead).
#[test]
fn first_retransmission_comes_one_rto_after_the_data() {
    let mut p = Pair::default_pair();
    let (a, _) = p.establish();
    p.run_for(Duration::from_millis(10));
    p.link.down = true;
    let rto = Duration::from_millis(p.a.assoc(a).unwrap().status().primary_path().rto_ms.into());
    p.trace.clear();
    p.a.send(p.now, a, msg(0, b"x")).unwrap();
    // Deadlines looked at between the send and the transmission.
    assert!(p.a.poll_timeout().is_some());
    let is_data = |c: &Chunk| matches!(c, Chunk::Data(_));
    assert!(
        p.run_until(Duration::from_secs(60), |p| p.count_sent(Side::A, is_data)
            >= 2)
    );
    let at: Vec<_> = p
        .trace
        .iter()
        .filter(|t| t.from == Side::A && t.packet.chunks.iter().any(is_data))
        .map(|t| t.at)
        .collect();
    assert_eq!(at[1] - at[0], rto);
}

#[test]
fn association_fails_after_max_retrans_when_peer_vanishes() {
    let mut p = Pair::default_pair();
    let (a, _) = p.establish();
    p.link.down = true;
    p.a.send(p.now, a, msg(0, b"into the void")).unwrap();
    let t0 = p.now;
    assert!(p.run_until(Duration::from_secs(1000), |p| {
        closed_reason(&p.a_events, a).is_some()
    }));
    assert_eq!(closed_reason(&p.a_events, a), Some(CloseReason::TimedOut));
    // 1+2+4+...: 11 timeouts, RTO capped at 60 s.
    let took = p.now - t0;
    assert!(
        took > Duration::from_secs(200) && took < Duration::from_secs(400),
        "{took:?}"
    );
    let unsent = p.a_events.iter().find_map(|(_, e)| match e {
        AssocEvent::Closed { unsent, .. } => Some(unsent.clone()),
        _ => None,
    });
    assert_eq!(unsent.unwrap()[0].data, b"into the void");
}
