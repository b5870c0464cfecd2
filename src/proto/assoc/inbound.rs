//! What an association does with the packets that reach it: the
//! verification tag rules (§8.5, §8.5.1), each chunk to its handler,
//! unknown chunks (§3.2), ABORT, ERROR and ICMP port unreachable.

use super::*;

impl Association {
    /// Processes one decoded packet sent to us by `from` (UDP source).
    /// (DATA payloads are taken out of `packet`, not copied.)
    pub fn handle_packet(&mut self, now: Instant, from: SocketAddr, packet: &mut Packet) {
        self.stats.packets_received += 1;
        let Some(path) = self.path_of(from) else {
            return;
        };
        if !self.verify_tag(packet) {
            return;
        }
        // Only a packet that passed the tag check may move the path's UDP
        // port (RFC 6951 §5.4): a forged one would redirect the association.
        if from.port() != 0 {
            self.paths[path].udp_port = from.port();
        }
        self.renew_burst();
        // §6.10: INIT ACK and SHUTDOWN COMPLETE travel alone; where one
        // would be taken, Linux aborts a bundled one (sctp_sf_violation_chunk).
        if packet.chunks.len() > 1 {
            for c in &packet.chunks {
                match (c, &self.state) {
                    (Chunk::InitAck(ia), State::CookieWait(_)) => {
                        self.peer_vtag = ia.initiate_tag;
                        self.protocol_violation("INIT ACK bundled with other chunks");
                        return;
                    }
                    (Chunk::ShutdownComplete(_), State::ShutdownAckSent) => {
                        self.protocol_violation("SHUTDOWN COMPLETE bundled with other chunks");
                        return;
                    }
                    _ => {}
                }
            }
        }
        let mut data_seen = false;
        for chunk in packet.chunks.iter_mut() {
            if matches!(self.state, State::Closed) {
                break;
            }
            match chunk {
                Chunk::Data(d) => {
                    data_seen = true;
                    self.on_data(now, path, d);
                }
                Chunk::Sack(s) => self.on_sack(now, path, s),
                Chunk::InitAck(ia) => self.on_init_ack(now, path, ia),
                Chunk::CookieAck => self.on_cookie_ack(now),
                Chunk::Heartbeat(hb) => {
                    let ack = Chunk::HeartbeatAck(hb.clone());
                    self.control.queue.push_back((Some(path), ack));
                }
                Chunk::HeartbeatAck(hb) => self.on_heartbeat_ack(now, path, hb),
                Chunk::Abort(a) => self.on_abort(a),
                Chunk::Shutdown(s) => self.on_shutdown(now, path, s),
                Chunk::ShutdownAck => self.on_shutdown_ack(now),
                Chunk::ShutdownComplete(_) => self.on_shutdown_complete(),
                Chunk::Error(e) => self.on_error(now, &e.causes),
                Chunk::Unknown(u) => {
                    if !self.on_unknown_chunk(u) {
                        break;
                    }
                }
                // INIT and COOKIE ECHO are routed through the endpoint, which
                // owns the cookie secret; see `on_cookie_echo` / `init_answer`.
                Chunk::Init(_) | Chunk::CookieEcho(_) => {}
            }
        }
        if data_seen {
            self.after_data_packet(now);
        }
    }

    /// A packet whose chunks end with `bad`, which could not be decoded.
    /// The chunks before it are processed; then, as Linux does, most chunk
    /// types are a protocol violation (ABORT with cause 13, RFC 9260
    /// §3.3.10.13); a malformed ABORT (§3.3.7), INIT or COOKIE ECHO is
    /// dropped, and a chunk the state does not expect is ignored.
    pub fn handle_malformed(
        &mut self,
        now: Instant,
        from: SocketAddr,
        packet: &mut Packet,
        bad: crate::proto::wire::BadChunk,
    ) {
        use crate::proto::wire::chunk_type as ct;
        if self.path_of(from).is_none() {
            return;
        }
        let vt = packet.verification_tag;
        let t_bit = bad.flags & 1 != 0;
        let tag_ok = if !packet.chunks.is_empty() {
            self.verify_tag(packet)
        } else if bad.chunk_type == ct::ABORT && t_bit {
            vt == self.peer_vtag && vt != 0
        } else {
            vt == self.local_vtag
        };
        if !tag_ok {
            return;
        }
        if !packet.chunks.is_empty() {
            self.handle_packet(now, from, packet);
        }
        let handshake = matches!(self.state, State::CookieWait(_) | State::CookieEchoed(_));
        match bad.chunk_type {
            _ if matches!(self.state, State::Closed) => {}
            // §3.3.7: an ABORT with a format error is silently discarded.
            ct::ABORT | ct::INIT | ct::COOKIE_ECHO => {}
            // The peer's tag is not known yet: the ABORT reflects ours.
            ct::INIT_ACK if matches!(self.state, State::CookieWait(_)) => {
                self.chunk_violation(bad, true);
            }
            ct::INIT_ACK => {}
            ct::COOKIE_ACK if !matches!(self.state, State::CookieEchoed(_)) => {}
            _ if handshake && bad.chunk_type != ct::COOKIE_ACK => {}
            _ => self.chunk_violation(bad, false),
        }
    }

