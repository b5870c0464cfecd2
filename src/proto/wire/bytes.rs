//! Checked big-endian reads and TLV walking shared by every codec.
//!
//! All reads go through [`Reader`], which returns `Err(Truncated)` instead of
//! panicking, so codecs can use `?` on untrusted input without index checks.

use super::WireError;

/// Bytes needed to bring `len` up to a multiple of four (RFC 9260 §3.2).
pub(crate) const fn pad_len(len: usize) -> usize {
    (4 - (len % 4)) % 4
}

/// `len` rounded up to a multiple of four.
pub(crate) const fn padded(len: usize) -> usize {
    len + pad_len(len)
}

/// Appends zero bytes until `out.len() - start` is a multiple of four.
pub(crate) fn pad_to_4(out: &mut Vec<u8>, start: usize) {
    let written = out.len().saturating_sub(start);
    out.resize(out.len() + pad_len(written), 0);
}

/// Length fields are 16 bits; saturate rather than wrap so an oversized value
/// produces a detectably wrong length instead of a silently corrupt one.
pub(crate) fn len_u16(len: usize) -> u16 {
    u16::try_from(len).unwrap_or(u16::MAX)
}

/// A cursor over untrusted bytes.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        match (self.buf.get(..n), self.buf.get(n..)) {
            (Some(head), Some(tail)) => {
                self.buf = tail;
                Ok(head)
            }
            _ => Err(WireError::Truncated),
        }
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let b = self.bytes(N)?;
        <[u8; N]>::try_from(b).map_err(|_| WireError::Truncated)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, WireError> {
        Ok(u8::from_be_bytes(self.array()?))
    }

    pub(crate) fn u16(&mut self) -> Result<u16, WireError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, WireError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// Everything not yet read.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }
}

pub(crate) fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

pub(crate) fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// One type-length-value item (parameter or error cause), value unpadded.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Tlv<'a> {
    pub(crate) kind: u16,
    pub(crate) value: &'a [u8],
    /// Bytes consumed: header, value and whatever padding was present.
    pub(crate) consumed: usize,
}

/// Splits the TLV at the start of `buf`.
///
/// Parameters and error causes share the 2+2 byte header and the padding
/// rule, so both codecs and the HEARTBEAT info walk use this. The final item
/// of a chunk may legitimately lack its padding (§3.2: the chunk length
/// excludes the padding of the last parameter), so a short tail is accepted.
pub(crate) fn split_tlv(buf: &[u8]) -> Result<Tlv<'_>, WireError> {
    let mut r = Reader::new(buf);
    let kind = r.u16()?;
    let len = usize::from(r.u16()?);
    if len < 4 {
        return Err(WireError::BadLength);
    }
    let value = buf.get(4..len).ok_or(WireError::BadLength)?;
    let consumed = padded(len).min(buf.len());
    Ok(Tlv {
        kind,
        value,
        consumed,
    })
}

/// Walks a run of TLVs, calling `f` on each.
///
/// A tail of 1..=3 bytes cannot hold a TLV header, so it can only be excess
/// padding: that is `BadPadding` rather than `Truncated`.
pub(crate) fn walk_tlvs<'a>(
    mut buf: &'a [u8],
    mut f: impl FnMut(Tlv<'a>) -> Result<(), WireError>,
) -> Result<(), WireError> {
    while !buf.is_empty() {
        if buf.len() < 4 {
            return Err(WireError::BadPadding);
        }
        let tlv = split_tlv(buf)?;
        // split_tlv guarantees consumed >= 4, so the loop always advances.
        buf = buf.get(tlv.consumed..).unwrap_or_default();
        f(tlv)?;
    }
    Ok(())
}

/// Writes a TLV with the given value and pads it to four bytes.
pub(crate) fn put_tlv(out: &mut Vec<u8>, kind: u16, value: &[u8]) {
    let start = out.len();
    put_u16(out, kind);
    put_u16(out, len_u16(4 + value.len()));
    out.extend_from_slice(value);
    pad_to_4(out, start);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pad_len_cycles() {
        assert_eq!(
            [0, 1, 2, 3, 4, 5].map(pad_len),
            [0, 3, 2, 1, 0, 3],
            "padding to 4"
        );
        assert_eq!(padded(9), 12);
    }

    #[test]
    fn reader_reads_big_endian_and_stops_at_end() {
        let mut r = Reader::new(&[1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(r.u8(), Ok(1));
        assert_eq!(r.u16(), Ok(0x0203));
        assert_eq!(r.u32(), Ok(0x0405_0607));
        assert_eq!(r.u8(), Err(WireError::Truncated));
        assert_eq!(r.remaining(), 0);
    }

    #[test]
    fn reader_short_read_does_not_consume() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u32(), Err(WireError::Truncated));
        assert_eq!(r.remaining(), 3);
        assert_eq!(r.bytes(3), Ok(&[1u8, 2, 3][..]));
    }

    #[test]
    fn tlv_length_below_header_is_bad_length() {
        assert_eq!(split_tlv(&[0, 1, 0, 3, 0, 0]), Err(WireError::BadLength));
    }

    #[test]
    fn tlv_length_past_buffer_is_bad_length() {
        assert_eq!(split_tlv(&[0, 1, 0, 9, 1, 2]), Err(WireError::BadLength));
    }

    #[test]
    fn tlv_short_header_is_truncated() {
        assert_eq!(split_tlv(&[0, 1, 0]), Err(WireError::Truncated));
    }

    #[test]
    fn tlv_missing_final_padding_is_accepted() {
        let t = split_tlv(&[0, 1, 0, 5, 9]).expect("tlv");
        assert_eq!((t.kind, t.value, t.consumed), (1, &[9u8][..], 5));
    }

    #[test]
    fn walk_rejects_trailing_garbage_shorter_than_header() {
        let buf = [0, 1, 0, 4, 0, 0];
        assert_eq!(walk_tlvs(&buf, |_| Ok(())), Err(WireError::BadPadding));
    }

    #[test]
    fn put_tlv_pads() {
        let mut out = Vec::new();
        put_tlv(&mut out, 7, &[1, 2, 3, 4, 5]);
        assert_eq!(out, [0, 7, 0, 9, 1, 2, 3, 4, 5, 0, 0, 0]);
    }
}
