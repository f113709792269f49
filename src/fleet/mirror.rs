//! The mirror: other processes' sessions, as heard on the fleet's channel, held in memory so
//! that a resumption at this process needs no network round trip. Bounded: by bytes (each
//! entry costs its DER plus ENTRY_OVERHEAD), the oldest inserted evicted first; by expiry,
//! checked on every get; and removals leave tombstones (bounded in number, oldest dropped
//! first) so that a removed session never comes back from a late or repeated message.
//!
//! One mutex; nothing is called under it but the map and queue operations themselves. DER
//! (master secrets) is wiped when the mirror lets go of it, after the lock is released.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use parking_lot::Mutex;
use zeroize::Zeroizing;

use crate::engine::SessionKey;

/// What an entry costs beyond its DER bytes, counted against the cap, at worst: its hash map
/// slot (key and `Entry`, 64 bytes, and a control byte, in a table just grown to 7/16 full),
/// two insertion queue slots (48 bytes each: a stale one can linger until the next sweep), the
/// DER's `Arc` counts and `Vec` header and two allocator headers. About 316 bytes;
/// `entry_overhead_covers_the_structures` recomputes it. The DER counts at its capacity.
pub const ENTRY_OVERHEAD: usize = 320;

type Der = Arc<Zeroizing<Vec<u8>>>;

struct Entry {
    der: Der,
    expires_at: i64,
    /// Which insertion this is: a queue slot with another generation is stale.
    generation: u64,
}

impl Entry {
    fn cost(&self) -> usize {
        self.der.capacity() + ENTRY_OVERHEAD
    }
}

#[derive(Default)]
struct Inner {
    entries: HashMap<SessionKey, Entry>,
    /// Insertion order, oldest first; slots whose entry was removed or re-inserted since are
    /// skipped when they reach the front, and swept when they outnumber the live ones.
    order: VecDeque<(u64, SessionKey)>,
    bytes: usize,
    /// Removed keys: forgotten until the time each maps to.
    tombstones: HashMap<SessionKey, (i64, u64)>,
    tombstone_order: VecDeque<(u64, SessionKey)>,
    generation: u64,
    stats: MirrorStats,
}

/// The mirror's counts, read together.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MirrorStats {
    /// Sessions held, and the bytes they count against the cap.
    pub entries: usize,
    pub bytes: usize,
    pub tombstones: usize,
    /// Sessions dropped to stay under the cap (and those larger than the whole cap).
    pub evicted: u64,
    /// Sessions found expired (on get, at the front of the queue, or on arrival).
    pub expired: u64,
    /// Inserts refused because the key is tombstoned: a removed session kept from coming back.
    pub suppressed: u64,
    /// Tombstones dropped before their time to stay under the tombstone cap.
    pub tombstones_dropped: u64,
}

/// Other processes' sessions, bounded by `cap_bytes` and `tombstone_cap` (see the module).
pub struct Mirror {
    cap_bytes: usize,
    tombstone_cap: usize,
    inner: Mutex<Inner>,
}

impl Mirror {
    pub fn new(cap_bytes: usize, tombstone_cap: usize) -> Mirror {
        Mirror { cap_bytes, tombstone_cap, inner: Mutex::new(Inner::default()) }
    }

    /// Holds `der` under `key` until `expires_at` (replacing what `key` held), evicting the
    /// oldest inserted past the cap. Not held: a session already expired at `now`, one larger
    /// than the whole cap, and one whose key is tombstoned.
    pub fn insert(&self, key: SessionKey, der: Vec<u8>, expires_at: i64, now: i64) {
        let der: Der = Arc::new(Zeroizing::new(der));
        let mut released = Vec::new();
        {
            let mut inner = self.inner.lock();
            let inner = &mut *inner;
            if expires_at <= now {
                inner.stats.expired += 1;
            } else if inner.tombstoned(&key, now) {
                inner.stats.suppressed += 1;
            } else if der.capacity() + ENTRY_OVERHEAD > self.cap_bytes {
                inner.stats.evicted += 1;
            } else {
                inner.generation += 1;
                let entry = Entry { der, expires_at, generation: inner.generation };
                inner.bytes += entry.cost();
                inner.order.push_back((entry.generation, key));
                if let Some(old) = inner.entries.insert(key, entry) {
                    inner.bytes -= old.cost();
                    released.push(old.der);
                }
                inner.evict(self.cap_bytes, now, &mut released);
                inner.sweep_order();
            }
        }
        drop(released);
    }

