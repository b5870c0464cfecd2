//! Chunks as raw bytes: built from a script's fields and taken apart into
//! fields for its expectations. Written apart from the engine's own codec
//! on purpose, so that a mistake there cannot hide itself here.

use std::collections::BTreeMap;

/// A field's value: a number or bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Val {
    Int(u64),
    Bytes(Vec<u8>),
}

impl Val {
    pub fn int(&self) -> Option<u64> {
        match self {
            Val::Int(v) => Some(*v),
            Val::Bytes(_) => None,
        }
    }

    pub fn bytes(&self) -> Vec<u8> {
        match self {
            Val::Int(v) => v.to_string().into_bytes(),
            Val::Bytes(b) => b.clone(),
        }
    }
}

impl std::fmt::Display for Val {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Val::Int(v) => write!(f, "{v}"),
            Val::Bytes(b) if b.iter().all(|c| c.is_ascii_graphic() || *c == b' ') => {
                write!(f, "\"{}\"", String::from_utf8_lossy(b))
            }
            Val::Bytes(b) => {
                write!(f, "x:")?;
                b.iter().try_for_each(|c| write!(f, "{c:02x}"))
            }
        }
    }
}

pub type Fields = BTreeMap<String, Val>;

/// Chunk type numbers by name (RFC 9260 §3.2 and the extensions).
pub const TYPES: &[(&str, u8)] = &[
    ("DATA", 0),
    ("INIT", 1),
    ("INIT_ACK", 2),
    ("SACK", 3),
    ("HEARTBEAT", 4),
    ("HEARTBEAT_ACK", 5),
    ("ABORT", 6),
    ("SHUTDOWN", 7),
    ("SHUTDOWN_ACK", 8),
    ("ERROR", 9),
    ("COOKIE_ECHO", 10),
    ("COOKIE_ACK", 11),
    ("ECNE", 12),
    ("CWR", 13),
    ("SHUTDOWN_COMPLETE", 14),
    ("AUTH", 15),
    ("I_DATA", 64),
    ("ASCONF_ACK", 128),
    ("RE_CONFIG", 130),
    ("PAD", 132),
    ("FORWARD_TSN", 192),
    ("ASCONF", 193),
    ("I_FORWARD_TSN", 194),
];

pub fn type_of(name: &str) -> Option<u8> {
    TYPES.iter().find(|(n, _)| *n == name).map(|&(_, t)| t)
}

pub fn name_of(t: u8) -> String {
    TYPES
        .iter()
        .find(|&&(_, x)| x == t)
        .map_or_else(|| format!("CHUNK{t}"), |(n, _)| n.to_string())
}

fn num(f: &Fields, k: &str, d: u64) -> u64 {
    f.get(k).and_then(Val::int).unwrap_or(d)
}

fn bytes(f: &Fields, k: &str) -> Vec<u8> {
    f.get(k).map(Val::bytes).unwrap_or_default()
}

/// Appends a parameter (or error cause) to a chunk's value: the one
/// before it gets its padding first. The last one's padding is the
/// chunk's, which its length field does not count (RFC 9260 §3.2).
fn add_param(body: &mut Vec<u8>, t: u16, value: &[u8]) {
    pad4(body);
    body.extend_from_slice(&t.to_be_bytes());
    body.extend_from_slice(&((4 + value.len()) as u16).to_be_bytes());
    body.extend_from_slice(value);
}

/// Raw bytes after the parameters before them, padded.
fn add_raw(body: &mut Vec<u8>, raw: &[u8]) {
    if !raw.is_empty() {
        pad4(body);
        body.extend_from_slice(raw);
    }
}

fn pad4(b: &mut Vec<u8>) {
    while !b.len().is_multiple_of(4) {
        b.push(0);
    }
}

