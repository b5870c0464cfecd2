//! sctpshim: userspace SCTP (RFC 9260) over UDP encapsulation (RFC 6951), for
//! programs loaded with `LD_PRELOAD` on kernels that lack SCTP.
//!
//! Layers (each calls only the one below it):
//! - `preload` (feature `preload`): the `LD_PRELOAD` interposers.
//! - [`sockopt`]: the SOL_SCTP option table (C buffers in and out), which
//!   the interposers call; outside `preload` so that it can be fuzzed.
//! - [`runtime`]: the engine thread, UDP I/O, timers, readiness.
//! - [`ipc`]: requests between the library and the shared engine daemon.
//! - [`proto`]: sans-IO protocol core — wire codecs, associations, endpoint.
//! - [`sys`]: the libc boundary (real functions, safe wrappers);
//!   [`ownfds`]: which descriptors are the engine's own.

#![deny(unsafe_code)]

#[allow(unsafe_code)]
pub mod ipc;
pub mod ownfds;
#[cfg(feature = "preload")]
#[allow(unsafe_code)]
mod preload;
pub mod proto;
pub mod runtime;
#[allow(unsafe_code)]
pub mod sockopt;
#[allow(unsafe_code)]
pub mod sys;
#[allow(unsafe_code)]
pub mod usermem;

/// sctpshimd's main (see `preload::server`): serves the shared engine until
/// idle; `foreground` keeps it in the caller's process. Returns the exit status.
#[cfg(feature = "preload")]
pub fn daemon_main(foreground: bool) -> i32 {
    preload::server::run(foreground)
}

/// `sctpshim stat`: the running daemon's endpoints and associations (for
/// this user and configuration), or None when no daemon answers.
#[cfg(feature = "preload")]
pub fn daemon_stat() -> Option<String> {
    preload::client::stat()
}
