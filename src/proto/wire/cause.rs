//! Error causes carried by ABORT and ERROR
//! ([RFC 9260 §3.3.10](https://www.rfc-editor.org/rfc/rfc9260#section-3.3.10)).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           Cause Code          |         Cause Length          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! /                    Cause-Specific Information                 /
//! \                                                               \
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Causes with a fixed-size body reject a shorter body but ignore trailing
//! bytes: an ABORT must still abort even if a peer pads a cause oddly, and the
//! cause body is advisory anyway.

use super::bytes::{Reader, padded, put_tlv, put_u16, put_u32, split_tlv, walk_tlvs};
use super::{ErrorCause, WireError};

/// Cause codes (RFC 9260 §3.3.10.1–13).
pub mod cause_code {
    pub const INVALID_STREAM_IDENTIFIER: u16 = 1;
    pub const MISSING_MANDATORY_PARAMETER: u16 = 2;
    pub const STALE_COOKIE: u16 = 3;
    pub const OUT_OF_RESOURCE: u16 = 4;
    pub const UNRESOLVABLE_ADDRESS: u16 = 5;
    pub const UNRECOGNIZED_CHUNK_TYPE: u16 = 6;
    pub const INVALID_MANDATORY_PARAMETER: u16 = 7;
    pub const UNRECOGNIZED_PARAMETERS: u16 = 8;
    pub const NO_USER_DATA: u16 = 9;
    pub const COOKIE_RECEIVED_WHILE_SHUTTING_DOWN: u16 = 10;
    pub const RESTART_WITH_NEW_ADDRESSES: u16 = 11;
    pub const USER_INITIATED_ABORT: u16 = 12;
    pub const PROTOCOL_VIOLATION: u16 = 13;
}

use cause_code as cc;

impl ErrorCause {
    pub fn code(&self) -> u16 {
        match self {
            ErrorCause::InvalidStreamIdentifier { .. } => cc::INVALID_STREAM_IDENTIFIER,
            ErrorCause::MissingMandatoryParameter { .. } => cc::MISSING_MANDATORY_PARAMETER,
            ErrorCause::StaleCookie { .. } => cc::STALE_COOKIE,
            ErrorCause::OutOfResource => cc::OUT_OF_RESOURCE,
            ErrorCause::UnresolvableAddress { .. } => cc::UNRESOLVABLE_ADDRESS,
            ErrorCause::UnrecognizedChunkType { .. } => cc::UNRECOGNIZED_CHUNK_TYPE,
            ErrorCause::InvalidMandatoryParameter => cc::INVALID_MANDATORY_PARAMETER,
            ErrorCause::UnrecognizedParameters { .. } => cc::UNRECOGNIZED_PARAMETERS,
            ErrorCause::NoUserData { .. } => cc::NO_USER_DATA,
            ErrorCause::CookieReceivedWhileShuttingDown => cc::COOKIE_RECEIVED_WHILE_SHUTTING_DOWN,
            ErrorCause::RestartWithNewAddresses { .. } => cc::RESTART_WITH_NEW_ADDRESSES,
            ErrorCause::UserInitiatedAbort { .. } => cc::USER_INITIATED_ABORT,
            ErrorCause::ProtocolViolation { .. } => cc::PROTOCOL_VIOLATION,
            ErrorCause::Unknown { code, .. } => *code,
        }
    }

    fn value_len(&self) -> usize {
        match self {
            ErrorCause::InvalidStreamIdentifier { .. }
            | ErrorCause::StaleCookie { .. }
            | ErrorCause::NoUserData { .. } => 4,
            ErrorCause::MissingMandatoryParameter { missing } => 4 + 2 * missing.len(),
            ErrorCause::OutOfResource
            | ErrorCause::InvalidMandatoryParameter
            | ErrorCause::CookieReceivedWhileShuttingDown => 0,
            ErrorCause::UnresolvableAddress { address: v }
            | ErrorCause::UnrecognizedChunkType { chunk: v }
            | ErrorCause::UnrecognizedParameters { params: v }
            | ErrorCause::RestartWithNewAddresses { addresses: v }
            | ErrorCause::UserInitiatedAbort { reason: v }
            | ErrorCause::ProtocolViolation { info: v }
            | ErrorCause::Unknown { value: v, .. } => v.len(),
        }
    }

