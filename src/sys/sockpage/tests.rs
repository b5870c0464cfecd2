//! The page between a daemon mapping and a program mapping (one process).

use std::net::{SocketAddr, SocketAddrV6};

use super::*;

fn mirror(streams: u16) -> Mirror {
    Mirror {
        taken: 100,
        next_id: 7,
        whole_limit: None,
        default: SendSpec {
            ppid: 9,
            ..Default::default()
        },
        streams,
        peer_shut: false,
        open: false,
    }
}

#[test]
fn marks_travel_through_the_page() {
    let daemon = SockPage::create().unwrap();
    // SAFETY: a copy of our own memfd for the "program" side.
    let prog = SockPage::attach(unsafe { libc::dup(daemon.fd()) }).unwrap();
    // Not established yet: the program asks the daemon.
    assert_eq!(prog.lock().place(0, 5, None), Err(AskDaemon));
    daemon.lock().publish(&mirror(2));
    let turn = prog.turn(true).unwrap();
    assert!(daemon.turn(true).is_none(), "one send turn for all");
    assert_eq!(prog.lock().place(3, 5, None), Ok(8));
    let s1 = SendSpec {
        stream: 1,
        ..Default::default()
    };
    assert_eq!(prog.lock().place(0, 2, Some(s1)), Ok(9));
    let bad = SendSpec {
        stream: 2,
        ..Default::default()
    };
    assert_eq!(prog.lock().place(0, 2, Some(bad)), Err(AskDaemon));
    drop(turn);
    let mut got = vec![];
    let mut g = daemon.lock();
    g.drain(|id, start, len, spec| got.push((id, start, len, spec.stream, spec.ppid)));
    assert_eq!(g.next_id(), 9);
    assert_eq!(got, vec![(8, 103, 5, 0, 9), (9, 100, 2, 1, 0)]);
    // An open message, a limit, a shut peer: the daemon decides.
    g.publish(&Mirror {
        open: true,
        ..mirror(2)
    });
    drop(g);
    assert_eq!(prog.lock().place(0, 1, None), Err(AskDaemon));
    daemon.lock().publish(&Mirror {
        whole_limit: Some(10),
        ..mirror(2)
    });
    assert_eq!(prog.lock().place(0, 11, None), Err(AskDaemon));
    assert!(prog.lock().place(0, 10, None).is_ok());
}

#[test]
fn a_full_ring_and_a_foreign_page_are_refused() {
    let daemon = SockPage::create().unwrap();
    daemon.lock().publish(&mirror(1));
    for _ in 0..RING {
        assert!(daemon.lock().place(0, 1, None).is_ok());
    }
    assert_eq!(daemon.lock().place(0, 1, None), Err(AskDaemon));
    let mut n = 0;
    daemon.lock().drain(|_, _, _, _| n += 1);
    assert_eq!(n, RING);
    assert!(daemon.lock().place(0, 1, None).is_ok());
    // SAFETY: a memfd of the wrong size.
    let other = unsafe { libc::memfd_create(c"x".as_ptr(), 0) };
    assert!(SockPage::attach(other).is_err());
}

/// Publishes `recs` (start, end, complete, aborted, notification) as
/// records 0.. with `written` bytes written.
fn publish(g: &mut ShmGuard<'_>, written: u64, recs: &[(u64, u64, bool, bool, bool)]) {
    let metas: Vec<RecordMeta> = recs
        .iter()
        .map(|r| RecordMeta {
            notification: r.4,
            ..Default::default()
        })
        .collect();
    let changed = recs
        .iter()
        .zip(&metas)
        .enumerate()
        .map(|(i, (r, m))| (i as u64, r.0, r.1, r.2, r.3, m));
    g.publish_records(written, 0, recs.len(), changed);
}

