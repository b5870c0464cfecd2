//! Send side of one-to-one sockets: from the pair's byte stream back to
//! SCTP messages.
//!
//! The application writes into a SOCK_STREAM pair, which keeps every write
//! path working (write, writev, stdio) and gives kernel blocking, POLLOUT and
//! signals for free. To keep Linux's "one send, one message" and the send
//! parameters of `sctp_sendmsg` (stream, PPID, flags), each interposed send
//! first leaves a *mark*: the offset in the stream where its bytes will
//! start, their length and the SCTP_SNDRCV/SNDINFO values. The engine cuts
//! what it reads from the pair at the marks; bytes between marks (written by
//! calls that bypass the interposers) go out as messages of their own with
//! the socket's default parameters.

use std::collections::VecDeque;
use std::os::raw::c_int;
use std::sync::{Mutex, MutexGuard, OnceLock};

use super::many::{SCTP_EOF, SCTP_UNORDERED, SendSpec};
use crate::proto::assoc::Association;
use crate::proto::assoc::tx::OutMessage;
use crate::sys;
use crate::sys::sockpage::{Mirror, ShmGuard, SockPage, TurnGuard};

/// One socket's send side, shared between the engine and the application's
/// sending threads under its own lock: a send must not wait for a whole
/// engine turn (the engine lock) just to leave its mark.
#[derive(Debug)]
pub struct SendSide {
    /// Engine end of the pair: its unread bytes place the next mark.
    efd: c_int,
    out: Mutex<Outgoing>,
    /// Held by an application send from its mark to the end of its write
    /// into the pair, and by a receive while it takes a record: threads of
    /// the application sharing the socket take turns, as Linux's socket
    /// lock makes them, so that no message is split or mixed.
    pub app_send: Mutex<()>,
    pub app_recv: Mutex<()>,
    /// The page programs of the shared daemon place their marks in, once
    /// one asked for it (see `sockpage.rs`).
    shm: OnceLock<SockPage>,
}

/// The send side locked: the marks programs left in the shared page are
/// taken in first, and what they need is published back on release.
pub struct OutGuard<'a> {
    out: MutexGuard<'a, Outgoing>,
    shm: Option<ShmGuard<'a>>,
}

impl std::ops::Deref for OutGuard<'_> {
    type Target = Outgoing;
    fn deref(&self) -> &Outgoing {
        &self.out
    }
}

impl std::ops::DerefMut for OutGuard<'_> {
    fn deref_mut(&mut self) -> &mut Outgoing {
        &mut self.out
    }
}

impl Drop for OutGuard<'_> {
    fn drop(&mut self) {
        if let Some(g) = self.shm.as_mut() {
            let o = &*self.out;
            g.publish(&Mirror {
                taken: o.taken,
                next_id: o.next_id,
                whole_limit: o.whole_limit,
                default: o.default,
                streams: o.streams,
                // (Refused either way: the daemon answers.)
                peer_shut: o.peer_shut || o.gone,
                open: o.open.is_some(),
            });
        }
    }
}

impl SendSide {
    pub fn new(efd: c_int) -> SendSide {
        SendSide {
            efd,
            out: Mutex::new(Outgoing::default()),
            app_send: Mutex::new(()),
            app_recv: Mutex::new(()),
            shm: OnceLock::new(),
        }
    }