/// A chunk named `name` from `f`. `flags`, `len` (the length field, even
/// a wrong one) and `pad=0` (no padding) apply to every chunk.
pub fn build(name: &str, f: &Fields) -> Result<Vec<u8>, String> {
    let t = match name {
        "RAW" => num(f, "type", 0) as u8,
        n => type_of(n).ok_or_else(|| format!("unknown chunk {n}"))?,
    };
    let mut flags = num(f, "flags", 0) as u8;
    let mut body = Vec::new();
    let be32 = |b: &mut Vec<u8>, v: u64| b.extend_from_slice(&(v as u32).to_be_bytes());
    let be16 = |b: &mut Vec<u8>, v: u64| b.extend_from_slice(&(v as u16).to_be_bytes());
    match name {
        "DATA" => {
            if !f.contains_key("flags") {
                flags = 3;
            }
            be32(&mut body, num(f, "tsn", 0));
            be16(&mut body, num(f, "sid", 0));
            be16(&mut body, num(f, "ssn", 0));
            be32(&mut body, num(f, "ppid", 0));
            body.extend(bytes(f, "data"));
            // size=N: N bytes of payload ('a', 'b', ... repeating).
            body.extend((0..num(f, "size", 0)).map(|i| b'a' + (i % 26) as u8));
        }
        "INIT" | "INIT_ACK" => {
            be32(&mut body, num(f, "tag", 1));
            be32(&mut body, num(f, "a_rwnd", 106496));
            be16(&mut body, num(f, "os", 10));
            be16(&mut body, num(f, "mis", 10));
            be32(&mut body, num(f, "tsn", 1));
            if let Some(c) = f.get("cookie") {
                add_param(&mut body, 7, &c.bytes());
            }
            if let Some(h) = f.get("hostname") {
                let mut n = h.bytes();
                n.push(0);
                add_param(&mut body, 11, &n);
            }
            if let Some(u) = f.get("unknown_param") {
                add_param(
                    &mut body,
                    u.int().unwrap_or(0xc000) as u16,
                    &bytes(f, "unknown_value"),
                );
            }
            add_raw(&mut body, &bytes(f, "params"));
        }
        "SACK" => {
            be32(&mut body, num(f, "cum_tsn", 0));
            be32(&mut body, num(f, "a_rwnd", 106496));
            let gaps = String::from_utf8(bytes(f, "gaps")).unwrap_or_default();
            let gaps: Vec<(u64, u64)> = gaps
                .split(',')
                .filter_map(|g| {
                    let (s, e) = g.split_once('-')?;
                    Some((s.trim().parse().ok()?, e.trim().parse().ok()?))
                })
                .collect();
            let dups = String::from_utf8(bytes(f, "dups")).unwrap_or_default();
            let dups: Vec<u64> = dups
                .split(',')
                .filter_map(|d| d.trim().parse().ok())
                .collect();
            be16(&mut body, gaps.len() as u64);
            be16(&mut body, dups.len() as u64);
            for (s, e) in gaps {
                be16(&mut body, s);
                be16(&mut body, e);
            }
            for d in dups {
                be32(&mut body, d);
            }
        }
        "HEARTBEAT" | "HEARTBEAT_ACK" => add_param(&mut body, 1, &bytes(f, "info")),
        "SHUTDOWN" => be32(&mut body, num(f, "cum_tsn", 0)),
        "COOKIE_ECHO" => body.extend(bytes(f, "cookie")),
        "ABORT" | "ERROR" => {
            if let Some(c) = f.get("cause") {
                let v = bytes(f, "cause_body");
                add_param(&mut body, c.int().unwrap_or(0) as u16, &v);
            }
            add_raw(&mut body, &bytes(f, "causes"));
        }
        "FORWARD_TSN" => be32(&mut body, num(f, "new_tsn", 0)),
        _ => body.extend(bytes(f, "body")),
    }
    let len = f
        .get("len")
        .and_then(Val::int)
        .unwrap_or(4 + body.len() as u64);
    let mut c = vec![t, flags];
    c.extend_from_slice(&(len as u16).to_be_bytes());
    c.extend(body);
    if num(f, "pad", 1) != 0 {
        while c.len() % 4 != 0 {
            c.push(0);
        }
    }
    Ok(c)
}

fn u16_at(b: &[u8], o: usize) -> u64 {
    b.get(o..o + 2)
        .map_or(0, |x| u64::from(u16::from_be_bytes([x[0], x[1]])))
}

