// --- Multi-homing (§5.1.2, §5.4, §6.4, §8.2) ---

use super::*;
use crate::proto::assoc::PathState;
use crate::proto::assoc::multihome::PathParamsSet;
use std::net::{IpAddr, SocketAddr};

/// Two hosts joined by two links: A at 10.0.0.1 and 10.0.1.1, Z at
/// 10.0.0.2 and 10.0.1.2 (A connects to Z's first address). Each lists
/// both of its addresses; heartbeats every `hb` on idle paths.
fn two_links(hb: Duration) -> Pair {
    let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
    let cfg = |mine: [IpAddr; 2]| Config {
        local_addrs: mine.to_vec(),
        hb_interval: Some(hb),
        path_max_retrans: 2,
        rto_min: Duration::from_millis(200),
        rto_initial: Duration::from_millis(200),
        rto_max: Duration::from_millis(800),
        ..Config::default()
    };
    let a_ips = [ip("10.0.0.1"), ip("10.0.1.1")];
    let z_ips = [ip("10.0.0.2"), ip("10.0.1.2")];
    let mut p = Pair::new(cfg(a_ips), cfg(z_ips));
    p.a_addr = SocketAddr::new(a_ips[0], 5001);
    p.z_addr = SocketAddr::new(z_ips[0], 5002);
    p.a_more = vec![a_ips[1]];
    p.z_more = vec![z_ips[1]];
    p
}

/// Runs until both sides confirmed the other's second address.
fn both_confirmed(p: &mut Pair, a: AssocId, z: AssocId) {
    assert!(p.run_until(Duration::from_secs(5), |p| {
        path_state(p, Side::A, a, "10.0.1.2").0 && path_state(p, Side::Z, z, "10.0.1.1").0
    }));
}

/// With link `cut` down, a message from A reaches Z all the same.
fn arrives_without_link(p: &mut Pair, a: AssocId, z: AssocId, cut: usize, text: &[u8]) {
    p.cut.insert(cut);
    p.a.send(p.now, a, msg(0, text)).unwrap();
    p.run_for(Duration::from_millis(100));
    assert_eq!(p.z.recv(z).unwrap().data, text);
}

fn path_state(p: &Pair, side: Side, id: AssocId, addr: &str) -> (bool, bool) {
    let ep = if side == Side::A { &p.a } else { &p.z };
    let want: IpAddr = addr.parse().unwrap();
    let path = ep
        .assoc(id)
        .unwrap()
        .paths()
        .iter()
        .find(|x| x.addr == want)
        .unwrap_or_else(|| panic!("no path to {addr}"))
        .clone();
    (path.confirmed, path.active)
}

/// Both sides get a path to each address the other listed: the
/// handshake's confirmed at once, the other confirmed by a HEARTBEAT
/// (SCTP_ADDR_CONFIRMED), and each side's packets reach the association
/// from either address.
#[test]
fn listed_addresses_become_paths_confirmed_by_heartbeat() {
    let mut p = two_links(Duration::from_secs(30));
    let (a, z) = p.establish();
    for (side, id, first, second) in [
        (Side::A, a, "10.0.0.2", "10.0.1.2"),
        (Side::Z, z, "10.0.0.1", "10.0.1.1"),
    ] {
        let ep = if side == Side::A { &p.a } else { &p.z };
        let addrs: Vec<IpAddr> = ep.assoc(id).unwrap().peer_addrs().collect();
        assert_eq!(addrs.len(), 2, "{side:?}: {addrs:?}");
        assert_eq!(path_state(&p, side, id, first), (true, true));
        assert!(!path_state(&p, side, id, second).0, "not confirmed yet");
    }
    both_confirmed(&mut p, a, z);
    let confirmed = |addr: &str| AssocEvent::PathChange {
        addr: addr.parse().unwrap(),
        state: PathState::Confirmed,
    };
    assert!(has_event(&p.a_events, a, &confirmed("10.0.1.2")));
    assert!(has_event(&p.z_events, z, &confirmed("10.0.1.1")));
    // Heartbeats went to the second addresses, on the second link.
    assert!(p.count_sent(Side::A, |c| matches!(c, Chunk::Heartbeat(_))) >= 1);
    // Nothing was sent as DATA to an unconfirmed address: the data path
    // stays the primary.
    p.a.send(p.now, a, msg(0, b"on the primary")).unwrap();
    p.run_for(Duration::from_millis(50));
    assert_eq!(p.z.recv(z).unwrap().data, b"on the primary");
}

