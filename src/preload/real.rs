//! The real libssl 3 and libcrypto functions behind ours, found at run time. In preload mode
//! our exported names come first in the process, so every call to them, the application's
//! and (where the linker lets it) libssl's own, reaches us; what is not cache business goes on
//! to these.

use std::ffi::{c_char, c_int, c_long, c_uchar, c_uint, c_ulong, c_void, CStr};

use super::tickets::{TicketKeyCb, EVP_CIPHER, EVP_CIPHER_CTX, EVP_MAC_CTX, OSSL_PARAM};
use crate::abi::*;

/// libcrypto's ex_data classes (`CRYPTO_EX_INDEX_*`).
pub(crate) const CRYPTO_EX_INDEX_SSL: c_int = 0;
pub(crate) const CRYPTO_EX_INDEX_SSL_CTX: c_int = 1;
pub(crate) const CRYPTO_EX_INDEX_SSL_SESSION: c_int = 2;

macro_rules! real_functions {
    ($( $name:ident $(= $symbol:literal)? : fn($($arg:ty),*) $(-> $ret:ty)?; )*) => {
        /// One pointer per real function, with OpenSSL's prototypes over the abi's opaque
        /// handles: libssl's objects, which no Rust code can look inside.
        #[allow(non_snake_case)]
        pub struct Real {
            $( pub $name: unsafe extern "C" fn($($arg),*) $(-> $ret)?, )*
        }

        impl Real {
            /// All of them from `lookup`. A function `lookup` cannot find is replaced by one
            /// that returns zero, NULL or nothing, and the first such name comes back with the
            /// table: the caller must then only pass calls through.
            pub fn load(lookup: impl Fn(&CStr) -> *mut c_void) -> (Real, Option<&'static str>) {
                let mut missing = None;
                let real = Real {
                    $( $name: {
                        let symbol = real_functions!(@symbol $name $($symbol)?);
                        let p = lookup(symbol);
                        if p.is_null() {
                            /// What a call of a function this libssl lacks returns.
                            unsafe extern "C" fn absent($(_: $arg),*) $(-> $ret)? {
                                // SAFETY: every return type here is an integer, a pointer or an
                                // Option of a function pointer: all-zero is 0, NULL or None.
                                unsafe { std::mem::zeroed() }
                            }
                            missing.get_or_insert(stringify!($name));
                            absent
                        } else {
                            // SAFETY: the symbol has this prototype in OpenSSL 3.
                            unsafe { std::mem::transmute::<*mut c_void, unsafe extern "C" fn($($arg),*) $(-> $ret)?>(p) }
                        }
                    }, )*
                };
                (real, missing)
            }
        }
    };
    (@symbol $name:ident $symbol:literal) => { $symbol };
    (@symbol $name:ident) => {
        // SAFETY: a NUL-terminated literal.
        unsafe { CStr::from_bytes_with_nul_unchecked(concat!(stringify!($name), "\0").as_bytes()) }
    };
}

