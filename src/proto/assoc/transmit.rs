//! Packet assembly: control chunks, SACK, retransmissions and new DATA
//! bundled into packets no larger than the path MTU (§6.10), under the
//! congestion window, the peer's window (§6.1) and Max.Burst.

use std::time::Instant;

use super::{Association, State};
use crate::proto::Transmit;
use crate::proto::wire::{Chunk, DataChunk, Packet};

/// Common header plus DATA chunk header.
const DATA_OVERHEAD: usize = 12 + 16;

impl Association {
    /// The next packet to send, if any.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Transmit> {
        if let Some((path, nonce, size)) = self.pl_outbox.pop()
            && self.is_established()
            && path < self.paths.len()
        {
            // A PLPMTUD probe goes alone, never fragmented.
            self.stats.packets_sent += 1;
            return Some(Transmit {
                dst: self.paths[path].udp_dest(),
                src: None,
                payload: self.pl_packet(path, nonce, size),
                tos: self.cfg.tos,
                frag_ok: false,
            });
        }
        self.probe_wait = self.probe_at.is_some_and(|t| now < t);
        let default = self.next_path();
        let path = self
            .control
            .queue
            .front()
            .and_then(|(p, _)| *p)
            .unwrap_or(default);
        let path = path.min(self.paths.len() - 1);
        let mtu = self.paths[path].mtu;
        let mut chunks: Vec<Chunk> = Vec::new();
        let mut size = Packet::HEADER_LEN;
        let mut vtag = self.peer_vtag;
        let mut alone = false;

        while let Some((p, c)) = self.control.queue.front() {
            if p.is_some_and(|p| p != path) {
                break;
            }
            let must_be_alone = matches!(c, Chunk::Init(_) | Chunk::ShutdownComplete(_));
            if (must_be_alone && !chunks.is_empty())
                || (size + c.encoded_len() > mtu && !chunks.is_empty())
            {
                break;
            }
            let Some((_, c)) = self.control.queue.pop_front() else {
                break;
            };
            size += c.encoded_len();
            if let Chunk::Init(_) = c {
                vtag = 0;
            }
            if let Chunk::Abort(a) = &c {
                // Without the peer's tag, the T bit says ours is reflected.
                if a.t_bit {
                    vtag = self.local_vtag;
                }
                // ABORT goes last; nothing else follows it.
                chunks.push(c);
                alone = true;
                break;
            }
            chunks.push(c);
            if must_be_alone {
                alone = true;
                break;
            }
        }

        let data_ok = !alone
            && self.t3_hold != 2
            && matches!(
                self.state,
                State::Established | State::ShutdownPending | State::ShutdownReceived
            );
        let wants_data =
            data_ok && (self.out.first_marked(false).is_some() || self.can_send_new(path));
        if !alone
            && self.is_established()
            && self.rx.sack_pending
            && (self.rx.sack_now || wants_data || !chunks.is_empty())
        {
            let sack = Chunk::Sack(self.take_sack(now));
            if size + sack.encoded_len() <= mtu || chunks.is_empty() {
                size += sack.encoded_len();
                chunks.insert(
                    chunks
                        .iter()
                        .take_while(|c| matches!(c, Chunk::CookieAck))
                        .count(),
                    sack,
                );
            } else {
                self.rx.sack_pending = true;
                self.rx.sack_now = true;
            }
        }

