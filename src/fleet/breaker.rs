//! The circuit breaker on the lookup path: after `threshold` consecutive failed lookups
//! (answers that came later than the budget, or errors), finds stop asking Redis, so a dead or
//! slow Redis costs each handshake nothing until it recovers. While open, the lookup worker
//! probes Redis every RETRY_MS (`probe_due`) and closes the breaker when a PING answers within
//! the budget. Plain atomics: the handshake reads one relaxed load.

#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

pub struct Breaker {
    threshold: u32,
    consecutive: AtomicU32,
    open: AtomicBool,
    trips: AtomicU64,
}

impl Breaker {
    pub fn new(threshold: u32) -> Breaker {
        Breaker {
            threshold: threshold.max(1),
            consecutive: AtomicU32::new(0),
            open: AtomicBool::new(false),
            trips: AtomicU64::new(0),
        }
    }

    /// Whether finds must skip the network.
    #[inline]
    pub fn is_open(&self) -> bool {
        self.open.load(Ordering::Relaxed)
    }

    /// A lookup answered within the budget.
    pub fn success(&self) {
        if self.consecutive.load(Ordering::Relaxed) != 0 {
            self.consecutive.store(0, Ordering::Relaxed);
        }
    }

    /// A lookup timed out or failed. True when this failure opened the breaker.
    pub fn failure(&self) -> bool {
        let n = self.consecutive.fetch_add(1, Ordering::Relaxed).saturating_add(1);
        if n >= self.threshold && !self.open.swap(true, Ordering::Relaxed) {
            self.trips.fetch_add(1, Ordering::Relaxed);
            return true;
        }
        false
    }

    /// A probe answered in time: lookups go to the network again.
    pub fn close(&self) {
        self.consecutive.store(0, Ordering::Relaxed);
        self.open.store(false, Ordering::Relaxed);
    }

    /// How many times the breaker opened.
    pub fn trips(&self) -> u64 {
        self.trips.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_consecutive_failures_only() {
        let b = Breaker::new(3);
        assert!(!b.failure() && !b.failure());
        b.success();
        assert!(!b.failure() && !b.failure());
        assert!(!b.is_open());
        assert!(b.failure());
        assert!(b.is_open());
        // Failures while open do not count as new trips.
        assert!(!b.failure());
        assert_eq!(b.trips(), 1);
        b.close();
        assert!(!b.is_open());
        assert!(!b.failure() && !b.failure() && b.failure());
        assert_eq!(b.trips(), 2);
    }
}
