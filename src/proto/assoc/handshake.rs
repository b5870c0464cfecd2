//! Association setup (§5.1), handshake timers, INIT collision and restart
//! (§5.2) and stale cookies (§5.2.6).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::path::Path;
use super::rx::{Reassembly, TsnTracker};
use super::{AssocEvent, AssocId, Association, CloseReason, CookieEchoed, CookieWait, State};
use crate::proto::config::Config;
use crate::proto::cookie::{CookieData, Rng};
use crate::proto::serial::Tsn;
use crate::proto::wire::{Chunk, CookieEcho, ErrorCause, Init, Param, UnknownAction};

/// What the endpoint should answer to an INIT for an existing association.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitAnswer {
    /// An INIT ACK with this initiate tag / initial TSN and these tie-tags.
    InitAck {
        local_vtag: u32,
        local_tsn: u32,
        local_tie: u32,
        peer_tie: u32,
    },
    /// Drop the INIT; the association retransmits SHUTDOWN ACK (§5.2.3).
    Discard,
}

/// What a COOKIE ECHO did to an existing association (§5.2.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CookieOutcome {
    /// Accepted: a COOKIE ACK is queued; process the rest of the packet.
    Accepted,
    /// Silently discarded (case C, or no case matches).
    Discarded,
}

/// Checks an INIT or INIT ACK's fixed fields (§3.3.2): tag, streams, and
/// a window of at least 1500 bytes (§6: an endpoint MUST be able to take a
/// 1500-byte packet; Linux's sctp_verify_init, SCTP_DEFAULT_MINWINDOW).
pub fn init_is_valid(init: &Init) -> bool {
    init.initiate_tag != 0
        && init.outbound_streams != 0
        && init.inbound_streams != 0
        && init.a_rwnd >= 1500
}

/// Adaptation Layer Indication parameter type (RFC 5061 §4.2.6).
pub const ADAPTATION_IND: u16 = 0xc006;

/// The Adaptation Layer Indication our INIT / INIT ACK carries, if any.
pub fn adaptation_param(cfg: &Config) -> Option<Param> {
    (cfg.adaptation_ind != 0).then(|| Param::Unknown {
        param_type: ADAPTATION_IND,
        value: cfg.adaptation_ind.to_be_bytes().to_vec(),
    })
}

/// The peer's Adaptation Layer Indication in an INIT / INIT ACK.
pub fn adaptation_of(params: &[Param]) -> Option<u32> {
    params.iter().find_map(|p| match p {
        Param::Unknown { param_type, value } if *param_type == ADAPTATION_IND => {
            Some(u32::from_be_bytes(value.get(..4)?.try_into().ok()?))
        }
        _ => None,
    })
}

/// The INIT or INIT ACK as far as it is processed: parameters after an
/// unrecognized one whose upper bits say "stop" (00 or 01, RFC 9260
/// §3.2.1) are not looked at.
pub fn processed(init: &Init) -> std::borrow::Cow<'_, Init> {
    let stop = init.params.iter().position(|p| {
        matches!(p, Param::Unknown { param_type, .. }
            if *param_type != ADAPTATION_IND
                && UnknownAction::for_param_type(*param_type).stops())
    });
    match stop {
        Some(i) if i + 1 < init.params.len() => {
            let mut cut = init.clone();
            cut.params.truncate(i + 1);
            std::borrow::Cow::Owned(cut)
        }
        _ => std::borrow::Cow::Borrowed(init),
    }
}

/// Unrecognized parameters the sender asked to hear about (§3.2.1), as
/// their raw TLVs, and whether processing stopped early.
pub fn unrecognized_params(params: &[Param]) -> Vec<u8> {
    let mut report = Vec::new();
    for p in params {
        if let Param::Unknown { param_type, .. } = p
            && *param_type != ADAPTATION_IND
        {
            let action = UnknownAction::for_param_type(*param_type);
            if action.reports() {
                p.encode(&mut report);
            }
            if action.stops() {
                break;
            }
        }
    }
    report
}

