//! ERROR ([RFC 9260 §3.3.10](https://www.rfc-editor.org/rfc/rfc9260#section-3.3.10)).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Type = 9    |  Chunk Flags  |            Length             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! \                                                               \
//! /                    one or more Error Causes                   /
//! \                                                               \
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! An ERROR with no cause is accepted: it is harmless, and refusing it would
//! discard the rest of the packet it was bundled with.

use super::cause::{causes_len, decode_causes};
use super::chunk::Body;
use super::{ErrorChunk, WireError};

impl Body for ErrorChunk {
    fn value_len(&self) -> usize {
        causes_len(&self.causes)
    }

    fn encode_value(&self, out: &mut Vec<u8>) {
        for c in &self.causes {
            c.encode(out);
        }
    }

    fn decode_value(_flags: u8, value: &[u8]) -> Result<Self, WireError> {
        Ok(ErrorChunk {
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
    fn single_cause_round_trip() {
        let b = assert_chunk_round_trip(&Chunk::Error(ErrorChunk {
            causes: vec![ErrorCause::StaleCookie { staleness_us: 42 }],
        }));
        assert_eq!(b, [9, 0, 0, 12, 0, 3, 0, 8, 0, 0, 0, 42]);
    }

    #[test]
    fn every_cause_round_trip() {
        assert_chunk_round_trip(&Chunk::Error(ErrorChunk {
            causes: every_cause(),
        }));
    }

    #[test]
    fn each_cause_alone_round_trip() {
        for c in every_cause() {
            assert_chunk_round_trip(&Chunk::Error(ErrorChunk { causes: vec![c] }));
        }
    }

    #[test]
    fn unrecognized_chunk_cause_carries_chunk() {
        let unknown = Chunk::decode(&[0x7f, 3, 0, 5, 0xee]).expect("decode").0;
        let report = Chunk::Error(ErrorChunk {
            causes: vec![ErrorCause::UnrecognizedChunkType {
                chunk: unknown.to_bytes(),
            }],
        });
        let b = assert_chunk_round_trip(&report);
        assert_eq!(&b[8..16], [0x7f, 3, 0, 5, 0xee, 0, 0, 0]);
    }

    #[test]
    fn empty_error_round_trip() {
        assert_chunk_round_trip(&Chunk::Error(ErrorChunk::default()));
    }

    #[test]
    fn bad_cause_is_rejected() {
        assert_eq!(
            Chunk::decode(&[9, 0, 0, 8, 0, 1, 0, 3]),
            Err(WireError::BadLength)
        );
        assert_eq!(
            Chunk::decode(&[9, 0, 0, 8, 0, 1, 0, 6, 0, 0, 0, 0]),
            Err(WireError::BadLength)
        );
    }

    #[test]
    fn malformed_headers() {
        assert_malformed_chunk_headers(&Chunk::Error(ErrorChunk {
            causes: vec![ErrorCause::InvalidStreamIdentifier { stream_id: 9 }],
        }));
    }
}
