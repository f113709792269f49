//! Application data on sessions: `SSL_SESSION_get_ex_new_index`.

use std::ffi::{c_int, c_long, c_void};

use crate::abi::*;
use crate::{native, preload};

/// A new application-data index for sessions, with optional callbacks.
#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_get_ex_new_index(
    argl: c_long,
    argp: *mut c_void,
    new_func: Option<unsafe extern "C" fn(*mut c_void, *mut c_void, *mut CRYPTO_EX_DATA, c_int, c_long, *mut c_void)>,
    dup_func: Option<
        unsafe extern "C" fn(
            *mut CRYPTO_EX_DATA,
            *const CRYPTO_EX_DATA,
            *mut *mut c_void,
            c_int,
            c_long,
            *mut c_void,
        ) -> c_int,
    >,
    free_func: Option<unsafe extern "C" fn(*mut c_void, *mut c_void, *mut CRYPTO_EX_DATA, c_int, c_long, *mut c_void)>,
) -> c_int {
    // A macro over CRYPTO_get_ex_new_index in OpenSSL, for the SSL_SESSION class.
    dispatch! {
        error: -1,
        native => native::exdata::new_index(argl, argp, new_func, dup_func, free_func),
        preload => libssl,
        pass_through => libssl CRYPTO_get_ex_new_index(
            preload::real::CRYPTO_EX_INDEX_SSL_SESSION, argl, argp, new_func, dup_func, free_func
        ),
    }
}
