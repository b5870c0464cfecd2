//! From associations to sockets: events become notifications and socket
//! state, received messages become records in the socket's inbox, and the
//! per-association bookkeeping behind SENDER_DRY and SCTP_AUTOCLOSE.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::autotune::RxAuto;
use super::notify::{self, Events, ev};
use super::shutdown::SHUT_RCV;
use super::{Kind, RecordMeta, Sock, SockId, State, TO_APP_MAX, Watch, now};
use crate::proto::assoc::{AssocEvent, AssocId, CloseReason, PathState};
use crate::proto::endpoint::Endpoint;
use crate::sys;

impl Sock {
    /// Queues notification `body` (event number `e`) if the socket asked for it.
    pub(super) fn notify(
        &mut self,
        assoc: AssocId,
        peer: Option<SocketAddr>,
        e: usize,
        body: Vec<u8>,
    ) {
        if !self.events_of(assoc).on(e) || self.app_gone {
            return;
        }
        let meta = RecordMeta {
            assoc,
            peer: peer.map(|a| self.present(a)),
            notification: true,
            ..Default::default()
        };
        self.inbox.push(meta, &body);
    }

    /// Association `assoc` no longer belongs to this socket.
    pub(super) fn forget_assoc(&mut self, assoc: AssocId) {
        self.held_total -= self.held.remove(&assoc).unwrap_or(0);
        self.active.forget(assoc);
        self.stalled.remove(&assoc);
        self.starved.remove(&assoc);
    }

    /// The subscriptions of association `assoc` on this socket.
    pub(super) fn events_of(&self, assoc: AssocId) -> &Events {
        self.assoc_events.get(&assoc).unwrap_or(&self.events)
    }

    /// The subscriptions as they are (to compare after a change).
    pub(super) fn clone_events(&self) -> Subscriptions {
        Subscriptions {
            socket: self.events,
            assocs: self.assoc_events.clone(),
        }
    }

    /// Whether the association reached COMM_UP on this socket.
    pub(super) fn is_up(&self, assoc: AssocId) -> bool {
        self.watch.get(&assoc).is_some_and(|w| w.up)
    }

    /// Marks the association up and reports COMM_UP (or RESTART).
    pub(super) fn came_up(
        &mut self,
        assoc: AssocId,
        peer: Option<SocketAddr>,
        streams: (u16, u16),
        restart: bool,
        adaptation: Option<u32>,
    ) {
        let w = self.watch.entry(assoc).or_insert_with(Watch::new);
        w.up = true;
        w.active = super::now();
        let state = if restart {
            notify::SCTP_RESTART
        } else {
            notify::SCTP_COMM_UP
        };
        self.notify(
            assoc,
            peer,
            ev::ASSOC_CHANGE,
            notify::assoc_change(state, 0, streams, assoc),
        );
        // Then, as Linux's sctp_sf_do_5_1D_ce / 5_1E_ca: the peer's
        // adaptation indication, and its lack of AUTH (SCTP_CMD_PEER_NO_AUTH).
        if let Some(ind) = adaptation {
            self.notify(assoc, peer, ev::ADAPTATION, notify::adaptation(ind, assoc));
        }
        if !restart {
            self.notify(assoc, peer, ev::AUTHENTICATION, notify::no_auth(assoc));
        }
    }
}

/// A socket's subscriptions at one moment.
pub(super) struct Subscriptions {
    socket: Events,
    assocs: HashMap<AssocId, Events>,
}

