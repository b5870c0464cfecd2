//! `LD_PRELOAD` interposers: socket calls on SCTP sockets go to the engine,
//! everything else to libc untouched. Compiled only with the `preload`
//! feature (the `make` build), so test binaries keep libc's own symbols.
//!
//! The fast path for descriptors that are not ours is one relaxed atomic load.

mod args;
mod capi;
mod capi_msg;
pub(crate) mod client;
mod cmsg;
mod daemon;
mod fastpath;
mod fastrecv;
mod fastsend;
mod fds;
mod fdtable;
mod files;
mod interpose;
mod ipopts;
mod opts;
mod process;
mod recv;
mod send;
pub(crate) mod server;
mod vectors;
