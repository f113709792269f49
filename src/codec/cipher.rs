//! Cipher suites as libssl 3 knows them: the id (0x0300_xxxx, the two wire bytes under
//! OpenSSL's SSL3_CK_CIPHERSUITE_FLAG) and OpenSSL's name for the suite.
//!
//! The table itself is generated from the system libssl by `tools/gen_cipher_table.sh`, which
//! asks `SSL_CIPHER_find` about every two-byte code, so it holds exactly the suites libssl
//! resolves, no more and no fewer.

use std::ffi::CStr;

#[derive(Debug, PartialEq, Eq)]
pub struct Cipher {
    /// OpenSSL's cipher id: 0x0300_0000 | wire code.
    pub id: u32,
    /// OpenSSL's name (`SSL_CIPHER_get_name`), NUL-terminated so C can borrow it.
    pub name: &'static CStr,
}

#[path = "cipher_table.rs"]
mod table;

/// Marks a cipher id as a TLS cipher suite, as OpenSSL's SSL3_CK_CIPHERSUITE_FLAG does.
pub const CIPHERSUITE_FLAG: u32 = 0x0300_0000;

/// The suite with this OpenSSL id, if libssl knows it. The table is sorted by id.
pub fn by_id(id: u32) -> Option<&'static Cipher> {
    table::CIPHERS.binary_search_by_key(&id, |c| c.id).ok().map(|i| &table::CIPHERS[i])
}

/// The suite with these two wire bytes (what `SSL_CIPHER_find` takes).
pub fn by_wire_code(code: [u8; 2]) -> Option<&'static Cipher> {
    by_id(CIPHERSUITE_FLAG | u32::from(u16::from_be_bytes(code)))
}

/// Every suite in the table, in id order.
pub fn all() -> &'static [Cipher] {
    table::CIPHERS
}
