//! Association behaviour on the two-peer harness, one test per numbered
//! behaviour of RFC 9260 that the core implements.
#![allow(clippy::field_reassign_with_default)]

use std::time::Duration;

use super::tx::OutMessage;
use super::{AssocEvent, AssocId, CloseReason, State};
use crate::proto::config::Config;
use crate::proto::endpoint::Endpoint;
use crate::proto::harness::{Pair, Side};
use crate::proto::wire::{
    Abort, Chunk, DataChunk, ErrorCause, Heartbeat, Init, Packet, Param, Sack, Shutdown,
    ShutdownComplete, UnknownChunk,
};

fn msg(stream: u16, data: &[u8]) -> OutMessage {
    OutMessage {
        stream_id: stream,
        ppid: 42,
        unordered: false,
        data: data.to_vec(),
        context: 0,
    }
}

fn closed_reason(events: &[(u32, AssocEvent)], id: u32) -> Option<CloseReason> {
    events.iter().find_map(|(i, e)| match e {
        AssocEvent::Closed { reason, .. } if *i == id => Some(reason.clone()),
        _ => None,
    })
}

fn has_event(events: &[(u32, AssocEvent)], id: u32, ev: &AssocEvent) -> bool {
    events.iter().any(|(i, e)| *i == id && e == ev)
}

/// Sends a raw packet from A's address to Z (bypassing A's endpoint).
fn inject_to_z(p: &mut Pair, packet: Packet) {
    let bytes = packet.encode();
    let from = p.a_addr;
    p.z.handle(p.now, from, &bytes);
    p.flush();
}

/// Sends a raw packet from Z's address to A.
fn inject_to_a(p: &mut Pair, packet: Packet) {
    let bytes = packet.encode();
    let from = p.z_addr;
    p.a.handle(p.now, from, &bytes);
    p.flush();
}

fn last_sent_by(p: &Pair, side: Side) -> &Packet {
    &p.trace
        .iter()
        .rev()
        .find(|t| t.from == side)
        .expect("a packet")
        .packet
}

fn recv_all(ep: &mut Endpoint, id: u32) -> Vec<super::rx::Message> {
    std::iter::from_fn(|| ep.recv(id)).collect()
}

// --- Handshake (§5.1) ---

#[test]
fn four_way_handshake_establishes_both_sides() {
    let mut p = Pair::default_pair();
    let (a, z) = p.establish();
    let kinds: Vec<u8> = p
        .trace
        .iter()
        .map(|t| t.packet.chunks[0].chunk_type())
        .collect();
    assert_eq!(
        kinds,
        vec![1, 2, 10, 11],
        "INIT, INIT ACK, COOKIE ECHO, COOKIE ACK"
    );
    assert!(has_event(&p.a_events, a, &AssocEvent::Connected));
    assert!(has_event(&p.z_events, z, &AssocEvent::Connected));
    assert_eq!(p.z.accept(), Some(z));
    let (al, ap) = p.a.assoc(a).unwrap().vtags();
    let (zl, zp) = p.z.assoc(z).unwrap().vtags();
    assert_eq!((al, ap), (zp, zl));
    assert_ne!(al, 0);
    assert_ne!(zl, 0);
}

#[test]
fn status_reports_state_streams_and_primary_path() {
    let mut p = Pair::default_pair();
    let a = p.connect();
    assert_eq!(p.a.assoc(a).unwrap().status().state, 2, "COOKIE_WAIT");
    p.run_until(Duration::from_secs(5), |p| {
        p.a.assoc(a).unwrap().is_established()
    });
    let st = p.a.assoc(a).unwrap().status();
    assert_eq!(st.state, 4);
    assert_eq!((st.inbound_streams, st.outbound_streams), (10, 10));
    assert_eq!(st.primary, p.z_addr);
    assert!(st.primary_active);
    assert_eq!(st.mtu, 1472);
    assert_eq!(st.fragmentation_point, 1472 - 28);
    assert_eq!(st.rto_ms, 1000);
    p.a.send(p.now, a, msg(0, b"x")).unwrap();
    p.a.send(p.now, a, msg(0, b"y")).unwrap();
    assert_eq!(p.a.assoc(a).unwrap().status().pending, 2);
    p.flush();
    assert_eq!(p.a.assoc(a).unwrap().status().unacked, 2);
}

#[test]
fn init_has_zero_tag_and_is_alone() {
    let mut p = Pair::default_pair();
    p.connect();
    let init = &p.trace[0].packet;
    assert_eq!(init.verification_tag, 0);
    assert_eq!(init.chunks.len(), 1);
    let Chunk::Init(i) = &init.chunks[0] else {
        panic!()
    };
    assert_eq!(i.outbound_streams, 10);
    assert_eq!(i.inbound_streams, 65535);
}

#[test]
fn stream_counts_are_negotiated_down() {
    let mut ca = Config::default();
    ca.outbound_streams = 100;
    ca.max_inbound_streams = 3;
    let mut cz = Config::default();
    cz.outbound_streams = 7;
    cz.max_inbound_streams = 50;
    let mut p = Pair::new(ca, cz);
    let (a, z) = p.establish();
    assert_eq!(p.a.assoc(a).unwrap().streams(), (50, 3));
    assert_eq!(p.z.assoc(z).unwrap().streams(), (3, 50));
    assert_eq!(
        p.a.send(p.now, a, msg(50, b"x")),
        Err(super::SendError::InvalidStream)
    );
    assert_eq!(p.a.send(p.now, a, msg(49, b"x")), Ok(()));
}

