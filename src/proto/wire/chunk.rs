//! The chunk header shared by every chunk and the dispatch to the per-chunk
//! codecs ([RFC 9260 §3.2](https://www.rfc-editor.org/rfc/rfc9260#section-3.2)).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Chunk Type  | Chunk  Flags  |        Chunk Length           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! \                                                               \
//! /                          Chunk Value                          /
//! \                                                               \
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The Chunk Length excludes the chunk's own trailing padding (and, inside
//! INIT / ABORT / ERROR, the padding of the last parameter or cause), which is
//! why each body reports its unpadded `value_len` separately from what it
//! writes.

use super::bytes::{Reader, len_u16, pad_to_4, padded, put_u16};
use super::{
    Abort, BadChunk, Chunk, CookieEcho, DataChunk, ErrorChunk, Heartbeat, Init, Sack, Shutdown,
    ShutdownComplete, UnknownChunk, WireError, chunk_type as ct,
};

/// The codec of one chunk's value, implemented once per chunk file.
pub(crate) trait Body: Sized {
    /// Chunk Flags to send; most chunks define none.
    fn flags(&self) -> u8 {
        0
    }
    /// Chunk Length minus the 4-byte header (no trailing padding).
    fn value_len(&self) -> usize;
    /// Appends the value; may append padding of inner parameters, never more
    /// than what rounds up to a multiple of four.
    fn encode_value(&self, out: &mut Vec<u8>);
    /// Parses the value (`Chunk Length - 4` bytes, padding stripped).
    fn decode_value(flags: u8, value: &[u8]) -> Result<Self, WireError>;
}

/// Chunks with no value (COOKIE ACK, SHUTDOWN ACK).
struct Empty;

impl Body for Empty {
    fn value_len(&self) -> usize {
        0
    }
    fn encode_value(&self, _out: &mut Vec<u8>) {}
    fn decode_value(_flags: u8, _value: &[u8]) -> Result<Self, WireError> {
        // Trailing bytes are ignored: they carry no meaning and rejecting them
        // would only stall a handshake or shutdown.
        Ok(Empty)
    }
}

fn parts(chunk: &Chunk) -> (u8, &dyn DynBody) {
    match chunk {
        Chunk::Data(c) => (ct::DATA, c),
        Chunk::Init(c) => (ct::INIT, c),
        Chunk::InitAck(c) => (ct::INIT_ACK, c),
        Chunk::Sack(c) => (ct::SACK, c),
        Chunk::Heartbeat(c) => (ct::HEARTBEAT, c),
        Chunk::HeartbeatAck(c) => (ct::HEARTBEAT_ACK, c),
        Chunk::Abort(c) => (ct::ABORT, c),
        Chunk::Shutdown(c) => (ct::SHUTDOWN, c),
        Chunk::ShutdownAck => (ct::SHUTDOWN_ACK, &Empty),
        Chunk::Error(c) => (ct::ERROR, c),
        Chunk::CookieEcho(c) => (ct::COOKIE_ECHO, c),
        Chunk::CookieAck => (ct::COOKIE_ACK, &Empty),
        Chunk::ShutdownComplete(c) => (ct::SHUTDOWN_COMPLETE, c),
        Chunk::Unknown(c) => (c.chunk_type, c),
    }
}

/// Object-safe view of [`Body`] for the encode side.
trait DynBody {
    fn flags(&self) -> u8;
    fn value_len(&self) -> usize;
    fn encode_value(&self, out: &mut Vec<u8>);
}

impl<T: Body> DynBody for T {
    fn flags(&self) -> u8 {
        Body::flags(self)
    }
    fn value_len(&self) -> usize {
        Body::value_len(self)
    }
    fn encode_value(&self, out: &mut Vec<u8>) {
        Body::encode_value(self, out)
    }
}

impl Chunk {
    /// Size of the chunk header.
    pub const HEADER_LEN: usize = 4;

    pub fn chunk_type(&self) -> u8 {
        parts(self).0
    }

    /// The Chunk Flags byte this chunk is sent with.
    pub fn flags(&self) -> u8 {
        parts(self).1.flags()
    }

    /// The Chunk Length field: header plus value, trailing padding excluded.
    pub fn unpadded_len(&self) -> usize {
        Self::HEADER_LEN + parts(self).1.value_len()
    }

    /// Bytes [`Chunk::encode`] appends, padding included.
    pub fn encoded_len(&self) -> usize {
        padded(self.unpadded_len())
    }

