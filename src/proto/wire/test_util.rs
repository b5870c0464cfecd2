//! Shared assertions for the per-chunk tests.

use super::chunk::decode_chunks;
use super::{Chunk, ErrorCause, Packet, WireError};

/// Hex string (whitespace allowed) to bytes; test input only.
pub(crate) fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .map(|b| match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => panic!("bad hex digit {b}"),
        })
        .collect();
    assert_eq!(digits.len() % 2, 0, "odd hex length");
    digits.chunks(2).map(|p| (p[0] << 4) | p[1]).collect()
}

/// Encodes `c`, checks the length bookkeeping and that decoding gives `c`
/// back (with and without final padding, alone and inside a packet).
pub(crate) fn assert_chunk_round_trip(c: &Chunk) -> Vec<u8> {
    let b = c.to_bytes();
    let mut via_encode = Vec::new();
    c.encode(&mut via_encode);
    assert_eq!(b, via_encode);
    assert_eq!(b.len(), c.encoded_len());
    assert_eq!(b.len() % 4, 0);
    assert_eq!(b[0], c.chunk_type());
    assert_eq!(b[1], c.flags());
    let n = usize::from(u16::from_be_bytes([b[2], b[3]]));
    assert_eq!(n, c.unpadded_len());
    assert!(b.len() - n < 4, "padding beyond 3 bytes");
    assert!(b[n..].iter().all(|&x| x == 0), "padding not zero");
    assert_eq!(Chunk::decode(&b), Ok((c.clone(), b.len())));
    assert_eq!(Chunk::decode(&b[..n]), Ok((c.clone(), n)));

    let p = Packet {
        src_port: 0x1234,
        dst_port: 0x5678,
        verification_tag: 0x9abc_def0,
        chunks: vec![c.clone(), c.clone()],
    };
    let pb = p.encode();
    assert_eq!(pb.len(), 12 + 2 * b.len());
    assert_eq!(Packet::decode(&pb), Ok(p));
    b
}

/// Header-level malformations every chunk type must reject.
pub(crate) fn assert_malformed_chunk_headers(c: &Chunk) {
    let b = c.to_bytes();
    let n = c.unpadded_len();
    for k in 0..4 {
        assert_eq!(Chunk::decode(&b[..k]), Err(WireError::Truncated), "cut {k}");
    }
    for len in 0..4u8 {
        let mut m = b.clone();
        m[2] = 0;
        m[3] = len;
        assert_eq!(Chunk::decode(&m), Err(WireError::BadLength), "len {len}");
    }
    // Length running past the buffer.
    if n > 4 {
        assert_eq!(Chunk::decode(&b[..n - 1]), Err(WireError::BadLength));
    }
    let mut long = b.clone();
    long[2..4].copy_from_slice(&u16::try_from(b.len() + 4).expect("small").to_be_bytes());
    assert_eq!(Chunk::decode(&long), Err(WireError::BadLength));
    let mut max = b.clone();
    max[2..4].copy_from_slice(&[0xff, 0xff]);
    assert_eq!(Chunk::decode(&max), Err(WireError::BadLength));
    // Padding beyond three bytes after the chunk.
    for extra in 1..4 {
        let mut m = b.clone();
        m.extend(std::iter::repeat_n(0, extra));
        assert_eq!(
            decode_chunks(&m),
            Err(WireError::BadPadding),
            "extra {extra}"
        );
    }
}

/// One of each error cause, with awkward (unpadded) lengths where allowed.
pub(crate) fn every_cause() -> Vec<ErrorCause> {
    vec![
        ErrorCause::InvalidStreamIdentifier { stream_id: 7 },
        ErrorCause::MissingMandatoryParameter {
            missing: vec![7, 9, 12],
        },
        ErrorCause::StaleCookie { staleness_us: 1 },
        ErrorCause::OutOfResource,
        ErrorCause::UnresolvableAddress {
            address: vec![0, 11, 0, 5, b'x'],
        },
        ErrorCause::UnrecognizedChunkType {
            chunk: vec![0xe0, 0, 0, 6, 1, 2],
        },
        ErrorCause::InvalidMandatoryParameter,
        ErrorCause::UnrecognizedParameters {
            params: vec![0x80, 0x05, 0, 4],
        },
        ErrorCause::NoUserData { tsn: 99 },
        ErrorCause::CookieReceivedWhileShuttingDown,
        ErrorCause::RestartWithNewAddresses {
            addresses: vec![0, 5, 0, 8, 10, 1, 2, 3],
        },
        ErrorCause::UserInitiatedAbort {
            reason: b"shutting down".to_vec(),
        },
        ErrorCause::ProtocolViolation { info: vec![0x42] },
        ErrorCause::Unknown {
            code: 0x1234,
            value: vec![5, 6, 7],
        },
    ]
}
