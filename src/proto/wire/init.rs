//! INIT and INIT ACK ([RFC 9260 §3.3.2](https://www.rfc-editor.org/rfc/rfc9260#section-3.3.2),
//! [§3.3.3](https://www.rfc-editor.org/rfc/rfc9260#section-3.3.3)).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Type = 1 (2) |  Chunk Flags  |          Chunk Length         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                         Initiate Tag                          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          Advertised Receiver Window Credit (a_rwnd)           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Number of Outbound Streams   |   Number of Inbound Streams   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                          Initial TSN                          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! \                                                               \
//! /              Optional/Variable-Length Parameters              /
//! \                                                               \
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Zero Initiate Tag or zero stream counts are *not* rejected here: §5.1
//! prescribes different reactions (silent discard vs. ABORT), which the
//! association chooses; [`Init::check_values`] is there to help it.

use super::bytes::{Reader, put_u16, put_u32};
use super::chunk::Body;
use super::param::{decode_params, params_len};
use super::{Init, WireError};

impl Init {
    /// Initiate Tag, a_rwnd, stream counts and Initial TSN.
    pub const FIXED_LEN: usize = 16;

    /// `Err(InvalidValue)` if the Initiate Tag or either stream count is zero
    /// (values §3.3.2 forbids).
    pub fn check_values(&self) -> Result<(), WireError> {
        if self.initiate_tag == 0 || self.outbound_streams == 0 || self.inbound_streams == 0 {
            Err(WireError::InvalidValue)
        } else {
            Ok(())
        }
    }
}

impl Body for Init {
    fn value_len(&self) -> usize {
        Self::FIXED_LEN + params_len(&self.params)
    }

    fn encode_value(&self, out: &mut Vec<u8>) {
        put_u32(out, self.initiate_tag);
        put_u32(out, self.a_rwnd);
        put_u16(out, self.outbound_streams);
        put_u16(out, self.inbound_streams);
        put_u32(out, self.initial_tsn);
        for p in &self.params {
            p.encode(out);
        }
    }

