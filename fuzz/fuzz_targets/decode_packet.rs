//! Whole-packet decoder: never panics, and whatever decodes (checksum
//! ignored) re-encodes to bytes that decode, checksum verified, to the same
//! value. `Packet::decode` must agree with `decode_unverified` whenever the
//! stored checksum is right.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sctpshim::proto::wire::{Packet, WireError, checksum, stored_checksum};

fuzz_target!(|data: &[u8]| {
    let verified = Packet::decode(data);
    let checksum_ok = stored_checksum(data) == Some(checksum(data));
    let header = Packet::peek_header(data);

    match Packet::decode_unverified(data) {
        Ok(p) => {
            assert_eq!(
                header,
                Some((p.src_port, p.dst_port, p.verification_tag)),
                "peek_header disagrees with decode"
            );
            let bytes = p.encode();
            assert_eq!(bytes.len(), p.encoded_len(), "encoded_len is wrong");
            let again = Packet::decode(&bytes).expect("a re-encoded packet decodes");
            assert_eq!(again, p, "round trip changed the packet");
            assert_eq!(again.encode(), bytes, "encoding is not canonical");
            if checksum_ok {
                assert_eq!(verified, Ok(p), "decode and decode_unverified disagree");
            } else {
                assert_eq!(verified, Err(WireError::BadChecksum));
            }
        }
        Err(e) => {
            if checksum_ok {
                assert_eq!(verified, Err(e), "decode and decode_unverified disagree");
            } else {
                assert!(
                    verified.is_err(),
                    "decode accepted what decode_unverified refused"
                );
            }
        }
    }
});