/// A listed address that never answers stays unconfirmed, carries no
/// data, and its silence costs the association nothing (no events, no
/// error count): Linux's handling of SCTP_UNCONFIRMED transports.
#[test]
fn an_address_that_never_answers_stays_unconfirmed_and_harmless() {
    let mut p = two_links(Duration::from_secs(30));
    p.cut.insert(1);
    let (a, z) = p.establish();
    for i in 0..50u8 {
        p.a.send(p.now, a, msg(0, &[i; 100])).unwrap();
        p.run_for(Duration::from_millis(200));
    }
    p.run_for(Duration::from_secs(10));
    assert_eq!(recv_all(&mut p.z, z).len(), 50);
    assert!(!path_state(&p, Side::A, a, "10.0.1.2").0);
    let x = p.a.assoc(a).unwrap();
    assert!(x.is_established());
    assert!(
        !p.a_events
            .iter()
            .any(|(_, e)| matches!(e, AssocEvent::PathChange { .. })),
        "{:?}",
        p.a_events
    );
}

/// The primary link is cut in the middle of a transfer: the
/// retransmissions and the rest of the data go over the other link, all
/// of it arrives once and in order, and the application hears
/// ADDR_UNREACHABLE for the cut path within Path.Max.Retrans x RTO.Max
/// (plus one heartbeat interval). When the link comes back, the path is
/// AVAILABLE again and data goes back to the primary (switch-back).
#[test]
fn failover_to_the_second_link_and_back() {
    let mut p = two_links(Duration::from_secs(1));
    p.tracing = false;
    let (a, z) = p.establish();
    both_confirmed(&mut p, a, z);
    let mut got: Vec<u32> = Vec::new();
    let mut next = 0u32;
    let total = 3000u32;
    let mut cut_at = None;
    let mut unreachable_at = None;
    let unreachable = AssocEvent::PathChange {
        addr: "10.0.0.2".parse().unwrap(),
        state: PathState::Unreachable,
    };
    assert_eq!(
        p.a.assoc(a).unwrap().data_path_addr(),
        "10.0.0.2".parse::<IpAddr>().unwrap()
    );
    let end = p.now + Duration::from_secs(120);
    while (got.len() as u32) < total && p.now < end {
        while next < total && p.a.send(p.now, a, msg(0, &next.to_be_bytes())).is_ok() {
            next += 1;
        }
        if next > total / 3 && cut_at.is_none() {
            p.cut.insert(0);
            cut_at = Some(p.now);
        }
        p.run_for(Duration::from_millis(10));
        got.extend(
            recv_all(&mut p.z, z)
                .iter()
                .map(|m| u32::from_be_bytes(m.data[..4].try_into().unwrap())),
        );
        if unreachable_at.is_none() && has_event(&p.a_events, a, &unreachable) {
            unreachable_at = p.now.checked_duration_since(cut_at.unwrap());
        }
    }
    assert_eq!(
        got,
        (0..total).collect::<Vec<_>>(),
        "all of it, once, in order"
    );
    // (Unreachable may come after the last message arrived.)
    assert!(p.run_until(Duration::from_secs(30), |p| {
        has_event(&p.a_events, a, &unreachable)
    }));
    let took = unreachable_at.unwrap_or_else(|| p.now.saturating_duration_since(cut_at.unwrap()));
    // Path.Max.Retrans (2) + 1 timeouts of at most RTO.Max (800 ms) each,
    // plus one HB.interval + RTO before the first probe.
    assert!(
        took <= Duration::from_millis(3 * 800 + 1000 + 800 + 500),
        "{took:?}"
    );
    assert_eq!(path_state(&p, Side::A, a, "10.0.0.2"), (true, false));
    assert_eq!(
        p.a.assoc(a).unwrap().data_path_addr(),
        "10.0.1.2".parse::<IpAddr>().unwrap()
    );
    // The link comes back: the path answers its heartbeat, is AVAILABLE,
    // and new data takes the primary again.
    p.cut.clear();
    let available = AssocEvent::PathChange {
        addr: "10.0.0.2".parse().unwrap(),
        state: PathState::Available,
    };
    assert!(p.run_until(Duration::from_secs(30), |p| {
        has_event(&p.a_events, a, &available)
    }));
    assert_eq!(
        p.a.assoc(a).unwrap().data_path_addr(),
        "10.0.0.2".parse::<IpAddr>().unwrap()
    );
    // Only the primary link carries it now.
    arrives_without_link(&mut p, a, z, 1, b"back on the primary");
}

