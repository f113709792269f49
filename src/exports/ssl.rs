//! `SSL`: a connection as far as the session cache sees it.

use std::ffi::{c_int, c_uchar, c_uint};

use crate::abi::*;
use crate::{native, preload};

#[no_mangle]
pub unsafe extern "C" fn SSL_new(ctx: *mut SSL_CTX) -> *mut SSL {
    dispatch! {
        error: std::ptr::null_mut(),
        native => native::ssl::new(ctx),
        preload(rt) => preload::ctx::new_ssl(rt, ctx),
        pass_through => libssl SSL_new(ctx),
    }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_free(s: *mut SSL) {
    dispatch! {
        error: (),
        native => native::ssl::free(s),
        preload => libssl,
        pass_through => libssl SSL_free(s),
    }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_get_SSL_CTX(s: *const SSL) -> *mut SSL_CTX {
    dispatch! {
        error: std::ptr::null_mut(),
        native => native::ssl::get_ssl_ctx(s),
        preload => libssl,
        pass_through => libssl SSL_get_SSL_CTX(s),
    }
}

/// The negotiated protocol version; TLS1_3_VERSION before a handshake, as libssl 3.0.
#[no_mangle]
pub unsafe extern "C" fn SSL_version(s: *const SSL) -> c_int {
    dispatch! {
        error: 0,
        native => native::ssl::version(s),
        preload => libssl,
        pass_through => libssl SSL_version(s),
    }
}

/// The session to offer (client) or NULL; the connection takes its own reference.
#[no_mangle]
pub unsafe extern "C" fn SSL_set_session(s: *mut SSL, session: *mut SSL_SESSION) -> c_int {
    dispatch! {
        error: 0,
        native => native::ssl::set_session(s, session),
        preload => libssl,
        pass_through => libssl SSL_set_session(s, session),
    }
}

/// The connection's session, borrowed (no reference taken).
#[no_mangle]
pub unsafe extern "C" fn SSL_get_session(s: *const SSL) -> *mut SSL_SESSION {
    dispatch! {
        error: std::ptr::null_mut(),
        native => native::ssl::get_session(s),
        preload => libssl,
        pass_through => libssl SSL_get_session(s),
    }
}

/// A macro for `SSL_get_session` in OpenSSL.
#[no_mangle]
pub unsafe extern "C" fn SSL_get0_session(s: *const SSL) -> *mut SSL_SESSION {
    // SAFETY: the caller's argument, passed on.
    unsafe { SSL_get_session(s) }
}

/// The connection's session with a new reference for the caller.
#[no_mangle]
pub unsafe extern "C" fn SSL_get1_session(s: *mut SSL) -> *mut SSL_SESSION {
    dispatch! {
        error: std::ptr::null_mut(),
        native => native::ssl::get1_session(s),
        preload => libssl,
        pass_through => libssl SSL_get1_session(s),
    }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_session_reused(s: *const SSL) -> c_int {
    dispatch! {
        error: 0,
        native => native::ssl::session_reused(s),
        preload => libssl,
        pass_through => libssl SSL_session_reused(s),
    }
}

/// At most 32 bytes.
#[no_mangle]
pub unsafe extern "C" fn SSL_set_session_id_context(s: *mut SSL, sid_ctx: *const c_uchar, len: c_uint) -> c_int {
    dispatch! {
        error: 0,
        native => native::ssl::set_session_id_context(s, sid_ctx, len),
        preload => libssl,
        pass_through => libssl SSL_set_session_id_context(s, sid_ctx, len),
    }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_set_connect_state(s: *mut SSL) {
    dispatch! {
        error: (),
        native => native::ssl::set_connect_state(s),
        preload => libssl,
        pass_through => libssl SSL_set_connect_state(s),
    }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_set_accept_state(s: *mut SSL) {
    dispatch! {
        error: (),
        native => native::ssl::set_accept_state(s),
        preload => libssl,
        pass_through => libssl SSL_set_accept_state(s),
    }
}

/// 1 if the context caches a session under this id for the connection's current version.
#[no_mangle]
pub unsafe extern "C" fn SSL_has_matching_session_id(s: *const SSL, id: *const c_uchar, id_len: c_uint) -> c_int {
    dispatch! {
        error: 0,
        native => native::ssl::has_matching_session_id(s, id, id_len),
        preload(rt) => preload::ctx::has_matching_session_id(rt, s, id, id_len),
        pass_through => libssl SSL_has_matching_session_id(s, id, id_len),
    }
}
