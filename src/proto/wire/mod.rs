//! SCTP wire format (RFC 9260 §3): common header, CRC32c, chunks, parameters
//! and error causes.
//!
//! No-panic contract: every decoder takes untrusted bytes and returns
//! `Err(WireError)` on malformed input; it never panics, never allocates more
//! than a small multiple of its input and never loops without consuming input.
//! Unknown chunk types and parameters are kept (`Chunk::Unknown`,
//! `Param::Unknown`) so the caller can apply the upper-two-bit rules of
//! §3.2 / §3.2.1 (see [`UnknownAction`]).
//!
//! This file is the data model; the codecs live in one file per chunk,
//! parameter family and error cause.

// The decoders face untrusted bytes: make clippy hold the no-panic contract
// for the non-test code.
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::unreachable,
        clippy::todo
    )
)]

use std::net::{Ipv4Addr, Ipv6Addr};

mod abort;
mod bytes;
mod cause;
mod chunk;
mod cookie;
mod data;
mod error;
mod header;
mod heartbeat;
mod init;
mod param;
mod sack;
mod shutdown;
mod unknown;

#[cfg(test)]
mod captures;
#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod test_util;

pub use cause::{cause_code, decode_causes};
pub use chunk::{decode_chunks, decode_chunks_partial};
pub use header::{checksum, stored_checksum};
pub use param::{decode_params, find_state_cookie};

/// Why bytes could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireError {
    /// Fewer bytes than the structure needs.
    Truncated,
    /// A length field is smaller than its header or runs past the buffer.
    BadLength,
    /// Padding is longer than 3 bytes or not where it should be.
    BadPadding,
    /// The CRC32c in the common header does not match.
    BadChecksum,
    /// A field value the RFC forbids (e.g. zero initiate tag, zero streams).
    InvalidValue,
}

/// What to do with an unrecognized chunk or parameter, from the upper two
/// bits of its type (RFC 9260 §3.2 and §3.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnknownAction {
    /// 00: stop processing, discard.
    Stop,
    /// 01: stop processing, discard, report.
    StopAndReport,
    /// 10: skip and continue.
    Skip,
    /// 11: skip, continue and report.
    SkipAndReport,
}

/// The SCTP common header plus its chunks (RFC 9260 §3.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    pub src_port: u16,
    pub dst_port: u16,
    pub verification_tag: u32,
    pub chunks: Vec<Chunk>,
}

/// A chunk whose header is whole but whose value cannot be decoded: too
/// short for its type, running past the end of the packet, or with
/// malformed parameters or causes. [`Packet::decode_partial`] stops there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadChunk {
    pub chunk_type: u8,
    pub flags: u8,
    /// The Chunk Length field as received.
    pub length: u16,
}

impl BadChunk {
    /// The Protocol Violation cause's information for it: a text and the
    /// chunk's header as received.
    pub fn violation_info(&self) -> Vec<u8> {
        let mut info = b"Malformed chunk or invalid length, chunk header: ".to_vec();
        info.extend_from_slice(&[self.chunk_type, self.flags]);
        info.extend_from_slice(&self.length.to_be_bytes());
        info
    }
}

/// One chunk of a packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Chunk {
    Data(DataChunk),
    Init(Init),
    InitAck(Init),
    Sack(Sack),
    Heartbeat(Heartbeat),
    HeartbeatAck(Heartbeat),
    Abort(Abort),
    Shutdown(Shutdown),
    ShutdownAck,
    Error(ErrorChunk),
    CookieEcho(CookieEcho),
    CookieAck,
    ShutdownComplete(ShutdownComplete),
    /// A chunk type this decoder does not know; `value` excludes the 4-byte header.
    Unknown(UnknownChunk),
}

/// Chunk type numbers (RFC 9260 §3.2).
pub mod chunk_type {
    pub const DATA: u8 = 0;
    pub const INIT: u8 = 1;
    pub const INIT_ACK: u8 = 2;
    pub const SACK: u8 = 3;
    pub const HEARTBEAT: u8 = 4;
    pub const HEARTBEAT_ACK: u8 = 5;
    pub const ABORT: u8 = 6;
    pub const SHUTDOWN: u8 = 7;
    pub const SHUTDOWN_ACK: u8 = 8;
    pub const ERROR: u8 = 9;
    pub const COOKIE_ECHO: u8 = 10;
    pub const COOKIE_ACK: u8 = 11;
    pub const SHUTDOWN_COMPLETE: u8 = 14;
}

/// DATA (RFC 9260 §3.3.1).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct DataChunk {
    /// I bit (RFC 7053): ask for an immediate SACK.
    pub immediate: bool,
    /// U bit.
    pub unordered: bool,
    /// B bit.
    pub beginning: bool,
    /// E bit.
    pub ending: bool,
    pub tsn: u32,
    pub stream_id: u16,
    pub ssn: u16,
    pub ppid: u32,
    pub payload: Vec<u8>,
}

