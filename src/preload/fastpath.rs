//! The shared page of a one-to-one socket of the daemon (`sys::sockpage`),
//! as this process holds it: asked for once the socket has made a few
//! sends or receives (short-lived sockets, connect-send-close, never pay
//! for it), with a copy of the engine's end of the pair whose unread bytes
//! place send marks. Dropped when the process closes its last descriptor
//! of the socket.

use std::collections::HashMap;
use std::os::raw::c_int;
use std::sync::{Arc, RwLock};

use super::client::call;
use crate::ipc::Request;
use crate::ownfds;
use crate::runtime::SockId;
use crate::sys::{self, sockpage::SockPage};

/// Calls through the daemon before a socket gets its page.
const SLOW_CALLS_FIRST: u32 = 3;

/// A socket's page and this process's copy of the engine's end of its pair.
pub struct Attached {
    pub page: SockPage,
    pub efd: c_int,
}

impl Drop for Attached {
    fn drop(&mut self) {
        sys::close(self.efd);
    }
}

enum Slot {
    /// Calls so far through the daemon.
    Counting(u32),
    /// A thread of this process is asking the daemon for it.
    Fetching,
    Ready(Arc<Attached>),
    /// The daemon has no page for it (a listener, or it failed).
    Never,
}

/// What the daemon answered.
enum Fetched {
    Page(Attached),
    /// A send or receive of the socket was in progress: later.
    Busy,
    No,
}

fn table() -> &'static RwLock<HashMap<SockId, Slot>> {
    static T: std::sync::OnceLock<RwLock<HashMap<SockId, Slot>>> = std::sync::OnceLock::new();
    T.get_or_init(|| RwLock::new(HashMap::new()))
}

/// The socket's page, asked for once it made a few calls (None: not yet,
/// or never).
pub fn attached(fd: c_int, id: SockId) -> Option<Arc<Attached>> {
    match table().read().ok()?.get(&id) {
        Some(Slot::Ready(a)) => return Some(a.clone()),
        Some(Slot::Never | Slot::Fetching) => return None,
        Some(Slot::Counting(_)) | None => {}
    }
    {
        let mut t = table().write().ok()?;
        let slot = t.entry(id).or_insert(Slot::Counting(0));
        match slot {
            Slot::Counting(n) if *n < SLOW_CALLS_FIRST => {
                *n += 1;
                return None;
            }
            Slot::Counting(_) => *slot = Slot::Fetching,
            Slot::Ready(a) => return Some(a.clone()),
            Slot::Never | Slot::Fetching => return None,
        }
    }
    // Not under the table's lock: the round trips may wait, and other
    // sockets' calls must not.
    let got = fetch(fd);
    let mut t = table().write().ok()?;
    let slot = match got {
        Fetched::Page(a) => Slot::Ready(Arc::new(a)),
        Fetched::Busy => Slot::Counting(0),
        Fetched::No => Slot::Never,
    };
    // (Closed meanwhile: nothing to keep.)
    let s = t.get_mut(&id)?;
    *s = slot;
    match s {
        Slot::Ready(a) => Some(a.clone()),
        _ => None,
    }
}

/// The page and the pair end from the daemon.
fn fetch(fd: c_int) -> Fetched {
    let get = |pair_end: bool| match call(&Request::SendPage { pair_end }, Some(fd)) {
        Ok((r, Some(got))) if r.ret >= 0 => Ok(got),
        Ok((r, got)) => {
            if let Some(g) = got {
                sys::close(g);
            }
            Err(if r.errno == libc::EAGAIN {
                Fetched::Busy
            } else {
                Fetched::No
            })
        }
        Err(_) => Err(Fetched::No),
    };
    let page = match get(false) {
        Ok(p) => p,
        Err(f) => return f,
    };
    let Ok(page) = SockPage::attach(page) else {
        return Fetched::No;
    };
    match get(true) {
        Ok(efd) => {
            ownfds::claim(efd);
            Fetched::Page(Attached { page, efd })
        }
        Err(f) => f,
    }
}

/// The process closed a descriptor of socket `id`: with none left, its
/// page and pair end go.
pub fn closed(id: SockId) {
    let known = table().read().is_ok_and(|t| t.contains_key(&id));
    if !known {
        return;
    }
    let open = super::fdtable::in_range(0, u32::MAX)
        .into_iter()
        .any(|fd| super::fdtable::lookup(fd) == Some(id));
    if !open && let Ok(mut t) = table().write() {
        t.remove(&id);
    }
}
