//! Sends on a one-to-one socket before its association is up, as Linux
//! takes them: an implicit connect (sendmsg or sendto with an address on
//! a fresh socket) queues its message on the new association before the
//! handshake runs, so the DATA goes out bundled with the COOKIE ECHO; a
//! send while the handshake runs (after a non-blocking connect) is queued
//! too, EAGAIN only when the send buffer is full.

use super::send::message;
use super::*;
use crate::proto::assoc::SendError;

/// The errno a refused send answers (as `send_many` maps them).
pub(super) fn errno_of_send(e: SendError) -> c_int {
    match e {
        SendError::WouldBlock => libc::EAGAIN,
        SendError::InvalidStream | SendError::Empty => libc::EINVAL,
        SendError::TooBig => libc::EMSGSIZE,
        SendError::Shutdown => libc::EPIPE,
    }
}

impl Engine {
    /// sendmsg/sendto with address `peer` on fresh one-to-one socket `id`:
    /// sets the association up with the message queued on it. A blocking
    /// call then waits for the handshake, as Linux's sctp_sendmsg does.
    pub fn connect_sending(
        &self,
        id: SockId,
        peer: SocketAddr,
        spec: &SendSpec,
        data: &[u8],
        nonblocking: bool,
    ) -> Result<usize, c_int> {
        let first = message(spec, data.to_vec());
        match self.connect_first(id, peer, first, spec.init) {
            Ok(()) | Err(libc::EINPROGRESS) => {}
            Err(e) => return Err(e),
        }
        if !nonblocking {
            self.wait_up(id)?;
        }
        Ok(data.len())
    }

    /// A send on one-to-one socket `id` while its handshake runs: queued
    /// on the association (Some(bytes)), or None when the socket is not
    /// connecting (the caller writes into the pair as usual).
    pub fn send_early(
        &self,
        id: SockId,
        spec: Option<SendSpec>,
        data: &[u8],
        nonblocking: bool,
    ) -> Result<Option<usize>, c_int> {
        if data.is_empty() {
            return Ok(None);
        }
        let mut st = self.lock(id);
        loop {
            let st_ref = &mut *st;
            let Some(s) = st_ref.socks.get_mut(&id) else {
                return Ok(None);
            };
            let Kind::Stream { assoc } = s.kind else {
                return Ok(None);
            };
            if s.connected {
                return Ok(None);
            }
            let spec = spec.unwrap_or(s.default_spec);
            let Some(a) = s
                .port
                .and_then(|p| st_ref.eps.get_mut(&p))
                .and_then(|ep| ep.endpoint.assoc_mut(assoc))
            else {
                return Ok(None);
            };
            if a.is_established() || a.has_ended() {
                return Ok(None);
            }
            match a.send(now(), message(&spec, data.to_vec())) {
                Ok(()) => {
                    drop(st);
                    self.wake();
                    return Ok(Some(data.len()));
                }
                Err(SendError::WouldBlock) if !nonblocking => st = self.wait(st, Some(id), None).0,
                Err(e) => return Err(errno_of_send(e)),
            }
        }
    }

    /// Waits until one-to-one socket `id` is connected, or its error.
    pub(super) fn wait_up(&self, id: SockId) -> Result<(), c_int> {
        let mut st = self.lock(id);
        loop {
            let s = st.socks.get_mut(&id).ok_or(libc::EBADF)?;
            if s.connected {
                return Ok(());
            }
            if s.error != 0 {
                return Err(std::mem::take(&mut s.error));
            }
            st = self.wait(st, Some(id), None).0;
        }
    }
}
