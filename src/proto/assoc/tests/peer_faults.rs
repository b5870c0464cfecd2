//! Answers to peers that break the rules or go quiet, as the conformance
//! scripts found them against Linux (conformance/scripts): giving up with
//! an ABORT, a SHUTDOWN that completes what SHUTDOWN-PENDING waited for,
//! parameters after a "stop" one, windows below 1500, out-of-the-blue
//! packets judged as a whole.

use super::*;
use crate::proto::assoc::handshake::{init_is_valid, processed};

fn quick() -> Config {
    let mut c = Config::default();
    c.rto_initial = Duration::from_millis(100);
    c.rto_min = Duration::from_millis(100);
    c.rto_max = Duration::from_millis(100);
    c.assoc_max_retrans = 2;
    c.hb_interval = None;
    c
}

#[test]
fn giving_up_after_max_retrans_sends_an_abort() {
    let mut p = Pair::new(quick(), quick());
    let (a, _) = p.establish();
    p.drop_filter = Some(Box::new(|s, _| s == Side::Z));
    p.a.send(p.now, a, msg(0, b"lost")).unwrap();
    p.run_for(Duration::from_secs(2));
    assert_eq!(closed_reason(&p.a_events, a), Some(CloseReason::TimedOut));
    let last = last_sent_by(&p, Side::A);
    assert!(matches!(&last.chunks[..], [Chunk::Abort(ab)]
        if matches!(ab.causes[..], [ErrorCause::ProtocolViolation { .. }])));
}

#[test]
fn shutdown_acknowledging_what_shutdown_pending_waited_for_gets_only_shutdown_ack() {
    let mut p = Pair::default_pair();
    let (a, z) = p.establish();
    p.drop_filter = Some(Box::new(|s, _| s == Side::A));
    p.a.send(p.now, a, msg(0, b"x")).unwrap();
    p.run_for(Duration::from_millis(10));
    p.a.assoc_mut(a).unwrap().shutdown(p.now);
    assert!(matches!(
        p.a.assoc(a).unwrap().state(),
        State::ShutdownPending
    ));
    p.drop_filter = None;
    let (_, al) = p.z.assoc(z).unwrap().vtags();
    let cum = p.a.assoc(a).unwrap().out.next_tsn().0.wrapping_sub(1);
    let shutdowns = p.count_sent(Side::A, |c| matches!(c, Chunk::Shutdown(_)));
    let shutdown = Chunk::Shutdown(Shutdown { cum_tsn_ack: cum });
    inject_to_a(&mut p, packet(false, al, vec![shutdown]));
    assert!(matches!(
        last_sent_by(&p, Side::A).chunks[..],
        [Chunk::ShutdownAck]
    ));
    assert_eq!(
        p.count_sent(Side::A, |c| matches!(c, Chunk::Shutdown(_))),
        shutdowns
    );
}

#[test]
fn parameters_after_a_stop_parameter_are_not_processed() {
    let mut init = Init {
        initiate_tag: 1,
        a_rwnd: 65536,
        outbound_streams: 1,
        inbound_streams: 1,
        initial_tsn: 1,
        params: vec![
            Param::Unknown {
                param_type: 0x0100, // upper bits 00: stop
                value: vec![],
            },
            Param::HostNameAddress(b"example\0".to_vec()),
        ],
    };
    assert_eq!(processed(&init).params.len(), 1);
    init.params[0] = Param::Unknown {
        param_type: 0x8100, // upper bits 10: skip, go on
        value: vec![],
    };
    assert_eq!(processed(&init).params.len(), 2);
}

#[test]
fn a_window_below_1500_is_invalid() {
    let mut init = Init {
        initiate_tag: 1,
        a_rwnd: 1499,
        outbound_streams: 1,
        inbound_streams: 1,
        initial_tsn: 1,
        params: vec![],
    };
    assert!(!init_is_valid(&init));
    init.a_rwnd = 1500;
    assert!(init_is_valid(&init));
}

/// §8.4 rule 5 before rule 7; an INIT bundled after another chunk
/// silences the packet (Linux's sctp_rcv_ootb).
#[test]
fn out_of_the_blue_packets_are_judged_whole() {
    let t = crate::proto::harness::epoch();
    let from: std::net::SocketAddr = "127.0.0.1:7000".parse().unwrap();
    let mut ep = Endpoint::new(Config::default(), 6000, [5; 32], t);
    ep.listen(true);
    let mut answer = |chunks: Vec<Chunk>| {
        let p = Packet {
            src_port: 7000,
            dst_port: 6000,
            verification_tag: 0x55,
            chunks,
        };
        ep.handle(t, from, &p.encode());
        ep.poll_transmit(t)
            .map(|x| Packet::decode(&x.payload).unwrap())
    };
    let r = answer(vec![Chunk::CookieAck, Chunk::ShutdownAck]).expect("an answer");
    assert!(matches!(
        r.chunks[..],
        [Chunk::ShutdownComplete(ShutdownComplete { t_bit: true })]
    ));
    let data = Chunk::Data(DataChunk {
        tsn: 1,
        beginning: true,
        ending: true,
        payload: b"x".to_vec(),
        ..Default::default()
    });
    let init = Chunk::Init(Init {
        initiate_tag: 9,
        a_rwnd: 65536,
        outbound_streams: 1,
        inbound_streams: 1,
        initial_tsn: 1,
        params: vec![],
    });
    assert!(answer(vec![data.clone(), init]).is_none());
    let r = answer(vec![data]).expect("an ABORT");
    assert!(matches!(&r.chunks[..], [Chunk::Abort(a)] if a.t_bit));
}

/// §7.2.3 / §6.3.3 E3: after a T3-rtx expiry one packet goes, then
/// nothing until a SACK comes.
#[test]
fn one_packet_in_flight_after_a_retransmission_timeout() {
    let mut c = quick();
    c.assoc_max_retrans = 10;
    c.path_max_retrans = 10;
    let mut p = Pair::new(c.clone(), c);
    let (a, _) = p.establish();
    p.drop_filter = Some(Box::new(|s, _| s == Side::Z));
    let data = |p: &Pair| p.count_sent(Side::A, |c| matches!(c, Chunk::Data(_)));
    let before = data(&p);
    for _ in 0..5 {
        p.a.send(p.now, a, msg(0, &[5u8; 1000])).unwrap();
    }
    p.run_for(Duration::from_millis(50));
    let first_flight = data(&p) - before;
    assert!(first_flight >= 4, "{first_flight}");
    // T3 fires at 100 ms: one chunk (1000 bytes: one per packet) goes
    // again, and no other before the next expiry at 200 ms.
    p.run_for(Duration::from_millis(100));
    assert_eq!(data(&p) - before - first_flight, 1);
}
