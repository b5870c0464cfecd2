//! Deterministic fuzz-style test: random and mutated-capture buffers must
//! never make a decoder panic, and whatever decodes must re-encode to
//! something that decodes to the same value.

use super::captures::all_captured_packets;
use super::{Chunk, ErrorCause, Packet, Param, decode_causes, decode_params};

/// xorshift64*: tiny, seedable, good enough to spread inputs around.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}

fn random_buffer(rng: &mut Rng) -> Vec<u8> {
    let len = rng.below(96);
    (0..len).map(|_| rng.byte()).collect()
}

/// A captured packet with a few targeted or random edits: the interesting
/// inputs are the ones that are *almost* valid.
fn mutate(rng: &mut Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut b = corpus[rng.below(corpus.len())].clone();
    for _ in 0..=rng.below(4) {
        match rng.below(8) {
            0 if !b.is_empty() => {
                let i = rng.below(b.len());
                b[i] ^= 1 << rng.below(8);
            }
            1 if !b.is_empty() => {
                let i = rng.below(b.len());
                b[i] = rng.byte();
            }
            2 => {
                let n = rng.below(b.len() + 1);
                b.truncate(n);
            }
            3 => {
                let n = rng.below(8);
                b.extend((0..n).map(|_| rng.byte()));
            }
            // Length fields sit at even offsets; hit them with extremes.
            4 if b.len() >= 2 => {
                let i = rng.below(b.len() - 1) & !1;
                let v: u16 = [0, 1, 3, 4, 5, 0xffff, 0x7fff, rng.byte().into()][rng.below(8)];
                b[i..i + 2].copy_from_slice(&v.to_be_bytes());
            }
            5 => {
                let other = &corpus[rng.below(corpus.len())];
                let at = rng.below(other.len());
                let to = rng.below(b.len() + 1);
                b.truncate(to);
                b.extend_from_slice(&other[at..]);
            }
            6 if b.len() > 12 => {
                // Change a chunk type near the start of the chunks.
                b[12] = rng.byte();
            }
            _ => {
                if b.len() > 16 {
                    let i = rng.below(b.len() - 4);
                    b.drain(i..i + rng.below(4) + 1);
                }
            }
        }
    }
    b
}

/// Runs every decoder on `buf`; returns whether it decoded as a packet.
fn check(buf: &[u8]) -> bool {
    let decoded = Packet::decode_unverified(buf);
    if let Ok(p) = &decoded {
        let again = Packet::decode(&p.encode()).expect("re-encoded packet decodes");
        assert_eq!(&again, p);
    }
    let _ = Packet::decode(buf);
    let _ = Packet::peek_header(buf);
    let body = buf.get(Packet::HEADER_LEN..).unwrap_or_default();
    if let Ok((c, used)) = Chunk::decode(body) {
        assert!(used >= 4 && used <= body.len());
        assert_eq!(Chunk::decode(&c.to_bytes()).map(|x| x.0), Ok(c));
    }
    if let Ok(ps) = decode_params(buf) {
        let mut out = Vec::new();
        for p in &ps {
            p.encode(&mut out);
        }
        assert_eq!(decode_params(&out), Ok(ps));
    }
    if let Ok(cs) = decode_causes(buf) {
        let mut out = Vec::new();
        for c in &cs {
            c.encode(&mut out);
        }
        assert_eq!(decode_causes(&out), Ok(cs));
    }
    let _ = Param::decode(buf);
    let _ = ErrorCause::decode(buf);
    decoded.is_ok()
}

#[test]
fn random_and_mutated_inputs_never_panic() {
    let corpus: Vec<Vec<u8>> = all_captured_packets().into_iter().map(|p| p.2).collect();
    let mut rng = Rng(0x5c7b_5eed_0bad_cafe);
    let (mut ok, mut total) = (0u32, 0u32);
    for i in 0..200_000 {
        let buf = if i % 4 == 0 {
            random_buffer(&mut rng)
        } else {
            mutate(&mut rng, &corpus)
        };
        ok += u32::from(check(&buf));
        total += 1;
    }
    // Guard against a fuzzer that only ever exercises the first error path.
    assert!(ok > total / 10, "only {ok} of {total} inputs decoded");
    assert!(ok < total * 9 / 10, "{ok} of {total} inputs decoded");
}

#[test]
fn random_chunk_bodies_never_panic() {
    // Valid chunk header around random bytes, for every chunk type, so each
    // value decoder sees garbage (not just the header checks).
    let mut rng = Rng(42);
    for _ in 0..20_000 {
        let kind = rng.byte() % 16;
        let len = rng.below(64);
        let mut b = vec![kind, rng.byte()];
        b.extend_from_slice(&u16::try_from(4 + len).unwrap_or(4).to_be_bytes());
        b.extend((0..len).map(|_| rng.byte()));
        let _ = check(&[&[0u8; 12][..], &b].concat());
    }
}
