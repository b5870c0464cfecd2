//! Heartbeats, shutdown and abort (§8.3, §9).

use super::*;

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
        extra: vec![],
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
            state: crate::proto::assoc::PathState::Unreachable
        }
    ));
}

#[test]
fn potentially_failed_state_follows_thresholds_and_is_reported_when_exposed() {
    use crate::proto::assoc::PathState;
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
        assert!(!p.a.assoc(a).unwrap().status().primary_path().pf);
        assert!(p.run_until(Duration::from_secs(30), |p| {
            p.a.assoc(a).unwrap().status().primary_path().pf
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
            !p.a.assoc(a).unwrap().status().primary_path().pf
        }));
        let back = AssocEvent::PathChange {
            addr,
            state: PathState::Available,
        };
        assert_eq!(has_event(&p.a_events, a, &back), expose == 2);
        assert!(p.a.assoc(a).unwrap().status().primary_path().active);
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
        Err(crate::proto::assoc::SendError::Shutdown)
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
    forge_shutdown_to_z(&mut p, z);
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

/// §9.2: a SHUTDOWN received again in SHUTDOWN-ACK-SENT (the SHUTDOWN ACK
/// was lost) is answered with a SHUTDOWN ACK at once, not at T2's expiry.
#[test]
fn shutdown_again_in_shutdown_ack_sent_is_answered_at_once() {
    let mut p = Pair::default_pair();
    let (_, z) = p.establish();
    let (zl, _) = p.z.assoc(z).unwrap().vtags();
    let cum = p.z.assoc(z).unwrap().out.cum_ack().0;
    let shutdown = Packet {
        src_port: 5001,
        dst_port: 5002,
        verification_tag: zl,
        chunks: vec![Chunk::Shutdown(Shutdown { cum_tsn_ack: cum })],
    };
    inject_to_z(&mut p, shutdown.clone());
    inject_to_z(&mut p, shutdown);
    assert!(matches!(
        p.z.assoc(z).unwrap().state(),
        State::ShutdownAckSent
    ));
    assert_eq!(
        p.count_sent(Side::Z, |c| matches!(c, Chunk::ShutdownAck)),
        2,
        "one SHUTDOWN ACK per SHUTDOWN, with no time passing"
    );
}

/// A SHUTDOWN as from A (Z's own tag, Z's cumulative TSN), which puts Z in
/// SHUTDOWN-ACK-SENT whatever A's state.
fn forge_shutdown_to_z(p: &mut Pair, z: AssocId) {
    let (zl, _) = p.z.assoc(z).unwrap().vtags();
    let cum = p.z.assoc(z).unwrap().out.cum_ack().0;
    inject_to_z(
        p,
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
}

/// A pair whose Z holds 20 messages of 1000 bytes, all acknowledged, unread.
fn z_holding_20_kb() -> (Pair, AssocId) {
    let mut p = Pair::default_pair();
    let (a, z) = p.establish();
    for _ in 0..20 {
        p.a.send(p.now, a, msg(0, &[7u8; 1000])).unwrap();
    }
    assert!(p.run_until(Duration::from_secs(1), |p| {
        p.z.assoc(z).unwrap().rx_buffered() == 20_000
    }));
    p.run_for(Duration::from_secs(1));
    (p, z)
}

/// Data read after the SHUTDOWN ACK went out sends no window update: the
/// peer has closed (sctp_peer_needs_update), and the update would reach it
/// out of the blue and come back as an ABORT (a reset after a clean close).
#[test]
fn no_window_update_after_shutdown_ack() {
    let (mut p, z) = z_holding_20_kb();
    forge_shutdown_to_z(&mut p, z);
    let sacks = p.count_sent(Side::Z, |c| matches!(c, Chunk::Sack(_)));
    while p.z.recv(z).is_some() {}
    p.flush();
    assert_eq!(
        p.count_sent(Side::Z, |c| matches!(c, Chunk::Sack(_))),
        sacks,
        "no SACK once the SHUTDOWN ACK is out"
    );
    // While the peer may still send, the same read does update it.
    let (mut p, z) = z_holding_20_kb();
    let sacks = p.count_sent(Side::Z, |c| matches!(c, Chunk::Sack(_)));
    while p.z.recv(z).is_some() {}
    p.flush();
    assert!(p.count_sent(Side::Z, |c| matches!(c, Chunk::Sack(_))) > sacks);
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
