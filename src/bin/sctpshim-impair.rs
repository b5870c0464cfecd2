//! `sctpshim-impair`: a UDP proxy between two SCTP-over-UDP peers that
//! impairs the traffic both ways (loss, duplication, reordering, delay,
//! jitter, corruption), for testing SCTP applications without root.
//!
//! ```text
//! sctpshim-impair --listen 127.0.0.1:9000 --to 127.0.0.1:5000 \
//!     --impair loss=5%,dup=1%,reorder=2%,delay=20ms,jitter=5ms,corrupt=0.1%,seed=1
//! ```
//!
//! Programs under the shim connect to the proxy as if it were the server
//! (SCTP port 9000 here); the proxy rewrites the SCTP port in the common
//! header (9000 ↔ 5000), recomputes the CRC32c and forwards. The first peer
//! that sends to `--listen` is the client; the server sees the proxy's own
//! UDP port as the client's. When the server's engine carries every SCTP
//! port in one UDP port (the shared engine's 9899), `--to` is that UDP
//! address and `--sctp-to` the server's SCTP port; the client then sends to
//! the proxy's UDP port (SCTPSHIM_REMOTE_UDP_PORT=9000 for it).

use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use sctpshim::proto::wire::checksum;
use sctpshim::runtime::impair::{Impair, Spec};

fn usage() -> ! {
    eprintln!(
        "usage: sctpshim-impair --listen ADDR:PORT --to ADDR:PORT [--sctp-to PORT] [--impair SPEC]"
    );
    eprintln!("  SPEC: loss=5%,dup=1%,reorder=2%,delay=20ms,jitter=5ms,corrupt=0.1%,seed=1");
    std::process::exit(2)
}

/// Rewrites the source (`src`) or destination SCTP port and the checksum.
fn rewrite(d: &mut [u8], src: bool, port: u16) {
    if d.len() < 12 {
        return;
    }
    let at = if src { 0 } else { 2 };
    d[at..at + 2].copy_from_slice(&port.to_be_bytes());
    let crc = checksum(d);
    d[8..12].copy_from_slice(&crc.to_le_bytes());
}

#[allow(clippy::disallowed_methods)]
fn now() -> Instant {
    Instant::now()
}

fn main() {
    let mut listen: Option<SocketAddr> = None;
    let mut to: Option<SocketAddr> = None;
    let mut sctp_to: Option<u16> = None;
    let mut spec = Spec::parse("").expect("empty spec");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--listen" => listen = v.parse().ok(),
            "--to" => to = v.parse().ok(),
            "--sctp-to" => sctp_to = Some(v.parse().unwrap_or_else(|_| usage())),
            "--impair" => {
                spec = Spec::parse(&v).unwrap_or_else(|e| {
                    eprintln!("sctpshim-impair: {e}");
                    std::process::exit(2)
                })
            }
            _ => usage(),
        }
    }
    let (Some(listen), Some(to)) = (listen, to) else {
        usage()
    };
    let sctp_to = sctp_to.unwrap_or(to.port());
    let front = UdpSocket::bind(listen).unwrap_or_else(|e| {
        eprintln!("sctpshim-impair: bind {listen}: {e}");
        std::process::exit(1)
    });
    let any: SocketAddr = if to.is_ipv6() { "[::]:0" } else { "0.0.0.0:0" }
        .parse()
        .expect("literal");
    let back = UdpSocket::bind(any).expect("bind the server side");
    front.set_nonblocking(true).expect("nonblocking");
    back.set_nonblocking(true).expect("nonblocking");
    let mut impair = Impair::new(spec);
    let mut client: Option<SocketAddr> = None;
    let mut buf = vec![0u8; 65536];
    loop {
        let t = now();
        // Datagrams whose delay is over: "inbound" ones go to the server,
        // "outbound" ones back to the client.
        for (_, addr, d) in impair.due(t, true) {
            back.send_to(&d, addr).ok();
        }
        for (_, addr, d) in impair.due(t, false) {
            front.send_to(&d, addr).ok();
        }
        while let Ok((n, from)) = front.recv_from(&mut buf) {
            client = Some(from);
            let d = &mut buf[..n];
            rewrite(d, false, sctp_to);
            for c in impair.apply(t, true, 0, to, d) {
                back.send_to(&c, to).ok();
            }
        }
        while let Ok((n, _)) = back.recv_from(&mut buf) {
            let Some(c) = client else { continue };
            let d = &mut buf[..n];
            rewrite(d, true, listen.port());
            for x in impair.apply(t, false, 0, c, d) {
                front.send_to(&x, c).ok();
            }
        }
        let wait = impair
            .next_due()
            .map_or(Duration::from_millis(100), |d| {
                d.saturating_duration_since(now())
            })
            .min(Duration::from_millis(100));
        let mut fds = [
            libc::pollfd {
                fd: front.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: back.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        sctpshim::sys::poll(&mut fds, wait.as_millis() as i32 + 1).ok();
    }
}
