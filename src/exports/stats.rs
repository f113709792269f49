//! The twelve statistics as real functions (macros over `SSL_CTX_ctrl` in OpenSSL). Written
//! out one by one because the header generator does not expand macros.

use std::ffi::c_long;

use super::ctx::SSL_CTX_ctrl;
use crate::abi::*;

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_sess_number(ctx: *mut SSL_CTX) -> c_long {
    // SAFETY: the caller's argument, passed on.
    unsafe { SSL_CTX_ctrl(ctx, SSL_CTRL_SESS_NUMBER, 0, std::ptr::null_mut()) }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_sess_connect(ctx: *mut SSL_CTX) -> c_long {
    // SAFETY: the caller's argument, passed on.
    unsafe { SSL_CTX_ctrl(ctx, SSL_CTRL_SESS_CONNECT, 0, std::ptr::null_mut()) }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_sess_connect_good(ctx: *mut SSL_CTX) -> c_long {
    // SAFETY: the caller's argument, passed on.
    unsafe { SSL_CTX_ctrl(ctx, SSL_CTRL_SESS_CONNECT_GOOD, 0, std::ptr::null_mut()) }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_sess_connect_renegotiate(ctx: *mut SSL_CTX) -> c_long {
    // SAFETY: the caller's argument, passed on.
    unsafe { SSL_CTX_ctrl(ctx, SSL_CTRL_SESS_CONNECT_RENEGOTIATE, 0, std::ptr::null_mut()) }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_sess_accept(ctx: *mut SSL_CTX) -> c_long {
    // SAFETY: the caller's argument, passed on.
    unsafe { SSL_CTX_ctrl(ctx, SSL_CTRL_SESS_ACCEPT, 0, std::ptr::null_mut()) }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_sess_accept_good(ctx: *mut SSL_CTX) -> c_long {
    // SAFETY: the caller's argument, passed on.
    unsafe { SSL_CTX_ctrl(ctx, SSL_CTRL_SESS_ACCEPT_GOOD, 0, std::ptr::null_mut()) }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_sess_accept_renegotiate(ctx: *mut SSL_CTX) -> c_long {
    // SAFETY: the caller's argument, passed on.
    unsafe { SSL_CTX_ctrl(ctx, SSL_CTRL_SESS_ACCEPT_RENEGOTIATE, 0, std::ptr::null_mut()) }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_sess_hits(ctx: *mut SSL_CTX) -> c_long {
    // SAFETY: the caller's argument, passed on.
    unsafe { SSL_CTX_ctrl(ctx, SSL_CTRL_SESS_HIT, 0, std::ptr::null_mut()) }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_sess_cb_hits(ctx: *mut SSL_CTX) -> c_long {
    // SAFETY: the caller's argument, passed on.
    unsafe { SSL_CTX_ctrl(ctx, SSL_CTRL_SESS_CB_HIT, 0, std::ptr::null_mut()) }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_sess_misses(ctx: *mut SSL_CTX) -> c_long {
    // SAFETY: the caller's argument, passed on.
    unsafe { SSL_CTX_ctrl(ctx, SSL_CTRL_SESS_MISSES, 0, std::ptr::null_mut()) }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_sess_timeouts(ctx: *mut SSL_CTX) -> c_long {
    // SAFETY: the caller's argument, passed on.
    unsafe { SSL_CTX_ctrl(ctx, SSL_CTRL_SESS_TIMEOUTS, 0, std::ptr::null_mut()) }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_sess_cache_full(ctx: *mut SSL_CTX) -> c_long {
    // SAFETY: the caller's argument, passed on.
    unsafe { SSL_CTX_ctrl(ctx, SSL_CTRL_SESS_CACHE_FULL, 0, std::ptr::null_mut()) }
}
