//! What an endpoint does with the packets that reach it: demultiplexing
//! to associations, the stateless INIT answer (§5.1), COOKIE ECHOs that
//! create associations (§5.1 D, §5.2), out-of-the-blue packets (§8.4) and
//! ICMP port unreachable (RFC 9260 Appendix C).

use super::*;

impl Endpoint {
    /// Processes one UDP datagram from `from` carrying an SCTP packet.
    pub fn handle(&mut self, now: Instant, from: SocketAddr, datagram: &[u8]) {
        let (mut packet, bad) = match Packet::decode_partial(datagram) {
            Ok(p) => p,
            Err(crate::proto::wire::WireError::BadChecksum) => {
                self.stats.bad_checksum += 1;
                return;
            }
            Err(_) => {
                self.stats.malformed += 1;
                return;
            }
        };
        if packet.dst_port != self.local_port
            || packet.src_port == 0
            || (packet.chunks.is_empty() && bad.is_none())
        {
            self.stats.malformed += 1;
            return;
        }
        let existing = self.by_peer.get(&(from.ip(), packet.src_port)).copied();
        if let Some(bad) = bad {
            // A malformed chunk: its association answers it by its type
            // (after the sound chunks before it); without one, or behind
            // an INIT or COOKIE ECHO, the packet is dropped.
            self.stats.malformed += 1;
            let setup = matches!(
                packet.chunks.first(),
                Some(Chunk::Init(_) | Chunk::CookieEcho(_))
            );
            match (existing, setup) {
                (Some(id), false) => {
                    if let Some(a) = self.assoc_mut(id) {
                        a.handle_malformed(now, from, &mut packet, bad);
                    }
                }
                (None, false) => self.out_of_the_blue(from, &packet, Some(bad)),
                _ => {}
            }
            return;
        }
        match packet.chunks.first() {
            Some(Chunk::Init(init)) => {
                // INIT must be alone with a zero tag (§6.10, §8.5.1 A).
                if packet.chunks.len() == 1 && packet.verification_tag == 0 {
                    let init = init.clone();
                    self.on_init(now, from, packet.src_port, &init, existing);
                }
            }
            Some(Chunk::CookieEcho(ce)) => {
                let cookie = ce.cookie.clone();
                self.on_cookie_echo(now, from, packet, &cookie, existing);
            }
            // §8.5.1 C, §9.2: a SHUTDOWN ACK to an association still in
            // COOKIE-WAIT or COOKIE-ECHOED is out of the blue (§8.4 rule 5).
            Some(Chunk::ShutdownAck)
                if existing
                    .and_then(|id| self.assocs.get(&id))
                    .is_some_and(|a| {
                        matches!(
                            a.state(),
                            crate::proto::assoc::State::CookieWait(_)
                                | crate::proto::assoc::State::CookieEchoed(_)
                        )
                    }) =>
            {
                self.out_of_the_blue(from, &packet, None);
            }
            _ => match existing {
                Some(id) => {
                    if let Some(a) = self.assoc_mut(id) {
                        a.handle_packet(now, from, &mut packet);
                    }
                    self.map_new_paths(id);
                }
                None => self.out_of_the_blue(from, &packet, None),
            },
        }
    }

    /// §8.4: answer packets that belong to no association.
    /// `bad`: the packet ended with a chunk that could not be decoded,
    /// answered (when the rules below answer at all) with a Protocol
    /// Violation cause, as Linux's sctp_sf_ootb does.
    fn out_of_the_blue(
        &mut self,
        from: SocketAddr,
        packet: &Packet,
        bad: Option<crate::proto::wire::BadChunk>,
    ) {
        self.stats.out_of_the_blue += 1;
        // The whole packet decides (Linux's sctp_rcv_ootb and sctp_sf_ootb):
        // an ABORT or SHUTDOWN COMPLETE anywhere (rules 2, 6), or an INIT
        // that is not alone (§6.10), means no answer; a SHUTDOWN ACK
        // anywhere is answered with SHUTDOWN COMPLETE (rule 5) before a
        // COOKIE ACK or stale-cookie ERROR silences the rest (rule 7).
        let (mut shut_ack, mut silent) = (false, false);
        for (i, c) in packet.chunks.iter().enumerate() {
            match c {
                Chunk::Abort(_) | Chunk::ShutdownComplete(_) => return,
                Chunk::Init(_) if i > 0 => return,
                Chunk::CookieAck => silent = true,
                Chunk::Error(e)
                    if e.causes
                        .iter()
                        .any(|c| matches!(c, ErrorCause::StaleCookie { .. })) =>
                {
                    silent = true;
                }
                Chunk::ShutdownAck => shut_ack = true,
                _ => {}
            }
        }
        if bad.is_some_and(|b| b.chunk_type == crate::proto::wire::chunk_type::ABORT) {
            return;
        }
        let chunk = if shut_ack {
            Chunk::ShutdownComplete(ShutdownComplete { t_bit: true })
        } else if silent {
            return;
        } else {
            let causes = bad.map_or(vec![], |b| {
                vec![ErrorCause::ProtocolViolation {
                    info: b.violation_info(),
                }]
            });
            Chunk::Abort(Abort {
                t_bit: true,
                causes,
            })
        };
        self.reply(from, packet.src_port, packet.verification_tag, chunk);
    }

