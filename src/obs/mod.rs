//! Observability: one registry of the live contexts of both fronts (`registry`), a typed
//! snapshot of a context's counters (`snapshot`), and the exit report (SESSCACHE_REPORT,
//! `report`) built from snapshots. The fronts register their contexts and say how to snapshot
//! them. `registry` and `snapshot` forbid unsafe code; `report` needs libc for its file, its
//! process id and its exit and fork handlers (the one home of fork handling); `socket`, the
//! per-process stats socket, keeps its libc calls in one small module.

pub mod registry;
pub mod report;
pub mod snapshot;
pub mod socket;

pub use registry::Observed;
pub use snapshot::{Front, Snapshot};
