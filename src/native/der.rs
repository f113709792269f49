//! `i2d_SSL_SESSION` / `d2i_SSL_SESSION` over the codec in `crate::codec::der`, with OpenSSL's
//! pointer conventions. A buffer `i2d` allocates comes from malloc: the header's
//! OPENSSL_free frees it. (Exporting CRYPTO_free instead would put us on libcrypto's every
//! free once preloaded.)

use std::ffi::{c_int, c_long, c_uchar};

use super::session::{Session, SessionRef};
use crate::abi::boundary::borrow;
use crate::abi::*;
use crate::codec::der;
use crate::engine::Codec;

/// How native sessions cross the fleet: the DER of `i2d_SSL_SESSION`, so a preloaded
/// libssl's sessions and ours are the same bytes.
pub(crate) struct DerCodec;

impl Codec<SessionRef> for DerCodec {
    fn encode(&self, session: &SessionRef) -> Option<Vec<u8>> {
        der::encode(&session.fields())
    }
    /// Exactly one session: trailing bytes mean the remote's answer is not what was shared.
    fn decode(&self, input: &[u8], now: i64) -> Option<SessionRef> {
        let (fields, used) = der::decode(input, now)?;
        (used == input.len()).then(|| Session::with_fields(fields))
    }
}

pub(crate) unsafe fn i2d(s: *const SSL_SESSION, pp: *mut *mut c_uchar) -> Option<c_int> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe {
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
    }
}

pub(crate) unsafe fn d2i(
    a: *mut *mut SSL_SESSION,
    pp: *mut *const c_uchar,
    length: c_long,
) -> Option<*mut SSL_SESSION> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe {
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
                (Session::with_fields(fields).into_raw(), used)
            }
        };
        *pp = input_ptr.add(used);
        if let Some(a) = a.as_mut() {
            *a = result;
        }
        Some(result)
    }
}
