//! The SOL_SCTP option table (`sockopt::get` / `sockopt::set`) fed arbitrary
//! option numbers, buffers and lengths, on a one-to-many listener and on a
//! connected one-to-one socket of a live engine: never a panic, never a read
//! or write outside the caller's buffer (the buffer is exactly `len` bytes,
//! so AddressSanitizer sees any overrun), and a get never reports more
//! bytes than the buffer holds.
#![no_main]

use std::net::SocketAddr;
use std::os::raw::{c_int, c_void};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sctpshim::runtime::{Engine, SockId, engine};
use sctpshim::sockopt;

struct Sockets {
    many: SockId,
    one: SockId,
}

fn sockets(e: &'static Engine) -> &'static Sockets {
    static S: OnceLock<Sockets> = OnceLock::new();
    S.get_or_init(|| {
        let (many, _) = e.socket_many(false, 0).expect("one-to-many socket");
        let any: SocketAddr = "127.0.0.1:0".parse().expect("literal");
        e.bind(many, any).expect("bind");
        e.listen(many, 128).expect("listen");
        let (Some(local), _) = e.names(many).expect("names") else {
            panic!("bound socket without an address");
        };
        let (one, _) = e.socket(false, 0).expect("one-to-one socket");
        e.connect(one, local, false).expect("association over loopback");
        Sockets { many, one }
    })
}

fuzz_target!(|data: &[u8]| {
    let [which, name, get, rest @ ..] = data else {
        return;
    };
    let name = c_int::from(*name) | if which & 2 != 0 { 0x80 } else { 0 };
    if !sockopt::handles(name) {
        return;
    }
    let e = engine();
    let s = sockets(e);
    let id = if which & 1 == 0 { s.many } else { s.one };
    // Exactly the caller's bytes: a read or write past them is an overrun.
    let mut buf = rest.to_vec();
    if get & 1 == 1 {
        // Sometimes a caller claims less room than it has (never more).
        let claim = if get & 2 != 0 { buf.len() / 2 } else { buf.len() };
        let mut len = claim as libc::socklen_t;
        // SAFETY: `buf` holds `claim` bytes or more; `len` is a valid pointer.
        let r = unsafe { sockopt::get(e, id, name, buf.as_mut_ptr() as *mut c_void, &mut len) };
        if r.is_ok() {
            assert!(len as usize <= claim, "get wrote past the claimed length");
        }
    } else {
        // SAFETY: `buf` holds exactly the length passed.
        let _ = unsafe {
            sockopt::set(
                e,
                id,
                name,
                buf.as_ptr() as *const c_void,
                buf.len() as libc::socklen_t,
            )
        };
    }
});
