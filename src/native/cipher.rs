//! `SSL_CIPHER`: pointers into the static cipher table.

use std::ffi::{c_char, c_uchar, c_ulong};

use crate::abi::boundary::borrow;
use crate::abi::*;
use crate::codec::cipher::{self, Cipher};

// SAFETY: every `SSL_CIPHER *` the native front hands out is `to_c` of an entry of the static
// table; `from_c` checks a pointer is one before using it.
unsafe impl Castable for SSL_CIPHER {
    type Native = Cipher;
    type Ownership = Shared;
}

pub(crate) fn to_c(c: Option<&'static Cipher>) -> *const SSL_CIPHER {
    c.map_or(std::ptr::null(), |c| crate::abi::boundary::to_c::<SSL_CIPHER>(c).cast_const())
}

/// The table entry behind a pointer; None for NULL or for a pointer not into the table. It
/// compares addresses only, so any pointer is safe to ask about.
pub(crate) fn from_c(p: *const SSL_CIPHER) -> Option<&'static Cipher> {
    let table = cipher::all();
    let offset = (p as usize).checked_sub(table.as_ptr() as usize)?;
    if offset % std::mem::size_of::<Cipher>() != 0 {
        return None;
    }
    table.get(offset / std::mem::size_of::<Cipher>())
}

/// The suite with the two wire bytes at `ptr`, for a live connection.
pub(crate) unsafe fn find(ssl: *mut SSL, ptr: *const c_uchar) -> Option<*const SSL_CIPHER> {
    // SAFETY: the module's contract: `ssl` is NULL or live, `ptr` NULL or two readable bytes.
    let (_, code) = unsafe { (borrow(ssl)?, bytes(ptr, 2)?) };
    Some(to_c(cipher::by_wire_code([code[0], code[1]])))
}

/// OpenSSL's name for the suite (the exports answer "(NONE)" for NULL).
pub(crate) fn get_name(c: *const SSL_CIPHER) -> Option<*const c_char> {
    Some(from_c(c)?.name.as_ptr())
}

pub(crate) fn get_id(c: *const SSL_CIPHER) -> Option<c_ulong> {
    Some(c_ulong::from(from_c(c)?.id))
}
