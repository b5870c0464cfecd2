//! End-to-end properties of the receive path: tracker and reassembly fed
//! together with reordered, duplicated, fragmented traffic.

use std::collections::HashMap;

use super::*;
use crate::proto::serial::Tsn;
use crate::proto::wire::DataChunk;

struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
    }
}

/// What a sent message should look like on arrival.
struct Sent {
    stream_id: u16,
    ssn: u16,
    unordered: bool,
    data: Vec<u8>,
    received: bool,
}

/// How the chunk sequence is disturbed before reception.
#[derive(Clone, Copy)]
enum Reorder {
    None,
    /// Each chunk moves a bounded distance, as on a real path.
    Local(usize),
    Full,
}

struct Scenario {
    seed: u64,
    initial_tsn: u32,
    streams: u16,
    messages: usize,
    max_len: u64,
    min_frag: usize,
    reorder: Reorder,
    dup_percent: u64,
}

fn run(sc: &Scenario) {
    let mut rng = XorShift::new(sc.seed);
    let mut next_ssn = vec![0u16; usize::from(sc.streams)];
    let mut sent: HashMap<u32, Sent> = HashMap::new();
    let mut chunks: Vec<DataChunk> = Vec::new();
    let mut tsn = Tsn(sc.initial_tsn);
    for _ in 0..sc.messages {
        let sid = rng.below(u64::from(sc.streams)) as u16;
        let unordered = rng.below(5) == 0;
        let len = 1 + rng.below(sc.max_len) as usize;
        let frag = sc.min_frag + rng.below(600) as usize;
        let tag = rng.next() as u8;
        let data: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(13) ^ tag).collect();
        let ssn = if unordered {
            rng.next() as u16
        } else {
            let s = next_ssn[usize::from(sid)];
            next_ssn[usize::from(sid)] = s.wrapping_add(1);
            s
        };
        let first = tsn;
        let pieces: Vec<&[u8]> = data.chunks(frag).collect();
        let n = pieces.len();
        for (i, p) in pieces.into_iter().enumerate() {
            chunks.push(DataChunk {
                immediate: false,
                unordered,
                beginning: i == 0,
                ending: i + 1 == n,
                tsn: tsn.0,
                stream_id: sid,
                ssn,
                ppid: u32::from(sid) << 16 | u32::from(ssn),
                payload: p.to_vec(),
            });
            tsn = tsn.next();
        }
        sent.insert(
            first.0,
            Sent {
                stream_id: sid,
                ssn,
                unordered,
                data,
                received: false,
            },
        );
    }
    let last_tsn = tsn.prev();

    match sc.reorder {
        Reorder::None => {}
        Reorder::Local(w) => {
            for i in 0..chunks.len() {
                let j = (i + rng.below(w as u64) as usize).min(chunks.len() - 1);
                chunks.swap(i, j);
            }
        }
        Reorder::Full => rng.shuffle(&mut chunks),
    }
    // Copies land anywhere, before or after the original: sort by a key
    // rather than inserting, to stay O(n log n) on large runs.
    let mut dup_count = 0;
    let n = chunks.len() as u64;
    let mut keyed: Vec<(u64, DataChunk)> = Vec::with_capacity(chunks.len());
    for (i, c) in chunks.into_iter().enumerate() {
        if rng.below(100) < sc.dup_percent {
            keyed.push((rng.below(2 * n + 1), c.clone()));
            dup_count += 1;
        }
        keyed.push((2 * i as u64, c));
    }
    keyed.sort_by_key(|&(k, _)| k);
    let chunks: Vec<DataChunk> = keyed.into_iter().map(|(_, c)| c).collect();

    let mut tracker = TsnTracker::new(Tsn(sc.initial_tsn));
    let mut reasm = Reassembly::new(sc.streams);
    let mut got: Vec<Message> = Vec::new();
    let mut dups_reported = 0;
    for c in chunks {
        let t = Tsn(c.tsn);
        match tracker.on_tsn(t) {
            TsnStatus::New => reasm.insert(c),
            TsnStatus::Duplicate => {}
        }
        assert!(tracker.is_received(t));
        if rng.below(4) == 0 {
            got.extend(std::iter::from_fn(|| reasm.pop_message()));
        }
        if rng.below(16) == 0 {
            check_gap_blocks(&tracker);
            dups_reported += tracker.take_dups(usize::MAX).len();
        }
    }
    got.extend(std::iter::from_fn(|| reasm.pop_message()));
    dups_reported += tracker.take_dups(usize::MAX).len();

    assert_eq!(tracker.cum_tsn(), last_tsn, "seed {}", sc.seed);
    assert_eq!(tracker.highest_received(), last_tsn);
    assert!(!tracker.has_gaps());
    assert_eq!(dups_reported, dup_count);
    assert_eq!(reasm.buffered_bytes(), 0);
    assert_eq!(reasm.protocol_violations(), 0);
    assert!(!reasm.has_ready());
    assert_eq!(got.len(), sc.messages, "seed {}", sc.seed);

    let mut expect_ssn = vec![0u16; usize::from(sc.streams)];
    for m in got {
        let s = sent
            .get_mut(&m.first_tsn.0)
            .expect("message starts at a sent TSN");
        assert!(!s.received, "delivered twice");
        s.received = true;
        assert_eq!(m.stream_id, s.stream_id);
        assert_eq!(m.unordered, s.unordered);
        assert_eq!(m.ssn, s.ssn);
        assert_eq!(m.ppid, u32::from(s.stream_id) << 16 | u32::from(s.ssn));
        assert!(m.data == s.data, "payload mismatch");
        if !m.unordered {
            let e = &mut expect_ssn[usize::from(m.stream_id)];
            assert_eq!(m.ssn, *e, "ordered delivery broken");
            *e = e.wrapping_add(1);
        }
    }
    assert!(sent.values().all(|s| s.received));
}

