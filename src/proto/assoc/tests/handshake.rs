//! Handshake, collisions and restarts (§5.1, §5.2).

use super::*;

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
    assert_eq!(st.primary_path().addr, p.z_addr);
    assert!(st.primary_path().active);
    assert_eq!(
        st.primary_path().mtu,
        1500,
        "the IP path MTU, as Linux's spinfo_mtu"
    );
    assert_eq!(st.fragmentation_point, 1472 - 28);
    assert_eq!(st.primary_path().rto_ms, 1000);
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
        Err(crate::proto::assoc::SendError::InvalidStream)
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
        a_rwnd: 65536,
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
