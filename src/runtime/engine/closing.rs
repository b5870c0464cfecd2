//! How sockets end in time: SO_LINGER's wait in close() and the drain at
//! process exit (in-process placement).

use super::*;

impl Engine {
    /// After the last descriptor of socket `id` was closed: with SO_LINGER's
    /// timeout set on a one-to-one socket, waits (at most that long) until
    /// its association is over, as Linux's close() does (sctp_wait_for_close).
    pub fn linger_close(&self, id: SockId) {
        let mut st = self.lock_quiet();
        let deadline = match st.socks.get(&id) {
            Some(s)
                if s.linger_wait > 0
                    && matches!(s.kind, Kind::Stream { .. })
                    && sys::is_hung_up(s.efd) =>
            {
                now() + Duration::from_secs(u64::from(s.linger_wait))
            }
            _ => return,
        };
        loop {
            let over = st.socks.get(&id).is_none_or(|s| match s.kind {
                Kind::Stream { assoc } => s
                    .port
                    .and_then(|p| st.eps.get(&p))
                    .is_none_or(|ep| ep.endpoint.assoc(assoc).is_none_or(|a| a.is_closed())),
                _ => true,
            });
            if over {
                return;
            }
            let (g, timed_out) = self.wait(st, Some(id), Some(deadline));
            st = g;
            if timed_out {
                return;
            }
        }
    }

    /// Called at process exit: deliver what is queued, shut associations down,
    /// wait (bounded) for the peers to acknowledge.
    pub fn drain_at_exit(&self, limit: Duration) {
        if self.is_foreign() {
            return;
        }
        let deadline = now() + limit;
        let mut st = self.lock_all();
        st.exiting = true;
        self.wake();
        while st.eps.values().any(|ep| {
            ep.endpoint
                .assoc_ids()
                .any(|id| ep.endpoint.assoc(id).is_some_and(|a| !a.is_closed()))
        }) {
            let (g, timed_out) = self.wait(st, None, Some(deadline));
            st = g;
            if timed_out {
                break;
            }
        }
    }
}
