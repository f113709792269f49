//! The external-cache callbacks (new, remove, get) and the session id generator: how they are
//! set and read. The engine calls them only after releasing its locks.

use std::ffi::c_int;

use crate::abi::*;
use crate::native::callbacks as cbs;
use crate::{native, preload};

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_sess_set_new_cb(ctx: *mut SSL_CTX, cb: sesscache_new_session_cb) {
    dispatch! {
        error: (),
        native => cbs::set(ctx, |c| c.new_session = cb),
        preload(rt) => preload::ctx::set_new_cb(rt, ctx, cb),
        pass_through => libssl SSL_CTX_sess_set_new_cb(ctx, cb),
    }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_sess_get_new_cb(ctx: *mut SSL_CTX) -> sesscache_new_session_cb {
    dispatch! {
        error: None,
        native => cbs::get(ctx, |c| c.new_session),
        preload(rt) => preload::ctx::get_new_cb(rt, ctx),
        pass_through => libssl SSL_CTX_sess_get_new_cb(ctx),
    }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_sess_set_remove_cb(ctx: *mut SSL_CTX, cb: sesscache_remove_session_cb) {
    dispatch! {
        error: (),
        native => cbs::set(ctx, |c| c.remove_session = cb),
        preload(rt) => preload::ctx::set_remove_cb(rt, ctx, cb),
        pass_through => libssl SSL_CTX_sess_set_remove_cb(ctx, cb),
    }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_sess_get_remove_cb(ctx: *mut SSL_CTX) -> sesscache_remove_session_cb {
    dispatch! {
        error: None,
        native => cbs::get(ctx, |c| c.remove_session),
        preload(rt) => preload::ctx::get_remove_cb(rt, ctx),
        pass_through => libssl SSL_CTX_sess_get_remove_cb(ctx),
    }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_sess_set_get_cb(ctx: *mut SSL_CTX, cb: sesscache_get_session_cb) {
    dispatch! {
        error: (),
        native => cbs::set(ctx, |c| c.get_session = cb),
        preload(rt) => preload::ctx::set_get_cb(rt, ctx, cb),
        pass_through => libssl SSL_CTX_sess_set_get_cb(ctx, cb),
    }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_sess_get_get_cb(ctx: *mut SSL_CTX) -> sesscache_get_session_cb {
    dispatch! {
        error: None,
        native => cbs::get(ctx, |c| c.get_session),
        preload(rt) => preload::ctx::get_get_cb(rt, ctx),
        pass_through => libssl SSL_CTX_sess_get_get_cb(ctx),
    }
}

/// The generator `sesscache_server_new_session` uses for new session ids. Returns 1.
#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_set_generate_session_id(ctx: *mut SSL_CTX, cb: GEN_SESSION_CB) -> c_int {
    dispatch! {
        error: 0,
        native => native::callbacks::set_generate_session_id(ctx, cb),
        preload(rt) => preload::ctx::set_generate_session_id(rt, ctx, cb),
        pass_through => libssl SSL_CTX_set_generate_session_id(ctx, cb),
    }
}
