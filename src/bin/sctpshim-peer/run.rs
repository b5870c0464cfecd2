//! Runs one script: the peer's UDP socket, the helper process under the
//! shim, the variables, and the steps in order.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::UdpSocket;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use crate::chunks::{self, Fields, Val};
use crate::script::{ChunkSpec, Pat, Step};

/// How long a helper call may take before the script fails.
const CALL_LIMIT: Duration = Duration::from_secs(10);
/// An expectation's default time limit.
const EXPECT_MS: u64 = 1000;

pub struct Setup {
    pub shim_port: u16,
    pub peer_port: u16,
    /// The UDP port the shim's packets go to first (its SCTP port, or the
    /// guest's forwarded port).
    pub shim_udp: u16,
    pub verbose: bool,
}

/// The program that makes the local socket calls: the helper under the
/// shim (one per script), or the helper on Linux's own SCTP in a qemu
/// guest (one guest for the whole run, a new helper per script).
pub struct Helper {
    child: Child,
    to: ChildStdin,
    answers: Receiver<String>,
    guest: bool,
}

impl Helper {
    pub fn local(lib: &str, helper: &str) -> Result<Helper, String> {
        let mut c = Command::new(helper);
        c.env("LD_PRELOAD", lib)
            .env("SCTPSHIM_ENGINE", "thread")
            .env_remove("SCTPSHIM_UDP_PORT")
            .env_remove("SCTPSHIM_REMOTE_UDP_PORT");
        // The scripts check RFC 9260's own loss detection and timing (as
        // Linux has it): the shim's RACK and tail loss probes would resend
        // sooner, unless the run asks for them.
        if std::env::var_os("SCTPSHIM_LOSS_RECOVERY").is_none() {
            c.env("SCTPSHIM_LOSS_RECOVERY", "rfc");
        }
        Helper::start(c, false, false)
    }

    /// `cmd` (run by sh) boots the guest, whose console runs helpers one
    /// after another; each says READY when it starts.
    pub fn guest(cmd: &str, verbose: bool) -> Result<Helper, String> {
        let mut c = Command::new("sh");
        c.arg("-c").arg(cmd);
        let h = Helper::start(c, true, verbose)?;
        h.answers
            .recv_timeout(Duration::from_secs(120))
            .map_err(|_| "the guest did not start its helper".to_string())?;
        Ok(h)
    }

    fn start(mut c: Command, guest: bool, verbose: bool) -> Result<Helper, String> {
        let mut child = c
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("helper: {e}"))?;
        let to = child.stdin.take().ok_or("helper stdin")?;
        let out = child.stdout.take().ok_or("helper stdout")?;
        let (tx, answers) = channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                // The guest's console also carries the kernel's lines.
                let l = l.trim_end_matches('\r').to_string();
                if guest && !l.starts_with("ret=") && l != "READY" {
                    if verbose {
                        eprintln!("  guest: {l}");
                    }
                    continue;
                }
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        Ok(Helper {
            child,
            to,
            answers,
            guest,
        })
    }

    /// Ends this script's helper; a guest starts the next one.
    pub fn finish(&mut self) -> Result<(), String> {
        if !self.guest {
            let _ = self.child.kill();
            let _ = self.child.wait();
            return Ok(());
        }
        while self.answers.try_recv().is_ok() {}
        writeln!(self.to, "quit").map_err(|e| format!("helper: {e}"))?;
        self.to.flush().map_err(|e| format!("helper: {e}"))?;
        loop {
            match self.answers.recv_timeout(CALL_LIMIT) {
                Ok(l) if l == "READY" => return Ok(()),
                Ok(_) => {}
                Err(_) => return Err("the guest did not start the next helper".into()),
            }
        }
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Peer<'a> {
    udp: &'a UdpSocket,
    helper: &'a mut Helper,
    vars: HashMap<String, Val>,
    /// The SCTP ports this script's peer used: a guest's packets to others
    /// are left over from earlier scripts.
    ports: Vec<u16>,
    /// UDP port and SCTP port of the shim, as last seen.
    shim_udp: u16,
    shim_sctp: u16,
    pending: bool,
    log: Vec<String>,
    verbose: bool,
}

