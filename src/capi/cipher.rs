//! `SSL_CIPHER`: pointers into the static cipher table.

use std::ffi::{c_char, c_uchar, c_ulong};

use super::ssl::SSL;
use super::{borrow, guard};
use crate::codec::cipher::{self, Cipher};

/// Opaque to C; each pointer is an entry of `crate::codec::cipher`'s table.
pub enum SSL_CIPHER {}

impl SSL_CIPHER {
    pub(crate) fn to_c(c: Option<&'static Cipher>) -> *const SSL_CIPHER {
        c.map_or(std::ptr::null(), |c| (c as *const Cipher).cast())
    }
    /// The table entry behind a pointer; None for NULL or for a pointer not into the table.
    pub(crate) fn from_c(p: *const SSL_CIPHER) -> Option<&'static Cipher> {
        let table = cipher::all();
        let offset = (p as usize).checked_sub(table.as_ptr() as usize)?;
        if offset % std::mem::size_of::<Cipher>() != 0 {
            return None;
        }
        table.get(offset / std::mem::size_of::<Cipher>())
    }
}

/// The suite with the two wire bytes at `ptr`, if libssl knows it.
#[no_mangle]
pub unsafe extern "C" fn SSL_CIPHER_find(ssl: *mut SSL, ptr: *const c_uchar) -> *const SSL_CIPHER {
    forward!(SSL_CIPHER_find(ssl, ptr));
    guard(std::ptr::null(), || {
        borrow(ssl)?;
        let code = [*borrow(ptr)?, *borrow(ptr.add(1))?];
        Some(SSL_CIPHER::to_c(cipher::by_wire_code(code)))
    })
}

/// OpenSSL's name for the suite; "(NONE)" for NULL.
#[no_mangle]
pub unsafe extern "C" fn SSL_CIPHER_get_name(c: *const SSL_CIPHER) -> *const c_char {
    forward!(SSL_CIPHER_get_name(c));
    guard(c"(NONE)".as_ptr(), || Some(SSL_CIPHER::from_c(c)?.name.as_ptr()))
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CIPHER_get_id(c: *const SSL_CIPHER) -> c_ulong {
    forward!(SSL_CIPHER_get_id(c));
    guard(0, || Some(c_ulong::from(SSL_CIPHER::from_c(c)?.id)))
}
