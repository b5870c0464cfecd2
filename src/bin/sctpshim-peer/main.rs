//! sctpshim-peer: plays the remote SCTP endpoint, over UDP encapsulation
//! (RFC 6951), against a program under the shim, from readable scripts
//! (see `script.rs` and conformance/README.md). The local side's socket
//! calls are made by a helper program under LD_PRELOAD that executes the
//! calls the script names, so a script checks what goes on the wire and
//! what the application sees at the same moment.
//!
//!   sctpshim-peer --lib LIB --helper HELPER [-v] SCRIPT|DIR...

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
    } else if p.extension().is_some_and(|e| e == "pkt") {
        out.push(p.to_path_buf());
    }
}

/// The script's text with each `include FILE` line (relative to the
/// script's directory) replaced by that file's text.
fn expand(path: &Path, depth: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let dir = path.parent().unwrap_or(Path::new("."));
    text.lines()
        .map(|l| match l.trim().strip_prefix("include ") {
            Some(f) if depth < 4 => expand(&dir.join(f.trim()), depth + 1),
            // (Blank, so that line numbers past it stay the file's own.)
            Some(_) => String::new(),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut lib, mut helper, mut verbose, mut paths) = (None, None, false, Vec::new());
    while let Some(a) = args.next() {
        match a.as_str() {
            "--lib" => lib = args.next(),
            "--helper" => helper = args.next(),
            "-v" => verbose = true,
            _ => scripts_in(Path::new(&a), &mut paths),
        }
    }
    let (Some(lib), Some(helper)) = (lib, helper) else {
        eprintln!("usage: sctpshim-peer --lib LIB --helper HELPER [-v] SCRIPT|DIR...");
        std::process::exit(2);
    };
    let lib = std::fs::canonicalize(&lib).map_or(lib, |p| p.display().to_string());
    let base = 20000 + (std::process::id() % 1000) as u16 * 20;
    let (mut pass, mut fail) = (0, 0);
    for (i, path) in paths.iter().enumerate() {
        let text = expand(path, 0);
        let shim_port = base + ((i * 2) % 20000) as u16;
        let setup = run::Setup {
            lib: &lib,
            helper: &helper,
            shim_port,
            peer_port: shim_port + 1,
            verbose,
        };
        let r = script::parse(&text).and_then(|steps| run::run(&steps, &setup));
        match r {
            Ok(()) => {
                pass += 1;
                println!("ok   {}", path.display());
            }
            Err(e) => {
                fail += 1;
                println!("FAIL {}: {e}", path.display());
            }
        }
    }
    println!("conformance: {pass} passed, {fail} failed");
    std::process::exit(i32::from(fail > 0));
}