impl Association {
    /// Starts an association as the initiator: queues an INIT (§5.1 A).
    #[allow(clippy::too_many_arguments)]
    pub fn connect(
        id: AssocId,
        cfg: Config,
        mut rng: Rng,
        now: Instant,
        local_port: u16,
        peer: SocketAddr,
        udp_port: u16,
    ) -> Association {
        let local_vtag = rng.nonzero_u32();
        let local_tsn = Tsn(rng.u32());
        // IPv6 too when the peer or one of our listed addresses is.
        let v6 = peer.is_ipv6() || cfg.local_addrs.iter().any(|a| a.is_ipv6());
        let mut params = vec![Param::SupportedAddressTypes(if v6 {
            vec![5, 6]
        } else {
            vec![5]
        })];
        params.extend(adaptation_param(&cfg));
        let ours = super::multihome::to_list(super::multihome::ours_for(&cfg, peer.ip()));
        params.extend(super::multihome::addr_params(&ours));
        let init = Init {
            initiate_tag: local_vtag,
            a_rwnd: cfg.rcvbuf as u32,
            outbound_streams: cfg.outbound_streams,
            inbound_streams: cfg.max_inbound_streams,
            initial_tsn: local_tsn.0,
            params,
        };
        let udp_peer = SocketAddr::new(peer.ip(), udp_port);
        let state = State::CookieWait(CookieWait {
            init: init.clone(),
            retries: 0,
        });
        let mut a = Association::blank(
            id,
            cfg,
            rng,
            local_port,
            peer.port(),
            local_vtag,
            local_tsn,
            udp_peer,
            state,
        );
        a.control.queue.push_back((None, Chunk::Init(init)));
        a.t1 = Some(now + a.t1_timeout());
        a
    }

    /// Builds an established association from a validated cookie (§5.1 D)
    /// and queues its COOKIE ACK.
    pub fn accept(id: AssocId, cfg: Config, rng: Rng, now: Instant, c: &CookieData) -> Association {
        let peer_ip = c
            .peer_addrs
            .first()
            .copied()
            .unwrap_or(std::net::Ipv4Addr::UNSPECIFIED.into());
        let udp_peer = SocketAddr::new(peer_ip, c.peer_udp_port);
        let mut a = Association::blank(
            id,
            cfg,
            rng,
            c.local_port,
            c.peer_port,
            c.local_vtag,
            Tsn(c.local_initial_tsn),
            udp_peer,
            State::Established,
        );
        // The peer's other addresses (its INIT listed them): unconfirmed.
        a.add_paths(c.peer_addrs.get(1..).unwrap_or(&[]), false);
        a.paths_added = false;
        a.adopt_cookie(now, c);
        a.control.queue.push_back((None, Chunk::CookieAck));
        a.report_adaptation();
        a.events.push_back(AssocEvent::Connected);
        a
    }

    /// The peer's adaptation indication, reported just before Connected:
    /// the socket layer gives it to the application after COMM_UP.
    fn report_adaptation(&mut self) {
        if let Some(v) = self.peer_adaptation {
            self.events.push_back(AssocEvent::Adaptation(v));
        }
    }

    /// Just established: a shutdown asked for during the handshake starts now.
    fn after_setup(&mut self, now: Instant) {
        if std::mem::take(&mut self.shutdown_after_setup) {
            self.shutdown(now);
        }
    }

    /// T1-init / T1-cookie: the RTO, bounded by sinit_max_init_timeo.
    fn t1_timeout(&self) -> Duration {
        self.rto().min(self.cfg.max_init_timeo)
    }

    /// Takes the peer's parameters from a cookie (fresh, collision or restart).
    fn adopt_cookie(&mut self, now: Instant, c: &CookieData) {
        self.peer_adaptation = c.peer_adaptation;
        self.local_vtag = c.local_vtag;
        self.peer_vtag = c.peer_vtag;
        self.peer_rwnd = c.peer_rwnd;
        self.queue.set_streams(c.outbound_streams);
        self.inbound_streams = c.inbound_streams;
        self.rx.tracker = TsnTracker::new(Tsn(c.peer_initial_tsn));
        self.rx.reasm = Reassembly::new(c.inbound_streams);
        for p in &mut self.paths {
            p.cc = super::path::Congestion::new(p.mtu, c.peer_rwnd);
        }
        self.t1 = None;
        self.error_count = 0;
        self.start_heartbeats(now);
    }

