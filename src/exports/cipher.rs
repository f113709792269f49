//! `SSL_CIPHER`: the suites libssl knows.

use std::ffi::{c_char, c_uchar, c_ulong};

use crate::abi::*;
use crate::native;

/// The suite with the two wire bytes at `ptr`, if libssl knows it.
#[no_mangle]
pub unsafe extern "C" fn SSL_CIPHER_find(ssl: *mut SSL, ptr: *const c_uchar) -> *const SSL_CIPHER {
    dispatch! {
        error: std::ptr::null(),
        native => native::cipher::find(ssl, ptr),
        preload => libssl,
        pass_through => libssl SSL_CIPHER_find(ssl, ptr),
    }
}

/// OpenSSL's name for the suite; "(NONE)" for NULL.
#[no_mangle]
pub unsafe extern "C" fn SSL_CIPHER_get_name(c: *const SSL_CIPHER) -> *const c_char {
    dispatch! {
        error: c"(NONE)".as_ptr(),
        native => native::cipher::get_name(c),
        preload => libssl,
        pass_through => libssl SSL_CIPHER_get_name(c),
    }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CIPHER_get_id(c: *const SSL_CIPHER) -> c_ulong {
    dispatch! {
        error: 0,
        native => native::cipher::get_id(c),
        preload => libssl,
        pass_through => libssl SSL_CIPHER_get_id(c),
    }
}
