//! The session cache itself: plain safe Rust, no FFI, no libc. Generic over the session
//! handle so that the native front (its own session objects) and the preload front (libssl's)
//! share every rule.

#![forbid(unsafe_code)]

mod by_expiry;
mod cache;
mod context;
mod expiry;
mod handshake;
mod key;
mod mode;
mod order;
mod remote;
mod stats;

pub use cache::{Flushed, Handle};
pub use context::{Callbacks, Context, NoCallbacks, Session, DEFAULT_CACHE_SIZE, DEFAULT_CTX_TIMEOUT};
pub use expiry::Expiry;
pub use handshake::{GetCallback, HandshakeCallbacks, HandshakeSession, Peer, Resume};
pub use key::SessionKey;
pub use mode::{CacheMode, Role};
pub use remote::{Codec, Remote};
pub use stats::{Counter, Stats};