    /// The session held under `key`, if it is still valid at `now`; an expired one is dropped.
    pub fn get(&self, key: &SessionKey, now: i64) -> Option<Vec<u8>> {
        let found = {
            let mut inner = self.inner.lock();
            match inner.entries.get(key) {
                None => return None,
                Some(entry) if entry.expires_at > now => Ok(entry.der.clone()),
                Some(_) => {
                    let gone = inner.entries.remove(key).expect("just found");
                    inner.bytes -= gone.cost();
                    inner.stats.expired += 1;
                    Err(gone.der)
                }
            }
        };
        // Copied (or wiped) outside the lock.
        found.ok().map(|der| der.to_vec())
    }

    /// An explicit removal: drops what `key` held and forgets it until `until` (kept if it
    /// was already forgotten longer), so no later insert brings it back before then.
    pub fn remove(&self, key: &SessionKey, now: i64, until: i64) {
        let released = {
            let mut inner = self.inner.lock();
            let inner = &mut *inner;
            let gone = inner.entries.remove(key).map(|entry| {
                inner.bytes -= entry.cost();
                entry.der
            });
            if until > now && self.tombstone_cap > 0 {
                inner.generation += 1;
                let generation = inner.generation;
                let until = match inner.tombstones.get(key) {
                    Some(&(old, _)) if old > until => old,
                    _ => until,
                };
                inner.tombstones.insert(*key, (until, generation));
                inner.tombstone_order.push_back((generation, *key));
                while inner.tombstones.len() > self.tombstone_cap {
                    inner.drop_oldest_tombstone(now);
                }
                inner.sweep_tombstone_order();
            }
            gone
        };
        drop(released);
    }

    /// Whether `key` was removed and is still forgotten at `now`.
    pub fn forgotten(&self, key: &SessionKey, now: i64) -> bool {
        self.inner.lock().tombstoned(key, now)
    }

    /// The bytes counted against the cap: every held DER plus ENTRY_OVERHEAD each.
    pub fn bytes(&self) -> usize {
        self.inner.lock().bytes
    }

    pub fn len(&self) -> usize {
        self.inner.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn evicted(&self) -> u64 {
        self.inner.lock().stats.evicted
    }

    pub fn stats(&self) -> MirrorStats {
        let inner = self.inner.lock();
        MirrorStats {
            entries: inner.entries.len(),
            bytes: inner.bytes,
            tombstones: inner.tombstones.len(),
            ..inner.stats
        }
    }
}

impl Inner {
    /// Whether `key` is forgotten at `now`; a tombstone past its time is dropped.
    fn tombstoned(&mut self, key: &SessionKey, now: i64) -> bool {
        match self.tombstones.get(key) {
            None => false,
            Some(&(until, _)) if until > now => true,
            Some(_) => {
                self.tombstones.remove(key);
                false
            }
        }
    }

    /// Drops from the front of the queue: stale slots, expired sessions, and live ones while
    /// over the cap.
    fn evict(&mut self, cap_bytes: usize, now: i64, released: &mut Vec<Der>) {
        while let Some(&(generation, key)) = self.order.front() {
            let over = self.bytes > cap_bytes;
            match self.entries.get(&key) {
                Some(entry) if entry.generation == generation => {
                    let expired = entry.expires_at <= now;
                    if !over && !expired {
                        return;
                    }
                    let entry = self.entries.remove(&key).expect("just found");
                    self.bytes -= entry.cost();
                    released.push(entry.der);
                    if expired {
                        self.stats.expired += 1;
                    } else {
                        self.stats.evicted += 1;
                    }
                }
                _ => {}
            }
            self.order.pop_front();
        }
    }