    pub fn lock(&self) -> OutGuard<'_> {
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        let shm = self.shm.get().map(|s| {
            let mut g = s.lock();
            g.drain(|id, start, len, spec| out.adopt(id, start, len, spec));
            out.next_id = out.next_id.max(g.next_id());
            g
        });
        OutGuard { out, shm }
    }

    /// The shared page, made at the first program's request; its memfd.
    pub fn shared_page(&self) -> std::io::Result<c_int> {
        if self.shm.get().is_none() {
            // Not while a send or receive of the daemon is in progress: it
            // left its mark, or took its record, without the page's turns
            // (the program asks again later: EAGAIN). (Under the send lock
            // too: two requests make one page.)
            let busy = || std::io::Error::from_raw_os_error(libc::EAGAIN);
            let _send = self.app_send.try_lock().map_err(|_| busy())?;
            let _recv = self.app_recv.try_lock().map_err(|_| busy())?;
            let _o = self.out.lock().unwrap_or_else(|e| e.into_inner());
            if self.shm.get().is_none() {
                let _ = self.shm.set(SockPage::create()?);
            }
        }
        // Published at once: the guard's release writes the state.
        drop(self.lock());
        Ok(self.shm.get().map_or(-1, SockPage::fd))
    }

    /// The shared page, if a program asked for it.
    pub fn page(&self) -> Option<&SockPage> {
        self.shm.get()
    }

    /// The receive turn shared with programs that read the pair themselves.
    pub fn shared_recv_turn(&self) -> Option<TurnGuard<'_>> {
        self.shm.get().and_then(|s| s.recv_turn(false))
    }

    /// The send turn shared with programs that write into the pair
    /// themselves (None: no page, or busy and `nonblocking`; Err: busy).
    pub fn shared_turn(&self, nonblocking: bool) -> Result<Option<TurnGuard<'_>>, c_int> {
        match self.shm.get() {
            None => Ok(None),
            Some(s) => s.turn(nonblocking).map(Some).ok_or(libc::EAGAIN),
        }
    }

    /// An application send of `len` bytes is about to write into the pair
    /// (`spec` None: the socket's defaults); EINVAL for a stream the
    /// association does not have.
    pub fn mark(&self, len: usize, spec: Option<SendSpec>) -> Result<Ticket, c_int> {
        let mut o = self.lock();
        if let Some(sp) = spec
            && o.streams > 0
            && sp.stream >= o.streams
        {
            return Err(libc::EINVAL);
        }
        if o.gone {
            return Err(libc::EPIPE);
        }
        if o.peer_shut {
            return Err(libc::ESHUTDOWN);
        }
        // Refused whole, as Linux's sctp_sendmsg_to_asoc does.
        if o.whole_limit.is_some_and(|max| len > max) {
            return Err(libc::EMSGSIZE);
        }
        // Under this lock: the engine reads the pair only while holding it.
        let unread = sys::pending_bytes(self.efd);
        Ok(o.mark(unread, len, spec))
    }
}

/// What one send was told: how many of its bytes finish the message a
/// short write left open, and the mark of its own message.
#[derive(Clone, Copy, Debug)]
pub struct Ticket {
    cont: usize,
    id: Option<u64>,
    len: usize,
}

impl Ticket {
    /// The ticket of a mark a program placed in the shared page.
    pub fn placed(id: u64, len: usize) -> Ticket {
        Ticket {
            cont: 0,
            id: Some(id),
            len,
        }
    }

    /// A send that wrote all its bytes and continued nothing needs no settling.
    pub fn settled_by(&self, written: isize) -> bool {
        self.cont == 0 && written >= 0 && written as usize == self.len
    }
}

/// Where one interposed send's bytes lie in the pair's stream.
#[derive(Debug)]
struct Mark {
    id: u64,
    start: u64,
    len: u64,
    spec: SendSpec,
}

/// A message cut from the pair, waiting for room in the association; with
/// `eof`, the association shuts down after it (SCTP_EOF).
#[derive(Debug)]
struct Ready {
    msg: Option<OutMessage>,
    eof: bool,
}

/// Marks, the message being gathered and the messages cut so far.
#[derive(Debug, Default)]
pub struct Outgoing {
    marks: VecDeque<Mark>,
    next_id: u64,
    /// Bytes read from the pair so far (connect filler included).
    taken: u64,
    /// Bytes of the marked message at the front, gathered so far.
    gather: Vec<u8>,
    ready: VecDeque<Ready>,
    /// A message a short write left open, and how many bytes it still
    /// expects: a kernel SCTP send is never split, and applications write
    /// the rest next, so those bytes complete it rather than start another.
    open: Option<(u64, usize)>,
    /// Send parameters of bytes no mark covers (SCTP_DEFAULT_SNDINFO).
    pub default: SendSpec,
    /// Outbound streams of the association once up (0: not known yet).
    pub streams: u16,
    /// SCTP_DISABLE_FRAGMENTS: the largest message one send may carry (the
    /// association's fragmentation point); None while fragmenting is allowed.
    pub whole_limit: Option<usize>,
    /// The peer's SHUTDOWN arrived: new sends are ESHUTDOWN (Linux's
    /// sctp_sf_error_shutdown for a send in the SHUTDOWN states).
    pub peer_shut: bool,
    /// The association ended and the pair stays open (see deliver.rs):
    /// new sends are EPIPE (Linux's sctp_sendmsg finds no association).
    pub gone: bool,
}

/// The message a send with `spec` makes of `data`.
pub(super) fn message(spec: &SendSpec, data: Vec<u8>) -> OutMessage {
    OutMessage {
        stream_id: spec.stream,
        ppid: spec.ppid,
        unordered: spec.flags & SCTP_UNORDERED != 0,
        context: spec.context,
        data,
        path: spec.path,
    }
}