#[test]
fn responder_keeps_no_state_before_cookie_echo() {
    let mut p = Pair::default_pair();
    p.connect();
    // Deliver INIT and INIT ACK only: drop A's COOKIE ECHOs.
    p.drop_filter = Some(Box::new(|s, pk| {
        s == Side::A && matches!(pk.chunks[0], Chunk::CookieEcho(_))
    }));
    p.run_for(Duration::from_millis(50));
    assert_eq!(p.z.assoc_ids().count(), 0);
    assert_eq!(p.z.stats().init_acks_sent, 1);
}

#[test]
fn init_flood_creates_no_state() {
    let mut p = Pair::default_pair();
    for i in 1..=2000u32 {
        let init = Init {
            initiate_tag: i,
            a_rwnd: 65536,
            outbound_streams: 1,
            inbound_streams: 1,
            initial_tsn: i,
            params: vec![],
        };
        let pkt = Packet {
            src_port: 5001,
            dst_port: 5002,
            verification_tag: 0,
            chunks: vec![Chunk::Init(init)],
        };
        let bytes = pkt.encode();
        p.z.handle(p.now, p.a_addr, &bytes);
    }
    assert_eq!(p.z.assoc_ids().count(), 0);
    assert_eq!(p.z.stats().init_acks_sent, 2000);
}

#[test]
fn init_to_closed_port_is_refused_with_abort() {
    let mut p = Pair::default_pair();
    p.z.listen(false);
    let a = p.connect();
    p.run_for(Duration::from_millis(100));
    assert_eq!(closed_reason(&p.a_events, a), Some(CloseReason::Refused));
    let abort = last_sent_by(&p, Side::Z);
    assert!(matches!(
        abort.chunks[0],
        Chunk::Abort(Abort { t_bit: false, .. })
    ));
}

#[test]
fn lost_init_is_retransmitted_with_backoff() {
    let mut p = Pair::default_pair();
    let mut dropped = 0;
    p.drop_filter = Some(Box::new(move |s, pk| {
        if s == Side::A && matches!(pk.chunks[0], Chunk::Init(_)) && dropped < 2 {
            dropped += 1;
            return true;
        }
        false
    }));
    let a = p.connect();
    assert!(p.run_until(Duration::from_secs(10), |p| {
        p.a.assoc(a).unwrap().is_established()
    }));
    let inits: Vec<_> = p
        .trace
        .iter()
        .filter(|t| matches!(t.packet.chunks[0], Chunk::Init(_)))
        .map(|t| t.at)
        .collect();
    assert_eq!(inits.len(), 3);
    assert_eq!(inits[1] - inits[0], Duration::from_secs(1));
    assert_eq!(inits[2] - inits[1], Duration::from_secs(2));
}

#[test]
fn init_retransmission_timeout_is_bounded_by_max_init_timeo() {
    let mut ca = Config::default();
    ca.max_init_timeo = Duration::from_secs(3);
    ca.max_init_retransmits = 4;
    let mut p = Pair::new(ca, Config::default());
    p.link.down = true;
    p.connect();
    p.run_for(Duration::from_secs(60));
    let at: Vec<_> = p
        .trace
        .iter()
        .filter(|t| matches!(t.packet.chunks[0], Chunk::Init(_)))
        .map(|t| t.at)
        .collect();
    let gaps: Vec<u64> = at.windows(2).map(|w| (w[1] - w[0]).as_secs()).collect();
    assert_eq!(gaps, vec![1, 2, 3, 3]);
}

#[test]
fn handshake_times_out_after_max_init_retransmits() {
    let mut p = Pair::default_pair();
    p.link.down = true;
    let a = p.connect();
    p.run_for(Duration::from_secs(600));
    assert_eq!(closed_reason(&p.a_events, a), Some(CloseReason::TimedOut));
    assert_eq!(
        p.count_sent(Side::A, |c| matches!(c, Chunk::Init(_))),
        9,
        "1 + Max.Init.Retransmits"
    );
}

#[test]
fn lost_cookie_echo_is_retransmitted() {
    let mut p = Pair::default_pair();
    let mut first = true;
    p.drop_filter = Some(Box::new(move |s, pk| {
        let hit = s == Side::A && matches!(pk.chunks[0], Chunk::CookieEcho(_)) && first;
        if hit {
            first = false;
        }
        hit
    }));
    let (a, _) = p.establish();
    assert!(p.a.assoc(a).unwrap().is_established());
    assert_eq!(
        p.count_sent(Side::A, |c| matches!(c, Chunk::CookieEcho(_))),
        2
    );
}

