//! Path MTU (§7.3): the route's MTU, "packet too big" reports, and the
//! fixed MTU of SCTP_PEER_ADDR_PARAMS.

use super::*;

fn data_chunks(p: &Pair, side: Side) -> Vec<usize> {
    p.trace
        .iter()
        .filter(|t| t.from == side)
        .flat_map(|t| t.packet.chunks.iter())
        .filter_map(|c| match c {
            Chunk::Data(d) => Some(d.payload.len()),
            _ => None,
        })
        .collect()
}

fn received(p: &mut Pair, z: u32, want: usize) -> Vec<Vec<u8>> {
    let mut got = Vec::new();
    p.run_until(Duration::from_secs(10), |p| {
        got.extend(recv_all(&mut p.z, z).into_iter().map(|m| m.data));
        got.len() >= want
    });
    got
}

#[test]
fn the_route_mtu_makes_packets_as_large_as_the_path_allows() {
    let mut p = Pair::default_pair();
    p.link_mtu = 65_507;
    let (a, z) = p.establish();
    let zip = p.z_addr.ip();
    let aa = p.a.assoc_mut(a).unwrap();
    assert!(aa.set_path_mtu(p.now, zip, 65_536, false));
    let st = aa.status();
    assert_eq!(
        st.primary_path().mtu,
        65_536,
        "reported as Linux does (whole words)"
    );
    assert_eq!(st.fragmentation_point as usize, 65_504 - 28);
    p.a.send(p.now, a, msg(0, &vec![7u8; 60_000])).unwrap();
    let got = received(&mut p, z, 1);
    assert_eq!(got, vec![vec![7u8; 60_000]]);
    assert_eq!(
        data_chunks(&p, Side::A),
        vec![60_000],
        "one chunk, unfragmented"
    );
}

#[test]
fn packet_too_big_lowers_the_mtu_and_resends_what_was_lost() {
    let mut p = Pair::default_pair();
    p.link_mtu = 65_507;
    let (a, z) = p.establish();
    let zip = p.z_addr.ip();
    p.a.assoc_mut(a)
        .unwrap()
        .set_path_mtu(p.now, zip, 65_536, false);
    // The path shrinks to Ethernet's 1500: the next big packet is refused
    // and ICMP reports the MTU.
    p.link_mtu = 1472;
    p.icmp_mtu = Some(1500);
    p.a.send(p.now, a, msg(0, &vec![1u8; 50_000])).unwrap();
    p.flush();
    assert_eq!(p.a.assoc(a).unwrap().status().primary_path().mtu, 1500);
    // The chunk built for 64 KiB went again, alone, in a packet IP may
    // fragment (§7.3); a new message is cut to the new MTU.
    assert_eq!(p.fragmented, 1);
    p.a.send(p.now, a, msg(0, &vec![2u8; 50_000])).unwrap();
    let got = received(&mut p, z, 2);
    assert_eq!(got, vec![vec![1u8; 50_000], vec![2u8; 50_000]]);
    let chunks = data_chunks(&p, Side::A);
    assert_eq!(
        &chunks[..2],
        &[50_000, 50_000],
        "sent, refused, sent fragmentable"
    );
    assert!(chunks[2..].iter().all(|&n| n <= 1472 - 28), "{chunks:?}");
    assert_eq!(p.fragmented, 1);
    assert_eq!(
        p.a.assoc(a).unwrap().stats().t3_expiries,
        0,
        "no timeout needed"
    );
}

#[test]
fn reports_never_raise_the_mtu_and_a_fixed_mtu_ignores_the_route() {
    let mut p = Pair::default_pair();
    let (a, _) = p.establish();
    let zip = p.z_addr.ip();
    let aa = p.a.assoc_mut(a).unwrap();
    assert!(
        !aa.set_path_mtu(p.now, zip, 9000, true),
        "a too-big report only lowers"
    );
    assert_eq!(aa.status().primary_path().mtu, 1500);
    assert!(aa.set_path_mtu(p.now, zip, 1400, true));
    assert_eq!(aa.status().primary_path().mtu, 1400);
    // SCTP_PEER_ADDR_PARAMS: spp_pathmtu with SPP_PMTUD_DISABLE.
    aa.update_config(p.now, |c| {
        c.pmtu = 9000;
        c.pmtud = false;
    });
    assert_eq!(aa.status().primary_path().mtu, 9000);
    assert!(
        !aa.set_path_mtu(p.now, zip, 1500, false),
        "discovery is off"
    );
    assert!(aa.mtu_wanted().is_empty());
    assert_eq!(aa.status().primary_path().mtu, 9000);
}

