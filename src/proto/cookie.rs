//! State cookie (RFC 9260 §5.1.3): everything needed to build the TCB,
//! signed with HMAC-SHA256 under a per-endpoint secret, so the responder
//! keeps no state between INIT and a valid COOKIE ECHO.
//!
//! Also the endpoint's random source, an HMAC-SHA256 counter-mode generator
//! keyed by caller-provided entropy (the core never reads the OS itself).

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::net::IpAddr;

type HmacSha256 = Hmac<Sha256>;

const MAC_LEN: usize = 32;
const FIXED_LEN: usize = 8 + 4 + 2 + 2 + 4 * 6 + 2 + 2 + 4 * 2 + 1 + 2 + 1;

/// The TCB seed carried inside a state cookie.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CookieData {
    /// Creation time, microseconds since the endpoint's epoch.
    pub created_us: u64,
    /// Lifetime granted, milliseconds (Valid.Cookie.Life plus any preservative).
    pub lifetime_ms: u32,
    pub local_port: u16,
    pub peer_port: u16,
    /// Our verification tag (the Initiate Tag of our INIT ACK).
    pub local_vtag: u32,
    /// The peer's verification tag (the Initiate Tag of its INIT).
    pub peer_vtag: u32,
    pub local_initial_tsn: u32,
    pub peer_initial_tsn: u32,
    pub peer_rwnd: u32,
    /// Tie-tags (§5.2.2), zero for a fresh association.
    pub local_tie_tag: u32,
    pub peer_tie_tag: u32,
    /// Negotiated stream counts.
    pub outbound_streams: u16,
    pub inbound_streams: u16,
    /// UDP source port the INIT came from (RFC 6951 §5.4).
    pub peer_udp_port: u16,
    /// The peer's addresses: the INIT's source first, then its listed ones.
    pub peer_addrs: Vec<IpAddr>,
    /// The Adaptation Layer Indication of the peer's INIT.
    pub peer_adaptation: Option<u32>,
}

/// Why a cookie was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CookieError {
    /// Wrong length or layout.
    Malformed,
    /// The signature does not match: forged or tampered.
    BadSignature,
    /// Genuine but older than its lifetime by `staleness_us`; `peer_vtag`
    /// addresses the Stale Cookie error to the sender.
    Stale { staleness_us: u64, peer_vtag: u32 },
}

impl CookieData {
    /// Serializes and signs the cookie.
    pub fn seal(&self, secret: &[u8; 32]) -> Vec<u8> {
        let mut out = Vec::with_capacity(FIXED_LEN + 17 * self.peer_addrs.len() + MAC_LEN);
        out.extend_from_slice(&self.created_us.to_be_bytes());
        out.extend_from_slice(&self.lifetime_ms.to_be_bytes());
        out.extend_from_slice(&self.local_port.to_be_bytes());
        out.extend_from_slice(&self.peer_port.to_be_bytes());
        for v in [
            self.local_vtag,
            self.peer_vtag,
            self.local_initial_tsn,
            self.peer_initial_tsn,
            self.peer_rwnd,
            self.local_tie_tag,
        ] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        out.extend_from_slice(&self.outbound_streams.to_be_bytes());
        out.extend_from_slice(&self.inbound_streams.to_be_bytes());
        out.extend_from_slice(&self.peer_tie_tag.to_be_bytes());
        out.extend_from_slice(&self.peer_adaptation.unwrap_or(0).to_be_bytes());
        out.push(u8::from(self.peer_adaptation.is_some()));
        out.extend_from_slice(&self.peer_udp_port.to_be_bytes());
        let n = self.peer_addrs.len().min(255);
        out.push(n as u8);
        for a in self.peer_addrs.iter().take(n) {
            match a {
                IpAddr::V4(v4) => {
                    out.push(4);
                    out.extend_from_slice(&v4.octets());
                }
                IpAddr::V6(v6) => {
                    out.push(6);
                    out.extend_from_slice(&v6.octets());
                }
            }
        }
        let tag = mac(secret, &out);
        out.extend_from_slice(&tag);
        out
    }

    /// Checks the signature first (so nothing from a forged cookie is
    /// trusted), then decodes and checks the lifetime against `now_us`.
    pub fn open(bytes: &[u8], secret: &[u8; 32], now_us: u64) -> Result<CookieData, CookieError> {
        if bytes.len() < FIXED_LEN + MAC_LEN {
            return Err(CookieError::Malformed);
        }
        let (body, tag) = bytes.split_at(bytes.len() - MAC_LEN);
        let mut m = HmacSha256::new_from_slice(secret).map_err(|_| CookieError::Malformed)?;
        m.update(body);
        m.verify_slice(tag).map_err(|_| CookieError::BadSignature)?;
        let c = decode_body(body).ok_or(CookieError::Malformed)?;
        let expires = c.created_us.saturating_add(u64::from(c.lifetime_ms) * 1000);
        if now_us > expires {
            return Err(CookieError::Stale {
                staleness_us: now_us - expires,
                peer_vtag: c.peer_vtag,
            });
        }
        Ok(c)
    }
}

fn mac(secret: &[u8; 32], body: &[u8]) -> [u8; MAC_LEN] {
    // HMAC accepts keys of any length, so construction cannot fail.
    let mut m = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
    m.update(body);
    m.finalize().into_bytes().into()
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }
    fn u16(&mut self) -> Option<u16> {
        self.take().map(u16::from_be_bytes)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take().map(u32::from_be_bytes)
    }
}

