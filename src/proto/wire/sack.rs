//! SACK ([RFC 9260 §3.3.4](https://www.rfc-editor.org/rfc/rfc9260#section-3.3.4)).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Type = 3    |  Chunk Flags  |         Chunk Length          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                      Cumulative TSN Ack                       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          Advertised Receiver Window Credit (a_rwnd)           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Number of Gap Ack Blocks = N  |  Number of Duplicate TSNs = M |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |    Gap Ack Block #1 Start     |     Gap Ack Block #1 End      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! /                                                               /
//! \                              ...                              \
//! /                                                               /
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |    Gap Ack Block #N Start     |     Gap Ack Block #N End      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                        Duplicate TSN 1                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! /                                                               /
//! \                              ...                              \
//! /                                                               /
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                        Duplicate TSN M                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Gap blocks are kept as the raw (start, end) offsets: whether they are
//! ordered and non-overlapping is the association's business, and keeping
//! them raw makes re-encoding exact. Bytes after the last duplicate TSN are
//! ignored.

use super::bytes::{Reader, len_u16, put_u16, put_u32};
use super::chunk::Body;
use super::{Sack, WireError};

impl Sack {
    /// Cumulative TSN Ack, a_rwnd and the two counts.
    pub const FIXED_LEN: usize = 12;
}

impl Body for Sack {
    fn value_len(&self) -> usize {
        Self::FIXED_LEN + 4 * self.gap_blocks.len() + 4 * self.dup_tsns.len()
    }

    fn encode_value(&self, out: &mut Vec<u8>) {
        put_u32(out, self.cum_tsn_ack);
        put_u32(out, self.a_rwnd);
        put_u16(out, len_u16(self.gap_blocks.len()));
        put_u16(out, len_u16(self.dup_tsns.len()));
        for (start, end) in &self.gap_blocks {
            put_u16(out, *start);
            put_u16(out, *end);
        }
        for tsn in &self.dup_tsns {
            put_u32(out, *tsn);
        }
    }

    fn decode_value(_flags: u8, value: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(value);
        let short = |_| WireError::BadLength;
        let cum_tsn_ack = r.u32().map_err(short)?;
        let a_rwnd = r.u32().map_err(short)?;
        let n_gaps = usize::from(r.u16().map_err(short)?);
        let n_dups = usize::from(r.u16().map_err(short)?);
        // Checked up front so the counts cannot make us allocate more than
        // the chunk could hold.
        if 4 * (n_gaps + n_dups) > r.remaining() {
            return Err(WireError::BadLength);
        }
        let mut gap_blocks = Vec::with_capacity(n_gaps);
        for _ in 0..n_gaps {
            gap_blocks.push((r.u16()?, r.u16()?));
        }
        let mut dup_tsns = Vec::with_capacity(n_dups);
        for _ in 0..n_dups {
            dup_tsns.push(r.u32()?);
        }
        Ok(Sack {
            cum_tsn_ack,
            a_rwnd,
            gap_blocks,
            dup_tsns,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::super::{Chunk, WireError};
    use super::*;

    #[test]
    fn round_trip_plain() {
        let b = assert_chunk_round_trip(&Chunk::Sack(Sack {
            cum_tsn_ack: 0x613a_ba9b,
            a_rwnd: 105_052,
            gap_blocks: vec![],
            dup_tsns: vec![],
        }));
        assert_eq!(
            b,
            [
                3, 0, 0, 16, 0x61, 0x3a, 0xba, 0x9b, 0, 1, 0x9a, 0x5c, 0, 0, 0, 0
            ]
        );
    }

    #[test]
    fn round_trip_gaps_and_dups() {
        assert_chunk_round_trip(&Chunk::Sack(Sack {
            cum_tsn_ack: u32::MAX,
            a_rwnd: 0,
            gap_blocks: vec![(2, 2), (4, 9), (11, 65535)],
            dup_tsns: vec![1, 0xffff_fffe],
        }));
    }

    #[test]
    fn round_trip_dups_only() {
        assert_chunk_round_trip(&Chunk::Sack(Sack {
            cum_tsn_ack: 7,
            a_rwnd: 1,
            gap_blocks: vec![],
            dup_tsns: vec![5, 6, 7],
        }));
    }

    #[test]
    fn round_trip_many_gaps() {
        assert_chunk_round_trip(&Chunk::Sack(Sack {
            cum_tsn_ack: 1000,
            a_rwnd: 65536,
            gap_blocks: (1..200u16).map(|i| (3 * i, 3 * i + 1)).collect(),
            dup_tsns: vec![],
        }));
    }

    #[test]
    fn gap_count_past_chunk_is_bad_length() {
        // One gap block claimed, none present.
        let b = [3, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0];
        assert_eq!(Chunk::decode(&b), Err(WireError::BadLength));
    }

    #[test]
    fn dup_count_past_chunk_is_bad_length() {
        let b = [3, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 9];
        assert_eq!(Chunk::decode(&b), Err(WireError::BadLength));
    }

    #[test]
    fn huge_counts_are_bad_length() {
        let b = [3, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(Chunk::decode(&b), Err(WireError::BadLength));
    }

    #[test]
    fn short_fixed_part_is_bad_length() {
        for len in 4..16u8 {
            let mut b = vec![3, 0, 0, len];
            b.resize(16, 0);
            assert_eq!(Chunk::decode(&b), Err(WireError::BadLength), "len {len}");
        }
    }

    #[test]
    fn trailing_bytes_are_ignored() {
        let b = [
            3, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef,
        ];
        let (c, n) = Chunk::decode(&b).expect("decode");
        assert_eq!(n, 20);
        assert_eq!(
            c,
            Chunk::Sack(Sack {
                cum_tsn_ack: 1,
                a_rwnd: 2,
                ..Sack::default()
            })
        );
    }

    #[test]
    fn malformed_headers() {
        assert_malformed_chunk_headers(&Chunk::Sack(Sack {
            cum_tsn_ack: 1,
            a_rwnd: 2,
            gap_blocks: vec![(2, 3)],
            dup_tsns: vec![4],
        }));
    }
}
