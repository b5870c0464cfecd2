//! An established association under attack: the input is a script of
//! records, most of them packets injected into Z as if sent by A (right
//! ports, Z's verification tag, a correct CRC32c, so they get past the
//! endpoint's checks and reach the association's state machine), mixed with
//! time jumps (timers), application sends on either side, receive-buffer
//! drains and closes. The real A keeps talking to Z through the harness link
//! all along. Nothing may panic, and the harness's own invariants (every
//! packet an endpoint emits decodes, fits in 1500 bytes and goes to a known
//! address) must hold.
//!
//! Record format: a big-endian u16 header `h`; `op = h >> 13`,
//! `n = h & 0x1fff`.
//!
//! | op | meaning                                                                 |
//! |----|-------------------------------------------------------------------------|
//! | 0  | next `min(n, 4096)` bytes are the chunks of a packet to Z, Z's tag      |
//! | 1  | the same, TSNs relative: DATA TSNs (and No User Data causes) get A's    |
//! |    | initial TSN added, SACK/SHUTDOWN cumulative acks get Z's; so seeds stay |
//! |    | meaningful whatever the endpoints' random initial TSNs are              |
//! | 2  | like 0, but the first byte picks the tag: 0 Z's, 1 A's (reflected, for  |
//! |    | T-bit chunks), 2 zero, 3 the next four bytes; the rest are the chunks   |
//! | 3  | advance virtual time by `n * 10` ms (fires timers), at most 15 minutes  |
//! |    | in all per input (enough for every retransmission limit to trip)        |
//! | 4  | A sends `(n & 0x7ff) + 1` bytes, stream `(n >> 11) & 1`, U bit `n >> 12` |
//! | 5  | Z sends, same encoding                                                  |
//! | 6  | both applications read every message waiting                            |
//! | 7  | `n & 7`: 0/1 A/Z shutdown, 2/3 A/Z abort, 4 link loss `(n >> 3) % 4`    |
//! |    | tenths, 5 link duplication/reordering toggle, 6 release closed          |
//! |    | associations and let A reconnect, 7 Z-to-A filter `(n >> 3) % 3`: 0 off, |
//! |    | 1 drop Z's packets carrying a SACK, 2 drop all (so injected DATA that A |
//! |    | never sent does not make A abort on Z's SACK, §6.2.1)                   |
//!
//! After every packet and application action the pair runs for 50 ms of
//! virtual time; after the last record it runs for 90 s.
//!
//! To see what an input does (e.g. a crash artifact), run the target binary
//! on it with `SCTPSHIM_FUZZ_TRACE=1`: each record and the resulting state
//! of both associations go to stderr.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use sctpshim::proto::assoc::AssocId;
use sctpshim::proto::assoc::tx::OutMessage;
use sctpshim::proto::harness::{Pair, Side};
use sctpshim::proto::wire::{Chunk, ErrorCause, Packet, checksum};

/// Most chunk bytes in one injected packet.
const MAX_CHUNK_BYTES: usize = 4096;
/// Most records interpreted per input (bounds the time one input takes).
const MAX_RECORDS: usize = 256;
const STEP: Duration = Duration::from_millis(50);
/// Most virtual time op 3 may skip per input: more only slows fuzzing down.
const WAIT_BUDGET: Duration = Duration::from_secs(15 * 60);

fn tracing() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("SCTPSHIM_FUZZ_TRACE").is_some())
}

struct World {
    p: Pair,
    a_id: AssocId,
    z_id: AssocId,
    /// Initial TSNs of A and Z from the handshake, for relative records.
    a_itsn: u32,
    z_itsn: u32,
    /// Z's association's (local, peer) tags, refreshed while it exists.
    tags: (u32, u32),
    /// What is left of `WAIT_BUDGET`.
    wait_left: Duration,
}

impl World {
    fn new() -> World {
        let mut p = Pair::default_pair();
        let (a_id, z_id) = p.establish();
        let mut a_itsn = 0;
        let mut z_itsn = 0;
        for t in &p.trace {
            for c in &t.packet.chunks {
                match (t.from, c) {
                    (Side::A, Chunk::Init(i)) => a_itsn = i.initial_tsn,
                    (Side::Z, Chunk::InitAck(i)) => z_itsn = i.initial_tsn,
                    _ => {}
                }
            }
        }
        p.tracing = false;
        p.trace.clear();
        let tags = p.z.assoc(z_id).expect("Z's association").vtags();
        World {
            p,
            a_id,
            z_id,
            a_itsn,
            z_itsn,
            tags,
            wait_left: WAIT_BUDGET,
        }
    }

