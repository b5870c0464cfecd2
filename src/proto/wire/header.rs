//! The SCTP common header, the packet as a whole and its CRC32c
//! ([RFC 9260 §3.1](https://www.rfc-editor.org/rfc/rfc9260#section-3.1),
//! [Appendix B](https://www.rfc-editor.org/rfc/rfc9260#appendix-B)).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     Source Port Number        |     Destination Port Number   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                      Verification Tag                         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                           Checksum                            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Unlike every other field, the checksum is stored **little-endian**:
//! Appendix B's reference code writes the reflected CRC's bytes low first.
//! Both the Linux kernel and usrsctp captures confirm this (the standard
//! CRC32c of each captured packet, with the field zeroed, equals the field
//! read as little-endian).

use super::bytes::{Reader, put_u16, put_u32};
use super::chunk::{decode_chunks, decode_chunks_partial};
use super::{BadChunk, Packet, WireError};

/// Byte offset of the checksum field in the common header.
const CHECKSUM_AT: usize = 8;

/// CRC32c of `packet` (common header + chunks) computed as if the checksum
/// field were zero, as §6.8 requires. Compare with, or store as,
/// `u32::to_le_bytes`.
pub fn checksum(packet: &[u8]) -> u32 {
    let head = packet.get(..CHECKSUM_AT).unwrap_or(packet);
    let tail = packet.get(Packet::HEADER_LEN..).unwrap_or_default();
    // Bytes of a checksum field cut short by the end of the buffer are still
    // counted as zeros only for the part that exists.
    let field_len = packet
        .len()
        .saturating_sub(CHECKSUM_AT)
        .min(Packet::HEADER_LEN - CHECKSUM_AT);
    let zeros = [0u8; Packet::HEADER_LEN - CHECKSUM_AT];
    let crc = crc32c::crc32c(head);
    let crc = crc32c::crc32c_append(crc, zeros.get(..field_len).unwrap_or_default());
    crc32c::crc32c_append(crc, tail)
}

/// The checksum as stored in the packet, if the header is complete.
pub fn stored_checksum(packet: &[u8]) -> Option<u32> {
    let b: [u8; 4] = packet
        .get(CHECKSUM_AT..Packet::HEADER_LEN)?
        .try_into()
        .ok()?;
    Some(u32::from_le_bytes(b))
}

impl Packet {
    /// Size of the common header.
    pub const HEADER_LEN: usize = 12;

    /// (source port, destination port, verification tag), read without
    /// touching the chunks, e.g. to find the association before decoding.
    pub fn peek_header(buf: &[u8]) -> Option<(u16, u16, u32)> {
        let mut r = Reader::new(buf.get(..Self::HEADER_LEN)?);
        Some((r.u16().ok()?, r.u16().ok()?, r.u32().ok()?))
    }

    /// Verifies the CRC32c, then decodes.
    pub fn decode(buf: &[u8]) -> Result<Packet, WireError> {
        let stored = stored_checksum(buf).ok_or(WireError::Truncated)?;
        if stored != checksum(buf) {
            return Err(WireError::BadChecksum);
        }
        Self::decode_unverified(buf)
    }

    /// Decodes without checking the CRC32c (for callers that already did,
    /// or for transports that make it redundant).
    pub fn decode_unverified(buf: &[u8]) -> Result<Packet, WireError> {
        let mut r = Reader::new(buf);
        let src_port = r.u16()?;
        let dst_port = r.u16()?;
        let verification_tag = r.u32()?;
        let _checksum = r.u32()?;
        Ok(Packet {
            src_port,
            dst_port,
            verification_tag,
            chunks: decode_chunks(r.rest())?,
        })
    }

    /// Verifies the CRC32c, then decodes the chunks up to the first
    /// malformed one, returned apart (see [`decode_chunks_partial`]).
    pub fn decode_partial(buf: &[u8]) -> Result<(Packet, Option<BadChunk>), WireError> {
        let stored = stored_checksum(buf).ok_or(WireError::Truncated)?;
        if stored != checksum(buf) {
            return Err(WireError::BadChecksum);
        }
        let mut r = Reader::new(buf);
        let src_port = r.u16()?;
        let dst_port = r.u16()?;
        let verification_tag = r.u32()?;
        let _checksum = r.u32()?;
        let (chunks, bad) = decode_chunks_partial(r.rest())?;
        let p = Packet {
            src_port,
            dst_port,
            verification_tag,
            chunks,
        };
        Ok((p, bad))
    }

    /// Bytes [`Packet::encode`] produces.
    pub fn encoded_len(&self) -> usize {
        Self::HEADER_LEN + self.chunks.iter().map(|c| c.encoded_len()).sum::<usize>()
    }

