//! The fleet tier: sessions shared through Redis by every process that points at it, sealed
//! under the fleet key. Off unless configured (SESSCACHE_FLEET). It implements the engine's
//! `Remote`; the network is touched only by its own lazily started, fork-aware workers.

#![forbid(unsafe_code)]

pub mod memory;

use std::path::Path;
use std::sync::Arc;

use crate::engine::Remote;

/// The process's fleet, started at the first call after it is configured; None while off.
pub fn remote() -> Option<Arc<dyn Remote>> {
    // SESSCACHE_FLEET=memory: is the fronts' test hook (memory.rs), before any Redis URL.
    if let Some(memory) = memory::from_env() {
        return Some(memory);
    }
    None
}

/// `sesscache_fleet_configure`: the fleet's URL and key file, set by the program before its
/// first context. (core's placeholder until the Redis tier lands: nothing to configure yet,
/// so every call is refused and the tier stays off.)
pub fn configure(_url: &str, _key_file: &Path) -> Result<(), String> {
    Err("this build has no fleet tier yet; the tier stays off".to_string())
}
