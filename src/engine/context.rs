//! One context's session cache: the store, its settings and its counters, and OpenSSL's rules
//! for add, remove and flush. Rules live here once; the C fronts only translate.

use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use super::cache::{AddStart, Cache, Flushed, Handle};
use super::remote::{Codec, Fleet, Remote};
use super::{CacheMode, Counter, Expiry, SessionKey, Stats};

/// `SSL_SESSION_CACHE_MAX_SIZE_DEFAULT`.
pub const DEFAULT_CACHE_SIZE: u64 = 1024 * 20;
/// The TLS method's default session timeout (two hours), what `SSL_CTX_new` sets.
pub const DEFAULT_CTX_TIMEOUT: i64 = 60 * 60 * 2;

/// What the engine needs to read or change on a session it manages. A front implements it
/// for its own session object; none of these may call back into the engine.
pub trait Session: Handle {
    fn expiry(&self) -> Expiry;
    /// Both at once (a front may read them under one lock).
    fn key_and_expiry(&self) -> (SessionKey, Expiry) {
        (self.key(), self.expiry())
    }
    /// Sets the session's time to `now` (SSL_SESS_CACHE_UPDATE_TIME) and returns the new expiry.
    fn touch(&self, now: i64) -> Expiry;
    /// Removal from a cache makes a session unusable for resumption, as in OpenSSL.
    fn mark_not_resumable(&self);
    /// A flush's sessions, out of the store and no lock held: each is marked not resumable,
    /// then released. A front may set up once for all, or ask for each one's memory a few
    /// sessions ahead of its release.
    fn release_flushed(sessions: Flushed<Self>)
    where
        Self: Sized,
    {
        sessions.iter().for_each(Self::mark_not_resumable);
    }
}

/// User code the engine calls: always after releasing its lock, so a callback may call back
/// into the same context (OpenSSL holds its lock there, and deadlocks).
pub trait Callbacks<H> {
    /// The remove callback: `session` has left the cache (removed, evicted, flushed).
    fn removed(&self, session: &H);
    /// False when `removed` does nothing (no remove callback is set).
    fn calls_back_on_remove(&self) -> bool {
        true
    }
    /// `session` is being cached under `key`; a front may note where it lives.
    fn added(&self, _session: &H, _key: SessionKey) {}
}

/// For code paths with no user callbacks to call.
pub struct NoCallbacks;
impl<H> Callbacks<H> for NoCallbacks {
    fn removed(&self, _: &H) {}
    fn calls_back_on_remove(&self) -> bool {
        false
    }
}

pub struct Context<H> {
    cache: Cache<H>,
    pub stats: Stats,
    mode: AtomicU32,
    cache_size: AtomicU64,
    timeout: AtomicI64,
    /// Lookups the cache answered with a session, for reports (the sessions it took in are
    /// counted by the store).
    served: AtomicU64,
    /// The fleet tier, when the process has one: unset (one load to learn it) otherwise.
    fleet: OnceLock<Fleet<H>>,
}

impl<H: Session> Default for Context<H> {
    fn default() -> Self {
        Context {
            cache: Cache::default(),
            stats: Stats::default(),
            mode: AtomicU32::new(CacheMode::SERVER.bits()),
            cache_size: AtomicU64::new(DEFAULT_CACHE_SIZE),
            timeout: AtomicI64::new(DEFAULT_CTX_TIMEOUT),
            served: AtomicU64::new(0),
            fleet: OnceLock::new(),
        }
    }
}

impl<H: Session> Context<H> {
    // ---- settings, with SSL_CTX_ctrl's return conventions ----

