//! `SSL_CTX`: the context that owns a session cache; its life cycle, `SSL_CTX_ctrl`, the cache
//! settings, and the manipulation functions (add, remove, flush).

use std::ffi::{c_char, c_int, c_long, c_uchar, c_uint, c_void};

use crate::abi::*;
use crate::{native, preload};

// ---- life cycle ----

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_new(method: *const SSL_METHOD) -> *mut SSL_CTX {
    dispatch! {
        error: std::ptr::null_mut(),
        native => native::ctx::new(method),
        preload(rt) => preload::ctx::new(rt, method),
        pass_through => libssl SSL_CTX_new(method),
    }
}

/// OpenSSL 3's constructor with a library context and a property query, which choose
/// providers. Natively there are no providers, so it is `SSL_CTX_new`; preloaded, libssl's,
/// with the engine as its cache (OpenSSL's own tools make their contexts this way).
#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_new_ex(
    libctx: *mut OSSL_LIB_CTX,
    propq: *const c_char,
    method: *const SSL_METHOD,
) -> *mut SSL_CTX {
    dispatch! {
        error: std::ptr::null_mut(),
        native => native::ctx::new(method),
        preload(rt) => preload::ctx::new_ex(rt, libctx, propq, method),
        pass_through => libssl SSL_CTX_new_ex(libctx, propq, method),
    }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_up_ref(ctx: *mut SSL_CTX) -> c_int {
    dispatch! {
        error: 0,
        native => native::ctx::up_ref(ctx),
        preload => libssl,
        pass_through => libssl SSL_CTX_up_ref(ctx),
    }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_free(ctx: *mut SSL_CTX) {
    dispatch! {
        error: (),
        native => native::ctx::free(ctx),
        preload => libssl,
        pass_through => libssl SSL_CTX_free(ctx),
    }
}

// ---- SSL_CTX_ctrl: the cache's commands; any other command answers 0 ----

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_ctrl(ctx: *mut SSL_CTX, cmd: c_int, larg: c_long, parg: *mut c_void) -> c_long {
    dispatch! {
        error: 0,
        native => native::ctx::ctrl(ctx, cmd, larg, parg),
        preload(rt) => preload::ctx::ctrl(rt, ctx, cmd, larg, parg),
        pass_through => libssl SSL_CTX_ctrl(ctx, cmd, larg, parg),
    }
}

// ---- settings (macros over SSL_CTX_ctrl in OpenSSL, functions here) ----

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_set_session_cache_mode(ctx: *mut SSL_CTX, mode: c_long) -> c_long {
    // SAFETY: the caller's arguments, passed on.
    unsafe { SSL_CTX_ctrl(ctx, SSL_CTRL_SET_SESS_CACHE_MODE, mode, std::ptr::null_mut()) }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_get_session_cache_mode(ctx: *mut SSL_CTX) -> c_long {
    // SAFETY: as above.
    unsafe { SSL_CTX_ctrl(ctx, SSL_CTRL_GET_SESS_CACHE_MODE, 0, std::ptr::null_mut()) }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_sess_set_cache_size(ctx: *mut SSL_CTX, size: c_long) -> c_long {
    // SAFETY: as above.
    unsafe { SSL_CTX_ctrl(ctx, SSL_CTRL_SET_SESS_CACHE_SIZE, size, std::ptr::null_mut()) }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_sess_get_cache_size(ctx: *mut SSL_CTX) -> c_long {
    // SAFETY: as above.
    unsafe { SSL_CTX_ctrl(ctx, SSL_CTRL_GET_SESS_CACHE_SIZE, 0, std::ptr::null_mut()) }
}

/// Returns the previous timeout. Any value is stored; a new session takes it (negative
/// becomes 0) unless it is 0, when the method's default applies.
#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_set_timeout(ctx: *mut SSL_CTX, t: c_long) -> c_long {
    dispatch! {
        error: 0,
        native => native::ctx::set_timeout(ctx, t),
        preload => libssl,
        pass_through => libssl SSL_CTX_set_timeout(ctx, t),
    }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_get_timeout(ctx: *const SSL_CTX) -> c_long {
    dispatch! {
        error: 0,
        native => native::ctx::get_timeout(ctx),
        preload => libssl,
        pass_through => libssl SSL_CTX_get_timeout(ctx),
    }
}

/// At most 32 bytes; connections made afterwards start with it.
#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_set_session_id_context(
    ctx: *mut SSL_CTX,
    sid_ctx: *const c_uchar,
    len: c_uint,
) -> c_int {
    dispatch! {
        error: 0,
        native => native::ctx::set_session_id_context(ctx, sid_ctx, len),
        preload => libssl,
        pass_through => libssl SSL_CTX_set_session_id_context(ctx, sid_ctx, len),
    }
}

// ---- manipulation ----

/// Removes the sessions timed out at time `t` (every session for 0), firing the remove
/// callback for each, oldest expiry first.
#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_flush_sessions(ctx: *mut SSL_CTX, t: c_long) {
    dispatch! {
        error: (),
        native => native::ctx::flush(ctx, t),
        preload(rt) => preload::ctx::flush(rt, ctx, t),
        pass_through => libssl SSL_CTX_flush_sessions(ctx, t),
    }
}

/// 1 when the session is newly cached, 0 when this very session already was.
#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_add_session(ctx: *mut SSL_CTX, s: *mut SSL_SESSION) -> c_int {
    dispatch! {
        error: 0,
        native => native::ctx::add_session(ctx, s),
        preload(rt) => preload::ctx::add_session(rt, ctx, s),
        pass_through => libssl SSL_CTX_add_session(ctx, s),
    }
}

/// 1 when a session with this one's key was cached and is now removed.
#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_remove_session(ctx: *mut SSL_CTX, s: *mut SSL_SESSION) -> c_int {
    dispatch! {
        error: 0,
        native => native::ctx::remove_session(ctx, s),
        preload(rt) => preload::ctx::remove_session(rt, ctx, s),
        pass_through => libssl SSL_CTX_remove_session(ctx, s),
    }
}

/// The pre-1.0 name of `SSL_CTX_add_session`.
#[no_mangle]
pub unsafe extern "C" fn SSL_add_session(ctx: *mut SSL_CTX, s: *mut SSL_SESSION) -> c_int {
    // SAFETY: the caller's arguments, passed on.
    unsafe { SSL_CTX_add_session(ctx, s) }
}

/// The pre-1.0 name of `SSL_CTX_remove_session`.
#[no_mangle]
pub unsafe extern "C" fn SSL_remove_session(ctx: *mut SSL_CTX, s: *mut SSL_SESSION) -> c_int {
    // SAFETY: as above.
    unsafe { SSL_CTX_remove_session(ctx, s) }
}
