//! The sub-packet decoders. The first input byte picks the decoder (low 3
//! bits) and, for cookies, the clock (bit 3); the rest is its input. None may
//! panic, and whatever decodes must survive an encode/decode round trip.
//!
//! | byte0 & 7 | decoder                                                        |
//! |-----------|----------------------------------------------------------------|
//! | 0         | `Chunk::decode`                                                |
//! | 1         | `decode_params`                                                |
//! | 2         | `decode_causes`                                                |
//! | 3         | `CookieData::open` on the raw bytes (forged: HMAC must refuse) |
//! | 4         | `Param::decode`                                                |
//! | 5         | `ErrorCause::decode`                                           |
//! | 6         | `decode_chunks`                                                |
//! | 7         | `CookieData::open` on the bytes signed with the fixed secret,  |
//! |           | so the body decoder behind the signature check is reached      |
#![no_main]

use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use sctpshim::proto::cookie::{CookieData, CookieError};
use sctpshim::proto::wire::{
    Chunk, ErrorCause, Param, decode_causes, decode_chunks, decode_params,
};
use sha2::Sha256;

const SECRET: [u8; 32] = [0x5c; 32];

fn sign(body: &[u8]) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(&SECRET).expect("HMAC takes any key length");
    m.update(body);
    let mut out = body.to_vec();
    out.extend_from_slice(&m.finalize().into_bytes());
    out
}

fn check_chunk(buf: &[u8]) {
    if let Ok((c, used)) = Chunk::decode(buf) {
        assert!(
            used >= Chunk::HEADER_LEN && used <= buf.len(),
            "used {used} of {}",
            buf.len()
        );
        let bytes = c.to_bytes();
        assert_eq!(bytes.len(), c.encoded_len());
        assert_eq!(
            Chunk::decode(&bytes),
            Ok((c, bytes.len())),
            "chunk round trip"
        );
    }
}

fn check_params(buf: &[u8]) {
    if let Ok(ps) = decode_params(buf) {
        let mut out = Vec::new();
        for p in &ps {
            p.encode(&mut out);
        }
        assert_eq!(decode_params(&out), Ok(ps), "params round trip");
    }
}

fn check_causes(buf: &[u8]) {
    if let Ok(cs) = decode_causes(buf) {
        let mut out = Vec::new();
        for c in &cs {
            c.encode(&mut out);
        }
        assert_eq!(decode_causes(&out), Ok(cs), "causes round trip");
    }
}

fn check_param(buf: &[u8]) {
    if let Ok((p, used)) = Param::decode(buf) {
        assert!(used <= buf.len(), "used {used} of {}", buf.len());
        let bytes = p.to_bytes();
        assert_eq!(bytes.len(), p.encoded_len());
        assert_eq!(
            Param::decode(&bytes).map(|x| x.0),
            Ok(p),
            "param round trip"
        );
    }
}

fn check_cause(buf: &[u8]) {
    if let Ok((c, used)) = ErrorCause::decode(buf) {
        assert!(used <= buf.len(), "used {used} of {}", buf.len());
        let mut bytes = Vec::new();
        c.encode(&mut bytes);
        assert_eq!(bytes.len(), c.encoded_len());
        assert_eq!(
            ErrorCause::decode(&bytes).map(|x| x.0),
            Ok(c),
            "cause round trip"
        );
    }
}

fn check_chunks(buf: &[u8]) {
    if let Ok(cs) = decode_chunks(buf) {
        let mut out = Vec::new();
        for c in &cs {
            c.encode(&mut out);
        }
        assert_eq!(decode_chunks(&out), Ok(cs), "chunks round trip");
    }
}

fn check_cookie(bytes: &[u8], now_us: u64, genuine: bool) {
    match CookieData::open(bytes, &SECRET, now_us) {
        Ok(c) => {
            assert!(genuine, "a forged cookie was accepted");
            let resealed = c.seal(&SECRET);
            assert_eq!(
                CookieData::open(&resealed, &SECRET, now_us),
                Ok(c),
                "cookie round trip"
            );
        }
        Err(CookieError::Stale { .. }) => assert!(genuine, "a forged cookie was judged stale"),
        Err(_) => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let now_us = if sel & 8 == 0 { 0 } else { u64::MAX };
    match sel & 7 {
        0 => check_chunk(rest),
        1 => check_params(rest),
        2 => check_causes(rest),
        3 => check_cookie(rest, now_us, false),
        4 => check_param(rest),
        5 => check_cause(rest),
        6 => check_chunks(rest),
        _ => check_cookie(&sign(rest), now_us, true),
    }
});
