//! The `sesscache_` handshake hooks: the points where OpenSSL's TLS 1.2 handshake touches the
//! session cache, for a TLS engine that is not OpenSSL. Called in handshake order, they move
//! every counter as libssl's handshake does:
//!
//! ```text
//! server: handshake_start -> server_resume (id offered) -> server_new_session (on a miss)
//!         -> handshake_finish
//! client: handshake_start -> client_resume (id in ServerHello) -> handshake_finish
//! ```
//! No lock is held while they call the application's callbacks. Preloaded, libssl runs the
//! handshake itself, so the hooks refuse (their failure value).

use std::ffi::{c_int, c_uchar, c_uint};

use super::session::SSL_SESSION;
use super::ssl::SSL;
use super::{borrow, bytes, guard, now};
use crate::preload::{mode, Mode};

fn native() -> bool {
    matches!(mode(), Mode::Native)
}
use crate::engine::{HandshakeSession, Peer, Resume, Role, SessionKey, DEFAULT_CTX_TIMEOUT};
use crate::session::{SessionFields, ShortBytes, MAX_SESSION_ID_LEN};

/// What the engine needs of the connection, copied out so no connection lock is held while
/// the engine runs callbacks (which may call back into this SSL).
struct PeerCopy {
    role: Role,
    version: i32,
    sid_ctx: ShortBytes,
    verify_peer: bool,
}

impl PeerCopy {
    fn of(ssl: &SSL) -> PeerCopy {
        let c = ssl.conn();
        PeerCopy { role: c.role, version: c.version, sid_ctx: c.sid_ctx, verify_peer: c.verify_peer }
    }
    fn peer(&self) -> Peer<'_> {
        Peer { role: self.role, version: self.version, sid_ctx: self.sid_ctx.as_slice(), verify_peer: self.verify_peer }
    }
}

/// A handshake begins and has negotiated `version` (e.g. TLS1_2_VERSION). Counts connect or
/// accept by the connection's role, or their renegotiate counters if it already finished a
/// handshake. Returns 1.
#[no_mangle]
pub unsafe extern "C" fn sesscache_handshake_start(s: *mut SSL, version: c_int) -> c_int {
    if !native() {
        return 0;
    }
    guard(0, || {
        let ssl = borrow(s)?;
        let (role, renegotiation, offerable) = {
            let mut c = ssl.conn();
            c.version = version;
            c.in_handshake = true;
            c.hit = false;
            let offerable = c.session.as_ref().is_some_and(|s| s.is_resumable());
            (c.role, c.finished_handshakes > 0, offerable)
        };
        ssl.ctx.cache.handshake_started(role, renegotiation);
        // A client with no session to offer starts a fresh one with no id, as libssl's
        // ClientHello does; a refused offer of it then counts no miss.
        if role == Role::Client && !offerable {
            install_new_session(ssl, &[]);
        }
        Some(1)
    })
}

/// The server received a ClientHello offering session `id`. Looks it up internally (unless
/// SSL_SESS_CACHE_NO_INTERNAL_LOOKUP; a miss counts), then through the get callback
/// (cb_hits; cached unless NO_INTERNAL_STORE), then checks version, id context and expiry (an
/// expired session counts a timeout and is removed). Returns 1 when the session is resumed
/// (it becomes the connection's session), 0 for a full handshake, -1 when the handshake must
/// fail (SSL_VERIFY_PEER with no session id context).
#[no_mangle]
pub unsafe extern "C" fn sesscache_server_resume(s: *mut SSL, id: *const c_uchar, id_len: c_uint) -> c_int {
    if !native() {
        return -1;
    }
    guard(-1, || {
        let ssl = borrow(s)?;
        let id = bytes(id, id_len as usize)?;
        let peer = PeerCopy::of(ssl);
        let result = ssl.ctx.cache.resume_lookup(&peer.peer(), id, now(), &ssl.ctx.hooks(s));
        Some(match result {
            Resume::Hit(session) => {
                let replaced = {
                    let mut c = ssl.conn();
                    c.hit = true;
                    c.session.replace(session)
                };
                // Its free callbacks may call into this connection: not under its lock.
                drop(replaced);
                1
            }
            Resume::Miss => 0,
            Resume::Fatal => -1,
        })
    })
}

/// A full handshake on the server: the connection gets a new session with a fresh 32-byte id
/// (from the context's SSL_CTX_set_generate_session_id callback, else random), the context's
/// timeout, the connection's id context and version. Returns 1, or 0 when the generator fails,
/// gives a bad length or an id already cached.
#[no_mangle]
pub unsafe extern "C" fn sesscache_server_new_session(s: *mut SSL) -> c_int {
    if !native() {
        return 0;
    }
    guard(0, || {
        let ssl = borrow(s)?;
        let mut id = generate_session_id(ssl)?;
        if !ssl.ctx.cache.server_keeps_session_id() {
            id.clear();
        }
        install_new_session(ssl, &id);
        Some(1)
    })
}

