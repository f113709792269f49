//! The store: sessions by key, and an expiry order that decides eviction and flushing.
//!
//! OpenSSL keeps a hash table plus a doubly linked list sorted by expiry, newest-expiring at the
//! head; it evicts and flushes from the tail. Among equal expiries, the session (re)inserted
//! last sits nearest the head. Finding the spot for a session whose expiry differs from the
//! head's walks the list, O(n). Here the list is a `BTreeMap` keyed by (expiry, insertion
//! sequence): the same order, every operation O(log n).
//!
//! The store never calls out: whatever it drops it hands back, so the caller can run user
//! callbacks and release references after the lock is gone.

use std::collections::{BTreeMap, HashMap};

use parking_lot::RwLock;

use super::{Expiry, SessionKey};

/// A cached session as the store sees it: something cheap to clone with an identity.
pub trait Handle: Clone {
    /// True when both name the same session object (not merely equal contents).
    fn same(&self, other: &Self) -> bool;
}

struct Entry<H> {
    handle: H,
    /// None while an add is evicting for it: counted and findable, not yet in the order, as
    /// OpenSSL's newcomer is in the hash table but not yet in the list.
    order: Option<OrderKey>,
}

/// Position in the expiry order: earlier expiry first, then earlier insertion first. The first
/// entry is OpenSSL's list tail, the next to be evicted.
type OrderKey = (Expiry, u64);

struct State<H> {
    entries: HashMap<SessionKey, Entry<H>>,
    order: BTreeMap<OrderKey, SessionKey>,
    next_seq: u64,
}

impl<H> State<H> {
    fn next_order(&mut self, expiry: Expiry) -> OrderKey {
        self.next_seq += 1;
        (expiry, self.next_seq)
    }

    fn remove(&mut self, key: &SessionKey) -> Option<H> {
        let entry = self.entries.remove(key)?;
        if let Some(order) = entry.order {
            self.order.remove(&order);
        }
        Some(entry.handle)
    }

    /// The entry nearest the expiry end among those placed at or before `mark`. Only
    /// sessions re-added by callbacks during the walk are passed over, so this is normally
    /// the first entry.
    fn first_before(&self, mark: u64) -> Option<(Expiry, SessionKey)> {
        self.order.iter().find(|((_, seq), _)| *seq <= mark).map(|(&(expiry, _), &key)| (expiry, key))
    }

    /// Puts the entry under `key` at its place for `expiry`, as if inserted now.
    fn link(&mut self, key: SessionKey, expiry: Expiry) {
        let order = self.next_order(expiry);
        let Some(entry) = self.entries.get_mut(&key) else { return };
        if let Some(old) = entry.order.replace(order) {
            self.order.remove(&old);
        }
        self.order.insert(order, key);
    }
}

/// What the first step of an add found.
pub enum AddStart<H> {
    /// The key was not cached, or held another session object, which was dropped without a
    /// remove callback (`replaced`), as OpenSSL does. The newcomer is counted but not yet in
    /// the expiry order: evict with `evict_one`, then `link` it. OpenSSL returns 1.
    New { replaced: Option<H> },
    /// This very session was already cached under the key; it has been moved to its place
    /// for the new expiry. OpenSSL returns 0.
    Already,
}

/// One lock for the store: lookups share it (resumption is mostly lookups), changes take it
/// alone, and none holds it while calling out.
pub struct Cache<H> {
    state: RwLock<State<H>>,
}

impl<H: Handle> Default for Cache<H> {
    fn default() -> Self {
        Cache { state: RwLock::new(State { entries: HashMap::new(), order: BTreeMap::new(), next_seq: 0 }) }
    }
}

