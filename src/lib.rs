//! sctpshim: userspace SCTP (RFC 9260) over UDP encapsulation (RFC 6951), for
//! programs loaded with `LD_PRELOAD` on kernels that lack SCTP.
//!
//! Layers (each calls only the one below it):
//! - [`proto`]: sans-IO protocol core — wire codecs, associations, endpoint.

#![forbid(unsafe_code)]

pub mod proto;