#[test]
fn data_queued_during_setup_rides_with_the_cookie_echo() {
    let mut p = Pair::default_pair();
    let a = p.connect();
    p.a.send(p.now, a, msg(1, b"early")).unwrap();
    p.a.send(p.now, a, msg(2, &[7; 3000])).unwrap();
    assert!(p.run_until(Duration::from_secs(5), |p| {
        p.z_id()
            .is_some_and(|z| p.z.assoc(z).is_some_and(|x| x.has_message()))
    }));
    let echo = p
        .trace
        .iter()
        .find(|t| t.from == Side::A && matches!(t.packet.chunks[0], Chunk::CookieEcho(_)))
        .expect("a COOKIE ECHO");
    let data: Vec<&DataChunk> = echo
        .packet
        .chunks
        .iter()
        .filter_map(|c| match c {
            Chunk::Data(d) => Some(d),
            _ => None,
        })
        .collect();
    // The first message and as much of the second as fits one packet.
    assert!(!data.is_empty() && data[0].payload == b"early");
    assert!(echo.packet.encode().len() <= 1500 - 28);
    let z = p.z_id().unwrap();
    assert!(p.run_until(Duration::from_secs(5), |p| {
        p.a.assoc(a)
            .is_some_and(|x| x.is_established() && x.all_data_acked())
    }));
    let got = recv_all(&mut p.z, z);
    assert_eq!(got.len(), 2);
    assert_eq!((got[0].stream_id, &got[0].data[..]), (1, &b"early"[..]));
    assert_eq!(got[1].data, vec![7; 3000]);
}

#[test]
fn data_lost_with_the_cookie_echo_is_sent_again_once_up() {
    let mut p = Pair::default_pair();
    let mut first = true;
    p.drop_filter = Some(Box::new(move |s, pk| {
        let hit = s == Side::A && matches!(pk.chunks[0], Chunk::CookieEcho(_)) && first;
        if hit {
            first = false;
        }
        hit
    }));
    let a = p.connect();
    p.a.send(p.now, a, msg(0, b"again")).unwrap();
    assert!(p.run_until(Duration::from_secs(10), |p| {
        p.a.assoc(a)
            .is_some_and(|x| x.is_established() && x.all_data_acked())
    }));
    let z = p.z_id().unwrap();
    let got = recv_all(&mut p.z, z);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].data, b"again");
    assert_eq!(p.a.assoc(a).unwrap().error_count, 0);
}

#[test]
fn adaptation_layer_indications_are_exchanged() {
    let mut ca = Config::default();
    ca.adaptation_ind = 0x0102_0304;
    let mut cz = Config::default();
    cz.adaptation_ind = 0x0a0b_0c0d;
    let mut p = Pair::new(ca, cz);
    let (a, z) = p.establish();
    p.run_for(Duration::from_millis(100));
    assert!(
        p.a_events
            .contains(&(a, AssocEvent::Adaptation(0x0a0b_0c0d)))
    );
    assert!(
        p.z_events
            .contains(&(z, AssocEvent::Adaptation(0x0102_0304)))
    );
    // A recognized parameter: no Unrecognized Parameter report either way.
    assert_eq!(
        p.count_sent(Side::A, |c| matches!(c, Chunk::Error(_)))
            + p.count_sent(Side::Z, |c| matches!(c, Chunk::Error(_))),
        0
    );
    // Without one configured, none is sent and none reported.
    let mut q = Pair::default_pair();
    let (a2, _) = q.establish();
    q.run_for(Duration::from_millis(100));
    assert!(
        !q.a_events
            .iter()
            .any(|(i, e)| *i == a2 && matches!(e, AssocEvent::Adaptation(_)))
    );
}

#[test]
fn forged_packets_from_another_udp_port_do_not_redirect_the_path() {
    let mut p = Pair::default_pair();
    let (a, z) = p.establish();
    let before = p.z.assoc(z).unwrap().paths()[0].udp_port;
    // Blind ABORTs and SHUTDOWNs with guessed tags, from A's IP and SCTP
    // port but another UDP port (an attacker on the same host).
    let attacker = std::net::SocketAddr::new(p.a_addr.ip(), 40000);
    for tag in [1u32, 0xdead_beef, 42] {
        for chunk in [
            Chunk::Abort(crate::proto::wire::Abort::default()),
            Chunk::Shutdown(crate::proto::wire::Shutdown { cum_tsn_ack: 7 }),
        ] {
            let pk = Packet {
                src_port: p.a_addr.port(),
                dst_port: p.z_addr.port(),
                verification_tag: tag,
                chunks: vec![chunk],
            };
            p.z.handle(p.now, attacker, &pk.encode());
        }
    }
    p.flush();
    assert_eq!(p.z.assoc(z).unwrap().paths()[0].udp_port, before);
    assert!(p.z.assoc(z).unwrap().is_established());
    p.a.send(p.now, a, msg(0, b"still here")).unwrap();
    let mut got = Vec::new();
    assert!(p.run_until(Duration::from_secs(5), |p| {
        got.extend(recv_all(&mut p.z, z));
        !got.is_empty()
    }));
    assert_eq!(got[0].data, b"still here");
}

#[test]
fn lost_cookie_ack_is_recovered_by_duplicate_cookie() {
    let mut p = Pair::default_pair();
    let mut first = true;
    p.drop_filter = Some(Box::new(move |s, pk| {
        let hit = s == Side::Z && matches!(pk.chunks[0], Chunk::CookieAck) && first;
        if hit {
            first = false;
        }
        hit
    }));
    let (a, z) = p.establish();
    assert!(p.a.assoc(a).unwrap().is_established());
    assert_eq!(
        p.z.assoc_ids().count(),
        1,
        "the duplicate cookie must not create a second association"
    );
    assert_eq!(
        p.z_events
            .iter()
            .filter(|(i, e)| *i == z && *e == AssocEvent::Connected)
            .count(),
        1
    );
}