fn decode_body(body: &[u8]) -> Option<CookieData> {
    let mut r = Reader(body);
    let mut c = CookieData {
        created_us: r.take().map(u64::from_be_bytes)?,
        lifetime_ms: r.u32()?,
        local_port: r.u16()?,
        peer_port: r.u16()?,
        local_vtag: r.u32()?,
        peer_vtag: r.u32()?,
        local_initial_tsn: r.u32()?,
        peer_initial_tsn: r.u32()?,
        peer_rwnd: r.u32()?,
        local_tie_tag: r.u32()?,
        outbound_streams: r.u16()?,
        inbound_streams: r.u16()?,
        peer_tie_tag: r.u32()?,
        ..Default::default()
    };
    let adaptation = r.u32()?;
    let [has_adaptation] = r.take::<1>()?;
    c.peer_adaptation = (has_adaptation != 0).then_some(adaptation);
    c.peer_udp_port = r.u16()?;
    let [n] = r.take::<1>()?;
    for _ in 0..n {
        let [family] = r.take::<1>()?;
        let addr = match family {
            4 => IpAddr::from(r.take::<4>()?),
            6 => IpAddr::from(r.take::<16>()?),
            _ => return None,
        };
        c.peer_addrs.push(addr);
    }
    r.0.is_empty().then_some(c)
}

/// Deterministic random source: HMAC-SHA256 over a counter, keyed by entropy
/// the caller supplies (the runtime reads the OS; tests pass a fixed seed).
#[derive(Clone)]
pub struct Rng {
    key: [u8; 32],
    counter: u64,
    buf: [u8; 32],
    used: usize,
}

impl Rng {
    /// A generator keyed by `seed`.
    pub fn new(seed: [u8; 32]) -> Rng {
        Rng {
            key: seed,
            counter: 0,
            buf: [0; 32],
            used: 32,
        }
    }

    /// Fills `out` with pseudo-random bytes.
    pub fn fill(&mut self, out: &mut [u8]) {
        for b in out {
            if self.used == self.buf.len() {
                self.buf = mac(&self.key, &self.counter.to_be_bytes());
                self.counter += 1;
                self.used = 0;
            }
            *b = self.buf[self.used];
            self.used += 1;
        }
    }

    /// A random u32.
    pub fn u32(&mut self) -> u32 {
        let mut b = [0; 4];
        self.fill(&mut b);
        u32::from_be_bytes(b)
    }

    /// A random non-zero u32 (verification tags must not be zero, §5.3.1).
    pub fn nonzero_u32(&mut self) -> u32 {
        loop {
            let v = self.u32();
            if v != 0 {
                return v;
            }
        }
    }

    /// 32 random bytes (a cookie secret).
    pub fn key(&mut self) -> [u8; 32] {
        let mut k = [0; 32];
        self.fill(&mut k);
        k
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CookieData {
        CookieData {
            created_us: 5_000_000,
            lifetime_ms: 60_000,
            local_port: 5000,
            peer_port: 40000,
            local_vtag: 0xdead_beef,
            peer_vtag: 0x0102_0304,
            local_initial_tsn: 7,
            peer_initial_tsn: u32::MAX,
            peer_rwnd: 65536,
            local_tie_tag: 1,
            peer_tie_tag: 2,
            outbound_streams: 10,
            inbound_streams: 65535,
            peer_udp_port: 40000,
            peer_addrs: vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()],
            peer_adaptation: Some(0xfeed),
        }
    }

    #[test]
    fn seal_open_round_trip() {
        let k = [9; 32];
        let c = sample();
        assert_eq!(CookieData::open(&c.seal(&k), &k, 5_000_001), Ok(c));
        let none = CookieData {
            peer_adaptation: None,
            ..sample()
        };
        assert_eq!(CookieData::open(&none.seal(&k), &k, 5_000_001), Ok(none));
    }

    #[test]
    fn tampered_cookie_is_rejected() {
        let k = [9; 32];
        let sealed = sample().seal(&k);
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x40;
            assert_eq!(
                CookieData::open(&bad, &k, 5_000_001),
                Err(CookieError::BadSignature),
                "byte {i}"
            );
        }
    }

    #[test]
    fn wrong_secret_is_rejected() {
        let sealed = sample().seal(&[9; 32]);
        assert_eq!(
            CookieData::open(&sealed, &[8; 32], 0),
            Err(CookieError::BadSignature)
        );
    }

    #[test]
    fn expired_cookie_reports_staleness() {
        let k = [1; 32];
        let sealed = sample().seal(&k);
        let now = 5_000_000 + 60_000_000 + 1234;
        assert_eq!(
            CookieData::open(&sealed, &k, now),
            Err(CookieError::Stale {
                staleness_us: 1234,
                peer_vtag: 0x0102_0304
            })
        );
    }

    #[test]
    fn short_or_garbage_cookie_is_malformed_or_unsigned() {
        let k = [1; 32];
        assert_eq!(CookieData::open(&[], &k, 0), Err(CookieError::Malformed));
        assert_eq!(
            CookieData::open(&[0; 10], &k, 0),
            Err(CookieError::Malformed)
        );
        assert_eq!(
            CookieData::open(&[0; 200], &k, 0),
            Err(CookieError::BadSignature)
        );
    }

    #[test]
    fn rng_is_deterministic_and_varied() {
        let mut a = Rng::new([3; 32]);
        let mut b = Rng::new([3; 32]);
        let xs: Vec<u32> = (0..20).map(|_| a.u32()).collect();
        let ys: Vec<u32> = (0..20).map(|_| b.u32()).collect();
        assert_eq!(xs, ys);
        let mut dedup = xs.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!(dedup.len(), xs.len());
        assert_ne!(Rng::new([4; 32]).u32(), xs[0]);
    }
}
