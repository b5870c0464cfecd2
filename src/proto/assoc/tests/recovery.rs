//! Loss recovery beyond the RFC's floor (recovery.rs, tx/rack.rs): losses
//! that three miss indications cannot reveal (too few packets after
//! them) are found by RACK's timer or a tail loss probe long before
//! T3-rtx's one second.

use super::*;

/// An established pair on a link of 10 ms each way whose sender has
/// measured the round trip (20 ms).
fn warm_pair() -> (Pair, AssocId, AssocId) {
    warm_pair_with(Pair::default_pair())
}

/// `p`, established over a link of 10 ms each way, its sender's round
/// trip measured.
fn warm_pair_with(mut p: Pair) -> (Pair, AssocId, AssocId) {
    p.link.delay = Duration::from_millis(10);
    let (a, z) = p.establish();
    p.a.send(p.now, a, msg(0, b"warm-up")).unwrap();
    assert!(p.run_until(Duration::from_secs(2), |p| {
        p.z.assoc(z).unwrap().has_message()
    }));
    recv_all(&mut p.z, z);
    p.run_for(Duration::from_millis(300));
    assert!(p.a.assoc(a).unwrap().paths()[0].rto.srtt().is_some());
    (p, a, z)
}

/// Drops the DATA packets sent by A whose first TSN is in `tsns`, once
/// each time the TSN is listed.
fn drop_tsns(p: &mut Pair, mut tsns: Vec<u32>) {
    p.drop_filter = Some(Box::new(move |s, pk| {
        let Some(Chunk::Data(d)) = pk.chunks.iter().find(|c| matches!(c, Chunk::Data(_))) else {
            return false;
        };
        match tsns.iter().position(|&t| t == d.tsn) {
            Some(i) if s == Side::A => {
                tsns.remove(i);
                true
            }
            _ => false,
        }
    }));
}

fn next_tsn(p: &Pair, a: AssocId) -> u32 {
    p.a.assoc(a).unwrap().next_tsn()
}

fn delivered_within(p: &mut Pair, z: AssocId, want: usize, limit: Duration) -> Duration {
    let t0 = p.now;
    let mut got = 0;
    assert!(
        p.run_until(limit, |p| {
            got += recv_all(&mut p.z, z).len();
            got >= want
        }),
        "only {got} of {want} messages within {limit:?}"
    );
    p.now - t0
}

#[test]
fn rack_finds_a_loss_that_only_one_later_packet_reveals() {
    let (mut p, a, z) = warm_pair();
    let first = next_tsn(&p, a);
    drop_tsns(&mut p, vec![first]);
    p.a.send(p.now, a, msg(0, &[1; 1400])).unwrap();
    p.a.send(p.now, a, msg(0, &[2; 1400])).unwrap();
    let took = delivered_within(&mut p, z, 2, Duration::from_secs(3));
    let st = p.a.assoc(a).unwrap().stats();
    assert!(
        took < Duration::from_millis(100),
        "{took:?}: RTT + reordering window + RTT"
    );
    assert_eq!(st.t3_expiries, 0);
    assert_eq!(st.retransmitted_chunks, 1);
    assert_eq!(st.loss_probes, 0);
}

#[test]
fn a_lost_tail_is_probed_before_t3() {
    let (mut p, a, z) = warm_pair();
    let first = next_tsn(&p, a);
    drop_tsns(&mut p, vec![first]);
    p.a.send(p.now, a, msg(0, b"the last packet")).unwrap();
    let took = delivered_within(&mut p, z, 1, Duration::from_secs(3));
    let st = p.a.assoc(a).unwrap().stats();
    // 2 SRTT plus the peer's delayed SACK (one packet out), then the trip.
    assert!(took < Duration::from_millis(300), "{took:?}");
    assert_eq!((st.loss_probes, st.t3_expiries), (1, 0));
    let rto = p.a.assoc(a).unwrap().paths()[0].rto.rto();
    assert_eq!(rto, Duration::from_secs(1), "no back-off");
}

#[test]
fn a_lost_retransmission_is_recovered_without_t3() {
    let (mut p, a, z) = warm_pair();
    let first = next_tsn(&p, a);
    drop_tsns(&mut p, vec![first, first]);
    for i in 0..3u8 {
        p.a.send(p.now, a, msg(0, &[i; 1400])).unwrap();
    }
    let took = delivered_within(&mut p, z, 3, Duration::from_secs(3));
    let st = p.a.assoc(a).unwrap().stats();
    // RACK finds the first loss (~25 ms); the lost retransmission is the
    // one packet out, but the peer has a gap and answers at once: the
    // probe goes 2 SRTT later, without the 200 ms of a delayed SACK.
    assert!(took < Duration::from_millis(150), "{took:?}");
    assert_eq!(st.t3_expiries, 0);
    assert_eq!(st.retransmitted_chunks, 2);
}

