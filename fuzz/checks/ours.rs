//! Every use of the sesscache crate's paths by the fuzz checks, in one place: when src/ moves
//! (codec/der/, exports/ + native/), only this module changes.

use std::ffi::{c_int, c_long};

use sesscache::abi::{SSL_CTX, SSL_SESSION};
pub use sesscache::codec::session::SessionFields as Fields;
use sesscache::exports::{callbacks, ctx, method, session, ssl, stats};

use super::cache_ops::CacheApi;
use super::libssl::Ptr;

/// d2i_SSL_SESSION: the session and the bytes it took; `now` is the time given to a session
/// whose DER has none.
pub fn decode(input: &[u8], now: i64) -> Option<(Fields, usize)> {
    sesscache::codec::der::decode(input, now)
}

/// d2i_SSL_SESSION into an existing session.
pub fn decode_into(input: &[u8], now: i64, f: &mut Fields) -> Option<usize> {
    sesscache::codec::der::decode_into(input, now, f)
}

/// i2d_SSL_SESSION.
pub fn encode(f: &Fields) -> Option<Vec<u8>> {
    sesscache::codec::der::encode(f)
}

/// Our native C API, called directly (the fuzz binary has no libssl in its own namespace, so
/// the library runs natively).
pub struct Ours;

unsafe extern "C" fn remove_cb(_ctx: *mut SSL_CTX, s: *mut SSL_SESSION) {
    super::cache_ops::removed(s.cast());
}

impl CacheApi for Ours {
    unsafe fn ctx_new(&self) -> Ptr {
        let c = ctx::SSL_CTX_new(method::TLS_server_method());
        assert!(!c.is_null(), "our SSL_CTX_new failed");
        callbacks::SSL_CTX_sess_set_remove_cb(c, Some(remove_cb));
        c.cast()
    }
    unsafe fn ctx_free(&self, c: Ptr) {
        ctx::SSL_CTX_free(c.cast())
    }
    unsafe fn stats(&self, c: Ptr) -> [c_long; 12] {
        let c = c.cast();
        [
            stats::SSL_CTX_sess_number(c),
            stats::SSL_CTX_sess_connect(c),
            stats::SSL_CTX_sess_connect_good(c),
            stats::SSL_CTX_sess_connect_renegotiate(c),
            stats::SSL_CTX_sess_accept(c),
            stats::SSL_CTX_sess_accept_good(c),
            stats::SSL_CTX_sess_accept_renegotiate(c),
            stats::SSL_CTX_sess_hits(c),
            stats::SSL_CTX_sess_cb_hits(c),
            stats::SSL_CTX_sess_misses(c),
            stats::SSL_CTX_sess_timeouts(c),
            stats::SSL_CTX_sess_cache_full(c),
        ]
    }
    unsafe fn set_cache_size(&self, c: Ptr, n: c_long) -> c_long {
        ctx::SSL_CTX_sess_set_cache_size(c.cast(), n)
    }
    unsafe fn cache_size(&self, c: Ptr) -> c_long {
        ctx::SSL_CTX_sess_get_cache_size(c.cast())
    }
    unsafe fn set_cache_mode(&self, c: Ptr, m: c_long) -> c_long {
        ctx::SSL_CTX_set_session_cache_mode(c.cast(), m)
    }
    unsafe fn cache_mode(&self, c: Ptr) -> c_long {
        ctx::SSL_CTX_get_session_cache_mode(c.cast())
    }
    unsafe fn set_timeout(&self, c: Ptr, t: c_long) -> c_long {
        ctx::SSL_CTX_set_timeout(c.cast(), t)
    }
    unsafe fn timeout(&self, c: Ptr) -> c_long {
        ctx::SSL_CTX_get_timeout(c.cast())
    }
    unsafe fn add(&self, c: Ptr, s: Ptr) -> c_int {
        ctx::SSL_CTX_add_session(c.cast(), s.cast())
    }
    unsafe fn remove(&self, c: Ptr, s: Ptr) -> c_int {
        ctx::SSL_CTX_remove_session(c.cast(), s.cast())
    }
    unsafe fn flush(&self, c: Ptr, t: c_long) {
        ctx::SSL_CTX_flush_sessions(c.cast(), t)
    }
    unsafe fn ssl_new(&self, c: Ptr) -> Ptr {
        let s = ssl::SSL_new(c.cast());
        assert!(!s.is_null(), "our SSL_new failed");
        s.cast()
    }
    unsafe fn ssl_free(&self, s: Ptr) {
        ssl::SSL_free(s.cast())
    }
    unsafe fn has_matching(&self, s: Ptr, id: &[u8]) -> c_int {
        ssl::SSL_has_matching_session_id(s.cast(), id.as_ptr(), id.len() as u32)
    }
    unsafe fn session_new(&self) -> Ptr {
        let s = session::SSL_SESSION_new();
        assert!(!s.is_null(), "our SSL_SESSION_new failed");
        s.cast()
    }
    unsafe fn session_free(&self, s: Ptr) {
        session::SSL_SESSION_free(s.cast())
    }
    unsafe fn session_dup(&self, s: Ptr) -> Ptr {
        session::SSL_SESSION_dup(s.cast()).cast()
    }
    unsafe fn set1_id(&self, s: Ptr, id: &[u8]) -> c_int {
        session::SSL_SESSION_set1_id(s.cast(), id.as_ptr(), id.len() as u32)
    }
    unsafe fn set_protocol_version(&self, s: Ptr, v: c_int) -> c_int {
        session::SSL_SESSION_set_protocol_version(s.cast(), v)
    }
    unsafe fn set_time(&self, s: Ptr, t: c_long) -> c_long {
        session::SSL_SESSION_set_time(s.cast(), t)
    }
    unsafe fn time(&self, s: Ptr) -> c_long {
        session::SSL_SESSION_get_time(s.cast())
    }
    unsafe fn set_session_timeout(&self, s: Ptr, t: c_long) -> c_long {
        session::SSL_SESSION_set_timeout(s.cast(), t)
    }
    unsafe fn session_timeout(&self, s: Ptr) -> c_long {
        session::SSL_SESSION_get_timeout(s.cast())
    }
    unsafe fn is_resumable(&self, s: Ptr) -> c_int {
        session::SSL_SESSION_is_resumable(s.cast())
    }
}