/// Gap blocks must be sorted, disjoint, non-adjacent, start past cum + 1,
/// and name exactly received TSNs bounded by missing ones.
fn check_gap_blocks(t: &TsnTracker) {
    let cum = t.cum_tsn();
    let mut prev_end: u32 = 0;
    for (s, e) in t.gap_blocks(usize::MAX) {
        assert!(s <= e);
        assert!(u32::from(s) >= prev_end + 2);
        prev_end = u32::from(e);
        assert!(!t.is_received(cum + (u32::from(s) - 1)));
        for off in s..=e {
            assert!(t.is_received(cum + u32::from(off)));
        }
        if e < u16::MAX {
            assert!(!t.is_received(cum + u32::from(e) + 1));
        }
    }
}

fn scenario(seed: u64) -> Scenario {
    let mut rng = XorShift::new(seed ^ 0xABCD);
    Scenario {
        seed,
        initial_tsn: rng.next() as u32,
        streams: 1 + rng.below(8) as u16,
        messages: 150,
        max_len: 2000,
        min_frag: 1,
        reorder: Reorder::Local(40),
        dup_percent: 10,
    }
}

#[test]
fn property_local_reorder() {
    for seed in 1..=25 {
        run(&scenario(seed));
    }
}

#[test]
fn property_full_shuffle() {
    for seed in 100..=120 {
        run(&Scenario {
            reorder: Reorder::Full,
            ..scenario(seed)
        });
    }
}

#[test]
fn property_across_tsn_wrap() {
    for seed in 200..=220 {
        let mut sc = scenario(seed);
        // About 150 messages of ~2-10 fragments: start a little before the
        // wrap so it lands mid-run.
        sc.initial_tsn = u32::MAX - 300 - (seed as u32 % 50);
        sc.reorder = if seed % 2 == 0 {
            Reorder::Full
        } else {
            Reorder::Local(100)
        };
        run(&sc);
    }
}

#[test]
fn property_in_order_no_dups() {
    for seed in 300..=305 {
        run(&Scenario {
            reorder: Reorder::None,
            dup_percent: 0,
            ..scenario(seed)
        });
    }
}

#[test]
fn property_heavy_duplication() {
    for seed in 400..=410 {
        run(&Scenario {
            dup_percent: 80,
            reorder: Reorder::Full,
            ..scenario(seed)
        });
    }
}

#[test]
fn property_single_stream_small_messages() {
    for seed in 500..=510 {
        run(&Scenario {
            streams: 1,
            messages: 600,
            max_len: 40,
            reorder: Reorder::Full,
            ..scenario(seed)
        });
    }
}

#[test]
fn property_many_streams() {
    for seed in 600..=605 {
        run(&Scenario {
            streams: 300,
            messages: 900,
            max_len: 300,
            ..scenario(seed)
        });
    }
}

#[test]
fn property_large_messages() {
    for seed in 700..=702 {
        run(&Scenario {
            messages: 30,
            max_len: 200_000,
            // Around 1000 fragments per message at most.
            min_frag: 200,
            reorder: Reorder::Full,
            ..scenario(seed)
        });
    }
}

#[test]
fn tracker_then_reassembly_with_forward_cum_skips_old() {
    // A FORWARD TSN makes the tracker treat skipped TSNs as received, so
    // late copies of them never reach the reassembler.
    let mut t = TsnTracker::new(Tsn(10));
    let mut r = Reassembly::new(1);
    t.forward_cum(Tsn(12));
    for tsn in [11u32, 12, 13] {
        let c = DataChunk {
            unordered: true,
            beginning: true,
            ending: true,
            tsn,
            payload: vec![tsn as u8],
            ..DataChunk::default()
        };
        if t.on_tsn(Tsn(tsn)) == TsnStatus::New {
            r.insert(c);
        }
    }
    let m = r.pop_message().expect("13 delivered");
    assert_eq!(m.first_tsn, Tsn(13));
    assert!(r.pop_message().is_none());
    assert_eq!(t.take_dups(8), vec![11, 12]);
}