/// Runs `steps`; Err names the failing line and what differed.
pub fn run(
    steps: &[crate::script::Line],
    s: &Setup,
    udp: &UdpSocket,
    helper: &mut Helper,
) -> Result<(), String> {
    let mut vars = HashMap::new();
    vars.insert("SHIM_PORT".into(), Val::Int(u64::from(s.shim_port)));
    vars.insert("PEER_PORT".into(), Val::Int(u64::from(s.peer_port)));
    let mut p = Peer {
        udp,
        helper,
        vars,
        ports: vec![s.peer_port],
        shim_udp: s.shim_udp,
        shim_sctp: s.shim_port,
        pending: false,
        log: Vec::new(),
        verbose: s.verbose,
    };
    for l in steps {
        if let Err(e) = p.step(&l.step) {
            let tail: Vec<&String> = p.log.iter().rev().take(8).collect();
            let mut msg = format!("line {}: {e}", l.no);
            for t in tail.into_iter().rev() {
                msg.push_str("\n      ");
                msg.push_str(t);
            }
            return Err(msg);
        }
    }
    Ok(())
}

impl Peer<'_> {
    fn note(&mut self, s: String) {
        if self.verbose {
            eprintln!("  {s}");
        }
        self.log.push(s);
    }

    fn resolve(&self, p: &Pat) -> Result<Val, String> {
        match p {
            Pat::Lit(v) => Ok(v.clone()),
            Pat::Var(n) => self
                .vars
                .get(n)
                .cloned()
                .ok_or_else(|| format!("${n} is not set")),
            Pat::Expr(n, d) => {
                let v = self
                    .vars
                    .get(n)
                    .and_then(Val::int)
                    .ok_or_else(|| format!("${n} is not a set number"))?;
                Ok(Val::Int(u64::from((v as u32).wrapping_add(*d as u32))))
            }
            Pat::Any | Pat::Range(..) | Pat::Has(..) => {
                Err("a pattern where a value is needed".into())
            }
        }
    }

    /// Whether `got` matches `want`, binding unset variables.
    fn matches(&mut self, want: &Pat, got: &Val) -> bool {
        match want {
            Pat::Any => true,
            Pat::Range(a, b) => got.int().is_some_and(|v| (*a..=*b).contains(&v)),
            Pat::Var(n) => match self.vars.get(n) {
                Some(v) => same(v, got),
                None => {
                    self.vars.insert(n.clone(), got.clone());
                    true
                }
            },
            Pat::Lit(v) => same(v, got),
            Pat::Expr(..) => self.resolve(want).is_ok_and(|v| same(&v, got)),
            Pat::Has(x, yes) => {
                let list = String::from_utf8_lossy(&got.bytes()).into_owned();
                list.split(',').any(|i| i == x) == *yes
            }
        }
    }

    fn step(&mut self, st: &Step) -> Result<(), String> {
        match st {
            Step::Call { line, later, want } => {
                if self.pending {
                    return Err("a call while another waits for its answer (wait first)".into());
                }
                let line = self.substitute(line)?;
                self.note(format!("call {line}"));
                writeln!(self.helper.to, "{line}").map_err(|e| format!("helper: {e}"))?;
                self.helper.to.flush().map_err(|e| format!("helper: {e}"))?;
                self.pending = true;
                if *later {
                    return Ok(());
                }
                self.answer(want)
            }
            Step::Wait(want) => self.answer(want),
            Step::Send { opts, chunks } => self.send(opts, chunks),
            Step::Expect { opts, chunks, more } => self.expect(opts, chunks, *more),
            Step::ExpectNone(ms) => match self.recv(*ms)? {
                None => Ok(()),
                Some(pk) => Err(format!("a packet came: {}", describe(&pk))),
            },
            Step::Sleep(ms) => {
                std::thread::sleep(Duration::from_millis(*ms));
                Ok(())
            }
            Step::LinuxDiffers(_) => Ok(()),
            Step::Set(k, v) => {
                let v = self.resolve(v)?;
                self.vars.insert(k.clone(), v);
                Ok(())
            }
        }
    }

    fn substitute(&self, line: &str) -> Result<String, String> {
        line.split(' ')
            .map(|w| match w.strip_prefix('$') {
                Some(n) => self
                    .vars
                    .get(n)
                    .map(|v| match v {
                        Val::Int(i) => i.to_string(),
                        Val::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
                    })
                    .ok_or_else(|| format!("${n} is not set")),
                None => Ok(w.to_string()),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|v| v.join(" "))
    }

    fn answer(&mut self, want: &[(String, Pat)]) -> Result<(), String> {
        if !self.pending {
            return Err("no call waits for its answer".into());
        }
        let a = self
            .helper
            .answers
            .recv_timeout(CALL_LIMIT)
            .map_err(|_| "the helper did not answer".to_string())?;
        self.pending = false;
        self.note(format!("  -> {a}"));
        let got = answer_fields(&a);
        for (k, p) in want {
            let Some(v) = got.get(k) else {
                return Err(format!("answer has no {k}: {a}"));
            };
            if !self.matches(p, v) {
                return Err(format!("answer {k}={v}, want {}: {a}", show(p)));
            }
        }
        Ok(())
    }

    fn send(&mut self, opts: &[(String, Pat)], specs: &[ChunkSpec]) -> Result<(), String> {
        let opt = |k: &str| opts.iter().find(|(x, _)| x == k).map(|(_, p)| p);
        let num = |me: &Self, k: &str, d: u64| -> Result<u64, String> {
            match opt(k) {
                Some(p) => me
                    .resolve(p)?
                    .int()
                    .ok_or_else(|| format!("{k} is not a number")),
                None => Ok(d),
            }
        };
        let vtag = num(self, "vtag", 0)? as u32;
        let sport = num(self, "sport", self.vars["PEER_PORT"].int().unwrap_or(0))? as u16;
        let dport = num(self, "dport", u64::from(self.shim_sctp))? as u16;
        let bad_crc = matches!(opt("crc"), Some(Pat::Lit(Val::Bytes(b))) if b == b"bad");
        let mut body = Vec::new();
        let mut names = Vec::new();
        for c in specs {
            let f = crate::script::fields_of(c, &|p| self.resolve(p))?;
            body.extend(chunks::build(&c.name, &f)?);
            names.push(c.name.clone());
        }
        if !self.ports.contains(&sport) {
            self.ports.push(sport);
        }
        let pk = chunks::packet(sport, dport, vtag, &body, bad_crc);
        self.note(format!("send vtag={vtag:#x} {}", names.join(" ")));
        self.udp
            .send_to(&pk, ("127.0.0.1", self.shim_udp))
            .map_err(|e| format!("send: {e}"))?;
        Ok(())
    }

    fn recv(&mut self, ms: u64) -> Result<Option<Vec<u8>>, String> {
        let mut buf = vec![0u8; 65536];
        let deadline = clock() + Duration::from_millis(ms.max(1));
        loop {
            let left = deadline.saturating_duration_since(clock());
            if left.is_zero() {
                return Ok(None);
            }
            self.udp
                .set_read_timeout(Some(left))
                .map_err(|e| e.to_string())?;
            let got = self.recv_one(&mut buf)?;
            let Some((pk, from)) = got else {
                return Ok(None);
            };
            if pk.len() < 4 {
                continue;
            }
            // Left over from an earlier script (to another port).
            if self.helper.guest && !self.ports.contains(&u16::from_be_bytes([pk[2], pk[3]])) {
                self.note(format!("ignored {}", describe(&pk)));
                continue;
            }
            self.shim_udp = from;
            self.shim_sctp = u16::from_be_bytes([pk[0], pk[1]]);
            self.note(format!("got {}", describe(&pk)));
            return Ok(Some(pk));
        }
    }

    fn recv_one(&mut self, buf: &mut [u8]) -> Result<Option<(Vec<u8>, u16)>, String> {
        match self.udp.recv_from(buf) {
            Ok((n, from)) => Ok(Some((buf[..n].to_vec(), from.port()))),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(format!("recv: {e}")),
        }
    }

    fn expect(
        &mut self,
        opts: &[(String, Pat)],
        specs: &[ChunkSpec],
        more: bool,
    ) -> Result<(), String> {
        let within = opts
            .iter()
            .find(|(k, _)| k == "within")
            .and_then(|(_, p)| self.resolve(p).ok()?.int())
            .unwrap_or(EXPECT_MS);
        let pk = self
            .recv(within)?
            .ok_or_else(|| format!("no packet within {within} ms"))?;
        if !chunks::crc_ok(&pk) {
            return Err("the packet's CRC32c is wrong".into());
        }
        let head: Fields = [
            ("sport", u64::from(u16::from_be_bytes([pk[0], pk[1]]))),
            ("dport", u64::from(u16::from_be_bytes([pk[2], pk[3]]))),
            (
                "vtag",
                u64::from(u32::from_be_bytes([pk[4], pk[5], pk[6], pk[7]])),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), Val::Int(v)))
        .collect();
        let any_order = opts.iter().any(|(k, _)| k == "order");
        for (k, p) in opts.iter().filter(|(k, _)| k != "within" && k != "order") {
            let got = head.get(k).ok_or_else(|| format!("no header field {k}"))?;
            if !self.matches(p, got) {
                return Err(format!("{k}={got}, want {}: {}", show(p), describe(&pk)));
            }
        }
        let got = chunks::parse(&pk);
        if got.len() < specs.len() || (!more && got.len() != specs.len()) {
            return Err(format!("want {}: {}", spec_names(specs), describe(&pk)));
        }
        // order=any: each wanted chunk matches one of the packet's chunks,
        // in any order (the RFC leaves the bundling order open).
        let mut used = vec![false; got.len()];
        for (i, spec) in specs.iter().enumerate() {
            let candidates: Vec<usize> = if any_order {
                (0..got.len())
                    .filter(|&j| !used[j] && got[j].0 == spec.name)
                    .collect()
            } else {
                vec![i]
            };
            let mut last = Err(format!("want {}: {}", spec_names(specs), describe(&pk)));
            for j in candidates {
                let saved = self.vars.clone();
                last = self.chunk_matches(spec, &got[j], &pk);
                if last.is_ok() {
                    used[j] = true;
                    break;
                }
                self.vars = saved;
            }
            last?;
        }
        Ok(())
    }

    fn chunk_matches(
        &mut self,
        spec: &ChunkSpec,
        (name, fields): &(String, Fields),
        pk: &[u8],
    ) -> Result<(), String> {
        if &spec.name != name {
            return Err(format!("want {}: {}", spec.name, describe(pk)));
        }
        for (k, p) in &spec.fields {
            let Some(v) = fields.get(k) else {
                return Err(format!("{name} has no {k}: {}", describe(pk)));
            };
            if !self.matches(p, v) {
                return Err(format!(
                    "{name} {k}={v}, want {}: {}",
                    show(p),
                    describe(pk)
                ));
            }
        }
        Ok(())
    }
}

