//! A socket's own state: creation, the settings a new socket inherits
//! from the one it comes from (accept, sctp_peeloff), and its addresses as
//! the application sees them.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::os::raw::c_int;
use std::sync::Arc;

use super::{Events, Inbox, Kind, SendSide, SendSpec, Settings, Sock, ipopts, now};
use crate::proto::Config;
use crate::proto::assoc::AssocId;
use crate::proto::assoc::Association;
use crate::sys;

impl Sock {
    /// The filler that held off POLLOUT during a non-blocking connect goes
    /// once the handshake is over: the socket is writable.
    pub(super) fn drop_junk(&mut self) {
        let mut scrap = [0u8; 16384];
        let side = self.tx.clone();
        let mut tx = side.lock();
        while self.junk > 0 {
            let n = self.junk.min(scrap.len());
            match sys::read(self.efd, &mut scrap[..n]) {
                Ok(k) if k > 0 => {
                    self.junk -= k;
                    tx.skip(k);
                }
                _ => break,
            }
        }
    }

    pub(super) fn new(v6: bool, efd: c_int, settings: &Settings) -> Sock {
        Sock {
            // One-to-one until socket_many says otherwise; SO_SNDBUF ends it.
            cfg: Config {
                sndbuf_auto: true,
                ..settings.cfg.clone()
            },
            impair: settings.impair.clone(),
            loopback_udp: settings.loopback_udp,
            v6,
            v4mapped: true,
            reuse: false,
            kind: Kind::Fresh,
            port: None,
            local: None,
            peer: None,
            efd,
            inbox: Inbox::default(),
            tx: Arc::new(SendSide::new(efd)),
            default_spec: SendSpec::default(),
            events: Events::default(),
            assoc_events: HashMap::new(),
            recv_rcvinfo: false,
            recv_nxtinfo: false,
            autoclose: 0,
            watch: HashMap::new(),
            eof_pending: false,
            eof_sent: false,
            app_gone: false,
            shut: false,
            refs: 1,
            terminal: 0,
            rcv_shut: false,
            app_shut: 0,
            hup: false,
            linger_abort: false,
            linger_wait: 0,
            ip: ipopts::IpOpts::default(),
            bufs: [None; 2],
            extra_local: Vec::new(),
            junk: 0,
            replay: Vec::new(),
            connected: false,
            error: 0,
            held: HashMap::new(),
            held_total: 0,
            active: Default::default(),
            starved: BTreeSet::new(),
            starved_next: 0,
            starved_left: 0,
            shared_free: None,
            pair_mark: 0,
            rx_auto: None,
            stalled: BTreeSet::new(),
            stalled_next: 0,
            connect_extra: Vec::new(),
        }
    }
}

/// Socket settings a new socket takes from the one it comes from (accept,
/// sctp_peeloff), as Linux copies them.
#[derive(Clone, Debug)]
pub(super) struct Inherited {
    events: Events,
    v4mapped: bool,
    recv_rcvinfo: bool,
    recv_nxtinfo: bool,
    default_spec: SendSpec,
    cfg: Config,
    linger_abort: bool,
    /// SO_LINGER's timeout in seconds (0: close returns at once).
    linger_wait: u32,
    ip: ipopts::IpOpts,
    bufs: [Option<c_int>; 2],
}

/// Gives a new socket's application end the buffer sizes its parent's
/// application set.
pub(super) fn apply_bufs(afd: c_int, i: &Inherited) {
    for (name, v) in [(libc::SO_RCVBUF, i.bufs[0]), (libc::SO_SNDBUF, i.bufs[1])] {
        if let Some(v) = v {
            sys::set_int_option(afd, libc::SOL_SOCKET, name, v);
        }
    }
}

/// Stalled associations a turn looks at per round (`Sock::stalled_batch`).
const STALLED_BATCH: usize = 64;

/// Up to `n` members of `set`, from `next` on and around: the next batch
/// of a walk in turns. `next` moves past the last one taken.
pub(super) fn round_robin(set: &BTreeSet<AssocId>, next: &mut AssocId, n: usize) -> Vec<AssocId> {
    let from = *next;
    let batch: Vec<AssocId> = set
        .range(from..)
        .chain(set.range(..from))
        .take(n)
        .copied()
        .collect();
    if let Some(&last) = batch.last() {
        *next = last.wrapping_add(1);
    }
    batch
}