#[test]
fn stale_cookie_leads_to_init_with_preservative() {
    let mut cz = Config::default();
    cz.valid_cookie_life = Duration::from_millis(100);
    let mut p = Pair::new(Config::default(), cz);
    // Hold the first COOKIE ECHO long enough for the cookie to go stale.
    p.link.delay = Duration::from_millis(60);
    let a = p.connect();
    assert!(p.run_until(Duration::from_secs(30), |p| {
        p.a.assoc(a).unwrap().is_established()
    }));
    assert!(p.z.stats().stale_cookies >= 1);
    let preserved = p.trace.iter().any(|t| {
        matches!(&t.packet.chunks[0], Chunk::Init(i) if i.params.iter().any(|x| matches!(x, Param::CookiePreservative(_))))
    });
    assert!(preserved);
}

#[test]
fn forged_and_tampered_cookies_are_rejected() {
    let mut p = Pair::default_pair();
    p.drop_filter = Some(Box::new(|s, pk| {
        s == Side::A && matches!(pk.chunks[0], Chunk::CookieEcho(_))
    }));
    let _ = p.connect();
    p.run_for(Duration::from_millis(30));
    let cookie = p
        .trace
        .iter()
        .find_map(|t| match &t.packet.chunks[0] {
            Chunk::InitAck(ia) => ia.params.iter().find_map(|x| match x {
                Param::StateCookie(c) => Some(c.clone()),
                _ => None,
            }),
            _ => None,
        })
        .unwrap();
    let tag = p.trace.iter().find_map(|t| match &t.packet.chunks[0] {
        Chunk::InitAck(ia) => Some(ia.initiate_tag),
        _ => None,
    });
    for i in [0, cookie.len() / 2, cookie.len() - 1] {
        let mut bad = cookie.clone();
        bad[i] ^= 1;
        let ce = Chunk::CookieEcho(crate::proto::wire::CookieEcho { cookie: bad });
        inject_to_z(
            &mut p,
            Packet {
                src_port: 5001,
                dst_port: 5002,
                verification_tag: tag.unwrap(),
                chunks: vec![ce],
            },
        );
    }
    let forged = Chunk::CookieEcho(crate::proto::wire::CookieEcho {
        cookie: vec![7; 120],
    });
    inject_to_z(
        &mut p,
        Packet {
            src_port: 5001,
            dst_port: 5002,
            verification_tag: 1,
            chunks: vec![forged],
        },
    );
    // A genuine cookie with the wrong verification tag is refused too.
    let ce = Chunk::CookieEcho(crate::proto::wire::CookieEcho {
        cookie: cookie.clone(),
    });
    inject_to_z(
        &mut p,
        Packet {
            src_port: 5001,
            dst_port: 5002,
            verification_tag: tag.unwrap() ^ 1,
            chunks: vec![ce],
        },
    );
    assert_eq!(p.z.assoc_ids().count(), 0);
    assert_eq!(p.z.stats().cookies_rejected, 5);
    // And the genuine one works.
    let ce = Chunk::CookieEcho(crate::proto::wire::CookieEcho { cookie });
    inject_to_z(
        &mut p,
        Packet {
            src_port: 5001,
            dst_port: 5002,
            verification_tag: tag.unwrap(),
            chunks: vec![ce],
        },
    );
    assert_eq!(p.z.assoc_ids().count(), 1);
}

// --- Collision and restart (§5.2) ---

#[test]
fn simultaneous_open_yields_one_association_each_side() {
    let mut p = Pair::default_pair();
    p.a.listen(true);
    let a = p.a.connect(p.now, p.z_addr, p.z_addr.port()).unwrap();
    let z = p.z.connect(p.now, p.a_addr, p.a_addr.port()).unwrap();
    assert!(p.run_until(Duration::from_secs(30), |p| {
        p.a.assoc(a).unwrap().is_established() && p.z.assoc(z).unwrap().is_established()
    }));
    p.run_for(Duration::from_secs(2));
    assert_eq!(p.a.assoc_ids().count(), 1);
    assert_eq!(p.z.assoc_ids().count(), 1);
    let (al, ap) = p.a.assoc(a).unwrap().vtags();
    let (zl, zp) = p.z.assoc(z).unwrap().vtags();
    assert_eq!((al, ap), (zp, zl), "tags agree after the collision");
    p.a.send(p.now, a, msg(0, b"after collision")).unwrap();
    assert!(p.run_until(Duration::from_secs(5), |p| {
        p.z.assoc(z).unwrap().has_message()
    }));
    assert_eq!(p.z.recv(z).unwrap().data, b"after collision");
}

