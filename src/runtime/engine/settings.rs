//! The SCTPSHIM_* settings that shape a process's sockets: protocol
//! parameters (SCTPSHIM_RTO_MIN_MS, ...), impairment and the loopback
//! shortcut. In-process they come from the environment; the shared daemon
//! gets each client's with its socket() request, so processes with
//! different settings share one engine (and one UDP port) and each keeps
//! its own settings for its own sockets.

use std::time::Duration;

use crate::proto::Config;
use crate::runtime::impair::Spec;

/// A process's settings, as its sockets take them.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// Protocol parameters (RTO.Min, RTO.Max, retransmissions, ...).
    pub cfg: Config,
    /// SCTPSHIM_IMPAIR: what the endpoints of these sockets do to their
    /// datagrams (real UDP then, never the loopback shortcut).
    pub impair: Option<Spec>,
    /// SCTPSHIM_LOOPBACK=udp: real UDP even between two endpoints of one engine.
    pub loopback_udp: bool,
}

/// The variables that are settings (the placement and daemon ones are not).
pub fn is_setting(name: &str) -> bool {
    name.starts_with("SCTPSHIM_")
        && !matches!(
            name,
            "SCTPSHIM_ENGINE"
                | "SCTPSHIM_LINGER_SECS"
                | "SCTPSHIM_DAEMON"
                | "SCTPSHIM_DAEMON_LOG"
                | "SCTPSHIM_DAEMON_IDLE_SECS"
                | "SCTPSHIM_INSTANCE"
                | "SCTPSHIM_UDP_PORT"
                | "SCTPSHIM_DEBUG"
                | "SCTPSHIM_BUSY_POLL_US"
        )
}

/// This process's settings variables, as `NAME=value` lines.
pub fn from_env_text() -> String {
    let mut vars: Vec<(String, String)> = std::env::vars().filter(|(k, _)| is_setting(k)).collect();
    vars.sort();
    vars.iter().map(|(k, v)| format!("{k}={v}\n")).collect()
}

/// A malformed SCTPSHIM_IMPAIR is reported on this process's stderr and
/// ignored, never fatal.
pub fn report_bad() {
    if let Ok(v) = std::env::var("SCTPSHIM_IMPAIR")
        && let Err(e) = Spec::parse(&v)
    {
        eprintln!("sctpshim: SCTPSHIM_IMPAIR ignored: {e}");
    }
}

impl Settings {
    /// This process's settings.
    pub fn from_env() -> Settings {
        Settings::parse(&from_env_text())
    }

    /// Settings from `NAME=value` lines (unknown names and bad values are
    /// ignored; a bad SCTPSHIM_IMPAIR is reported by the process it is in).
    pub fn parse(text: &str) -> Settings {
        let get = |name: &str| {
            text.lines()
                .filter_map(|l| l.split_once('='))
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        };
        let num = |name: &str| get(name).and_then(|v| v.parse::<u64>().ok());
        let mut c = Config::default();
        // Loopback and container networks: no need to wait 1 s for a first retransmission.
        if let Some(ms) = num("SCTPSHIM_RTO_MIN_MS") {
            c.rto_min = Duration::from_millis(ms);
        }
        if let Some(ms) = num("SCTPSHIM_RTO_MAX_MS") {
            c.rto_max = Duration::from_millis(ms);
            c.rto_min = c.rto_min.min(c.rto_max);
            c.rto_initial = c.rto_initial.min(c.rto_max);
        }
        // Association.Max.Retrans and Path.Max.Retrans: how many timeouts in
        // a row end an association (with SCTPSHIM_RTO_MAX_MS, how soon a
        // dead peer is noticed).
        if let Some(n) = num("SCTPSHIM_MAX_RETRANS").and_then(|n| u32::try_from(n).ok()) {
            c.assoc_max_retrans = n;
            c.path_max_retrans = n;
        }
        // The most associations one endpoint (bound port) holds; INITs past
        // it are answered with ABORT.
        if let Some(n) = num("SCTPSHIM_MAX_ASSOCS").filter(|&n| n > 0) {
            c.max_associations = n as usize;
        }
        // The UDP port peers are sent to until a path learns another.
        if let Some(p) = num("SCTPSHIM_REMOTE_UDP_PORT").and_then(|p| u16::try_from(p).ok()) {
            c.remote_udp_port = p;
        }
        // RFC 9260's loss detection only (no RACK, no tail loss probes).
        c.rack = get("SCTPSHIM_LOSS_RECOVERY").as_deref() != Some("rfc");
        c.nodelay = true;
        Settings {
            cfg: c,
            impair: get("SCTPSHIM_IMPAIR").and_then(|v| Spec::parse(&v).ok()),
            loopback_udp: get("SCTPSHIM_LOOPBACK").as_deref() == Some("udp"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_from_lines() {
        let s = Settings::parse(
            "SCTPSHIM_RTO_MIN_MS=20\nSCTPSHIM_MAX_RETRANS=3\nSCTPSHIM_IMPAIR=loss=5%\nSCTPSHIM_LOOPBACK=udp\nSCTPSHIM_REMOTE_UDP_PORT=9900\nSCTPSHIM_LOSS_RECOVERY=rfc\n",
        );
        assert!(!s.cfg.rack);
        assert_eq!(s.cfg.rto_min, Duration::from_millis(20));
        assert_eq!((s.cfg.assoc_max_retrans, s.cfg.path_max_retrans), (3, 3));
        assert_eq!(s.cfg.remote_udp_port, 9900);
        assert!(s.impair.is_some() && s.loopback_udp && s.cfg.nodelay);
        let d = Settings::parse("SCTPSHIM_IMPAIR=loss=lots\nSCTPSHIM_MAX_ASSOCS=0\n");
        assert!(d.impair.is_none() && !d.loopback_udp && d.cfg.rack);
        assert_eq!(d.cfg.max_associations, Config::default().max_associations);
        assert!(is_setting("SCTPSHIM_RTO_MIN_MS") && !is_setting("SCTPSHIM_ENGINE"));
    }
}