    /// Stale slots are skipped lazily; when they outnumber the live ones, all are swept at
    /// once: O(live) work after at least as many inserts, O(1) amortised.
    fn sweep_order(&mut self) {
        if self.order.len() > 2 * self.entries.len() + 32 {
            let entries = &self.entries;
            self.order.retain(|(generation, key)| entries.get(key).is_some_and(|e| e.generation == *generation));
        }
    }

    fn drop_oldest_tombstone(&mut self, now: i64) {
        while let Some((generation, key)) = self.tombstone_order.pop_front() {
            if let Some(&(until, current)) = self.tombstones.get(&key) {
                if current == generation {
                    self.tombstones.remove(&key);
                    if until > now {
                        self.stats.tombstones_dropped += 1;
                    }
                    return;
                }
            }
        }
    }

    fn sweep_tombstone_order(&mut self) {
        if self.tombstone_order.len() > 2 * self.tombstones.len() + 32 {
            let tombstones = &self.tombstones;
            self.tombstone_order.retain(|(generation, key)| tombstones.get(key).is_some_and(|t| t.1 == *generation));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u32) -> SessionKey {
        let mut id = [0u8; 32];
        id[..4].copy_from_slice(&n.to_be_bytes());
        SessionKey::new(0x0303, &id).unwrap()
    }

    fn der(n: u32, len: usize) -> Vec<u8> {
        (0..len).map(|i| (n as usize + i) as u8).collect()
    }

    const NOW: i64 = 1_000;
    const LATER: i64 = 2_000;

    #[test]
    fn insert_and_get() {
        let m = Mirror::new(1 << 20, 16);
        assert!(m.get(&key(1), NOW).is_none());
        m.insert(key(1), der(1, 300), LATER, NOW);
        m.insert(key(2), der(2, 100), LATER, NOW);
        assert_eq!(m.get(&key(1), NOW), Some(der(1, 300)));
        assert_eq!(m.get(&key(2), NOW + 1), Some(der(2, 100)));
        assert_eq!((m.len(), m.bytes()), (2, 400 + 2 * ENTRY_OVERHEAD));
        // Another version with the same id is another session.
        assert!(m.get(&SessionKey::new(0x0304, key(1).id()).unwrap(), NOW).is_none());
        // Re-insert replaces, and the bytes follow.
        m.insert(key(1), der(9, 50), LATER, NOW);
        assert_eq!(m.get(&key(1), NOW), Some(der(9, 50)));
        assert_eq!((m.len(), m.bytes()), (2, 150 + 2 * ENTRY_OVERHEAD));
        assert_eq!(m.evicted(), 0);
        // A DER counts at its capacity: that is what it holds.
        let mut roomy = Vec::with_capacity(1000);
        roomy.extend_from_slice(&der(3, 10));
        m.insert(key(3), roomy, LATER, NOW);
        assert_eq!(m.bytes(), 150 + 1000 + 3 * ENTRY_OVERHEAD);
    }

    #[test]
    fn expiry_is_checked_on_get() {
        let m = Mirror::new(1 << 20, 16);
        m.insert(key(1), der(1, 10), NOW + 10, NOW);
        assert!(m.get(&key(1), NOW + 9).is_some());
        assert!(m.get(&key(1), NOW + 10).is_none(), "valid until, not through, expires_at");
        assert_eq!((m.len(), m.bytes(), m.stats().expired), (0, 0, 1));
        // Already expired on arrival: never held.
        m.insert(key(2), der(2, 10), NOW, NOW);
        assert_eq!((m.len(), m.stats().expired), (0, 2));
    }

    #[test]
    fn the_oldest_inserted_goes_first_and_the_cap_is_never_exceeded() {
        let per = 100 + ENTRY_OVERHEAD;
        let m = Mirror::new(10 * per, 16);
        for n in 0..10 {
            m.insert(key(n), der(n, 100), LATER, NOW);
        }
        assert_eq!((m.len(), m.bytes(), m.evicted()), (10, 10 * per, 0));
        // Refreshing key 0 makes it the newest: key 1 is now the oldest.
        m.insert(key(0), der(0, 100), LATER, NOW);
        m.insert(key(10), der(10, 100), LATER, NOW);
        assert!(m.get(&key(1), NOW).is_none());
        assert!(m.get(&key(0), NOW).is_some());
        assert_eq!((m.len(), m.evicted()), (10, 1));
        // A big one pushes out as many as it needs, oldest first.
        m.insert(key(11), der(11, 100 + 2 * per), LATER, NOW);
        for gone in 2..5 {
            assert!(m.get(&key(gone), NOW).is_none(), "{gone}");
        }
        assert!(m.get(&key(5), NOW).is_some());
        assert!(m.bytes() <= 10 * per);
        // Larger than the whole cap: not held, nothing else lost.
        let before = m.len();
        m.insert(key(12), der(12, 10 * per), LATER, NOW);
        assert!(m.get(&key(12), NOW).is_none());
        assert_eq!(m.len(), before);
    }

    #[test]
    fn cap_holds_under_churn() {
        let cap = 64 * 1024;
        let m = Mirror::new(cap, 64);
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for i in 0..20_000u32 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let n = (seed % 2_000) as u32;
            match seed >> 60 {
                0 => m.remove(&key(n), NOW, NOW + (seed >> 40) as i64 % 50),
                1..=3 => {
                    m.get(&key(n), NOW + (i as i64 % 100));
                }
                _ => m.insert(key(n), der(n, (seed >> 20) as usize % 2_000), NOW + 1 + (seed >> 30) as i64 % 200, NOW),
            }
            let stats = m.stats();
            assert!(stats.bytes <= cap, "{stats:?}");
            assert!(stats.tombstones <= 64, "{stats:?}");
        }
        let inner = m.inner.lock();
        let counted: usize = inner.entries.values().map(Entry::cost).sum();
        assert_eq!(counted, inner.bytes);
        assert!(inner.order.len() <= 2 * inner.entries.len() + 33, "{} slots", inner.order.len());
        assert!(inner.tombstone_order.len() <= 2 * inner.tombstones.len() + 33);
    }