    /// INIT ACK in COOKIE-WAIT (§5.1 C): answer with COOKIE ECHO.
    pub(super) fn on_init_ack(&mut self, now: Instant, path: usize, ia: &Init) {
        let State::CookieWait(cw) = &self.state else {
            return;
        };
        let ia = &*processed(ia);
        let init = cw.init.clone();
        if !init_is_valid(ia) {
            // Under the peer's tag, or ours reflected (T bit) when it gave
            // none (§3.3.3, §8.5.1 B): an ABORT under tag 0 is discarded.
            if ia.initiate_tag == 0 {
                self.violation_abort(b"INIT ACK with Initiate Tag 0".to_vec(), true);
            } else {
                self.peer_vtag = ia.initiate_tag;
                self.protocol_violation("invalid INIT ACK");
            }
            return;
        }
        let Some(cookie) = ia.params.iter().find_map(|p| match p {
            Param::StateCookie(c) => Some(c.clone()),
            _ => None,
        }) else {
            self.peer_vtag = ia.initiate_tag;
            let causes = vec![ErrorCause::MissingMandatoryParameter { missing: vec![7] }];
            self.abort_and_close(causes, false, CloseReason::Violation);
            return;
        };
        if let Some(name) = ia
            .params
            .iter()
            .find(|p| matches!(p, Param::HostNameAddress(_)))
        {
            // Host names are deprecated (RFC 9260 §5.1.2, §3.3.10.5):
            // ABORT with "Unresolvable Address" carrying the parameter.
            let mut address = Vec::new();
            name.encode(&mut address);
            self.peer_vtag = ia.initiate_tag;
            let causes = vec![ErrorCause::UnresolvableAddress { address }];
            self.abort_and_close(causes, false, CloseReason::Violation);
            return;
        }
        let mut errors = Vec::new();
        let report = unrecognized_params(&ia.params);
        if !report.is_empty() {
            errors.push(ErrorCause::UnrecognizedParameters { params: report });
        }
        self.peer_vtag = ia.initiate_tag;
        self.peer_rwnd = ia.a_rwnd;
        self.peer_adaptation = adaptation_of(&ia.params);
        let from = self.paths[self.primary].addr;
        let ours = super::multihome::ours_for(&self.cfg, from);
        let listed = super::multihome::listed_addrs(&ia.params, from, &ours);
        self.add_paths(&listed, false);
        // The COOKIE ECHO goes where the INIT ACK came from (§6.4).
        self.handshake_path = Some(path);
        self.queue
            .set_streams(self.cfg.outbound_streams.min(ia.inbound_streams));
        self.inbound_streams = ia.outbound_streams.min(self.cfg.max_inbound_streams);
        self.rx.tracker = TsnTracker::new(Tsn(ia.initial_tsn));
        self.rx.reasm = Reassembly::new(self.inbound_streams);
        for p in &mut self.paths {
            p.cc = super::path::Congestion::new(p.mtu, ia.a_rwnd);
        }
        self.state = State::CookieEchoed(CookieEchoed {
            init,
            cookie,
            retries: 0,
            errors,
        });
        self.queue_cookie_echo();
        self.t1 = Some(now + self.t1_timeout());
    }

    fn queue_cookie_echo(&mut self) {
        if let State::CookieEchoed(ce) = &self.state {
            self.control.queue.push_back((
                self.handshake_path.filter(|&p| p < self.paths.len()),
                Chunk::CookieEcho(CookieEcho {
                    cookie: ce.cookie.clone(),
                }),
            ));
            if !ce.errors.is_empty() {
                let err = crate::proto::wire::ErrorChunk {
                    causes: ce.errors.clone(),
                };
                self.control.queue.push_back((None, Chunk::Error(err)));
            }
        }
    }