#[test]
fn peer_restart_is_detected_and_association_continues() {
    let mut p = Pair::default_pair();
    let (_, z) = p.establish();
    // A's process "restarts": a fresh endpoint on the same port.
    p.a = Endpoint::new(Config::default(), 5001, [9; 32], p.now);
    let a2 = p.a.connect(p.now, p.z_addr, p.z_addr.port()).unwrap();
    assert!(p.run_until(Duration::from_secs(10), |p| {
        p.a.assoc(a2).unwrap().is_established()
    }));
    assert!(has_event(&p.z_events, z, &AssocEvent::Restarted));
    assert_eq!(p.z.assoc_ids().count(), 1);
    let (al, ap) = p.a.assoc(a2).unwrap().vtags();
    assert_eq!(p.z.assoc(z).unwrap().vtags(), (ap, al));
    p.a.send(p.now, a2, msg(0, b"hello again")).unwrap();
    assert!(p.run_until(Duration::from_secs(5), |p| {
        p.z.assoc(z).unwrap().has_message()
    }));
    assert_eq!(p.z.recv(z).unwrap().data, b"hello again");
}

#[test]
fn init_in_shutdown_ack_sent_retransmits_shutdown_ack() {
    let mut p = Pair::default_pair();
    let (a, z) = p.establish();
    p.drop_filter = Some(Box::new(|s, pk| {
        s == Side::A && matches!(pk.chunks[0], Chunk::ShutdownComplete(_))
    }));
    p.a.assoc_mut(a).unwrap().shutdown(p.now);
    p.run_for(Duration::from_millis(100));
    assert!(matches!(
        p.z.assoc(z).unwrap().state(),
        State::ShutdownAckSent
    ));
    let before = p.count_sent(Side::Z, |c| matches!(c, Chunk::ShutdownAck));
    let init = Init {
        initiate_tag: 77,
        a_rwnd: 1000,
        outbound_streams: 1,
        inbound_streams: 1,
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
    assert_eq!(
        p.count_sent(Side::Z, |c| matches!(c, Chunk::ShutdownAck)),
        before + 1
    );
    assert_eq!(p.count_sent(Side::Z, |c| matches!(c, Chunk::InitAck(_))), 1);
}

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
        Err(super::SendError::Empty)
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
    assert_eq!(closed_reason(&p.z_events, z), Some(CloseReason::LocalAbort));
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
    assert_eq!(closed_reason(&p.a_events, a), Some(CloseReason::LocalAbort));
    p.run_for(Duration::from_millis(20));
    assert!(
        matches!(closed_reason(&p.z_events, z), Some(CloseReason::PeerAbort(c)) if matches!(c[0], ErrorCause::ProtocolViolation { .. }))
    );
}

// --- SACK generation (§6.2, §6.7) ---

#[test]
fn single_packet_is_acked_after_the_delayed_sack_timeout() {
    let mut p = Pair::default_pair();
    let (a, _) = p.establish();
    p.a.send(p.now, a, msg(0, b"one")).unwrap();
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
    assert_eq!(sack_at - sent_at, Duration::from_millis(5 + 200));
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
    p.a.send(p.now, a, msg(0, b"ping")).unwrap();
    p.run_for(Duration::from_millis(10));
    p.z.send(p.now, z, msg(0, b"pong")).unwrap();
    p.flush();
    let r = last_sent_by(&p, Side::Z);
    assert!(matches!(r.chunks[0], Chunk::Sack(_)));
    assert!(matches!(r.chunks[1], Chunk::Data(_)));
}

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
    let rto = Duration::from_millis(p.a.assoc(a).unwrap().status().rto_ms.into());
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

// --- Heartbeats (§8.3) ---

#[test]
fn idle_association_sends_heartbeats_and_measures_rtt() {
    let mut p = Pair::default_pair();
    let (a, _) = p.establish();
    p.run_for(Duration::from_secs(100));
    let hbs = p.count_sent(Side::A, |c| matches!(c, Chunk::Heartbeat(_)));
    assert!((2..=4).contains(&hbs), "{hbs} heartbeats in 100 s");
    assert!(p.count_sent(Side::Z, |c| matches!(c, Chunk::HeartbeatAck(_))) >= hbs);
    assert_eq!(
        p.a.assoc(a).unwrap().paths()[0].rto.srtt(),
        Some(Duration::from_millis(10))
    );
}

#[test]
fn heartbeat_ack_with_wrong_nonce_is_ignored() {
    let mut p = Pair::default_pair();
    let (a, _) = p.establish();
    p.link.down = true;
    p.run_for(Duration::from_secs(40));
    let (al, _) = p.a.assoc(a).unwrap().vtags();
    let hb = Chunk::HeartbeatAck(Heartbeat {
        info: vec![0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8],
    });
    inject_to_a(
        &mut p,
        Packet {
            src_port: 5002,
            dst_port: 5001,
            verification_tag: al,
            chunks: vec![hb],
        },
    );
    assert_eq!(p.a.assoc(a).unwrap().paths()[0].rto.srtt(), None);
}

#[test]
fn unanswered_heartbeats_fail_the_path_and_association() {
    let mut p = Pair::default_pair();
    let (a, _) = p.establish();
    p.link.down = true;
    assert!(p.run_until(Duration::from_secs(3600), |p| {
        closed_reason(&p.a_events, a).is_some()
    }));
    assert_eq!(closed_reason(&p.a_events, a), Some(CloseReason::TimedOut));
    let addr = p.z_addr.ip();
    assert!(has_event(
        &p.a_events,
        a,
        &AssocEvent::PathChange {
            addr,
            state: super::PathState::Unreachable
        }
    ));
}

