//! Reassembly of DATA fragments into user messages and per-stream ordered
//! delivery (RFC 9260 §6.5, §6.6, §6.9).
//!
//! Two layers, kept apart so that each can be swapped or extended:
//!
//! * [`TsnAssembler`] turns DATA fragments into complete messages. With DATA
//!   a message is a run of consecutive TSNs from a B fragment to an E one.
//!   I-DATA (RFC 8260) identifies fragments by (stream, MID, FSN) instead;
//!   it will get a sibling assembler feeding the same delivery layer.
//! * [`Reassembly`] orders complete messages per stream by SSN and queues
//!   them for the application. Partial delivery (RFC 9260 §6.9, handing out
//!   the head of a large message early) would hook in here: the fragments of
//!   a stream's next expected message can be found in the assembler by
//!   their TSN index.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::ranges::RangeSet;
use super::unwrap::TsnUnwrapper;
use crate::proto::serial::{Ssn, Tsn};
use crate::proto::wire::DataChunk;

/// A complete user message, ready for the application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Stream the message arrived on.
    pub stream_id: u16,
    /// Stream sequence number; meaningless for unordered messages.
    pub ssn: u16,
    /// Payload protocol identifier, taken from the first fragment.
    pub ppid: u32,
    /// Whether the peer sent it unordered (U bit).
    pub unordered: bool,
    /// TSN of the first fragment, e.g. for diagnostics or partial-reliability
    /// bookkeeping.
    pub first_tsn: Tsn,
    /// The whole user message, or one piece of it under partial delivery.
    pub data: Vec<u8>,
    /// Partial delivery (§6.9, RFC 6458 §8.1.21): more pieces of this
    /// message follow (false for whole messages and for the last piece).
    pub more: bool,
}

/// A fragment waiting for the rest of its message.
#[derive(Debug)]
struct Fragment {
    unordered: bool,
    stream_id: u16,
    ssn: u16,
    ppid: u32,
    payload: Vec<u8>,
}

impl Fragment {
    /// Whether `other` can belong to the same message as `self`. Fragments
    /// of one DATA message share stream and U bit, and ordered ones share
    /// the SSN too (RFC 9260 §6.9).
    fn same_message(&self, other: &Fragment) -> bool {
        self.stream_id == other.stream_id
            && self.unordered == other.unordered
            && (self.unordered || self.ssn == other.ssn)
    }
}

/// Why the assembler refused input; the peer broke RFC 9260 either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Violation {
    /// The TSN is already buffered.
    DuplicateTsn,
    /// A B..E run mixes streams, SSNs or U bits.
    InconsistentFragments,
}

/// Assembles DATA fragments, indexed by unwrapped TSN.
///
/// Every index is a sorted map, so an insert costs O(log n) and completing
/// a message costs O(fragments in it), independent of how many other
/// fragments are buffered.
#[derive(Debug, Default)]
struct TsnAssembler {
    // Created on the first fragment: the assembler does not know the peer's
    // initial TSN, and any buffered TSN is within the window of any other.
    unwrapper: Option<TsnUnwrapper>,
    fragments: BTreeMap<u64, Fragment>,
    // The keys of `fragments` as runs, to test "is B..E all here" at once.
    present: RangeSet,
    // Keys of fragments carrying the B resp. E bit.
    begins: BTreeSet<u64>,
    ends: BTreeSet<u64>,
    bytes: usize,
}

impl TsnAssembler {
    /// Buffers `chunk` and returns the message it completes, if any.
    fn insert(&mut self, chunk: DataChunk) -> Result<Option<Message>, Violation> {
        let DataChunk {
            unordered,
            beginning,
            ending,
            tsn,
            stream_id,
            ssn,
            ppid,
            payload,
            ..
        } = chunk;
        let tsn = Tsn(tsn);
        let key = self
            .unwrapper
            .get_or_insert_with(|| TsnUnwrapper::new(tsn))
            .unwrap(tsn);
        if self.present.contains(key) {
            return Err(Violation::DuplicateTsn);
        }
        if beginning && ending {
            // The common case skips the indexes entirely.
            return Ok(Some(Message {
                stream_id,
                ssn,
                ppid,
                unordered,
                first_tsn: tsn,
                data: payload,
                more: false,
            }));
        }
        self.bytes = self.bytes.saturating_add(payload.len());
        self.present.insert(key);
        if beginning {
            self.begins.insert(key);
        }
        if ending {
            self.ends.insert(key);
        }
        self.fragments.insert(
            key,
            Fragment {
                unordered,
                stream_id,
                ssn,
                ppid,
                payload,
            },
        );
        self.try_complete(key)
    }

    /// Checks whether the fragment at `key` completed its message.
    ///
    /// Only the neighbourhood of `key` matters: the message containing it
    /// must start at the nearest B at or before it and end at the nearest E
    /// at or after it, with no other B or E in between and no hole.
    fn try_complete(&mut self, key: u64) -> Result<Option<Message>, Violation> {
        let Some(&b) = self.begins.range(..=key).next_back() else {
            return Ok(None);
        };
        let Some(&e) = self.ends.range(key..).next() else {
            return Ok(None);
        };
        // b <= key <= e by construction, so these ranges are well-formed.
        if self.ends.range(b..key).next().is_some() {
            return Ok(None);
        }
        let after = (std::ops::Bound::Excluded(key), std::ops::Bound::Included(e));
        if self.begins.range(after).next().is_some() {
            return Ok(None);
        }
        match self.present.containing(key) {
            Some((s, end)) if s <= b && e <= end => self.take(b, e).map(Some),
            _ => Ok(None),
        }
    }

