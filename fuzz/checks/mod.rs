//! The checks behind the fuzz targets, shared by the fuzz crate (its library) and the main
//! crate's `tests/fuzz_replay.rs` (through `#[path]`), so that the committed corpora are
//! replayed by `cargo test` with exactly what the fuzzer ran.
//!
//! - `der`: `d2i`/`i2d` round trips of our codec, and the same input through libssl.
//! - `cache_ops`: cache-API operation sequences, libssl and our native API side by side.
//! - `libssl`: the system's libssl 3, loaded with `dlmopen` into a namespace of its own.
//! - `ours`: every path into the sesscache crate (the one module to update when src/ moves).
//!
//! A check panics, with both sides' results in the message, when they disagree.

#![allow(dead_code)]
// The unsafe functions here are thin calls into C: each takes handles made by the same run
// and still held (`cache_ops::CacheApi`), the contract of the C functions they call.
#![allow(clippy::missing_safety_doc)]

pub mod cache_ops;
pub mod der;
pub mod libssl;
pub mod ours;

/// A hex dump for failure messages.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