impl<H: Handle> Cache<H> {
    pub fn len(&self) -> usize {
        self.state.read().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// First step of caching `handle` under `key`; see `AddStart`.
    pub fn add_start(&self, key: SessionKey, handle: H, expiry: Expiry) -> AddStart<H> {
        let mut st = self.state.write();
        let replaced = match st.entries.get(&key) {
            Some(e) if e.handle.same(&handle) => {
                st.link(key, expiry);
                return AddStart::Already;
            }
            Some(_) => st.remove(&key),
            None => None,
        };
        st.entries.insert(key, Entry { handle, order: None });
        AddStart::New { replaced }
    }

    /// A mark for `evict_one` and `pop_expired`: they pass over sessions placed after it, so
    /// a callback that re-adds what they remove cannot keep them going forever.
    pub fn mark(&self) -> u64 {
        self.state.read().next_seq
    }

    /// One eviction for a newcomer: while the count (newcomer included) is at least `limit`,
    /// takes out the session nearest the expiry end that was placed before `mark`. None when
    /// there is room, when there is no such session, or when it has an empty id (OpenSSL
    /// cannot remove that one by key, and stops).
    pub fn evict_one(&self, limit: usize, mark: u64) -> Option<H> {
        let mut st = self.state.write();
        if limit == 0 || st.entries.len() < limit {
            return None;
        }
        let victim = st.first_before(mark)?.1;
        if victim.has_empty_id() {
            return None;
        }
        st.remove(&victim)
    }

    /// Last step of an add: the newcomer takes its place in the expiry order, if it is still
    /// cached under `key` (a callback during eviction may have removed it).
    pub fn link(&self, key: SessionKey, handle: &H, expiry: Expiry) {
        let mut st = self.state.write();
        if st.entries.get(&key).is_some_and(|e| e.handle.same(handle) && e.order.is_none()) {
            st.link(key, expiry);
        }
    }

    /// Takes out whatever session is cached under `key`.
    pub fn remove(&self, key: &SessionKey) -> Option<H> {
        self.state.write().remove(key)
    }

    pub fn get(&self, key: &SessionKey) -> Option<H> {
        self.state.read().entries.get(key).map(|e| e.handle.clone())
    }

    pub fn contains(&self, key: &SessionKey) -> bool {
        self.state.read().entries.contains_key(key)
    }

    /// Moves a cached session to its place for a new expiry, as OpenSSL re-links a session
    /// whose time or timeout changes while it is cached. False if it is not cached under `key`.
    pub fn reposition(&self, key: &SessionKey, handle: &H, expiry: Expiry) -> bool {
        let mut st = self.state.write();
        if !st.entries.get(key).is_some_and(|e| e.handle.same(handle)) {
            return false;
        }
        st.link(*key, expiry);
        true
    }

    /// Takes out the session nearest the expiry end that was placed before `mark`, if
    /// `expired` holds for it: one step of OpenSSL's flush walk, which stops at the first
    /// session that has not expired.
    pub fn pop_expired(&self, expired: impl Fn(Expiry) -> bool, mark: u64) -> Option<H> {
        let mut st = self.state.write();
        let (expiry, key) = st.first_before(mark)?;
        if !expired(expiry) {
            return None;
        }
        st.remove(&key)
    }

    /// The cached keys from the expiry end to the newest, for tests and reports.
    pub fn keys_in_eviction_order(&self) -> Vec<SessionKey> {
        self.state.read().order.values().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug)]
    struct H(u32);
    impl Handle for H {
        fn same(&self, o: &Self) -> bool {
            self.0 == o.0
        }
    }

    fn key(b: u8) -> SessionKey {
        SessionKey::new(0x303, &[b; 32]).unwrap()
    }
    fn ids(v: &[H]) -> Vec<u32> {
        v.iter().map(|h| h.0).collect()
    }

