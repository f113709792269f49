//! The fleet tier: sessions shared through Redis by every process that points at it, sealed
//! under the fleet key. Off unless configured (SESSCACHE_FLEET). It implements the engine's
//! `Remote`; the network is touched only by its own lazily started, fork-aware workers.

#![forbid(unsafe_code)]

pub mod keys;
pub mod mirror;
pub mod ring;
pub mod ring_sync;
pub mod seal;

use std::sync::Arc;

use crate::engine::Remote;

/// The process's fleet, started at the first call after it is configured; None while off.
pub fn remote() -> Option<Arc<dyn Remote>> {
    None
}

/// Where the process's ticket key ring lives in the fleet (its Redis, the fleet key); None
/// while the fleet is off, and then the ring is this process's alone.
pub fn ring_home() -> Option<Arc<dyn ring_sync::RingHome>> {
    None
}
