//! Received data on its way to the application, for both socket styles.
//!
//! The application's end of every socket is a SOCK_STREAM pair, so bytes
//! flow whatever call reads them (read, readv, stdio...). SCTP is message
//! based, though: each message (or notification) becomes a *record*, a range
//! of offsets in the byte stream the engine writes into the pair, with the
//! metadata the kernel would return as ancillary data. The interposed
//! receive calls find where the application stands in that stream (bytes
//! written so far minus the bytes still unread in its end, both read under
//! the engine lock) and read at most to the end of the current record: that
//! gives message boundaries, MSG_EOR on the last piece, partial delivery of
//! messages larger than the caller's buffer, and the per-message metadata.
//! A reader that bypasses the interposers only loses the boundaries.

use std::collections::VecDeque;
use std::os::raw::c_int;

use super::many::RecordMeta;
use crate::sys;
use crate::sys::sockpage::SockPage;

/// Records further than this behind the pair's write offset have been read
/// for sure (no pair holds that much): dropped even if nobody asked.
const FORGET_AFTER: u64 = 64 << 20;

/// One message's range of the byte stream.
#[derive(Debug)]
struct Record {
    start: u64,
    end: u64,
    meta: RecordMeta,
    /// All of the message is here (false while it arrives in pieces).
    complete: bool,
    /// Its association ended before the rest came (no MSG_EOR).
    aborted: bool,
}

/// Where a reader stands: the record it is in and what follows.
#[derive(Clone, Debug)]
pub struct Slice {
    pub meta: RecordMeta,
    /// Bytes left in the record from the reader's offset.
    pub left: usize,
    /// The record after this one (SCTP_NXTINFO): its metadata and length.
    pub next: Option<(RecordMeta, usize)>,
    /// The whole message is in the record (more may still be on the way
    /// into the pair); false during partial delivery.
    pub complete: bool,
    /// Reading to the end of the record ends the message (MSG_EOR).
    pub eor_at_end: bool,
}

/// Staged bytes and the record index of one socket.
#[derive(Debug, Default)]
pub struct Inbox {
    /// Bytes not yet written into the pair.
    staged: VecDeque<u8>,
    /// Bytes written into the pair so far.
    written: u64,
    records: VecDeque<Record>,
    /// Messages and notifications that arrived while a message was being
    /// delivered in pieces: they follow its last piece.
    lobby: VecDeque<(RecordMeta, Vec<u8>)>,
    /// See [`Inbox::flush`].
    held: bool,
    /// Records forgotten so far: the number of the first in `records`.
    popped: u64,
    /// The first record the shared page may show otherwise than it is
    /// now (published incomplete, or not at all).
    fresh: u64,
    /// The stream offset at which the last flush found the pair empty
    /// (read to the end), until taken (`take_seen_empty`).
    seen_empty: Option<u64>,
}

impl Inbox {
    /// Appends one message (or notification) to the stream.
    pub fn push(&mut self, meta: RecordMeta, data: &[u8]) {
        if self.open_assoc().is_some() {
            self.lobby.push_back((meta, data.to_vec()));
            return;
        }
        self.append(meta, data, true);
    }

    fn append(&mut self, meta: RecordMeta, data: &[u8], complete: bool) {
        let start = self.written + self.staged.len() as u64;
        self.staged.extend(data);
        self.records.push_back(Record {
            start,
            end: start + data.len() as u64,
            meta,
            complete,
            aborted: false,
        });
    }

    /// Partial delivery: one piece of a message (`last` for its final one).
    /// Pieces extend the open record of their association.
    pub fn push_piece(&mut self, meta: RecordMeta, data: &[u8], last: bool) {
        match self.records.back_mut() {
            Some(r) if !r.complete && r.meta.assoc == meta.assoc => {
                self.staged.extend(data);
                r.end += data.len() as u64;
                r.complete = last;
            }
            _ => self.append(meta, data, last),
        }
        if last {
            self.release_lobby();
        }
    }

    /// The association whose message is arriving in pieces, if any.
    pub fn open_assoc(&self) -> Option<u32> {
        self.records
            .back()
            .filter(|r| !r.complete)
            .map(|r| r.meta.assoc)
    }

