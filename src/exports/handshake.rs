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

use crate::abi::*;
use crate::native;

/// A handshake begins and has negotiated `version` (e.g. TLS1_2_VERSION). Counts connect or
/// accept by the connection's role, or their renegotiate counters if it already finished a
/// handshake. Returns 1.
#[no_mangle]
pub unsafe extern "C" fn sesscache_handshake_start(s: *mut SSL, version: c_int) -> c_int {
    dispatch! {
        error: 0,
        native => native::handshake::handshake_start(s, version),
        preload => error,
        pass_through => error,
    }
}

/// The server received a ClientHello offering session `id`. Looks it up internally (unless
/// SSL_SESS_CACHE_NO_INTERNAL_LOOKUP; a miss counts), then through the get callback
/// (cb_hits; cached unless NO_INTERNAL_STORE), then checks version, id context and expiry (an
/// expired session counts a timeout and is removed). Returns 1 when the session is resumed
/// (it becomes the connection's session), 0 for a full handshake, -1 when the handshake must
/// fail (SSL_VERIFY_PEER with no session id context).
#[no_mangle]
pub unsafe extern "C" fn sesscache_server_resume(s: *mut SSL, id: *const c_uchar, id_len: c_uint) -> c_int {
    dispatch! {
        error: -1,
        native => native::handshake::server_resume(s, id, id_len),
        preload => error,
        pass_through => error,
    }
}

/// A full handshake on the server: the connection gets a new session with a fresh 32-byte id
/// (from the context's SSL_CTX_set_generate_session_id callback, else random), the context's
/// timeout, the connection's id context and version. Returns 1, or 0 when the generator fails,
/// gives a bad length or an id already cached.
#[no_mangle]
pub unsafe extern "C" fn sesscache_server_new_session(s: *mut SSL) -> c_int {
    dispatch! {
        error: 0,
        native => native::handshake::server_new_session(s),
        preload => error,
        pass_through => error,
    }
}

/// The client received the ServerHello with `server_id`. If the connection offered a session
/// (SSL_set_session) with that id, it is resumed: returns 1. Otherwise the connection gets a
/// new session under the server's id (a refused offer counts a miss on the client's context):
/// returns 0.
#[no_mangle]
pub unsafe extern "C" fn sesscache_client_resume(s: *mut SSL, server_id: *const c_uchar, id_len: c_uint) -> c_int {
    dispatch! {
        error: -1,
        native => native::handshake::client_resume(s, server_id, id_len),
        preload => error,
        pass_through => error,
    }
}

/// The handshake finished. Counts a client's hit, stores the session as the mode says (not
/// when resumed), offers it to the new-session callback, counts the good handshake, and on
/// every 256th good one flushes expired sessions unless SSL_SESS_CACHE_NO_AUTO_CLEAR.
/// Returns 1, 0 if the connection has no session.
#[no_mangle]
pub unsafe extern "C" fn sesscache_handshake_finish(s: *mut SSL) -> c_int {
    dispatch! {
        error: 0,
        native => native::handshake::handshake_finish(s),
        preload => error,
        pass_through => error,
    }
}

/// The connection sent or received a fatal alert: its session leaves the cache (marked not
/// resumable, remove callback), as libssl does on either side. Returns 1.
#[no_mangle]
pub unsafe extern "C" fn sesscache_fatal_alert(s: *mut SSL) -> c_int {
    dispatch! {
        error: 0,
        native => native::handshake::fatal_alert(s),
        preload => error,
        pass_through => error,
    }
}

/// Whether the connection verifies its peer (SSL_VERIFY_PEER), which changes what the cache
/// may store and resume. Returns 1.
#[no_mangle]
pub unsafe extern "C" fn sesscache_set_verify_peer(s: *mut SSL, on: c_int) -> c_int {
    dispatch! {
        error: 0,
        native => native::handshake::set_verify_peer(s, on),
        preload => error,
        pass_through => error,
    }
}

/// The connection sent close_notify: its session stays cached when the SSL is freed (as after
/// SSL_shutdown). Returns 1.
#[no_mangle]
pub unsafe extern "C" fn sesscache_shutdown(s: *mut SSL) -> c_int {
    dispatch! {
        error: 0,
        native => native::handshake::shutdown(s),
        preload => error,
        pass_through => error,
    }
}
