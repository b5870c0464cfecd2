//! Chunks of unknown type and the upper-two-bit rules for unknown chunks and
//! parameters ([RFC 9260 §3.2](https://www.rfc-editor.org/rfc/rfc9260#section-3.2),
//! [§3.2.1](https://www.rfc-editor.org/rfc/rfc9260#section-3.2.1)).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |AB  Chunk Type |  Chunk Flags  |        Chunk Length           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! \                                                               \
//! /                          Chunk Value                          /
//! \                                                               \
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The chunk is kept whole (flags included) because §3.2 may require
//! echoing it in an Unrecognized Chunk Type error cause.

use super::chunk::Body;
use super::{UnknownAction, UnknownChunk, WireError};

impl Body for UnknownChunk {
    fn flags(&self) -> u8 {
        self.flags
    }

    fn value_len(&self) -> usize {
        self.value.len()
    }

    fn encode_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.value);
    }

    fn decode_value(flags: u8, value: &[u8]) -> Result<Self, WireError> {
        // The type is filled in by the dispatcher, which alone knows it.
        Ok(UnknownChunk {
            chunk_type: 0,
            flags,
            value: value.to_vec(),
        })
    }
}

impl UnknownAction {
    fn from_bits(bits: u8) -> UnknownAction {
        match bits & 0b11 {
            0b00 => UnknownAction::Stop,
            0b01 => UnknownAction::StopAndReport,
            0b10 => UnknownAction::Skip,
            _ => UnknownAction::SkipAndReport,
        }
    }

    /// From the two high bits of an unrecognized chunk type (§3.2).
    pub fn for_chunk_type(t: u8) -> UnknownAction {
        Self::from_bits(t >> 6)
    }

    /// From the two high bits of an unrecognized parameter type (§3.2.1).
    pub fn for_param_type(t: u16) -> UnknownAction {
        // The shift leaves two bits, so the narrowing cannot lose any.
        Self::from_bits(u8::try_from(t >> 14).unwrap_or(0b11))
    }

    /// Whether processing of the rest of the packet (or parameters) stops.
    pub fn stops(self) -> bool {
        matches!(self, UnknownAction::Stop | UnknownAction::StopAndReport)
    }

    /// Whether the peer is told about the unrecognized item.
    pub fn reports(self) -> bool {
        matches!(
            self,
            UnknownAction::StopAndReport | UnknownAction::SkipAndReport
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::super::{Chunk, WireError};
    use super::*;

    #[test]
    fn unknown_round_trip() {
        for kind in [12u8, 13, 15, 0x3f, 0x40, 0x7f, 0x80, 0xc0, 0xc1, 0xff] {
            for n in 0..6 {
                let c = Chunk::Unknown(UnknownChunk {
                    chunk_type: kind,
                    flags: 0xa5,
                    value: vec![kind; n],
                });
                let b = assert_chunk_round_trip(&c);
                assert_eq!(b[0], kind);
                assert_eq!(b[1], 0xa5);
                assert_eq!(c.chunk_type(), kind);
            }
        }
    }

    #[test]
    fn unknown_type_decodes_as_unknown() {
        assert_eq!(
            Chunk::decode(&[0xc0, 0, 0, 8, 0, 0, 0, 1]),
            Ok((
                Chunk::Unknown(UnknownChunk {
                    chunk_type: 0xc0,
                    flags: 0,
                    value: vec![0, 0, 0, 1]
                }),
                8
            ))
        );
    }

    #[test]
    fn every_unassigned_type_is_unknown() {
        for kind in 0..=255u8 {
            let (c, _) = Chunk::decode(&[
                kind, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 1, 0, 0, 0, 1,
            ])
            .unwrap_or((Chunk::CookieAck, 0));
            let known = kind <= 11 || kind == 14;
            assert_eq!(matches!(c, Chunk::Unknown(_)), !known, "type {kind}");
        }
    }

    #[test]
    fn to_bytes_reports_whole_chunk() {
        let raw = [0x81, 7, 0, 6, 0xaa, 0xbb];
        let (c, n) = Chunk::decode(&raw).expect("decode");
        assert_eq!(n, 6);
        assert_eq!(c.to_bytes(), [0x81, 7, 0, 6, 0xaa, 0xbb, 0, 0]);
    }

    #[test]
    fn malformed_headers() {
        assert_malformed_chunk_headers(&Chunk::Unknown(UnknownChunk {
            chunk_type: 0x99,
            flags: 0,
            value: vec![1; 9],
        }));
    }

    #[test]
    fn unknown_truncated_value_is_bad_length() {
        assert_eq!(
            Chunk::decode(&[0x40, 0, 0, 9, 1, 2]),
            Err(WireError::BadLength)
        );
    }

    #[test]
    fn chunk_type_actions() {
        use UnknownAction::*;
        assert_eq!(UnknownAction::for_chunk_type(0x3f), Stop);
        assert_eq!(UnknownAction::for_chunk_type(0x40), StopAndReport);
        assert_eq!(UnknownAction::for_chunk_type(0x80), Skip);
        assert_eq!(UnknownAction::for_chunk_type(0xc1), SkipAndReport);
        assert_eq!(UnknownAction::for_chunk_type(0xff), SkipAndReport);
        assert_eq!(UnknownAction::for_chunk_type(0), Stop);
    }

    #[test]
    fn param_type_actions() {
        use UnknownAction::*;
        assert_eq!(UnknownAction::for_param_type(0x0001), Stop);
        assert_eq!(UnknownAction::for_param_type(0x4001), StopAndReport);
        assert_eq!(UnknownAction::for_param_type(0x8000), Skip);
        assert_eq!(UnknownAction::for_param_type(0x8008), Skip);
        assert_eq!(UnknownAction::for_param_type(0xc000), SkipAndReport);
        assert_eq!(UnknownAction::for_param_type(0xffff), SkipAndReport);
    }

    #[test]
    fn stops_and_reports() {
        use UnknownAction::*;
        assert!(Stop.stops() && !Stop.reports());
        assert!(StopAndReport.stops() && StopAndReport.reports());
        assert!(!Skip.stops() && !Skip.reports());
        assert!(!SkipAndReport.stops() && SkipAndReport.reports());
    }

    #[test]
    fn actions_for_all_chunk_types_follow_top_bits() {
        for t in 0..=255u8 {
            let a = UnknownAction::for_chunk_type(t);
            assert_eq!(a.stops(), t & 0x80 == 0, "{t}");
            assert_eq!(a.reports(), t & 0x40 != 0, "{t}");
        }
    }
}
