//! Variable-length parameters of INIT and INIT ACK
//! ([RFC 9260 §3.2.1](https://www.rfc-editor.org/rfc/rfc9260#section-3.2.1),
//! [§3.3.2.1](https://www.rfc-editor.org/rfc/rfc9260#section-3.3.2.1),
//! [§3.3.3.1](https://www.rfc-editor.org/rfc/rfc9260#section-3.3.3.1)).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          Parameter Type       |       Parameter Length        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! \                                                               \
//! /                       Parameter Value                         /
//! \                                                               \
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Parameters the decoder does not model (the usrsctp INIT carries ECN,
//! Forward-TSN, AUTH and Supported Extensions) survive as `Param::Unknown`
//! so the association can apply the upper-two-bit rule of §3.2.1 and echo
//! them in an Unrecognized Parameter.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::bytes::{Reader, padded, put_tlv, put_u16, split_tlv, walk_tlvs};
use super::{Param, WireError, param_type};

impl Param {
    pub fn param_type(&self) -> u16 {
        match self {
            Param::Ipv4Address(_) => param_type::IPV4_ADDRESS,
            Param::Ipv6Address(_) => param_type::IPV6_ADDRESS,
            Param::StateCookie(_) => param_type::STATE_COOKIE,
            Param::UnrecognizedParameter(_) => param_type::UNRECOGNIZED_PARAMETER,
            Param::CookiePreservative(_) => param_type::COOKIE_PRESERVATIVE,
            Param::HostNameAddress(_) => param_type::HOST_NAME_ADDRESS,
            Param::SupportedAddressTypes(_) => param_type::SUPPORTED_ADDRESS_TYPES,
            Param::Unknown { param_type, .. } => *param_type,
        }
    }

    /// Length of the value alone, without header or padding.
    fn value_len(&self) -> usize {
        match self {
            Param::Ipv4Address(_) => 4,
            Param::Ipv6Address(_) => 16,
            Param::CookiePreservative(_) => 4,
            Param::SupportedAddressTypes(types) => 2 * types.len(),
            Param::StateCookie(v)
            | Param::UnrecognizedParameter(v)
            | Param::HostNameAddress(v)
            | Param::Unknown { value: v, .. } => v.len(),
        }
    }

    /// The Parameter Length field: header plus value, padding excluded.
    pub fn unpadded_len(&self) -> usize {
        4 + self.value_len()
    }

    /// Bytes [`Param::encode`] appends, padding included.
    pub fn encoded_len(&self) -> usize {
        padded(self.unpadded_len())
    }

    /// Appends the parameter and its zero padding.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let kind = self.param_type();
        match self {
            Param::Ipv4Address(a) => put_tlv(out, kind, &a.octets()),
            Param::Ipv6Address(a) => put_tlv(out, kind, &a.octets()),
            Param::CookiePreservative(ms) => put_tlv(out, kind, &ms.to_be_bytes()),
            Param::SupportedAddressTypes(types) => {
                let mut value = Vec::with_capacity(2 * types.len());
                for t in types {
                    put_u16(&mut value, *t);
                }
                put_tlv(out, kind, &value);
            }
            Param::StateCookie(v)
            | Param::UnrecognizedParameter(v)
            | Param::HostNameAddress(v)
            | Param::Unknown { value: v, .. } => put_tlv(out, kind, v),
        }
    }

    /// Decodes the parameter at the start of `buf`; returns it and the bytes
    /// consumed (padding included when present).
    pub fn decode(buf: &[u8]) -> Result<(Param, usize), WireError> {
        let tlv = split_tlv(buf)?;
        Ok((Self::from_tlv(tlv.kind, tlv.value)?, tlv.consumed))
    }

    fn from_tlv(kind: u16, value: &[u8]) -> Result<Param, WireError> {
        Ok(match kind {
            param_type::IPV4_ADDRESS => {
                let octets: [u8; 4] = value.try_into().map_err(|_| WireError::BadLength)?;
                Param::Ipv4Address(Ipv4Addr::from(octets))
            }
            param_type::IPV6_ADDRESS => {
                let octets: [u8; 16] = value.try_into().map_err(|_| WireError::BadLength)?;
                Param::Ipv6Address(Ipv6Addr::from(octets))
            }
            param_type::COOKIE_PRESERVATIVE => {
                let b: [u8; 4] = value.try_into().map_err(|_| WireError::BadLength)?;
                Param::CookiePreservative(u32::from_be_bytes(b))
            }
            param_type::SUPPORTED_ADDRESS_TYPES => {
                if !value.len().is_multiple_of(2) {
                    return Err(WireError::BadLength);
                }
                let mut r = Reader::new(value);
                let mut types = Vec::with_capacity(value.len() / 2);
                while r.remaining() > 0 {
                    types.push(r.u16()?);
                }
                Param::SupportedAddressTypes(types)
            }
            param_type::STATE_COOKIE => Param::StateCookie(value.to_vec()),
            param_type::UNRECOGNIZED_PARAMETER => Param::UnrecognizedParameter(value.to_vec()),
            param_type::HOST_NAME_ADDRESS => Param::HostNameAddress(value.to_vec()),
            _ => Param::Unknown {
                param_type: kind,
                value: value.to_vec(),
            },
        })
    }

    /// The parameter as it appears on the wire (padding included), e.g. for
    /// echoing in an Unrecognized Parameter.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode(&mut out);
        out
    }
}