impl State {
    /// The associations socket `id` holds.
    pub(super) fn assocs_of(&self, id: SockId) -> Vec<AssocId> {
        self.socks
            .get(&id)
            .and_then(|s| s.port)
            .and_then(|p| self.eps.get(&p))
            .map(|ep| {
                ep.socks
                    .iter()
                    .filter(|&(_, &x)| x == id)
                    .map(|(&a, _)| a)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// After a subscription change: SENDER_DRY at once for each association
    /// that just got it and has nothing queued or in flight (as Linux).
    pub(super) fn report_dry(&mut self, id: SockId, before: &Subscriptions) {
        let mine = self.assocs_of(id);
        let Some(s) = self.socks.get_mut(&id) else {
            return;
        };
        let Some(ep) = s.port.and_then(|p| self.eps.get(&p)) else {
            return;
        };
        let mut any = false;
        for aid in mine {
            let was = before.assocs.get(&aid).unwrap_or(&before.socket);
            if was.on(ev::SENDER_DRY) || !s.events_of(aid).on(ev::SENDER_DRY) {
                continue;
            }
            if let Some(a) = ep.endpoint.assoc(aid)
                && a.is_established()
                && a.all_data_acked()
            {
                let peer = Some(a.peer_addr());
                s.notify(aid, peer, ev::SENDER_DRY, notify::sender_dry(aid));
                any = true;
            }
        }
        if any {
            s.inbox.flush(s.efd, s.tx.page());
        }
    }

    /// A socket's receive buffer (SO_RCVBUF) bounds what it holds for the
    /// application: each association advertises at most what is left of it,
    /// counting what waits in the associations and in the socket's inbox.
    /// The associations of a one-to-many socket share it, as with Linux's
    /// default net.sctp.rcvbuf_policy = 0, so a reader that never reads
    /// holds the memory of one buffer, not one per association; the sender
    /// sees the window close and blocks.
    ///
    /// Only the associations in `pairs` are looked at (all in a sweep):
    /// the others' holdings have not changed. When the socket's free space
    /// grew by a share step to at least a step, the associations that last
    /// advertised less than a step are told too (a pass over them,
    /// STARVED_BATCH a turn), so that the ones whose peers wait for room
    /// get a window update; the others' peers can still send, and an
    /// association is told the space whenever it receives. (Telling every
    /// association on each step cost a walk over all of them: with 10,000
    /// on one socket behind a slow reader, most of the engine's time.)
    /// The space of the `dirty` sockets moved too (the application read).
    pub(super) fn share_rcvbuf(
        &mut self,
        port: u16,
        t: Instant,
        pairs: &[(AssocId, SockId)],
        dirty: &[SockId],
        sweep: bool,
    ) {
        let State {
            socks,
            eps,
            pair_watch: watch,
            dirty: dirty_next,
            ..
        } = self;
        let Some(ep) = eps.get_mut(&port) else {
            return;
        };
        if sweep {
            for &(_, sid) in pairs {
                if let Some(s) = socks.get_mut(&sid) {
                    s.held.clear();
                    s.held_total = 0;
                    s.starved.clear();
                    s.starved_left = 0;
                    s.shared_free = None;
                }
            }
        }
        let mut touched: HashMap<SockId, usize> = dirty
            .iter()
            .filter(|&id| socks.get(id).is_some_and(|s| s.port == Some(port)))
            .map(|&id| (id, 0))
            .collect();
        for &(aid, sid) in pairs {
            // Released or moved to another socket during the turn.
            if ep.socks.get(&aid) != Some(&sid) {
                continue;
            }
            let Some(s) = socks.get_mut(&sid) else {
                continue;
            };
            let a = ep.endpoint.assoc(aid);
            let now_held = a.map_or(0, |a| a.rx_buffered());
            let before = s.held.insert(aid, now_held).unwrap_or(0);
            s.held_total = s.held_total + now_held - before;
            if let Some(a) = a {
                s.active.saw(aid, t, a.received_bytes());
            }
            *touched.entry(sid).or_default() += 1;
        }
        let mut again = Vec::new();
        for (sid, n) in touched {
            let Some(s) = socks.get_mut(&sid) else {
                continue;
            };
            // Bytes in the pair count until the application reads them, as
            // Linux charges its receive buffer until recvmsg frees them.
            let in_pair = s.unread_in_pair();
            let rcvbuf = s.tuned_rcvbuf(&mut ep.endpoint, in_pair);
            let free = rcvbuf.saturating_sub(s.held_total + s.inbox.staged() + in_pair);
            // (Records held back for a shared page's readers are looked at
            // again too: a reader that does not tell may have moved on.)
            let watched = in_pair > 0 && free < rcvbuf / 2 || s.inbox.held();
            let changed = if watched {
                watch.insert(sid)
            } else {
                watch.remove(&sid)
            };
            if changed && let Some(p) = s.tx.page() {
                p.lock().set_watched(watched);
            }
            let step = (rcvbuf / 8).max(2 * 1500);
            let moved = s
                .shared_free
                .is_none_or(|f| f.abs_diff(free) >= step || (free == 0) != (f == 0));
            let mut ids: Vec<AssocId> = pairs.iter().filter(|p| p.1 == sid).map(|p| p.0).collect();
            if moved {
                s.shared_free = Some(free);
                // Room opened: one pass over the starved (all of them are
                // in `pairs` already when `n` counts all the socket holds).
                if n < s.held.len() && free >= step.min(rcvbuf / 4) {
                    s.starved_left = s.starved.len();
                }
            }
            if s.starved_left > 0 {
                let batch =
                    super::sock::round_robin(&s.starved, &mut s.starved_next, STARVED_BATCH);
                s.starved_left = s.starved_left.saturating_sub(batch.len().max(1));
                ids.extend(batch);
                if s.starved_left > 0 {
                    again.push(sid);
                }
            }
            // The free space is divided among the associations that receive
            // (see active.rs), or the ones told now if more: giving each
            // all of it let thousands of peers send a buffer's worth each
            // at once.
            let grant = free / ids.len().max(s.active.count());
            for aid in ids {
                let Some(a) = ep.endpoint.assoc(aid) else {
                    continue;
                };
                if !a.shares(grant) {
                    ep.endpoint.share_space(aid, grant);
                }
                let low = ep
                    .endpoint
                    .assoc(aid)
                    .is_some_and(|a| (a.advertised_rwnd() as usize) < step);
                if low {
                    s.starved.insert(aid);
                } else {
                    s.starved.remove(&aid);
                }
            }
        }
        // The rest of a pass goes on in the next turn.
        dirty_next.extend(again);
    }

    /// The events an accepted association had while it waited in the
    /// accept queue, once the messages it received before them are in the
    /// socket (Linux migrates both, in order); then the EOF or error.
    pub(super) fn replay_parked(&mut self, port: u16, t: Instant, pairs: &[(AssocId, SockId)]) {
        for &(aid, sid) in pairs {
            let Some(s) = self.socks.get_mut(&sid).filter(|s| !s.replay.is_empty()) else {
                continue;
            };
            let holds = self
                .eps
                .get(&port)
                .and_then(|ep| ep.endpoint.assoc(aid))
                .is_some_and(|a| a.has_message());
            if holds {
                continue;
            }
            for ev in std::mem::take(&mut s.replay) {
                let closed = matches!(ev, AssocEvent::Closed { .. });
                self.on_event(port, t, aid, ev, Some(sid));
                // An ABORT's error went to the listener that owned the
                // association then (SCTP_CMD_SET_SK_ERR): this socket reads
                // COMM_LOST, then a plain EOF.
                if closed && let Some(s) = self.socks.get_mut(&sid) {
                    s.error = 0;
                    s.terminal = 0;
                    s.rcv_shut = true;
                }
            }
            self.deliver(port, t, &[(aid, sid)]);
        }
    }

    /// One association event, for socket `sid` (None: an inbound association
    /// for a one-to-one listener).
    pub(super) fn on_event(
        &mut self,
        port: u16,
        t: Instant,
        aid: AssocId,
        ev: AssocEvent,
        sid: Option<SockId>,
    ) {
        if ev == AssocEvent::Connected {
            self.learn_mtu(port, aid, t);
        }
        let Some(ep) = self.eps.get_mut(&port) else {
            return;
        };
        let info = ep.endpoint.assoc(aid).map(|a| (a.streams(), a.peer_addr()));
        let peer = info.map(|i| i.1);
        let streams = info.map_or((0, 0), |i| i.0);
        let Some(sid) = sid else {
            let waiting = ep.listener.and_then(|l| self.socks.get(&l)).is_some_and(
                |l| matches!(&l.kind, Kind::Listener { pending } if pending.contains(&aid)),
            );
            if waiting {
                ep.parked.entry(aid).or_default().push(ev);
                return;
            }
            if ev == AssocEvent::Connected {
                // Inbound: hand it to the listener, one token byte each.
                match ep.listener.and_then(|l| self.socks.get_mut(&l)) {
                    Some(l) if !l.app_gone => {
                        if let Kind::Listener { pending } = &mut l.kind {
                            pending.push_back(aid);
                            ep.endpoint.set_waiting(pending.len());
                            sys::write(l.efd, &[0]).ok();
                        }
                    }
                    _ => {
                        if let Some(a) = ep.endpoint.assoc_mut(aid) {
                            a.abort(t, b"no listener");
                        }
                    }
                }
            }
            return;
        };
        let Some(s) = self.socks.get_mut(&sid) else {
            return;
        };
        let stream = matches!(s.kind, Kind::Stream { .. });
        match ev {
            AssocEvent::Connected => {
                if stream {
                    s.connected = true;
                    s.tx.lock().streams = streams.0;
                }
                let ind = s.watch.get_mut(&aid).and_then(|w| w.adaptation.take());
                s.came_up(aid, peer, streams, false, ind);
            }
            AssocEvent::Restarted => s.came_up(aid, peer, streams, true, None),
            AssocEvent::Adaptation(ind) => {
                s.watch.entry(aid).or_insert_with(Watch::new).adaptation = Some(ind);
            }
            AssocEvent::PeerShutdown => {
                if stream {
                    s.eof_pending = true;
                    s.rcv_shut = true;
                    s.tx.lock().peer_shut = true;
                }
                s.notify(aid, peer, ev::SHUTDOWN, notify::shutdown_event(aid));
            }
            // One notification per cause, in the chunk's order, as Linux's
            // sctp_cmd_process_operr.
            AssocEvent::RemoteError(causes) => {
                for c in &causes {
                    let mut b = Vec::new();
                    c.encode(&mut b);
                    s.notify(aid, peer, ev::REMOTE_ERROR, notify::remote_error(&b, aid));
                }
            }
            AssocEvent::PathChange { addr, state } => {
                let at = s.present(SocketAddr::new(addr, peer.map_or(0, |p| p.port())));
                let state = match state {
                    PathState::Available => notify::SCTP_ADDR_AVAILABLE,
                    PathState::PotentiallyFailed => notify::SCTP_ADDR_POTENTIALLY_FAILED,
                    PathState::Unreachable => notify::SCTP_ADDR_UNREACHABLE,
                    PathState::Confirmed => notify::SCTP_ADDR_CONFIRMED,
                    PathState::MadePrimary => notify::SCTP_ADDR_MADE_PRIM,
                };
                s.notify(
                    aid,
                    peer,
                    ev::PEER_ADDR_CHANGE,
                    notify::paddr_change(at, state, 0, aid),
                );
            }
            AssocEvent::Closed {
                reason,
                unsent,
                in_flight,
            } => {
                let was_up = s.watch.remove(&aid).is_some_and(|w| w.up);
                // Gone, no longer shutting down: sends are EPIPE (the pair's).
                if stream {
                    s.tx.lock().peer_shut = false;
                }
                // A message cut short by the end of its association.
                if let Some((stream, ssn)) = s.inbox.abort_open(aid) {
                    let b = notify::pdapi_aborted(stream, ssn, aid);
                    s.notify(aid, peer, ev::PARTIAL_DELIVERY, b);
                    s.inbox.release_lobby();
                    // (Readers of the shared page see the message end.)
                    s.inbox.flush(s.efd, s.tx.page());
                }
                let err = errno_of(&reason, was_up);
                let state = match reason {
                    CloseReason::Graceful => notify::SCTP_SHUTDOWN_COMP,
                    _ if !was_up => notify::SCTP_CANT_STR_ASSOC,
                    _ => notify::SCTP_COMM_LOST,
                };
                s.notify(
                    aid,
                    peer,
                    ev::ASSOC_CHANGE,
                    notify::assoc_change(state, sac_error(&reason), (0, 0), aid),
                );
                // The data that never made it, each piece with its parameters
                // (the newer event form when subscribed, as Linux picks it).
                for (i, m) in unsent.iter().enumerate() {
                    let sent = i < in_flight;
                    if s.events_of(aid).on(ev::SEND_FAILED_EVENT) {
                        let b = notify::send_failed_event(m, sent, err as u32, aid);
                        s.notify(aid, peer, ev::SEND_FAILED_EVENT, b);
                    } else {
                        let b = notify::send_failed(m, sent, err as u32, aid);
                        s.notify(aid, peer, ev::SEND_FAILED, b);
                    }
                }
                if stream {
                    s.error = err;
                    s.terminal = err;
                    // After the socket's own shutdown(SHUT_WR) a graceful end
                    // brings no end of file: Linux keeps it unreadable, and a
                    // blocking read fails with ENOTCONN (nothing_to_wait_for).
                    if err != 0 || !super::Engine::sending_shut(s) || s.rcv_shut {
                        s.eof_pending = true;
                    }
                    // (Its end is settled in a later pass: nothing else may
                    // bring the socket back.)
                    self.dirty.insert(sid);
                }
                s.assoc_events.remove(&aid);
            }
        }
    }

    /// Moves received messages of every association on `port` into their
    /// sockets' inboxes and on into the pairs; reports SENDER_DRY, applies
    /// SCTP_AUTOCLOSE, ends one-to-one sockets whose association is over
    /// and forgets one-to-many associations once they are done.
    pub(super) fn deliver(&mut self, port: u16, t: Instant, pairs: &[(AssocId, SockId)]) {
        let State { socks, eps, .. } = self;
        let Some(ep) = eps.get_mut(&port) else {
            return;
        };
        let mut done = Vec::new();
        let mut later = Vec::new();
        for &(aid, sid) in pairs {
            let Some(s) = socks.get_mut(&sid) else {
                continue;
            };
            let peer = ep.endpoint.assoc(aid).map(|a| s.present(a.peer_addr()));
            let context = ep.endpoint.assoc(aid).map_or(0, |a| a.config().rcv_context);
            // While another association's message arrives in pieces, this
            // one's wait in the association (no interleaving, as Linux).
            let blocked = s.inbox.open_assoc().is_some_and(|o| o != aid);
            while !blocked && s.inbox.staged() < TO_APP_MAX {
                let Some(m) = ep.endpoint.recv(aid) else {
                    break;
                };
                s.watch.entry(aid).or_insert_with(Watch::new).active = t;
                // After shutdown(SHUT_RD), data is dropped (Linux's
                // sctp_ulpq_tail_event frees it), and so after the
                // application's close (nobody is left to read it).
                if s.app_shut & SHUT_RCV != 0 || s.app_gone {
                    continue;
                }
                let meta = RecordMeta {
                    assoc: aid,
                    peer,
                    stream: m.stream_id,
                    ssn: m.ssn,
                    ppid: m.ppid,
                    tsn: m.first_tsn.0,
                    unordered: m.unordered,
                    notification: false,
                    context,
                };
                if m.more || s.inbox.open_assoc() == Some(aid) {
                    s.inbox.push_piece(meta, &m.data, !m.more);
                } else {
                    s.inbox.push(meta, &m.data);
                }
            }
            // Looked at again when the application makes room (`stalled`).
            if ep.endpoint.assoc(aid).is_some_and(|a| a.has_message()) {
                s.stalled.insert(aid);
            } else {
                s.stalled.remove(&aid);
            }
            if ep.endpoint.assoc(aid).is_some() {
                let mut blocked = false;
                if let Kind::Stream { .. } = s.kind {
                    let mut tx = s.tx.lock();
                    tx.carve(&[]);
                    if let Some(a) = ep.endpoint.assoc(aid) {
                        tx.track_limits(a);
                    }
                    // Only an association given messages counts as changed.
                    if tx.is_blocked()
                        && let Some(a) = ep.endpoint.assoc_mut(aid)
                    {
                        tx.pump(a, t);
                    }
                    blocked = tx.is_blocked();
                }
                let Some(a) = ep.endpoint.assoc(aid) else {
                    continue;
                };
                let dry = a.all_data_acked() && !blocked;
                let established = a.is_established();
                let w = s.watch.entry(aid).or_insert_with(Watch::new);
                let became_dry = dry && !w.dry && established;
                w.dry = dry;
                if !dry {
                    // Data in flight counts as activity.
                    w.active = t;
                }
                let idle = s.autoclose > 0
                    && established
                    && dry
                    && t.saturating_duration_since(w.active)
                        >= Duration::from_secs(u64::from(s.autoclose));
                if became_dry {
                    s.notify(aid, peer, ev::SENDER_DRY, notify::sender_dry(aid));
                }
                if idle
                    && s.kind == Kind::Many
                    && let Some(a) = ep.endpoint.assoc_mut(aid)
                {
                    a.shutdown(t);
                }
            }
            let over = ep.endpoint.assoc(aid).is_none_or(|a| a.is_closed());
            match s.kind {
                Kind::Stream { .. } => {
                    let flushed = s.inbox.flush(s.efd, s.tx.page());
                    let drained = !ep.endpoint.assoc(aid).is_some_and(|a| a.has_message());
                    // A socket that follows association changes reads
                    // SHUTDOWN_COMP / COMM_LOST before the EOF, so the EOF
                    // waits until the association is over.
                    let notes_done = over
                        || !s.events_of(aid).on(ev::ASSOC_CHANGE)
                        || s.app_shut & SHUT_RCV != 0;
                    if flushed && drained && s.eof_pending && !s.eof_sent && notes_done {
                        s.eof_sent = true;
                        sys::shutdown(s.efd, libc::SHUT_WR);
                    }
                    // Once the association is over and its data delivered (and
                    // no handshake filler is left to drop), the socket is done.
                    let quiet = !s.eof_pending && flushed && drained;
                    if over && (s.eof_sent || quiet) && !s.shut && s.junk == 0 {
                        s.shut = true;
                        let side = s.tx.clone();
                        let mut tx = side.lock();
                        // A graceful end with no send under way: the pair stays
                        // as it is, writable (sends are EPIPE) and readable only
                        // to an EOF the peer's SHUTDOWN gave, as Linux's
                        // sctp_poll answers (no hang-up).
                        if s.terminal == 0 && !tx.writer_pending() && sys::pending_bytes(s.efd) == 0
                        {
                            tx.gone = true;
                        } else {
                            drop(tx);
                            // What the application wrote and the association
                            // can no longer send is dropped (as the kernel frees
                            // its send queue), so a writer blocked on a full
                            // socket wakes up and gets EPIPE instead of waiting
                            // forever.
                            let mut scrap = [0u8; 16384];
                            while sys::read(s.efd, &mut scrap).is_ok_and(|n| n > 0) {}
                            sys::shutdown(s.efd, libc::SHUT_RDWR);
                        }
                    }
                }
                Kind::Many if over && !ep.endpoint.assoc(aid).is_some_and(|a| a.has_message()) => {
                    s.forget_assoc(aid);
                    done.push(aid);
                    later.push(sid);
                }
                _ => later.push(sid),
            }
        }
        // The other sockets' records of all their associations go into the
        // pair together: one write, one buffer of the pair's kernel memory
        // (its truesize is what the socket's space counts) instead of one
        // per message.
        later.sort_unstable();
        later.dedup();
        for sid in later {
            if let Some(s) = socks.get_mut(&sid) {
                s.inbox.flush(s.efd, s.tx.page());
            }
        }
        for a in done {
            ep.socks.remove(&a);
            ep.endpoint.release(a);
        }
    }

    /// The next SCTP_AUTOCLOSE deadline of any socket.
    pub(super) fn autoclose_deadline(&self) -> Option<Instant> {
        // Only established associations: one shutting down already would
        // keep the deadline in the past (every turn a sweep) until closed.
        if !self.autoclose_on {
            return None;
        }
        self.socks
            .values()
            .filter(|s| s.autoclose > 0)
            .flat_map(|s| {
                let d = Duration::from_secs(u64::from(s.autoclose));
                let ep = s.port.and_then(|p| self.eps.get(&p));
                s.watch
                    .iter()
                    .filter(move |&(&aid, w)| {
                        w.up && ep.is_some_and(|ep| {
                            ep.endpoint.assoc(aid).is_some_and(|a| a.is_established())
                        })
                    })
                    .map(move |(_, w)| w.active + d)
            })
            .min()
    }
}

/// How often a socket in `pair_watch` is looked at.
pub(super) const PAIR_WATCH_EVERY: Duration = Duration::from_millis(10);

/// Starved associations told the shared space per turn (`share_rcvbuf`).
const STARVED_BATCH: usize = 256;

impl Sock {
    /// The socket's receive buffer: SO_RCVBUF's, or for a one-to-one socket
    /// whose application did not set it, as auto-tuning (autotune.rs) has
    /// grown it from what the application read (`in_pair`: bytes it has
    /// not read yet), the association's window with it.
    fn tuned_rcvbuf(&mut self, ep: &mut Endpoint, in_pair: usize) -> usize {
        let base = self.cfg.rcvbuf;
        let Kind::Stream { assoc } = self.kind else {
            return base;
        };
        if self.bufs[0].is_some() {
            self.rx_auto = None;
            return base;
        }
        let read = self.inbox.written().saturating_sub(in_pair as u64);
        let srtt = ep
            .assoc(assoc)
            .and_then(|a| a.paths().get(a.primary()).and_then(|p| p.rto.srtt()));
        let t = now();
        let buf = self
            .rx_auto
            .get_or_insert_with(|| RxAuto::new(t, read, base))
            .observe(t, read, srtt);
        if buf > base {
            ep.grow_rcvbuf(assoc, buf);
        }
        buf.max(base)
    }

    /// Bytes delivered into the pair that the application has not read:
    /// what was written since the pair was last seen empty, at most what
    /// SIOCOUTQ counts (memory, at least the bytes).
    fn unread_in_pair(&mut self) -> usize {
        let written = self.inbox.written();
        // Without a system call when the last flush found the pair empty
        // (what is unread is at most what that flush wrote after it), or
        // nothing went in since the pair was last seen so.
        if let Some(at) = self.inbox.take_seen_empty() {
            self.pair_mark = at;
            return written.saturating_sub(at) as usize;
        }
        if written == self.pair_mark {
            return 0;
        }
        let outq = sys::outq_bytes(self.efd);
        if outq == 0 {
            self.pair_mark = written;
            return 0;
        }
        (written.saturating_sub(self.pair_mark) as usize).min(outq)
    }
}

/// `sac_error` of the ASSOC_CHANGE that reports an association's end:
/// the SCTP cause code (RFC 6458 §6.1.1), as Linux stores it, in network
/// byte order (sctp_cmd_assoc_failed's `error`, a __be16): the peer's
/// first ABORT cause, User-Initiated Abort for our own, Protocol Violation,
/// else 0 (SCTP_ERROR_NO_ERROR).
fn sac_error(reason: &CloseReason) -> u16 {
    use crate::proto::wire::cause_code as cc;
    let code = match reason {
        CloseReason::PeerAbort(causes) => causes.first().map_or(0, |c| c.code()),
        CloseReason::LocalAbort => cc::USER_INITIATED_ABORT,
        CloseReason::Violation => cc::PROTOCOL_VIOLATION,
        CloseReason::Graceful | CloseReason::Refused | CloseReason::TimedOut => 0,
    };
    u16::from_ne_bytes(code.to_be_bytes())
}

/// The error an association's end leaves on its socket.
fn errno_of(reason: &CloseReason, was_up: bool) -> libc::c_int {
    match reason {
        CloseReason::Graceful => 0,
        CloseReason::Refused => libc::ECONNREFUSED,
        CloseReason::TimedOut => libc::ETIMEDOUT,
        CloseReason::PeerAbort(_) | CloseReason::LocalAbort => libc::ECONNRESET,
        // As Linux's sctp_sf_abort_violation.
        CloseReason::Violation if was_up => libc::ECONNABORTED,
        CloseReason::Violation => libc::ECONNREFUSED,
    }
}