#[test]
fn potentially_failed_state_follows_thresholds_and_is_reported_when_exposed() {
    use super::PathState;
    for expose in [0u8, 2] {
        let mut cfg = Config {
            pf_retrans: 1,
            pf_expose: expose,
            ..Config::default()
        };
        cfg.path_max_retrans = 6;
        let mut p = Pair::new(cfg, Config::default());
        let (a, _) = p.establish();
        p.link.down = true;
        p.a.send(p.now, a, msg(0, b"lost for a while")).unwrap();
        // One timeout: not yet past pathpfthld = 1.
        assert!(p.run_until(Duration::from_secs(30), |p| {
            p.a.assoc(a).unwrap().paths()[0].error_count == 1
        }));
        assert!(!p.a.assoc(a).unwrap().status().primary_pf);
        assert!(p.run_until(Duration::from_secs(30), |p| {
            p.a.assoc(a).unwrap().status().primary_pf
        }));
        let addr = p.z_addr.ip();
        let pf = AssocEvent::PathChange {
            addr,
            state: PathState::PotentiallyFailed,
        };
        assert_eq!(has_event(&p.a_events, a, &pf), expose == 2);
        // A PF path is probed every RTO, not every HB.interval + RTO.
        let path = &p.a.assoc(a).unwrap().paths()[0];
        let rto = path.rto.rto();
        assert!(path.hb_due.unwrap() <= p.now + rto * 3 / 2);
        p.link.down = false;
        assert!(p.run_until(Duration::from_secs(300), |p| {
            !p.a.assoc(a).unwrap().status().primary_pf
        }));
        let back = AssocEvent::PathChange {
            addr,
            state: PathState::Available,
        };
        assert_eq!(has_event(&p.a_events, a, &back), expose == 2);
        assert!(p.a.assoc(a).unwrap().status().primary_active);
    }
}

// --- Shutdown and abort (§9) ---

#[test]
fn graceful_shutdown_delivers_queued_data_first() {
    let mut p = Pair::default_pair();
    let (a, z) = p.establish();
    for i in 0..30u8 {
        p.a.send(p.now, a, msg(0, &[i; 1200])).unwrap();
    }
    p.a.assoc_mut(a).unwrap().shutdown(p.now);
    assert_eq!(
        p.a.send(p.now, a, msg(0, b"late")),
        Err(super::SendError::Shutdown)
    );
    assert!(p.run_until(Duration::from_secs(10), |p| {
        closed_reason(&p.a_events, a).is_some()
    }));
    p.run_for(Duration::from_millis(100));
    assert_eq!(closed_reason(&p.a_events, a), Some(CloseReason::Graceful));
    assert_eq!(closed_reason(&p.z_events, z), Some(CloseReason::Graceful));
    assert!(has_event(&p.z_events, z, &AssocEvent::PeerShutdown));
    assert_eq!(
        recv_all(&mut p.z, z).len(),
        30,
        "data read after close is still there"
    );
    let order: Vec<u8> = p
        .trace
        .iter()
        .flat_map(|t| t.packet.chunks.iter().map(|c| c.chunk_type()))
        .filter(|&t| t == 7 || t == 8 || t == 14)
        .collect();
    assert_eq!(order, vec![7, 8, 14]);
}

#[test]
fn shutdown_during_handshake_delivers_queued_data_first() {
    let mut p = Pair::default_pair();
    let a = p.connect();
    p.a.send(p.now, a, msg(0, b"queued before the handshake ended"))
        .unwrap();
    p.a.assoc_mut(a).unwrap().shutdown(p.now);
    assert!(p.run_until(Duration::from_secs(10), |p| {
        closed_reason(&p.a_events, a).is_some()
    }));
    assert_eq!(closed_reason(&p.a_events, a), Some(CloseReason::Graceful));
    let z = p.z_id().unwrap();
    assert_eq!(
        p.z.recv(z).unwrap().data,
        b"queued before the handshake ended"
    );
}

#[test]
fn shutdown_from_the_other_side_and_simultaneous() {
    let mut p = Pair::default_pair();
    let (a, z) = p.establish();
    p.z.assoc_mut(z).unwrap().shutdown(p.now);
    p.run_for(Duration::from_secs(1));
    assert_eq!(closed_reason(&p.a_events, a), Some(CloseReason::Graceful));
    assert_eq!(closed_reason(&p.z_events, z), Some(CloseReason::Graceful));

    let mut p = Pair::default_pair();
    let (a, z) = p.establish();
    p.a.assoc_mut(a).unwrap().shutdown(p.now);
    p.z.assoc_mut(z).unwrap().shutdown(p.now);
    p.run_for(Duration::from_secs(3));
    assert_eq!(closed_reason(&p.a_events, a), Some(CloseReason::Graceful));
    assert_eq!(closed_reason(&p.z_events, z), Some(CloseReason::Graceful));
}