/// A peer that lists addresses out of the sender's scope (loopback from a
/// private address) or of another family gets no path to them; nor does
/// a single-homed endpoint take any (see `listed_addrs`).
#[test]
fn out_of_scope_addresses_are_not_paths() {
    let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
    let z_cfg = Config {
        local_addrs: vec![ip("10.0.0.2"), ip("127.0.0.1"), ip("fd00::2")],
        ..Config::default()
    };
    let a_cfg = Config {
        local_addrs: vec![ip("10.0.0.1")],
        ..Config::default()
    };
    let mut p = Pair::new(a_cfg, z_cfg);
    p.a_addr = "10.0.0.1:5001".parse().unwrap();
    p.z_addr = "10.0.0.2:5002".parse().unwrap();
    let (a, _) = p.establish();
    let addrs: Vec<IpAddr> = p.a.assoc(a).unwrap().peer_addrs().collect();
    assert_eq!(addrs, vec![ip("10.0.0.2")]);
    let mut p = Pair::new(
        Config::default(),
        Config {
            local_addrs: vec![ip("127.0.0.2"), ip("127.0.0.3")],
            ..Config::default()
        },
    );
    let (a, _) = p.establish();
    assert_eq!(p.a.assoc(a).unwrap().peer_addrs().count(), 1);
}

/// sctp_connectx with two of the peer's addresses, the first unreachable:
/// the INIT retransmission goes to the second, the association comes up
/// there, and both given addresses are confirmed paths (§5.4).
#[test]
fn connect_with_two_addresses_reaches_the_one_that_answers() {
    let mut p = two_links(Duration::from_secs(30));
    p.cut.insert(0);
    let a =
        p.a.connect(p.now, p.z_addr, p.z_addr.port())
            .expect("connect");
    p.a.add_peer_paths(a, &["10.0.1.2".parse().unwrap()]);
    assert!(p.run_until(Duration::from_secs(10), |p| {
        p.a.assoc(a).is_some_and(|x| x.is_established()) && p.z_id().is_some()
    }));
    let x = p.a.assoc(a).unwrap();
    assert!(x.paths().iter().all(|p| p.confirmed));
    // Data goes where the association works: the first address is dead,
    // the second carries it once the first has failed.
    let z = p.z_id().unwrap();
    for i in 0..20u8 {
        p.a.send(p.now, a, msg(0, &[i; 200])).unwrap();
    }
    assert!(p.run_until(Duration::from_secs(30), |p| {
        std::iter::from_fn(|| p.z.recv(z)).count() > 0 && p.z.assoc(z).is_some()
    }));
    p.run_for(Duration::from_secs(10));
    assert_eq!(
        p.a.assoc(a).unwrap().data_path_addr(),
        "10.0.1.2".parse::<IpAddr>().unwrap()
    );
}