#[test]
fn readers_find_their_records() {
    let daemon = SockPage::create().unwrap();
    let recs = [
        (0, 5, true, false, false),
        (5, 7, true, false, true),
        (7, 20, false, false, false),
    ];
    // Nothing written yet: nothing to read.
    assert_eq!(daemon.lock().slice_at(0), Ok(None));
    publish(&mut daemon.lock(), 10, &recs);
    let mut g = daemon.lock();
    // 10 bytes written, all unread: the reader is at 0.
    let s = g.slice_at(10).unwrap().unwrap();
    assert_eq!(
        (s.pos, s.left, s.eor_at_end, s.notification),
        (0, 5, true, false)
    );
    let s = g.slice_at(5).unwrap().unwrap();
    assert_eq!((s.pos, s.left, s.notification), (5, 2, true));
    // In the message arriving in pieces: 13 bytes left of it.
    let s = g.slice_at(3).unwrap().unwrap();
    assert_eq!((s.left, s.complete, s.eor_at_end), (13, false, false));
    // Read all that is there: the open record, nothing left of it yet.
    assert_eq!(g.slice_at(0).unwrap().unwrap().left, 10);
    // More unread than written: the page is behind, ask.
    assert_eq!(g.slice_at(11), Err(AskDaemon));
    // Reading moves the engine only while it waits, every NOTE_EVERY.
    assert!(!g.advance(5));
    assert_eq!(g.read_pos(), 5);
    g.set_watched(true);
    assert!(!g.advance(6));
    assert!(g.advance(NOTE_EVERY));
    assert!(!g.advance(NOTE_EVERY + 1));
    // Bytes past the records shown: the daemon knows.
    publish(&mut g, 30, &recs[..2]);
    assert_eq!(g.slice_at(25).unwrap().unwrap().left, 2);
    assert_eq!(g.slice_at(1), Err(AskDaemon));
}

#[test]
fn an_aborted_message_ends_without_eor() {
    let daemon = SockPage::create().unwrap();
    publish(&mut daemon.lock(), 4, &[(0, 4, true, true, false)]);
    let s = daemon.lock().slice_at(4).unwrap().unwrap();
    assert!(s.complete && !s.eor_at_end);
    // Read: the record is behind the reader.
    assert_eq!(daemon.lock().slice_at(0), Ok(None));
}

/// A one-to-many socket's records carry what recvmsg returns beside
/// the data; records shown before stay where they were as the first
/// one shown moves on (only new ones are written).
#[test]
fn records_carry_their_metadata_in_a_ring() {
    let daemon = SockPage::create().unwrap();
    let v4 = RecordMeta {
        assoc: 3,
        peer: Some("10.1.2.3:5000".parse().unwrap()),
        stream: 2,
        ssn: 7,
        ppid: 0x1234,
        tsn: 99,
        unordered: true,
        notification: false,
        context: 5,
    };
    let v6 = RecordMeta {
        assoc: 4,
        peer: Some(SocketAddr::V6(SocketAddrV6::new(
            "fe80::1".parse().unwrap(),
            6000,
            0,
            2,
        ))),
        notification: true,
        ..Default::default()
    };
    // Records RECS-1 and RECS (slots RECS-1 and 0).
    let first = RECS as u64 - 1;
    let mut g = daemon.lock();
    g.publish_records(
        20,
        first,
        2,
        [
            (first, 0, 10, true, false, &v4),
            (first + 1, 10, 20, true, false, &v6),
        ]
        .into_iter(),
    );
    let s = g.slice_at(20).unwrap().unwrap();
    assert_eq!(s.meta, v4);
    assert_eq!(s.next, Some((v6.clone(), 10)));
    let s = g.slice_at(10).unwrap().unwrap();
    assert_eq!(
        (s.meta.clone(), s.notification, s.next),
        (v6.clone(), true, None)
    );
    // The first read: one record shown, written before.
    g.publish_records(20, first + 1, 1, std::iter::empty());
    let s = g.slice_at(10).unwrap().unwrap();
    assert_eq!((s.meta, s.left), (v6, 10));
    // Peerless (a notification's record may be) and unset options.
    assert_eq!(
        RecordMeta::default(),
        PodMeta::from(&RecordMeta::default()).meta(false)
    );
    assert_eq!(g.wants(), RecvWants::default());
    let w = RecvWants {
        rcvinfo: true,
        nxtinfo: false,
        data_io: true,
    };
    g.set_wants(w);
    assert_eq!(g.wants(), w);
}

#[test]
fn a_dead_holder_leaves_the_lock_usable() {
    let daemon = SockPage::create().unwrap();
    // SAFETY: fork in a test: the child only locks and exits.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let g = daemon.lock();
        std::mem::forget(g);
        let t = daemon.turn(false);
        std::mem::forget(t);
        // SAFETY: leaving the child at once.
        unsafe { libc::_exit(0) };
    }
    let mut status = 0;
    // SAFETY: plain syscall.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    daemon.lock().publish(&mirror(1));
    assert!(daemon.turn(true).is_some());
}