impl Sock {
    /// The next of the associations whose messages wait for room in the
    /// inbox, when it has room: a few at a time, in turns (each round
    /// starts after the last one looked at). With thousands stalled behind
    /// a slow reader, each read opens room for a few messages, and looking
    /// at all of them every time cost a walk over all of them per read.
    /// While a message is half delivered, only its association can go on.
    pub(super) fn stalled_batch(&mut self) -> Vec<AssocId> {
        if self.inbox.staged() >= super::TO_APP_MAX {
            return Vec::new();
        }
        if let Some(o) = self.inbox.open_assoc() {
            return self.stalled.contains(&o).then_some(o).into_iter().collect();
        }
        round_robin(&self.stalled, &mut self.stalled_next, STALLED_BATCH)
    }

    /// The ancillary data this socket's receives return.
    pub(super) fn recv_wants(&self) -> crate::sys::sockpage::RecvWants {
        crate::sys::sockpage::RecvWants {
            rcvinfo: self.recv_rcvinfo,
            nxtinfo: self.recv_nxtinfo,
            data_io: self.events.on(super::notify::ev::DATA_IO),
        }
    }

    /// The engine shut its pair (the association is over) while a process
    /// still holds the socket: whether its end is gone must be asked of
    /// the kernel (a shut pair always reads as hung up).
    pub(super) fn held_after_shut(&self) -> bool {
        self.shut && self.refs > 0
    }

    /// Tells the programs that read on their own (`sys::sockpage`) which
    /// ancillary data receives return.
    pub(super) fn publish_wants(&self) {
        if let Some(p) = self.tx.page() {
            p.lock().set_wants(self.recv_wants());
        }
    }

    /// An address as this socket reports it to the application.
    pub(super) fn present(&self, a: SocketAddr) -> SocketAddr {
        sys::present(a, self.v6, self.v4mapped)
    }

    pub(super) fn inherited(&self) -> Inherited {
        Inherited {
            events: self.events,
            v4mapped: self.v4mapped,
            recv_rcvinfo: self.recv_rcvinfo,
            recv_nxtinfo: self.recv_nxtinfo,
            default_spec: self.default_spec,
            cfg: self.cfg.clone(),
            linger_abort: self.linger_abort,
            linger_wait: self.linger_wait,
            ip: self.ip.clone(),
            bufs: self.bufs,
        }
    }

    /// Takes the settings of the socket it was made from (accept,
    /// sctp_peeloff); its association `a` then sends with the new socket's
    /// type of service (Linux's sctp_copy_sock does not copy IP_TOS).
    pub(super) fn inherit(&mut self, i: &Inherited, a: Option<&mut Association>) {
        self.events = i.events;
        self.v4mapped = i.v4mapped;
        self.recv_rcvinfo = i.recv_rcvinfo;
        self.recv_nxtinfo = i.recv_nxtinfo;
        self.default_spec = i.default_spec;
        self.tx.lock().default = i.default_spec;
        self.cfg = i.cfg.clone();
        self.linger_abort = i.linger_abort;
        self.linger_wait = i.linger_wait;
        let (ip, tos) = i.ip.for_child(self.v6);
        self.ip = ip;
        self.cfg.tos = tos;
        self.bufs = i.bufs;
        if let Some(a) = a {
            a.update_config(now(), |c: &mut Config| c.tos = tos);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Batches go around the set: every member comes once per lap, in
    /// order from where the last batch ended, whatever joins or leaves.
    #[test]
    fn round_robin_visits_everyone_in_turns() {
        let mut set: BTreeSet<AssocId> = (1..=10).collect();
        let mut next = 0;
        assert_eq!(round_robin(&set, &mut next, 4), vec![1, 2, 3, 4]);
        assert_eq!(round_robin(&set, &mut next, 4), vec![5, 6, 7, 8]);
        // Around the end, back to the start.
        assert_eq!(round_robin(&set, &mut next, 4), vec![9, 10, 1, 2]);
        // One that was served leaves, a new one joins behind the cursor:
        // the lap goes on from 3 and reaches the newcomer in its place.
        set.remove(&4);
        set.insert(0);
        assert_eq!(round_robin(&set, &mut next, 6), vec![3, 5, 6, 7, 8, 9]);
        assert_eq!(round_robin(&set, &mut next, 3), vec![10, 0, 1]);
        // Never more than the set holds, and nothing from an empty set.
        assert_eq!(round_robin(&set, &mut next, 100).len(), set.len());
        let mut n = 7;
        assert!(round_robin(&BTreeSet::new(), &mut n, 5).is_empty());
        assert_eq!(n, 7);
    }

    /// The cursor after the largest id wraps instead of overflowing.
    #[test]
    fn round_robin_wraps_at_the_largest_id() {
        let set: BTreeSet<AssocId> = [1, AssocId::MAX].into_iter().collect();
        let mut next = AssocId::MAX;
        assert_eq!(round_robin(&set, &mut next, 1), vec![AssocId::MAX]);
        assert_eq!(next, 0);
        assert_eq!(round_robin(&set, &mut next, 1), vec![1]);
    }
}