    pub fn mode(&self) -> CacheMode {
        CacheMode::from_bits_retain(self.mode.load(Ordering::Relaxed))
    }
    /// Stores the low 32 bits of `mode`, as OpenSSL does; returns the previous mode.
    pub fn set_mode(&self, mode: i64) -> i64 {
        i64::from(self.mode.swap(mode as u32, Ordering::Relaxed))
    }
    /// The size limit as the store takes it: 0 for none.
    fn size_limit(&self) -> usize {
        usize::try_from(self.cache_size.load(Ordering::Relaxed)).unwrap_or(usize::MAX)
    }
    pub fn cache_size(&self) -> i64 {
        self.cache_size.load(Ordering::Relaxed) as i64
    }
    /// A negative size is refused with 0; otherwise returns the previous size. Shrinking evicts
    /// nothing until the next new session arrives, as in OpenSSL.
    pub fn set_cache_size(&self, size: i64) -> i64 {
        if size < 0 {
            return 0;
        }
        self.cache_size.swap(size as u64, Ordering::Relaxed) as i64
    }
    /// The context's session timeout; new sessions get it unless it is 0.
    pub fn timeout(&self) -> i64 {
        self.timeout.load(Ordering::Relaxed)
    }
    pub fn set_timeout(&self, t: i64) -> i64 {
        self.timeout.swap(t, Ordering::Relaxed)
    }

    pub fn number(&self) -> i64 {
        self.cache.len() as i64
    }
    pub fn counter(&self, c: Counter) -> i64 {
        self.stats.get(c)
    }
    /// Counts an event a front observed (a preloaded libssl's lookup, say).
    pub fn count(&self, c: Counter) {
        self.stats.bump(c)
    }
    pub fn stored(&self) -> u64 {
        self.cache.stored()
    }
    pub fn served(&self) -> u64 {
        self.served.load(Ordering::Relaxed)
    }
    /// A lookup was answered from the cache.
    pub fn note_served(&self) {
        self.served.fetch_add(1, Ordering::Relaxed);
    }

    // ---- the fleet ----

    /// Shares this context's server sessions through `remote`, crossing as `codec` encodes
    /// them. Set once, by the front that made the context; false if it had one already.
    pub fn attach_remote(&self, remote: Arc<dyn Remote>, codec: Box<dyn Codec<H>>) -> bool {
        self.fleet.set(Fleet { remote, codec }).is_ok()
    }
    /// The fleet, while the mode makes this a server cache that looks up and stores itself:
    /// client caches and the application's own (NO_INTERNAL_*) never use it.
    pub(super) fn fleet(&self) -> Option<&Fleet<H>> {
        let fleet = self.fleet.get()?;
        let mode = self.mode();
        (mode.contains(CacheMode::SERVER) && !mode.intersects(CacheMode::NO_INTERNAL)).then_some(fleet)
    }
    /// Whether `share` would publish: a fleet is attached and the mode lets this cache use it.
    pub fn shares_sessions(&self) -> bool {
        self.fleet().is_some()
    }
    /// The handshake (or a preloaded libssl) just cached server session `session`: share it
    /// until its expiry. A session that never expires is not shared (Redis keys need an end).
    pub fn share(&self, session: &H) {
        let Some(fleet) = self.fleet() else { return };
        let (key, expiry) = session.key_and_expiry();
        let (Some(expires_at), Some(der)) = (expiry.last_valid_second(), fleet.codec.encode(session)) else {
            return;
        };
        fleet.remote.publish(&key, der, expires_at);
    }

    // ---- the cache operations of ssl_sess.c ----

