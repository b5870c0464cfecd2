//! The script language: one step per line.
//!
//! ```text
//! # comment
//! call socket stream => ret=$fd       helper call; expectations on its answer
//! call& connect $fd $PEER_PORT        helper call answered later ...
//! wait => ret=0                       ... here
//! send [vtag=V] [crc=bad] [sport=P] [dport=P] CHUNK(field=value, ...) ...
//! expect [within=MS] [vtag=V] CHUNK(field=value, ...) ... [...]
//! expect none [within=MS]
//! sleep MS
//! set $name = value
//! ```
//!
//! Values: numbers (decimal or 0x hex), "text", x:hexbytes, `*` (anything),
//! `$name` (bound on first use, compared after), `A..B` (a range). In an
//! expectation the chunks must come in one packet in that order; a
//! trailing `...` allows more chunks after them.

use crate::chunks::Fields;

/// A value as written in a script.
#[derive(Clone, Debug)]
pub enum Pat {
    Any,
    Var(String),
    Lit(crate::chunks::Val),
    Range(u64, u64),
    /// `$name+N` / `$name-N`: a bound number plus N (32-bit wrapping, as
    /// TSNs and tags).
    Expr(String, i64),
    /// `~X` / `!~X`: a comma-separated list (params, causes, gaps, dups)
    /// has (or has not) the item X.
    Has(String, bool),
}

#[derive(Clone, Debug)]
pub struct ChunkSpec {
    pub name: String,
    pub fields: Vec<(String, Pat)>,
}

#[derive(Clone, Debug)]
pub enum Step {
    Call {
        line: String,
        later: bool,
        want: Vec<(String, Pat)>,
    },
    Wait(Vec<(String, Pat)>),
    Send {
        opts: Vec<(String, Pat)>,
        chunks: Vec<ChunkSpec>,
    },
    Expect {
        opts: Vec<(String, Pat)>,
        chunks: Vec<ChunkSpec>,
        more: bool,
    },
    ExpectNone(u64),
    Sleep(u64),
    Set(String, Pat),
    /// `linux-differs REASON`: Linux's own SCTP answers otherwise (the RFC
    /// allows both); scripts/conformance-linux.sh skips the script.
    LinuxDiffers(String),
}

/// One parsed line, with its number for messages.
pub struct Line {
    pub no: usize,
    pub step: Step,
}

pub fn parse_value(s: &str) -> Result<Pat, String> {
    use crate::chunks::Val;
    let s = s.trim();
    Ok(if s == "*" {
        Pat::Any
    } else if let Some(x) = s.strip_prefix("!~") {
        Pat::Has(x.to_string(), false)
    } else if let Some(x) = s.strip_prefix('~') {
        Pat::Has(x.to_string(), true)
    } else if let Some(v) = s.strip_prefix('$') {
        match v.find(['+', '-']) {
            Some(i) => {
                let d = int(&v[i + 1..])? as i64;
                Pat::Expr(v[..i].to_string(), if &v[i..=i] == "-" { -d } else { d })
            }
            None => Pat::Var(v.to_string()),
        }
    } else if let Some(q) = s.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
        Pat::Lit(Val::Bytes(unescape(q)))
    } else if let Some(h) = s.strip_prefix("x:") {
        Pat::Lit(Val::Bytes(hex(h)?))
    } else if let Some((a, b)) = s.split_once("..") {
        Pat::Range(int(a)?, int(b)?)
    } else if let Ok(v) = int(s) {
        Pat::Lit(Val::Int(v))
    } else {
        // A bare word (an errno name, a state): compared as text.
        Pat::Lit(Val::Bytes(s.as_bytes().to_vec()))
    })
}

fn unescape(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut it = s.bytes();
    while let Some(c) = it.next() {
        if c == b'\\' {
            match it.next() {
                Some(b'n') => out.push(b'\n'),
                Some(b'0') => out.push(0),
                Some(x) => out.push(x),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

pub fn int(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let r = match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16),
        None => s.parse(),
    };
    r.map_err(|_| format!("not a number: {s}"))
}

pub fn hex(s: &str) -> Result<Vec<u8>, String> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if !s.len().is_multiple_of(2) {
        return Err(format!("odd hex: {s}"));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|_| format!("bad hex: {s}")))
        .collect()
}

