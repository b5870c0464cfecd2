//! Sans-IO SCTP: no sockets, threads, locks or clock reads. Packets and the
//! current time go in; packets to send, timer deadlines and events come out.

pub mod assoc;
pub mod cookie;
pub mod deadlines;
pub mod endpoint;
pub mod serial;
pub mod wire;

pub mod config;
#[cfg(any(test, feature = "harness"))]
pub mod harness;

pub use config::Config;

use std::net::{IpAddr, SocketAddr};

/// A datagram the runtime must send: one SCTP packet as UDP payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// UDP destination (peer address, peer encapsulation port).
    pub dst: SocketAddr,
    /// Source address to send from, when the association cares.
    pub src: Option<IpAddr>,
    /// The SCTP packet, checksum filled in.
    pub payload: Vec<u8>,
    /// IP_TOS / IPV6_TCLASS to send it with (0: the socket's default).
    pub tos: u8,
    /// It holds a chunk built for a larger path MTU than the path has now:
    /// IP may fragment it (RFC 9260 §7.3); every other packet fits the
    /// path MTU and goes with Don't Fragment.
    pub frag_ok: bool,
}
