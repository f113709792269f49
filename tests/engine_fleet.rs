//! The engine with a fleet (`engine::Remote`), against the in-memory remote: what one
//! context stores another resumes, explicit removals reach every cache, evictions and flushes
//! stay local, and only server caches that look up and store themselves take part.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;

use sesscache::engine::{
    CacheMode, Callbacks, Codec, Context, Counter, Expiry, GetCallback, Handle, HandshakeCallbacks, HandshakeSession,
    Peer, Remote, Resume, Role, Session, SessionKey,
};
use sesscache::fleet::memory::MemoryRemote;

const TLS1_2: i32 = 0x303;
const NOW: i64 = 1_000_000;

struct Inner {
    key: SessionKey,
    time: AtomicI64,
    timeout: i64,
    sid_ctx: Vec<u8>,
    not_resumable: AtomicBool,
}

#[derive(Clone)]
struct T(Arc<Inner>);

impl T {
    fn new(id: u8, time: i64, timeout: i64, sid_ctx: &[u8]) -> T {
        T(Arc::new(Inner {
            key: SessionKey::new(TLS1_2, &[id; 32]).unwrap(),
            time: AtomicI64::new(time),
            timeout,
            sid_ctx: sid_ctx.to_vec(),
            not_resumable: AtomicBool::new(false),
        }))
    }
}