#[test]
fn lost_shutdown_is_retransmitted_by_t2() {
    let mut p = Pair::default_pair();
    let (a, z) = p.establish();
    let mut first = true;
    p.drop_filter = Some(Box::new(move |s, pk| {
        let hit = s == Side::A && first && matches!(pk.chunks[0], Chunk::Shutdown(_));
        if hit {
            first = false;
        }
        hit
    }));
    p.a.assoc_mut(a).unwrap().shutdown(p.now);
    p.run_for(Duration::from_secs(3));
    assert_eq!(
        p.count_sent(Side::A, |c| matches!(c, Chunk::Shutdown(_))),
        2
    );
    assert_eq!(closed_reason(&p.z_events, z), Some(CloseReason::Graceful));
}

/// A SHUTDOWN ACK nobody answers (here: after a forged SHUTDOWN, which the
/// peer, still established, ignores) is retransmitted at most
/// Association.Max.Retrans times, even though heartbeats keep the path alive.
#[test]
fn unanswered_shutdown_ack_gives_up_after_max_retrans() {
    let mut p = Pair::default_pair();
    let (_, z) = p.establish();
    let (zl, _) = p.z.assoc(z).unwrap().vtags();
    let cum = p.z.assoc(z).unwrap().out.cum_ack().0;
    inject_to_z(
        &mut p,
        Packet {
            src_port: 5001,
            dst_port: 5002,
            verification_tag: zl,
            chunks: vec![Chunk::Shutdown(Shutdown { cum_tsn_ack: cum })],
        },
    );
    assert!(matches!(
        p.z.assoc(z).unwrap().state(),
        State::ShutdownAckSent
    ));
    assert!(p.run_until(Duration::from_secs(3600), |p| {
        closed_reason(&p.z_events, z).is_some()
    }));
    assert_eq!(closed_reason(&p.z_events, z), Some(CloseReason::TimedOut));
    assert_eq!(
        p.count_sent(Side::Z, |c| matches!(c, Chunk::ShutdownAck)),
        11,
        "1 + Association.Max.Retrans"
    );
}

#[test]
fn data_in_shutdown_sent_is_answered_with_sack_and_shutdown() {
    let mut p = Pair::default_pair();
    let (a, z) = p.establish();
    // Z's SHUTDOWN ACK is lost for a while; meanwhile Z still sends data.
    p.z.send(p.now, z, msg(0, b"still talking")).unwrap();
    p.a.assoc_mut(a).unwrap().shutdown(p.now);
    p.run_for(Duration::from_secs(2));
    assert_eq!(recv_all(&mut p.a, a).len(), 1);
    assert_eq!(closed_reason(&p.a_events, a), Some(CloseReason::Graceful));
}

#[test]
fn user_abort_reaches_the_peer() {
    let mut p = Pair::default_pair();
    let (a, z) = p.establish();
    p.a.send(p.now, a, msg(0, b"pending")).unwrap();
    p.a.assoc_mut(a).unwrap().abort(p.now, b"bye");
    p.run_for(Duration::from_millis(50));
    assert_eq!(closed_reason(&p.a_events, a), Some(CloseReason::LocalAbort));
    let z_reason = closed_reason(&p.z_events, z);
    assert_eq!(
        z_reason,
        Some(CloseReason::PeerAbort(vec![
            ErrorCause::UserInitiatedAbort {
                reason: b"bye".to_vec()
            }
        ]))
    );
}

#[test]
fn shutdown_chunk_acknowledges_data() {
    let mut p = Pair::default_pair();
    let (a, z) = p.establish();
    p.a.send(p.now, a, msg(0, b"x")).unwrap();
    p.flush();
    let (al, _) = p.a.assoc(a).unwrap().vtags();
    let tsn = p.a.assoc(a).unwrap().out.next_tsn().prev().0;
    inject_to_a(
        &mut p,
        Packet {
            src_port: 5002,
            dst_port: 5001,
            verification_tag: al,
            chunks: vec![Chunk::Shutdown(Shutdown { cum_tsn_ack: tsn })],
        },
    );
    assert!(p.a.assoc(a).unwrap().all_data_acked());
    assert!(has_event(&p.a_events, a, &AssocEvent::PeerShutdown));
    let _ = z;
}

#[test]
fn port_unreachable_with_the_right_tag_aborts() {
    let mut p = Pair::default_pair();
    let (a, _) = p.establish();
    let (_, peer_tag) = p.a.assoc(a).unwrap().vtags();
    let sent = |tag: u32| {
        Packet {
            src_port: 5001,
            dst_port: 5002,
            verification_tag: tag,
            chunks: vec![],
        }
        .encode()
    };
    // Blind ICMP (wrong tag, wrong ports) is ignored.
    p.a.handle_port_unreachable(p.z_addr, &sent(peer_tag ^ 1));
    p.a.handle_port_unreachable(p.z_addr, &sent(0));
    p.a.handle_port_unreachable("127.0.0.9:5002".parse().unwrap(), &sent(peer_tag));
    p.flush();
    assert!(closed_reason(&p.a_events, a).is_none());
    p.a.handle_port_unreachable(p.z_addr, &sent(peer_tag));
    p.flush();
    assert!(matches!(
        closed_reason(&p.a_events, a),
        Some(CloseReason::PeerAbort(_))
    ));
}