    /// The Cause Length field: header plus body, padding excluded.
    pub fn unpadded_len(&self) -> usize {
        4 + self.value_len()
    }

    /// Bytes [`ErrorCause::encode`] appends, padding included.
    pub fn encoded_len(&self) -> usize {
        padded(self.unpadded_len())
    }

    /// Appends the cause and its zero padding.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let code = self.code();
        match self {
            ErrorCause::InvalidStreamIdentifier { stream_id } => {
                // The second half-word is reserved and sent as zero.
                put_tlv(out, code, &[&stream_id.to_be_bytes()[..], &[0, 0]].concat());
            }
            ErrorCause::MissingMandatoryParameter { missing } => {
                let mut v = Vec::with_capacity(4 + 2 * missing.len());
                put_u32(&mut v, u32::try_from(missing.len()).unwrap_or(u32::MAX));
                for t in missing {
                    put_u16(&mut v, *t);
                }
                put_tlv(out, code, &v);
            }
            ErrorCause::StaleCookie { staleness_us: x } | ErrorCause::NoUserData { tsn: x } => {
                put_tlv(out, code, &x.to_be_bytes());
            }
            ErrorCause::OutOfResource
            | ErrorCause::InvalidMandatoryParameter
            | ErrorCause::CookieReceivedWhileShuttingDown => put_tlv(out, code, &[]),
            ErrorCause::UnresolvableAddress { address: v }
            | ErrorCause::UnrecognizedChunkType { chunk: v }
            | ErrorCause::UnrecognizedParameters { params: v }
            | ErrorCause::RestartWithNewAddresses { addresses: v }
            | ErrorCause::UserInitiatedAbort { reason: v }
            | ErrorCause::ProtocolViolation { info: v }
            | ErrorCause::Unknown { value: v, .. } => put_tlv(out, code, v),
        }
    }

    /// Decodes the cause at the start of `buf`; returns it and the bytes
    /// consumed (padding included when present).
    pub fn decode(buf: &[u8]) -> Result<(ErrorCause, usize), WireError> {
        let tlv = split_tlv(buf)?;
        Ok((Self::from_tlv(tlv.kind, tlv.value)?, tlv.consumed))
    }

    fn from_tlv(code: u16, value: &[u8]) -> Result<ErrorCause, WireError> {
        // A fixed-size body shorter than the RFC says is a length error, not
        // a truncated packet: the TLV itself was complete.
        let short = |_| WireError::BadLength;
        let mut r = Reader::new(value);
        Ok(match code {
            cc::INVALID_STREAM_IDENTIFIER => ErrorCause::InvalidStreamIdentifier {
                stream_id: r.u16().map_err(short)?,
            },
            cc::MISSING_MANDATORY_PARAMETER => {
                let n = r.u32().map_err(short)?;
                let n = usize::try_from(n).map_err(|_| WireError::BadLength)?;
                // Checked before allocating so a huge count cannot reserve memory.
                if n > r.remaining() / 2 {
                    return Err(WireError::BadLength);
                }
                let mut missing = Vec::with_capacity(n);
                for _ in 0..n {
                    missing.push(r.u16().map_err(short)?);
                }
                ErrorCause::MissingMandatoryParameter { missing }
            }
            cc::STALE_COOKIE => ErrorCause::StaleCookie {
                staleness_us: r.u32().map_err(short)?,
            },
            cc::OUT_OF_RESOURCE => ErrorCause::OutOfResource,
            cc::UNRESOLVABLE_ADDRESS => ErrorCause::UnresolvableAddress {
                address: value.to_vec(),
            },
            cc::UNRECOGNIZED_CHUNK_TYPE => ErrorCause::UnrecognizedChunkType {
                chunk: value.to_vec(),
            },
            cc::INVALID_MANDATORY_PARAMETER => ErrorCause::InvalidMandatoryParameter,
            cc::UNRECOGNIZED_PARAMETERS => ErrorCause::UnrecognizedParameters {
                params: value.to_vec(),
            },
            cc::NO_USER_DATA => ErrorCause::NoUserData {
                tsn: r.u32().map_err(short)?,
            },
            cc::COOKIE_RECEIVED_WHILE_SHUTTING_DOWN => ErrorCause::CookieReceivedWhileShuttingDown,
            cc::RESTART_WITH_NEW_ADDRESSES => ErrorCause::RestartWithNewAddresses {
                addresses: value.to_vec(),
            },
            cc::USER_INITIATED_ABORT => ErrorCause::UserInitiatedAbort {
                reason: value.to_vec(),
            },
            cc::PROTOCOL_VIOLATION => ErrorCause::ProtocolViolation {
                info: value.to_vec(),
            },
            _ => ErrorCause::Unknown {
                code,
                value: value.to_vec(),
            },
        })
    }
}