    /// Appends the chunk header, value and zero padding.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let (kind, body) = parts(self);
        let start = out.len();
        out.push(kind);
        out.push(body.flags());
        put_u16(out, len_u16(Self::HEADER_LEN + body.value_len()));
        body.encode_value(out);
        pad_to_4(out, start);
    }

    /// The encoded chunk (padding included), e.g. for an Unrecognized Chunk
    /// Type error cause.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode(&mut out);
        out
    }

    /// Decodes the chunk at the start of `buf`; returns it and the bytes
    /// consumed, padding included. The final chunk of a packet may lack its
    /// padding, so fewer padding bytes than needed are accepted at the end of
    /// `buf`.
    pub fn decode(buf: &[u8]) -> Result<(Chunk, usize), WireError> {
        let mut r = Reader::new(buf);
        let kind = r.u8()?;
        let flags = r.u8()?;
        let len = usize::from(r.u16()?);
        if len < Self::HEADER_LEN {
            return Err(WireError::BadLength);
        }
        let value = buf.get(Self::HEADER_LEN..len).ok_or(WireError::BadLength)?;
        let chunk = match kind {
            ct::DATA => Chunk::Data(DataChunk::decode_value(flags, value)?),
            ct::INIT => Chunk::Init(Init::decode_value(flags, value)?),
            ct::INIT_ACK => Chunk::InitAck(Init::decode_value(flags, value)?),
            ct::SACK => Chunk::Sack(Sack::decode_value(flags, value)?),
            ct::HEARTBEAT => Chunk::Heartbeat(Heartbeat::decode_value(flags, value)?),
            ct::HEARTBEAT_ACK => Chunk::HeartbeatAck(Heartbeat::decode_value(flags, value)?),
            ct::ABORT => Chunk::Abort(Abort::decode_value(flags, value)?),
            ct::SHUTDOWN => Chunk::Shutdown(Shutdown::decode_value(flags, value)?),
            ct::SHUTDOWN_ACK => {
                Empty::decode_value(flags, value)?;
                Chunk::ShutdownAck
            }
            ct::ERROR => Chunk::Error(ErrorChunk::decode_value(flags, value)?),
            ct::COOKIE_ECHO => Chunk::CookieEcho(CookieEcho::decode_value(flags, value)?),
            ct::COOKIE_ACK => {
                Empty::decode_value(flags, value)?;
                Chunk::CookieAck
            }
            ct::SHUTDOWN_COMPLETE => {
                Chunk::ShutdownComplete(ShutdownComplete::decode_value(flags, value)?)
            }
            _ => Chunk::Unknown(UnknownChunk {
                chunk_type: kind,
                flags,
                value: value.to_vec(),
            }),
        };
        Ok((chunk, padded(len).min(buf.len())))
    }
}

/// Decodes a run of chunks up to the first one whose header is sound but
/// whose value is not (a length below 4 included), which is returned apart
/// (its receiver decides, by its type, between a Protocol Violation ABORT
/// and discarding it). A header that cannot be read (bad padding) fails
/// the whole run, as in [`decode_chunks`].
pub fn decode_chunks_partial(mut buf: &[u8]) -> Result<(Vec<Chunk>, Option<BadChunk>), WireError> {
    let mut chunks = Vec::new();
    while !buf.is_empty() {
        let Some(&[chunk_type, flags, l0, l1]) = buf.get(..Chunk::HEADER_LEN) else {
            return Err(WireError::BadPadding);
        };
        let length = u16::from_be_bytes([l0, l1]);
        // (A length below the header is a bad chunk too: Linux answers it
        // as a chunk too short for its type.)
        match Chunk::decode(buf) {
            Ok((chunk, used)) => {
                chunks.push(chunk);
                buf = buf.get(used..).unwrap_or_default();
            }
            Err(_) => {
                let bad = BadChunk {
                    chunk_type,
                    flags,
                    length,
                };
                return Ok((chunks, Some(bad)));
            }
        }
    }
    Ok((chunks, None))
}