    /// The association ended during partial delivery: its open message
    /// stops there. Returns its (stream, ssn) for the PARTIAL_DELIVERY event.
    pub fn abort_open(&mut self, assoc: u32) -> Option<(u16, u16)> {
        let r = self
            .records
            .back_mut()
            .filter(|r| !r.complete && r.meta.assoc == assoc)?;
        r.complete = true;
        r.aborted = true;
        Some((r.meta.stream, r.meta.ssn))
    }

    /// After an open message ended: what waited in the lobby follows it.
    pub fn release_lobby(&mut self) {
        while self.open_assoc().is_none() {
            let Some((meta, data)) = self.lobby.pop_front() else {
                return;
            };
            self.append(meta, &data, true);
        }
    }

    /// Bytes waiting to go into the pair.
    /// Bytes written into the pair so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Where the last flush found the pair read to the end, once: the
    /// bytes unread since are at most the ones written after it.
    pub fn take_seen_empty(&mut self) -> Option<u64> {
        self.seen_empty.take()
    }

    pub fn staged(&self) -> usize {
        self.staged.len()
    }

    /// Number of records still indexed (debugging).
    pub fn records(&self) -> usize {
        self.records.len()
    }

    /// Writes staged bytes into `efd` while it takes them; true once all are
    /// in. With a shared page, under its lock, and the records published
    /// there for programs that read on their own (see `sys::sockpage`).
    ///
    /// Only records the page can show go into the pair: past them a reader
    /// would have to ask the daemon. The rest waits (`held`) until a reader
    /// moves on and says so (`Engine::reader_moved`).
    pub fn flush(&mut self, efd: c_int, page: Option<&SockPage>) -> bool {
        let mut shared = page.map(SockPage::lock);
        if let Some(g) = shared.as_mut() {
            // An empty pair was read to the end, whoever read it (the
            // daemon, or calls the shim does not see).
            // (Nothing to forget, nothing to ask: a socket that only
            // sends never wrote into its pair.)
            if !self.records.is_empty() {
                let read = if sys::outq_bytes(efd) == 0 {
                    self.seen_empty = Some(self.written);
                    self.written
                } else {
                    self.seen_empty = None;
                    g.read_pos()
                };
                self.forget_read(read);
            }
        }
        let limit = match shared {
            Some(_) => self.records.get(SockPage::RECORDS).map(|r| r.start),
            None => None,
        };
        self.held = false;
        while !self.staged.is_empty() {
            let (a, _) = self.staged.as_slices();
            let room = limit.map_or(a.len(), |l| l.saturating_sub(self.written) as usize);
            if room == 0 {
                self.held = true;
                break;
            }
            match sys::write(efd, &a[..a.len().min(room)]) {
                Ok(n) if n > 0 => {
                    self.staged.drain(..n);
                    self.written += n as u64;
                }
                _ => break,
            }
        }
        // (end + FORGET_AFTER < written)
        if let Some(read) = self.written.checked_sub(FORGET_AFTER + 1) {
            self.forget_read(read);
        }
        if let Some(g) = shared.as_mut() {
            let half = self
                .records
                .get(SockPage::RECORDS / 2)
                .map_or(0, |r| r.start);
            g.set_held(self.held, half);
            // Only what is new or may have changed since the last time.
            let count = self.records.len().min(SockPage::RECORDS);
            let from = self.fresh.max(self.popped);
            let skip = (from - self.popped) as usize;
            let base = self.popped;
            let changed = self
                .records
                .iter()
                .enumerate()
                .take(count)
                .skip(skip)
                .map(|(i, r)| {
                    (
                        base + i as u64,
                        r.start,
                        r.end,
                        r.complete,
                        r.aborted,
                        &r.meta,
                    )
                });
            g.publish_records(self.written, base, count, changed);
            // (An open record grows: it is written again next time.)
            let open = self
                .records
                .iter()
                .take(count)
                .skip(skip)
                .position(|r| !r.complete);
            self.fresh = from + open.unwrap_or(count - skip.min(count)) as u64;
        }
        self.staged.is_empty()
    }

    /// Records read to the end of (a reader at offset `read`).
    fn forget_read(&mut self, read: u64) {
        while self
            .records
            .front()
            .is_some_and(|r| r.complete && r.end <= read)
        {
            self.records.pop_front();
            self.popped += 1;
        }
    }