    #[test]
    fn expired_entries_at_the_front_make_room_first() {
        let per = 100 + ENTRY_OVERHEAD;
        let m = Mirror::new(3 * per, 16);
        m.insert(key(1), der(1, 100), NOW + 5, NOW);
        m.insert(key(2), der(2, 100), LATER, NOW);
        // At NOW + 5 key 1 is expired: dropped as such, not counted as an eviction.
        m.insert(key(3), der(3, 100), LATER, NOW + 5);
        assert_eq!((m.len(), m.evicted(), m.stats().expired), (2, 0, 1));
    }

    #[test]
    fn removal_forgets_until_its_time_and_a_late_insert_stays_out() {
        let m = Mirror::new(1 << 20, 16);
        m.insert(key(1), der(1, 10), LATER, NOW);
        m.remove(&key(1), NOW, NOW + 100);
        assert!(m.get(&key(1), NOW).is_none());
        assert!(m.forgotten(&key(1), NOW));
        assert!(!m.forgotten(&key(2), NOW));
        // A late store message for the removed session: refused.
        m.insert(key(1), der(1, 10), LATER, NOW + 1);
        assert!(m.get(&key(1), NOW + 1).is_none());
        assert!(m.forgotten(&key(1), NOW + 99));
        assert_eq!((m.len(), m.bytes(), m.stats().suppressed), (0, 0, 1));
        // An earlier `until` does not shorten it.
        m.remove(&key(1), NOW, NOW + 10);
        assert!(m.forgotten(&key(1), NOW + 99));
        // Past `until`, the tombstone is gone and the key may be held again.
        assert!(!m.forgotten(&key(1), NOW + 100));
        assert_eq!(m.stats().tombstones, 0);
        m.insert(key(1), der(1, 10), LATER, NOW + 100);
        assert!(m.get(&key(1), NOW + 100).is_some());
        // A removal of what is not held still forgets; one already over forgets nothing.
        m.remove(&key(3), NOW, NOW + 5);
        assert!(m.forgotten(&key(3), NOW));
        m.remove(&key(4), NOW, NOW);
        assert!(!m.forgotten(&key(4), NOW - 1));
    }