    /// Verification-tag rules of §8.5 and §8.5.1.
    fn verify_tag(&self, packet: &Packet) -> bool {
        let vt = packet.verification_tag;
        match packet.chunks.first() {
            Some(Chunk::Abort(a)) => {
                let expect = if a.t_bit {
                    self.peer_vtag
                } else {
                    self.local_vtag
                };
                vt == expect && (expect != 0 || !a.t_bit)
            }
            Some(Chunk::ShutdownComplete(c)) => {
                vt == if c.t_bit {
                    self.peer_vtag
                } else {
                    self.local_vtag
                }
            }
            // A SHUTDOWN ACK in COOKIE-WAIT/ECHOED is out of the blue (§8.5.1 E):
            // the endpoint answers it, we ignore it.
            Some(Chunk::ShutdownAck) if !self.is_established() => false,
            Some(Chunk::Init(_)) => vt == 0,
            // Cookie echo tags are checked against the cookie by the endpoint.
            Some(Chunk::CookieEcho(_)) => true,
            _ => vt == self.local_vtag,
        }
    }

    /// Unknown chunk types (§3.2): returns false to stop processing the packet.
    fn on_unknown_chunk(&mut self, u: &crate::proto::wire::UnknownChunk) -> bool {
        let action = crate::proto::wire::UnknownAction::for_chunk_type(u.chunk_type);
        if action.reports() {
            let chunk = Chunk::Unknown(u.clone()).to_bytes();
            let err = crate::proto::wire::ErrorChunk {
                causes: vec![ErrorCause::UnrecognizedChunkType { chunk }],
            };
            self.control.queue.push_back((None, Chunk::Error(err)));
        }
        !action.stops()
    }

    /// ICMP port unreachable for a packet we sent to `to` with tag `vtag`
    /// (and, for an INIT, Initiate Tag `init_tag`): the peer is gone when
    /// that was the path data goes to (any path during the handshake);
    /// another path of a multi-homed peer fails by its heartbeats instead.
    pub fn on_port_unreachable(&mut self, to: SocketAddr, vtag: u32, init_tag: Option<u32>) {
        let ours = match self.state {
            // The INIT goes out with tag 0; its Initiate Tag is our own tag.
            State::CookieWait(_) => vtag == 0 && init_tag == Some(self.local_vtag),
            State::Closed => false,
            _ => vtag == self.peer_vtag,
        };
        // (Compared by address and port: a whole-SocketAddr comparison may
        // read padding, which valgrind reports as uninitialised.)
        let same = |a: SocketAddr| a.ip() == to.ip() && a.port() == to.port();
        let path = match self.state {
            State::CookieWait(_) | State::CookieEchoed(_) => {
                self.paths.iter().any(|p| same(p.udp_dest()))
            }
            _ => same(self.paths[self.data_path()].udp_dest()),
        };
        if ours && path {
            self.on_abort(&crate::proto::wire::Abort::default());
        }
    }

    fn on_abort(&mut self, a: &crate::proto::wire::Abort) {
        let reason = match self.state {
            State::CookieWait(_) | State::CookieEchoed(_) => CloseReason::Refused,
            _ => CloseReason::PeerAbort(a.causes.clone()),
        };
        self.control.queue.clear();
        self.close(reason);
    }

    fn on_error(&mut self, now: Instant, causes: &[ErrorCause]) {
        // An ERROR carries one or more causes (§3.3.10); Linux takes one
        // without any as a chunk too short (sctp_sf_violation_chunklen).
        if causes.is_empty() {
            if !matches!(
                self.state,
                State::CookieWait(_) | State::CookieEchoed(_) | State::Closed
            ) {
                self.chunk_violation(
                    crate::proto::wire::BadChunk {
                        chunk_type: crate::proto::wire::chunk_type::ERROR,
                        flags: 0,
                        length: 4,
                    },
                    false,
                );
            }
            return;
        }
        if let State::CookieEchoed(_) = self.state
            && let Some(ErrorCause::StaleCookie { staleness_us }) = causes
                .iter()
                .find(|c| matches!(c, ErrorCause::StaleCookie { .. }))
        {
            self.on_stale_cookie(now, *staleness_us);
            return;
        }
        self.events
            .push_back(AssocEvent::RemoteError(causes.to_vec()));
    }
}