#[test]
fn port_unreachable_during_handshake_is_refusal() {
    let mut p = Pair::default_pair();
    p.link.down = true;
    let a = p.connect();
    let init = p.trace[0].packet.encode();
    let mut forged = init.clone();
    forged[16] ^= 1;
    p.a.handle_port_unreachable(p.z_addr, &forged);
    p.flush();
    assert!(
        closed_reason(&p.a_events, a).is_none(),
        "wrong Initiate Tag is ignored"
    );
    p.a.handle_port_unreachable(p.z_addr, &init);
    p.flush();
    assert_eq!(closed_reason(&p.a_events, a), Some(CloseReason::Refused));
}

#[test]
fn remote_errors_are_reported() {
    let mut p = Pair::default_pair();
    let (a, _) = p.establish();
    let (al, _) = p.a.assoc(a).unwrap().vtags();
    let e = Chunk::Error(crate::proto::wire::ErrorChunk {
        causes: vec![ErrorCause::OutOfResource],
    });
    inject_to_a(
        &mut p,
        Packet {
            src_port: 5002,
            dst_port: 5001,
            verification_tag: al,
            chunks: vec![e],
        },
    );
    assert!(has_event(
        &p.a_events,
        a,
        &AssocEvent::RemoteError(vec![ErrorCause::OutOfResource])
    ));
}

// --- Reliability across an impaired link ---

/// 10 MiB over 4 streams (half ordered, half unordered) through 20% loss,
/// 5% duplication and reordering: everything arrives, in order per ordered stream.
#[test]
fn ten_mib_over_four_streams_through_a_lossy_link() {
    let mut ca = Config::default();
    ca.sndbuf = 1 << 20;
    let mut cz = Config::default();
    cz.rcvbuf = 1 << 20;
    let mut p = Pair::new(ca, cz);
    p.tracing = false;
    let (a, z) = p.establish();
    p.link.loss = 0.20;
    p.link.dup = 0.05;
    p.link.reorder = 0.10;
    p.link.rng = crate::proto::harness::XorShift(12345);
    let total: usize = 10 << 20;
    let sizes = [700usize, 5000, 33_000, 1];
    let mut sent: Vec<Vec<Vec<u8>>> = vec![Vec::new(); 4];
    let mut got: Vec<Vec<Vec<u8>>> = vec![Vec::new(); 4];
    let mut queued = 0usize;
    let mut k = 0u32;
    let mut fast_seen = false;
    let mut t3_seen = false;
    let done = p.run_until(Duration::from_secs(4 * 3600), |p| {
        while queued < total {
            let s = (k % 4) as usize;
            let len = sizes[s].max((k as usize * 37) % 3000 + 1);
            let data: Vec<u8> = (0..len).map(|i| (i as u32 ^ k) as u8).collect();
            let m = OutMessage {
                stream_id: s as u16,
                ppid: k,
                unordered: s % 2 == 1,
                data: data.clone(),
                context: k,
            };
            if p.a.send(p.now, a, m).is_err() {
                break;
            }
            sent[s].push(data);
            queued += len;
            k += 1;
        }
        while let Some(m) = p.z.recv(z) {
            got[usize::from(m.stream_id)].push(m.data);
        }
        let st = p.a.assoc(a).unwrap().stats();
        fast_seen |= st.fast_retransmits > 0;
        t3_seen |= st.t3_expiries > 0;
        queued >= total
            && p.a.assoc(a).unwrap().all_data_acked()
            && !p.z.assoc(z).unwrap().has_message()
    });
    assert!(done, "transfer did not finish");
    for s in 0..4 {
        if s % 2 == 0 {
            assert_eq!(got[s], sent[s], "ordered stream {s} intact and in order");
        } else {
            let mut g = got[s].clone();
            let mut w = sent[s].clone();
            g.sort();
            w.sort();
            assert_eq!(g, w, "unordered stream {s} complete");
        }
    }
    assert!(fast_seen && t3_seen);
    assert!(p.z.assoc(z).unwrap().stats().duplicate_tsns > 0);
}

/// Loss recovery speed: 16 MiB through 10% loss, 2% duplication and
/// reordering on a 0.2 ms RTT link. Reno-style congestion control bounds it
/// (about 4 MTU per RTT at this loss rate); a stall per lost retransmission
/// or per filled gap (RTO, delayed SACK) would multiply it. 1.6 s measured.
#[test]
fn bulk_transfer_through_heavy_loss_keeps_moving() {
    let mut ca = Config::default();
    ca.sndbuf = 4 << 20;
    ca.rto_min = Duration::from_millis(10);
    let mut cz = Config::default();
    cz.rcvbuf = 4 << 20;
    let mut p = Pair::new(ca, cz);
    p.tracing = false;
    p.link.loss = 0.10;
    p.link.dup = 0.02;
    p.link.reorder = 0.02;
    p.link.reorder_by = Duration::from_micros(500);
    p.link.delay = Duration::from_micros(100);
    let (a, z) = p.establish();
    let total = 16 << 20;
    let (mut sent, mut got) = (0usize, 0usize);
    let start = p.now;
    while got < total {
        while sent < total && p.a.send(p.now, a, msg(0, &[7; 1400])).is_ok() {
            sent += 1400;
        }
        p.run_for(Duration::from_millis(1));
        got += recv_all(&mut p.z, z)
            .iter()
            .map(|m| m.data.len())
            .sum::<usize>();
        assert!(
            p.now - start < Duration::from_secs(4),
            "too slow: {got} bytes"
        );
    }
    assert_eq!(got, sent);
}