impl Handle for T {
    fn same(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
    fn key(&self) -> SessionKey {
        self.0.key
    }
}
impl Session for T {
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
impl HandshakeSession for T {
    fn is_resumable(&self) -> bool {
        !self.0.not_resumable.load(Ordering::Relaxed)
    }
    fn sid_ctx_matches(&self, sid_ctx: &[u8]) -> bool {
        self.0.sid_ctx == sid_ctx
    }
}

/// version | id length | id | time | timeout | sid_ctx: enough to make a new, distinct object.
struct TestCodec;
impl Codec<T> for TestCodec {
    fn encode(&self, s: &T) -> Option<Vec<u8>> {
        let mut out = s.key().version().to_be_bytes().to_vec();
        out.push(s.key().id().len() as u8);
        out.extend_from_slice(s.key().id());
        out.extend_from_slice(&s.0.time.load(Ordering::Relaxed).to_be_bytes());
        out.extend_from_slice(&s.0.timeout.to_be_bytes());
        out.extend_from_slice(&s.0.sid_ctx);
        Some(out)
    }
    fn decode(&self, der: &[u8], _now: i64) -> Option<T> {
        let version = i32::from_be_bytes(der.get(..4)?.try_into().ok()?);
        let len = *der.get(4)? as usize;
        let id = der.get(5..5 + len)?;
        let rest = der.get(5 + len..)?;
        let time = i64::from_be_bytes(rest.get(..8)?.try_into().ok()?);
        let timeout = i64::from_be_bytes(rest.get(8..16)?.try_into().ok()?);
        Some(T(Arc::new(Inner {
            key: SessionKey::new(version, id)?,
            time: AtomicI64::new(time),
            timeout,
            sid_ctx: rest[16..].to_vec(),
            not_resumable: AtomicBool::new(false),
        })))
    }
}

/// The application's callbacks: removals with the thread they ran on, and a get callback
/// that would answer with `external` (counting its calls).
#[derive(Default)]
struct App {
    removed: Mutex<Vec<(SessionKey, ThreadId)>>,
    external: Option<T>,
    gets: AtomicUsize,
    news: AtomicUsize,
}
impl Callbacks<T> for App {
    fn removed(&self, s: &T) {
        self.removed.lock().unwrap().push((s.key(), std::thread::current().id()));
    }
}
impl GetCallback<T> for App {
    fn external_get(&self, _id: &[u8]) -> Option<T> {
        self.gets.fetch_add(1, Ordering::Relaxed);
        self.external.clone()
    }
}
impl HandshakeCallbacks<T> for App {
    fn new_session(&self, _s: &T) {
        self.news.fetch_add(1, Ordering::Relaxed);
    }
}

fn server(sid_ctx: &[u8]) -> Peer<'_> {
    Peer { role: Role::Server, version: TLS1_2, sid_ctx, verify_peer: false }
}

fn context(remote: &Arc<MemoryRemote>) -> Context<T> {
    let ctx = Context::default();
    assert!(ctx.attach_remote(remote.clone(), Box::new(TestCodec)));
    ctx
}

/// A full handshake at `ctx` that makes and stores `s`.
fn store(ctx: &Context<T>, s: &T, app: &App) {
    ctx.handshake_finished(&server(b"app"), s, false, NOW, app);
}

#[test]
fn a_session_stored_at_one_context_resumes_at_another_without_entering_its_cache() {
    let remote = Arc::new(MemoryRemote::default());
    let (a, b) = (context(&remote), context(&remote));
    let made = T::new(1, NOW, 300, b"app");
    store(&a, &made, &App::default());
    assert_eq!(remote.calls().publish.load(Ordering::Relaxed), 1);

    let app = App { external: Some(T::new(1, NOW, 300, b"app")), ..App::default() };
    let Resume::Hit(resumed) = b.resume_lookup(&server(b"app"), &[1; 32], NOW + 10, &app) else {
        panic!("B did not resume A's session")
    };
    assert!(!resumed.same(&made), "a decoded copy, not A's object");
    assert_eq!(resumed.key(), made.key());
    assert_eq!(resumed.expiry(), made.expiry());
    // B's own cache missed (counted), the fleet answered: a hit, not the application's cb_hit.
    assert_eq!((b.counter(Counter::Miss), b.counter(Counter::Hit), b.counter(Counter::CbHit)), (1, 1, 0));
    assert_eq!(b.number(), 0, "sess_number counts B's own sessions only");
    assert_eq!(app.gets.load(Ordering::Relaxed), 0, "the fleet answers before the get callback");
    assert_eq!(a.number(), 1);
}

#[test]
fn a_shared_session_of_another_id_context_does_not_resume_and_counts_no_hit() {
    let remote = Arc::new(MemoryRemote::default());
    let (a, b) = (context(&remote), context(&remote));
    store(&a, &T::new(2, NOW, 300, b"app"), &App::default());
    let got = b.resume_lookup(&server(b"other"), &[2; 32], NOW, &App::default());
    assert!(matches!(got, Resume::Miss));
    assert_eq!((b.counter(Counter::Hit), b.number()), (0, 0));
}

#[test]
fn a_session_forgotten_elsewhere_leaves_a_local_cache_at_its_next_lookup_on_that_thread() {
    let remote = Arc::new(MemoryRemote::default());
    let (a, b) = (context(&remote), context(&remote));
    let at_a = T::new(3, NOW, 300, b"app");
    let at_b = T::new(3, NOW, 300, b"app");
    store(&a, &at_a, &App::default());
    store(&b, &at_b, &App::default());
    // An explicit removal at A (SSL_CTX_remove_session, a fatal alert).
    a.remove(&at_a, &App::default());
    assert_eq!(remote.calls().forget.load(Ordering::Relaxed), 1);
    assert_eq!(b.number(), 1, "B learns of it only when it looks");

    let app = App::default();
    let (got, thread) = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let got = b.resume_lookup(&server(b"app"), &[3; 32], NOW, &app);
                (matches!(got, Resume::Miss), std::thread::current().id())
            })
            .join()
            .unwrap()
    });
    assert!(got, "a forgotten session must not resume");
    assert_eq!(b.number(), 0);
    assert!(!at_b.is_resumable(), "removed as OpenSSL removes: marked");
    assert_eq!(*app.removed.lock().unwrap(), vec![(at_b.key(), thread)], "the remove callback, on the caller's thread");
    assert_eq!((b.counter(Counter::Miss), b.counter(Counter::Hit)), (1, 0));
    // B's removal is not an explicit one: it does not echo back to the fleet.
    assert_eq!(remote.calls().forget.load(Ordering::Relaxed), 1);
}

#[test]
fn eviction_and_flush_stay_local() {
    let remote = Arc::new(MemoryRemote::default());
    let a = context(&remote);
    a.set_cache_size(1);
    let app = App::default();
    store(&a, &T::new(4, NOW, 300, b"app"), &app);
    store(&a, &T::new(5, NOW, 300, b"app"), &app);
    assert_eq!(a.counter(Counter::CacheFull), 1);
    a.flush(0, &app);
    assert_eq!(app.removed.lock().unwrap().len(), 2);
    assert_eq!(remote.calls().forget.load(Ordering::Relaxed), 0);
    let key = |id: u8| SessionKey::new(TLS1_2, &[id; 32]).unwrap();
    assert!(remote.find(&key(4), NOW).is_some() && remote.find(&key(5), NOW).is_some());
    // And they resume from the fleet at the context that dropped them.
    assert!(matches!(a.resume_lookup(&server(b"app"), &[4; 32], NOW, &app), Resume::Hit(_)));
}