/// Decodes every parameter in `buf` (the part of an INIT / INIT ACK after the
/// fixed fields).
pub fn decode_params(buf: &[u8]) -> Result<Vec<Param>, WireError> {
    let mut params = Vec::new();
    walk_tlvs(buf, |tlv| {
        params.push(Param::from_tlv(tlv.kind, tlv.value)?);
        Ok(())
    })?;
    Ok(params)
}

/// Length of `params` inside a chunk: all padded except the last, whose
/// padding §3.2 leaves out of the Chunk Length.
pub(crate) fn params_len(params: &[Param]) -> usize {
    match params.split_last() {
        Some((last, rest)) => {
            rest.iter().map(Param::encoded_len).sum::<usize>() + last.unpadded_len()
        }
        None => 0,
    }
}

/// Helpers to read a few well-known parameters out of a list without each
/// caller writing the same `find_map`.
pub fn find_state_cookie(params: &[Param]) -> Option<&[u8]> {
    params.iter().find_map(|p| match p {
        Param::StateCookie(c) => Some(c.as_slice()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(p: Param) {
        let bytes = p.to_bytes();
        assert_eq!(bytes.len(), p.encoded_len());
        assert_eq!(bytes.len() % 4, 0);
        assert_eq!(
            usize::from(u16::from_be_bytes([bytes[2], bytes[3]])),
            p.unpadded_len()
        );
        assert_eq!(Param::decode(&bytes), Ok((p.clone(), bytes.len())));
        // The last parameter of a chunk may arrive without its padding.
        let unpadded = &bytes[..p.unpadded_len()];
        assert_eq!(Param::decode(unpadded), Ok((p, unpadded.len())));
    }

    /// Header-level malformations every parameter type must reject.
    fn assert_malformed(p: Param) {
        let b = p.to_bytes();
        let n = p.unpadded_len();
        for k in 0..4 {
            assert_eq!(Param::decode(&b[..k]), Err(WireError::Truncated), "cut {k}");
        }
        for len in 0..4u8 {
            let mut m = b.clone();
            m[2] = 0;
            m[3] = len;
            assert_eq!(Param::decode(&m), Err(WireError::BadLength), "len {len}");
        }
        if n > 4 {
            assert_eq!(Param::decode(&b[..n - 1]), Err(WireError::BadLength));
        }
        let mut max = b.clone();
        max[2..4].copy_from_slice(&[0xff, 0xff]);
        assert_eq!(Param::decode(&max), Err(WireError::BadLength));
        for extra in 1..4 {
            let mut m = b.clone();
            m.extend(std::iter::repeat_n(0, extra));
            assert_eq!(
                decode_params(&m),
                Err(WireError::BadPadding),
                "extra {extra}"
            );
        }
        // A padded parameter followed by a second one must also parse.
        let mut two = b.clone();
        two.extend_from_slice(&b);
        assert_eq!(decode_params(&two), Ok(vec![p.clone(), p]));
    }

    #[test]
    fn ipv4_malformed() {
        assert_malformed(Param::Ipv4Address(Ipv4Addr::new(10, 1, 2, 3)));
    }

    #[test]
    fn ipv6_malformed() {
        assert_malformed(Param::Ipv6Address(Ipv6Addr::UNSPECIFIED));
    }

    #[test]
    fn state_cookie_malformed() {
        assert_malformed(Param::StateCookie(vec![0x11; 37]));
    }

    #[test]
    fn unrecognized_parameter_malformed() {
        assert_malformed(Param::UnrecognizedParameter(vec![0xc0, 0x05, 0, 5, 1]));
    }

    #[test]
    fn cookie_preservative_malformed() {
        assert_malformed(Param::CookiePreservative(60_000));
    }

    #[test]
    fn host_name_malformed() {
        assert_malformed(Param::HostNameAddress(b"host.example\0".to_vec()));
    }

    #[test]
    fn supported_address_types_malformed() {
        assert_malformed(Param::SupportedAddressTypes(vec![5, 6, 11]));
    }

    #[test]
    fn unknown_malformed() {
        assert_malformed(Param::Unknown {
            param_type: 0x8002,
            value: vec![0x42; 32],
        });
    }

    #[test]
    fn unknown_params_keep_their_type_for_the_upper_bit_rules() {
        for t in [0x0003u16, 0x4000, 0x8000, 0xc000, 0x8008, 0xc006, 1] {
            let (p, _) = Param::decode(&[(t >> 8) as u8, t as u8, 0, 5, 9, 0, 0, 0]).expect("ok");
            assert_eq!(
                p,
                Param::Unknown {
                    param_type: t,
                    value: vec![9]
                }
            );
            assert_eq!(p.param_type(), t);
        }
    }

    #[test]
    fn ipv4_round_trip() {
        round_trip(Param::Ipv4Address(Ipv4Addr::new(192, 0, 2, 2)));
    }

    #[test]
    fn ipv6_round_trip() {
        round_trip(Param::Ipv6Address(Ipv6Addr::new(
            0x2001, 0xdb8, 0, 0, 0, 0, 0, 1,
        )));
    }

    #[test]
    fn state_cookie_round_trip() {
        round_trip(Param::StateCookie((0..=200).collect()));
        round_trip(Param::StateCookie(vec![1, 2, 3]));
        round_trip(Param::StateCookie(Vec::new()));
    }

    #[test]
    fn unrecognized_parameter_round_trip() {
        round_trip(Param::UnrecognizedParameter(vec![
            0x80, 0x08, 0x00, 0x05, 0xc1, 0, 0, 0,
        ]));
    }

    #[test]
    fn cookie_preservative_round_trip() {
        round_trip(Param::CookiePreservative(0xdead_beef));
    }

    #[test]
    fn host_name_round_trip() {
        round_trip(Param::HostNameAddress(b"example.org\0".to_vec()));
        round_trip(Param::HostNameAddress(b"a\0".to_vec()));
    }

    #[test]
    fn supported_address_types_round_trip() {
        round_trip(Param::SupportedAddressTypes(vec![5]));
        round_trip(Param::SupportedAddressTypes(vec![5, 6]));
        round_trip(Param::SupportedAddressTypes(vec![5, 6, 11]));
        round_trip(Param::SupportedAddressTypes(Vec::new()));
    }

    #[test]
    fn unknown_round_trip() {
        round_trip(Param::Unknown {
            param_type: 0x8008,
            value: vec![0xc0, 0x0f, 0xc1, 0x80, 0x82],
        });
        round_trip(Param::Unknown {
            param_type: 0xc000,
            value: Vec::new(),
        });
    }

    #[test]
    fn param_type_numbers() {
        assert_eq!(Param::StateCookie(vec![]).param_type(), 7);
        assert_eq!(Param::UnrecognizedParameter(vec![]).param_type(), 8);
        assert_eq!(Param::CookiePreservative(0).param_type(), 9);
        assert_eq!(Param::HostNameAddress(vec![]).param_type(), 11);
        assert_eq!(Param::SupportedAddressTypes(vec![]).param_type(), 12);
        assert_eq!(Param::Ipv4Address(Ipv4Addr::LOCALHOST).param_type(), 5);
        assert_eq!(Param::Ipv6Address(Ipv6Addr::LOCALHOST).param_type(), 6);
    }

    #[test]
    fn ipv4_wrong_length_is_bad_length() {
        assert_eq!(
            Param::decode(&[0, 5, 0, 7, 1, 2, 3, 0]),
            Err(WireError::BadLength)
        );
        assert_eq!(
            Param::decode(&[0, 5, 0, 12, 1, 2, 3, 4, 5, 6, 7, 8]),
            Err(WireError::BadLength)
        );
    }

    #[test]
    fn ipv6_wrong_length_is_bad_length() {
        let mut b = vec![0, 6, 0, 8];
        b.extend_from_slice(&[0; 4]);
        assert_eq!(Param::decode(&b), Err(WireError::BadLength));
    }

    #[test]
    fn cookie_preservative_wrong_length_is_bad_length() {
        assert_eq!(
            Param::decode(&[0, 9, 0, 6, 1, 2, 0, 0]),
            Err(WireError::BadLength)
        );
    }

    #[test]
    fn odd_supported_address_types_is_bad_length() {
        assert_eq!(
            Param::decode(&[0, 12, 0, 7, 0, 5, 0, 0]),
            Err(WireError::BadLength)
        );
    }

    #[test]
    fn length_below_four_is_bad_length() {
        for len in 0..4u8 {
            assert_eq!(
                Param::decode(&[0, 7, 0, len, 0, 0, 0, 0]),
                Err(WireError::BadLength)
            );
        }
    }

    #[test]
    fn truncated_header() {
        assert_eq!(Param::decode(&[]), Err(WireError::Truncated));
        assert_eq!(Param::decode(&[0, 7, 0]), Err(WireError::Truncated));
    }

    #[test]
    fn length_past_buffer() {
        let b = Param::StateCookie(vec![9; 10]).to_bytes();
        assert_eq!(Param::decode(&b[..10]), Err(WireError::BadLength));
    }

    #[test]
    fn decode_params_list_and_padding_rules() {
        let list = vec![
            Param::SupportedAddressTypes(vec![5]),
            Param::Ipv4Address(Ipv4Addr::new(127, 0, 0, 1)),
            Param::HostNameAddress(b"x\0".to_vec()),
        ];
        let mut buf = Vec::new();
        for p in &list {
            p.encode(&mut buf);
        }
        assert_eq!(decode_params(&buf), Ok(list.clone()));
        assert_eq!(params_len(&list), buf.len() - 2);
        // Without the final padding.
        assert_eq!(decode_params(&buf[..buf.len() - 2]), Ok(list.clone()));
        // Extra padding beyond three bytes.
        let mut extra = buf.clone();
        extra.extend_from_slice(&[0, 0]);
        assert_eq!(decode_params(&extra), Err(WireError::BadPadding));
        assert_eq!(decode_params(&[]), Ok(vec![]));
    }

    #[test]
    fn decode_params_propagates_inner_error() {
        let buf = [0, 5, 0, 6, 1, 2, 0, 0];
        assert_eq!(decode_params(&buf), Err(WireError::BadLength));
    }

    #[test]
    fn find_state_cookie_picks_cookie() {
        let list = [Param::CookiePreservative(1), Param::StateCookie(vec![4, 2])];
        assert_eq!(find_state_cookie(&list), Some(&[4u8, 2][..]));
        assert_eq!(find_state_cookie(&list[..1]), None);
    }
}
