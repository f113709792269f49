//! The `sesscache_` handshake hooks natively: the points where OpenSSL's TLS 1.2 handshake touches the
//! session cache, for a TLS engine that is not OpenSSL. Called in handshake order, they move
//! every counter as libssl's handshake does:
//!
//! ```text
//! server: handshake_start -> server_resume (id offered) -> server_new_session (on a miss)
//!         -> handshake_finish
//! client: handshake_start -> client_resume (id in ServerHello) -> handshake_finish
//! ```
//! No lock is held while they call the application's callbacks. (Preloaded, libssl runs the
//! handshake itself: the exports answer the failure value without coming here.)

use std::ffi::{c_int, c_uchar, c_uint};

use super::session::Session;
use super::ssl::Conn;
use crate::abi::boundary::borrow;
use crate::abi::*;
use crate::codec::session::{SessionFields, ShortBytes, MAX_SESSION_ID_LEN};
use crate::engine::{HandshakeSession, Peer, Resume, Role, SessionKey, DEFAULT_CTX_TIMEOUT};

/// What the engine needs of the connection, copied out so no connection lock is held while
/// the engine runs callbacks (which may call back into this SSL).
struct PeerCopy {
    role: Role,
    version: i32,
    sid_ctx: ShortBytes,
    verify_peer: bool,
}

impl PeerCopy {
    fn of(ssl: &Conn) -> PeerCopy {
        let c = ssl.conn();
        PeerCopy { role: c.role, version: c.version, sid_ctx: c.sid_ctx, verify_peer: c.verify_peer }
    }
    fn peer(&self) -> Peer<'_> {
        Peer { role: self.role, version: self.version, sid_ctx: self.sid_ctx.as_slice(), verify_peer: self.verify_peer }
    }
}

/// A new session for the connection's current handshake, as OpenSSL's `ssl_get_new_session`.
fn install_new_session(ssl: &Conn, id: &[u8]) {
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
    let session = Session::with_fields(f);
    let replaced = {
        let mut c = ssl.conn();
        c.hit = false;
        c.session.replace(session)
    };
    drop(replaced);
}

/// OpenSSL's id choice: the application's generator, which may shorten the id but not to 0,
/// and must not repeat a cached id; or random bytes, retried a few times on a collision.
fn generate_session_id(ssl: &Conn) -> Option<Vec<u8>> {
    const ATTEMPTS: usize = 10;
    let version = ssl.conn().version;
    let cached = |id: &[u8]| SessionKey::new(version, id).is_some_and(|k| ssl.ctx.cache.contains(&k));
    let generator = ssl.ctx.callbacks.snapshot().generate_id;
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

pub(crate) unsafe fn handshake_start(s: *mut SSL, version: c_int) -> Option<c_int> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe {
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
    }
}

pub(crate) unsafe fn server_resume(s: *mut SSL, id: *const c_uchar, id_len: c_uint) -> Option<c_int> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe {
        let ssl = borrow(s)?;
        let id = bytes(id, id_len as usize)?;
        let peer = PeerCopy::of(ssl);
        let result = ssl.ctx.cache.resume_lookup(&peer.peer(), id, now(), &ssl.ctx.callbacks_for(s));
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
    }
}

pub(crate) unsafe fn server_new_session(s: *mut SSL) -> Option<c_int> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe {
        let ssl = borrow(s)?;
        let mut id = generate_session_id(ssl)?;
        if !ssl.ctx.cache.server_keeps_session_id() {
            id.clear();
        }
        install_new_session(ssl, &id);
        Some(1)
    }
}

pub(crate) unsafe fn client_resume(s: *mut SSL, server_id: *const c_uchar, id_len: c_uint) -> Option<c_int> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe {
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
    }
}

pub(crate) unsafe fn handshake_finish(s: *mut SSL) -> Option<c_int> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe {
        let ssl = borrow(s)?;
        let peer = PeerCopy::of(ssl);
        let (session, hit) = {
            let c = ssl.conn();
            (c.session.clone()?, c.hit)
        };
        ssl.ctx.cache.handshake_finished(&peer.peer(), &session, hit, now(), &ssl.ctx.callbacks_for(s));
        let mut c = ssl.conn();
        c.in_handshake = false;
        c.finished_handshakes += 1;
        Some(1)
    }
}

pub(crate) unsafe fn fatal_alert(s: *mut SSL) -> Option<c_int> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe {
        let ssl = borrow(s)?;
        let session = ssl.conn().session.clone();
        if let Some(session) = session {
            ssl.ctx.cache.remove(&session, &ssl.ctx.callbacks_for(s));
        }
        Some(1)
    }
}

pub(crate) unsafe fn set_verify_peer(s: *mut SSL, on: c_int) -> Option<c_int> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe {
        borrow(s)?.conn().verify_peer = on != 0;
        Some(1)
    }
}

pub(crate) unsafe fn shutdown(s: *mut SSL) -> Option<c_int> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe {
        borrow(s)?.conn().shutdown_sent = true;
        Some(1)
    }
}