/// SCTP_PRIMARY_ADDR: any path may become the primary (an address that is
/// none is refused), new data follows it, and the application hears
/// SCTP_ADDR_MADE_PRIM.
#[test]
fn the_application_chooses_the_primary_path() {
    let mut p = two_links(Duration::from_secs(30));
    let (a, z) = p.establish();
    assert!(p.run_until(Duration::from_secs(5), |p| {
        path_state(p, Side::A, a, "10.0.1.2").0
    }));
    assert!(
        !p.a.assoc_mut(a)
            .unwrap()
            .set_primary("10.9.9.9".parse().unwrap())
    );
    assert!(
        p.a.assoc_mut(a)
            .unwrap()
            .set_primary("10.0.1.2".parse().unwrap())
    );
    p.flush();
    let made = AssocEvent::PathChange {
        addr: "10.0.1.2".parse().unwrap(),
        state: PathState::MadePrimary,
    };
    assert!(has_event(&p.a_events, a, &made));
    assert_eq!(
        p.a.assoc(a).unwrap().peer_addr().ip(),
        "10.0.1.2".parse::<IpAddr>().unwrap()
    );
    // With the first link cut, data still arrives: it takes the new primary.
    arrives_without_link(&mut p, a, z, 0, b"on the second link");
}

/// Each path reports its own state (SCTP_GET_PEER_ADDR_INFO): unconfirmed
/// until its heartbeat is answered, inactive once it failed.
#[test]
fn every_path_reports_its_own_state() {
    let mut p = two_links(Duration::from_secs(1));
    let (a, _) = p.establish();
    let st = p.a.assoc(a).unwrap().path_status();
    assert_eq!(st.len(), 2);
    assert!(st[0].confirmed && st[0].active);
    assert!(!st[1].confirmed);
    assert!(p.run_until(Duration::from_secs(5), |p| {
        p.a.assoc(a).unwrap().path_status()[1].confirmed
    }));
    p.cut.insert(1);
    assert!(p.run_until(Duration::from_secs(60), |p| {
        !p.a.assoc(a).unwrap().path_status()[1].active
    }));
    let st = p.a.assoc(a).unwrap().path_status();
    assert!(st[0].active, "the other path is untouched");
}

/// Fragments are cut for the smallest path MTU, so that a failover to the
/// smaller path needs no IP fragmentation.
#[test]
fn fragments_fit_the_smallest_path() {
    let mut p = two_links(Duration::from_secs(30));
    let (a, z) = p.establish();
    let ip2: IpAddr = "10.0.1.2".parse().unwrap();
    p.a.assoc_mut(a)
        .unwrap()
        .set_path_mtu(p.now, ip2, 1280, false);
    let point = p.a.assoc(a).unwrap().fragmentation_point();
    assert!(point <= 1280 - 48, "{point}");
    p.a.send(p.now, a, msg(0, &[7u8; 5000])).unwrap();
    p.run_for(Duration::from_millis(100));
    let biggest = p
        .trace
        .iter()
        .filter(|t| t.from == Side::A)
        .map(|t| t.packet.encode().len())
        .max()
        .unwrap();
    assert!(biggest <= 1280 - 28, "{biggest}");
    assert_eq!(p.z.recv(z).unwrap().data.len(), 5000);
}

/// A receiver that falls behind closes its window; the primary link is
/// cut while it is closed, so the window update is lost on it. The sender
/// probes the closed window (§6.1 A), the probe times out, and the data
/// goes on over the other link: the window updates follow the data there.
#[test]
fn a_closed_window_reopens_over_the_other_link() {
    let mut p = two_links(Duration::from_secs(30));
    p.tracing = false;
    p.z.config_mut().rcvbuf = 16 * 1024;
    let (a, z) = p.establish();
    both_confirmed(&mut p, a, z);
    let total = 400u32;
    let mut next = 0u32;
    // Fill the receiver's window without reading.
    for _ in 0..50 {
        while next < total && p.a.send(p.now, a, msg(0, &[next as u8; 500])).is_ok() {
            next += 1;
        }
        p.run_for(Duration::from_millis(10));
    }
    assert_eq!(p.a.assoc(a).unwrap().status().rwnd, 0, "the window closed");
    p.cut.insert(0);
    let mut got = 0u32;
    let end = p.now + Duration::from_secs(20);
    while got < total && p.now < end {
        got += recv_all(&mut p.z, z).len() as u32;
        while next < total && p.a.send(p.now, a, msg(0, &[next as u8; 500])).is_ok() {
            next += 1;
        }
        p.run_for(Duration::from_millis(10));
    }
    assert_eq!(
        got, total,
        "all of it arrived over the second link within 20 s"
    );
}