    fn wait(&mut self, n: u16) {
        let d = Duration::from_millis(u64::from(n) * 10).min(self.wait_left);
        self.wait_left -= d;
        self.p.run_for(d);
    }

    /// One line per side: association state and counters.
    fn dump(&self, what: &str) {
        let t = self
            .p
            .now
            .saturating_duration_since(sctpshim::proto::harness::epoch());
        eprintln!("[{:>10.3}s] {what}", t.as_secs_f64());
        for (side, e, id) in [("A", &self.p.a, self.a_id), ("Z", &self.p.z, self.z_id)] {
            match e.assoc(id) {
                Some(a) => {
                    let state = format!("{:?}", a.state());
                    let state = state.split(['(', ' ']).next().unwrap_or("");
                    eprintln!(
                        "    {side}: {state} unacked={} rwnd={} {:?} {:?}",
                        a.unacked_chunks(),
                        a.peer_rwnd(),
                        a.stats(),
                        e.stats()
                    );
                }
                None => eprintln!("    {side}: no association {id} {:?}", e.stats()),
            }
        }
    }

    /// Follows Z's newest association (a reconnect creates another).
    fn refresh_tags(&mut self) {
        if let Some(id) = self.p.z.assoc_ids().last() {
            self.z_id = id;
            if let Some(a) = self.p.z.assoc(id) {
                self.tags = a.vtags();
            }
        }
    }

    /// Builds the packet around `chunks`, fixes its checksum and hands it to Z.
    fn inject(&mut self, tag: u32, chunks: &[u8], relative: bool) {
        let mut bytes = Vec::with_capacity(Packet::HEADER_LEN + chunks.len());
        bytes.extend_from_slice(&self.p.a_addr.port().to_be_bytes());
        bytes.extend_from_slice(&self.p.z_addr.port().to_be_bytes());
        bytes.extend_from_slice(&tag.to_be_bytes());
        bytes.extend_from_slice(&[0; 4]);
        bytes.extend_from_slice(chunks);
        let bytes = match Packet::decode_unverified(&bytes) {
            Ok(mut packet) => {
                if relative {
                    self.rebase(&mut packet);
                }
                packet.encode()
            }
            Err(_) => {
                // Undecodable: still deliver it, checksum right, so the
                // endpoint's malformed-packet path runs.
                let crc = checksum(&bytes).to_le_bytes();
                bytes[8..12].copy_from_slice(&crc);
                bytes
            }
        };
        let (now, from) = (self.p.now, self.p.a_addr);
        self.p.z.handle(now, from, &bytes);
        self.p.run_for(STEP);
    }

    fn rebase(&self, packet: &mut Packet) {
        for c in &mut packet.chunks {
            match c {
                Chunk::Data(d) => d.tsn = d.tsn.wrapping_add(self.a_itsn),
                Chunk::Sack(s) => s.cum_tsn_ack = s.cum_tsn_ack.wrapping_add(self.z_itsn),
                Chunk::Shutdown(s) => s.cum_tsn_ack = s.cum_tsn_ack.wrapping_add(self.z_itsn),
                Chunk::Abort(a) => self.rebase_causes(&mut a.causes),
                Chunk::Error(e) => self.rebase_causes(&mut e.causes),
                _ => {}
            }
        }
    }

    fn rebase_causes(&self, causes: &mut [ErrorCause]) {
        for c in causes {
            if let ErrorCause::NoUserData { tsn } = c {
                *tsn = tsn.wrapping_add(self.a_itsn);
            }
        }
    }

    fn send(&mut self, from_a: bool, n: u16) {
        let len = usize::from(n & 0x7ff) + 1;
        let msg = OutMessage {
            stream_id: (n >> 11) & 1,
            ppid: u32::from(n),
            unordered: n >> 12 != 0,
            data: vec![n as u8; len],
            context: 0,
            // Sometimes to an address that is no path (the data path then).
            path: (n & 0x8000 != 0).then(|| std::net::Ipv4Addr::new(10, 9, 9, 9).into()),
        };
        let now = self.p.now;
        // Refusals (closed association, full buffer) are fine.
        let _ = if from_a {
            self.p.a.send(now, self.a_id, msg)
        } else {
            self.p.z.send(now, self.z_id, msg)
        };
        self.p.run_for(STEP);
    }