    /// Removes the complete run `b..=e` and joins it into a message.
    fn take(&mut self, b: u64, e: u64) -> Result<Message, Violation> {
        self.present.remove_span(b, e);
        self.begins.remove(&b);
        self.ends.remove(&e);
        let total: usize = self
            .fragments
            .range(b..=e)
            .map(|(_, f)| f.payload.len())
            .sum();
        self.bytes = self.bytes.saturating_sub(total);
        let Some(first) = self.fragments.remove(&b) else {
            // Unreachable while `present` mirrors `fragments`; refuse rather
            // than panic if that ever breaks.
            return Err(Violation::InconsistentFragments);
        };
        let mut data = Vec::with_capacity(total);
        data.extend_from_slice(&first.payload);
        let mut consistent = true;
        // Removing key by key keeps this O(k log n) rather than rebuilding
        // the map around the run.
        let mut k = b;
        while k < e {
            k += 1;
            if let Some(f) = self.fragments.remove(&k) {
                consistent &= first.same_message(&f);
                if consistent {
                    data.extend_from_slice(&f.payload);
                }
            }
        }
        if !consistent {
            return Err(Violation::InconsistentFragments);
        }
        Ok(Message {
            stream_id: first.stream_id,
            ssn: first.ssn,
            ppid: first.ppid,
            unordered: first.unordered,
            first_tsn: TsnUnwrapper::wrap(b),
            data,
            more: false,
        })
    }

    /// Partial delivery: takes the fragments present from `from` on, up to
    /// and including an E fragment or the first hole (never across another
    /// message's B). Returns their joined payload, whether the E was among
    /// them, and the key of the next fragment of the message.
    fn take_run(&mut self, from: u64) -> (Vec<u8>, bool, u64) {
        let mut data = Vec::new();
        let mut k = from;
        loop {
            if !self.present.contains(k) || (k != from && self.begins.contains(&k)) {
                return (data, false, k);
            }
            let Some(f) = self.fragments.remove(&k) else {
                return (data, false, k);
            };
            self.present.remove_span(k, k);
            self.begins.remove(&k);
            let end = self.ends.remove(&k);
            self.bytes = self.bytes.saturating_sub(f.payload.len());
            data.extend_from_slice(&f.payload);
            k += 1;
            if end {
                return (data, true, k);
            }
        }
    }
}

/// The message under partial delivery: what its next piece continues.
#[derive(Debug)]
struct Partial {
    next_key: u64,
    stream_id: u16,
    ssn: u16,
    ppid: u32,
    unordered: bool,
    first_tsn: Tsn,
}

/// Per-stream ordered delivery state.
#[derive(Debug, Default)]
struct InStream {
    /// SSN of the next ordered message the application may see.
    next_ssn: Ssn,
    /// Complete ordered messages waiting for an earlier SSN, keyed by SSN.
    /// Lookups are by exact SSN, so the wrap does not matter here.
    pending: BTreeMap<u16, Message>,
}

/// Reassembles DATA chunks into messages and releases them in the order
/// RFC 9260 requires: ordered messages in SSN order per stream, unordered
/// ones as soon as complete, with no blocking across streams.
#[derive(Debug)]
pub struct Reassembly {
    assembler: TsnAssembler,
    streams: Vec<InStream>,
    ready: VecDeque<Message>,
    /// Bytes in `ready`, `held_back` and in every stream's `pending`.
    held: usize,
    violations: u64,
    /// The message being delivered in pieces, if any.
    partial: Option<Partial>,
    /// Messages that became deliverable during a partial delivery: they
    /// follow its last piece (no interleaving, as Linux's default
    /// SCTP_FRAGMENT_INTERLEAVE 0).
    held_back: VecDeque<Message>,
}

impl Reassembly {
    /// A reassembler for `inbound_streams` streams (ids `0..inbound_streams`),
    /// each expecting SSN 0 first.
    pub fn new(inbound_streams: u16) -> Self {
        let mut streams = Vec::new();
        streams.resize_with(usize::from(inbound_streams), InStream::default);
        Self {
            assembler: TsnAssembler::default(),
            streams,
            ready: VecDeque::new(),
            held: 0,
            violations: 0,
            partial: None,
            held_back: VecDeque::new(),
        }
    }

    /// Starts partial delivery when fragments of incomplete messages hold
    /// `threshold` bytes or more: the first message that is next in its
    /// stream (or unordered) and has its B fragment hands out what it has.
    pub fn start_partial(&mut self, threshold: usize) {
        if self.partial.is_some() || self.assembler.bytes < threshold.max(1) {
            return;
        }
        let candidate = self.assembler.begins.iter().copied().find(|b| {
            self.assembler.fragments.get(b).is_some_and(|f| {
                f.unordered
                    || self
                        .streams
                        .get(usize::from(f.stream_id))
                        .is_some_and(|st| st.next_ssn.0 == f.ssn)
            })
        });
        let Some(b) = candidate else { return };
        let Some(f) = self.assembler.fragments.get(&b) else {
            return;
        };
        self.partial = Some(Partial {
            next_key: b,
            stream_id: f.stream_id,
            ssn: f.ssn,
            ppid: f.ppid,
            unordered: f.unordered,
            first_tsn: TsnUnwrapper::wrap(b),
        });
        self.continue_partial();
    }

    /// Whether a message is being delivered in pieces.
    pub fn in_partial(&self) -> bool {
        self.partial.is_some()
    }

    /// Hands out the next contiguous fragments of the partial message.
    fn continue_partial(&mut self) {
        let Some(p) = self.partial.as_mut() else {
            return;
        };
        let (data, ended, next) = self.assembler.take_run(p.next_key);
        p.next_key = next;
        if data.is_empty() && !ended {
            return;
        }
        let piece = Message {
            stream_id: p.stream_id,
            ssn: p.ssn,
            ppid: p.ppid,
            unordered: p.unordered,
            first_tsn: p.first_tsn,
            data,
            more: !ended,
        };
        self.held = self.held.saturating_add(piece.data.len());
        self.ready.push_back(piece);
        if !ended {
            return;
        }
        let Some(p) = self.partial.take() else { return };
        if !p.unordered
            && let Some(stream) = self.streams.get_mut(usize::from(p.stream_id))
        {
            stream.next_ssn = Ssn(p.ssn).next();
            while let Some(next) = stream.pending.remove(&stream.next_ssn.0) {
                stream.next_ssn = stream.next_ssn.next();
                self.held_back.push_back(next);
            }
        }
        self.ready.append(&mut self.held_back);
    }