impl Outgoing {
    /// An interposed send of `len` bytes starts at offset `taken + unread`
    /// (`unread`: bytes in the pair the engine has not read); `spec` None
    /// means the socket's defaults.
    pub fn mark(&mut self, unread: usize, len: usize, spec: Option<SendSpec>) -> Ticket {
        let start = self.taken + unread as u64;
        // A plain send (or one with the same parameters) first completes the
        // open message; a send with other parameters ends it where it is.
        let mut cont = 0;
        if let Some((id, rest)) = self.open {
            let same = self
                .marks
                .iter()
                .find(|m| m.id == id)
                .is_some_and(|m| spec.is_none_or(|sp| sp.same_message_kind(&m.spec)));
            if same {
                cont = rest.min(len);
            } else {
                if let Some(m) = self.marks.iter_mut().find(|m| m.id == id) {
                    m.len -= rest as u64;
                }
                self.open = None;
            }
        }
        let spec = spec.unwrap_or(self.default);
        let extra = len - cont;
        let id = (extra > 0 || (len == 0 && spec.flags & SCTP_EOF != 0)).then(|| {
            self.next_id += 1;
            self.marks.push_back(Mark {
                id: self.next_id,
                start: start + cont as u64,
                len: extra as u64,
                spec,
            });
            self.next_id
        });
        Ticket { cont, id, len }
    }

    /// A mark a program placed in the shared page.
    fn adopt(&mut self, id: u64, start: u64, len: u64, spec: SendSpec) {
        self.marks.push_back(Mark {
            id,
            start,
            len,
            spec,
        });
    }

    /// The send behind `t` moved `written` bytes: what continued the open
    /// message counts against it; a message of its own that got none of its
    /// bytes is forgotten, one that got some stays open for the rest.
    pub fn settle(&mut self, t: Ticket, written: usize) {
        let into_open = written.min(t.cont);
        if let Some((_, rest)) = self.open.as_mut() {
            *rest -= into_open.min(*rest);
            if *rest == 0 {
                self.open = None;
            }
        }
        let Some(id) = t.id else { return };
        let extra = t.len - t.cont;
        let mine = written - into_open;
        if mine == 0 && extra > 0 {
            self.marks.retain(|m| m.id != id);
        } else if mine < extra {
            self.open = Some((id, extra - mine));
        }
    }

    /// Bytes filler that do not belong to any message (connect's POLLOUT
    /// hold) were read and dropped.
    pub fn skip(&mut self, n: usize) {
        self.taken += n as u64;
    }

    /// Cuts bytes just read from the pair into messages; bytes no mark
    /// covers take the socket's default parameters.
    pub fn carve(&mut self, mut bytes: &[u8]) {
        loop {
            while self
                .marks
                .front()
                .is_some_and(|m| self.taken >= m.start + m.len)
            {
                let m = self.marks.pop_front().expect("front checked");
                let data = std::mem::take(&mut self.gather);
                self.ready.push_back(Ready {
                    msg: (!data.is_empty()).then(|| message(&m.spec, data)),
                    eof: m.spec.flags & SCTP_EOF != 0,
                });
            }
            if bytes.is_empty() {
                return;
            }
            let (k, marked) = match self.marks.front() {
                Some(m) if self.taken < m.start => ((m.start - self.taken) as usize, false),
                Some(m) => ((m.start + m.len - self.taken) as usize, true),
                None => (bytes.len(), false),
            };
            let (now, rest) = bytes.split_at(k.min(bytes.len()));
            if marked {
                self.gather.extend_from_slice(now);
            } else {
                self.ready.push_back(Ready {
                    msg: Some(message(&self.default, now.to_vec())),
                    eof: false,
                });
            }
            self.taken += now.len() as u64;
            bytes = rest;
        }
    }

    /// The application closed its end: a message cut short goes out as is.
    pub fn finish(&mut self) {
        self.carve(&[]);
        if !self.gather.is_empty() {
            let spec = self.marks.front().map_or(self.default, |m| m.spec);
            let data = std::mem::take(&mut self.gather);
            self.ready.push_back(Ready {
                msg: Some(message(&spec, data)),
                eof: false,
            });
        }
        self.marks.clear();
        self.ready.push_back(Ready {
            msg: None,
            eof: true,
        });
    }

    /// Bytes still missing from the message being gathered.
    pub fn gathering(&self) -> usize {
        match self.marks.front() {
            Some(m) if self.taken >= m.start => (m.start + m.len - self.taken) as usize,
            _ => 0,
        }
    }

    /// Whether a send may still be writing into the pair: a mark not read
    /// to its end, or a message a short write left open.
    pub fn writer_pending(&self) -> bool {
        !self.marks.is_empty() || self.open.is_some()
    }