/// Data sent on the primary just before its link failed reached the peer,
/// but the SACKs for it were lost. After the failover a SACK over the
/// other link acknowledges it: that clears the error count, but does not
/// make the dead primary active again (Linux's sctp_check_transmitted
/// does that only for a SACK from the path's own address), so new data
/// stays on the working link.
#[test]
fn a_sack_over_another_link_does_not_revive_a_failed_path() {
    let mut p = two_links(Duration::from_secs(30));
    let (a, z) = p.establish();
    both_confirmed(&mut p, a, z);
    // Z's answers are lost from now on: the link is going down.
    p.drop_filter = Some(Box::new(|side, _| side == Side::Z));
    for i in 0..10u8 {
        p.a.send(p.now, a, msg(0, &[i; 300])).unwrap();
    }
    p.run_for(Duration::from_millis(20));
    assert_eq!(recv_all(&mut p.z, z).len(), 10, "the data got through");
    p.cut.insert(0);
    p.drop_filter = None;
    // T3 on the primary: it is potentially failed, the retransmissions go
    // over the second link, and their SACK acknowledges everything.
    assert!(p.run_until(Duration::from_secs(10), |p| {
        p.a.assoc(a).unwrap().unacked_chunks() == 0
    }));
    let x = p.a.assoc(a).unwrap();
    assert_eq!(x.data_path_addr(), "10.0.1.2".parse::<IpAddr>().unwrap());
    let st = x.path_status();
    assert!(
        st[0].pf || !st[0].active,
        "the primary is still failed: {:?}",
        st[0]
    );
    // New data goes over the working link at once.
    p.a.send(p.now, a, msg(0, b"after")).unwrap();
    p.run_for(Duration::from_millis(50));
    assert_eq!(p.z.recv(z).unwrap().data, b"after");
}

/// SCTP_PEER_ADDR_PARAMS for one path: with its heartbeats off, a cut
/// idle second link goes unnoticed (no probe, no error counted), while
/// heartbeats back on find it unreachable; the other path keeps the
/// association's settings all along.
#[test]
fn heartbeats_are_set_per_path() {
    use crate::proto::assoc::multihome::PathParamsSet;
    let mut p = two_links(Duration::from_millis(500));
    p.tracing = false;
    let (a, z) = p.establish();
    both_confirmed(&mut p, a, z);
    let second: IpAddr = "10.0.1.2".parse().unwrap();
    let off = PathParamsSet {
        hb_on: Some(false),
        ..Default::default()
    };
    let now = p.now;
    assert!(p.a.assoc_mut(a).unwrap().set_path_params(now, second, &off));
    assert!(
        !p.a.assoc_mut(a)
            .unwrap()
            .set_path_params(now, "10.9.9.9".parse().unwrap(), &off)
    );
    let params = |p: &Pair, ip: &str| {
        let ip: IpAddr = ip.parse().unwrap();
        let st = p.a.assoc(a).unwrap().path_status();
        st.iter().find(|s| s.addr.ip() == ip).unwrap().params
    };
    assert!(!params(&p, "10.0.1.2").hb_on);
    assert!(params(&p, "10.0.0.2").hb_on);
    p.cut.insert(1);
    p.run_for(Duration::from_secs(10));
    assert_eq!(
        path_state(&p, Side::A, a, "10.0.1.2"),
        (true, true),
        "not probed"
    );
    let on = PathParamsSet {
        hb_on: Some(true),
        hb_interval: Some(Duration::from_millis(200)),
        ..Default::default()
    };
    let now = p.now;
    assert!(p.a.assoc_mut(a).unwrap().set_path_params(now, second, &on));
    assert!(p.run_until(Duration::from_secs(10), |p| {
        !path_state(p, Side::A, a, "10.0.1.2").1
    }));
    assert_eq!(path_state(&p, Side::A, a, "10.0.0.2"), (true, true));
    assert_eq!(
        params(&p, "10.0.1.2").hb_interval,
        Duration::from_millis(200)
    );
    assert_eq!(
        params(&p, "10.0.0.2").hb_interval,
        Duration::from_millis(500)
    );
}