    fn drain(&mut self) {
        while self.p.a.recv(self.a_id).is_some() {}
        while self.p.z.recv(self.z_id).is_some() {}
        self.p.run_for(STEP);
    }

    fn app(&mut self, n: u16) {
        let now = self.p.now;
        match n & 7 {
            0 => {
                if let Some(a) = self.p.a.assoc_mut(self.a_id) {
                    a.shutdown(now);
                }
            }
            1 => {
                if let Some(a) = self.p.z.assoc_mut(self.z_id) {
                    a.shutdown(now);
                }
            }
            2 => {
                if let Some(a) = self.p.a.assoc_mut(self.a_id) {
                    a.abort(now, b"fuzz");
                }
            }
            3 => {
                if let Some(a) = self.p.z.assoc_mut(self.z_id) {
                    a.abort(now, b"fuzz");
                }
            }
            4 => self.p.link.loss = f64::from((n >> 3) % 4) / 10.0,
            5 => {
                let on = self.p.link.dup == 0.0;
                self.p.link.dup = if on { 0.1 } else { 0.0 };
                self.p.link.reorder = if on { 0.3 } else { 0.0 };
            }
            6 => self.reconnect(),
            _ => {
                self.p.drop_filter = match (n >> 3) % 3 {
                    0 => None,
                    1 => Some(Box::new(|side, packet: &Packet| {
                        side == Side::Z && packet.chunks.iter().any(|c| matches!(c, Chunk::Sack(_)))
                    })),
                    _ => Some(Box::new(|side, _: &Packet| side == Side::Z)),
                };
            }
        }
        self.p.run_for(STEP);
    }

    /// Forgets closed associations on both sides; if A has none left, A
    /// connects again (a new handshake, new tags).
    fn reconnect(&mut self) {
        let closed = |e: &sctpshim::proto::endpoint::Endpoint| -> Vec<AssocId> {
            e.assoc_ids()
                .filter(|&id| e.assoc(id).is_some_and(|a| a.is_closed()))
                .collect()
        };
        for id in closed(&self.p.a) {
            self.p.a.release(id);
        }
        for id in closed(&self.p.z) {
            self.p.z.release(id);
        }
        if self.p.a.assoc_ids().next().is_none() {
            let now = self.p.now;
            if let Ok(id) = self.p.a.connect(now, self.p.z_addr, self.p.z_addr.port()) {
                self.a_id = id;
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut w = World::new();
    let mut rest = data;
    for _ in 0..MAX_RECORDS {
        let Some((head, tail)) = rest.split_first_chunk::<2>() else {
            break;
        };
        let h = u16::from_be_bytes(*head);
        let (op, n) = (h >> 13, h & 0x1fff);
        rest = tail;
        let mut take = |len: usize| {
            let (body, tail) = rest.split_at(len.min(rest.len()).min(MAX_CHUNK_BYTES));
            rest = tail;
            body
        };
        w.refresh_tags();
        let (z_tag, a_tag) = w.tags;
        match op {
            0 | 1 => {
                let chunks = take(usize::from(n));
                w.inject(z_tag, chunks, op == 1);
            }
            2 => {
                let body = take(usize::from(n));
                let (sel, chunks) = match body.split_first() {
                    Some((&sel, chunks)) => (sel, chunks),
                    None => (0, body),
                };
                let (tag, chunks) = match sel & 3 {
                    0 => (z_tag, chunks),
                    1 => (a_tag, chunks),
                    2 => (0, chunks),
                    _ => match chunks.split_first_chunk::<4>() {
                        Some((t, c)) => (u32::from_be_bytes(*t), c),
                        None => (z_tag, chunks),
                    },
                };
                w.inject(tag, chunks, false);
            }
            3 => w.wait(n),
            4 => w.send(true, n),
            5 => w.send(false, n),
            6 => w.drain(),
            _ => w.app(n),
        }
        if tracing() {
            w.dump(&format!("op {op} n {n}"));
        }
    }
    w.p.run_for(Duration::from_secs(90));
    w.drain();
});