    /// A whole add: start, evict for `limit`, link. Returns what was evicted, or None when
    /// the session was already cached.
    fn add(c: &Cache<H>, k: SessionKey, h: H, e: Expiry, limit: usize) -> Option<Vec<H>> {
        match c.add_start(k, h.clone(), e) {
            AddStart::Already => None,
            AddStart::New { .. } => {
                let mut evicted = Vec::new();
                let mark = c.mark();
                while let Some(v) = c.evict_one(limit, mark) {
                    evicted.push(v);
                }
                c.link(k, &h, e);
                Some(evicted)
            }
        }
    }
    fn flush(c: &Cache<H>, now: i64) -> Vec<H> {
        let mark = c.mark();
        std::iter::from_fn(|| c.pop_expired(|e| e.is_expired_at(now), mark)).collect()
    }

    #[test]
    fn size_three_keeps_two_after_eviction() {
        let c = Cache::default();
        for i in 1..=4u8 {
            let evicted = add(&c, key(i), H(i.into()), Expiry::new(1000 + i64::from(i), 100), 3).expect("new key");
            let want: Vec<u32> = if i >= 3 { vec![u32::from(i) - 2] } else { vec![] };
            assert_eq!(ids(&evicted), want);
        }
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn equal_expiry_evicts_oldest_insertion_and_readd_refreshes() {
        let c = Cache::default();
        let e = Expiry::new(1000, 100);
        add(&c, key(1), H(1), e, 0);
        add(&c, key(2), H(2), e, 0);
        assert!(add(&c, key(1), H(1), e, 0).is_none());
        assert_eq!(c.keys_in_eviction_order(), vec![key(2), key(1)]);
    }

    #[test]
    fn mixed_expiries_sort_by_expiry_not_insertion() {
        let c = Cache::default();
        add(&c, key(1), H(1), Expiry::new(1000, 500), 0);
        add(&c, key(2), H(2), Expiry::new(1000, 10), 0);
        add(&c, key(3), H(3), Expiry::new(1000, 200), 0);
        assert_eq!(c.keys_in_eviction_order(), vec![key(2), key(3), key(1)]);
        assert_eq!(ids(&flush(&c, 1300)), vec![2, 3]);
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn empty_id_at_the_tail_blocks_eviction() {
        let c = Cache::default();
        let empty = SessionKey::new(0x303, &[]).unwrap();
        add(&c, empty, H(0), Expiry::new(1, 1), 2);
        add(&c, key(1), H(1), Expiry::new(1000, 100), 2);
        add(&c, key(2), H(2), Expiry::new(1000, 100), 2);
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn another_object_under_the_same_key_replaces_it() {
        let c = Cache::default();
        add(&c, key(1), H(1), Expiry::new(1000, 100), 0);
        match c.add_start(key(1), H(9), Expiry::new(1000, 100)) {
            AddStart::New { replaced: Some(old) } => assert_eq!(old.0, 1),
            _ => panic!("replacement not reported"),
        }
        assert_eq!(c.get(&key(1)).unwrap().0, 9);
    }

    #[test]
    fn what_is_placed_after_the_mark_is_passed_over() {
        let c = Cache::default();
        add(&c, key(1), H(1), Expiry::new(10, 1), 0);
        add(&c, key(2), H(2), Expiry::new(20, 1), 0);
        let mark = c.mark();
        // Re-added after the mark, as a remove callback might do mid-flush: passed over, and
        // the walk goes on to the next.
        assert_eq!(c.pop_expired(|_| true, mark).map(|h| h.0), Some(1));
        add(&c, key(1), H(1), Expiry::new(10, 1), 0);
        assert_eq!(c.pop_expired(|_| true, mark).map(|h| h.0), Some(2));
        assert!(c.pop_expired(|_| true, mark).is_none());
        assert!(c.evict_one(1, mark).is_none());
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn the_newcomer_is_counted_but_never_evicted_by_its_own_add() {
        let c = Cache::default();
        add(&c, key(1), H(1), Expiry::new(5000, 100), 0);
        // The newcomer expires first, yet the older entry is the one to go.
        let evicted = add(&c, key(2), H(2), Expiry::new(10, 1), 1).expect("new key");
        assert_eq!(ids(&evicted), vec![1]);
        assert_eq!(c.keys_in_eviction_order(), vec![key(2)]);
    }
}
