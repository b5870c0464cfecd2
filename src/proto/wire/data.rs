//! DATA chunk ([RFC 9260 §3.3.1](https://www.rfc-editor.org/rfc/rfc9260#section-3.3.1),
//! I bit from [RFC 7053](https://www.rfc-editor.org/rfc/rfc7053)).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Type = 0    |  Res  |I|U|B|E|             Length            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                              TSN                              |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |      Stream Identifier S      |   Stream Sequence Number n    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                  Payload Protocol Identifier                  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! \                                                               \
//! /                 User Data (seq n of Stream S)                 /
//! \                                                               \
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! A DATA chunk with no user data (Length 16) decodes: §3.3.1 has the
//! receiver answer it with an ABORT carrying "No User Data", which only the
//! association can do.

use super::bytes::{Reader, put_u16, put_u32};
use super::chunk::Body;
use super::{DataChunk, WireError};

impl DataChunk {
    /// I bit (RFC 7053): the receiver should SACK without delay.
    pub const FLAG_I: u8 = 0x08;
    /// U bit: unordered.
    pub const FLAG_U: u8 = 0x04;
    /// B bit: first fragment of a user message.
    pub const FLAG_B: u8 = 0x02;
    /// E bit: last fragment of a user message.
    pub const FLAG_E: u8 = 0x01;
    /// TSN, stream, SSN and PPID.
    pub const FIXED_LEN: usize = 12;
}

impl Body for DataChunk {
    fn flags(&self) -> u8 {
        let bit = |on: bool, f: u8| if on { f } else { 0 };
        bit(self.immediate, Self::FLAG_I)
            | bit(self.unordered, Self::FLAG_U)
            | bit(self.beginning, Self::FLAG_B)
            | bit(self.ending, Self::FLAG_E)
    }

    fn value_len(&self) -> usize {
        Self::FIXED_LEN + self.payload.len()
    }

    fn encode_value(&self, out: &mut Vec<u8>) {
        put_u32(out, self.tsn);
        put_u16(out, self.stream_id);
        put_u16(out, self.ssn);
        put_u32(out, self.ppid);
        out.extend_from_slice(&self.payload);
    }

    fn decode_value(flags: u8, value: &[u8]) -> Result<Self, WireError> {
        if value.len() < Self::FIXED_LEN {
            return Err(WireError::BadLength);
        }
        let mut r = Reader::new(value);
        Ok(DataChunk {
            // Reserved bits are ignored on receipt (§3.3.1).
            immediate: flags & Self::FLAG_I != 0,
            unordered: flags & Self::FLAG_U != 0,
            beginning: flags & Self::FLAG_B != 0,
            ending: flags & Self::FLAG_E != 0,
            tsn: r.u32()?,
            stream_id: r.u16()?,
            ssn: r.u16()?,
            ppid: r.u32()?,
            payload: r.rest().to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::super::{Chunk, WireError};
    use super::*;

    fn sample() -> DataChunk {
        DataChunk {
            immediate: false,
            unordered: false,
            beginning: true,
            ending: true,
            tsn: 0xfedc_ba98,
            stream_id: 3,
            ssn: 77,
            ppid: 51,
            payload: b"hello".to_vec(),
        }
    }

    #[test]
    fn round_trip_basic() {
        let b = assert_chunk_round_trip(&Chunk::Data(sample()));
        assert_eq!(
            b,
            [
                0, 3, 0, 21, 0xfe, 0xdc, 0xba, 0x98, 0, 3, 0, 77, 0, 0, 0, 51, b'h', b'e', b'l',
                b'l', b'o', 0, 0, 0
            ]
        );
    }

    #[test]
    fn round_trip_every_flag_combination() {
        for flags in 0..16u8 {
            let d = DataChunk {
                immediate: flags & 8 != 0,
                unordered: flags & 4 != 0,
                beginning: flags & 2 != 0,
                ending: flags & 1 != 0,
                ..sample()
            };
            let b = assert_chunk_round_trip(&Chunk::Data(d));
            assert_eq!(b[1], flags);
        }
    }

    #[test]
    fn round_trip_payload_lengths() {
        for n in 0..=9 {
            let d = DataChunk {
                payload: vec![0xa5; n],
                ..sample()
            };
            let b = assert_chunk_round_trip(&Chunk::Data(d));
            assert_eq!(b.len(), 16 + n.div_ceil(4) * 4);
        }
    }

    #[test]
    fn round_trip_large_payload() {
        let d = DataChunk {
            payload: (0..1200u32).map(|i| i as u8).collect(),
            ..sample()
        };
        assert_chunk_round_trip(&Chunk::Data(d));
    }

    #[test]
    fn no_user_data_decodes() {
        let b = [0, 3, 0, 16, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        let (c, n) = Chunk::decode(&b).expect("decode");
        assert_eq!(n, 16);
        match c {
            Chunk::Data(d) => {
                assert!(d.payload.is_empty());
                assert_eq!(d.tsn, 1);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reserved_flags_ignored() {
        let b = [0, 0xf1, 0, 17, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 9];
        let Ok((Chunk::Data(d), _)) = Chunk::decode(&b) else {
            panic!("not data");
        };
        assert!(d.ending && !d.beginning && !d.unordered && !d.immediate);
    }

    #[test]
    fn short_lengths_are_bad_length() {
        for len in 4..16u8 {
            let mut b = vec![0, 3, 0, len];
            b.resize(16, 0);
            assert_eq!(Chunk::decode(&b), Err(WireError::BadLength), "len {len}");
        }
    }

    #[test]
    fn malformed_headers() {
        assert_malformed_chunk_headers(&Chunk::Data(sample()));
    }
}
