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

use parking_lot::Mutex;

use super::{Expiry, SessionKey};

/// A cached session as the store sees it: something cheap to clone with an identity.
pub trait Handle: Clone {
    /// True when both name the same session object (not merely equal contents).
    fn same(&self, other: &Self) -> bool;
}

struct Entry<H> {
    handle: H,
    order: OrderKey,
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
        self.order.remove(&entry.order);
        Some(entry.handle)
    }
}

/// What `add` did.
pub enum Added<H> {
    /// The key was not cached, or held another session object, which was dropped without a
    /// remove callback (`replaced`), as OpenSSL does. OpenSSL returns 1.
    New { replaced: Option<H>, evicted: Vec<H> },
    /// This very session was already cached under the key; it was moved to its place for
    /// `expiry` as if inserted now. OpenSSL returns 0.
    Already,
}

pub struct Cache<H> {
    state: Mutex<State<H>>,
}

impl<H: Handle> Default for Cache<H> {
    fn default() -> Self {
        Cache { state: Mutex::new(State { entries: HashMap::new(), order: BTreeMap::new(), next_seq: 0 }) }
    }
}

impl<H: Handle> Cache<H> {
    pub fn len(&self) -> usize {
        self.state.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Caches `handle` under `key`. With `limit > 0`, a new entry first evicts from the
    /// expiry end while the count, the newcomer included, is at least `limit`: OpenSSL's rule,
    /// which leaves a cache of size N holding N-1 sessions after an eviction. Eviction stops at
    /// a session with an empty id, which OpenSSL cannot remove by key.
    pub fn add(&self, key: SessionKey, handle: H, expiry: Expiry, limit: usize) -> Added<H> {
        let mut st = self.state.lock();
        let replaced = match st.entries.get(&key) {
            Some(e) if e.handle.same(&handle) => {
                let old = e.order;
                let new = st.next_order(expiry);
                st.order.remove(&old);
                st.order.insert(new, key);
                st.entries.get_mut(&key).expect("entry just seen").order = new;
                return Added::Already;
            }
            Some(_) => st.remove(&key),
            None => None,
        };
        let mut evicted = Vec::new();
        if limit > 0 {
            // The newcomer counts but is not in the order yet, so it cannot evict itself.
            while st.entries.len() + 1 >= limit {
                let Some((_, victim)) = st.order.first_key_value() else { break };
                if victim.has_empty_id() {
                    break;
                }
                let victim = *victim;
                evicted.push(st.remove(&victim).expect("ordered key is cached"));
            }
        }
        let order = st.next_order(expiry);
        st.order.insert(order, key);
        st.entries.insert(key, Entry { handle, order });
        Added::New { replaced, evicted }
    }

    /// Takes out whatever session is cached under `key`.
    pub fn remove(&self, key: &SessionKey) -> Option<H> {
        self.state.lock().remove(key)
    }

    /// Takes out the entry under `key` only if it is this very session.
    pub fn remove_if_same(&self, key: &SessionKey, handle: &H) -> Option<H> {
        let mut st = self.state.lock();
        match st.entries.get(key) {
            Some(e) if e.handle.same(handle) => st.remove(key),
            _ => None,
        }
    }

    pub fn get(&self, key: &SessionKey) -> Option<H> {
        self.state.lock().entries.get(key).map(|e| e.handle.clone())
    }

    pub fn contains(&self, key: &SessionKey) -> bool {
        self.state.lock().entries.contains_key(key)
    }

    /// Moves a cached session to its place for a new expiry, as OpenSSL re-links a session
    /// whose time or timeout changes while it is cached. False if it is not cached under `key`.
    pub fn reposition(&self, key: &SessionKey, handle: &H, expiry: Expiry) -> bool {
        let mut st = self.state.lock();
        let old = match st.entries.get(key) {
            Some(e) if e.handle.same(handle) => e.order,
            _ => return false,
        };
        let new = st.next_order(expiry);
        st.order.remove(&old);
        st.order.insert(new, *key);
        st.entries.get_mut(key).expect("entry just seen").order = new;
        true
    }

    /// Takes out, from the expiry end, every session for which `expired` holds, stopping at the
    /// first that does not: OpenSSL's flush walk. Returned in removal order.
    pub fn drain_expired(&self, expired: impl Fn(Expiry) -> bool) -> Vec<H> {
        let mut st = self.state.lock();
        let mut out = Vec::new();
        while let Some((&(expiry, _), &key)) = st.order.first_key_value() {
            if !expired(expiry) {
                break;
            }
            out.push(st.remove(&key).expect("ordered key is cached"));
        }
        out
    }

    /// The cached keys from the expiry end to the newest, for tests and reports.
    pub fn keys_in_eviction_order(&self) -> Vec<SessionKey> {
        self.state.lock().order.values().copied().collect()
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

    #[test]
    fn size_three_keeps_two_after_eviction() {
        let c = Cache::default();
        for i in 1..=4u8 {
            let r = c.add(key(i), H(i.into()), Expiry::new(1000 + i64::from(i), 100), 3);
            if let Added::New { evicted, .. } = r {
                let want: Vec<u32> = if i >= 3 { vec![u32::from(i) - 2] } else { vec![] };
                assert_eq!(ids(&evicted), want);
            } else {
                panic!("new key reported as already cached");
            }
        }
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn equal_expiry_evicts_oldest_insertion_and_readd_refreshes() {
        let c = Cache::default();
        let e = Expiry::new(1000, 100);
        c.add(key(1), H(1), e, 0);
        c.add(key(2), H(2), e, 0);
        assert!(matches!(c.add(key(1), H(1), e, 0), Added::Already));
        assert_eq!(c.keys_in_eviction_order(), vec![key(2), key(1)]);
    }

    #[test]
    fn mixed_expiries_sort_by_expiry_not_insertion() {
        let c = Cache::default();
        c.add(key(1), H(1), Expiry::new(1000, 500), 0);
        c.add(key(2), H(2), Expiry::new(1000, 10), 0);
        c.add(key(3), H(3), Expiry::new(1000, 200), 0);
        assert_eq!(c.keys_in_eviction_order(), vec![key(2), key(3), key(1)]);
        assert_eq!(ids(&c.drain_expired(|e| e.is_expired_at(1300))), vec![2, 3]);
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn empty_id_at_the_tail_blocks_eviction() {
        let c = Cache::default();
        let empty = SessionKey::new(0x303, &[]).unwrap();
        c.add(empty, H(0), Expiry::new(1, 1), 2);
        c.add(key(1), H(1), Expiry::new(1000, 100), 2);
        c.add(key(2), H(2), Expiry::new(1000, 100), 2);
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn another_object_under_the_same_key_replaces_without_eviction_of_itself() {
        let c = Cache::default();
        c.add(key(1), H(1), Expiry::new(1000, 100), 0);
        match c.add(key(1), H(9), Expiry::new(1000, 100), 0) {
            Added::New { replaced: Some(old), evicted } => {
                assert_eq!(old.0, 1);
                assert!(evicted.is_empty());
            }
            _ => panic!("replacement not reported"),
        }
        assert_eq!(c.get(&key(1)).unwrap().0, 9);
    }
}