#[test]
fn client_caches_and_the_applications_own_caches_never_use_the_fleet() {
    let remote = Arc::new(MemoryRemote::default());
    // What another process shared, so a find would succeed if it were made.
    let elsewhere = T::new(6, NOW, 300, b"app");
    remote.publish(&elsewhere.key(), TestCodec.encode(&elsewhere).unwrap(), NOW + 300);
    let before = remote.calls().get();
    let modes = [
        CacheMode::CLIENT,
        CacheMode::SERVER | CacheMode::NO_INTERNAL_LOOKUP,
        CacheMode::SERVER | CacheMode::NO_INTERNAL_STORE,
        CacheMode::SERVER | CacheMode::NO_INTERNAL,
        CacheMode::BOTH | CacheMode::NO_INTERNAL_STORE,
    ];
    for mode in modes {
        let ctx = context(&remote);
        ctx.set_mode(i64::from(mode.bits()));
        let app = App::default();
        for (n, role) in [(7, Role::Server), (8, Role::Client)] {
            let s = T::new(n, NOW, 300, b"app");
            ctx.handshake_finished(&Peer { role, ..server(b"app") }, &s, false, NOW, &app);
            ctx.remove(&s, &app);
        }
        let got = ctx.resume_lookup(&server(b"app"), &[6; 32], NOW, &app);
        assert!(matches!(got, Resume::Miss), "{mode:?} resumed from the fleet");
        assert_eq!(remote.calls().get(), before, "{mode:?} called the fleet");
    }
    // A cache for both roles stores a client connection's session, and shares only the
    // server role's.
    let both = context(&remote);
    both.set_mode(i64::from(CacheMode::BOTH.bits()));
    both.handshake_finished(
        &Peer { role: Role::Client, ..server(b"app") },
        &T::new(9, NOW, 300, b"app"),
        false,
        NOW,
        &App::default(),
    );
    assert_eq!(both.number(), 1);
    assert_eq!(remote.calls().publish.load(Ordering::Relaxed), before[1]);
}

#[test]
fn an_expired_shared_session_is_not_returned() {
    let remote = Arc::new(MemoryRemote::default());
    let (a, b) = (context(&remote), context(&remote));
    store(&a, &T::new(10, NOW, 100, b"app"), &App::default());
    assert!(matches!(b.resume_lookup(&server(b"app"), &[10; 32], NOW + 100, &App::default()), Resume::Hit(_)));
    assert!(matches!(b.resume_lookup(&server(b"app"), &[10; 32], NOW + 101, &App::default()), Resume::Miss));

    // The engine checks the session itself, whatever the remote believes about its expiry.
    let stale = T::new(11, NOW - 1000, 100, b"app");
    remote.publish(&stale.key(), TestCodec.encode(&stale).unwrap(), NOW + 1000);
    assert!(matches!(b.resume_lookup(&server(b"app"), &[11; 32], NOW, &App::default()), Resume::Miss));
    // Neither counts a timeout, nor removes anything: none was in B's cache.
    assert_eq!((b.counter(Counter::Timeout), b.counter(Counter::Hit)), (0, 1));
    assert_eq!(remote.calls().forget.load(Ordering::Relaxed), 0);
}

#[test]
fn bytes_that_are_not_the_session_asked_for_are_not_returned() {
    let remote = Arc::new(MemoryRemote::default());
    let b = context(&remote);
    let key = SessionKey::new(TLS1_2, &[12; 32]).unwrap();
    let other = T::new(13, NOW, 300, b"app");
    remote.publish(&key, TestCodec.encode(&other).unwrap(), NOW + 300);
    assert!(matches!(b.resume_lookup(&server(b"app"), &[12; 32], NOW, &App::default()), Resume::Miss));
    remote.publish(&key, b"\x00\x00\x03".to_vec(), NOW + 300);
    assert!(matches!(b.resume_lookup(&server(b"app"), &[12; 32], NOW, &App::default()), Resume::Miss));
    assert_eq!(b.counter(Counter::Hit), 0);
}

#[test]
fn a_resumption_publishes_nothing_and_a_remote_is_attached_once() {
    let remote = Arc::new(MemoryRemote::default());
    let a = context(&remote);
    let s = T::new(14, NOW, 300, b"app");
    a.handshake_finished(&server(b"app"), &s, true, NOW, &App::default());
    assert_eq!(remote.calls().publish.load(Ordering::Relaxed), 0);
    assert!(!a.attach_remote(Arc::new(MemoryRemote::default()), Box::new(TestCodec)));
}