/// The tool's own clock (a test driver, not the sans-IO core).
#[allow(clippy::disallowed_methods)]
fn clock() -> std::time::Instant {
    std::time::Instant::now()
}

fn same(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::Int(x), Val::Int(y)) => x == y,
        (Val::Int(x), Val::Bytes(y)) | (Val::Bytes(y), Val::Int(x)) => {
            std::str::from_utf8(y)
                .ok()
                .and_then(|s| crate::script::int(s).ok())
                == Some(*x)
        }
        (Val::Bytes(x), Val::Bytes(y)) => x == y,
    }
}

fn show(p: &Pat) -> String {
    match p {
        Pat::Any => "*".into(),
        Pat::Var(n) => format!("${n}"),
        Pat::Lit(v) => v.to_string(),
        Pat::Range(a, b) => format!("{a}..{b}"),
        Pat::Expr(n, d) => format!("${n}{d:+}"),
        Pat::Has(x, yes) => format!("{}~{x}", if *yes { "" } else { "!" }),
    }
}

fn spec_names(specs: &[ChunkSpec]) -> String {
    specs
        .iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A packet in one line: its tag and each chunk with its fields.
pub fn describe(pk: &[u8]) -> String {
    if pk.len() < 12 {
        return format!("{} bytes", pk.len());
    }
    let vtag = u32::from_be_bytes([pk[4], pk[5], pk[6], pk[7]]);
    let mut s = format!("vtag={vtag:#x}");
    for (name, f) in chunks::parse(pk) {
        let fs: Vec<String> = f
            .iter()
            .filter(|(k, _)| *k != "type" && *k != "cookie" && *k != "info" && *k != "body")
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        s.push_str(&format!(" {name}({})", fs.join(",")));
    }
    s
}

/// The helper's answer line as fields: `key=value` words (values may be
/// quoted).
fn answer_fields(a: &str) -> Fields {
    let mut f = Fields::new();
    let mut rest = a.trim();
    while !rest.is_empty() {
        let Some((k, r)) = rest.split_once('=') else {
            break;
        };
        let (v, r) = if let Some(q) = r.strip_prefix('"') {
            match q.find('"') {
                Some(e) => (q[..e].to_string(), &q[e + 1..]),
                None => (q.to_string(), ""),
            }
        } else {
            match r.split_once(' ') {
                Some((v, r)) => (v.to_string(), r),
                None => (r.to_string(), ""),
            }
        };
        let val = match crate::script::int(&v) {
            Ok(i) if !v.starts_with('-') => Val::Int(i),
            _ => Val::Bytes(v.into_bytes()),
        };
        f.insert(k.trim().to_string(), val);
        rest = r.trim();
    }
    f
}