    fn decode_value(_flags: u8, value: &[u8]) -> Result<Self, WireError> {
        if value.len() < Self::FIXED_LEN {
            return Err(WireError::BadLength);
        }
        let mut r = Reader::new(value);
        Ok(Init {
            initiate_tag: r.u32()?,
            a_rwnd: r.u32()?,
            outbound_streams: r.u16()?,
            inbound_streams: r.u16()?,
            initial_tsn: r.u32()?,
            params: decode_params(r.rest())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::super::test_util::*;
    use super::super::{Chunk, Param, WireError};
    use super::*;

    fn sample(params: Vec<Param>) -> Init {
        Init {
            initiate_tag: 0x1122_3344,
            a_rwnd: 106_496,
            outbound_streams: 10,
            inbound_streams: 2048,
            initial_tsn: 0x55aa_55aa,
            params,
        }
    }

    fn all_params() -> Vec<Param> {
        vec![
            Param::Ipv4Address(Ipv4Addr::new(10, 0, 0, 1)),
            Param::Ipv6Address(Ipv6Addr::LOCALHOST),
            Param::CookiePreservative(2000),
            Param::HostNameAddress(b"h\0".to_vec()),
            Param::SupportedAddressTypes(vec![5, 6, 11]),
            Param::Unknown {
                param_type: 0x8000,
                value: vec![],
            },
            Param::Unknown {
                param_type: 0x8008,
                value: vec![0xc0, 0x0f, 0xc1, 0x80, 0x82],
            },
        ]
    }

    #[test]
    fn init_round_trip_no_params() {
        let b = assert_chunk_round_trip(&Chunk::Init(sample(vec![])));
        assert_eq!(b.len(), 20);
        assert_eq!(&b[..4], [1, 0, 0, 20]);
    }

    #[test]
    fn init_round_trip_all_params() {
        assert_chunk_round_trip(&Chunk::Init(sample(all_params())));
    }

    #[test]
    fn init_ack_round_trip_with_cookie() {
        let mut params = vec![Param::StateCookie((0..=99).collect())];
        params.push(Param::UnrecognizedParameter(vec![
            0x80, 0x0a, 0, 5, 1, 0, 0, 0,
        ]));
        params.extend(all_params());
        let b = assert_chunk_round_trip(&Chunk::InitAck(sample(params)));
        assert_eq!(b[0], 2);
    }

    #[test]
    fn chunk_length_excludes_last_param_padding() {
        let c = Chunk::Init(sample(vec![Param::SupportedAddressTypes(vec![5])]));
        let b = assert_chunk_round_trip(&c);
        assert_eq!(u16::from_be_bytes([b[2], b[3]]), 4 + 16 + 6);
        assert_eq!(b.len(), 28);
    }

    #[test]
    fn chunk_length_including_last_param_padding_is_accepted() {
        let c = Chunk::Init(sample(vec![Param::SupportedAddressTypes(vec![5])]));
        let mut b = c.to_bytes();
        b[3] = 28;
        assert_eq!(Chunk::decode(&b), Ok((c, 28)));
    }

    #[test]
    fn unknown_params_are_kept() {
        let c = Chunk::Init(sample(vec![Param::Unknown {
            param_type: 0x4001,
            value: vec![1, 2, 3],
        }]));
        assert_chunk_round_trip(&c);
    }

    #[test]
    fn short_fixed_part_is_bad_length() {
        for kind in [1u8, 2] {
            for len in 4..20u8 {
                let mut b = vec![kind, 0, 0, len];
                b.resize(20, 0);
                assert_eq!(Chunk::decode(&b), Err(WireError::BadLength), "len {len}");
            }
        }
    }

    #[test]
    fn bad_param_is_rejected() {
        let mut b = Chunk::Init(sample(vec![Param::Ipv4Address(Ipv4Addr::LOCALHOST)])).to_bytes();
        // IPv4 param claiming 7 bytes.
        b[23] = 7;
        b[3] = 27;
        assert_eq!(Chunk::decode(&b), Err(WireError::BadLength));
    }

    #[test]
    fn param_running_past_chunk_is_bad_length() {
        let mut b = Chunk::Init(sample(vec![Param::StateCookie(vec![0; 8])])).to_bytes();
        b[23] = 40;
        assert_eq!(Chunk::decode(&b), Err(WireError::BadLength));
    }

    #[test]
    fn params_trailing_bytes_are_bad_padding() {
        let mut b = Chunk::Init(sample(vec![])).to_bytes();
        b.extend_from_slice(&[0, 0, 0, 0]);
        b[3] = 22;
        assert_eq!(Chunk::decode(&b), Err(WireError::BadPadding));
    }

    #[test]
    fn malformed_headers() {
        assert_malformed_chunk_headers(&Chunk::Init(sample(all_params())));
        assert_malformed_chunk_headers(&Chunk::InitAck(sample(vec![Param::StateCookie(vec![
            1;
            33
        ])])));
    }

    #[test]
    fn check_values_flags_zero_fields() {
        assert_eq!(sample(vec![]).check_values(), Ok(()));
        let zero_tag = Init {
            initiate_tag: 0,
            ..sample(vec![])
        };
        assert_eq!(zero_tag.check_values(), Err(WireError::InvalidValue));
        let zero_os = Init {
            outbound_streams: 0,
            ..sample(vec![])
        };
        assert_eq!(zero_os.check_values(), Err(WireError::InvalidValue));
        let zero_mis = Init {
            inbound_streams: 0,
            ..sample(vec![])
        };
        assert_eq!(zero_mis.check_values(), Err(WireError::InvalidValue));
        // The decoder itself does not reject them.
        assert_chunk_round_trip(&Chunk::Init(zero_tag));
    }
}