        let mut new_data: Vec<DataChunk> = Vec::new();
        let mut oversized = false;
        if data_ok {
            self.restart_after_idle(now, path);
            self.fill_retransmissions(now, path, mtu, &mut size, &mut chunks, &mut oversized);
            if !oversized {
                self.fill_new_data(path, mtu, &mut size, &mut new_data);
            }
        } else if !alone
            && matches!(self.state, State::CookieEchoed(_))
            && self.out.is_empty()
            && chunks.iter().any(|c| matches!(c, Chunk::CookieEcho(_)))
        {
            // §5.1: the first COOKIE ECHO may carry DATA (what fits in its
            // packet); the rest waits for the COOKIE ACK.
            self.fill_new_data(path, mtu, &mut size, &mut new_data);
        }
        if chunks.is_empty() && new_data.is_empty() {
            return None;
        }
        let first_new = chunks.len();
        self.ask_immediate_sack(path, mtu, &mut new_data);
        chunks.extend(new_data.into_iter().map(Chunk::Data));
        if self.t3_hold == 1 && chunks.iter().any(|c| matches!(c, Chunk::Data(_))) {
            self.t3_hold = 2;
        }
        let packet = Packet {
            src_port: self.local_port,
            dst_port: self.peer_port,
            verification_tag: vtag,
            chunks,
        };
        let payload = packet.encode();
        let sent_new = packet.chunks.len() > first_new;
        let packet_has_data = packet.chunks.iter().any(|c| matches!(c, Chunk::Data(_)));
        for c in packet.chunks.into_iter().skip(first_new) {
            if let Chunk::Data(d) = c {
                self.out.push_new(d, &mut self.paths[path], path, now);
                self.stats.data_chunks_sent += 1;
            }
        }
        if sent_new {
            self.burst_budget = self.burst_budget.saturating_sub(1);
            self.paths[path].last_data_sent = Some(now);
        }
        // RFC 8985 §7.2: the probe timeout starts or restarts with each
        // transmission of new data (the first packet of a burst alone
        // would otherwise set it for one packet out, with the peer's
        // delayed-SACK time added, for the whole burst), and here with
        // each retransmission too (what is out, and whether the peer has
        // a gap, changed).
        if packet_has_data {
            self.arm_tlp(now);
        }
        if self.out.has_outstanding_on(path)
            && self.paths[path].t3.is_none()
            && self.is_established()
        {
            self.start_t3(now, path);
        }
        self.stats.packets_sent += 1;
        let p = &self.paths[path];
        Some(Transmit {
            dst: p.udp_dest(),
            src: None,
            payload,
            tos: self.cfg.tos,
            frag_ok: oversized,
        })
    }

    /// The largest DATA payload (sstat_fragmentation_point): for the
    /// smallest MTU of the paths, as fragments are cut.
    pub fn fragmentation_point(&self) -> usize {
        self.max_payload(self.smallest_mtu())
    }

    /// Largest DATA payload for a path of `mtu`, within SCTP_MAXSEG.
    pub fn max_payload(&self, mtu: usize) -> usize {
        let fits = mtu - DATA_OVERHEAD;
        match self.cfg.max_seg {
            0 => fits,
            m => m.min(fits).max(1),
        }
    }

    /// Max.Burst (§6.1 D) limits bursts beyond ack clocking: after an input
    /// (packet, timer, send) at least Max.Burst packets may go, and what
    /// SACKs took out of flight may always be replaced (`on_sack` adds it
    /// to the budget), whenever the data to do so comes; the credit ends
    /// with an idle period (`restart_after_idle`). A budget renewed to
    /// Max.Burst at each input dropped the credit of every SACK but the
    /// last of a receive batch, and of any SACK that came while the
    /// application had nothing queued: against a peer that acks once per
    /// batch of tens of packets, the flight then grew by Max.Burst packets
    /// a round and fell back each time the queue ran dry (4.4 Gbit/s over
    /// a veth where the flight was free to reach 8).
    pub(super) fn renew_burst(&mut self) {
        self.burst_budget = self.burst_budget.max(self.cfg.max_burst.max(1));
    }

    /// §7.2.1: a path that sent no data for an RTO has its cwnd adjusted to
    /// max(cwnd/2, 4·MTU) per RTO of the pause, and the Max.Burst credit
    /// of the SACKs before it ends, when it next sends.
    fn restart_after_idle(&mut self, now: Instant, path: usize) {
        let p = &mut self.paths[path];
        if p.flight_size > 0 {
            return;
        }
        let Some(from) = p.last_data_sent.max(p.idle_counted) else {
            return;
        };
        let rto = p.rto.rto().max(std::time::Duration::from_millis(1));
        let periods = (now.saturating_duration_since(from).as_nanos() / rto.as_nanos()) as u32;
        if periods == 0 {
            return;
        }
        let mtu = p.mtu;
        for _ in 0..periods.min(32) {
            p.cc.on_idle(mtu);
        }
        p.idle_counted = Some(now);
        self.burst_budget = self.cfg.max_burst.max(1);
    }

    /// May new data go to `path` now (cwnd, peer window, burst)?
    fn can_send_new(&self, path: usize) -> bool {
        let p = &self.paths[path];
        let Some(len) = self.queue.peek_len(self.max_payload(p.mtu)) else {
            return false;
        };
        self.burst_budget > 0
            && p.flight_size < p.cc.cwnd
            && (self.peer_rwnd as usize >= len
                || (self.out.in_flight_bytes() == 0 && !self.probe_wait))
    }

    fn fill_retransmissions(
        &mut self,
        now: Instant,
        path: usize,
        mtu: usize,
        size: &mut usize,
        chunks: &mut Vec<Chunk>,
        oversized: &mut bool,
    ) {
        // Fast retransmit may exceed cwnd for one packet (§7.2.4); T3 ones may not.
        let mut fast_packet = false;
        while let Some(i) = self.out.first_marked(false) {
            let Some(s) = self.out.get(i) else { break };
            let p = &self.paths[path];
            if s.fast && chunks.iter().all(|c| !matches!(c, Chunk::Data(_))) {
                fast_packet = true;
            }
            if !fast_packet && p.flight_size >= p.cc.cwnd {
                break;
            }
            let c = Chunk::Data(s.chunk.clone());
            if *size + c.encoded_len() > mtu {
                // Built for a larger MTU than the path has now: it goes
                // alone, in a packet IP may fragment (§7.3).
                if chunks.is_empty() && *size == Packet::HEADER_LEN {
                    *oversized = true;
                } else {
                    break;
                }
            }
            // §6.3.2 R3 / §7.2.4: retransmitting the earliest outstanding
            // chunk (fast retransmit included) restarts T3-rtx; a tail loss
            // probe leaves it as the RFC's rules set it.
            let restart = !s.probe && s.chunk.tsn == self.out.cum_ack().0.wrapping_add(1);
            // §6.2.1 B: retransmissions use up the peer's window too.
            self.peer_rwnd = self.peer_rwnd.saturating_sub(s.chunk.payload.len() as u32);
            *size += c.encoded_len();
            chunks.push(c);
            self.out.retransmitted(i, &mut self.paths[path], path, now);
            self.stats.retransmitted_chunks += 1;
            if restart {
                self.start_t3(now, path);
            }
            if *oversized {
                break;
            }
        }
    }

    fn fill_new_data(
        &mut self,
        path: usize,
        mtu: usize,
        size: &mut usize,
        out: &mut Vec<DataChunk>,
    ) {
        // Fragments fit every path (Linux's sctp_assoc_sync_pmtu): after a
        // failover none needs IP fragmentation.
        let max_payload = self.max_payload(mtu.min(self.smallest_mtu()));
        let mut flight = self.paths[path].flight_size;
        let mut in_flight_total = self.out.in_flight_bytes();
        let mut next_tsn = self.out.next_tsn();
        while let Some(len) = self.queue.peek_len(max_payload) {
            let p = &self.paths[path];
            if self.burst_budget == 0 || flight >= p.cc.cwnd {
                break;
            }
            // A message sent to another of the peer's addresses goes in a
            // packet of its own path.
            if self.paths.len() > 1 && self.new_data_path() != path {
                break;
            }
            // Nagle (SCTP_NODELAY off): while data is in flight, do not start
            // a packet that less than a full chunk's worth of queued data
            // would fill; once started, a packet takes all that fits.
            if !self.cfg.nodelay
                && out.is_empty()
                && in_flight_total > 0
                && len < max_payload
                && self.queue.bytes() < max_payload
            {
                break;
            }
            if (self.peer_rwnd as usize) < len && (in_flight_total > 0 || self.probe_wait) {
                break;
            }
            let padded = 16 + len.next_multiple_of(4);
            if *size + padded > mtu {
                break;
            }
            let Some(mut d) = self.queue.next_chunk(max_payload) else {
                break;
            };
            d.tsn = next_tsn.0;
            next_tsn = next_tsn.next();
            *size += padded;
            flight += d.payload.len();
            in_flight_total += d.payload.len();
            self.peer_rwnd = self.peer_rwnd.saturating_sub(d.payload.len() as u32);
            out.push(d);
        }
    }
}
