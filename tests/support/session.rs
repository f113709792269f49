//! A minimal engine session, shared by the engine's tests, benchmarks and examples (each
//! includes this file with `#[path]`): a key, a time that `touch` moves, a timeout, the mark
//! removal leaves, and the session id context it was made under (empty unless given).

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;

use sesscache::engine::{Expiry, Handle, HandshakeSession, Session, SessionKey};

struct Inner {
    key: SessionKey,
    time: AtomicI64,
    timeout: i64,
    sid_ctx: Vec<u8>,
    not_resumable: AtomicBool,
}

#[derive(Clone)]
pub struct S(Arc<Inner>);

impl S {
    /// A session made under the empty sid_ctx.
    #[allow(dead_code)] // not every includer asks
    pub fn new(key: SessionKey, time: i64, timeout: i64) -> S {
        S::with_sid_ctx(key, time, timeout, &[])
    }
    /// A session made under `sid_ctx` (what `HandshakeSession::sid_ctx_matches` compares).
    pub fn with_sid_ctx(key: SessionKey, time: i64, timeout: i64, sid_ctx: &[u8]) -> S {
        S(Arc::new(Inner {
            key,
            time: AtomicI64::new(time),
            timeout,
            sid_ctx: sid_ctx.to_vec(),
            not_resumable: AtomicBool::new(false),
        }))
    }
    /// Whether a cache marked it not resumable (on removal, eviction or flush).
    pub fn is_marked(&self) -> bool {
        self.0.not_resumable.load(Ordering::Relaxed)
    }
    /// Its time, timeout and sid_ctx, for a test's codec.
    #[allow(dead_code)] // not every includer asks
    pub fn parts(&self) -> (i64, i64, &[u8]) {
        (self.0.time.load(Ordering::Relaxed), self.0.timeout, &self.0.sid_ctx)
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

impl HandshakeSession for S {
    fn is_resumable(&self) -> bool {
        !self.is_marked()
    }
    fn sid_ctx_matches(&self, sid_ctx: &[u8]) -> bool {
        self.0.sid_ctx == sid_ctx
    }
}