    /// Buffers a DATA chunk, releasing any messages it makes deliverable.
    ///
    /// Preconditions (the association checks them, see RFC 9260 §6.2 and
    /// §3.3.1): `chunk.tsn` is new (not received before, e.g. per
    /// `TsnTracker::on_tsn`) and within the receive window, and
    /// `chunk.stream_id` is below `inbound_streams`. Input violating them,
    /// or fragments that contradict each other, never panics: it is dropped
    /// and counted in [`protocol_violations`](Self::protocol_violations).
    pub fn insert(&mut self, chunk: DataChunk) {
        if usize::from(chunk.stream_id) >= self.streams.len() {
            self.violations += 1;
            return;
        }
        match self.assembler.insert(chunk) {
            Ok(Some(msg)) => self.deliver(msg),
            Ok(None) => {}
            Err(_) => self.violations += 1,
        }
        if self.partial.is_some() {
            self.continue_partial();
        }
    }

    /// The next message for the application, in the order messages became
    /// deliverable.
    pub fn pop_message(&mut self) -> Option<Message> {
        let msg = self.ready.pop_front()?;
        self.held = self.held.saturating_sub(msg.data.len());
        Some(msg)
    }

    /// Payload bytes held: fragments, complete messages waiting for an
    /// earlier SSN, and messages ready but not yet popped. This is what the
    /// advertised receive window must subtract.
    pub fn buffered_bytes(&self) -> usize {
        self.assembler.bytes.saturating_add(self.held)
    }

    /// Whether [`pop_message`](Self::pop_message) would return a message.
    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// How many chunks or messages were dropped because the peer broke the
    /// protocol (duplicate TSN, unknown stream, fragments of one run that
    /// disagree on stream/SSN/U bit, a reused or stale SSN). The association
    /// may abort when this grows.
    pub fn protocol_violations(&self) -> u64 {
        self.violations
    }

