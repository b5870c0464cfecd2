// --- Multi-homing (§5.1.2, §5.4, §6.4, §8.2) ---

use super::*;
use crate::proto::assoc::PathState;
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
    assert!(p.run_until(Duration::from_secs(5), |p| {
        path_state(p, Side::A, a, "10.0.1.2").0 && path_state(p, Side::Z, z, "10.0.1.1").0
    }));
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
    assert!(p.run_until(Duration::from_secs(5), |p| {
        path_state(p, Side::A, a, "10.0.1.2").0 && path_state(p, Side::Z, z, "10.0.1.1").0
    }));
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
    p.cut.insert(1);
    p.a.send(p.now, a, msg(0, b"back on the primary")).unwrap();
    p.run_for(Duration::from_millis(100));
    assert_eq!(p.z.recv(z).unwrap().data, b"back on the primary");
}

/// A peer that lists addresses out of the sender's scope (loopback from a
/// private address) or of another family gets no path to them.
#[test]
fn out_of_scope_addresses_are_not_paths() {
    let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
    let z_cfg = Config {
        local_addrs: vec![ip("10.0.0.2"), ip("127.0.0.1"), ip("fd00::2")],
        ..Config::default()
    };
    let mut p = Pair::new(Config::default(), z_cfg);
    p.a_addr = "10.0.0.1:5001".parse().unwrap();
    p.z_addr = "10.0.0.2:5002".parse().unwrap();
    let (a, _) = p.establish();
    let addrs: Vec<IpAddr> = p.a.assoc(a).unwrap().peer_addrs().collect();
    assert_eq!(addrs, vec![ip("10.0.0.2")]);
}
