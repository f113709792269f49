//! When a session expires, computed as OpenSSL 3.0 computes it: `time + timeout` with the
//! timeout forced non-negative, and a flag for a sum that overflowed (such a session never
//! expires and sorts after every session that did not overflow).

/// Orders like OpenSSL's `timeoutcmp`: overflowed after non-overflowed, then by the sum.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Hash)]
pub struct Expiry {
    overflowed: bool,
    at: i64,
}

impl Expiry {
    pub fn new(time: i64, timeout: i64) -> Expiry {
        let timeout = timeout.max(0);
        let at = time.wrapping_add(timeout);
        // timeout >= 0, so only a positive time can push the sum past i64::MAX.
        Expiry { overflowed: time > 0 && at < time, at }
    }
    /// True when the session counts as timed out at second `now` (strictly after `time+timeout`).
    pub fn is_expired_at(&self, now: i64) -> bool {
        !self.overflowed && now > self.at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_strictly_after_the_sum() {
        let e = Expiry::new(1000, 10);
        assert!(!e.is_expired_at(1010));
        assert!(e.is_expired_at(1011));
    }

    #[test]
    fn negative_timeout_counts_as_zero() {
        assert_eq!(Expiry::new(1000, -5), Expiry::new(1000, 0));
    }

    #[test]
    fn overflow_never_expires_and_sorts_last() {
        let big = Expiry::new(i64::MAX - 1, 10);
        assert!(!big.is_expired_at(i64::MAX));
        assert!(big > Expiry::new(i64::MAX - 1, 0));
        // A negative time cannot overflow upward.
        assert!(Expiry::new(-10, 5).is_expired_at(-4));
    }
}
