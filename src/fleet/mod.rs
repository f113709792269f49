//! The fleet tier: sessions shared through Redis by every process that points at it, sealed
//! under the fleet key. Off unless configured (SESSCACHE_FLEET). It implements the engine's
//! `Remote`; the network is touched only by its own lazily started, fork-aware workers.

#![forbid(unsafe_code)]

pub mod keys;
pub mod ring;
pub mod ring_sync;
pub mod seal;

use std::sync::Arc;

use crate::engine::Remote;

/// The process's fleet, started at the first call after it is configured; None while off.
pub fn remote() -> Option<Arc<dyn Remote>> {
    None
}
