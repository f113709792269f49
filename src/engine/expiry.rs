//! When a session expires and where it sorts, as libssl 3.0.19 behaves. Measured, not read:
//! tests-c/scenarios/expiry_model.c compares every pair of a set of edge values against
//! libssl. The rules:
//! - `time + timeout` is the expiry second; a session counts as timed out at `now` when `now`
//!   is strictly later. The setters refuse negative timeouts, but a decoded session keeps one,
//!   and libssl adds it as it is (a (1000, -50) session expires after 950).
//! - A session whose time is negative, or whose sum overflows upward, never times out and
//!   sorts after every other session.
//! - Order is by that flag, then by the sum plus one as an unsigned number (so among the
//!   never-expiring, a sum of -1 comes first and -2 last).

/// Orders like libssl's session list: earliest to expire first.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct Expiry {
    never: bool,
    at: i64,
}

impl Expiry {
    pub fn new(time: i64, timeout: i64) -> Expiry {
        let at = time.wrapping_add(timeout);
        let overflowed = time > 0 && timeout > 0 && at < time;
        Expiry { never: time < 0 || overflowed, at }
    }
    /// True when the session counts as timed out at second `now`.
    pub fn is_expired_at(&self, now: i64) -> bool {
        !self.never && now > self.at
    }
    /// The last second the session is valid (`time + timeout`), or None when it never expires.
    pub fn last_valid_second(&self) -> Option<i64> {
        (!self.never).then_some(self.at)
    }
    /// The order as one number: the never-expires flag above the sum plus one, unsigned.
    /// 65 bits; `from_sort_key` gives the expiry back.
    pub fn sort_key(&self) -> u128 {
        (u128::from(self.never) << 64) | u128::from((self.at as u64).wrapping_add(1))
    }
    pub fn from_sort_key(key: u128) -> Expiry {
        Expiry { never: key >> 64 != 0, at: (key as u64).wrapping_sub(1) as i64 }
    }
}

impl Ord for Expiry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.sort_key().cmp(&other.sort_key())
    }
}

impl PartialOrd for Expiry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
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
        assert!(!e.is_expired_at(-5));
    }

    #[test]
    fn a_decoded_negative_timeout_shortens_the_life() {
        let e = Expiry::new(1000, -50);
        assert!(!e.is_expired_at(950));
        assert!(e.is_expired_at(951));
    }

    #[test]
    fn negative_times_and_overflows_never_expire_and_sort_last() {
        for e in [Expiry::new(-1000, 100), Expiry::new(-1, 0), Expiry::new(i64::MAX - 1, 10)] {
            assert!(!e.is_expired_at(i64::MAX));
            assert!(e > Expiry::new(i64::MAX, 0));
        }
    }

    #[test]
    fn the_sort_key_gives_the_expiry_back() {
        for (t, to) in [(0, 0), (1000, 100), (-1, 0), (-2, 0), (i64::MIN, 0), (i64::MAX - 1, 10), (5, -50)] {
            let e = Expiry::new(t, to);
            assert_eq!(Expiry::from_sort_key(e.sort_key()), e);
        }
    }

    #[test]
    fn among_never_expiring_a_sum_of_minus_one_is_first_and_minus_two_last() {
        let mut v = vec![Expiry::new(-2, 0), Expiry::new(i64::MIN, 0), Expiry::new(-1, 1), Expiry::new(-1, 0)];
        v.sort();
        assert_eq!(v, vec![Expiry::new(-1, 0), Expiry::new(-1, 1), Expiry::new(i64::MIN, 0), Expiry::new(-2, 0)]);
    }
}
