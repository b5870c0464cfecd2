//! Built-in network impairment (`SCTPSHIM_IMPAIR`), applied to every UDP
//! datagram the engine sends and receives, so one process alone sees both
//! directions impaired: loss, duplication, reordering, delay with jitter and
//! corruption (one flipped bit, which the receiver's CRC32c must catch).
//! Seeded, so a run can be repeated. For testing SCTP applications under
//! loss without root; see the README.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// What `SCTPSHIM_IMPAIR` asks for, e.g.
/// `loss=5%,dup=1%,reorder=2%,delay=20ms,jitter=5ms,corrupt=0.1%,seed=1`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Spec {
    pub loss: f64,
    pub dup: f64,
    pub reorder: f64,
    pub corrupt: f64,
    pub delay: Duration,
    pub jitter: Duration,
    pub seed: u64,
}

fn percent(v: &str) -> Result<f64, String> {
    let n = v.strip_suffix('%').unwrap_or(v);
    let x: f64 = n.parse().map_err(|_| format!("not a percentage: {v}"))?;
    if !(0.0..=100.0).contains(&x) {
        return Err(format!("out of 0..100%: {v}"));
    }
    Ok(x / 100.0)
}

fn duration(v: &str) -> Result<Duration, String> {
    let (n, unit) = if let Some(n) = v.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = v.strip_suffix("us") {
        (n, 1e-6)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1.0)
    } else {
        (v, 1e-3)
    };
    let x: f64 = n.parse().map_err(|_| format!("not a duration: {v}"))?;
    if !(0.0..=60.0 / unit).contains(&x) {
        return Err(format!("out of range: {v}"));
    }
    Ok(Duration::from_secs_f64(x * unit))
}

impl Spec {
    /// Parses `key=value` pairs separated by commas.
    pub fn parse(s: &str) -> Result<Spec, String> {
        let mut spec = Spec {
            seed: 1,
            ..Default::default()
        };
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (k, v) = item
                .split_once('=')
                .ok_or_else(|| format!("expected key=value: {item}"))?;
            match k.trim() {
                "loss" => spec.loss = percent(v)?,
                "dup" => spec.dup = percent(v)?,
                "reorder" => spec.reorder = percent(v)?,
                "corrupt" => spec.corrupt = percent(v)?,
                "delay" => spec.delay = duration(v)?,
                "jitter" => spec.jitter = duration(v)?,
                "seed" => spec.seed = v.parse().map_err(|_| format!("bad seed: {v}"))?,
                other => return Err(format!("unknown key: {other}")),
            }
        }
        Ok(spec)
    }
}

/// A datagram held back until `at`.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Held {
    at: Instant,
    seq: u64,
    port: u16,
    addr: SocketAddr,
    data: Vec<u8>,
}

/// The impairment state of one engine: its random source and the datagrams
/// it holds back in each direction.
#[derive(Debug)]
pub struct Impair {
    spec: Spec,
    rng: u64,
    seq: u64,
    outbound: BinaryHeap<Reverse<Held>>,
    inbound: BinaryHeap<Reverse<Held>>,
}

/// What to do with one datagram now: deliver (or send) these copies now;
/// the rest, if any, is held.
pub type Now = Vec<Vec<u8>>;

impl Impair {
    pub fn new(spec: Spec) -> Impair {
        Impair {
            rng: spec.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1,
            spec,
            seq: 0,
            outbound: BinaryHeap::new(),
            inbound: BinaryHeap::new(),
        }
    }

    fn next(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.fraction() < p
    }

