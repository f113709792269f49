//! `i2d_SSL_SESSION` / `d2i_SSL_SESSION`. A buffer `i2d` allocates natively comes from malloc: the
//! header's OPENSSL_free frees it. (Exporting CRYPTO_free instead would put us on libcrypto's every
//! free once preloaded.)

use std::ffi::{c_int, c_long, c_uchar};

use crate::abi::*;
use crate::native;

/// With `pp` NULL, the length; with `*pp` NULL, a new buffer (free it with OPENSSL_free) in
/// `*pp`; otherwise writes at `*pp` and moves it past the encoding. 0 for a session with no
/// cipher, as OpenSSL.
#[no_mangle]
pub unsafe extern "C" fn i2d_SSL_SESSION(s: *const SSL_SESSION, pp: *mut *mut c_uchar) -> c_int {
    dispatch! {
        error: 0,
        native => native::der::i2d(s, pp),
        preload => libssl,
        pass_through => libssl i2d_SSL_SESSION(s, pp),
    }
}

/// Decodes a session from `*pp` (at most `length` bytes) and moves `*pp` past it. With `a`
/// and `*a` set, the fields of `*a` are overwritten in place (as OpenSSL does, a failure
/// part-way leaves the fields stored so far) and `*a` is returned; with `a` set, `*a`
/// receives the session. NULL on malformed input, leaving `*pp` where it was.
#[no_mangle]
pub unsafe extern "C" fn d2i_SSL_SESSION(
    a: *mut *mut SSL_SESSION,
    pp: *mut *const c_uchar,
    length: c_long,
) -> *mut SSL_SESSION {
    dispatch! {
        error: std::ptr::null_mut(),
        native => native::der::d2i(a, pp, length),
        preload => libssl,
        pass_through => libssl d2i_SSL_SESSION(a, pp, length),
    }
}