    /// COOKIE ACK in COOKIE-ECHOED (§5.1 E).
    pub(super) fn on_cookie_ack(&mut self, now: Instant) {
        if let State::CookieEchoed(_) = self.state {
            self.state = State::Established;
            self.t1 = None;
            self.error_count = 0;
            self.report_adaptation();
            self.events.push_back(AssocEvent::Connected);
            self.start_heartbeats(now);
            // DATA bundled with the COOKIE ECHO is timed from now on.
            for i in 0..self.paths.len() {
                if self.out.has_outstanding_on(i) && self.paths[i].t3.is_none() {
                    self.start_t3(now, i);
                }
            }
            self.after_setup(now);
        }
    }

    /// T1-init / T1-cookie expiry (§5.1 B, C).
    pub(super) fn on_t1_expiry(&mut self, now: Instant) {
        let max = self.cfg.max_init_retransmits;
        let retries = match &mut self.state {
            State::CookieWait(cw) => {
                cw.retries += 1;
                cw.retries
            }
            State::CookieEchoed(ce) => {
                ce.retries += 1;
                ce.retries
            }
            _ => return,
        };
        if retries > max {
            self.control.queue.clear();
            self.close(CloseReason::TimedOut);
            return;
        }
        self.paths[self.primary].rto.back_off();
        match &self.state {
            State::CookieWait(cw) => {
                let init = cw.init.clone();
                self.control
                    .queue
                    .retain(|(_, c)| !matches!(c, Chunk::Init(_)));
                // Each retransmission to the next of the peer's addresses
                // (sctp_connectx gave several): one that answers wins.
                let to = (retries as usize % self.paths.len() + self.primary) % self.paths.len();
                self.control.queue.push_back((Some(to), Chunk::Init(init)));
            }
            _ => {
                self.control
                    .queue
                    .retain(|(_, c)| !matches!(c, Chunk::CookieEcho(_) | Chunk::Error(_)));
                self.queue_cookie_echo();
            }
        }
        self.t1 = Some(now + self.t1_timeout());
    }

    /// Stale Cookie error in COOKIE-ECHOED (§5.2.6): INIT again, asking for
    /// a longer cookie life.
    pub(super) fn on_stale_cookie(&mut self, now: Instant, staleness_us: u32) {
        let State::CookieEchoed(ce) = &self.state else {
            return;
        };
        let retries = ce.retries + 1;
        if retries > self.cfg.max_init_retransmits {
            self.close(CloseReason::TimedOut);
            return;
        }
        let mut init = ce.init.clone();
        init.params
            .retain(|p| !matches!(p, Param::CookiePreservative(_)));
        let extra_ms = (staleness_us / 1000).saturating_mul(2).max(1000);
        init.params.push(Param::CookiePreservative(extra_ms));
        self.state = State::CookieWait(CookieWait {
            init: init.clone(),
            retries,
        });
        self.peer_vtag = 0;
        self.control
            .queue
            .retain(|(_, c)| !matches!(c, Chunk::CookieEcho(_)));
        self.control.queue.push_back((None, Chunk::Init(init)));
        self.t1 = Some(now + self.t1_timeout());
    }

    /// How to answer an INIT that arrived for this association (§5.2.1–§5.2.3).
    pub fn init_answer(&mut self) -> InitAnswer {
        match &self.state {
            State::CookieWait(cw) => InitAnswer::InitAck {
                local_vtag: self.local_vtag,
                local_tsn: cw.init.initial_tsn,
                local_tie: self.local_vtag,
                peer_tie: 0,
            },
            State::CookieEchoed(ce) => InitAnswer::InitAck {
                local_vtag: self.local_vtag,
                local_tsn: ce.init.initial_tsn,
                local_tie: self.local_vtag,
                peer_tie: self.peer_vtag,
            },
            State::ShutdownAckSent => {
                self.control.queue.push_back((None, Chunk::ShutdownAck));
                InitAnswer::Discard
            }
            State::Closed => InitAnswer::Discard,
            _ => InitAnswer::InitAck {
                local_vtag: self.rng.nonzero_u32(),
                local_tsn: self.rng.u32(),
                local_tie: self.local_vtag,
                peer_tie: self.peer_vtag,
            },
        }
    }