    fn fraction(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Applies the impairment to one datagram (`inbound`: received, else
    /// about to be sent): the copies to pass on now; delayed ones are held.
    pub fn apply(
        &mut self,
        t: Instant,
        inbound: bool,
        port: u16,
        addr: SocketAddr,
        data: &[u8],
    ) -> Now {
        let mut now = Vec::new();
        if self.chance(self.spec.loss) {
            return now;
        }
        let copies = if self.chance(self.spec.dup) { 2 } else { 1 };
        for _ in 0..copies {
            let mut d = data.to_vec();
            if !d.is_empty() && self.chance(self.spec.corrupt) {
                let bit = (self.next() % (d.len() as u64 * 8)) as usize;
                d[bit / 8] ^= 1 << (bit % 8);
            }
            let mut wait = self.spec.delay;
            if !self.spec.jitter.is_zero() {
                wait += self.spec.jitter.mul_f64(self.fraction());
            }
            if self.chance(self.spec.reorder) {
                // Held back long enough for later datagrams to overtake it.
                wait += Duration::from_millis(5) + self.spec.delay.max(Duration::from_millis(5));
            }
            if wait.is_zero() {
                now.push(d);
                continue;
            }
            self.seq += 1;
            let h = Held {
                at: t + wait,
                seq: self.seq,
                port,
                addr,
                data: d,
            };
            if inbound {
                self.inbound.push(Reverse(h));
            } else {
                self.outbound.push(Reverse(h));
            }
        }
        now
    }

    /// The held datagrams due at `t`, in one direction: (port, addr, data).
    pub fn due(&mut self, t: Instant, inbound: bool) -> Vec<(u16, SocketAddr, Vec<u8>)> {
        let heap = if inbound {
            &mut self.inbound
        } else {
            &mut self.outbound
        };
        let mut out = Vec::new();
        while heap.peek().is_some_and(|Reverse(h)| h.at <= t) {
            if let Some(Reverse(h)) = heap.pop() {
                out.push((h.port, h.addr, h.data));
            }
        }
        out
    }

    /// When the next held datagram is due.
    pub fn next_due(&self) -> Option<Instant> {
        let a = self.inbound.peek().map(|Reverse(h)| h.at);
        let b = self.outbound.peek().map(|Reverse(h)| h.at);
        a.into_iter().chain(b).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_form() {
        let s = Spec::parse("loss=5%,dup=1%,reorder=2%,delay=20ms,jitter=5ms,corrupt=0.1%,seed=7")
            .unwrap();
        assert!((s.loss - 0.05).abs() < 1e-12 && (s.corrupt - 0.001).abs() < 1e-12);
        assert_eq!(
            (s.delay, s.jitter, s.seed),
            (Duration::from_millis(20), Duration::from_millis(5), 7)
        );
        assert_eq!(Spec::parse("").unwrap().seed, 1);
        for bad in ["loss=5", "loss=150%", "x=1", "delay=abc", "loss"] {
            if bad == "loss=5" {
                // A bare number is a percentage too.
                assert!(Spec::parse(bad).is_ok());
                continue;
            }
            assert!(Spec::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn loss_dup_corrupt_and_delay_at_the_asked_rates() {
        #[allow(clippy::disallowed_methods)]
        let t0 = Instant::now();
        let spec = Spec::parse("loss=10%,dup=5%,corrupt=10%,seed=3").unwrap();
        let mut im = Impair::new(spec.clone());
        let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let data = [0u8; 100];
        let (mut passed, mut corrupted) = (0, 0);
        for _ in 0..10_000 {
            for d in im.apply(t0, false, 1, addr, &data) {
                passed += 1;
                corrupted += usize::from(d != data);
            }
        }
        // 10% lost, 5% of the rest doubled: about 9450 copies.
        assert!((9200..9700).contains(&passed), "{passed}");
        assert!((800..1100).contains(&corrupted), "{corrupted}");
        // The same seed gives the same run.
        let mut again = Impair::new(spec);
        let first: Vec<usize> = (0..50)
            .map(|_| again.apply(t0, false, 1, addr, &data).len())
            .collect();
        let mut third = Impair::new(Spec::parse("loss=10%,dup=5%,corrupt=10%,seed=3").unwrap());
        let second: Vec<usize> = (0..50)
            .map(|_| third.apply(t0, false, 1, addr, &data).len())
            .collect();
        assert_eq!(first, second);
        // Delay holds datagrams until due.
        let mut slow = Impair::new(Spec::parse("delay=20ms").unwrap());
        assert!(slow.apply(t0, true, 1, addr, &data).is_empty());
        assert!(slow.due(t0 + Duration::from_millis(19), true).is_empty());
        assert_eq!(slow.next_due(), Some(t0 + Duration::from_millis(20)));
        assert_eq!(slow.due(t0 + Duration::from_millis(20), true).len(), 1);
    }
}