/// Decodes every cause in `buf` (the value of an ABORT or ERROR chunk).
pub fn decode_causes(buf: &[u8]) -> Result<Vec<ErrorCause>, WireError> {
    let mut causes = Vec::new();
    walk_tlvs(buf, |tlv| {
        causes.push(ErrorCause::from_tlv(tlv.kind, tlv.value)?);
        Ok(())
    })?;
    Ok(causes)
}

/// Length of `causes` inside a chunk: all padded except the last, whose
/// padding §3.2 leaves out of the Chunk Length.
pub(crate) fn causes_len(causes: &[ErrorCause]) -> usize {
    match causes.split_last() {
        Some((last, rest)) => {
            rest.iter().map(ErrorCause::encoded_len).sum::<usize>() + last.unpadded_len()
        }
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes_of(c: &ErrorCause) -> Vec<u8> {
        let mut out = Vec::new();
        c.encode(&mut out);
        out
    }

    fn round_trip(c: ErrorCause) -> Vec<u8> {
        let bytes = bytes_of(&c);
        assert_eq!(bytes.len(), c.encoded_len());
        assert_eq!(bytes.len() % 4, 0);
        assert_eq!(u16::from_be_bytes([bytes[0], bytes[1]]), c.code());
        assert_eq!(
            usize::from(u16::from_be_bytes([bytes[2], bytes[3]])),
            c.unpadded_len()
        );
        assert_eq!(ErrorCause::decode(&bytes), Ok((c.clone(), bytes.len())));
        let unpadded = &bytes[..c.unpadded_len()];
        assert_eq!(ErrorCause::decode(unpadded), Ok((c, unpadded.len())));
        bytes
    }

    /// Every fixed-size cause must reject each body shorter than its minimum.
    fn rejects_short_bodies(code: u16, min_body: usize) {
        for body in 0..min_body {
            let mut b = vec![0, 0, 0, 0];
            b[..2].copy_from_slice(&code.to_be_bytes());
            b[2..4].copy_from_slice(&(4 + body as u16).to_be_bytes());
            b.resize(4 + body, 0);
            assert_eq!(
                ErrorCause::decode(&b),
                Err(WireError::BadLength),
                "body {body}"
            );
        }
    }

    /// Header-level malformations every cause code must reject.
    fn rejects_bad_headers(code: u16) {
        let c = code.to_be_bytes();
        assert_eq!(
            ErrorCause::decode(&[c[0], c[1], 0]),
            Err(WireError::Truncated)
        );
        for len in 0..4 {
            assert_eq!(
                ErrorCause::decode(&[c[0], c[1], 0, len, 0, 0, 0, 0]),
                Err(WireError::BadLength)
            );
        }
        assert_eq!(
            ErrorCause::decode(&[c[0], c[1], 0, 40, 0, 0, 0, 0]),
            Err(WireError::BadLength)
        );
        // Padding beyond three bytes inside a cause list.
        let mut list = vec![c[0], c[1], 0, 8, 0, 0, 0, 0];
        list.extend_from_slice(&[0, 0, 0]);
        assert_eq!(decode_causes(&list), Err(WireError::BadPadding));
    }

    #[test]
    fn c01_invalid_stream_identifier() {
        let b = round_trip(ErrorCause::InvalidStreamIdentifier { stream_id: 0x1234 });
        assert_eq!(b, [0, 1, 0, 8, 0x12, 0x34, 0, 0]);
    }

    #[test]
    fn c01_invalid_stream_identifier_malformed() {
        rejects_short_bodies(1, 2);
        rejects_bad_headers(1);
    }

    #[test]
    fn c02_missing_mandatory_parameter() {
        round_trip(ErrorCause::MissingMandatoryParameter { missing: vec![7] });
        let b = round_trip(ErrorCause::MissingMandatoryParameter {
            missing: vec![7, 9],
        });
        assert_eq!(b, [0, 2, 0, 12, 0, 0, 0, 2, 0, 7, 0, 9]);
        round_trip(ErrorCause::MissingMandatoryParameter { missing: vec![] });
    }

    #[test]
    fn c02_missing_mandatory_parameter_malformed() {
        rejects_short_bodies(2, 4);
        rejects_bad_headers(2);
    }

    #[test]
    fn c02_count_past_body_is_bad_length() {
        let b = [0, 2, 0, 10, 0, 0, 0, 2, 0, 7, 0, 0];
        assert_eq!(ErrorCause::decode(&b), Err(WireError::BadLength));
        let huge = [0, 2, 0, 8, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(ErrorCause::decode(&huge), Err(WireError::BadLength));
    }

    #[test]
    fn c03_stale_cookie() {
        let b = round_trip(ErrorCause::StaleCookie {
            staleness_us: 1_500_000,
        });
        assert_eq!(&b[4..], 1_500_000u32.to_be_bytes());
    }

    #[test]
    fn c03_stale_cookie_malformed() {
        rejects_short_bodies(3, 4);
        rejects_bad_headers(3);
    }

    #[test]
    fn c04_out_of_resource() {
        assert_eq!(round_trip(ErrorCause::OutOfResource), [0, 4, 0, 4]);
    }

    #[test]
    fn c04_out_of_resource_malformed() {
        rejects_bad_headers(4);
    }

    #[test]
    fn c05_unresolvable_address() {
        round_trip(ErrorCause::UnresolvableAddress {
            address: vec![0, 11, 0, 6, b'a', 0, 0, 0],
        });
        round_trip(ErrorCause::UnresolvableAddress {
            address: vec![0, 5, 0, 8, 10, 0, 0, 1],
        });
    }

    #[test]
    fn c05_unresolvable_address_malformed() {
        rejects_bad_headers(5);
    }

    #[test]
    fn c06_unrecognized_chunk_type() {
        let b = round_trip(ErrorCause::UnrecognizedChunkType {
            chunk: vec![0x42, 0, 0, 5, 0xaa],
        });
        assert_eq!(b, [0, 6, 0, 9, 0x42, 0, 0, 5, 0xaa, 0, 0, 0]);
    }

    #[test]
    fn c06_unrecognized_chunk_type_malformed() {
        rejects_bad_headers(6);
    }

    #[test]
    fn c07_invalid_mandatory_parameter() {
        assert_eq!(
            round_trip(ErrorCause::InvalidMandatoryParameter),
            [0, 7, 0, 4]
        );
    }

    #[test]
    fn c07_invalid_mandatory_parameter_malformed() {
        rejects_bad_headers(7);
    }

    #[test]
    fn c08_unrecognized_parameters() {
        round_trip(ErrorCause::UnrecognizedParameters {
            params: vec![0x80, 0x08, 0, 9, 0xc0, 0x0f, 0xc1, 0x80, 0x82, 0, 0, 0],
        });
    }

    #[test]
    fn c08_unrecognized_parameters_malformed() {
        rejects_bad_headers(8);
    }

    #[test]
    fn c09_no_user_data() {
        let b = round_trip(ErrorCause::NoUserData { tsn: 0x0102_0304 });
        assert_eq!(b, [0, 9, 0, 8, 1, 2, 3, 4]);
    }

    #[test]
    fn c09_no_user_data_malformed() {
        rejects_short_bodies(9, 4);
        rejects_bad_headers(9);
    }

    #[test]
    fn c10_cookie_received_while_shutting_down() {
        assert_eq!(
            round_trip(ErrorCause::CookieReceivedWhileShuttingDown),
            [0, 10, 0, 4]
        );
    }

    #[test]
    fn c10_cookie_received_while_shutting_down_malformed() {
        rejects_bad_headers(10);
    }

    #[test]
    fn c11_restart_with_new_addresses() {
        round_trip(ErrorCause::RestartWithNewAddresses {
            addresses: vec![0, 5, 0, 8, 192, 0, 2, 7],
        });
    }

    #[test]
    fn c11_restart_with_new_addresses_malformed() {
        rejects_bad_headers(11);
    }

    #[test]
    fn c12_user_initiated_abort() {
        let b = round_trip(ErrorCause::UserInitiatedAbort {
            reason: b"bye".to_vec(),
        });
        assert_eq!(b, [0, 12, 0, 7, b'b', b'y', b'e', 0]);
        round_trip(ErrorCause::UserInitiatedAbort { reason: vec![] });
    }

    #[test]
    fn c12_user_initiated_abort_malformed() {
        rejects_bad_headers(12);
    }

    #[test]
    fn c13_protocol_violation() {
        round_trip(ErrorCause::ProtocolViolation {
            info: b"TSN beyond window".to_vec(),
        });
    }

    #[test]
    fn c13_protocol_violation_malformed() {
        rejects_bad_headers(13);
    }

    #[test]
    fn unknown_cause() {
        round_trip(ErrorCause::Unknown {
            code: 0x00ff,
            value: vec![1, 2, 3, 4, 5],
        });
        round_trip(ErrorCause::Unknown {
            code: 0xffff,
            value: vec![],
        });
    }

    #[test]
    fn unknown_cause_malformed() {
        rejects_bad_headers(0x00ff);
    }

    #[test]
    fn fixed_causes_ignore_trailing_bytes() {
        let b = [0, 3, 0, 12, 0, 0, 0, 5, 9, 9, 9, 9];
        assert_eq!(
            ErrorCause::decode(&b),
            Ok((ErrorCause::StaleCookie { staleness_us: 5 }, 12))
        );
        assert_eq!(
            ErrorCause::decode(&[0, 4, 0, 8, 1, 2, 3, 4]),
            Ok((ErrorCause::OutOfResource, 8))
        );
    }

    #[test]
    fn cause_codes_are_one_to_thirteen() {
        let all = [
            ErrorCause::InvalidStreamIdentifier { stream_id: 0 },
            ErrorCause::MissingMandatoryParameter { missing: vec![] },
            ErrorCause::StaleCookie { staleness_us: 0 },
            ErrorCause::OutOfResource,
            ErrorCause::UnresolvableAddress { address: vec![] },
            ErrorCause::UnrecognizedChunkType { chunk: vec![] },
            ErrorCause::InvalidMandatoryParameter,
            ErrorCause::UnrecognizedParameters { params: vec![] },
            ErrorCause::NoUserData { tsn: 0 },
            ErrorCause::CookieReceivedWhileShuttingDown,
            ErrorCause::RestartWithNewAddresses { addresses: vec![] },
            ErrorCause::UserInitiatedAbort { reason: vec![] },
            ErrorCause::ProtocolViolation { info: vec![] },
        ];
        for (i, c) in all.iter().enumerate() {
            assert_eq!(usize::from(c.code()), i + 1);
            round_trip(c.clone());
        }
        let mut buf = Vec::new();
        for c in &all {
            c.encode(&mut buf);
        }
        assert_eq!(decode_causes(&buf), Ok(all.to_vec()));
        assert_eq!(causes_len(&all), buf.len());
    }

    #[test]
    fn causes_len_excludes_last_padding() {
        let list = [
            ErrorCause::UserInitiatedAbort { reason: vec![1] },
            ErrorCause::UserInitiatedAbort { reason: vec![1] },
        ];
        assert_eq!(causes_len(&list), 8 + 5);
        assert_eq!(causes_len(&[]), 0);
    }
}