fn u32_at(b: &[u8], o: usize) -> u64 {
    b.get(o..o + 4).map_or(0, |x| {
        u64::from(u32::from_be_bytes([x[0], x[1], x[2], x[3]]))
    })
}

/// Type-length-value items from `at` to the end of `b`: (type, length
/// field, value).
fn tlvs(b: &[u8], mut at: usize) -> Vec<(u16, u16, Vec<u8>)> {
    let mut v = Vec::new();
    while at + 4 <= b.len() {
        let t = u16_at(b, at) as u16;
        let l = u16_at(b, at + 2) as u16;
        let end = (at + usize::from(l)).min(b.len());
        v.push((t, l, b.get(at + 4..end).unwrap_or_default().to_vec()));
        if l < 4 {
            break;
        }
        at += (usize::from(l) + 3) & !3;
    }
    v
}

fn list(v: &[(u16, u16, Vec<u8>)]) -> Val {
    let s: Vec<String> = v.iter().map(|(t, _, _)| t.to_string()).collect();
    Val::Bytes(s.join(",").into_bytes())
}

/// The chunks of an SCTP packet's body (after the 12-byte common header):
/// name and fields of each.
pub fn parse(pkt: &[u8]) -> Vec<(String, Fields)> {
    let mut out = Vec::new();
    let mut at = 12;
    while at + 4 <= pkt.len() {
        let t = pkt[at];
        let len = u16_at(pkt, at + 2) as usize;
        let end = (at + len.max(4)).min(pkt.len());
        let c = &pkt[at..end];
        let mut f = Fields::new();
        f.insert("type".into(), Val::Int(u64::from(t)));
        f.insert("flags".into(), Val::Int(u64::from(pkt[at + 1])));
        f.insert("len".into(), Val::Int(len as u64));
        let mut put = |k: &str, v: Val| {
            f.insert(k.into(), v);
        };
        match t {
            0 => {
                put("tsn", Val::Int(u32_at(c, 4)));
                put("sid", Val::Int(u16_at(c, 8)));
                put("ssn", Val::Int(u16_at(c, 10)));
                put("ppid", Val::Int(u32_at(c, 12)));
                let d = c.get(16..).unwrap_or_default().to_vec();
                put("data_len", Val::Int(d.len() as u64));
                put("data", Val::Bytes(d));
            }
            1 | 2 => {
                put("tag", Val::Int(u32_at(c, 4)));
                put("a_rwnd", Val::Int(u32_at(c, 8)));
                put("os", Val::Int(u16_at(c, 12)));
                put("mis", Val::Int(u16_at(c, 14)));
                put("tsn", Val::Int(u32_at(c, 16)));
                let ps = tlvs(c, 20);
                if let Some((_, _, v)) = ps.iter().find(|(t, _, _)| *t == 7) {
                    put("cookie", Val::Bytes(v.clone()));
                }
                put("params", list(&ps));
            }
            3 => {
                put("cum_tsn", Val::Int(u32_at(c, 4)));
                put("a_rwnd", Val::Int(u32_at(c, 8)));
                let (ng, nd) = (u16_at(c, 12), u16_at(c, 14));
                put("ngaps", Val::Int(ng));
                put("ndups", Val::Int(nd));
                let gaps: Vec<String> = (0..ng as usize)
                    .map(|i| format!("{}-{}", u16_at(c, 16 + 4 * i), u16_at(c, 18 + 4 * i)))
                    .collect();
                put("gaps", Val::Bytes(gaps.join(",").into_bytes()));
                let base = 16 + 4 * ng as usize;
                let dups: Vec<String> = (0..nd as usize)
                    .map(|i| u32_at(c, base + 4 * i).to_string())
                    .collect();
                put("dups", Val::Bytes(dups.join(",").into_bytes()));
            }
            4 | 5 => {
                let ps = tlvs(c, 4);
                if let Some((_, _, v)) = ps.first() {
                    put("info", Val::Bytes(v.clone()));
                }
            }
            6 | 9 => {
                let cs = tlvs(c, 4);
                if let Some((t, l, v)) = cs.first() {
                    put("cause", Val::Int(u64::from(*t)));
                    put("cause_len", Val::Int(u64::from(*l)));
                    put("cause_body", Val::Bytes(v.clone()));
                }
                put("causes", list(&cs));
            }
            7 => put("cum_tsn", Val::Int(u32_at(c, 4))),
            10 => put(
                "cookie",
                Val::Bytes(c.get(4..).unwrap_or_default().to_vec()),
            ),
            192 => put("new_tsn", Val::Int(u32_at(c, 4))),
            _ => put("body", Val::Bytes(c.get(4..).unwrap_or_default().to_vec())),
        }
        out.push((name_of(t), f));
        if len < 4 {
            break;
        }
        at += (len + 3) & !3;
    }
    out
}

