//! SHUTDOWN, SHUTDOWN ACK and SHUTDOWN COMPLETE
//! ([RFC 9260 §3.3.8](https://www.rfc-editor.org/rfc/rfc9260#section-3.3.8),
//! [§3.3.9](https://www.rfc-editor.org/rfc/rfc9260#section-3.3.9),
//! [§3.3.13](https://www.rfc-editor.org/rfc/rfc9260#section-3.3.13)).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Type = 7    |  Chunk Flags  |          Length = 8           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                      Cumulative TSN Ack                       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Type = 8    |  Chunk Flags  |          Length = 4           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Type = 14   |  Reserved   |T|          Length = 4           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Bytes beyond the fixed length are ignored rather than rejected so that a
//! sloppy peer cannot wedge the association in SHUTDOWN-PENDING.

use super::bytes::{Reader, put_u32};
use super::chunk::Body;
use super::{Shutdown, ShutdownComplete, WireError};

impl Body for Shutdown {
    fn value_len(&self) -> usize {
        4
    }

    fn encode_value(&self, out: &mut Vec<u8>) {
        put_u32(out, self.cum_tsn_ack);
    }

    fn decode_value(_flags: u8, value: &[u8]) -> Result<Self, WireError> {
        Ok(Shutdown {
            cum_tsn_ack: Reader::new(value).u32().map_err(|_| WireError::BadLength)?,
        })
    }
}

impl ShutdownComplete {
    /// T bit: the sender had no TCB and reflected the tag.
    pub const FLAG_T: u8 = 0x01;
}

impl Body for ShutdownComplete {
    fn flags(&self) -> u8 {
        if self.t_bit { Self::FLAG_T } else { 0 }
    }

    fn value_len(&self) -> usize {
        0
    }

    fn encode_value(&self, _out: &mut Vec<u8>) {}

    fn decode_value(flags: u8, _value: &[u8]) -> Result<Self, WireError> {
        Ok(ShutdownComplete {
            t_bit: flags & Self::FLAG_T != 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::super::{Chunk, WireError};
    use super::*;

    #[test]
    fn shutdown_round_trip() {
        let b = assert_chunk_round_trip(&Chunk::Shutdown(Shutdown {
            cum_tsn_ack: 0x38d1_442b,
        }));
        assert_eq!(b, [7, 0, 0, 8, 0x38, 0xd1, 0x44, 0x2b]);
        assert_chunk_round_trip(&Chunk::Shutdown(Shutdown::default()));
    }

    #[test]
    fn shutdown_ack_round_trip() {
        assert_eq!(assert_chunk_round_trip(&Chunk::ShutdownAck), [8, 0, 0, 4]);
    }

    #[test]
    fn shutdown_complete_round_trip() {
        assert_eq!(
            assert_chunk_round_trip(&Chunk::ShutdownComplete(ShutdownComplete { t_bit: false })),
            [14, 0, 0, 4]
        );
        assert_eq!(
            assert_chunk_round_trip(&Chunk::ShutdownComplete(ShutdownComplete { t_bit: true })),
            [14, 1, 0, 4]
        );
    }

    #[test]
    fn shutdown_short_is_bad_length() {
        for len in 4..8u8 {
            let mut b = vec![7, 0, 0, len];
            b.resize(8, 0);
            assert_eq!(Chunk::decode(&b), Err(WireError::BadLength), "len {len}");
        }
    }

    #[test]
    fn shutdown_extra_bytes_ignored() {
        assert_eq!(
            Chunk::decode(&[7, 0, 0, 12, 0, 0, 0, 9, 1, 1, 1, 1]),
            Ok((Chunk::Shutdown(Shutdown { cum_tsn_ack: 9 }), 12))
        );
    }

    #[test]
    fn shutdown_complete_reserved_flags_ignored() {
        assert_eq!(
            Chunk::decode(&[14, 0xfe, 0, 4]),
            Ok((
                Chunk::ShutdownComplete(ShutdownComplete { t_bit: false }),
                4
            ))
        );
    }

    #[test]
    fn malformed_headers() {
        assert_malformed_chunk_headers(&Chunk::Shutdown(Shutdown { cum_tsn_ack: 1 }));
        assert_malformed_chunk_headers(&Chunk::ShutdownAck);
        assert_malformed_chunk_headers(&Chunk::ShutdownComplete(ShutdownComplete { t_bit: true }));
    }
}