/// INIT and INIT ACK share this layout (RFC 9260 §3.3.2, §3.3.3).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Init {
    pub initiate_tag: u32,
    pub a_rwnd: u32,
    pub outbound_streams: u16,
    pub inbound_streams: u16,
    pub initial_tsn: u32,
    pub params: Vec<Param>,
}

/// SACK (RFC 9260 §3.3.4). Gap blocks are offsets from `cum_tsn_ack`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Sack {
    pub cum_tsn_ack: u32,
    pub a_rwnd: u32,
    pub gap_blocks: Vec<(u16, u16)>,
    pub dup_tsns: Vec<u32>,
}

/// HEARTBEAT / HEARTBEAT ACK (RFC 9260 §3.3.5, §3.3.6): the value of the
/// Heartbeat Info parameter, opaque to the receiver, and whatever TLVs
/// followed it, which the HEARTBEAT ACK copies unchanged (§8.3).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Heartbeat {
    pub info: Vec<u8>,
    /// The bytes after the Heartbeat Info parameter, as received.
    pub extra: Vec<u8>,
}

/// ABORT (RFC 9260 §3.3.7).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Abort {
    /// T bit: the verification tag is reflected (the sender had no TCB).
    pub t_bit: bool,
    pub causes: Vec<ErrorCause>,
}

/// SHUTDOWN (RFC 9260 §3.3.8).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Shutdown {
    pub cum_tsn_ack: u32,
}

/// ERROR (RFC 9260 §3.3.10).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ErrorChunk {
    pub causes: Vec<ErrorCause>,
}

/// COOKIE ECHO (RFC 9260 §3.3.11).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CookieEcho {
    pub cookie: Vec<u8>,
}

/// SHUTDOWN COMPLETE (RFC 9260 §3.3.13).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ShutdownComplete {
    pub t_bit: bool,
}

/// A chunk of unknown type, kept whole so it can be reported.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct UnknownChunk {
    pub chunk_type: u8,
    pub flags: u8,
    pub value: Vec<u8>,
}

/// Variable-length parameters of INIT / INIT ACK (RFC 9260 §3.3.2.1, §3.3.3.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Param {
    /// Type 5.
    Ipv4Address(Ipv4Addr),
    /// Type 6.
    Ipv6Address(Ipv6Addr),
    /// Type 7 (INIT ACK only).
    StateCookie(Vec<u8>),
    /// Type 8 (INIT ACK only): the whole unrecognized parameter TLV, as received.
    UnrecognizedParameter(Vec<u8>),
    /// Type 9: suggested cookie life-span increment, in milliseconds.
    CookiePreservative(u32),
    /// Type 11 (deprecated: an INIT carrying it is answered with ABORT).
    HostNameAddress(Vec<u8>),
    /// Type 12: address types (5 = IPv4, 6 = IPv6, 11 = host name).
    SupportedAddressTypes(Vec<u16>),
    /// Any other type, kept with its value for the §3.2.1 rules.
    Unknown { param_type: u16, value: Vec<u8> },
}

/// Parameter type numbers.
pub mod param_type {
    pub const HEARTBEAT_INFO: u16 = 1;
    pub const IPV4_ADDRESS: u16 = 5;
    pub const IPV6_ADDRESS: u16 = 6;
    pub const STATE_COOKIE: u16 = 7;
    pub const UNRECOGNIZED_PARAMETER: u16 = 8;
    pub const COOKIE_PRESERVATIVE: u16 = 9;
    pub const HOST_NAME_ADDRESS: u16 = 11;
    pub const SUPPORTED_ADDRESS_TYPES: u16 = 12;
}

/// Error causes (RFC 9260 §3.3.10.1–13).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorCause {
    /// 1
    InvalidStreamIdentifier { stream_id: u16 },
    /// 2
    MissingMandatoryParameter { missing: Vec<u16> },
    /// 3: measure of staleness in microseconds.
    StaleCookie { staleness_us: u32 },
    /// 4
    OutOfResource,
    /// 5: the unresolvable address parameter TLV.
    UnresolvableAddress { address: Vec<u8> },
    /// 6: the whole unrecognized chunk (header included).
    UnrecognizedChunkType { chunk: Vec<u8> },
    /// 7
    InvalidMandatoryParameter,
    /// 8: the unrecognized parameter TLVs.
    UnrecognizedParameters { params: Vec<u8> },
    /// 9
    NoUserData { tsn: u32 },
    /// 10
    CookieReceivedWhileShuttingDown,
    /// 11: the new address TLVs.
    RestartWithNewAddresses { addresses: Vec<u8> },
    /// 12
    UserInitiatedAbort { reason: Vec<u8> },
    /// 13
    ProtocolViolation { info: Vec<u8> },
    /// Any other cause code.
    Unknown { code: u16, value: Vec<u8> },
}
