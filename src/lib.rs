//! sesscache: OpenSSL's TLS session cache behind OpenSSL's C ABI.
//!
//! - `engine`: the cache and OpenSSL's rules for it, plain safe Rust.
//! - `session`, `cipher`, `der`: the session's data, the cipher table, the DER codec.
//! - `capi`: the native C front, one file per area of OpenSSL's API.

pub mod cipher;
pub mod der;
pub mod engine;
pub mod session;

pub mod capi;