    /// `SSL_CTX_add_session`: true (1) when the session entered the cache under a key that
    /// did not hold it already. Evicted sessions are marked not resumable and reported. The
    /// handle passed in becomes the cache's reference; `now` is read only for
    /// SSL_SESS_CACHE_UPDATE_TIME.
    // Inlined into each front's SSL_CTX_add_session (callgrind: 10 to 50 fewer instructions).
    #[inline]
    pub fn add(&self, session: H, now: impl FnOnce() -> i64, callbacks: &impl Callbacks<H>) -> bool {
        let (key, expiry) = session.key_and_expiry();
        let expiry = if self.mode().contains(CacheMode::UPDATE_TIME) { session.touch(now()) } else { expiry };
        // Told before the handle moves into the store; where the session lives only matters
        // while it is cached there, which the front checks.
        callbacks.added(&session, key);
        // Without a remove callback, nobody can watch an eviction between its steps: all of
        // the add happens under one hold of the store's order lock.
        let mut evicted = Vec::new();
        let evict_into = (!callbacks.calls_back_on_remove()).then_some(&mut evicted);
        let outcome = self.cache.add_start(key, session, expiry, self.size_limit(), evict_into);
        let AddStart::New { replaced, eviction } = outcome else {
            return false;
        };
        drop(replaced);
        // Tested first: the usual add evicts nothing and then builds no iterator (whose drop
        // the compiler may leave out of line: callgrind counted 20 instructions an add).
        if !evicted.is_empty() {
            for victim in evicted {
                victim.mark_not_resumable();
                self.stats.bump(Counter::CacheFull);
            }
        }
        if let Some(walk) = eviction {
            // One eviction at a time, so that each remove callback sees the cache as
            // OpenSSL's would at that moment: the newcomer counted, the earlier victims gone.
            // The limit is read on every pass, as OpenSSL does, so a callback may change it;
            // cache_full counts once the victim's remove callback has returned.
            while let Some(victim) = walk.evict_one(self.size_limit()) {
                victim.mark_not_resumable();
                callbacks.removed(&victim);
                self.stats.bump(Counter::CacheFull);
            }
            walk.link_newcomer(key, expiry);
        }
        true
    }

    /// `SSL_CTX_remove_session`: looks up the session's key. A session with an empty id is
    /// ignored (0, no callback). Otherwise the session is marked not resumable and the remove
    /// callback sees it whether or not it was cached: OpenSSL 3.0's behaviour. An explicit
    /// removal, so the fleet forgets it too.
    pub fn remove(&self, session: &H, callbacks: &impl Callbacks<H>) -> bool {
        let key = session.key();
        if key.has_empty_id() {
            return false;
        }
        let removed = self.remove_locally(&key, session, callbacks);
        if let Some(fleet) = self.fleet() {
            fleet.remote.forget(&key);
        }
        removed
    }

    /// `remove` in this cache only: for a session the fleet already forgot.
    pub(super) fn remove_locally(&self, key: &SessionKey, session: &H, callbacks: &impl Callbacks<H>) -> bool {
        let removed = self.cache.remove(key, Some(session));
        session.mark_not_resumable();
        callbacks.removed(session);
        removed.is_some()
    }

    /// Internal lookup by key, counting nothing.
    pub fn get(&self, key: &SessionKey) -> Option<H> {
        self.cache.get(key)
    }
    pub fn contains(&self, key: &SessionKey) -> bool {
        self.cache.contains(key)
    }

    /// A cached session's time or timeout changed: move it to its new place in the order.
    pub fn reposition(&self, key: &SessionKey, session: &H, expiry: Expiry) -> bool {
        self.cache.reposition(key, session, expiry)
    }

    /// `SSL_CTX_flush_sessions(ctx, t)`: removes every session timed out at `t`, or every
    /// session when `t` is 0, oldest expiry first, each marked and reported.
    pub fn flush(&self, t: i64, callbacks: &impl Callbacks<H>) {
        let expired = |e: Expiry| t == 0 || e.is_expired_at(t);
        if !callbacks.calls_back_on_remove() {
            // Nobody can watch the steps: all of it under one hold of the store's order lock.
            H::release_flushed(self.cache.take_expired(expired));
            return;
        }
        // Sessions a callback re-adds meanwhile are placed after the walk began, and stay.
        let walk = self.cache.walk();
        while let Some(s) = walk.pop_expired(expired) {
            s.mark_not_resumable();
            callbacks.removed(&s);
        }
    }

    /// Keys from the expiry end to the newest.
    pub fn keys_in_eviction_order(&self) -> Vec<SessionKey> {
        self.cache.keys_in_eviction_order()
    }
}