    /// Whether the application left data unread at its close, as far as
    /// the engine can tell (notifications do not count, as Linux's
    /// sctp_queue_purge_ulpevents): messages not yet written into the
    /// pair, and when its end held unread bytes (`pair_unread`), the last
    /// record written there (what is unread is the stream's tail).
    pub fn data_left(&self, pair_unread: bool) -> bool {
        let staged = self
            .records
            .iter()
            .any(|r| r.end > self.written && !r.meta.notification);
        let tail = pair_unread
            && self
                .records
                .iter()
                .rev()
                .find(|r| r.start < self.written)
                .is_some_and(|r| !r.meta.notification);
        staged || tail || self.lobby.iter().any(|(m, _)| !m.notification)
    }

    /// The application's end is gone: nobody will read what is staged or
    /// indexed, so it goes (Linux frees a closed socket's receive queue).
    pub fn discard(&mut self) {
        self.staged.clear();
        self.popped += self.records.len() as u64;
        self.fresh = self.popped;
        self.records.clear();
        self.lobby.clear();
        self.held = false;
    }

    /// Staged bytes wait for a reader of the shared page to move on.
    pub fn held(&self) -> bool {
        self.held
    }

    /// The reader whose end still holds `unread` bytes: its record.
    pub fn at(&mut self, unread: usize) -> Option<Slice> {
        let pos = self.written.saturating_sub(unread as u64);
        self.forget_read(pos);
        let r = self.records.front().filter(|r| r.start <= pos)?;
        let next = self
            .records
            .get(1)
            .map(|n| (n.meta.clone(), (n.end - n.start) as usize));
        Some(Slice {
            meta: r.meta.clone(),
            left: (r.end - pos) as usize,
            next,
            complete: r.complete,
            eor_at_end: r.complete && !r.aborted,
        })
    }

    /// sctp_peeloff, as Linux's sctp_sock_migrate: everything of `assoc`
    /// not yet read leaves this socket, in order: its messages and
    /// notifications, the rest of one read in part, one still arriving in
    /// pieces (its later pieces follow it: see [`Inbox::push_piece`]).
    /// `unread` is what the application's end held, drained from it (the
    /// pair is empty now): it goes back in front of the staged bytes, less
    /// what leaves, to be written again.
    pub fn take_assoc(&mut self, assoc: u32, unread: &[u8]) -> Vec<Taken> {
        let base = self.written.saturating_sub(unread.len() as u64);
        self.written = base;
        let mut bytes = unread.to_vec();
        bytes.extend(self.staged.drain(..));
        let mut kept = VecDeque::new();
        let mut taken = Vec::new();
        let mut keep_bytes = Vec::with_capacity(bytes.len());
        let mut off = base;
        for r in self.records.drain(..) {
            if r.end <= base {
                // Read already.
                kept.push_back(r);
                continue;
            }
            let from = r.start.max(base);
            let lo = ((from - base) as usize).min(bytes.len());
            let hi = ((r.end - base) as usize).clamp(lo, bytes.len());
            let slice = &bytes[lo..hi];
            if r.meta.assoc == assoc {
                taken.push(Taken {
                    meta: r.meta,
                    data: slice.to_vec(),
                    complete: r.complete,
                    aborted: r.aborted,
                });
                continue;
            }
            keep_bytes.extend_from_slice(slice);
            let len = slice.len() as u64;
            // A record being read keeps its start: the reader's offset
            // arithmetic (written less unread) still lands inside it.
            let start = if r.start < base { r.start } else { off };
            kept.push_back(Record {
                start,
                end: off + len,
                ..r
            });
            off += len;
        }
        for (meta, data) in std::mem::take(&mut self.lobby) {
            if meta.assoc == assoc {
                taken.push(Taken {
                    meta,
                    data,
                    complete: true,
                    aborted: false,
                });
            } else {
                self.lobby.push_back((meta, data));
            }
        }
        self.staged = keep_bytes.into();
        self.records = kept;
        // Records left the middle: the page shows them all again.
        self.fresh = self.popped;
        self.release_lobby();
        taken
    }

    /// A record taken from another socket by [`Inbox::take_assoc`].
    pub fn push_taken(&mut self, t: Taken) {
        if !t.complete {
            self.push_piece(t.meta, &t.data, false);
        } else if self.open_assoc().is_some() {
            self.lobby.push_back((t.meta, t.data));
        } else {
            self.append(t.meta, &t.data, true);
            if let Some(r) = self.records.back_mut() {
                r.aborted = t.aborted;
            }
        }
    }
}

