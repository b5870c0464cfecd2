//! sctpshim: the command line companion of the library.
//!
//! - `sctpshim stat`: the shared engine's endpoints and associations, like
//!   /proc/net/sctp/{eps,assocs} (for this user, network namespace and
//!   SCTPSHIM_* configuration).
//! - `sctpshim run PROGRAM [ARGS...]`: runs PROGRAM with the library preloaded
//!   (as lksctp's `withsctp`).

use std::io::Write;
use std::os::unix::process::CommandExt;

fn usage() -> ! {
    eprintln!("usage: sctpshim stat | sctpshim run PROGRAM [ARGS...]");
    std::process::exit(2);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("stat") => {
            let text = sctpshim::daemon_stat().unwrap_or_else(|| {
                "no sctpshimd is running for this user and configuration\n".to_string()
            });
            // A reader that stops early (`sctpshim stat | head`) ends the
            // output quietly, as other tools do, instead of a panic.
            if let Err(e) = std::io::stdout().lock().write_all(text.as_bytes())
                && e.kind() != std::io::ErrorKind::BrokenPipe
            {
                eprintln!("sctpshim: {e}");
                std::process::exit(1);
            }
        }
        Some("run") if args.len() > 1 => {
            let exe = std::env::current_exe().unwrap_or_else(|_| usage());
            let lib = exe.with_file_name("libsctpshim.so");
            if !lib.exists() {
                eprintln!("sctpshim: {} not found", lib.display());
                std::process::exit(1);
            }
            let preload = match std::env::var("LD_PRELOAD") {
                Ok(p) if !p.is_empty() => format!("{} {p}", lib.display()),
                _ => lib.display().to_string(),
            };
            let err = std::process::Command::new(&args[1])
                .args(&args[2..])
                .env("LD_PRELOAD", preload)
                .exec();
            eprintln!("sctpshim: {}: {err}", args[1]);
            std::process::exit(127);
        }
        _ => usage(),
    }
}
