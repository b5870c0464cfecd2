//! Send side of an association: the queue of unsent messages, DATA chunks
//! in flight, SACK processing (§6.2.1), retransmission marking (§6.3.3,
//! §7.2.4) and congestion control hooks (§7.2).

pub mod outstanding;
pub mod queue;
pub mod rack;

pub use outstanding::{Outstanding, SackError, SackOutcome, Sent};
pub use queue::{OutMessage, SendQueue};
