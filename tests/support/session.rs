//! A minimal engine session, shared by the engine's tests, benchmarks and examples (each
//! includes this file with `#[path]`): a key, a time that `touch` moves, a timeout, and the
//! mark removal leaves.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;

use sesscache::engine::{Expiry, Handle, Session, SessionKey};

struct Inner {
    key: SessionKey,
    time: AtomicI64,
    timeout: i64,
    not_resumable: AtomicBool,
}

#[derive(Clone)]
pub struct S(Arc<Inner>);

impl S {
    pub fn new(key: SessionKey, time: i64, timeout: i64) -> S {
        S(Arc::new(Inner { key, time: AtomicI64::new(time), timeout, not_resumable: AtomicBool::new(false) }))
    }
    /// Whether a cache marked it not resumable (on removal, eviction or flush).
    #[allow(dead_code)] // not every includer asks
    pub fn is_marked(&self) -> bool {
        self.0.not_resumable.load(Ordering::Relaxed)
    }
}

impl Handle for S {
    fn same(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
    fn key(&self) -> SessionKey {
        self.0.key
    }
}

impl Session for S {
    fn expiry(&self) -> Expiry {
        Expiry::new(self.0.time.load(Ordering::Relaxed), self.0.timeout)
    }
    fn touch(&self, now: i64) -> Expiry {
        self.0.time.store(now, Ordering::Relaxed);
        self.expiry()
    }
    fn mark_not_resumable(&self) {
        self.0.not_resumable.store(true, Ordering::Relaxed);
    }
}
