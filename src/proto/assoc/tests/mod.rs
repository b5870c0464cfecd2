//! Association behaviour on the two-peer harness, one test per numbered
//! behaviour of RFC 9260 that the core implements.
#![allow(clippy::field_reassign_with_default)]

use std::time::Duration;

use super::tx::OutMessage;
use super::{AssocEvent, AssocId, CloseReason, State};
use crate::proto::config::Config;
use crate::proto::endpoint::Endpoint;
use crate::proto::harness::{Pair, Side};
use crate::proto::wire::{
    Abort, Chunk, DataChunk, ErrorCause, Heartbeat, Init, Packet, Param, Sack, Shutdown,
    ShutdownComplete, UnknownChunk,
};

fn msg(stream: u16, data: &[u8]) -> OutMessage {
    OutMessage {
        stream_id: stream,
        ppid: 42,
        unordered: false,
        data: data.to_vec(),
        context: 0,
        path: None,
    }
}

fn closed_reason(events: &[(u32, AssocEvent)], id: u32) -> Option<CloseReason> {
    events.iter().find_map(|(i, e)| match e {
        AssocEvent::Closed { reason, .. } if *i == id => Some(reason.clone()),
        _ => None,
    })
}

fn has_event(events: &[(u32, AssocEvent)], id: u32, ev: &AssocEvent) -> bool {
    events.iter().any(|(i, e)| *i == id && e == ev)
}

/// Sends a raw packet from A's address to Z (bypassing A's endpoint).
fn inject_to_z(p: &mut Pair, packet: Packet) {
    let bytes = packet.encode();
    let from = p.a_addr;
    p.z.handle(p.now, from, &bytes);
    p.flush();
}

/// Sends a raw packet from Z's address to A.
fn inject_to_a(p: &mut Pair, packet: Packet) {
    let bytes = packet.encode();
    let from = p.z_addr;
    p.a.handle(p.now, from, &bytes);
    p.flush();
}

/// A packet from A's port to Z's (`to_z`) or back, under `vtag`.
fn packet(to_z: bool, vtag: u32, chunks: Vec<Chunk>) -> Packet {
    let (src_port, dst_port) = if to_z { (5001, 5002) } else { (5002, 5001) };
    Packet {
        src_port,
        dst_port,
        verification_tag: vtag,
        chunks,
    }
}

fn last_sent_by(p: &Pair, side: Side) -> &Packet {
    &p.trace
        .iter()
        .rev()
        .find(|t| t.from == side)
        .expect("a packet")
        .packet
}

fn recv_all(ep: &mut Endpoint, id: u32) -> Vec<super::rx::Message> {
    std::iter::from_fn(|| ep.recv(id)).collect()
}

mod data_sack;
mod handshake;
mod heartbeat_shutdown;
mod impaired;
mod malformed;
mod multihoming;
mod ootb_unknown;
mod peer_faults;
mod pmtu;
mod recovery;
mod retransmission;
mod shared_window;
