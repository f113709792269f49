//! Observability: one registry of the live contexts of both fronts, a typed snapshot of a
//! context's counters, and the exit report (SESSCACHE_REPORT) built from snapshots. Safe
//! Rust: the fronts register their contexts and say how to snapshot them.

#![forbid(unsafe_code)]

pub mod registry;
pub mod report;
pub mod snapshot;

pub use registry::Observed;
pub use snapshot::{Front, Snapshot};