    /// Messages wait for room in the association.
    pub fn is_blocked(&self) -> bool {
        !self.ready.is_empty()
    }

    /// Hands cut messages to the association while it has room; stream
    /// errors drop the message (the interposer checked the stream first).
    /// Follows the association's SCTP_DISABLE_FRAGMENTS and MTU.
    pub fn track_limits(&mut self, a: &Association) {
        self.whole_limit = a
            .config()
            .disable_fragments
            .then(|| a.fragmentation_point());
    }

    pub fn pump(&mut self, a: &mut Association, now: std::time::Instant) {
        self.track_limits(a);
        while let Some(r) = self.ready.front_mut() {
            if r.msg.is_some() {
                if a.buffered_send_bytes() > 0 && a.send_space() == 0 {
                    return;
                }
                if let Some(m) = r.msg.take() {
                    a.send(now, m).ok();
                }
            }
            if r.eof {
                a.shutdown(now);
            }
            self.ready.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(stream: u16) -> SendSpec {
        SendSpec {
            stream,
            ppid: 7,
            ..Default::default()
        }
    }

    fn cut(o: &mut Outgoing) -> Vec<(u16, Vec<u8>, bool)> {
        o.ready
            .drain(..)
            .map(|r| {
                let (s, d) = r.msg.map_or((0, vec![]), |m| (m.stream_id, m.data));
                (s, d, r.eof)
            })
            .collect()
    }

    #[test]
    fn marks_cut_the_stream_into_messages() {
        let mut o = Outgoing::default();
        let a = o.mark(0, 3, Some(spec(1)));
        let b = o.mark(3, 4, Some(spec(2)));
        assert!(a.settled_by(3) && b.settled_by(4));
        o.carve(b"abcde");
        o.carve(b"fg");
        assert_eq!(
            cut(&mut o),
            vec![(1, b"abc".to_vec(), false), (2, b"defg".to_vec(), false)]
        );
    }

    #[test]
    fn unmarked_bytes_and_refused_writes() {
        let mut o = Outgoing::default();
        // 2 bytes of a writev nobody marked precede the marked send.
        let a = o.mark(2, 2, Some(spec(3)));
        assert!(a.settled_by(2));
        o.carve(b"xyab");
        assert_eq!(
            cut(&mut o),
            vec![(0, b"xy".to_vec(), false), (3, b"ab".to_vec(), false)]
        );
        // A refused send leaves no mark behind.
        let b = o.mark(0, 5, Some(spec(1)));
        assert!(!b.settled_by(-1));
        o.settle(b, 0);
        o.carve(b"zz");
        assert_eq!(cut(&mut o), vec![(0, b"zz".to_vec(), false)]);
    }

    #[test]
    fn a_short_write_is_completed_by_the_next_sends() {
        let mut o = Outgoing::default();
        let a = o.mark(0, 10, Some(spec(4)));
        o.settle(a, 4);
        o.carve(b"0123");
        assert!(cut(&mut o).is_empty());
        // The application writes the rest (in two goes), then a new message.
        let b = o.mark(0, 6, None);
        assert!(!b.settled_by(6));
        o.settle(b, 2);
        let c = o.mark(0, 4, None);
        o.settle(c, 4);
        // 6 bytes wait in the pair (the engine took 4 so far).
        let d = o.mark(6, 2, Some(spec(5)));
        assert!(d.settled_by(2));
        o.carve(b"456789AB");
        assert_eq!(
            cut(&mut o),
            vec![
                (4, b"0123456789".to_vec(), false),
                (5, b"AB".to_vec(), false)
            ]
        );
        // A send with other parameters ends an open message where it is.
        let e = o.mark(0, 5, Some(spec(1)));
        o.settle(e, 2);
        let f = o.mark(2, 1, Some(spec(2)));
        assert!(f.settled_by(1));
        o.carve(b"pqr");
        assert_eq!(
            cut(&mut o),
            vec![(1, b"pq".to_vec(), false), (2, b"r".to_vec(), false)]
        );
    }

    #[test]
    fn eof_flag_and_close() {
        let mut o = Outgoing::default();
        let mut s = spec(0);
        s.flags = SCTP_EOF;
        let a = o.mark(0, 0, Some(s));
        o.settle(a, 0);
        o.carve(b"");
        assert_eq!(cut(&mut o), vec![(0, vec![], true)]);
        o.mark(0, 4, Some(spec(2)));
        o.carve(b"ab");
        o.finish();
        assert_eq!(
            cut(&mut o),
            vec![(2, b"ab".to_vec(), false), (0, vec![], true)]
        );
    }
}