    #[test]
    fn tombstones_are_bounded_oldest_dropped_first() {
        let m = Mirror::new(1 << 20, 4);
        for n in 0..4 {
            m.remove(&key(n), NOW, LATER);
        }
        // Renewing key 0 makes it the newest tombstone.
        m.remove(&key(0), NOW, LATER);
        m.remove(&key(4), NOW, LATER);
        let stats = m.stats();
        assert_eq!((stats.tombstones, stats.tombstones_dropped), (4, 1));
        assert!(!m.forgotten(&key(1), NOW), "the oldest tombstone was not the one dropped");
        for n in [0, 2, 3, 4] {
            assert!(m.forgotten(&key(n), NOW), "{n}");
        }
        // No tombstones at all: removal still drops.
        let none = Mirror::new(1 << 20, 0);
        none.insert(key(1), der(1, 10), LATER, NOW);
        none.remove(&key(1), NOW, LATER);
        assert!(none.get(&key(1), NOW).is_none() && !none.forgotten(&key(1), NOW));
    }

    #[test]
    fn repeated_reinserts_keep_the_queue_bounded() {
        let m = Mirror::new(1 << 20, 16);
        // Held throughout at the front of the queue: stale slots pile up behind it.
        m.insert(key(999), der(999, 20), LATER, NOW);
        for i in 0..10_000 {
            m.insert(key(i % 3), der(i, 20), LATER, NOW);
            m.remove(&key(100 + i % 5), NOW, LATER);
        }
        let inner = m.inner.lock();
        assert_eq!(inner.entries.len(), 4);
        assert!(inner.order.len() <= 2 * 4 + 33, "{} slots", inner.order.len());
        assert!(inner.tombstone_order.len() <= 2 * 5 + 33, "{} slots", inner.tombstone_order.len());
    }

    #[test]
    fn a_held_der_outlives_its_eviction() {
        let per = 10 + ENTRY_OVERHEAD;
        let m = Mirror::new(per, 16);
        m.insert(key(1), der(1, 10), LATER, NOW);
        let got = m.get(&key(1), NOW).unwrap();
        m.insert(key(2), der(2, 10), LATER, NOW);
        assert!(m.get(&key(1), NOW).is_none());
        assert_eq!(got, der(1, 10));
    }

    #[test]
    fn entry_overhead_covers_the_structures() {
        use std::mem::size_of;
        // A map slot and its control byte at the lowest load (std's table grows at 7/8 full,
        // to twice the slots), two queue slots, the Arc's counts and Zeroizing<Vec>, and two
        // 16-byte allocator headers (the Arc's and the DER's).
        let map_slot = (size_of::<(SessionKey, Entry)>() + 1) * 2 * 8 / 7;
        let queue = 2 * size_of::<(u64, SessionKey)>();
        let arc = 2 * size_of::<usize>() + size_of::<Zeroizing<Vec<u8>>>();
        let total = map_slot + queue + arc + 2 * 16;
        assert!(total <= ENTRY_OVERHEAD, "{total}");
    }
}