real_functions! {
    OpenSSL_version_num: fn() -> c_ulong;
    CRYPTO_get_ex_new_index: fn(c_int, c_long, *mut c_void, Option<CRYPTO_EX_new>, Option<CRYPTO_EX_dup>, Option<CRYPTO_EX_free>) -> c_int;
    CRYPTO_get_ex_data: fn(*const CRYPTO_EX_DATA, c_int) -> *mut c_void;
    ERR_set_mark: fn() -> c_int;
    ERR_pop_to_mark: fn() -> c_int;
    TLS_method: fn() -> *const SSL_METHOD;
    TLS_server_method: fn() -> *const SSL_METHOD;
    TLS_client_method: fn() -> *const SSL_METHOD;
    SSL_CTX_new: fn(*const SSL_METHOD) -> *mut SSL_CTX;
    SSL_CTX_new_ex: fn(*mut OSSL_LIB_CTX, *const c_char, *const SSL_METHOD) -> *mut SSL_CTX;
    SSL_CTX_up_ref: fn(*mut SSL_CTX) -> c_int;
    SSL_CTX_free: fn(*mut SSL_CTX);
    SSL_CTX_ctrl: fn(*mut SSL_CTX, c_int, c_long, *mut c_void) -> c_long;
    SSL_CTX_set_timeout: fn(*mut SSL_CTX, c_long) -> c_long;
    SSL_CTX_get_timeout: fn(*const SSL_CTX) -> c_long;
    SSL_CTX_set_session_id_context: fn(*mut SSL_CTX, *const c_uchar, c_uint) -> c_int;
    SSL_CTX_flush_sessions: fn(*mut SSL_CTX, c_long);
    SSL_CTX_add_session: fn(*mut SSL_CTX, *mut SSL_SESSION) -> c_int;
    SSL_CTX_remove_session: fn(*mut SSL_CTX, *mut SSL_SESSION) -> c_int;
    SSL_CTX_set_generate_session_id: fn(*mut SSL_CTX, GEN_SESSION_CB) -> c_int;
    SSL_CTX_sess_set_new_cb: fn(*mut SSL_CTX, sesscache_new_session_cb);
    SSL_CTX_sess_set_remove_cb: fn(*mut SSL_CTX, sesscache_remove_session_cb);
    SSL_CTX_sess_set_get_cb: fn(*mut SSL_CTX, sesscache_get_session_cb);
    SSL_CTX_sess_get_new_cb: fn(*mut SSL_CTX) -> sesscache_new_session_cb;
    SSL_CTX_sess_get_remove_cb: fn(*mut SSL_CTX) -> sesscache_remove_session_cb;
    SSL_CTX_sess_get_get_cb: fn(*mut SSL_CTX) -> sesscache_get_session_cb;
    SSL_CTX_set_ex_data: fn(*mut SSL_CTX, c_int, *mut c_void) -> c_int;
    SSL_CTX_get_ex_data: fn(*const SSL_CTX, c_int) -> *mut c_void;
    SSL_SESSION_new: fn() -> *mut SSL_SESSION;
    SSL_SESSION_free: fn(*mut SSL_SESSION);
    SSL_SESSION_up_ref: fn(*mut SSL_SESSION) -> c_int;
    SSL_SESSION_dup: fn(*const SSL_SESSION) -> *mut SSL_SESSION;
    SSL_SESSION_get_id: fn(*const SSL_SESSION, *mut c_uint) -> *const c_uchar;
    SSL_SESSION_set1_id: fn(*mut SSL_SESSION, *const c_uchar, c_uint) -> c_int;
    SSL_SESSION_get0_id_context: fn(*const SSL_SESSION, *mut c_uint) -> *const c_uchar;
    SSL_SESSION_set1_id_context: fn(*mut SSL_SESSION, *const c_uchar, c_uint) -> c_int;
    SSL_SESSION_get_time: fn(*const SSL_SESSION) -> c_long;
    SSL_SESSION_set_time: fn(*mut SSL_SESSION, c_long) -> c_long;
    SSL_SESSION_get_timeout: fn(*const SSL_SESSION) -> c_long;
    SSL_SESSION_set_timeout: fn(*mut SSL_SESSION, c_long) -> c_long;
    SSL_SESSION_get_protocol_version: fn(*const SSL_SESSION) -> c_int;
    SSL_SESSION_set_protocol_version: fn(*mut SSL_SESSION, c_int) -> c_int;
    SSL_SESSION_set1_master_key: fn(*mut SSL_SESSION, *const c_uchar, usize) -> c_int;
    SSL_SESSION_get_master_key: fn(*const SSL_SESSION, *mut c_uchar, usize) -> usize;
    SSL_SESSION_get0_hostname: fn(*const SSL_SESSION) -> *const c_char;
    SSL_SESSION_set1_hostname: fn(*mut SSL_SESSION, *const c_char) -> c_int;
    SSL_SESSION_get0_cipher: fn(*const SSL_SESSION) -> *const SSL_CIPHER;
    SSL_SESSION_set_cipher: fn(*mut SSL_SESSION, *const SSL_CIPHER) -> c_int;
    SSL_SESSION_is_resumable: fn(*const SSL_SESSION) -> c_int;
    SSL_SESSION_set_ex_data: fn(*mut SSL_SESSION, c_int, *mut c_void) -> c_int;
    SSL_SESSION_get_ex_data: fn(*const SSL_SESSION, c_int) -> *mut c_void;
    i2d_SSL_SESSION: fn(*const SSL_SESSION, *mut *mut c_uchar) -> c_int;
    d2i_SSL_SESSION: fn(*mut *mut SSL_SESSION, *mut *const c_uchar, c_long) -> *mut SSL_SESSION;
    SSL_CIPHER_find: fn(*mut SSL, *const c_uchar) -> *const SSL_CIPHER;
    SSL_CIPHER_get_name: fn(*const SSL_CIPHER) -> *const c_char;
    SSL_CIPHER_get_id: fn(*const SSL_CIPHER) -> c_ulong;
    SSL_new: fn(*mut SSL_CTX) -> *mut SSL;
    SSL_free: fn(*mut SSL);
    SSL_get_SSL_CTX: fn(*const SSL) -> *mut SSL_CTX;
    SSL_set_ex_data: fn(*mut SSL, c_int, *mut c_void) -> c_int;
    SSL_get_ex_data: fn(*const SSL, c_int) -> *mut c_void;
    SSL_version: fn(*const SSL) -> c_int;
    SSL_is_server: fn(*const SSL) -> c_int;
    SSL_get_options: fn(*const SSL) -> u64;
    SSL_get_max_early_data: fn(*const SSL) -> u32;
    SSL_set_session: fn(*mut SSL, *mut SSL_SESSION) -> c_int;
    SSL_get_session: fn(*const SSL) -> *mut SSL_SESSION;
    SSL_get1_session: fn(*mut SSL) -> *mut SSL_SESSION;
    SSL_session_reused: fn(*const SSL) -> c_int;
    SSL_set_session_id_context: fn(*mut SSL, *const c_uchar, c_uint) -> c_int;
    SSL_set_connect_state: fn(*mut SSL);
    SSL_set_accept_state: fn(*mut SSL);
    SSL_has_matching_session_id: fn(*const SSL, *const c_uchar, c_uint) -> c_int;
    // The fleet's ticket keys (tickets.rs).
    SSL_CTX_set_tlsext_ticket_key_evp_cb: fn(*mut SSL_CTX, Option<TicketKeyCb>) -> c_int;
    SSL_CTX_callback_ctrl: fn(*mut SSL_CTX, c_int, Option<unsafe extern "C" fn()>) -> c_long;
    SSL_CTX_get_options: fn(*const SSL_CTX) -> u64;
    SSL_CTX_get_ssl_method: fn(*const SSL_CTX) -> *const SSL_METHOD;
    EVP_CIPHER_fetch: fn(*mut OSSL_LIB_CTX, *const c_char, *const c_char) -> *mut EVP_CIPHER;
    EVP_CIPHER_free: fn(*mut EVP_CIPHER);
    EVP_EncryptInit_ex: fn(*mut EVP_CIPHER_CTX, *const EVP_CIPHER, *mut c_void, *const c_uchar, *const c_uchar) -> c_int;
    EVP_DecryptInit_ex: fn(*mut EVP_CIPHER_CTX, *const EVP_CIPHER, *mut c_void, *const c_uchar, *const c_uchar) -> c_int;
    EVP_MAC_CTX_set_params: fn(*mut EVP_MAC_CTX, *const OSSL_PARAM) -> c_int;
}
