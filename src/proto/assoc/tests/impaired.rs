//! Reliability across an impaired link.

use super::*;

// --- Reliability across an impaired link ---

/// 10 MiB over 4 streams (half ordered, half unordered) through 20% loss,
/// 5% duplication and reordering: everything arrives, in order per ordered
/// stream. With RFC 9260's loss detection alone, and with RACK and probes.
#[test]
fn ten_mib_over_four_streams_through_a_lossy_link() {
    lossy_transfer(false);
    lossy_transfer(true);
}

fn lossy_transfer(rack: bool) {
    let mut ca = Config {
        rack,
        ..Config::default()
    };
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
                path: None,
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
    assert!(fast_seen);
    // Probes find the losses T3-rtx would otherwise wait for.
    assert!(t3_seen || rack);
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
