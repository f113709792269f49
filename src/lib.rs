//! sesscache: OpenSSL's TLS session cache behind OpenSSL's C ABI.
//!
//! Dependencies point one way: `exports` -> {`native`, `preload`} -> `engine`; `fleet`
//! implements the engine's `Remote`; `codec` and `obs` beside them; everything -> `abi`, which
//! imports nothing from the crate (`tools/check_module_cycles.py` fails the tests on a cycle).
//!
//! - `abi`: the C vocabulary: opaque handles, OpenSSL's constants, callback typedefs, and the
//!   boundary (the panic guard, the one cast per handle, C byte slices).
//! - `exports`: every function C calls, each one dispatch on the mode.
//! - `native`: our own `SSL_CTX` / `SSL_SESSION` / `SSL` objects (no libssl in the process).
//! - `preload`: libssl's objects (LD_PRELOAD), with our engine as each context's cache.
//! - `engine`: the cache and OpenSSL's rules for it, plain safe Rust.
//! - `codec`: a session's fields, the cipher table, the DER codec.
//! - `fleet`: sessions shared across processes and hosts through Redis (engine::Remote).
//! - `obs`: the registry of live contexts, their snapshots, the exit report.
//! - `hint`: cache-line prefetch hints for the hot paths (imports nothing, like `abi`).

#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]
// Casts between C's integer types and Rust's are written for any data model: `c_long` is
// `i64` only on LP64.
#![allow(clippy::unnecessary_cast)]

pub mod abi;
pub mod codec;
pub mod engine;
pub mod exports;
pub mod fleet;
pub mod hint;
pub(crate) mod native;
pub mod obs;
pub(crate) mod preload;
