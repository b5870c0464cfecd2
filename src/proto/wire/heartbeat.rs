//! HEARTBEAT and HEARTBEAT ACK
//! ([RFC 9260 §3.3.5](https://www.rfc-editor.org/rfc/rfc9260#section-3.3.5),
//! [§3.3.6](https://www.rfc-editor.org/rfc/rfc9260#section-3.3.6)).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Type = 4 (5) |  Chunk Flags  |       Heartbeat Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |    Heartbeat Info Type = 1    |         HB Info Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! /                  Sender-Specific Heartbeat Info               /
//! \                                                               \
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The info is opaque to the receiver, which must echo it unchanged, so
//! only its value is kept, with the bytes after it, which the HEARTBEAT
//! ACK copies too (§8.3: other TLVs SHOULD be copied unchanged). They are
//! not validated: a HEARTBEAT ACK we cannot parse would look like a dead
//! path.

use super::bytes::{padded, put_tlv, split_tlv};
use super::chunk::Body;
use super::{Heartbeat, WireError, param_type};

impl Body for Heartbeat {
    fn value_len(&self) -> usize {
        // The last parameter's padding is the chunk's trailing padding, so
        // it is not counted (§3.2).
        if self.extra.is_empty() {
            4 + self.info.len()
        } else {
            padded(4 + self.info.len()) + self.extra.len()
        }
    }

    fn encode_value(&self, out: &mut Vec<u8>) {
        put_tlv(out, param_type::HEARTBEAT_INFO, &self.info);
        out.extend_from_slice(&self.extra);
    }

    fn decode_value(_flags: u8, mut value: &[u8]) -> Result<Self, WireError> {
        if value.len() < 4 {
            return Err(WireError::BadLength);
        }
        // Take the first Heartbeat Info; stop looking (and validating) there.
        while value.len() >= 4 {
            let tlv = split_tlv(value)?;
            if tlv.kind == param_type::HEARTBEAT_INFO {
                return Ok(Heartbeat {
                    info: tlv.value.to_vec(),
                    extra: value.get(tlv.consumed..).unwrap_or_default().to_vec(),
                });
            }
            value = value.get(tlv.consumed..).unwrap_or_default();
        }
        Err(WireError::InvalidValue)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::super::{Chunk, WireError};
    use super::*;

    /// §8.3: TLVs after the Heartbeat Info come back in the ACK unchanged,
    /// and the chunk length counts the info's padding then.
    #[test]
    fn tlvs_after_the_info_are_kept() {
        let value = [
            0, 1, 0, 9, b'h', b'e', b'l', b'l', b'o', 0, 0, 0, 0x80, 0x77, 0, 8, 1, 2, 3, 4,
        ];
        let hb = Heartbeat::decode_value(0, &value).unwrap();
        assert_eq!(hb.info, b"hello");
        assert_eq!(hb.extra, [0x80, 0x77, 0, 8, 1, 2, 3, 4]);
        let b = Chunk::HeartbeatAck(hb).to_bytes();
        assert_eq!(&b[4..], &value);
        assert_eq!(u16::from_be_bytes([b[2], b[3]]), 24);
    }

    #[test]
    fn heartbeat_round_trip() {
        let b = assert_chunk_round_trip(&Chunk::Heartbeat(Heartbeat {
            info: vec![1, 2, 3, 4, 5, 6, 7, 8],
            extra: vec![],
        }));
        assert_eq!(&b[..8], [4, 0, 0, 16, 0, 1, 0, 12]);
    }

    #[test]
    fn heartbeat_ack_round_trip() {
        let b = assert_chunk_round_trip(&Chunk::HeartbeatAck(Heartbeat {
            info: (0..56).collect(),
            extra: vec![],
        }));
        assert_eq!(b[0], 5);
    }

    #[test]
    fn odd_info_round_trip() {
        for n in 0..9 {
            assert_chunk_round_trip(&Chunk::Heartbeat(Heartbeat {
                info: vec![7; n],
                extra: vec![],
            }));
            assert_chunk_round_trip(&Chunk::HeartbeatAck(Heartbeat {
                info: vec![7; n],
                extra: vec![],
            }));
        }
    }

    #[test]
    fn following_params_are_kept_unparsed() {
        let b = [4, 0, 0, 16, 0, 1, 0, 6, 0xaa, 0xbb, 0, 0, 0x80, 0, 0, 4];
        assert_eq!(
            Chunk::decode(&b),
            Ok((
                Chunk::Heartbeat(Heartbeat {
                    info: vec![0xaa, 0xbb],
                    extra: vec![0x80, 0, 0, 4],
                }),
                16
            ))
        );
        // Even a malformed one after the info.
        let b = [5, 0, 0, 16, 0, 1, 0, 6, 0xaa, 0xbb, 0, 0, 0x80, 0, 0, 1];
        assert!(Chunk::decode(&b).is_ok());
    }

    #[test]
    fn info_after_other_param_is_found() {
        let b = [4, 0, 0, 16, 0x80, 9, 0, 4, 0, 1, 0, 8, 1, 2, 3, 4];
        assert_eq!(
            Chunk::decode(&b),
            Ok((
                Chunk::Heartbeat(Heartbeat {
                    info: vec![1, 2, 3, 4],
                    extra: vec![],
                }),
                16
            ))
        );
    }

    #[test]
    fn missing_info_is_invalid() {
        let b = [4, 0, 0, 8, 0, 2, 0, 4];
        assert_eq!(Chunk::decode(&b), Err(WireError::InvalidValue));
    }

    #[test]
    fn empty_heartbeat_is_bad_length() {
        assert_eq!(Chunk::decode(&[4, 0, 0, 4]), Err(WireError::BadLength));
        assert_eq!(
            Chunk::decode(&[5, 0, 0, 7, 0, 1, 0]),
            Err(WireError::BadLength)
        );
    }

    #[test]
    fn info_length_past_chunk_is_bad_length() {
        let b = [4, 0, 0, 12, 0, 1, 0, 12, 1, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(Chunk::decode(&b), Err(WireError::BadLength));
    }

    #[test]
    fn info_length_below_four_is_bad_length() {
        let b = [5, 0, 0, 8, 0, 1, 0, 2];
        assert_eq!(Chunk::decode(&b), Err(WireError::BadLength));
    }

    #[test]
    fn malformed_headers() {
        assert_malformed_chunk_headers(&Chunk::Heartbeat(Heartbeat {
            info: vec![3; 13],
            extra: vec![],
        }));
        assert_malformed_chunk_headers(&Chunk::HeartbeatAck(Heartbeat {
            info: vec![3; 12],
            extra: vec![],
        }));
    }
}
