//! `SSL_SESSION`: life cycle, ids, times, keys, names, cipher and application data.

use std::ffi::{c_char, c_int, c_long, c_uchar, c_uint, c_void};

use crate::abi::*;
use crate::{native, preload};

#[no_mangle]
pub extern "C" fn SSL_SESSION_new() -> *mut SSL_SESSION {
    dispatch! {
        error: std::ptr::null_mut(),
        native => native::session::new(),
        preload => libssl,
        pass_through => libssl SSL_SESSION_new(),
    }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_free(s: *mut SSL_SESSION) {
    dispatch! {
        error: (),
        native => native::session::free(s),
        preload => libssl,
        pass_through => libssl SSL_SESSION_free(s),
    }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_up_ref(s: *mut SSL_SESSION) -> c_int {
    dispatch! {
        error: 0,
        native => native::session::up_ref(s),
        preload => libssl,
        pass_through => libssl SSL_SESSION_up_ref(s),
    }
}

/// A new session with the same contents (ticket included); it is in no cache.
#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_dup(src: *const SSL_SESSION) -> *mut SSL_SESSION {
    dispatch! {
        error: std::ptr::null_mut(),
        native => native::session::dup(src),
        preload => libssl,
        pass_through => libssl SSL_SESSION_dup(src),
    }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_get_id(s: *const SSL_SESSION, len: *mut c_uint) -> *const c_uchar {
    dispatch! {
        error: std::ptr::null(),
        native => native::session::get_id(s, len),
        preload => libssl,
        pass_through => libssl SSL_SESSION_get_id(s, len),
    }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_set1_id(s: *mut SSL_SESSION, sid: *const c_uchar, sid_len: c_uint) -> c_int {
    dispatch! {
        error: 0,
        native => native::session::set1_id(s, sid, sid_len),
        preload => libssl,
        pass_through => libssl SSL_SESSION_set1_id(s, sid, sid_len),
    }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_get0_id_context(s: *const SSL_SESSION, len: *mut c_uint) -> *const c_uchar {
    dispatch! {
        error: std::ptr::null(),
        native => native::session::get0_id_context(s, len),
        preload => libssl,
        pass_through => libssl SSL_SESSION_get0_id_context(s, len),
    }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_set1_id_context(
    s: *mut SSL_SESSION,
    sid_ctx: *const c_uchar,
    len: c_uint,
) -> c_int {
    dispatch! {
        error: 0,
        native => native::session::set1_id_context(s, sid_ctx, len),
        preload => libssl,
        pass_through => libssl SSL_SESSION_set1_id_context(s, sid_ctx, len),
    }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_get_time(s: *const SSL_SESSION) -> c_long {
    dispatch! {
        error: 0,
        native => native::session::get_time(s),
        preload => libssl,
        pass_through => libssl SSL_SESSION_get_time(s),
    }
}

/// Returns `t`; a cached session moves to its new place in the expiry order.
#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_set_time(s: *mut SSL_SESSION, t: c_long) -> c_long {
    dispatch! {
        error: 0,
        native => native::session::set_time(s, t),
        preload(rt) => preload::ctx::set_time(rt, s, t),
        pass_through => libssl SSL_SESSION_set_time(s, t),
    }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_get_timeout(s: *const SSL_SESSION) -> c_long {
    dispatch! {
        error: 0,
        native => native::session::get_timeout(s),
        preload => libssl,
        pass_through => libssl SSL_SESSION_get_timeout(s),
    }
}

/// A negative timeout is refused with 0; otherwise 1.
#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_set_timeout(s: *mut SSL_SESSION, t: c_long) -> c_long {
    dispatch! {
        error: 0,
        native => native::session::set_timeout(s, t),
        preload(rt) => preload::ctx::set_timeout(rt, s, t),
        pass_through => libssl SSL_SESSION_set_timeout(s, t),
    }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_get_protocol_version(s: *const SSL_SESSION) -> c_int {
    dispatch! {
        error: 0,
        native => native::session::get_protocol_version(s),
        preload => libssl,
        pass_through => libssl SSL_SESSION_get_protocol_version(s),
    }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_set_protocol_version(s: *mut SSL_SESSION, version: c_int) -> c_int {
    dispatch! {
        error: 0,
        native => native::session::set_protocol_version(s, version),
        preload => libssl,
        pass_through => libssl SSL_SESSION_set_protocol_version(s, version),
    }
}

/// At most 512 bytes, the size of OpenSSL 3.0's buffer.
#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_set1_master_key(s: *mut SSL_SESSION, key: *const c_uchar, len: usize) -> c_int {
    dispatch! {
        error: 0,
        native => native::session::set1_master_key(s, key, len),
        preload => libssl,
        pass_through => libssl SSL_SESSION_set1_master_key(s, key, len),
    }
}

/// With `outlen` 0, the key's length; otherwise copies up to `outlen` bytes and returns how many.
#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_get_master_key(s: *const SSL_SESSION, out: *mut c_uchar, outlen: usize) -> usize {
    dispatch! {
        error: 0,
        native => native::session::get_master_key(s, out, outlen),
        preload => libssl,
        pass_through => libssl SSL_SESSION_get_master_key(s, out, outlen),
    }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_get0_hostname(s: *const SSL_SESSION) -> *const c_char {
    dispatch! {
        error: std::ptr::null(),
        native => native::session::get0_hostname(s),
        preload => libssl,
        pass_through => libssl SSL_SESSION_get0_hostname(s),
    }
}

/// NULL clears the hostname.
#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_set1_hostname(s: *mut SSL_SESSION, hostname: *const c_char) -> c_int {
    dispatch! {
        error: 0,
        native => native::session::set1_hostname(s, hostname),
        preload => libssl,
        pass_through => libssl SSL_SESSION_set1_hostname(s, hostname),
    }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_get0_cipher(s: *const SSL_SESSION) -> *const SSL_CIPHER {
    dispatch! {
        error: std::ptr::null(),
        native => native::session::get0_cipher(s),
        preload => libssl,
        pass_through => libssl SSL_SESSION_get0_cipher(s),
    }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_set_cipher(s: *mut SSL_SESSION, cipher: *const SSL_CIPHER) -> c_int {
    dispatch! {
        error: 0,
        native => native::session::set_cipher(s, cipher),
        preload => libssl,
        pass_through => libssl SSL_SESSION_set_cipher(s, cipher),
    }
}

/// Resumable while no cache has dropped it and it has an id (or a ticket) to resume by.
#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_is_resumable(s: *const SSL_SESSION) -> c_int {
    dispatch! {
        error: 0,
        native => native::session::is_resumable(s),
        preload => libssl,
        pass_through => libssl SSL_SESSION_is_resumable(s),
    }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_set_ex_data(s: *mut SSL_SESSION, idx: c_int, arg: *mut c_void) -> c_int {
    dispatch! {
        error: 0,
        native => native::session::set_ex_data(s, idx, arg),
        preload => libssl,
        pass_through => libssl SSL_SESSION_set_ex_data(s, idx, arg),
    }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_get_ex_data(s: *const SSL_SESSION, idx: c_int) -> *mut c_void {
    dispatch! {
        error: std::ptr::null_mut(),
        native => native::session::get_ex_data(s, idx),
        preload => libssl,
        pass_through => libssl SSL_SESSION_get_ex_data(s, idx),
    }
}