    fn reply(&mut self, to: SocketAddr, peer_port: u16, vtag: u32, chunk: Chunk) {
        let p = Packet {
            src_port: self.local_port,
            dst_port: peer_port,
            verification_tag: vtag,
            chunks: vec![chunk],
        };
        self.outbox.push_back(Transmit {
            dst: to,
            src: None,
            payload: p.encode(),
            tos: 0,
            frag_ok: false,
        });
    }

    /// INIT: stateless INIT ACK (§5.1 B), or the collision answers of §5.2.
    fn on_init(
        &mut self,
        now: Instant,
        from: SocketAddr,
        peer_port: u16,
        init: &Init,
        existing: Option<AssocId>,
    ) {
        if init.initiate_tag == 0 {
            return; // §3.3.2: silently discard.
        }
        let init = &*handshake::processed(init);
        if !init_is_valid(init) {
            let abort = Abort {
                t_bit: false,
                causes: vec![ErrorCause::InvalidMandatoryParameter],
            };
            self.reply(from, peer_port, init.initiate_tag, Chunk::Abort(abort));
            return;
        }
        if let Some(Param::HostNameAddress(name)) = init
            .params
            .iter()
            .find(|p| matches!(p, Param::HostNameAddress(_)))
        {
            // Host names are deprecated (§5.1.2): refuse as unresolvable.
            let mut address = Vec::new();
            Param::HostNameAddress(name.clone()).encode(&mut address);
            let abort = Abort {
                t_bit: false,
                causes: vec![ErrorCause::UnresolvableAddress { address }],
            };
            self.reply(from, peer_port, init.initiate_tag, Chunk::Abort(abort));
            return;
        }
        if let Some(id) = existing {
            self.touch(id);
        }
        let takes = self.takes(from);
        let answer = match existing.and_then(|id| self.assocs.get_mut(&id)) {
            Some(a) => a.init_answer(),
            None if takes => InitAnswer::InitAck {
                local_vtag: self.rng.nonzero_u32(),
                local_tsn: self.rng.u32(),
                local_tie: 0,
                peer_tie: 0,
            },
            None => {
                // Nobody listens: refuse, as Linux does (ECONNREFUSED at the peer).
                self.reply(
                    from,
                    peer_port,
                    init.initiate_tag,
                    Chunk::Abort(Abort::default()),
                );
                return;
            }
        };
        let InitAnswer::InitAck {
            local_vtag,
            local_tsn,
            local_tie,
            peer_tie,
        } = answer
        else {
            return;
        };
        let outbound = self.cfg.outbound_streams.min(init.inbound_streams);
        let inbound = init.outbound_streams.min(self.cfg.max_inbound_streams);
        let ours = multihome::ours_for(&self.cfg, from.ip());
        let cookie = CookieData {
            created_us: self.micros_since_epoch(now),
            lifetime_ms: Association::cookie_life(&self.cfg, init)
                .as_millis()
                .min(u128::from(u32::MAX)) as u32,
            local_port: self.local_port,
            peer_port,
            local_vtag,
            peer_vtag: init.initiate_tag,
            local_initial_tsn: local_tsn,
            peer_initial_tsn: init.initial_tsn,
            peer_rwnd: init.a_rwnd,
            local_tie_tag: local_tie,
            peer_tie_tag: peer_tie,
            outbound_streams: outbound,
            inbound_streams: inbound,
            peer_udp_port: from.port(),
            // The source first (the confirmed path), then what it listed.
            peer_addrs: std::iter::once(from.ip())
                .chain(multihome::listed_addrs(&init.params, from.ip(), &ours))
                .take(64)
                .collect(),
            peer_adaptation: handshake::adaptation_of(&init.params),
        };
        let mut params = vec![Param::StateCookie(cookie.seal(&self.secret))];
        params.extend(handshake::adaptation_param(&self.cfg));
        let listed = multihome::to_list(multihome::addrs_for(&ours, &init.params));
        params.extend(multihome::addr_params(&listed));
        for p in &init.params {
            if let Param::Unknown { param_type, .. } = p
                && *param_type != handshake::ADAPTATION_IND
            {
                let action = UnknownAction::for_param_type(*param_type);
                if action.reports() {
                    let mut tlv = Vec::new();
                    p.encode(&mut tlv);
                    params.push(Param::UnrecognizedParameter(tlv));
                }
                if action.stops() {
                    break;
                }
            }
        }
        let ack = Init {
            initiate_tag: local_vtag,
            a_rwnd: self.cfg.rcvbuf as u32,
            outbound_streams: outbound,
            inbound_streams: inbound,
            initial_tsn: local_tsn,
            params,
        };
        self.stats.init_acks_sent += 1;
        self.reply(from, peer_port, init.initiate_tag, Chunk::InitAck(ack));
    }

