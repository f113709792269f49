//! `i2d_SSL_SESSION` / `d2i_SSL_SESSION` over the codec in `crate::codec::der`, with OpenSSL's
//! pointer conventions. A buffer `i2d` allocates comes from malloc: the header's
//! OPENSSL_free frees it. (Exporting CRYPTO_free instead would put us on libcrypto's every
//! free once preloaded.)

use std::ffi::{c_int, c_long, c_uchar};

use super::session::SSL_SESSION;
use super::{borrow, bytes, guard, now};
use crate::codec::der;

/// With `pp` NULL, the length; with `*pp` NULL, a new buffer (free it with OPENSSL_free) in
/// `*pp`; otherwise writes at `*pp` and moves it past the encoding. 0 for a session with no
/// cipher, as OpenSSL.
#[no_mangle]
pub unsafe extern "C" fn i2d_SSL_SESSION(s: *const SSL_SESSION, pp: *mut *mut c_uchar) -> c_int {
    forward!(i2d_SSL_SESSION(s, pp));
    guard(0, || {
        let encoded = der::encode(&borrow(s)?.fields())?;
        let len = c_int::try_from(encoded.len()).ok()?;
        let Some(out) = pp.as_mut() else { return Some(len) };
        if out.is_null() {
            let buf = libc::malloc(encoded.len()) as *mut c_uchar;
            if buf.is_null() {
                return None;
            }
            std::ptr::copy_nonoverlapping(encoded.as_ptr(), buf, encoded.len());
            *out = buf;
        } else {
            std::ptr::copy_nonoverlapping(encoded.as_ptr(), *out, encoded.len());
            *out = out.add(encoded.len());
        }
        Some(len)
    })
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
    forward!(d2i_SSL_SESSION(a, pp, length));
    guard(std::ptr::null_mut(), || {
        let input_ptr = *pp.as_ref()?;
        let input = bytes(input_ptr, usize::try_from(length).ok()?)?;
        let existing = a.as_ref().map(|a| *a).filter(|p| !p.is_null());
        let (result, used) = match existing {
            Some(existing) => {
                let used = der::decode_into(input, now(), &mut borrow(existing)?.fields())?;
                (existing, used)
            }
            None => {
                let (fields, used) = der::decode(input, now())?;
                (SSL_SESSION::with_fields(fields).into_raw(), used)
            }
        };
        *pp = input_ptr.add(used);
        if let Some(a) = a.as_mut() {
            *a = result;
        }
        Some(result)
    })
}
