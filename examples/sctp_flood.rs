//! Test tool for `scripts/e2e-security.sh`: sends forged SCTP-over-UDP
//! packets at a port on loopback.
//!
//! ```text
//! sctp_flood init 127.0.0.1:5000 100000      # INITs from random ports and tags
//! sctp_flood abort 127.0.0.1:5000 CLIENT_PORT 10000
//!                                            # ABORTs and SHUTDOWNs with guessed tags
//! ```
//!
//! Only loopback destinations are accepted.

use std::net::{SocketAddr, UdpSocket};

use sctpshim::proto::wire::{Abort, Chunk, Init, Packet, Param, Shutdown};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: sctp_flood init ADDR:PORT COUNT | abort ADDR:PORT SRC_PORT COUNT");
        eprintln!("  FLOOD_UDP_PORT: the UDP port to send to (default: PORT, the SCTP port)");
        std::process::exit(2);
    }
    let sctp: SocketAddr = args[2].parse().expect("ADDR:PORT");
    let udp_port = std::env::var("FLOOD_UDP_PORT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(sctp.port());
    let to = SocketAddr::new(sctp.ip(), udp_port);
    assert!(to.ip().is_loopback(), "loopback destinations only");
    let sock = UdpSocket::bind(if to.is_ipv6() {
        "[::1]:0"
    } else {
        "127.0.0.1:0"
    })
    .expect("bind");
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut buf = Vec::with_capacity(128);
    match args[1].as_str() {
        "init" => {
            let n: u64 = args[3].parse().expect("COUNT");
            for _ in 0..n {
                let r = rnd();
                let p = Packet {
                    src_port: 1024 + (r % 60000) as u16,
                    dst_port: sctp.port(),
                    verification_tag: 0,
                    chunks: vec![Chunk::Init(Init {
                        initiate_tag: (r >> 16) as u32 | 1,
                        a_rwnd: 65536,
                        outbound_streams: 10,
                        inbound_streams: 10,
                        initial_tsn: (r >> 32) as u32,
                        params: vec![Param::SupportedAddressTypes(vec![5])],
                    })],
                };
                buf.clear();
                p.encode_into(&mut buf);
                // A full socket buffer only slows us down; keep going.
                let _ = sock.send_to(&buf, to);
            }
        }
        "abort" => {
            let src: u16 = args[3].parse().expect("SRC_PORT");
            let n: u64 = args.get(4).and_then(|v| v.parse().ok()).unwrap_or(10_000);
            for i in 0..n {
                let tag = rnd() as u32;
                let chunk = if i % 2 == 0 {
                    Chunk::Abort(Abort {
                        t_bit: i % 4 == 0,
                        causes: vec![],
                    })
                } else {
                    Chunk::Shutdown(Shutdown {
                        cum_tsn_ack: rnd() as u32,
                    })
                };
                let p = Packet {
                    src_port: src,
                    dst_port: sctp.port(),
                    verification_tag: tag,
                    chunks: vec![chunk],
                };
                buf.clear();
                p.encode_into(&mut buf);
                let _ = sock.send_to(&buf, to);
            }
        }
        _ => {
            eprintln!("unknown mode {}", args[1]);
            std::process::exit(2);
        }
    }
}
