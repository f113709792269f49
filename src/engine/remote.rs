//! The fleet as the engine sees it: sessions this process shares with the other processes and
//! hosts that serve the same clients. The engine calls a `Remote` only on the caller's thread
//! and never under one of its locks; an implementation answers from memory, or waits at most
//! its own small budget, and never runs user code.

use std::sync::Arc;

use super::SessionKey;

/// What a context's cache uses beyond itself. Sessions cross as DER (`i2d_SSL_SESSION`'s
/// bytes); `SessionKey` is the protocol version and the id a client offered.
pub trait Remote: Send + Sync {
    /// A session another process (or this one) shared under `key`, still valid at `now`
    /// (seconds since the epoch): from memory, or within the configured budget; None otherwise.
    fn find(&self, key: &SessionKey, now: i64) -> Option<Vec<u8>>;
    /// A session this process just cached, valid until `expires_at`: share it. Never blocks:
    /// a full queue drops it (and counts the drop).
    fn publish(&self, key: &SessionKey, der: Vec<u8>, expires_at: i64);
    /// An explicit removal (SSL_CTX_remove_session, libssl after a fatal alert): remove it
    /// fleet-wide. Never blocks.
    fn forget(&self, key: &SessionKey);
    /// Whether some process removed `key` explicitly since it was shared, so a local cache that
    /// still holds it must drop it. Memory only.
    fn forgotten(&self, key: &SessionKey) -> bool;
}

/// How a front turns its own session objects into the DER a `Remote` carries, and back. The
/// engine stays free of FFI: a preloaded libssl's i2d/d2i, or our codec, live behind this.
pub trait Codec<H>: Send + Sync {
    /// None when the session cannot be encoded (it is then not shared).
    fn encode(&self, session: &H) -> Option<Vec<u8>>;
    /// A new session holding its own reference, or None for bytes that do not decode.
    fn decode(&self, der: &[u8], now: i64) -> Option<H>;
}

/// A context's way to the fleet: set once by its front (`Context::attach_remote`).
pub(super) struct Fleet<H> {
    pub(super) remote: Arc<dyn Remote>,
    pub(super) codec: Box<dyn Codec<H>>,
}
