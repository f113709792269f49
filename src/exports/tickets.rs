//! Session ticket handling an application chooses for itself: preloaded, it takes the fleet's
//! ticket keys out of that context (src/preload/tickets.rs) before libssl's setter runs.
//! Natively there is no TLS and so no ticket: these fail.
//!
//! Not in the header (cbindgen:ignore): their types are libcrypto's, and a program built
//! against sesscache alone has no tickets.

use std::ffi::{c_int, c_long};

use crate::abi::*;
use crate::preload;
use crate::preload::tickets::TicketKeyCb;

/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx: *mut SSL_CTX, cb: Option<TicketKeyCb>) -> c_int {
    dispatch! {
        error: 0,
        native => None,
        preload(rt) => preload::tickets::set_evp_cb(rt, ctx, cb),
        pass_through => libssl SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, cb),
    }
}

/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_callback_ctrl(
    ctx: *mut SSL_CTX,
    cmd: c_int,
    cb: Option<unsafe extern "C" fn()>,
) -> c_long {
    dispatch! {
        error: 0,
        native => None,
        preload(rt) => preload::tickets::callback_ctrl(rt, ctx, cmd, cb),
        pass_through => libssl SSL_CTX_callback_ctrl(ctx, cmd, cb),
    }
}
