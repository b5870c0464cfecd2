//! sctpshimd: the shared SCTP engine. The preload library starts it on the
//! first SCTP call of a user in a network namespace; it serves every process
//! of that user there and exits once idle. `--foreground` keeps it attached
//! to the terminal (for debugging).

fn main() {
    let foreground = std::env::args().skip(1).any(|a| a == "--foreground");
    std::process::exit(sctpshim::daemon_main(foreground));
}