    /// Queues a complete message, or parks it until its SSN comes up.
    fn deliver(&mut self, msg: Message) {
        let len = msg.data.len();
        let out = if self.partial.is_some() {
            &mut self.held_back
        } else {
            &mut self.ready
        };
        if msg.unordered {
            self.held = self.held.saturating_add(len);
            out.push_back(msg);
            return;
        }
        let Some(stream) = self.streams.get_mut(usize::from(msg.stream_id)) else {
            self.violations += 1;
            return;
        };
        let ssn = Ssn(msg.ssn);
        if ssn == stream.next_ssn {
            self.held = self.held.saturating_add(len);
            stream.next_ssn = ssn.next();
            out.push_back(msg);
            // Held bytes of parked messages were already counted.
            while let Some(next) = stream.pending.remove(&stream.next_ssn.0) {
                stream.next_ssn = stream.next_ssn.next();
                out.push_back(next);
            }
        } else if ssn.lt(stream.next_ssn) || stream.pending.contains_key(&ssn.0) {
            // Already delivered, or a second message claiming a parked SSN:
            // keeping it would hand the application a message twice or out
            // of order.
            self.violations += 1;
        } else {
            self.held = self.held.saturating_add(len);
            stream.pending.insert(ssn.0, msg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a DATA chunk; `flags` is "B", "E", "BE" or "" (middle), plus
    /// "U" for unordered.
    fn chunk(tsn: u32, sid: u16, ssn: u16, flags: &str, payload: &[u8]) -> DataChunk {
        DataChunk {
            immediate: false,
            unordered: flags.contains('U'),
            beginning: flags.contains('B'),
            ending: flags.contains('E'),
            tsn,
            stream_id: sid,
            ssn,
            ppid: 0x5050 + u32::from(sid),
            payload: payload.to_vec(),
        }
    }

    /// Fragments `data` into chunks of `size` bytes from `first_tsn`.
    fn fragments(
        first_tsn: u32,
        sid: u16,
        ssn: u16,
        unordered: bool,
        data: &[u8],
        size: usize,
    ) -> Vec<DataChunk> {
        let pieces: Vec<&[u8]> = if data.is_empty() {
            vec![&[][..]]
        } else {
            data.chunks(size).collect()
        };
        let n = pieces.len();
        pieces
            .into_iter()
            .enumerate()
            .map(|(i, p)| DataChunk {
                immediate: false,
                unordered,
                beginning: i == 0,
                ending: i + 1 == n,
                tsn: first_tsn.wrapping_add(i as u32),
                stream_id: sid,
                ssn,
                ppid: 7,
                payload: p.to_vec(),
            })
            .collect()
    }

    fn drain(r: &mut Reassembly) -> Vec<Message> {
        std::iter::from_fn(|| r.pop_message()).collect()
    }

    fn ids(msgs: &[Message]) -> Vec<(u16, u16)> {
        msgs.iter().map(|m| (m.stream_id, m.ssn)).collect()
    }

    struct XorShift(u64);
    impl XorShift {
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

    fn pattern(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    #[test]
    fn empty_has_nothing() {
        let mut r = Reassembly::new(4);
        assert!(!r.has_ready());
        assert_eq!(r.pop_message(), None);
        assert_eq!(r.buffered_bytes(), 0);
        assert_eq!(r.protocol_violations(), 0);
    }

    #[test]
    fn partial_delivery_hands_out_pieces_in_order_and_holds_others_back() {
        let mut r = Reassembly::new(2);
        let data = pattern(1000, 3);
        let frags = fragments(100, 0, 0, false, &data, 100);
        // Fragments 0..4 arrive, then partial delivery starts.
        for c in frags[..4].iter().cloned() {
            r.insert(c);
        }
        r.start_partial(300);
        assert!(r.in_partial());
        // A complete message on stream 1 meanwhile waits for the last piece.
        r.insert(chunk(200, 1, 0, "BE", b"other"));
        // A hole at fragment 5: only fragment 4's successor run is handed on.
        r.insert(frags[5].clone());
        r.insert(frags[4].clone());
        for c in frags[6..].iter().cloned() {
            r.insert(c);
        }
        let got = drain(&mut r);
        assert!(!r.in_partial());
        let (pieces, rest) = got.split_at(got.len() - 1);
        assert!(pieces.len() >= 2 && pieces[..pieces.len() - 1].iter().all(|m| m.more));
        assert!(!pieces.last().unwrap().more);
        let joined: Vec<u8> = pieces.iter().flat_map(|m| m.data.clone()).collect();
        assert_eq!(joined, data);
        assert_eq!(rest[0].data, b"other");
        assert_eq!(r.buffered_bytes(), 0);
    }

    #[test]
    fn partial_delivery_waits_for_the_next_ssn() {
        let mut r = Reassembly::new(1);
        // SSN 1's fragments are plenty, but SSN 0 is still missing.
        for c in fragments(10, 0, 1, false, &pattern(500, 1), 100)
            .into_iter()
            .take(4)
        {
            r.insert(c);
        }
        r.start_partial(100);
        assert!(!r.in_partial() && !r.has_ready());
        r.insert(chunk(9, 0, 0, "BE", b"first"));
        r.start_partial(100);
        assert!(r.in_partial());
        let got = drain(&mut r);
        assert_eq!(got[0].data, b"first");
        assert!(got[1].more && got[1].data.len() == 400);
    }

    #[test]
    fn single_unfragmented_message() {
        let mut r = Reassembly::new(1);
        r.insert(chunk(10, 0, 0, "BE", b"hello"));
        assert!(r.has_ready());
        let m = r.pop_message().expect("message");
        assert_eq!(
            m,
            Message {
                stream_id: 0,
                ssn: 0,
                ppid: 0x5050,
                unordered: false,
                first_tsn: Tsn(10),
                data: b"hello".to_vec(),
                more: false,
            }
        );
        assert!(!r.has_ready());
    }

    #[test]
    fn first_expected_ssn_is_zero() {
        let mut r = Reassembly::new(1);
        r.insert(chunk(1, 0, 1, "BE", b"one"));
        assert!(!r.has_ready());
        r.insert(chunk(2, 0, 0, "BE", b"zero"));
        assert_eq!(ids(&drain(&mut r)), vec![(0, 0), (0, 1)]);
    }

    #[test]
    fn ordered_in_order() {
        let mut r = Reassembly::new(1);
        for i in 0..5u16 {
            r.insert(chunk(100 + u32::from(i), 0, i, "BE", &[i as u8]));
            let m = r.pop_message().expect("delivered immediately");
            assert_eq!(m.ssn, i);
            assert_eq!(m.data, vec![i as u8]);
        }
    }

    #[test]
    fn ordered_out_of_order_waits() {
        let mut r = Reassembly::new(1);
        r.insert(chunk(3, 0, 2, "BE", b"c"));
        r.insert(chunk(2, 0, 1, "BE", b"b"));
        assert!(!r.has_ready());
        r.insert(chunk(1, 0, 0, "BE", b"a"));
        let got = drain(&mut r);
        assert_eq!(ids(&got), vec![(0, 0), (0, 1), (0, 2)]);
        assert_eq!(got[2].data, b"c");
    }

    #[test]
    fn fragmented_in_order() {
        let mut r = Reassembly::new(1);
        r.insert(chunk(1, 0, 0, "B", b"ab"));
        r.insert(chunk(2, 0, 0, "", b"cd"));
        assert!(!r.has_ready());
        r.insert(chunk(3, 0, 0, "E", b"ef"));
        let m = r.pop_message().expect("complete");
        assert_eq!(m.data, b"abcdef");
        assert_eq!(m.first_tsn, Tsn(1));
    }

    #[test]
    fn fragmented_reverse() {
        let mut r = Reassembly::new(1);
        r.insert(chunk(3, 0, 0, "E", b"ef"));
        r.insert(chunk(2, 0, 0, "", b"cd"));
        assert!(!r.has_ready());
        r.insert(chunk(1, 0, 0, "B", b"ab"));
        assert_eq!(r.pop_message().expect("complete").data, b"abcdef");
    }

    #[test]
    fn fragmented_middle_last() {
        let mut r = Reassembly::new(1);
        r.insert(chunk(1, 0, 0, "B", b"ab"));
        r.insert(chunk(3, 0, 0, "E", b"ef"));
        assert!(!r.has_ready());
        r.insert(chunk(2, 0, 0, "", b"cd"));
        assert_eq!(r.pop_message().expect("complete").data, b"abcdef");
    }

    #[test]
    fn two_fragments_only() {
        let mut r = Reassembly::new(1);
        r.insert(chunk(8, 0, 0, "E", b"2"));
        r.insert(chunk(7, 0, 0, "B", b"1"));
        assert_eq!(r.pop_message().expect("complete").data, b"12");
    }

    #[test]
    fn adjacent_messages_complete_separately() {
        let mut r = Reassembly::new(1);
        // A = TSN 1..=3 (SSN 0), B = TSN 4..=6 (SSN 1).
        for c in [
            chunk(1, 0, 0, "B", b"a1"),
            chunk(3, 0, 0, "E", b"a3"),
            chunk(4, 0, 1, "B", b"b4"),
            chunk(6, 0, 1, "E", b"b6"),
        ] {
            r.insert(c);
        }
        assert!(!r.has_ready());
        r.insert(chunk(5, 0, 1, "", b"b5"));
        // B is complete but waits for SSN 0.
        assert!(!r.has_ready());
        r.insert(chunk(2, 0, 0, "", b"a2"));
        let got = drain(&mut r);
        assert_eq!(got[0].data, b"a1a2a3");
        assert_eq!(got[1].data, b"b4b5b6");
    }

    #[test]
    fn end_of_one_and_start_of_next_arrive_first() {
        let mut r = Reassembly::new(1);
        r.insert(chunk(3, 0, 0, "E", b"3"));
        r.insert(chunk(4, 0, 1, "B", b"4"));
        r.insert(chunk(1, 0, 0, "B", b"1"));
        r.insert(chunk(2, 0, 0, "", b"2"));
        let got = drain(&mut r);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].data, b"123");
        r.insert(chunk(5, 0, 1, "E", b"5"));
        assert_eq!(r.pop_message().expect("second").data, b"45");
    }

    #[test]
    fn unfragmented_between_fragmented() {
        let mut r = Reassembly::new(1);
        r.insert(chunk(1, 0, 0, "B", b"a"));
        r.insert(chunk(3, 0, 1, "BE", b"single"));
        r.insert(chunk(5, 0, 2, "E", b"z"));
        r.insert(chunk(4, 0, 2, "B", b"y"));
        assert!(!r.has_ready());
        r.insert(chunk(2, 0, 0, "E", b"b"));
        let got = drain(&mut r);
        assert_eq!(ids(&got), vec![(0, 0), (0, 1), (0, 2)]);
        assert_eq!(got[0].data, b"ab");
        assert_eq!(got[1].data, b"single");
        assert_eq!(got[2].data, b"yz");
    }

    #[test]
    fn ppid_and_first_tsn_from_first_fragment() {
        let mut r = Reassembly::new(1);
        let mut c = fragments(40, 0, 0, false, b"abcdefgh", 3);
        c[0].ppid = 99;
        c[1].ppid = 1;
        c[2].ppid = 2;
        c.reverse();
        for x in c {
            r.insert(x);
        }
        let m = r.pop_message().expect("complete");
        assert_eq!(m.ppid, 99);
        assert_eq!(m.first_tsn, Tsn(40));
        assert_eq!(m.data, b"abcdefgh");
    }

    #[test]
    fn empty_payload_message() {
        let mut r = Reassembly::new(1);
        r.insert(chunk(1, 0, 0, "BE", b""));
        let m = r.pop_message().expect("message");
        assert!(m.data.is_empty());
        assert_eq!(r.buffered_bytes(), 0);
    }

    #[test]
    fn unordered_delivered_immediately() {
        let mut r = Reassembly::new(1);
        r.insert(chunk(1, 0, 77, "BEU", b"u"));
        let m = r.pop_message().expect("unordered");
        assert!(m.unordered);
        assert_eq!(m.data, b"u");
    }

    #[test]
    fn unordered_overtakes_blocked_ordered() {
        let mut r = Reassembly::new(1);
        r.insert(chunk(2, 0, 1, "BE", b"ordered1"));
        r.insert(chunk(3, 0, 0, "BEU", b"unordered"));
        let got = drain(&mut r);
        assert_eq!(got.len(), 1);
        assert!(got[0].unordered);
        r.insert(chunk(1, 0, 0, "BE", b"ordered0"));
        let got = drain(&mut r);
        assert_eq!(ids(&got), vec![(0, 0), (0, 1)]);
    }

    #[test]
    fn unordered_does_not_consume_ssn() {
        let mut r = Reassembly::new(1);
        r.insert(chunk(1, 0, 0, "BEU", b"u"));
        r.insert(chunk(2, 0, 0, "BE", b"o"));
        let got = drain(&mut r);
        assert_eq!(got.len(), 2);
        assert!(got[0].unordered);
        assert!(!got[1].unordered);
        assert_eq!(r.streams[0].next_ssn, Ssn(1));
    }

    #[test]
    fn unordered_fragmented_shuffled() {
        let mut r = Reassembly::new(1);
        let data = pattern(100, 3);
        let mut c = fragments(500, 0, 0, true, &data, 7);
        XorShift(99).shuffle(&mut c);
        let n = c.len();
        for (i, x) in c.into_iter().enumerate() {
            r.insert(x);
            assert_eq!(r.has_ready(), i + 1 == n);
        }
        let m = r.pop_message().expect("complete");
        assert!(m.unordered);
        assert_eq!(m.data, data);
    }

    #[test]
    fn unordered_messages_with_same_ssn() {
        let mut r = Reassembly::new(1);
        r.insert(chunk(1, 0, 5, "BEU", b"x"));
        r.insert(chunk(2, 0, 5, "BEU", b"y"));
        assert_eq!(drain(&mut r).len(), 2);
        assert_eq!(r.protocol_violations(), 0);
    }

    #[test]
    fn streams_do_not_block_each_other() {
        let mut r = Reassembly::new(3);
        // Stream 0 misses SSN 0; streams 1 and 2 are fine.
        r.insert(chunk(2, 0, 1, "BE", b"s0m1"));
        r.insert(chunk(3, 1, 0, "BE", b"s1m0"));
        r.insert(chunk(4, 2, 0, "BE", b"s2m0"));
        r.insert(chunk(5, 1, 1, "BE", b"s1m1"));
        assert_eq!(ids(&drain(&mut r)), vec![(1, 0), (2, 0), (1, 1)]);
        r.insert(chunk(1, 0, 0, "BE", b"s0m0"));
        assert_eq!(ids(&drain(&mut r)), vec![(0, 0), (0, 1)]);
    }

    #[test]
    fn interleaved_fragmented_streams() {
        let mut r = Reassembly::new(2);
        let a = fragments(10, 0, 0, false, &pattern(20, 1), 5); // TSN 10..=13
        let b = fragments(14, 1, 0, false, &pattern(15, 2), 5); // TSN 14..=16
        // Deliver B's fragments and all but A's first.
        for c in b.iter().chain(a.iter().skip(1)) {
            r.insert(c.clone());
        }
        let got = drain(&mut r);
        assert_eq!(ids(&got), vec![(1, 0)]);
        assert_eq!(got[0].data, pattern(15, 2));
        r.insert(a[0].clone());
        let got = drain(&mut r);
        assert_eq!(got[0].data, pattern(20, 1));
    }

    #[test]
    fn ready_order_is_completion_order() {
        let mut r = Reassembly::new(4);
        r.insert(chunk(4, 3, 0, "BE", b"d"));
        r.insert(chunk(1, 2, 0, "B", b"c"));
        r.insert(chunk(3, 0, 0, "BE", b"a"));
        r.insert(chunk(2, 2, 0, "E", b"c"));
        assert_eq!(ids(&drain(&mut r)), vec![(3, 0), (0, 0), (2, 0)]);
    }

    #[test]
    fn many_streams() {
        let streams = 1000u16;
        let mut r = Reassembly::new(streams);
        let mut chunks = Vec::new();
        let mut tsn = 1u32;
        for ssn in 0..3u16 {
            for sid in 0..streams {
                let data = pattern(10, (sid as u8) ^ (ssn as u8));
                chunks.extend(fragments(tsn, sid, ssn, false, &data, 4));
                tsn += 3;
            }
        }
        XorShift(7).shuffle(&mut chunks);
        for c in chunks {
            r.insert(c);
        }
        let got = drain(&mut r);
        assert_eq!(got.len(), 3000);
        let mut next = vec![0u16; usize::from(streams)];
        for m in &got {
            assert_eq!(m.ssn, next[usize::from(m.stream_id)]);
            next[usize::from(m.stream_id)] += 1;
            assert_eq!(m.data, pattern(10, (m.stream_id as u8) ^ (m.ssn as u8)));
        }
        assert_eq!(r.buffered_bytes(), 0);
    }

    #[test]
    fn max_stream_id() {
        let mut r = Reassembly::new(u16::MAX);
        r.insert(chunk(1, u16::MAX - 1, 0, "BE", b"last"));
        assert_eq!(r.pop_message().expect("ok").stream_id, u16::MAX - 1);
        r.insert(chunk(2, u16::MAX, 0, "BE", b"beyond"));
        assert!(!r.has_ready());
        assert_eq!(r.protocol_violations(), 1);
    }

    #[test]
    fn invalid_stream_is_dropped() {
        let mut r = Reassembly::new(2);
        r.insert(chunk(1, 2, 0, "B", b"abc"));
        assert_eq!(r.buffered_bytes(), 0);
        assert_eq!(r.protocol_violations(), 1);
    }

    #[test]
    fn zero_streams_accepts_nothing() {
        let mut r = Reassembly::new(0);
        r.insert(chunk(1, 0, 0, "BEU", b"x"));
        assert!(!r.has_ready());
        assert_eq!(r.protocol_violations(), 1);
    }

    #[test]
    fn ssn_wraps_via_preset() {
        let mut r = Reassembly::new(1);
        r.streams[0].next_ssn = Ssn(65_534);
        r.insert(chunk(3, 0, 0, "BE", b"0"));
        r.insert(chunk(2, 0, 65_535, "BE", b"65535"));
        assert!(!r.has_ready());
        r.insert(chunk(1, 0, 65_534, "BE", b"65534"));
        assert_eq!(ids(&drain(&mut r)), vec![(0, 65_534), (0, 65_535), (0, 0)]);
        assert_eq!(r.streams[0].next_ssn, Ssn(1));
    }

    #[test]
    fn ssn_wraps_after_full_cycle() {
        let mut r = Reassembly::new(1);
        let mut tsn = Tsn(u32::MAX - 1000);
        for i in 0..=65_537u32 {
            let ssn = i as u16;
            r.insert(chunk(tsn.0, 0, ssn, "BE", &[ssn as u8]));
            tsn = tsn.next();
            let m = r.pop_message().expect("in order");
            assert_eq!(m.ssn, ssn);
        }
        assert_eq!(r.streams[0].next_ssn, Ssn(2));
    }

    #[test]
    fn stale_ssn_is_dropped() {
        let mut r = Reassembly::new(1);
        r.insert(chunk(1, 0, 0, "BE", b"a"));
        r.insert(chunk(2, 0, 1, "BE", b"b"));
        drain(&mut r);
        r.insert(chunk(3, 0, 0, "BE", b"again"));
        assert!(!r.has_ready());
        assert_eq!(r.buffered_bytes(), 0);
        assert_eq!(r.protocol_violations(), 1);
    }

    #[test]
    fn reused_pending_ssn_is_dropped() {
        let mut r = Reassembly::new(1);
        r.insert(chunk(2, 0, 1, "BE", b"first"));
        r.insert(chunk(3, 0, 1, "BE", b"second"));
        assert_eq!(r.protocol_violations(), 1);
        assert_eq!(r.buffered_bytes(), 5);
        r.insert(chunk(1, 0, 0, "BE", b"z"));
        let got = drain(&mut r);
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].data, b"first");
    }

    #[test]
    fn duplicate_tsn_is_dropped() {
        let mut r = Reassembly::new(1);
        r.insert(chunk(1, 0, 0, "B", b"ab"));
        r.insert(chunk(1, 0, 0, "B", b"XX"));
        assert_eq!(r.protocol_violations(), 1);
        assert_eq!(r.buffered_bytes(), 2);
        r.insert(chunk(2, 0, 0, "E", b"cd"));
        assert_eq!(r.pop_message().expect("complete").data, b"abcd");
    }

    #[test]
    fn inconsistent_stream_in_run_is_dropped() {
        let mut r = Reassembly::new(2);
        r.insert(chunk(1, 0, 0, "B", b"a"));
        r.insert(chunk(2, 1, 0, "", b"b"));
        r.insert(chunk(3, 0, 0, "E", b"c"));
        assert!(!r.has_ready());
        assert_eq!(r.protocol_violations(), 1);
        assert_eq!(r.buffered_bytes(), 0);
        // The assembler is usable afterwards.
        r.insert(chunk(4, 0, 0, "BE", b"ok"));
        assert_eq!(r.pop_message().expect("ok").data, b"ok");
    }

    #[test]
    fn inconsistent_ssn_in_run_is_dropped() {
        let mut r = Reassembly::new(1);
        r.insert(chunk(1, 0, 0, "B", b"a"));
        r.insert(chunk(2, 0, 1, "E", b"b"));
        assert!(!r.has_ready());
        assert_eq!(r.protocol_violations(), 1);
    }

    #[test]
    fn inconsistent_u_bit_in_run_is_dropped() {
        let mut r = Reassembly::new(1);
        r.insert(chunk(1, 0, 0, "BU", b"a"));
        r.insert(chunk(2, 0, 0, "E", b"b"));
        assert!(!r.has_ready());
        assert_eq!(r.protocol_violations(), 1);
        assert_eq!(r.buffered_bytes(), 0);
    }

    #[test]
    fn unordered_run_ignores_ssn_field() {
        let mut r = Reassembly::new(1);
        r.insert(chunk(1, 0, 3, "BU", b"a"));
        r.insert(chunk(2, 0, 9, "EU", b"b"));
        assert_eq!(r.pop_message().expect("complete").data, b"ab");
        assert_eq!(r.protocol_violations(), 0);
    }

    #[test]
    fn orphan_fragments_stay_buffered() {
        let mut r = Reassembly::new(1);
        r.insert(chunk(5, 0, 0, "", b"mid"));
        r.insert(chunk(6, 0, 0, "E", b"end"));
        assert!(!r.has_ready());
        assert_eq!(r.buffered_bytes(), 6);
    }

    #[test]
    fn second_begin_inside_run_prevents_completion() {
        let mut r = Reassembly::new(1);
        r.insert(chunk(1, 0, 0, "B", b"a"));
        r.insert(chunk(2, 0, 0, "B", b"b"));
        r.insert(chunk(3, 0, 0, "E", b"c"));
        // 2..=3 is a well-formed message; 1 is an orphan.
        let m = r.pop_message().expect("inner run");
        assert_eq!(m.data, b"bc");
        assert_eq!(m.first_tsn, Tsn(2));
        assert_eq!(r.buffered_bytes(), 1);
    }

    #[test]
    fn end_inside_run_splits_it() {
        let mut r = Reassembly::new(1);
        r.insert(chunk(3, 0, 1, "E", b"c"));
        r.insert(chunk(2, 0, 1, "E", b"b"));
        r.insert(chunk(1, 0, 1, "B", b"a"));
        assert_eq!(r.pop_message(), None);
        // 1..=2 completed (SSN 1 parked: SSN 0 missing); 3 is an orphan.
        assert_eq!(r.buffered_bytes(), 3);
        r.insert(chunk(0, 0, 0, "BE", b"z"));
        let got = drain(&mut r);
        assert_eq!(got[1].data, b"ab");
    }

    #[test]
    fn tsn_wrap_within_message() {
        let data = pattern(50, 9);
        for order in 0..3 {
            let mut r = Reassembly::new(1);
            let mut c = fragments(u32::MAX - 4, 0, 0, false, &data, 5);
            assert_eq!(c.len(), 10);
            match order {
                0 => {}
                1 => c.reverse(),
                _ => XorShift(5).shuffle(&mut c),
            }
            for x in c {
                r.insert(x);
            }
            let m = r.pop_message().expect("complete");
            assert_eq!(m.data, data);
            assert_eq!(m.first_tsn, Tsn(u32::MAX - 4));
        }
    }

    #[test]
    fn tsn_wrap_between_messages() {
        let mut r = Reassembly::new(1);
        let a = fragments(u32::MAX - 1, 0, 0, false, b"aaaa", 2); // MAX-1, MAX
        let b = fragments(0, 0, 1, false, b"bbbb", 2); // 0, 1
        for x in b.into_iter().chain(a) {
            r.insert(x);
        }
        let got = drain(&mut r);
        assert_eq!(ids(&got), vec![(0, 0), (0, 1)]);
        assert_eq!(got[1].first_tsn, Tsn(0));
    }

    #[test]
    fn tsn_wrap_first_insert_after_zero() {
        // The first chunk seen is after the wrap; earlier fragments still
        // resolve behind it.
        let mut r = Reassembly::new(1);
        r.insert(chunk(1, 0, 0, "E", b"c"));
        r.insert(chunk(u32::MAX, 0, 0, "B", b"a"));
        r.insert(chunk(0, 0, 0, "", b"b"));
        assert_eq!(r.pop_message().expect("complete").data, b"abc");
    }

    #[test]
    fn large_message_reverse() {
        let data = pattern(10 * 1024 * 1024, 4);
        let mut c = fragments(1_000, 0, 0, false, &data, 1300);
        assert!(c.len() > 8000);
        c.reverse();
        let mut r = Reassembly::new(1);
        for x in c {
            r.insert(x);
        }
        let m = r.pop_message().expect("complete");
        assert!(m.data == data);
        assert_eq!(r.buffered_bytes(), 0);
    }

    #[test]
    fn large_message_shuffled_across_wrap() {
        let data = pattern(2 * 1024 * 1024, 8);
        let mut c = fragments(u32::MAX - 800, 0, 0, false, &data, 256);
        XorShift(123).shuffle(&mut c);
        let mut r = Reassembly::new(1);
        let n = c.len();
        for (i, x) in c.into_iter().enumerate() {
            r.insert(x);
            assert_eq!(r.has_ready(), i + 1 == n);
        }
        assert_eq!(r.buffered_bytes(), data.len());
        let m = r.pop_message().expect("complete");
        assert!(m.data == data);
        assert_eq!(r.buffered_bytes(), 0);
    }

    #[test]
    fn large_message_in_order() {
        let data = pattern(1024 * 1024, 1);
        let c = fragments(7, 0, 0, false, &data, 100);
        let mut r = Reassembly::new(1);
        for x in c {
            r.insert(x);
        }
        assert!(r.pop_message().expect("complete").data == data);
    }

    #[test]
    fn many_small_fragmented_messages_shuffled() {
        let mut r = Reassembly::new(1);
        let mut c = Vec::new();
        let mut tsn = 0u32;
        for ssn in 0..500u16 {
            let data = pattern(9, ssn as u8);
            c.extend(fragments(tsn, 0, ssn, false, &data, 3));
            tsn += 3;
        }
        XorShift(77).shuffle(&mut c);
        for x in c {
            r.insert(x);
        }
        let got = drain(&mut r);
        assert_eq!(got.len(), 500);
        for (i, m) in got.iter().enumerate() {
            assert_eq!(usize::from(m.ssn), i);
            assert_eq!(m.data, pattern(9, i as u8));
        }
    }

    #[test]
    fn buffered_bytes_counts_fragments() {
        let mut r = Reassembly::new(1);
        r.insert(chunk(1, 0, 0, "B", b"abc"));
        assert_eq!(r.buffered_bytes(), 3);
        r.insert(chunk(3, 0, 0, "E", b"de"));
        assert_eq!(r.buffered_bytes(), 5);
        r.insert(chunk(2, 0, 0, "", b"X"));
        // Now a ready message: same bytes, different place.
        assert_eq!(r.buffered_bytes(), 6);
        assert!(r.has_ready());
        r.pop_message();
        assert_eq!(r.buffered_bytes(), 0);
    }

    #[test]
    fn buffered_bytes_counts_pending_and_ready() {
        let mut r = Reassembly::new(2);
        r.insert(chunk(2, 0, 1, "BE", b"parked"));
        assert_eq!(r.buffered_bytes(), 6);
        r.insert(chunk(3, 1, 0, "BE", b"ready"));
        assert_eq!(r.buffered_bytes(), 11);
        r.pop_message();
        assert_eq!(r.buffered_bytes(), 6);
        r.insert(chunk(1, 0, 0, "BE", b"go"));
        assert_eq!(r.buffered_bytes(), 8);
        drain(&mut r);
        assert_eq!(r.buffered_bytes(), 0);
    }

    #[test]
    fn buffered_bytes_counts_unordered_ready() {
        let mut r = Reassembly::new(1);
        r.insert(chunk(1, 0, 0, "BEU", b"1234"));
        assert_eq!(r.buffered_bytes(), 4);
        r.pop_message();
        assert_eq!(r.buffered_bytes(), 0);
    }

    /// Arbitrary chunks must never panic, and the byte count must always
    /// equal what is actually held.
    #[test]
    fn garbage_never_panics() {
        for seed in 1..=30u64 {
            let mut rng = XorShift(seed.wrapping_mul(0x2545_F491_4F6C_DD1D));
            let mut r = Reassembly::new(4);
            let base = rng.next() as u32;
            let mut popped = 0usize;
            let mut fed = 0usize;
            for _ in 0..2000 {
                let tsn = if rng.below(20) == 0 {
                    rng.next() as u32
                } else {
                    base.wrapping_add(rng.below(200) as u32)
                };
                let len = rng.below(5) as usize;
                let c = DataChunk {
                    immediate: rng.below(2) == 0,
                    unordered: rng.below(4) == 0,
                    beginning: rng.below(3) == 0,
                    ending: rng.below(3) == 0,
                    tsn,
                    stream_id: rng.below(6) as u16,
                    ssn: rng.below(8) as u16,
                    ppid: 0,
                    payload: vec![1; len],
                };
                r.insert(c);
                fed += len;
                if rng.below(3) == 0
                    && let Some(m) = r.pop_message()
                {
                    popped += m.data.len();
                }
                assert!(r.buffered_bytes() <= fed - popped);
            }
        }
    }

    #[test]
    fn fragmented_messages_across_ssn_wrap() {
        let mut r = Reassembly::new(1);
        r.streams[0].next_ssn = Ssn(65_535);
        let a = fragments(10, 0, 65_535, false, b"last-before-wrap", 4);
        let b = fragments(14, 0, 0, false, b"first-after!", 4);
        for c in b.into_iter().rev().chain(a.into_iter().rev()) {
            r.insert(c);
        }
        let got = drain(&mut r);
        assert_eq!(ids(&got), vec![(0, 65_535), (0, 0)]);
        assert_eq!(got[0].data, b"last-before-wrap");
        assert_eq!(got[1].data, b"first-after!");
    }

    #[test]
    fn long_parked_chain_released_at_once() {
        let mut r = Reassembly::new(1);
        for ssn in (1..=50u16).rev() {
            r.insert(chunk(u32::from(ssn) + 1, 0, ssn, "BE", &[ssn as u8]));
        }
        assert!(!r.has_ready());
        assert_eq!(r.buffered_bytes(), 50);
        r.insert(chunk(1, 0, 0, "BE", &[0]));
        let got = drain(&mut r);
        assert_eq!(got.len(), 51);
        for (i, m) in got.iter().enumerate() {
            assert_eq!(usize::from(m.ssn), i);
        }
    }

    #[test]
    fn unordered_on_invalid_stream_is_dropped() {
        let mut r = Reassembly::new(1);
        r.insert(chunk(1, 1, 0, "BEU", b"x"));
        assert!(!r.has_ready());
        assert_eq!(r.protocol_violations(), 1);
    }

    #[test]
    fn three_streams_fragmented_shuffled() {
        let mut r = Reassembly::new(3);
        let mut c = Vec::new();
        let mut tsn = u32::MAX - 20;
        for ssn in 0..4u16 {
            for sid in 0..3u16 {
                let data = pattern(17, (sid * 10 + ssn) as u8);
                c.extend(fragments(tsn, sid, ssn, false, &data, 5));
                tsn = tsn.wrapping_add(4);
            }
        }
        XorShift(31).shuffle(&mut c);
        for x in c {
            r.insert(x);
        }
        let got = drain(&mut r);
        assert_eq!(got.len(), 12);
        for sid in 0..3u16 {
            let per: Vec<u16> = got
                .iter()
                .filter(|m| m.stream_id == sid)
                .map(|m| m.ssn)
                .collect();
            assert_eq!(per, vec![0, 1, 2, 3]);
        }
        for m in &got {
            assert_eq!(m.data, pattern(17, (m.stream_id * 10 + m.ssn) as u8));
        }
    }

    #[test]
    fn interleaved_pop_and_insert() {
        let mut r = Reassembly::new(1);
        r.insert(chunk(1, 0, 0, "BE", b"a"));
        r.insert(chunk(2, 0, 1, "B", b"b"));
        assert_eq!(r.pop_message().expect("a").data, b"a");
        assert!(r.pop_message().is_none());
        r.insert(chunk(3, 0, 1, "E", b"c"));
        assert_eq!(r.pop_message().expect("bc").data, b"bc");
        assert!(!r.has_ready());
    }

    #[test]
    fn has_ready_tracks_queue() {
        let mut r = Reassembly::new(1);
        r.insert(chunk(1, 0, 0, "BEU", b"a"));
        r.insert(chunk(2, 0, 0, "BEU", b"b"));
        assert!(r.has_ready());
        r.pop_message();
        assert!(r.has_ready());
        r.pop_message();
        assert!(!r.has_ready());
    }

    #[test]
    fn unordered_and_ordered_fragments_interleave_in_tsn_space() {
        let mut r = Reassembly::new(1);
        let o = fragments(1, 0, 0, false, b"ordered!", 3); // 1..=3
        let u = fragments(4, 0, 0, true, b"unordered", 3); // 4..=6
        r.insert(o[0].clone());
        for x in u.into_iter().rev() {
            r.insert(x);
        }
        let got = drain(&mut r);
        assert_eq!(got.len(), 1);
        assert!(got[0].unordered);
        r.insert(o[2].clone());
        r.insert(o[1].clone());
        assert_eq!(r.pop_message().expect("ordered").data, b"ordered!");
    }

    #[test]
    fn violation_does_not_disturb_other_buffers() {
        let mut r = Reassembly::new(2);
        r.insert(chunk(10, 1, 0, "B", b"keep"));
        r.insert(chunk(1, 0, 0, "B", b"a"));
        r.insert(chunk(2, 0, 5, "E", b"b")); // SSN mismatch
        assert_eq!(r.protocol_violations(), 1);
        assert_eq!(r.buffered_bytes(), 4);
        r.insert(chunk(11, 1, 0, "E", b"!"));
        assert_eq!(r.pop_message().expect("kept").data, b"keep!");
    }
}
