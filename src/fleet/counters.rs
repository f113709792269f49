//! The tier's own counts, per process (a forked child counts from zero, with its own state):
//! relaxed atomics bumped where things happen, read as one plain `FleetCounters`.

#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicU64, Ordering};

/// The counts as plain numbers, in the order the report, the stats socket and the metrics
/// show them (`fields`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FleetCounters {
    /// Sessions this process wrote to Redis and announced.
    pub published: u64,
    /// Sessions or removals not published: the queue was full, the blob too large, or Redis
    /// failed them.
    pub publish_dropped: u64,
    /// Sessions of other processes received on the channel and kept in the mirror.
    pub received: u64,
    /// Blobs or messages that did not open (tampered, truncated, oversized, another key,
    /// garbage): dropped, never resumed.
    pub rejected: u64,
    /// Finds answered from the mirror, without the network.
    pub mirror_hits: u64,
    /// Finds that asked Redis (the mirror did not have the session, the breaker was closed).
    pub remote_lookups: u64,
    /// Of those, answered with a session within the budget.
    pub remote_hits: u64,
    /// Of those, not answered within the budget (or the lookup queue was full).
    pub remote_timeouts: u64,
    /// Of those, failed with an error within the budget (no connection, a Redis error).
    pub remote_errors: u64,
    /// Times the breaker opened.
    pub breaker_trips: u64,
    /// Explicit removals this process sent to the fleet.
    pub forgotten: u64,
    /// Removals received from other processes.
    pub removals_received: u64,
    /// Sessions in the mirror now.
    pub mirror_entries: u64,
    /// The mirror's bytes now (DER plus a fixed overhead per entry).
    pub mirror_bytes: u64,
    /// Sessions the mirror evicted to stay within its cap.
    pub mirror_evicted: u64,
}

impl FleetCounters {
    /// Every count with its name.
    pub fn fields(&self) -> [(&'static str, u64); 15] {
        [
            ("published", self.published),
            ("publish_dropped", self.publish_dropped),
            ("received", self.received),
            ("rejected", self.rejected),
            ("mirror_hits", self.mirror_hits),
            ("remote_lookups", self.remote_lookups),
            ("remote_hits", self.remote_hits),
            ("remote_timeouts", self.remote_timeouts),
            ("remote_errors", self.remote_errors),
            ("breaker_trips", self.breaker_trips),
            ("forgotten", self.forgotten),
            ("removals_received", self.removals_received),
            ("mirror_entries", self.mirror_entries),
            ("mirror_bytes", self.mirror_bytes),
            ("mirror_evicted", self.mirror_evicted),
        ]
    }

    /// The counts as JSON members (no braces), in `fields` order.
    pub fn json_members(&self) -> String {
        json_members(&self.fields())
    }
}

/// Named counts as JSON members (no braces): the fleet's and the ticket ring's.
pub(crate) fn json_members(fields: &[(&str, u64)]) -> String {
    fields.iter().map(|(name, value)| format!("\"{name}\":{value}")).collect::<Vec<_>>().join(",")
}

/// The counts that move (the mirror's and the breaker's are read from them).
#[derive(Default)]
pub struct Counters {
    pub published: AtomicU64,
    pub publish_dropped: AtomicU64,
    pub received: AtomicU64,
    pub rejected: AtomicU64,
    pub mirror_hits: AtomicU64,
    pub remote_lookups: AtomicU64,
    pub remote_hits: AtomicU64,
    pub remote_timeouts: AtomicU64,
    pub remote_errors: AtomicU64,
    pub forgotten: AtomicU64,
    pub removals_received: AtomicU64,
}

/// One more.
#[inline]
pub fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

pub fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

pub fn read(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_order() {
        let c = FleetCounters { published: 1, mirror_evicted: 15, remote_hits: 7, ..Default::default() };
        assert_eq!(c.fields().len(), 15);
        assert!(c.json_members().starts_with("\"published\":1,\"publish_dropped\":0,"));
        assert!(c.json_members().contains("\"remote_hits\":7,"));
        assert!(c.json_members().ends_with("\"mirror_evicted\":15"));
    }
}