#[test]
fn a_path_that_sent_nothing_starts_with_the_window_of_its_real_mtu() {
    let mut p = Pair::default_pair();
    let (a, _) = p.establish();
    let zip = p.z_addr.ip();
    let aa = p.a.assoc_mut(a).unwrap();
    let before = aa.status().primary_path().cwnd;
    assert_eq!(before, 4404, "§7.2.1: min(4 MTU, max(2 MTU, 4404))");
    aa.set_path_mtu(p.now, zip, 9000, false);
    assert_eq!(aa.status().primary_path().cwnd, 2 * (9000 - 28));
}

// --- PLPMTUD (RFC 8899), with SCTP_PLPMTUD_PROBE_INTERVAL set ---

fn probing_pair() -> (Pair, u32, u32) {
    let cfg = Config {
        probe_interval: Some(Duration::from_secs(30)),
        ..Config::default()
    };
    let mut p = Pair::new(cfg, Config::default());
    let (a, z) = p.establish();
    (p, a, z)
}

/// A's route to Z reports a path MTU of `mtu` bytes.
fn route_says(p: &mut Pair, a: u32, mtu: usize) {
    let (zip, now) = (p.z_addr.ip(), p.now);
    p.a.assoc_mut(a).unwrap().set_path_mtu(now, zip, mtu, false);
}

fn pads_sent(p: &Pair) -> usize {
    p.count_sent(
        Side::A,
        |c| matches!(c, Chunk::Unknown(u) if u.chunk_type == 0x84),
    )
}

#[test]
fn probing_confirms_the_route_mtu_before_using_it() {
    let (mut p, a, z) = probing_pair();
    p.link_mtu = 9000;
    route_says(&mut p, a, 9028);
    // Until a probe passes: BASE_PLPMTU.
    assert_eq!(p.a.assoc(a).unwrap().status().primary_path().mtu, 1200);
    p.run_for(Duration::from_millis(100));
    assert_eq!(
        p.a.assoc(a).unwrap().status().primary_path().mtu,
        9028,
        "the route's MTU, probed once"
    );
    assert_eq!(pads_sent(&p), 1);
    p.a.send(p.now, a, msg(0, &[5u8; 8000])).unwrap();
    let got = received(&mut p, z, 1);
    assert_eq!(got, vec![vec![5u8; 8000]]);
    assert!(data_chunks(&p, Side::A).contains(&8000), "one chunk");
}

#[test]
fn probing_finds_a_smaller_mtu_that_drops_silently() {
    let (mut p, a, z) = probing_pair();
    p.link_mtu = 1400;
    p.black_hole = true;
    route_says(&mut p, a, 9028);
    // Data meanwhile goes at the confirmed size and arrives.
    p.a.send(p.now, a, msg(0, &[6u8; 5000])).unwrap();
    assert_eq!(received(&mut p, z, 1), vec![vec![6u8; 5000]]);
    p.run_for(Duration::from_secs(120));
    let st = p.a.assoc(a).unwrap().status();
    assert!(
        (1400 - 16 + 28..=1400 + 28).contains(&st.primary_path().mtu),
        "{}",
        st.primary_path().mtu
    );
    assert!(
        p.black_holed >= 3,
        "only probes were lost: {}",
        p.black_holed
    );
    assert_eq!(p.a.assoc(a).unwrap().stats().t3_expiries, 0);
}

#[test]
fn a_black_hole_after_probing_falls_back_to_the_base_size() {
    let (mut p, a, z) = probing_pair();
    p.link_mtu = 9000;
    route_says(&mut p, a, 9028);
    p.run_for(Duration::from_millis(100));
    assert_eq!(p.a.assoc(a).unwrap().status().primary_path().mtu, 9028);
    // The path shrinks and says nothing.
    p.link_mtu = 1400;
    p.black_hole = true;
    p.a.send(p.now, a, msg(0, &[7u8; 8000])).unwrap();
    p.a.send(p.now, a, msg(0, &[8u8; 8000])).unwrap();
    let got = received(&mut p, z, 2);
    assert_eq!(got, vec![vec![7u8; 8000], vec![8u8; 8000]]);
    assert!(p.a.assoc(a).unwrap().status().primary_path().mtu <= 1400 + 28);
}

#[test]
fn no_probes_without_a_probe_interval() {
    let mut p = Pair::default_pair();
    p.link_mtu = 9000;
    let (a, _) = p.establish();
    route_says(&mut p, a, 9028);
    p.run_for(Duration::from_secs(60));
    assert_eq!(pads_sent(&p), 0);
    assert_eq!(
        p.a.assoc(a).unwrap().status().primary_path().mtu,
        9028,
        "the route's MTU, trusted (as Linux)"
    );
}
