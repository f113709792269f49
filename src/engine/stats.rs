//! The eleven event counters behind `SSL_CTX_sess_*` (the twelfth, `number`, is the cache's
//! entry count). Atomics: handshakes on many threads count without a lock.

use std::sync::atomic::{AtomicI32, Ordering};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Counter {
    Connect,
    ConnectGood,
    ConnectRenegotiate,
    Accept,
    AcceptGood,
    AcceptRenegotiate,
    Hit,
    CbHit,
    Miss,
    Timeout,
    CacheFull,
}

impl Counter {
    /// In the order of their SSL_CTRL_SESS_* commands (21 to 31).
    pub const ALL: [Counter; 11] = [
        Counter::Connect,
        Counter::ConnectGood,
        Counter::ConnectRenegotiate,
        Counter::Accept,
        Counter::AcceptGood,
        Counter::AcceptRenegotiate,
        Counter::Hit,
        Counter::CbHit,
        Counter::Miss,
        Counter::Timeout,
        Counter::CacheFull,
    ];
}

/// OpenSSL keeps these as C ints (wrapping past i32::MAX) and returns them as longs.
#[derive(Default, Debug)]
pub struct Stats {
    counts: [AtomicI32; 11],
}

impl Stats {
    pub fn bump(&self, c: Counter) {
        self.counts[c as usize].fetch_add(1, Ordering::Relaxed);
    }
    pub fn get(&self, c: Counter) -> i64 {
        i64::from(self.counts[c as usize].load(Ordering::Relaxed))
    }
}