    /// COOKIE ECHO: validate, then create or update the association (§5.1 D, §5.2.4).
    fn on_cookie_echo(
        &mut self,
        now: Instant,
        from: SocketAddr,
        mut packet: Packet,
        cookie: &[u8],
        existing: Option<AssocId>,
    ) {
        let c = match CookieData::open(cookie, &self.secret, self.micros_since_epoch(now)) {
            Ok(c) => c,
            Err(CookieError::Stale {
                staleness_us,
                peer_vtag,
            }) => {
                self.stats.stale_cookies += 1;
                if packet.verification_tag != 0 {
                    let err = ErrorCause::StaleCookie {
                        staleness_us: staleness_us.min(u64::from(u32::MAX)) as u32,
                    };
                    let chunk = Chunk::Error(ErrorChunk { causes: vec![err] });
                    self.reply(from, packet.src_port, peer_vtag, chunk);
                }
                return;
            }
            Err(_) => {
                self.stats.cookies_rejected += 1;
                return;
            }
        };
        if packet.verification_tag != c.local_vtag
            || c.local_port != self.local_port
            || c.peer_port != packet.src_port
        {
            self.stats.cookies_rejected += 1;
            return;
        }
        let id = match existing {
            Some(id) => {
                let Some(a) = self.assoc_mut(id) else {
                    return;
                };
                if a.on_cookie_echo(now, &c) == CookieOutcome::Discarded {
                    return;
                }
                id
            }
            None => {
                if !self.takes(from)
                    // Full as Linux's sk_acceptq_is_full: more waiting than
                    // the backlog (so backlog + 1 may wait).
                    || self.accept_queue.len() + self.waiting > self.cfg.backlog
                    || self.assocs.len() >= self.cfg.max_associations
                {
                    self.reply(
                        from,
                        packet.src_port,
                        c.peer_vtag,
                        Chunk::Abort(Abort::default()),
                    );
                    return;
                }
                let id = next_assoc_id();
                let rng = self.fork_rng();
                let a = Association::accept(id, self.cfg.clone(), rng, now, &c);
                for ip in a.peer_addrs() {
                    self.by_peer.insert((ip, c.peer_port), id);
                }
                self.assocs.insert(id, a);
                self.accept_queue.push_back(id);
                self.touch(id);
                id
            }
        };
        // Chunks bundled after the COOKIE ECHO (DATA, typically).
        packet.chunks.remove(0);
        if !packet.chunks.is_empty()
            && let Some(a) = self.assoc_mut(id)
        {
            packet.verification_tag = a.vtags().0;
            a.handle_packet(now, from, &mut packet);
        }
    }

    /// An ICMP port unreachable came back for a datagram we sent to `to`
    /// (UDP destination) whose first bytes were `original`. If it carries
    /// an association's own verification tag, the peer's endpoint is gone:
    /// treat it as an ABORT (RFC 9260 Appendix C). Blind ICMP without the
    /// tag is ignored.
    pub fn handle_port_unreachable(&mut self, to: SocketAddr, original: &[u8]) {
        let Some((id, vtag)) = self.sender_of(to, original) else {
            return;
        };
        // An INIT carries tag 0; its Initiate Tag (bytes 16..20) proves it ours.
        let init_tag = match original.get(12) {
            Some(&crate::proto::wire::chunk_type::INIT) => original
                .get(16..20)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]])),
            _ => None,
        };
        if let Some(a) = self.assoc_mut(id) {
            a.on_port_unreachable(to, vtag, init_tag);
        }
    }

    /// A packet of ours to `to` was too big for the path (ICMP
    /// "fragmentation needed" / "packet too big", or EMSGSIZE from the
    /// kernel): `pmtu` is the path MTU reported, `original` the packet's
    /// first bytes. Its association lowers that path's MTU and sends what
    /// was in flight there again.
    pub fn handle_packet_too_big(
        &mut self,
        now: Instant,
        to: SocketAddr,
        original: &[u8],
        pmtu: usize,
    ) {
        let Some((id, vtag)) = self.sender_of(to, original) else {
            return;
        };
        if let Some(a) = self.assoc_mut(id)
            && (vtag == a.peer_vtag() || vtag == 0)
        {
            a.set_path_mtu(now, to.ip(), pmtu, true);
        }
    }

    /// The association that sent `original` (a packet of ours quoted back)
    /// to `to`, with the packet's verification tag.
    fn sender_of(&self, to: SocketAddr, original: &[u8]) -> Option<(AssocId, u32)> {
        let (src, dst, vtag) = Packet::peek_header(original)?;
        if src != self.local_port {
            return None;
        }
        Some((self.find(SocketAddr::new(to.ip(), dst))?, vtag))
    }
}
