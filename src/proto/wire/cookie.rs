//! COOKIE ECHO and COOKIE ACK
//! ([RFC 9260 §3.3.11](https://www.rfc-editor.org/rfc/rfc9260#section-3.3.11),
//! [§3.3.12](https://www.rfc-editor.org/rfc/rfc9260#section-3.3.12)).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Type = 10   |  Chunk Flags  |            Length             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! /                            Cookie                             /
//! \                                                               \
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Type = 11   |  Chunk Flags  |          Length = 4           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The cookie is the State Cookie value from the INIT ACK, byte for byte;
//! it is authenticated by whoever minted it, not here. COOKIE ACK has no
//! value and is handled by the shared empty-body codec in `chunk.rs`.

use super::chunk::Body;
use super::{CookieEcho, WireError};

impl Body for CookieEcho {
    fn value_len(&self) -> usize {
        self.cookie.len()
    }

    fn encode_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.cookie);
    }

    fn decode_value(_flags: u8, value: &[u8]) -> Result<Self, WireError> {
        Ok(CookieEcho {
            cookie: value.to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::super::{Chunk, WireError};
    use super::*;

    #[test]
    fn cookie_echo_round_trip() {
        for n in [0usize, 1, 2, 3, 4, 5, 64, 327] {
            let b = assert_chunk_round_trip(&Chunk::CookieEcho(CookieEcho {
                cookie: (0..n).map(|i| i as u8).collect(),
            }));
            assert_eq!(usize::from(u16::from_be_bytes([b[2], b[3]])), 4 + n);
        }
    }

    #[test]
    fn cookie_ack_round_trip() {
        assert_eq!(assert_chunk_round_trip(&Chunk::CookieAck), [11, 0, 0, 4]);
    }

    #[test]
    fn cookie_ack_ignores_value_and_flags() {
        assert_eq!(
            Chunk::decode(&[11, 0xff, 0, 8, 1, 2, 3, 4]),
            Ok((Chunk::CookieAck, 8))
        );
    }

    #[test]
    fn cookie_echo_truncated_is_bad_length() {
        assert_eq!(
            Chunk::decode(&[10, 0, 0, 12, 1, 2, 3, 4]),
            Err(WireError::BadLength)
        );
    }

    #[test]
    fn malformed_headers() {
        assert_malformed_chunk_headers(&Chunk::CookieEcho(CookieEcho {
            cookie: vec![9; 21],
        }));
        assert_malformed_chunk_headers(&Chunk::CookieAck);
    }
}