/// One record leaving a socket (sctp_peeloff).
#[derive(Debug)]
pub struct Taken {
    pub meta: RecordMeta,
    pub data: Vec<u8>,
    pub complete: bool,
    pub aborted: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(assoc: u32, stream: u16) -> RecordMeta {
        RecordMeta {
            assoc,
            stream,
            ..Default::default()
        }
    }

    #[test]
    fn reader_offsets_find_records() {
        let mut b = Inbox::default();
        b.push(meta(1, 1), b"hello");
        b.push(meta(1, 2), b"world!");
        // Nothing in the pair yet: the reader stands at 0.
        let s = b.at(0).unwrap();
        assert_eq!((s.meta.stream, s.left), (1, 5));
        assert_eq!(s.next.as_ref().map(|n| (n.0.stream, n.1)), Some((2, 6)));
        // Pretend 11 bytes were written and 8 are still unread: offset 3.
        b.written = 11;
        b.staged.clear();
        let s = b.at(8).unwrap();
        assert_eq!((s.meta.stream, s.left), (1, 2));
        let s = b.at(6).unwrap();
        assert_eq!((s.meta.stream, s.left), (2, 6));
        assert!(s.next.is_none());
        assert!(b.at(0).is_none());
        assert_eq!(b.records(), 0);
    }

    /// Records reach the shared page as they are pushed, grow and are
    /// read: only new or changed ones are written, the others stay.
    #[test]
    fn the_page_shows_records_as_they_change() {
        let page = SockPage::create().unwrap();
        let (app, eng) = sys::socketpair(libc::SOCK_STREAM, 0, 0).unwrap();
        let mut b = Inbox::default();
        b.push(meta(1, 1), b"one");
        b.push_piece(meta(2, 2), b"tw", false);
        b.flush(eng, Some(&page));
        {
            let mut g = page.lock();
            let s = g.slice_at(5).unwrap().unwrap();
            assert_eq!(
                (s.meta.assoc, s.left, s.next.map(|n| (n.0.assoc, n.1))),
                (1, 3, Some((2, 2)))
            );
            let s = g.slice_at(2).unwrap().unwrap();
            assert_eq!((s.meta.assoc, s.left, s.complete), (2, 2, false));
        }
        // The open message's last piece, then one more message.
        b.push_piece(meta(2, 2), b"o!", true);
        b.push(meta(3, 3), b"x");
        b.flush(eng, Some(&page));
        let mut buf = [0u8; 3];
        assert_eq!(sys::read(app, &mut buf).unwrap(), 3);
        page.lock().advance(3);
        // The engine forgets the first record; the page shows from the next.
        b.flush(eng, Some(&page));
        assert_eq!(b.records(), 2);
        let unread = sys::pending_bytes(app);
        assert_eq!(unread, 5);
        let s = page.lock().slice_at(unread).unwrap().unwrap();
        assert_eq!((s.meta.assoc, s.left, s.complete), (2, 4, true));
        assert_eq!(s.next.map(|n| (n.0.assoc, n.1)), Some((3, 1)));
        let s = page.lock().slice_at(1).unwrap().unwrap();
        assert_eq!((s.meta.assoc, s.left, s.next), (3, 1, None));
        sys::close(app);
        sys::close(eng);
    }

    impl Inbox {
        /// As `flush`, into nowhere: everything staged counts as written.
        fn flush_to_vec(&mut self) -> bool {
            self.written += self.staged.len() as u64;
            self.staged.clear();
            true
        }
    }

    fn staged(b: &Inbox) -> Vec<u8> {
        b.staged.iter().copied().collect()
    }