#[test]
fn losing_everything_still_ends_in_t3_with_back_off() {
    let (mut p, a, _) = warm_pair();
    p.link.down = true;
    p.a.send(p.now, a, msg(0, b"into the void")).unwrap();
    p.run_for(Duration::from_millis(1500));
    let asn = p.a.assoc(a).unwrap();
    // One packet out: probes 240 ms (2 SRTT and the delayed SACK) and
    // 480 ms later; a third would come after T3-rtx.
    assert_eq!(asn.stats().loss_probes, 2, "two probes, then T3-rtx");
    assert_eq!(asn.stats().t3_expiries, 1);
    assert_eq!(asn.paths()[0].rto.rto(), Duration::from_secs(2));
}

#[test]
fn the_last_data_before_the_window_closes_asks_for_an_immediate_sack() {
    for rack in [true, false] {
        let cfg = Config {
            rack,
            ..Config::default()
        };
        let mut p = Pair::new(cfg, Config::default());
        let (a, z) = p.establish();
        // More than the initial cwnd (4404 bytes): the sender must wait.
        for i in 0..8u8 {
            p.a.send(p.now, a, msg(0, &[i; 1400])).unwrap();
        }
        let got = delivered_within(&mut p, z, 8, Duration::from_secs(3));
        assert!(got < Duration::from_millis(100), "{got:?}");
        let flagged = p.count_sent(Side::A, |c| matches!(c, Chunk::Data(d) if d.immediate));
        if rack {
            assert!(flagged >= 1, "RFC 7053 I bit when cwnd runs out");
        } else {
            assert_eq!(flagged, 0, "RFC 9260 only: no I bit");
        }
    }
}

/// Four packets of 1000 bytes go out at once (within the initial cwnd);
/// the peer's first `lost` SACKs are dropped. Returns how long until the
/// sender learned everything arrived.
fn burst_with_sacks_lost(lost: usize) -> (Duration, crate::proto::assoc::Stats) {
    let (mut p, a, _) = warm_pair();
    let mut sacks_lost = 0;
    p.drop_filter = Some(Box::new(move |s, pk| {
        let sack = pk.chunks.iter().any(|c| matches!(c, Chunk::Sack(_)));
        if s == Side::Z && sack && sacks_lost < lost {
            sacks_lost += 1;
            return true;
        }
        false
    }));
    for i in 0..4u8 {
        p.a.send(p.now, a, msg(0, &[i; 1000])).unwrap();
    }
    let t0 = p.now;
    assert!(p.run_until(Duration::from_secs(2), |p| {
        p.a.assoc(a).unwrap().status().unacked == 0
    }));
    (p.now - t0, p.a.assoc(a).unwrap().stats().clone())
}

#[test]
fn the_probe_timer_restarts_with_each_packet_of_a_burst() {
    // The SACKs of the second and the fourth packet are lost.
    let (took, st) = burst_with_sacks_lost(2);
    // Four packets out: 2 SRTT (40 ms) after the last, not the 200 ms
    // more that one packet out (the state after the first) adds for the
    // peer's delayed SACK.
    assert!(took < Duration::from_millis(120), "{took:?}");
    assert_eq!((st.loss_probes, st.t3_expiries), (1, 0));
}

#[test]
fn a_probe_whose_sack_is_lost_is_followed_by_another_after_twice_the_time() {
    // Both SACKs of the burst and the first probe's are lost: the second
    // probe, 2 x 40 ms after the first, draws the SACK.
    let (took, st) = burst_with_sacks_lost(3);
    assert!(took < Duration::from_millis(200), "{took:?}");
    assert_eq!((st.loss_probes, st.t3_expiries), (2, 0));
}

#[test]
fn a_lost_window_update_is_asked_for_long_before_the_zero_window_probe() {
    let cz = Config {
        rcvbuf: 16 * 1024,
        ..Config::default()
    };
    let (mut p, a, z) = warm_pair_with(Pair::new(Config::default(), cz));
    // More than the receiver's buffer, which nobody reads: its window
    // closes, with nothing in flight.
    for i in 0..40u8 {
        p.a.send(p.now, a, msg(0, &[i; 1000])).unwrap();
    }
    assert!(p.run_until(Duration::from_secs(1), |p| {
        let x = p.a.assoc(a).unwrap();
        x.peer_rwnd() == 0 && x.status().unacked == 0
    }));
    // The window update that reading sends is lost.
    let mut lost = false;
    p.drop_filter = Some(Box::new(move |s, pk| {
        let sack = pk.chunks.iter().any(|c| matches!(c, Chunk::Sack(_)));
        if s == Side::Z && sack && !lost {
            lost = true;
            return true;
        }
        false
    }));
    let mut got = recv_all(&mut p.z, z).len();
    let t0 = p.now;
    assert!(p.run_until(Duration::from_secs(3), |p| {
        got += recv_all(&mut p.z, z).len();
        got >= 40
    }));
    let took = p.now - t0;
    // Asked after 2 SRTT (40 ms); the zero window probe would wait for
    // one RTO (1 s).
    assert!(took < Duration::from_millis(150), "{took:?}");
    let st = p.a.assoc(a).unwrap().stats();
    assert!(st.window_asks >= 1);
    assert_eq!(st.t3_expiries, 0);
    assert!(p.z.assoc(z).unwrap().stats().duplicate_tsns >= 1);
}
