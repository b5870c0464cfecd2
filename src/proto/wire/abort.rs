//! ABORT ([RFC 9260 §3.3.7](https://www.rfc-editor.org/rfc/rfc9260#section-3.3.7)).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Type = 6    |  Reserved   |T|            Length             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! \                                                               \
//! /                   zero or more Error Causes                   /
//! \                                                               \
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The T bit decides which verification tag the receiver checks (§8.5.1),
//! so it is the one flag that matters for acceptance.

use super::cause::{causes_len, decode_causes};
use super::chunk::Body;
use super::{Abort, WireError};

impl Abort {
    /// T bit: the sender had no TCB and reflected the tag.
    pub const FLAG_T: u8 = 0x01;
}

impl Body for Abort {
    fn flags(&self) -> u8 {
        if self.t_bit { Self::FLAG_T } else { 0 }
    }

    fn value_len(&self) -> usize {
        causes_len(&self.causes)
    }

    fn encode_value(&self, out: &mut Vec<u8>) {
        for c in &self.causes {
            c.encode(out);
        }
    }

    fn decode_value(flags: u8, value: &[u8]) -> Result<Self, WireError> {
        Ok(Abort {
            t_bit: flags & Self::FLAG_T != 0,
            causes: decode_causes(value)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::super::{Chunk, ErrorCause, WireError};
    use super::*;

    #[test]
    fn empty_abort_round_trip() {
        assert_eq!(
            assert_chunk_round_trip(&Chunk::Abort(Abort::default())),
            [6, 0, 0, 4]
        );
        assert_eq!(
            assert_chunk_round_trip(&Chunk::Abort(Abort {
                t_bit: true,
                causes: vec![]
            })),
            [6, 1, 0, 4]
        );
    }

    #[test]
    fn abort_with_causes_round_trip() {
        let b = assert_chunk_round_trip(&Chunk::Abort(Abort {
            t_bit: true,
            causes: vec![
                ErrorCause::UserInitiatedAbort {
                    reason: b"x".to_vec(),
                },
                ErrorCause::ProtocolViolation {
                    info: b"oops".to_vec(),
                },
                ErrorCause::UserInitiatedAbort {
                    reason: b"abc".to_vec(),
                },
            ],
        }));
        // Last cause's padding is outside the chunk length.
        assert_eq!(u16::from_be_bytes([b[2], b[3]]), 4 + 8 + 8 + 7);
    }

    #[test]
    fn abort_with_every_cause_round_trip() {
        assert_chunk_round_trip(&Chunk::Abort(Abort {
            t_bit: false,
            causes: every_cause(),
        }));
    }

    #[test]
    fn other_flag_bits_ignored() {
        assert_eq!(
            Chunk::decode(&[6, 0xfe, 0, 4]),
            Ok((Chunk::Abort(Abort::default()), 4))
        );
    }

    #[test]
    fn bad_cause_is_rejected() {
        assert_eq!(
            Chunk::decode(&[6, 0, 0, 8, 0, 12, 0, 2]),
            Err(WireError::BadLength)
        );
        assert_eq!(
            Chunk::decode(&[6, 0, 0, 8, 0, 12, 0, 9]),
            Err(WireError::BadLength)
        );
        // 1..=3 bytes that cannot be a cause.
        assert_eq!(
            Chunk::decode(&[6, 0, 0, 7, 0, 0, 0, 0]),
            Err(WireError::BadPadding)
        );
    }

    #[test]
    fn malformed_headers() {
        assert_malformed_chunk_headers(&Chunk::Abort(Abort {
            t_bit: true,
            causes: vec![ErrorCause::NoUserData { tsn: 5 }],
        }));
    }
}