/// The client received the ServerHello with `server_id`. If the connection offered a session
/// (SSL_set_session) with that id, it is resumed: returns 1. Otherwise the connection gets a
/// new session under the server's id (a refused offer counts a miss on the client's context):
/// returns 0.
#[no_mangle]
pub unsafe extern "C" fn sesscache_client_resume(s: *mut SSL, server_id: *const c_uchar, id_len: c_uint) -> c_int {
    if !native() {
        return -1;
    }
    guard(-1, || {
        let ssl = borrow(s)?;
        let server_id = bytes(server_id, id_len as usize)?;
        if server_id.len() > MAX_SESSION_ID_LEN {
            return None;
        }
        let offered = ssl.conn().session.clone();
        if let Some(offered) = offered {
            let offered_id = offered.fields().session_id;
            if !offered_id.is_empty() && offered_id.as_slice() == server_id {
                ssl.conn().hit = true;
                return Some(1);
            }
            if !offered_id.is_empty() {
                ssl.ctx.cache.client_offer_refused();
            }
        }
        install_new_session(ssl, server_id);
        Some(0)
    })
}

/// The handshake finished. Counts a client's hit, stores the session as the mode says (not
/// when resumed), offers it to the new-session callback, counts the good handshake, and on
/// every 256th good one flushes expired sessions unless SSL_SESS_CACHE_NO_AUTO_CLEAR.
/// Returns 1, 0 if the connection has no session.
#[no_mangle]
pub unsafe extern "C" fn sesscache_handshake_finish(s: *mut SSL) -> c_int {
    if !native() {
        return 0;
    }
    guard(0, || {
        let ssl = borrow(s)?;
        let peer = PeerCopy::of(ssl);
        let (session, hit) = {
            let c = ssl.conn();
            (c.session.clone()?, c.hit)
        };
        ssl.ctx.cache.handshake_finished(&peer.peer(), &session, hit, now(), &ssl.ctx.hooks(s));
        let mut c = ssl.conn();
        c.in_handshake = false;
        c.finished_handshakes += 1;
        Some(1)
    })
}

/// The connection sent or received a fatal alert: its session leaves the cache (marked not
/// resumable, remove callback), as libssl does on either side. Returns 1.
#[no_mangle]
pub unsafe extern "C" fn sesscache_fatal_alert(s: *mut SSL) -> c_int {
    if !native() {
        return 0;
    }
    guard(0, || {
        let ssl = borrow(s)?;
        let session = ssl.conn().session.clone();
        if let Some(session) = session {
            ssl.ctx.cache.remove(&session, &ssl.ctx.hooks(s));
        }
        Some(1)
    })
}

/// Whether the connection verifies its peer (SSL_VERIFY_PEER), which changes what the cache
/// may store and resume. Returns 1.
#[no_mangle]
pub unsafe extern "C" fn sesscache_set_verify_peer(s: *mut SSL, on: c_int) -> c_int {
    if !native() {
        return 0;
    }
    guard(0, || {
        borrow(s)?.conn().verify_peer = on != 0;
        Some(1)
    })
}

/// The connection sent close_notify: its session stays cached when the SSL is freed (as after
/// SSL_shutdown). Returns 1.
#[no_mangle]
pub unsafe extern "C" fn sesscache_shutdown(s: *mut SSL) -> c_int {
    if !native() {
        return 0;
    }
    guard(0, || {
        borrow(s)?.conn().shutdown_sent = true;
        Some(1)
    })
}

/// A new session for the connection's current handshake, as OpenSSL's `ssl_get_new_session`.
fn install_new_session(ssl: &SSL, id: &[u8]) {
    let ctx_timeout = ssl.ctx.cache.timeout();
    let mut f = SessionFields::new(now());
    f.timeout = if ctx_timeout == 0 { DEFAULT_CTX_TIMEOUT } else { ctx_timeout.max(0) };
    f.session_id = ShortBytes::new(id).unwrap_or_default();
    f.verify_result = 0;
    {
        let c = ssl.conn();
        f.ssl_version = c.version;
        f.sid_ctx = c.sid_ctx;
    }
    // The new callbacks (here) and the replaced session's free callbacks (below) may call
    // into this connection: neither runs under its lock.
    let session = SSL_SESSION::with_fields(f);
    let replaced = {
        let mut c = ssl.conn();
        c.hit = false;
        c.session.replace(session)
    };
    drop(replaced);
}

/// OpenSSL's id choice: the application's generator, which may shorten the id but not to 0,
/// and must not repeat a cached id; or random bytes, retried a few times on a collision.
fn generate_session_id(ssl: &SSL) -> Option<Vec<u8>> {
    const ATTEMPTS: usize = 10;
    let version = ssl.conn().version;
    let cached = |id: &[u8]| SessionKey::new(version, id).is_some_and(|k| ssl.ctx.cache.contains(&k));
    let generator = ssl.ctx.callbacks.read().generate_id;
    let mut id = [0u8; MAX_SESSION_ID_LEN];
    if let Some(generate) = generator {
        let mut len = MAX_SESSION_ID_LEN as c_uint;
        // SAFETY: the application's generator, given a 32-byte buffer and its length.
        if unsafe { generate(ssl.as_ptr(), id.as_mut_ptr(), &mut len) } == 0 {
            return None;
        }
        let len = len as usize;
        if len == 0 || len > MAX_SESSION_ID_LEN || cached(&id[..len]) {
            return None;
        }
        return Some(id[..len].to_vec());
    }
    for _ in 0..ATTEMPTS {
        fill_random(&mut id)?;
        if !cached(&id) {
            return Some(id.to_vec());
        }
    }
    None
}

fn fill_random(buf: &mut [u8]) -> Option<()> {
    let mut filled = 0;
    while filled < buf.len() {
        // SAFETY: writes at most the remaining length into `buf`.
        let n = unsafe { libc::getrandom(buf[filled..].as_mut_ptr().cast(), buf.len() - filled, 0) };
        if n <= 0 {
            return None;
        }
        filled += n as usize;
    }
    Some(())
}
