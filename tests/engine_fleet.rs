//! The engine with a fleet (`engine::Remote`), against the in-memory remote: what one
//! context stores another resumes, explicit removals reach every cache, evictions and flushes
//! stay local, and only server caches that look up and store themselves take part.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;

use sesscache::engine::{
    CacheMode, Callbacks, Codec, Context, Counter, GetCallback, Handle, HandshakeCallbacks, HandshakeSession, Peer,
    Remote, Resume, Role, Session, SessionKey,
};
use sesscache::fleet::memory::MemoryRemote;

#[path = "support/session.rs"]
mod support;
use support::S;

const TLS1_2: i32 = 0x303;
const NOW: i64 = 1_000_000;

/// A TLS 1.2 session whose 32-byte id is `id` repeated, made under `sid_ctx`.
fn session(id: u8, time: i64, timeout: i64, sid_ctx: &[u8]) -> S {
    S::with_sid_ctx(SessionKey::new(TLS1_2, &[id; 32]).unwrap(), time, timeout, sid_ctx)
}

/// version | id length | id | time | timeout | sid_ctx: enough to make a new, distinct object.
struct TestCodec;
impl Codec<S> for TestCodec {
    fn encode(&self, s: &S) -> Option<Vec<u8>> {
        let (time, timeout, sid_ctx) = s.parts();
        let mut out = s.key().version().to_be_bytes().to_vec();
        out.push(s.key().id().len() as u8);
        out.extend_from_slice(s.key().id());
        out.extend_from_slice(&time.to_be_bytes());
        out.extend_from_slice(&timeout.to_be_bytes());
        out.extend_from_slice(sid_ctx);
        Some(out)
    }
    fn decode(&self, der: &[u8], _now: i64) -> Option<S> {
        let version = i32::from_be_bytes(der.get(..4)?.try_into().ok()?);
        let len = *der.get(4)? as usize;
        let id = der.get(5..5 + len)?;
        let rest = der.get(5 + len..)?;
        let time = i64::from_be_bytes(rest.get(..8)?.try_into().ok()?);
        let timeout = i64::from_be_bytes(rest.get(8..16)?.try_into().ok()?);
        Some(S::with_sid_ctx(SessionKey::new(version, id)?, time, timeout, &rest[16..]))
    }
}

/// The application's callbacks: removals with the thread they ran on, and a get callback
/// that would answer with `external` (counting its calls).
#[derive(Default)]
struct App {
    removed: Mutex<Vec<(SessionKey, ThreadId)>>,
    external: Option<S>,
    gets: AtomicUsize,
    news: AtomicUsize,
}
impl Callbacks<S> for App {
    fn removed(&self, s: &S) {
        self.removed.lock().unwrap().push((s.key(), std::thread::current().id()));
    }
}
impl GetCallback<S> for App {
    fn external_get(&self, _id: &[u8]) -> Option<S> {
        self.gets.fetch_add(1, Ordering::Relaxed);
        self.external.clone()
    }
}
impl HandshakeCallbacks<S> for App {
    fn new_session(&self, _s: &S) {
        self.news.fetch_add(1, Ordering::Relaxed);
    }
}

fn server(sid_ctx: &[u8]) -> Peer<'_> {
    Peer { role: Role::Server, version: TLS1_2, sid_ctx, verify_peer: false }
}

fn context(remote: &Arc<MemoryRemote>) -> Context<S> {
    let ctx = Context::default();
    assert!(ctx.attach_remote(remote.clone(), Box::new(TestCodec)));
    ctx
}

/// A full handshake at `ctx` that makes and stores `s`.
fn store(ctx: &Context<S>, s: &S, app: &App) {
    ctx.handshake_finished(&server(b"app"), s, false, NOW, app);
}

#[test]
fn a_session_stored_at_one_context_resumes_at_another_without_entering_its_cache() {
    let remote = Arc::new(MemoryRemote::default());
    let (a, b) = (context(&remote), context(&remote));
    let made = session(1, NOW, 300, b"app");
    store(&a, &made, &App::default());
    assert_eq!(remote.calls().publish.load(Ordering::Relaxed), 1);

    let app = App { external: Some(session(1, NOW, 300, b"app")), ..App::default() };
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
    store(&a, &session(2, NOW, 300, b"app"), &App::default());
    let got = b.resume_lookup(&server(b"other"), &[2; 32], NOW, &App::default());
    assert!(matches!(got, Resume::Miss));
    assert_eq!((b.counter(Counter::Hit), b.number()), (0, 0));
}

#[test]
fn a_session_forgotten_elsewhere_leaves_a_local_cache_at_its_next_lookup_on_that_thread() {
    let remote = Arc::new(MemoryRemote::default());
    let (a, b) = (context(&remote), context(&remote));
    let at_a = session(3, NOW, 300, b"app");
    let at_b = session(3, NOW, 300, b"app");
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
    store(&a, &session(4, NOW, 300, b"app"), &app);
    store(&a, &session(5, NOW, 300, b"app"), &app);
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
    let elsewhere = session(6, NOW, 300, b"app");
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
            let s = session(n, NOW, 300, b"app");
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
        &session(9, NOW, 300, b"app"),
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
    store(&a, &session(10, NOW, 100, b"app"), &App::default());
    assert!(matches!(b.resume_lookup(&server(b"app"), &[10; 32], NOW + 100, &App::default()), Resume::Hit(_)));
    assert!(matches!(b.resume_lookup(&server(b"app"), &[10; 32], NOW + 101, &App::default()), Resume::Miss));

    // The engine checks the session itself, whatever the remote believes about its expiry.
    let stale = session(11, NOW - 1000, 100, b"app");
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
    let other = session(13, NOW, 300, b"app");
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
    let s = session(14, NOW, 300, b"app");
    a.handshake_finished(&server(b"app"), &s, true, NOW, &App::default());
    assert_eq!(remote.calls().publish.load(Ordering::Relaxed), 0);
    assert!(!a.attach_remote(Arc::new(MemoryRemote::default()), Box::new(TestCodec)));
}
