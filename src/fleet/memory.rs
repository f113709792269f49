//! A fleet in one process's memory: a map behind a mutex that any number of contexts share.
//! For tests of the engine and the fronts, where Redis would only add noise; it keeps what a
//! real fleet promises (expiry, tombstones for explicit removals) and counts every call, so a
//! test can tell whether a context used it at all.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crate::engine::{Remote, SessionKey};

/// Test-only: SESSCACHE_FLEET=memory: gives every context of this process one shared
/// `MemoryRemote` (no other process sees it), so the fronts' C tests can watch the fleet path
/// of a real handshake without Redis. Never a deployment: nothing leaves the process.
pub fn from_env() -> Option<Arc<MemoryRemote>> {
    static SHARED: OnceLock<Option<Arc<MemoryRemote>>> = OnceLock::new();
    SHARED
        .get_or_init(|| std::env::var_os("SESSCACHE_FLEET").is_some_and(|v| v == "memory:").then(Arc::default))
        .clone()
}

#[derive(Default)]
pub struct MemoryRemote {
    state: Mutex<State>,
    calls: Calls,
}

#[derive(Default)]
struct State {
    /// DER and the last second it is valid.
    sessions: HashMap<SessionKey, (Vec<u8>, i64)>,
    /// Explicitly removed since they were last published.
    forgotten: HashSet<SessionKey>,
}

/// How often each method was called.
#[derive(Default)]
pub struct Calls {
    pub find: AtomicU64,
    pub publish: AtomicU64,
    pub forget: AtomicU64,
    pub forgotten: AtomicU64,
}

impl Calls {
    /// All four, in the order of the fields.
    pub fn get(&self) -> [u64; 4] {
        [&self.find, &self.publish, &self.forget, &self.forgotten].map(|c| c.load(Ordering::Relaxed))
    }
}

impl MemoryRemote {
    pub fn calls(&self) -> &Calls {
        &self.calls
    }
    /// Sessions held (expired ones included until a find sees them).
    pub fn len(&self) -> usize {
        self.lock().sessions.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere while holding it leaves plain maps: still usable.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Remote for MemoryRemote {
    fn find(&self, key: &SessionKey, now: i64) -> Option<Vec<u8>> {
        self.calls.find.fetch_add(1, Ordering::Relaxed);
        let mut state = self.lock();
        match state.sessions.get(key) {
            // Valid through its last second, as the engine's expiry is.
            Some((der, last)) if now <= *last => Some(der.clone()),
            Some(_) => {
                state.sessions.remove(key);
                None
            }
            None => None,
        }
    }
    fn publish(&self, key: &SessionKey, der: Vec<u8>, expires_at: i64) {
        self.calls.publish.fetch_add(1, Ordering::Relaxed);
        let mut state = self.lock();
        state.forgotten.remove(key);
        state.sessions.insert(*key, (der, expires_at));
    }
    fn forget(&self, key: &SessionKey) {
        self.calls.forget.fetch_add(1, Ordering::Relaxed);
        let mut state = self.lock();
        state.sessions.remove(key);
        state.forgotten.insert(*key);
    }
    fn forgotten(&self, key: &SessionKey) -> bool {
        self.calls.forgotten.fetch_add(1, Ordering::Relaxed);
        self.lock().forgotten.contains(key)
    }
}
