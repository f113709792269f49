//! The C vocabulary: what OpenSSL 3's header names, and the rules for crossing the boundary.
//! It imports nothing from the crate; everything else imports it.
//!
//! - `handles`: the opaque handle types C holds (`SSL_CTX`, `SSL_SESSION`, `SSL`, ...);
//! - `consts`: the `SSL_CTRL_*`, `SSL_SESS_CACHE_*` and protocol version numbers;
//! - `callbacks`: the callback typedefs, the application's callbacks as one struct, and the
//!   get callback's copy-flag rule;
//! - `boundary`: the panic guard, the one cast from a handle to the Rust type behind it, C
//!   byte slices, and the clock as OpenSSL reads it.

#![allow(non_camel_case_types)]

pub mod boundary;
pub mod callbacks;
pub mod consts;
pub mod handles;

pub use boundary::{bytes, guard, guard_void, now, Castable, OwnedByArc, OwnedByBox, Shared};
pub use callbacks::*;
pub use consts::*;
pub use handles::*;
