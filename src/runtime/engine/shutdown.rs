//! shutdown(2) on SCTP sockets, and what reads and writes answer once a
//! one-to-one socket's association has ended, as Linux's inet_shutdown,
//! sctp_shutdown, sctp_recvmsg and sctp_sendmsg answer: EOF only when the
//! receive side is shut (by the peer's SHUTDOWN or the application),
//! otherwise the error the association ended with, once, then ENOTCONN.

use super::*;

/// Linux's RCV_SHUTDOWN and SEND_SHUTDOWN bits (`how + 1`).
pub(super) const SHUT_RCV: u8 = 1;
pub(super) const SHUT_SEND: u8 = 2;
/// The engine has read the EOF that follows the application's SHUT_WR
/// (its end is half closed, not closed).
pub(super) const SEND_EOF_READ: u8 = 4;

/// What the socket layer does after [`Engine::shutdown`] accepted a call.
#[derive(Debug, PartialEq, Eq)]
pub enum ShutdownAction {
    /// Nothing more (a listener's SHUT_WR, or the receive side only).
    Done,
    /// Shut the application's sending end of the pair: the engine reads
    /// the data written before, then EOF, and sends SHUTDOWN after it.
    ShutSending,
}

impl Engine {
    /// shutdown(2): `how` is SHUT_RD, SHUT_WR or SHUT_RDWR (EINVAL
    /// otherwise). A socket without an association is ENOTCONN; a
    /// listener takes SHUT_WR and answers EOPNOTSUPP to a shut receive
    /// side (Linux's sctp_disconnect); one-to-many sockets only record it.
    pub fn shutdown(&self, id: SockId, how: c_int) -> Result<ShutdownAction, c_int> {
        if !(0..=2).contains(&how) {
            return Err(libc::EINVAL);
        }
        let bits = (how + 1) as u8;
        let mut st = self.lock(id);
        let st = &mut *st;
        let s = st.socks.get_mut(&id).ok_or(libc::EBADF)?;
        let listening = s
            .port
            .and_then(|p| st.eps.get(&p))
            .is_some_and(|ep| ep.listener == Some(id));
        match s.kind {
            Kind::Listener { .. } | Kind::Many if listening => {
                if bits & SHUT_RCV != 0 {
                    Err(libc::EOPNOTSUPP)
                } else {
                    Ok(ShutdownAction::Done)
                }
            }
            Kind::Fresh | Kind::Listener { .. } | Kind::Many => Err(libc::ENOTCONN),
            Kind::Stream { .. } if s.shut || !s.connected => Err(libc::ENOTCONN),
            Kind::Stream { .. } => {
                let new = bits & !s.app_shut;
                s.app_shut |= bits;
                if new & SHUT_RCV != 0 {
                    // What was queued stays readable, then EOF.
                    s.rcv_shut = true;
                    s.eof_pending = true;
                }
                Ok(if new & SHUT_SEND != 0 {
                    ShutdownAction::ShutSending
                } else {
                    ShutdownAction::Done
                })
            }
        }
    }

    /// Has the engine look at socket `id` in its next turn (an EOF to
    /// deliver after shutdown).
    pub fn poke(&self, id: SockId) {
        self.lock(id).dirty.insert(id);
        self.wake();
    }

    /// Whether the application shut its sending side (an EOF read from its
    /// end of the pair is then that, not a close).
    pub(super) fn sending_shut(s: &Sock) -> bool {
        s.app_shut & SHUT_SEND != 0
    }

    /// At EOF on a one-to-one socket: None when the read answers 0 (the
    /// receive side is shut), else the error the association ended with,
    /// once, then ENOTCONN (lksctp's test_1_to_1_recvmsg checks both).
    pub fn take_terminal_error(&self, id: SockId) -> Option<c_int> {
        let mut st = self.lock_quiet();
        let s = st.socks.get_mut(&id)?;
        if !matches!(s.kind, Kind::Stream { .. }) {
            return None;
        }
        match std::mem::take(&mut s.terminal) {
            0 if s.rcv_shut => None,
            0 => Some(libc::ENOTCONN),
            e => {
                s.error = 0;
                Some(e)
            }
        }
    }

    /// Whether a blocking read has nothing to wait for: the socket has no
    /// association (in any state) and is not listening, so Linux's
    /// sctp_wait_for_packet answers ENOTCONN at once. A one-to-one socket
    /// whose association ended reads what is left in its pair first (and
    /// the end of file, when one was given).
    pub fn nothing_to_wait_for(&self, id: SockId) -> bool {
        let st = self.lock_quiet();
        let Some(s) = st.socks.get(&id) else {
            return false;
        };
        let ep = s.port.and_then(|p| st.eps.get(&p));
        match s.kind {
            Kind::Fresh => true,
            Kind::Many => {
                ep.is_none_or(|ep| ep.listener != Some(id) && !ep.socks.values().any(|&x| x == id))
            }
            Kind::Stream { .. } => s.shut,
            Kind::Listener { .. } => false,
        }
    }

    /// A send on a one-to-one socket failed with EPIPE: the error the
    /// association ended with, if not reported yet, is the answer (and is
    /// then reported), as Linux's sctp_error does with sock_error.
    pub fn take_send_error(&self, id: SockId) -> Option<c_int> {
        let mut st = self.lock_quiet();
        let s = st.socks.get_mut(&id)?;
        if !matches!(s.kind, Kind::Stream { .. }) || s.terminal == 0 {
            return None;
        }
        s.error = 0;
        Some(std::mem::take(&mut s.terminal))
    }
}