/// An SCTP packet: common header with a CRC32c (`bad_crc` flips it).
pub fn packet(sport: u16, dport: u16, vtag: u32, chunks: &[u8], bad_crc: bool) -> Vec<u8> {
    let mut p = Vec::with_capacity(12 + chunks.len());
    p.extend_from_slice(&sport.to_be_bytes());
    p.extend_from_slice(&dport.to_be_bytes());
    p.extend_from_slice(&vtag.to_be_bytes());
    p.extend_from_slice(&[0; 4]);
    p.extend_from_slice(chunks);
    let mut crc = crc32c::crc32c(&p);
    if bad_crc {
        crc ^= 0xdead_beef;
    }
    p[8..12].copy_from_slice(&crc.to_le_bytes());
    p
}

/// Whether the packet's CRC32c is right.
pub fn crc_ok(p: &[u8]) -> bool {
    if p.len() < 12 {
        return false;
    }
    let mut c = p.to_vec();
    let want = u32::from_le_bytes([p[8], p[9], p[10], p[11]]);
    c[8..12].fill(0);
    crc32c::crc32c(&c) == want
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(kv: &[(&str, Val)]) -> Fields {
        kv.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    #[test]
    fn built_chunks_parse_back() {
        let d = build(
            "DATA",
            &fields(&[
                ("tsn", Val::Int(7)),
                ("sid", Val::Int(2)),
                ("data", Val::Bytes(b"hey".to_vec())),
            ]),
        )
        .unwrap();
        let i = build(
            "INIT_ACK",
            &fields(&[("tag", Val::Int(9)), ("cookie", Val::Bytes(b"c0".to_vec()))]),
        )
        .unwrap();
        let s = build(
            "SACK",
            &fields(&[
                ("cum_tsn", Val::Int(5)),
                ("gaps", Val::Bytes(b"2-3".to_vec())),
            ]),
        )
        .unwrap();
        let mut body = d.clone();
        body.extend(&i);
        body.extend(&s);
        let pk = packet(1, 2, 3, &body, false);
        assert!(crc_ok(&pk));
        let got = parse(&pk);
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["DATA", "INIT_ACK", "SACK"]);
        assert_eq!(got[0].1["tsn"], Val::Int(7));
        assert_eq!(got[0].1["len"], Val::Int(19), "length without padding");
        assert_eq!(got[0].1["data"], Val::Bytes(b"hey".to_vec()));
        assert_eq!(got[1].1["cookie"], Val::Bytes(b"c0".to_vec()));
        assert_eq!(got[2].1["gaps"], Val::Bytes(b"2-3".to_vec()));
        assert!(!crc_ok(&packet(1, 2, 3, &body, true)));
    }

    #[test]
    fn a_wrong_length_is_sent_as_given_and_parsed_without_panic() {
        let c = build("INIT_ACK", &fields(&[("len", Val::Int(8))])).unwrap();
        assert_eq!(u16::from_be_bytes([c[2], c[3]]), 8);
        let pk = packet(1, 2, 3, &c, false);
        assert_eq!(parse(&pk)[0].1["len"], Val::Int(8));
        // Truncated or zero lengths end the walk instead of looping.
        let z = build(
            "RAW",
            &fields(&[("type", Val::Int(0x40)), ("len", Val::Int(0))]),
        )
        .unwrap();
        assert_eq!(parse(&packet(1, 2, 3, &z, false)).len(), 1);
        assert!(parse(&[0u8; 13]).is_empty());
    }
}
