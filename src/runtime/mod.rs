//! The engine: one thread per process that owns the UDP sockets (RFC 6951
//! encapsulation, port-mapped: SCTP port P is UDP port P), reads the clock,
//! fires timers and moves bytes between associations and the application's
//! socket descriptors.
//!
//! Each SCTP socket the application holds is one end of an AF_UNIX stream
//! socketpair; the engine holds the other end. So poll/select/epoll, blocking
//! and non-blocking I/O, dup, fork and EOF work on it natively, and the
//! kernel tells us when every copy of the application's end is closed.

mod engine;
pub mod impair;

pub use engine::{
    AssocView, Engine, Events, RecordMeta, SCTP_ABORT, SCTP_EOF, SCTP_UNORDERED, SendSpec,
    Settings, ShutdownAction, Slice, SockId, Ticket, after_fork, before_fork, configure_daemon,
    current_engine, engine, engine_of, is_many_id, now, report_bad_settings, settings_text,
};