    /// A valid COOKIE ECHO for this association (§5.2.4, Table 7).
    pub fn on_cookie_echo(&mut self, now: Instant, c: &CookieData) -> CookieOutcome {
        let (lt, pt) = (self.local_vtag, self.peer_vtag);
        let local_match = c.local_vtag == lt;
        let peer_match = c.peer_vtag == pt;
        if !local_match && !peer_match && c.local_tie_tag == lt && c.peer_tie_tag == pt {
            // A: the peer restarted.
            if let State::ShutdownAckSent = self.state {
                let err = crate::proto::wire::ErrorChunk {
                    causes: vec![ErrorCause::CookieReceivedWhileShuttingDown],
                };
                self.control.queue.push_back((None, Chunk::ShutdownAck));
                self.control.queue.push_back((None, Chunk::Error(err)));
                return CookieOutcome::Discarded;
            }
            self.restart(now, c);
            self.control.queue.push_back((None, Chunk::CookieAck));
            self.events.push_back(AssocEvent::Restarted);
            CookieOutcome::Accepted
        } else if local_match && !peer_match {
            // B: INIT collision; the peer's INIT crossed ours.
            let was_up = self.is_established();
            self.adopt_cookie(now, c);
            if !was_up {
                self.state = State::Established;
                self.events.push_back(AssocEvent::Connected);
            }
            self.control
                .queue
                .retain(|(_, ch)| !matches!(ch, Chunk::Init(_) | Chunk::CookieEcho(_)));
            self.control.queue.push_back((None, Chunk::CookieAck));
            self.after_setup(now);
            CookieOutcome::Accepted
        } else if !local_match && peer_match && c.local_tie_tag == 0 && c.peer_tie_tag == 0 {
            // C: a late INIT's cookie.
            CookieOutcome::Discarded
        } else if local_match && peer_match {
            // D: duplicate (our COOKIE ACK was lost, or collision completed).
            if !self.is_established() && !matches!(self.state, State::Closed) {
                self.t1 = None;
                self.state = State::Established;
                self.events.push_back(AssocEvent::Connected);
                self.start_heartbeats(now);
            }
            self.control
                .queue
                .retain(|(_, ch)| !matches!(ch, Chunk::Init(_) | Chunk::CookieEcho(_)));
            self.control.queue.push_back((None, Chunk::CookieAck));
            self.after_setup(now);
            CookieOutcome::Accepted
        } else {
            CookieOutcome::Discarded
        }
    }

    /// Restart (§5.2.4 A): a new TCB in place of the old one; data in
    /// flight is lost, as after any peer restart.
    fn restart(&mut self, now: Instant, c: &CookieData) {
        let peer = SocketAddr::new(self.paths[self.primary].addr, c.peer_udp_port);
        self.paths = vec![Path::new(&self.cfg, peer.ip(), peer.port(), c.peer_rwnd)];
        self.primary = 0;
        self.out = super::tx::Outstanding::new(Tsn(c.local_initial_tsn));
        let _ = self.queue.drain();
        self.queue = super::tx::SendQueue::new(c.outbound_streams);
        self.control.queue.clear();
        self.t2 = None;
        self.rx.sack_pending = false;
        self.rx.sack_now = false;
        self.rx.sack_timer = None;
        self.state = State::Established;
        self.adopt_cookie(now, c);
    }

    /// The lifetime to grant a cookie: Valid.Cookie.Life plus an honoured
    /// preservative (capped, as Linux does, at one extra lifetime).
    pub fn cookie_life(cfg: &Config, init: &Init) -> Duration {
        let extra = init
            .params
            .iter()
            .find_map(|p| match p {
                Param::CookiePreservative(ms) => Some(Duration::from_millis(u64::from(*ms))),
                _ => None,
            })
            .unwrap_or_default();
        cfg.valid_cookie_life + extra.min(cfg.valid_cookie_life)
    }
}
