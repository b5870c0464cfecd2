//! Serial-number arithmetic (RFC 1982) for TSNs, SSNs and MIDs.
//!
//! The types deliberately do not implement `PartialOrd`: comparisons across
//! the wrap point are only meaningful through the explicit methods here.

/// A 32-bit transmission sequence number (RFC 9260 §3.3.1), wrap-aware.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Tsn(pub u32);

/// A 16-bit stream sequence number (RFC 9260 §3.3.1), wrap-aware.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Ssn(pub u16);

impl Tsn {
    /// The TSN just after this one.
    pub fn next(self) -> Tsn {
        self + 1
    }
    /// The TSN just before this one.
    pub fn prev(self) -> Tsn {
        Tsn(self.0.wrapping_sub(1))
    }
    /// RFC 1982 "less than".
    pub fn lt(self, o: Tsn) -> bool {
        self != o && o.0.wrapping_sub(self.0) < 1 << 31
    }
    /// RFC 1982 "less than or equal".
    pub fn le(self, o: Tsn) -> bool {
        self == o || self.lt(o)
    }
    /// RFC 1982 "greater than".
    pub fn gt(self, o: Tsn) -> bool {
        o.lt(self)
    }
    /// RFC 1982 "greater than or equal".
    pub fn ge(self, o: Tsn) -> bool {
        o.le(self)
    }
    /// Forward distance from `base` to `self` (`self - base`, wrapping).
    pub fn since(self, base: Tsn) -> u32 {
        self.0.wrapping_sub(base.0)
    }
}

impl std::ops::Add<u32> for Tsn {
    type Output = Tsn;
    /// `self + n`, wrapping.
    fn add(self, n: u32) -> Tsn {
        Tsn(self.0.wrapping_add(n))
    }
}

impl Ssn {
    /// The SSN just after this one.
    pub fn next(self) -> Ssn {
        Ssn(self.0.wrapping_add(1))
    }
    /// RFC 1982 "less than".
    pub fn lt(self, o: Ssn) -> bool {
        self != o && o.0.wrapping_sub(self.0) < 1 << 15
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsn_wraps() {
        assert!(Tsn(u32::MAX).lt(Tsn(0)));
        assert!(Tsn(0).gt(Tsn(u32::MAX)));
        assert!(Tsn(5).lt(Tsn(6)));
        assert!(!Tsn(6).lt(Tsn(6)));
        assert!(Tsn(6).le(Tsn(6)));
        assert_eq!(Tsn(u32::MAX).next(), Tsn(0));
        assert_eq!(Tsn(0).prev(), Tsn(u32::MAX));
        assert_eq!(Tsn(2).since(Tsn(u32::MAX)), 3);
        assert!(Tsn(0x8000_0000).gt(Tsn(1)));
        assert!(Tsn(1).lt(Tsn(0x8000_0000)));
    }

    #[test]
    fn ssn_wraps() {
        assert!(Ssn(u16::MAX).lt(Ssn(0)));
        assert!(!Ssn(0).lt(Ssn(u16::MAX)));
        assert_eq!(Ssn(u16::MAX).next(), Ssn(0));
    }
}
