//! Messages accepted from the application and not yet fully handed to the
//! wire, and their cutting into DATA chunks (§6.9). Messages go out first
//! come, first served (Linux's default SCTP_SS_FCFS); a stream scheduler can
//! replace the single queue later without changing callers.

use std::collections::VecDeque;

use crate::proto::wire::DataChunk;

/// A user message as the application handed it over.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutMessage {
    pub stream_id: u16,
    pub ppid: u32,
    pub unordered: bool,
    pub data: Vec<u8>,
    /// The application's opaque `sinfo_context`, returned in SEND_FAILED
    /// notifications (kept only while the message is queued whole).
    pub context: u32,
    /// The peer address the application sent it to (a one-to-one
    /// socket's sendto, SCTP_ADDR_OVER): its path, while usable.
    pub path: Option<std::net::IpAddr>,
}

#[derive(Debug)]
struct Pending {
    msg: OutMessage,
    /// Bytes already cut into chunks.
    offset: usize,
    /// SSN, fixed when the first fragment leaves.
    ssn: u16,
}

/// FCFS send queue with per-stream SSN counters.
#[derive(Debug, Default)]
pub struct SendQueue {
    pending: VecDeque<Pending>,
    bytes: usize,
    next_ssn: Vec<u16>,
}

impl SendQueue {
    /// A queue for `streams` outbound streams.
    pub fn new(streams: u16) -> SendQueue {
        SendQueue {
            pending: VecDeque::new(),
            bytes: 0,
            next_ssn: vec![0; usize::from(streams)],
        }
    }

    /// Number of outbound streams.
    pub fn streams(&self) -> u16 {
        self.next_ssn.len() as u16
    }

    /// Changes the stream count (after negotiation); existing SSNs are kept.
    pub fn set_streams(&mut self, streams: u16) {
        self.next_ssn.resize(usize::from(streams), 0);
    }

    /// Queues a message. The caller checked the stream id and buffer space.
    pub fn push(&mut self, msg: OutMessage) {
        self.bytes += msg.data.len();
        self.pending.push_back(Pending {
            msg,
            offset: 0,
            ssn: 0,
        });
    }

    /// Payload bytes not yet cut into chunks.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Messages waiting (whole or in part).
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Size of the next chunk's payload if cut at `max_payload`.
    pub fn peek_len(&self, max_payload: usize) -> Option<usize> {
        self.pending
            .front()
            .map(|p| (p.msg.data.len() - p.offset).min(max_payload))
    }

    /// The path the next chunk's message asks for, if any.
    pub fn front_path(&self) -> Option<std::net::IpAddr> {
        self.pending.front().and_then(|p| p.msg.path)
    }

    /// Cuts the next DATA chunk (TSN left 0 for the caller to assign).
    pub fn next_chunk(&mut self, max_payload: usize) -> Option<DataChunk> {
        let max_payload = max_payload.max(1);
        let front = self.pending.front_mut()?;
        if front.offset == 0 && !front.msg.unordered {
            let ssn = &mut self.next_ssn[usize::from(front.msg.stream_id)];
            front.ssn = *ssn;
            *ssn = ssn.wrapping_add(1);
        }
        let len = (front.msg.data.len() - front.offset).min(max_payload);
        let beginning = front.offset == 0;
        let ending = front.offset + len == front.msg.data.len();
        let payload = if beginning && ending {
            std::mem::take(&mut front.msg.data)
        } else {
            front.msg.data[front.offset..front.offset + len].to_vec()
        };
        front.offset += len;
        let chunk = DataChunk {
            immediate: false,
            unordered: front.msg.unordered,
            beginning,
            ending,
            tsn: 0,
            stream_id: front.msg.stream_id,
            ssn: if front.msg.unordered { 0 } else { front.ssn },
            ppid: front.msg.ppid,
            payload,
        };
        self.bytes -= len;
        if ending {
            self.pending.pop_front();
        }
        Some(chunk)
    }

    /// Removes every queued message (abort); returns the unsent remainders.
    pub fn drain(&mut self) -> Vec<OutMessage> {
        self.bytes = 0;
        self.pending
            .drain(..)
            .map(|mut p| {
                if p.offset > 0 {
                    p.msg.data.drain(..p.offset);
                }
                p.msg
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(stream: u16, len: usize, unordered: bool) -> OutMessage {
        OutMessage {
            stream_id: stream,
            ppid: 7,
            unordered,
            data: (0..len).map(|i| i as u8).collect(),
            context: 0,
            path: None,
        }
    }

    #[test]
    fn small_message_is_one_chunk_with_both_flags() {
        let mut q = SendQueue::new(2);
        q.push(msg(1, 10, false));
        assert_eq!(q.bytes(), 10);
        let c = q.next_chunk(100).unwrap();
        assert!(c.beginning && c.ending && !c.unordered);
        assert_eq!((c.stream_id, c.ssn, c.ppid, c.payload.len()), (1, 0, 7, 10));
        assert!(q.is_empty());
        assert_eq!(q.bytes(), 0);
    }

    #[test]
    fn large_message_is_fragmented_with_one_ssn() {
        let mut q = SendQueue::new(1);
        q.push(msg(0, 250, false));
        let cs: Vec<_> = std::iter::from_fn(|| q.next_chunk(100)).collect();
        assert_eq!(cs.len(), 3);
        assert!(cs[0].beginning && !cs[0].ending);
        assert!(!cs[1].beginning && !cs[1].ending);
        assert!(!cs[2].beginning && cs[2].ending);
        assert!(cs.iter().all(|c| c.ssn == 0));
        let all: Vec<u8> = cs.iter().flat_map(|c| c.payload.clone()).collect();
        assert_eq!(all, msg(0, 250, false).data);
    }

    #[test]
    fn ssn_counts_per_stream_and_skips_unordered() {
        let mut q = SendQueue::new(3);
        for (s, u) in [(0, false), (0, false), (2, false), (0, true), (0, false)] {
            q.push(msg(s, 1, u));
        }
        let ssns: Vec<_> = std::iter::from_fn(|| q.next_chunk(10))
            .map(|c| (c.stream_id, c.ssn, c.unordered))
            .collect();
        assert_eq!(
            ssns,
            vec![
                (0, 0, false),
                (0, 1, false),
                (2, 0, false),
                (0, 0, true),
                (0, 2, false)
            ]
        );
    }

    #[test]
    fn ssn_wraps() {
        let mut q = SendQueue::new(1);
        q.next_ssn[0] = u16::MAX;
        q.push(msg(0, 1, false));
        q.push(msg(0, 1, false));
        assert_eq!(q.next_chunk(10).unwrap().ssn, u16::MAX);
        assert_eq!(q.next_chunk(10).unwrap().ssn, 0);
    }

    #[test]
    fn drain_returns_unsent_remainders() {
        let mut q = SendQueue::new(1);
        q.push(msg(0, 30, false));
        q.push(msg(0, 5, false));
        q.next_chunk(10);
        let rest = q.drain();
        assert_eq!(rest.len(), 2);
        assert_eq!(rest[0].data.len(), 20);
        assert_eq!(q.bytes(), 0);
        assert!(q.is_empty());
    }

    #[test]
    fn peek_len_is_capped() {
        let mut q = SendQueue::new(1);
        assert_eq!(q.peek_len(10), None);
        q.push(msg(0, 25, false));
        assert_eq!(q.peek_len(10), Some(10));
        q.next_chunk(10);
        q.next_chunk(10);
        assert_eq!(q.peek_len(10), Some(5));
    }
}