    #[test]
    fn data_left_at_close_counts_data_not_notifications() {
        let mut note = meta(1, 0);
        note.notification = true;
        // Everything in the pair, a notification last: a reader that left
        // bytes unread left at least that notification; nothing says it
        // left data.
        let mut b = Inbox::default();
        b.push(meta(1, 0), b"aa"); // 0..2
        b.push(note.clone(), b"nn"); // 2..4
        b.written = 4;
        b.staged.clear();
        assert!(!b.data_left(true));
        assert!(!b.data_left(false));
        // A message last: unread bytes are its bytes.
        b.push(meta(1, 0), b"cc"); // 4..6
        b.written = 6;
        b.staged.clear();
        assert!(b.data_left(true));
        assert!(
            !b.data_left(false),
            "an end with nothing unread read it all"
        );
        // Not yet written into the pair: unread whatever the pair says,
        // unless it is a notification.
        let mut c = Inbox::default();
        c.push(note, b"nn");
        assert!(!c.data_left(false));
        c.push(meta(2, 0), b"dd");
        assert!(c.data_left(false));
    }

    #[test]
    fn discard_drops_what_nobody_will_read() {
        let mut b = Inbox::default();
        b.push(meta(1, 0), b"aa");
        b.push_piece(meta(2, 0), b"b", false);
        b.push(meta(1, 0), b"cc"); // waits in the lobby for 2's last piece
        assert!(b.open_assoc() == Some(2) && b.staged() > 0);
        b.discard();
        assert_eq!((b.staged(), b.records(), b.open_assoc()), (0, 0, None));
        assert!(!b.data_left(false) && !b.held());
        // What comes after starts from the same stream offset.
        b.push(meta(3, 0), b"dd");
        assert_eq!(b.staged(), 2);
    }

    #[test]
    fn peeloff_takes_everything_of_its_association_even_from_the_pair() {
        let mut b = Inbox::default();
        b.push(meta(1, 0), b"aa"); // 0..2
        b.push(meta(2, 0), b"bbb"); // 2..5
        let mut note = meta(1, 0);
        note.notification = true;
        b.push(note, b"nn"); // 5..7
        b.push(meta(1, 0), b"cccc"); // 7..11
        // The pair got 9 bytes, of which the reader read one.
        b.written = 9;
        b.staged.drain(..9);
        let taken = b.take_assoc(1, b"abbbnncc");
        let got: Vec<(&[u8], bool, bool)> = taken
            .iter()
            .map(|t| (&t.data[..], t.meta.notification, t.complete))
            .collect();
        assert_eq!(
            got,
            vec![
                (&b"a"[..], false, true),
                (&b"nn"[..], true, true),
                (&b"cccc"[..], false, true)
            ]
        );
        // What stays goes into the pair again, right after what was read.
        assert_eq!((b.written, staged(&b)), (1, b"bbb".to_vec()));
        let s = b.at(0).unwrap();
        assert_eq!((s.meta.assoc, s.left), (2, 3));
    }

    #[test]
    fn peeloff_leaves_another_association_s_message_being_read_where_it_was() {
        let mut b = Inbox::default();
        b.push(meta(2, 0), b"bbb"); // 0..3
        b.push(meta(1, 0), b"aa"); // 3..5
        b.written = 5;
        b.staged.clear();
        // One byte of "bbb" read.
        let taken = b.take_assoc(1, b"bbaa");
        assert_eq!(taken.len(), 1);
        assert_eq!((b.written, staged(&b)), (1, b"bb".to_vec()));
        assert!(b.flush_to_vec());
        // The reader's end holds "bb" again: the rest of its record.
        let s = b.at(2).unwrap();
        assert_eq!((s.meta.assoc, s.left, s.eor_at_end), (2, 2, true));
    }

    #[test]
    fn peeloff_takes_a_message_arriving_in_pieces_and_what_waits_behind_it() {
        let mut b = Inbox::default();
        b.push_piece(meta(1, 0), b"p1", false);
        b.push(meta(2, 0), b"other"); // in the lobby, behind the open message
        b.push(meta(1, 3), b"later"); // likewise
        let taken = b.take_assoc(1, b"");
        assert_eq!(taken.len(), 2);
        assert!(!taken[0].complete);
        assert_eq!(taken[1].data, b"later");
        // The other association's message is no longer held back.
        assert_eq!(staged(&b), b"other".to_vec());
        assert_eq!(b.open_assoc(), None);
        // On the new socket: the open message first, the next behind it
        // until its last piece comes.
        let mut n = Inbox::default();
        for t in taken {
            n.push_taken(t);
        }
        assert_eq!(staged(&n), b"p1".to_vec());
        n.push_piece(meta(1, 0), b"p2", true);
        assert_eq!(staged(&n), b"p1p2later".to_vec());
    }
}