/// A message sent to one of the peer's addresses (a one-to-one socket's
/// sendto, SCTP_ADDR_OVER) goes over that path: with the primary link cut
/// and not yet known to be, it arrives at once over the second link; one
/// without an address waits for the retransmission timeout.
#[test]
fn a_message_takes_the_path_it_was_sent_to() {
    let mut p = two_links(Duration::from_secs(30));
    let (a, z) = p.establish();
    both_confirmed(&mut p, a, z);
    p.cut.insert(0);
    let to_second = OutMessage {
        path: Some("10.0.1.2".parse().unwrap()),
        ..msg(0, b"over the second link")
    };
    p.a.send(p.now, a, to_second).unwrap();
    p.run_for(Duration::from_millis(20));
    assert_eq!(p.z.recv(z).unwrap().data, b"over the second link");
    p.a.send(p.now, a, msg(0, b"to the primary")).unwrap();
    p.run_for(Duration::from_millis(20));
    assert!(p.z.recv(z).is_none(), "the primary link is cut");
    p.run_for(Duration::from_secs(2));
    assert_eq!(p.z.recv(z).unwrap().data, b"to the primary");
}

/// Per-path thresholds (SCTP_PEER_ADDR_THLDS with an address) and the
/// primary path switchover (RFC 7829 §5, Linux's
/// sctp_do_8_2_transport_strike): past its spt_pathcpthld errors the
/// primary gives way to the path data goes to, with SCTP_ADDR_MADE_PRIM,
/// and stays given way once its link is back (no switch-back).
#[test]
fn the_primary_gives_way_past_its_switchover_threshold() {
    let mut p = two_links(Duration::from_secs(1));
    let (a, z) = p.establish();
    both_confirmed(&mut p, a, z);
    let first: IpAddr = "10.0.0.2".parse().unwrap();
    let second: IpAddr = "10.0.1.2".parse().unwrap();
    let set = PathParamsSet {
        pf_retrans: Some(0),
        ps_retrans: Some(1),
        ..Default::default()
    };
    let now = p.now;
    assert!(p.a.assoc_mut(a).unwrap().set_path_params(now, first, &set));
    let params = |p: &Pair, ip: IpAddr| {
        let x = p.a.assoc(a).unwrap().path_status();
        x.iter().find(|s| s.addr.ip() == ip).unwrap().params
    };
    assert_eq!(
        (params(&p, first).pf_retrans, params(&p, first).ps_retrans),
        (0, 1)
    );
    assert_eq!(
        params(&p, second).ps_retrans,
        0xffff,
        "the other path keeps its own"
    );
    let primary = |p: &Pair| {
        let x = p.a.assoc(a).unwrap();
        x.paths()[x.primary()].addr
    };
    assert_eq!(primary(&p), first);
    p.cut.insert(0);
    let made = AssocEvent::PathChange {
        addr: second,
        state: PathState::MadePrimary,
    };
    // Data keeps the primary's errors counting (T3-rtx on it).
    for n in 0u32..400 {
        if has_event(&p.a_events, a, &made) {
            break;
        }
        let _ = p.a.send(p.now, a, msg(0, &n.to_be_bytes()));
        p.run_for(Duration::from_millis(50));
    }
    assert!(has_event(&p.a_events, a, &made));
    assert_eq!(primary(&p), second);
    // Two errors (> 1) switched it, before Path.Max.Retrans (2) ended the path.
    assert!(path_state(&p, Side::A, a, "10.0.0.2").1, "still active");
    p.cut.clear();
    p.run_for(Duration::from_secs(5));
    assert_eq!(primary(&p), second, "no switch-back");
    recv_all(&mut p.z, z);
    arrives_without_link(&mut p, a, z, 0, b"on the new primary");
}
