//! sesscache: OpenSSL's TLS session cache behind OpenSSL's C ABI.
//!
//! - `engine`: the cache and OpenSSL's rules for it, plain safe Rust.
//! - `session`, `cipher`, `der`: the session's data, the cipher table, the DER codec.
//! - `capi`: the C surface, one file per area of OpenSSL's API; natively it maps onto our own
//!   objects, preloaded (`preload`) onto libssl's, with our engine as their session cache.
//! - `report`: SESSCACHE_REPORT, one JSON line per context at exit.

pub mod codec;
pub mod engine;

pub mod capi;
pub(crate) mod preload;
pub mod report;
