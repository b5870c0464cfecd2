//! A receive window shared with other associations (a one-to-many
//! socket's buffer): what it let the peer send is taken, the closed
//! window is probed at the pace RFC 9260 §6.1 A sets, and an opening is
//! told (§6.2).

use std::time::Duration;

use super::*;

/// A DATA chunk of `len` bytes with TSN `tsn`, to Z under `zl`.
fn data_to_z(zl: u32, tsn: u32, len: usize) -> Packet {
    let d = DataChunk {
        tsn,
        beginning: true,
        ending: true,
        payload: vec![7; len],
        ..Default::default()
    };
    packet(true, zl, vec![Chunk::Data(d)])
}

fn last_sack(p: &Pair) -> Sack {
    p.trace
        .iter()
        .rev()
        .filter(|t| t.from == Side::Z)
        .find_map(|t| {
            t.packet.chunks.iter().find_map(|c| match c {
                Chunk::Sack(s) => Some(s.clone()),
                _ => None,
            })
        })
        .expect("a SACK from Z")
}

/// An established pair whose Z shares `space` bytes with other
/// associations; Z's tag and A's first TSN.
fn sharing_pair(space: usize) -> (Pair, AssocId, u32, u32) {
    let mut p = Pair::default_pair();
    let (a, z) = p.establish();
    let (zl, _) = p.z.assoc(z).unwrap().vtags();
    let t0 = p.a.assoc(a).unwrap().out.next_tsn().0;
    p.z.assoc_mut(z).unwrap().set_shared_space(Some(space));
    (p, z, zl, t0)
}

/// The engine gave Z's space to other associations after Z advertised it:
/// what A sent before it learnt that is taken (the window edge holds for a
/// while), what comes after the window closed is dropped.
#[test]
fn a_window_that_moved_back_takes_what_was_sent_under_it() {
    let (mut p, z, zl, t0) = sharing_pair(3000);
    // The first DATA is acknowledged at once: 2000 left of the window.
    inject_to_z(&mut p, data_to_z(zl, t0, 1000));
    assert_eq!(last_sack(&p).a_rwnd, 2000);
    // (Long after the INIT's window, which held until the peer knew.)
    p.now += Duration::from_secs(1);
    inject_to_z(&mut p, data_to_z(zl, t0 + 1, 1000));
    // The space went elsewhere; a duplicate draws a SACK saying so.
    p.z.assoc_mut(z).unwrap().set_shared_space(Some(0));
    inject_to_z(&mut p, data_to_z(zl, t0, 1000));
    assert_eq!(last_sack(&p).a_rwnd, 0);
    // Sent under the window of 1000 left before that SACK arrived: taken.
    inject_to_z(&mut p, data_to_z(zl, t0 + 2, 1000));
    let x = p.z.assoc(z).unwrap();
    assert_eq!((x.received_bytes(), x.stats().dropped_no_room), (3000, 0));
    // Past the window: dropped.
    inject_to_z(&mut p, data_to_z(zl, t0 + 3, 1000));
    assert_eq!(p.z.assoc(z).unwrap().stats().dropped_no_room, 1);
    assert_eq!(last_sack(&p).cum_tsn_ack, t0 + 2);
}

/// Once the peer had time to learn that the window closed, the earlier
/// window no longer holds: a chunk sent then is dropped.
#[test]
fn a_window_that_moved_back_holds_only_for_a_while() {
    let (mut p, z, zl, t0) = sharing_pair(3000);
    inject_to_z(&mut p, data_to_z(zl, t0, 1000));
    p.now += Duration::from_secs(1);
    p.z.assoc_mut(z).unwrap().set_shared_space(Some(0));
    inject_to_z(&mut p, data_to_z(zl, t0, 1000));
    assert_eq!(last_sack(&p).a_rwnd, 0);
    // Within the window of 2000 the first SACK gave, but a second after
    // the SACK that closed it.
    p.now += Duration::from_secs(1);
    inject_to_z(&mut p, data_to_z(zl, t0 + 1, 1000));
    let x = p.z.assoc(z).unwrap();
    assert_eq!((x.received_bytes(), x.stats().dropped_no_room), (1000, 1));
}

/// Space handed to an association whose window was closed is told at
/// once, however little: the peer waits for it.
#[test]
fn a_closed_window_that_opens_a_little_is_told() {
    let (mut p, z, zl, t0) = sharing_pair(1000);
    inject_to_z(&mut p, data_to_z(zl, t0, 1000));
    assert_eq!(last_sack(&p).a_rwnd, 0);
    let sacks = p.count_sent(Side::Z, |c| matches!(c, Chunk::Sack(_)));
    // Less than an MTU, far less than a 16th of the buffer.
    assert!(p.z.assoc_mut(z).unwrap().set_shared_space(Some(300)));
    p.flush();
    assert_eq!(
        p.count_sent(Side::Z, |c| matches!(c, Chunk::Sack(_))),
        sacks + 1
    );
    assert_eq!(last_sack(&p).a_rwnd, 300);
}

/// A closed window with a zero window probe out: the probe is repeated by
/// T3-rtx (§6.1 A), not by tail loss probes after every SACK that says
/// the window is still closed, nor by window asks every engine turn when
/// the RTT measures 0 (both endpoints in one engine).
#[test]
fn a_closed_window_is_probed_at_the_rto_pace() {
    let mut cz = Config::default();
    cz.rcvbuf = 4000;
    let mut p = Pair::new(Config::default(), cz);
    p.link.delay = Duration::ZERO;
    let (a, z) = p.establish();
    // Nobody reads Z: its window closes with data still queued at A.
    for i in 0..20u8 {
        p.a.send(p.now, a, msg(0, &[i; 1000])).unwrap();
    }
    // (A bounded number of steps: probes at a pace of 0 would never let
    // the virtual clock move.)
    let mut steps = 0;
    p.run_until(Duration::from_secs(10), |_| {
        steps += 1;
        steps > 100_000
    });
    let st = p.a.assoc(a).unwrap().stats().clone();
    // One probe per RTO, backed off: a handful in 10 s.
    assert!(st.loss_probes <= 2, "{st:?}");
    assert!(st.window_asks <= 20, "{st:?}");
    assert!(st.retransmitted_chunks <= 10, "{st:?}");
    // All of it arrives once Z reads.
    let mut got = recv_all(&mut p.z, z).len();
    assert!(p.run_until(Duration::from_secs(30), |p| {
        got += recv_all(&mut p.z, z).len();
        got >= 20
    }));
}