/// Splits on `sep` outside quotes and parentheses.
fn split_top(s: &str, sep: char) -> Vec<String> {
    let (mut out, mut cur, mut depth, mut quoted) = (Vec::new(), String::new(), 0, false);
    for c in s.chars() {
        match c {
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            _ => {}
        }
        if c == sep && depth == 0 && !quoted {
            if !cur.trim().is_empty() {
                out.push(cur.trim().to_string());
            }
            cur.clear();
        } else {
            cur.push(c);
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

fn pairs(items: &[String]) -> Result<Vec<(String, Pat)>, String> {
    items
        .iter()
        .map(|kv| {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| format!("want key=value: {kv}"))?;
            Ok((k.trim().to_string(), parse_value(v)?))
        })
        .collect()
}

fn chunk(tok: &str) -> Result<ChunkSpec, String> {
    let (name, inner) = match tok.split_once('(') {
        Some((n, rest)) => (
            n,
            rest.strip_suffix(')')
                .ok_or_else(|| format!("unclosed: {tok}"))?,
        ),
        None => (tok, ""),
    };
    Ok(ChunkSpec {
        name: name.trim().to_string(),
        fields: pairs(&split_top(inner, ','))?,
    })
}

/// Options (key=value words) first, then chunks.
/// key=value pairs of a step.
pub type Pairs = Vec<(String, Pat)>;

fn opts_and_chunks(words: &[String]) -> Result<(Pairs, Vec<ChunkSpec>, bool), String> {
    let mut opts = Vec::new();
    let mut chunks = Vec::new();
    let mut more = false;
    for w in words {
        if w == "..." {
            more = true;
        } else if !w.contains('(') && w.contains('=') && chunks.is_empty() {
            opts.extend(pairs(std::slice::from_ref(w))?);
        } else {
            chunks.push(chunk(w)?);
        }
    }
    Ok((opts, chunks, more))
}

pub fn parse(text: &str) -> Result<Vec<Line>, String> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let no = i + 1;
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let err = |e: String| format!("line {no}: {e}");
        let (head, rest) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
        let rest = rest.trim();
        let step = match head {
            "call" | "call&" => {
                let (line, want) = match rest.split_once("=>") {
                    Some((c, w)) => (c.trim(), pairs(&split_top(w, ' ')).map_err(err)?),
                    None => (rest, Vec::new()),
                };
                Step::Call {
                    line: line.to_string(),
                    later: head == "call&",
                    want,
                }
            }
            "wait" => {
                let w = rest.strip_prefix("=>").unwrap_or(rest);
                Step::Wait(pairs(&split_top(w, ' ')).map_err(err)?)
            }
            "send" => {
                let (opts, chunks, _) = opts_and_chunks(&split_top(rest, ' ')).map_err(err)?;
                Step::Send { opts, chunks }
            }
            "expect" if rest.starts_with("none") => {
                let w = split_top(rest.trim_start_matches("none"), ' ');
                let o = pairs(&w).map_err(err)?;
                let ms = o
                    .iter()
                    .find(|(k, _)| k == "within")
                    .and_then(|(_, v)| match v {
                        Pat::Lit(x) => x.int(),
                        _ => None,
                    })
                    .unwrap_or(500);
                Step::ExpectNone(ms)
            }
            "expect" => {
                let (opts, chunks, more) = opts_and_chunks(&split_top(rest, ' ')).map_err(err)?;
                if chunks.is_empty() {
                    // (An expectation that anything matches cannot fail.)
                    return Err(err("expect names its chunks (or says none)".into()));
                }
                Step::Expect { opts, chunks, more }
            }
            "sleep" => Step::Sleep(int(rest).map_err(err)?),
            "linux-differs" => Step::LinuxDiffers(rest.trim().to_string()),
            "set" => {
                let (k, v) = rest
                    .split_once('=')
                    .ok_or_else(|| err("set $name = value".into()))?;
                let k = k.trim().trim_start_matches('$').to_string();
                Step::Set(k, parse_value(v).map_err(err)?)
            }
            other => return Err(err(format!("unknown step {other}"))),
        };
        out.push(Line { no, step });
    }
    Ok(out)
}

/// Fields of a chunk to build, with variables already resolved.
pub fn fields_of(
    spec: &ChunkSpec,
    resolve: &dyn Fn(&Pat) -> Result<crate::chunks::Val, String>,
) -> Result<Fields, String> {
    spec.fields
        .iter()
        .map(|(k, p)| Ok((k.clone(), resolve(p)?)))
        .collect()
}