/// Decodes a run of chunks (everything after the common header).
pub fn decode_chunks(mut buf: &[u8]) -> Result<Vec<Chunk>, WireError> {
    let mut chunks = Vec::new();
    while !buf.is_empty() {
        // Fewer than 4 bytes cannot be a chunk header, so after a padded
        // chunk they can only be padding beyond the allowed 3 bytes.
        if buf.len() < Chunk::HEADER_LEN {
            return Err(WireError::BadPadding);
        }
        let (chunk, used) = Chunk::decode(buf)?;
        chunks.push(chunk);
        buf = buf.get(used..).unwrap_or_default();
    }
    Ok(chunks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_decode_stops_at_the_malformed_chunk() {
        // COOKIE ACK, then a SACK too short for its fixed part, then a
        // COOKIE ACK that is not reached.
        let b = [
            ct::COOKIE_ACK,
            0,
            0,
            4,
            ct::SACK,
            0,
            0,
            8,
            0,
            0,
            0,
            0,
            11,
            0,
            0,
            4,
        ];
        let (chunks, bad) = decode_chunks_partial(&b).unwrap();
        assert_eq!(chunks, vec![Chunk::CookieAck]);
        let want = BadChunk {
            chunk_type: ct::SACK,
            flags: 0,
            length: 8,
        };
        assert_eq!(bad, Some(want));
        // A length past the end of the packet is a bad chunk too.
        let (chunks, bad) = decode_chunks_partial(&[ct::DATA, 3, 0, 200, 0, 0, 0, 0]).unwrap();
        assert!(chunks.is_empty());
        assert_eq!(bad.map(|b| b.length), Some(200));
        // A length below 4 is a bad chunk; stray bytes fail the packet.
        let (_, bad) = decode_chunks_partial(&[ct::HEARTBEAT, 0, 0, 2]).unwrap();
        assert_eq!(
            bad.map(|b| (b.chunk_type, b.length)),
            Some((ct::HEARTBEAT, 2))
        );
        assert_eq!(
            decode_chunks_partial(&[ct::COOKIE_ACK, 0, 0, 4, 0, 0]),
            Err(WireError::BadPadding)
        );
        assert_eq!(decode_chunks_partial(&[]), Ok((vec![], None)));
    }

    #[test]
    fn length_below_four_is_bad_length_for_every_type() {
        for kind in 0..=255u8 {
            for len in 0..4u8 {
                assert_eq!(
                    Chunk::decode(&[kind, 0, 0, len, 0, 0, 0, 0]),
                    Err(WireError::BadLength),
                    "type {kind} len {len}"
                );
            }
        }
    }

    #[test]
    fn short_header_is_truncated_for_every_type() {
        for kind in 0..=255u8 {
            assert_eq!(Chunk::decode(&[kind]), Err(WireError::Truncated));
            assert_eq!(Chunk::decode(&[kind, 0, 0]), Err(WireError::Truncated));
        }
        assert_eq!(Chunk::decode(&[]), Err(WireError::Truncated));
    }

    #[test]
    fn length_past_buffer_is_bad_length_for_every_type() {
        for kind in 0..=255u8 {
            assert_eq!(
                Chunk::decode(&[kind, 0, 0, 200, 0, 0, 0, 0]),
                Err(WireError::BadLength)
            );
        }
    }

    #[test]
    fn decode_chunks_rejects_excess_padding() {
        let mut buf = Chunk::CookieAck.to_bytes();
        buf.extend_from_slice(&[0, 0, 0]);
        assert_eq!(decode_chunks(&buf), Err(WireError::BadPadding));
        buf.push(0);
        // Four zero bytes look like a DATA header with length 0.
        assert_eq!(decode_chunks(&buf), Err(WireError::BadLength));
    }

    #[test]
    fn decode_chunks_accepts_partial_final_padding() {
        let c = Chunk::CookieEcho(CookieEcho { cookie: vec![1] });
        let b = c.to_bytes();
        for cut in 5..=8 {
            assert_eq!(decode_chunks(&b[..cut]), Ok(vec![c.clone()]), "cut {cut}");
        }
    }

    #[test]
    fn empty_chunk_list() {
        assert_eq!(decode_chunks(&[]), Ok(vec![]));
    }

    #[test]
    fn consumed_includes_padding_when_followed_by_more() {
        let c = Chunk::CookieEcho(CookieEcho { cookie: vec![1, 2] });
        let mut b = c.to_bytes();
        Chunk::CookieAck.encode(&mut b);
        assert_eq!(Chunk::decode(&b), Ok((c.clone(), 8)));
        assert_eq!(decode_chunks(&b), Ok(vec![c, Chunk::CookieAck]));
    }
}
