//! Receive side of an association: which TSNs arrived (for SACKs) and
//! reassembly of DATA chunks into ordered user messages.
//!
//! Intended flow per received DATA chunk: the association validates the
//! stream id and the receive window, asks [`TsnTracker::on_tsn`] whether the
//! TSN is new, hands new chunks to [`Reassembly::insert`], and later builds
//! its SACK from the tracker and its advertised window from
//! [`Reassembly::buffered_bytes`].

mod ranges;
mod reassembly;
mod tsn;
mod unwrap;

pub use reassembly::{Message, Reassembly};
pub use tsn::{MAX_STORED_DUPS, TsnStatus, TsnTracker};
pub use unwrap::TsnUnwrapper;

#[cfg(test)]
mod tests;
