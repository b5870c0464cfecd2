//! sctpshim-peer: plays the remote SCTP endpoint, over UDP encapsulation
//! (RFC 6951), against a program under the shim, from readable scripts
//! (see `script.rs` and conformance/README.md). The local side's socket
//! calls are made by a helper program under LD_PRELOAD that executes the
//! calls the script names, so a script checks what goes on the wire and
//! what the application sees at the same moment.
//!
//!   sctpshim-peer --lib LIB --helper HELPER [-v] SCRIPT|DIR...
//!   sctpshim-peer --guest CMD --peer-udp P --shim-udp F [-v] SCRIPT|DIR...
//!
//! The second form runs the scripts against Linux's own SCTP: CMD boots a
//! qemu guest whose console runs the helper (scripts/conformance-linux.sh),
//! the guest's encap_port is P and its UDP port 9899 is forwarded from F.

mod chunks;
mod run;
mod script;

use std::path::{Path, PathBuf};

fn scripts_in(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        entries.sort();
        for e in entries {
            scripts_in(&e, out);
        }
    } else if p.extension().is_some_and(|e| e == "pkt") || !p.exists() {
        // (A path that does not exist fails when read, not silently.)
        out.push(p.to_path_buf());
    }
}

/// The script's lines with each `include FILE` line (relative to the
/// script's directory) replaced by that file's lines, each with where it
/// comes from ("file:line"), for messages.
fn expand(path: &Path, depth: usize) -> std::io::Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or(String::new(), |n| n.to_string_lossy().into_owned());
    let mut out = Vec::new();
    for (i, l) in text.lines().enumerate() {
        match l.trim().strip_prefix("include ") {
            Some(f) if depth < 4 => out.extend(expand(&dir.join(f.trim()), depth + 1)?),
            Some(_) => {}
            None => out.push((l.to_string(), format!("{name}:{}", i + 1))),
        }
    }
    Ok(out)
}

/// A failure message "line N: ..." (N counts the expanded lines) with
/// the line's own file and number instead.
fn locate(msg: String, origins: &[(String, String)]) -> String {
    let Some(rest) = msg.strip_prefix("line ") else {
        return msg;
    };
    let (n, tail) = rest.split_once(':').unwrap_or((rest, ""));
    match n
        .parse::<usize>()
        .ok()
        .and_then(|n| origins.get(n.wrapping_sub(1)))
    {
        Some((_, at)) => format!("{at}:{tail}"),
        None => msg,
    }
}

fn bind_udp(port: u16) -> Result<std::net::UdpSocket, String> {
    std::net::UdpSocket::bind(("127.0.0.1", port)).map_err(|e| format!("UDP {port}: {e}"))
}

fn usage() -> ! {
    eprintln!(
        "usage: sctpshim-peer (--lib LIB --helper HELPER | --guest CMD --peer-udp P --shim-udp F) [-v] SCRIPT|DIR..."
    );
    std::process::exit(2);
}

fn fail_with(e: &str) -> ! {
    eprintln!("sctpshim-peer: {e}");
    std::process::exit(2);
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut lib, mut helper, mut verbose, mut paths) = (None, None, false, Vec::new());
    let (mut guest, mut peer_udp, mut shim_udp) = (None, None, None);
    let port = |a: Option<String>| a.and_then(|p| p.parse::<u16>().ok());
    while let Some(a) = args.next() {
        match a.as_str() {
            "--lib" => lib = args.next(),
            "--helper" => helper = args.next(),
            "--guest" => guest = args.next(),
            "--peer-udp" => peer_udp = port(args.next()),
            "--shim-udp" => shim_udp = port(args.next()),
            "-v" => verbose = true,
            _ => scripts_in(Path::new(&a), &mut paths),
        }
    }
    let mut guest = match (guest, peer_udp, shim_udp) {
        (Some(cmd), Some(p), Some(f)) => {
            match run::Helper::guest(&cmd, verbose).and_then(|h| Ok((h, bind_udp(p)?, f))) {
                Ok(g) => Some(g),
                Err(e) => fail_with(&e),
            }
        }
        (None, None, None) => None,
        _ => usage(),
    };
    let local = match (lib, helper) {
        (Some(lib), Some(helper)) if guest.is_none() => Some((
            std::fs::canonicalize(&lib).map_or(lib, |p| p.display().to_string()),
            helper,
        )),
        (None, None) if guest.is_some() => None,
        _ => usage(),
    };
    let base = 20000 + (std::process::id() % 1000) as u16 * 20;
    let (mut pass, mut fail) = (0, 0);
    for (i, path) in paths.iter().enumerate() {
        let Ok(lines) = expand(path, 0) else {
            fail += 1;
            println!("FAIL {}: cannot read it", path.display());
            continue;
        };
        let text = lines
            .iter()
            .map(|(l, _)| l.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        let shim_port = base + ((i * 2) % 20000) as u16;
        let setup = run::Setup {
            shim_port,
            peer_port: shim_port + 1,
            shim_udp: guest.as_ref().map_or(shim_port, |g| g.2),
            verbose,
        };
        let differs = script::parse(&text).ok().and_then(|steps| {
            steps.into_iter().find_map(|l| match l.step {
                script::Step::LinuxDiffers(why) => Some(why),
                _ => None,
            })
        });
        if let (Some(why), Some(_)) = (&differs, &guest) {
            println!("skip {}: Linux differs: {why}", path.display());
            continue;
        }
        let r = script::parse(&text).and_then(|steps| match (&mut guest, &local) {
            (Some((h, udp, _)), _) => {
                let r = run::run(&steps, &setup, udp, h);
                h.finish().and(r)
            }
            (None, Some((lib, helper))) => {
                let udp = bind_udp(setup.peer_port)?;
                let mut h = run::Helper::local(lib, helper)?;
                let r = run::run(&steps, &setup, &udp, &mut h);
                h.finish().and(r)
            }
            (None, None) => Err("no helper".into()),
        });
        match r {
            Ok(()) => {
                pass += 1;
                println!("ok   {}", path.display());
            }
            Err(e) => {
                fail += 1;
                println!("FAIL {}: {}", path.display(), locate(e, &lines));
            }
        }
    }
    println!("conformance: {pass} passed, {fail} failed");
    drop(guest); // (exit runs no destructors: this stops the guest)
    std::process::exit(i32::from(fail > 0));
}
