//! The native front: OpenSSL 3's session-cache API over our own objects, for programs linked
//! against the library with no libssl in the process. No exports here: `exports` reaches
//! these functions through its dispatch, each returning None where OpenSSL fails.
//!
//! Handles (`abi::Castable`): an `SSL_CTX *` is an `Arc` pointer, so a session can name the
//! context that caches it without dangling; an `SSL_SESSION *` is a reference-counted object
//! of its own (`SessionRef`: an `Arc` without the weak count, for size); an `SSL *` is a
//! `Box`. `SSL_METHOD *` and `SSL_CIPHER *` point at statics.
//!
//! # Safety
//! Every `unsafe fn` here has the contract of the OpenSSL function it implements: each handle
//! is NULL or one this library handed out and not yet freed, and each buffer holds the length
//! given with it.

pub(crate) mod callbacks;
pub(crate) mod cipher;
pub(crate) mod ctx;
pub(crate) mod der;
pub(crate) mod exdata;
pub(crate) mod handshake;
pub(crate) mod method;
pub(crate) mod session;
pub(crate) mod ssl;