    /// The packet with its checksum filled in.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode_into(&mut out);
        out
    }

    /// Appends the packet to `out` (whatever `out` already holds is left
    /// alone and excluded from the checksum).
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let start = out.len();
        put_u16(out, self.src_port);
        put_u16(out, self.dst_port);
        put_u32(out, self.verification_tag);
        put_u32(out, 0);
        for c in &self.chunks {
            c.encode(out);
        }
        let Some(packet) = out.get(start..) else {
            return;
        };
        let crc = checksum(packet).to_le_bytes();
        if let Some(field) = out.get_mut(start + CHECKSUM_AT..start + Self::HEADER_LEN) {
            field.copy_from_slice(&crc);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{every_cause, hex};
    use super::super::{
        Abort, Chunk, CookieEcho, DataChunk, ErrorChunk, Heartbeat, Init, Param, Sack, Shutdown,
        ShutdownComplete, UnknownChunk,
    };
    use super::*;

    fn sample() -> Packet {
        Packet {
            src_port: 5000,
            dst_port: 5001,
            verification_tag: 0xdead_beef,
            chunks: vec![
                Chunk::CookieEcho(CookieEcho {
                    cookie: vec![1, 2, 3],
                }),
                Chunk::Data(DataChunk {
                    beginning: true,
                    ending: true,
                    tsn: 1,
                    payload: b"hi".to_vec(),
                    ..DataChunk::default()
                }),
            ],
        }
    }

    #[test]
    fn checksum_matches_rfc_test_vector() {
        // CRC32c("123456789") = 0xE3069283 (RFC 3720 B.4 / iSCSI check value).
        assert_eq!(crc32c::crc32c(b"123456789"), 0xe306_9283);
    }

    #[test]
    fn checksum_ignores_stored_field() {
        let mut p = sample().encode();
        let c = checksum(&p);
        p[8..12].copy_from_slice(&[0x12, 0x34, 0x56, 0x78]);
        assert_eq!(checksum(&p), c);
    }

    #[test]
    fn checksum_is_little_endian_on_wire() {
        // COOKIE ACK from Linux (usrsctp-client_linux-no-listener_abort frame 6).
        let p = hex("1388c195abd6671fd1be85a70b000004");
        assert_eq!(checksum(&p), 0xa785_bed1);
        assert_eq!(stored_checksum(&p), Some(0xa785_bed1));
    }

    #[test]
    fn checksum_of_short_buffers_does_not_panic() {
        for n in 0..16 {
            let _ = checksum(&vec![0xab; n]);
        }
    }

    #[test]
    fn round_trip() {
        let p = sample();
        let b = p.encode();
        assert_eq!(b.len(), p.encoded_len());
        assert_eq!(Packet::decode(&b), Ok(p.clone()));
        assert_eq!(Packet::decode_unverified(&b), Ok(p));
    }

    #[test]
    fn round_trip_no_chunks() {
        let p = Packet {
            src_port: 1,
            dst_port: 2,
            verification_tag: 3,
            chunks: vec![],
        };
        let b = p.encode();
        assert_eq!(b.len(), 12);
        assert_eq!(Packet::decode(&b), Ok(p));
    }

    #[test]
    fn encode_into_appends_and_checksums_only_its_part() {
        let p = sample();
        let mut out = vec![0xee; 5];
        p.encode_into(&mut out);
        assert_eq!(&out[..5], [0xee; 5]);
        assert_eq!(&out[5..], p.encode().as_slice());
        assert_eq!(Packet::decode(&out[5..]), Ok(p));
    }

    #[test]
    fn bad_checksum_rejected_but_unverified_accepts() {
        let p = sample();
        let mut b = p.encode();
        b[8] ^= 1;
        assert_eq!(Packet::decode(&b), Err(WireError::BadChecksum));
        assert_eq!(Packet::decode_unverified(&b), Ok(p));
    }

    #[test]
    fn any_bit_flip_is_caught() {
        let b = sample().encode();
        for i in 0..b.len() {
            for bit in 0..8 {
                let mut m = b.clone();
                m[i] ^= 1 << bit;
                assert_eq!(Packet::decode(&m), Err(WireError::BadChecksum), "{i}/{bit}");
            }
        }
    }

    #[test]
    fn big_endian_checksum_rejected() {
        let mut b = sample().encode();
        let c = checksum(&b);
        b[8..12].copy_from_slice(&c.to_be_bytes());
        if c.swap_bytes() != c {
            assert_eq!(Packet::decode(&b), Err(WireError::BadChecksum));
        }
    }

    #[test]
    fn short_header_is_truncated() {
        for n in 0..12 {
            assert_eq!(Packet::decode(&vec![0; n]), Err(WireError::Truncated));
            assert_eq!(
                Packet::decode_unverified(&vec![0; n]),
                Err(WireError::Truncated)
            );
        }
    }

    #[test]
    fn peek_header_reads_ports_and_tag() {
        let b = sample().encode();
        assert_eq!(Packet::peek_header(&b), Some((5000, 5001, 0xdead_beef)));
        assert_eq!(
            Packet::peek_header(&b[..12]),
            Some((5000, 5001, 0xdead_beef))
        );
        assert_eq!(Packet::peek_header(&b[..11]), None);
    }

    #[test]
    fn trailing_garbage_is_bad_padding() {
        let p = Packet {
            src_port: 1,
            dst_port: 2,
            verification_tag: 3,
            chunks: vec![Chunk::Shutdown(Shutdown { cum_tsn_ack: 4 })],
        };
        for extra in 1..4 {
            let mut b = p.encode();
            b.extend(std::iter::repeat_n(0, extra));
            assert_eq!(Packet::decode_unverified(&b), Err(WireError::BadPadding));
        }
    }

    #[test]
    fn final_chunk_without_padding_accepted() {
        let p = sample();
        let mut b = p.encode();
        // DATA with 2 bytes payload: 18 + 2 padding. Drop the padding.
        b.truncate(b.len() - 2);
        let c = checksum(&b).to_le_bytes();
        b[8..12].copy_from_slice(&c);
        assert_eq!(Packet::decode(&b), Ok(p));
    }

    #[test]
    fn bad_chunk_fails_packet() {
        let mut b = sample().encode();
        // Second chunk's length set to 3.
        b[12 + 8 + 3] = 3;
        assert_eq!(Packet::decode_unverified(&b), Err(WireError::BadLength));
    }

    fn every_chunk() -> Vec<Chunk> {
        let init = Init {
            initiate_tag: 1,
            a_rwnd: 2,
            outbound_streams: 3,
            inbound_streams: 4,
            initial_tsn: 5,
            params: vec![Param::SupportedAddressTypes(vec![5])],
        };
        vec![
            Chunk::Data(DataChunk {
                unordered: true,
                tsn: 9,
                payload: vec![1, 2, 3],
                ..DataChunk::default()
            }),
            Chunk::Init(init.clone()),
            Chunk::InitAck(Init {
                params: vec![Param::StateCookie(vec![7; 5])],
                ..init
            }),
            Chunk::Sack(Sack {
                cum_tsn_ack: 8,
                a_rwnd: 9,
                gap_blocks: vec![(2, 3)],
                dup_tsns: vec![7],
            }),
            Chunk::Heartbeat(Heartbeat {
                info: vec![1; 5],
                extra: vec![],
            }),
            Chunk::HeartbeatAck(Heartbeat {
                info: vec![1; 5],
                extra: vec![],
            }),
            Chunk::Abort(Abort {
                t_bit: true,
                causes: every_cause(),
            }),
            Chunk::Shutdown(Shutdown { cum_tsn_ack: 8 }),
            Chunk::ShutdownAck,
            Chunk::Error(ErrorChunk {
                causes: every_cause(),
            }),
            Chunk::CookieEcho(CookieEcho { cookie: vec![3; 7] }),
            Chunk::CookieAck,
            Chunk::ShutdownComplete(ShutdownComplete { t_bit: true }),
            Chunk::Unknown(UnknownChunk {
                chunk_type: 0xc2,
                flags: 1,
                value: vec![1],
            }),
        ]
    }

    #[test]
    fn packet_with_every_chunk_type_round_trips() {
        let p = Packet {
            src_port: 9,
            dst_port: 10,
            verification_tag: 11,
            chunks: every_chunk(),
        };
        let b = p.encode();
        assert_eq!(b.len(), p.encoded_len());
        assert_eq!(Packet::decode(&b), Ok(p.clone()));
        let types: Vec<u8> = p.chunks.iter().map(Chunk::chunk_type).collect();
        assert_eq!(types, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14, 0xc2]);
    }

    #[test]
    fn missing_padding_in_a_middle_chunk_is_an_error() {
        let p = Packet {
            src_port: 1,
            dst_port: 2,
            verification_tag: 3,
            chunks: vec![
                Chunk::CookieEcho(CookieEcho { cookie: vec![1] }),
                Chunk::CookieAck,
            ],
        };
        let mut b = p.encode();
        // Drop the three padding bytes of the first chunk: the next header
        // is then read at the wrong offset.
        b.drain(17..20);
        assert!(Packet::decode_unverified(&b).is_err());
    }

    #[test]
    fn every_chunk_truncated_anywhere_fails_cleanly() {
        let p = Packet {
            src_port: 1,
            dst_port: 2,
            verification_tag: 3,
            chunks: every_chunk(),
        };
        let b = p.encode();
        for n in 0..b.len() {
            // Either an error or (at a chunk boundary, or within the last
            // chunk's padding) a shorter packet: never a panic.
            if let Ok(q) = Packet::decode_unverified(&b[..n]) {
                assert!(q.chunks.len() <= p.chunks.len());
                assert_eq!(q.chunks[..], p.chunks[..q.chunks.len()]);
            }
        }
    }
}
