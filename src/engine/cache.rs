//! The store: sessions by key, and an expiry order that decides eviction and flushing.
//!
//! OpenSSL keeps a hash table plus a doubly linked list sorted by expiry, newest-expiring at the
//! head; it evicts and flushes from the tail. Among equal expiries, the session (re)inserted
//! last sits nearest the head. Finding the spot for a session whose expiry differs from the
//! head's walks the list, O(n). Here the order is a B-tree of buckets, one per distinct
//! expiry, each a circular list of its sessions in insertion order through the bucket's
//! sentinel: the same order, with O(log b) bucket lookups in a tree of b distinct expiries (a
//! few thousand at most when sessions get whole-second times and a handful of timeouts, so it
//! stays in cache) and O(1) list work.
//!
//! Layout, for size (a 16-byte slot and an 8-byte index entry a session, about what libssl's
//! lhash node and bucket pointer cost): sessions live in a slab of slots, each holding the handle
//! and its two list neighbours; the hash index holds slab positions with the key's 32-bit hash
//! beside them, so growing it never reads the slab. The key itself is not copied: like
//! OpenSSL's hash table, the store keeps the hash from insertion and compares the session's
//! current key, so a session whose id changes while cached is found under neither id, as in
//! libssl. The hash is seeded per cache, so ids chosen by peers cannot be aimed at one bucket.
//!
//! The store never calls out: whatever it drops it hands back, so the caller can run user
//! callbacks and release references after the lock is gone.

use std::collections::BTreeMap;
use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashMap, HashTable};
use parking_lot::RwLock;

use super::{Expiry, SessionKey};

/// A cached session as the store sees it: something cheap to clone with an identity and a key.
pub trait Handle: Clone {
    /// True when both name the same session object (not merely equal contents).
    fn same(&self, other: &Self) -> bool;
    /// The key the session has now: (protocol version, id). The store compares it on every
    /// match, as OpenSSL's hash table compares the session's current id.
    fn key(&self) -> SessionKey;
}

/// No slot: the end of a list, or a slot not in the expiry order.
const NIL: u32 = u32::MAX;
/// The bit that makes a list link name a bucket's sentinel instead of a slot.
const SENTINEL: u32 = 1 << 31;

/// One cached session, or a free slot (no handle; `next` links the free list).
struct Slot<H> {
    handle: Option<H>,
    /// Neighbours in the expiry order, older and newer: slots or the bucket's sentinel. `prev`
    /// is NIL while the slot is not in the order (a newcomer whose add is still evicting:
    /// counted and findable, as OpenSSL's newcomer is in the hash table but not the list).
    prev: u32,
    next: u32,
}

/// An index entry: a slab position and its key's hash when the session came in.
#[derive(Clone, Copy)]
struct Indexed {
    slot: u32,
    hash: u32,
}

/// hashbrown takes its control tag from the top bits of a 64-bit hash and the bucket from
/// the low bits; a 32-bit hash in both halves serves both and can be stored in 4 bytes.
fn widen(hash: u32) -> u64 {
    (u64::from(hash) << 32) | u64::from(hash)
}

/// The sentinel of the sessions with one expiry: `next` is the oldest insertion, `prev` the
/// newest.
struct Bucket {
    sort_key: u128,
    prev: u32,
    next: u32,
}

struct State<H> {
    slots: Vec<Slot<H>>,
    /// The first free slot; free slots chain through `next`.
    free: u32,
    /// Slab positions by key hash. The hash sits beside the position, so growing the index
    /// never reads the slab, and a probe looks at a session only when the hashes agree.
    index: HashTable<Indexed>,
    hasher: DefaultHashBuilder,
    buckets: Vec<Bucket>,
    free_buckets: Vec<u32>,
    /// Buckets by `Expiry::sort_key`: the first bucket's oldest session is OpenSSL's list
    /// tail, the next to be evicted.
    order: BTreeMap<u128, u32>,
    /// Walks under way (see `Walk`), and what was placed in the order since the first began,
    /// by placement number: a walk passes over what was placed after it started.
    walks: u32,
    placed_during_walks: HashMap<u32, u64>,
    placements: u64,
}

impl<H: Handle> State<H> {
    fn hash(&self, key: &SessionKey) -> u32 {
        self.hasher.hash_one(key) as u32
    }
    fn handle(&self, i: u32) -> &H {
        self.slots[i as usize].handle.as_ref().expect("indexed slots are occupied")
    }

    fn find(&self, key: &SessionKey) -> Option<u32> {
        self.find_hashed(key, self.hash(key))
    }

    /// `find` for a caller that needs the key's hash too, so that it is computed once.
    fn find_hashed(&self, key: &SessionKey, hash: u32) -> Option<u32> {
        let slots = &self.slots;
        let is_key = |e: &Indexed| e.hash == hash && slots[e.slot as usize].handle.as_ref().is_some_and(|h| h.key() == *key);
        self.index.find(widen(hash), is_key).map(|e| e.slot)
    }

    /// A new slot for `handle` (whose key hashes to `hash`), in the index but not in the order.
    fn insert(&mut self, hash: u32, handle: H) -> u32 {
        let slot = Slot { handle: Some(handle), prev: NIL, next: NIL };
        let i = if self.free != NIL {
            let i = self.free;
            self.free = self.slots[i as usize].next;
            self.slots[i as usize] = slot;
            i
        } else {
            assert!(self.slots.len() < SENTINEL as usize, "at most 2^31 cached sessions");
            self.slots.push(slot);
            (self.slots.len() - 1) as u32
        };
        self.index.insert_unique(widen(hash), Indexed { slot: i, hash }, |e| widen(e.hash));
        i
    }

    /// Takes slot `i`, whose session's current key hashes to `hash`, out of the index, the
    /// order and the slab.
    fn remove_slot(&mut self, i: u32, hash: u32) -> H {
        match self.index.find_entry(widen(hash), |e| e.slot == i) {
            Ok(entry) => drop(entry.remove()),
            // Its id changed while cached, so its entry sits under the old hash: a full
            // scan, for this misuse only.
            Err(_) => self.index.retain(|e| e.slot != i),
        }
        self.unlink(i);
        let slot = &mut self.slots[i as usize];
        let handle = slot.handle.take().expect("indexed slots are occupied");
        slot.next = std::mem::replace(&mut self.free, i);
        handle
    }

    // The expiry order's links: a value with SENTINEL set names a bucket.
    fn next_of(&self, v: u32) -> u32 {
        if v & SENTINEL != 0 { self.buckets[(v & !SENTINEL) as usize].next } else { self.slots[v as usize].next }
    }
    fn set_next(&mut self, v: u32, to: u32) {
        if v & SENTINEL != 0 {
            self.buckets[(v & !SENTINEL) as usize].next = to
        } else {
            self.slots[v as usize].next = to
        }
    }
    fn set_prev(&mut self, v: u32, to: u32) {
        if v & SENTINEL != 0 {
            self.buckets[(v & !SENTINEL) as usize].prev = to
        } else {
            self.slots[v as usize].prev = to
        }
    }

    /// The sentinel link of the bucket for `sort_key`, made if missing.
    fn bucket(&mut self, sort_key: u128) -> u32 {
        if let Some(&b) = self.order.get(&sort_key) {
            return b;
        }
        let b = match self.free_buckets.pop() {
            Some(b) => b,
            None => {
                self.buckets.push(Bucket { sort_key: 0, prev: NIL, next: NIL });
                (self.buckets.len() - 1) as u32
            }
        };
        let link = b | SENTINEL;
        self.buckets[b as usize] = Bucket { sort_key, prev: link, next: link };
        self.order.insert(sort_key, link);
        link
    }

    /// Puts slot `i` at its place for `expiry`, as if inserted now: the newest of its bucket.
    fn link(&mut self, i: u32, expiry: Expiry) {
        self.unlink(i);
        let sentinel = self.bucket(expiry.sort_key());
        let newest = self.buckets[(sentinel & !SENTINEL) as usize].prev;
        self.set_next(newest, i);
        self.set_prev(sentinel, i);
        let slot = &mut self.slots[i as usize];
        (slot.prev, slot.next) = (newest, sentinel);
        self.placements += 1;
        if self.walks > 0 {
            self.placed_during_walks.insert(i, self.placements);
        }
    }

    /// Takes slot `i` out of the order, if it is in it; an emptied bucket goes.
    fn unlink(&mut self, i: u32) {
        let Slot { prev, next, .. } = self.slots[i as usize];
        if prev == NIL {
            return;
        }
        self.set_next(prev, next);
        self.set_prev(next, prev);
        (self.slots[i as usize].prev, self.slots[i as usize].next) = (NIL, NIL);
        if prev == next {
            // Only the sentinel is left.
            let b = prev & !SENTINEL;
            self.order.remove(&self.buckets[b as usize].sort_key);
            self.free_buckets.push(b);
        }
        if self.walks > 0 {
            self.placed_during_walks.remove(&i);
        }
    }

    /// The slots in eviction order: buckets by expiry, each oldest insertion first.
    fn in_order(&self) -> impl Iterator<Item = (u128, u32)> + '_ {
        self.order.iter().flat_map(move |(&sort_key, &sentinel)| {
            std::iter::successors(Some(self.next_of(sentinel)), move |&j| Some(self.next_of(j)))
                .take_while(move |&j| j != sentinel)
                .map(move |j| (sort_key, j))
        })
    }

    fn begin_walk(&mut self) -> u64 {
        self.walks += 1;
        self.placements
    }
    fn end_walk(&mut self) {
        self.walks -= 1;
        if self.walks == 0 {
            self.placed_during_walks = HashMap::new();
        }
    }

    /// Takes out the session nearest the expiry end among those placed before `mark`, unless
    /// it has an empty id (OpenSSL cannot remove that one by key, and stops).
    fn evict_first(&mut self, mark: u64) -> Option<H> {
        let (_, i) = self.first_before(mark)?;
        let key = self.handle(i).key();
        if key.has_empty_id() {
            return None;
        }
        let hash = self.hash(&key);
        Some(self.remove_slot(i, hash))
    }

    /// The slot nearest the expiry end among those placed before the walk that took `mark`
    /// began, with its expiry. Only sessions re-added by callbacks during a walk are passed
    /// over, so this is normally the first slot.
    fn first_before(&self, mark: u64) -> Option<(Expiry, u32)> {
        let before = |j: &u32| self.placed_during_walks.get(j).is_none_or(|&p| p <= mark);
        self.in_order().find(|(_, j)| before(j)).map(|(key, j)| (Expiry::from_sort_key(key), j))
    }
}

/// What the first step of an add found.
pub enum AddStart<'a, H: Handle> {
    /// The key was not cached, or held another session object, which was dropped without a
    /// remove callback (`replaced`), as OpenSSL does. OpenSSL returns 1. When an eviction is
    /// due, the newcomer is counted but not yet in the expiry order, and `eviction` is the
    /// walk to evict with (`Walk::evict_one`) and to end with `Walk::link_newcomer`.
    New { replaced: Option<H>, eviction: Option<Walk<'a, H>> },
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
        Cache {
            state: RwLock::new(State {
                slots: Vec::new(),
                free: NIL,
                index: HashTable::new(),
                hasher: DefaultHashBuilder::default(),
                buckets: Vec::new(),
                free_buckets: Vec::new(),
                order: BTreeMap::new(),
                walks: 0,
                placed_during_walks: HashMap::new(),
                placements: 0,
            }),
        }
    }
}

/// An eviction or flush under way: one session at a time is taken out, and the caller runs
/// the remove callback between steps with no lock held. A callback may re-add what was taken
/// out; the walk passes over everything placed after it began, so it always ends.
pub struct Walk<'a, H: Handle> {
    cache: &'a Cache<H>,
    mark: u64,
}

impl<H: Handle> Walk<'_, H> {
    /// One eviction for a newcomer: while the count (newcomer included) is at least `limit`,
    /// takes out the session nearest the expiry end. None when there is room, when there is
    /// no such session, or when it has an empty id (OpenSSL cannot remove that one by key,
    /// and stops).
    pub fn evict_one(&self, limit: usize) -> Option<H> {
        let mut st = self.cache.state.write();
        if limit == 0 || st.index.len() < limit {
            return None;
        }
        st.evict_first(self.mark)
    }

    /// Takes out the session nearest the expiry end if `expired` holds for it: one step of
    /// OpenSSL's flush walk, which stops at the first session that has not expired.
    pub fn pop_expired(&self, expired: impl Fn(Expiry) -> bool) -> Option<H> {
        let mut st = self.cache.state.write();
        let (expiry, i) = st.first_before(self.mark)?;
        if !expired(expiry) {
            return None;
        }
        let hash = st.hash(&st.handle(i).key());
        Some(st.remove_slot(i, hash))
    }

    /// Ends an add's eviction: the newcomer under `key` takes its place in the expiry order,
    /// if it is still there unlinked (a callback during eviction may have removed or replaced
    /// it; a replacement is unlinked too, and takes the place). One lock for both.
    pub fn link_newcomer(self, key: SessionKey, expiry: Expiry) {
        let mut st = self.cache.state.write();
        if let Some(i) = st.find(&key) {
            if st.slots[i as usize].prev == NIL {
                st.link(i, expiry);
            }
        }
        st.end_walk();
        // Ended above; the walk holds nothing else to release.
        std::mem::forget(self);
    }
}

impl<H: Handle> Drop for Walk<'_, H> {
    fn drop(&mut self) {
        self.cache.state.write().end_walk();
    }
}

impl<H: Handle> Cache<H> {
    pub fn len(&self) -> usize {
        self.state.read().index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// First step of caching `handle` under `key` (its current key); see `AddStart`. With
    /// `limit` (0 for none) leaving room for the newcomer, nothing will be evicted, and it is
    /// linked at once. With `evict_into`, whatever must go to make room goes now, under the
    /// same lock, into that list: for a context whose evictions call nobody back, so that no
    /// one could see the steps apart.
    pub fn add_start(
        &self,
        key: SessionKey,
        handle: H,
        expiry: Expiry,
        limit: usize,
        evict_into: Option<&mut Vec<H>>,
    ) -> AddStart<'_, H> {
        let mut st = self.state.write();
        let hash = st.hash(&key);
        let (i, replaced) = match st.find_hashed(&key, hash) {
            Some(i) if st.handle(i).same(&handle) => {
                st.link(i, expiry);
                return AddStart::Already;
            }
            Some(i) => {
                // Another object under the key: it goes, the newcomer takes its slot unlinked.
                st.unlink(i);
                (i, st.slots[i as usize].handle.replace(handle))
            }
            None => (st.insert(hash, handle), None),
        };
        if let Some(evicted) = evict_into {
            while limit != 0 && st.index.len() >= limit {
                let Some(victim) = st.evict_first(u64::MAX) else { break };
                evicted.push(victim);
            }
        }
        if limit == 0 || st.index.len() < limit {
            st.link(i, expiry);
            return AddStart::New { replaced, eviction: None };
        }
        let mark = st.begin_walk();
        AddStart::New { replaced, eviction: Some(Walk { cache: self, mark }) }
    }

    /// Starts a flush; see `Walk`.
    pub fn walk(&self) -> Walk<'_, H> {
        let mark = self.state.write().begin_walk();
        Walk { cache: self, mark }
    }

    /// Takes out whatever session is cached under `key`.
    pub fn remove(&self, key: &SessionKey) -> Option<H> {
        let mut st = self.state.write();
        let hash = st.hash(key);
        let i = st.find_hashed(key, hash)?;
        Some(st.remove_slot(i, hash))
    }

    pub fn get(&self, key: &SessionKey) -> Option<H> {
        let st = self.state.read();
        st.find(key).map(|i| st.handle(i).clone())
    }

    pub fn contains(&self, key: &SessionKey) -> bool {
        self.state.read().find(key).is_some()
    }

    /// Moves a cached session to its place for a new expiry, as OpenSSL re-links a session
    /// whose time or timeout changes while it is cached. False if it is not cached under `key`.
    pub fn reposition(&self, key: &SessionKey, handle: &H, expiry: Expiry) -> bool {
        let mut st = self.state.write();
        match st.find(key) {
            Some(i) if st.handle(i).same(handle) => {
                st.link(i, expiry);
                true
            }
            _ => false,
        }
    }

    /// The cached keys from the expiry end to the newest, for tests and reports.
    pub fn keys_in_eviction_order(&self) -> Vec<SessionKey> {
        let st = self.state.read();
        st.in_order().map(|(_, j)| st.handle(j).key()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A session with a tag and a key.
    #[derive(Clone, Debug)]
    struct H(u32, SessionKey);
    impl Handle for H {
        fn same(&self, o: &Self) -> bool {
            self.0 == o.0
        }
        fn key(&self) -> SessionKey {
            self.1
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
    fn add(c: &Cache<H>, h: H, e: Expiry, limit: usize) -> Option<Vec<H>> {
        let k = h.key();
        match c.add_start(k, h.clone(), e, limit, None) {
            AddStart::Already => None,
            AddStart::New { eviction: None, .. } => Some(Vec::new()),
            AddStart::New { eviction: Some(walk), .. } => {
                let evicted = std::iter::from_fn(|| walk.evict_one(limit)).collect();
                walk.link_newcomer(k, e);
                Some(evicted)
            }
        }
    }
    fn flush(c: &Cache<H>, now: i64) -> Vec<H> {
        let walk = c.walk();
        std::iter::from_fn(|| walk.pop_expired(|e| e.is_expired_at(now))).collect()
    }

    #[test]
    fn size_three_keeps_two_after_eviction() {
        let c = Cache::default();
        for i in 1..=4u8 {
            let evicted = add(&c, H(i.into(), key(i)), Expiry::new(1000 + i64::from(i), 100), 3).expect("new key");
            let want: Vec<u32> = if i >= 3 { vec![u32::from(i) - 2] } else { vec![] };
            assert_eq!(ids(&evicted), want);
        }
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn equal_expiry_evicts_oldest_insertion_and_readd_refreshes() {
        let c = Cache::default();
        let e = Expiry::new(1000, 100);
        add(&c, H(1, key(1)), e, 0);
        add(&c, H(2, key(2)), e, 0);
        assert!(add(&c, H(1, key(1)), e, 0).is_none());
        assert_eq!(c.keys_in_eviction_order(), vec![key(2), key(1)]);
    }

    #[test]
    fn mixed_expiries_sort_by_expiry_not_insertion() {
        let c = Cache::default();
        add(&c, H(1, key(1)), Expiry::new(1000, 500), 0);
        add(&c, H(2, key(2)), Expiry::new(1000, 10), 0);
        add(&c, H(3, key(3)), Expiry::new(1000, 200), 0);
        assert_eq!(c.keys_in_eviction_order(), vec![key(2), key(3), key(1)]);
        assert_eq!(ids(&flush(&c, 1300)), vec![2, 3]);
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn empty_id_at_the_tail_blocks_eviction() {
        let c = Cache::default();
        let empty = SessionKey::new(0x303, &[]).unwrap();
        add(&c, H(0, empty), Expiry::new(1, 1), 2);
        add(&c, H(1, key(1)), Expiry::new(1000, 100), 2);
        add(&c, H(2, key(2)), Expiry::new(1000, 100), 2);
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn another_object_under_the_same_key_replaces_it() {
        let c = Cache::default();
        add(&c, H(1, key(1)), Expiry::new(1000, 100), 0);
        match c.add_start(key(1), H(9, key(1)), Expiry::new(1000, 100), 0, None) {
            AddStart::New { replaced: Some(old), .. } => assert_eq!(old.0, 1),
            _ => panic!("replacement not reported"),
        }
        assert_eq!(c.get(&key(1)).unwrap().0, 9);
    }

    #[test]
    fn what_is_placed_after_the_mark_is_passed_over() {
        let c = Cache::default();
        add(&c, H(1, key(1)), Expiry::new(10, 1), 0);
        add(&c, H(2, key(2)), Expiry::new(20, 1), 0);
        let walk = c.walk();
        // Re-added after the walk began, as a remove callback might do mid-flush: passed over,
        // and the walk goes on to the next.
        assert_eq!(walk.pop_expired(|_| true).map(|h| h.0), Some(1));
        add(&c, H(1, key(1)), Expiry::new(10, 1), 0);
        assert_eq!(walk.pop_expired(|_| true).map(|h| h.0), Some(2));
        assert!(walk.pop_expired(|_| true).is_none());
        assert!(walk.evict_one(1).is_none());
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn the_newcomer_is_counted_but_never_evicted_by_its_own_add() {
        let c = Cache::default();
        add(&c, H(1, key(1)), Expiry::new(5000, 100), 0);
        // The newcomer expires first, yet the older entry is the one to go.
        let evicted = add(&c, H(2, key(2)), Expiry::new(10, 1), 1).expect("new key");
        assert_eq!(ids(&evicted), vec![1]);
        assert_eq!(c.keys_in_eviction_order(), vec![key(2)]);
    }

    #[test]
    fn a_session_costs_16_bytes_of_slab_beside_its_index_entry() {
        assert_eq!(std::mem::size_of::<Slot<std::sync::Arc<u8>>>(), 16);
        assert_eq!(std::mem::size_of::<Indexed>(), 8);
    }

    /// A handle whose key can change while cached, as `SSL_SESSION_set1_id` changes one.
    #[derive(Clone)]
    struct Mutable(std::sync::Arc<parking_lot::Mutex<SessionKey>>);
    impl Handle for Mutable {
        fn same(&self, o: &Self) -> bool {
            std::sync::Arc::ptr_eq(&self.0, &o.0)
        }
        fn key(&self) -> SessionKey {
            *self.0.lock()
        }
    }

    #[test]
    fn a_session_whose_id_changes_while_cached_is_found_under_neither_id() {
        let c = Cache::default();
        let s = Mutable(std::sync::Arc::new(parking_lot::Mutex::new(key(1))));
        assert!(matches!(c.add_start(key(1), s.clone(), Expiry::new(1000, 100), 0, None), AddStart::New { .. }));
        *s.0.lock() = key(2);
        assert!(!c.contains(&key(1)));
        assert!(!c.contains(&key(2)));
        assert!(c.remove(&key(2)).is_none());
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn thousands_of_sessions_survive_index_growth_and_slot_reuse() {
        let c = Cache::default();
        let k = |n: u32| SessionKey::new(0x303, &n.to_le_bytes()).unwrap();
        for n in 0..5000 {
            add(&c, H(n, k(n)), Expiry::new(1000 + i64::from(n % 7), 100), 0);
        }
        for n in (0..5000).step_by(2) {
            assert_eq!(c.remove(&k(n)).map(|h| h.0), Some(n));
        }
        for n in 5000..6000 {
            add(&c, H(n, k(n)), Expiry::new(1000, 100), 0);
        }
        assert_eq!(c.len(), 3500);
        for n in 0..6000 {
            assert_eq!(c.contains(&k(n)), n % 2 == 1 || n >= 5000, "key {n}");
        }
        // The earliest expiry (1100) first: the survivors of the first batch that have it,
        // then the whole second batch, inserted later; the latest expiry (1106) last.
        let order = c.keys_in_eviction_order();
        let earliest_first_batch = (1..5000).step_by(2).filter(|n| n % 7 == 0).count();
        assert_eq!(order.len(), 3500);
        assert_eq!(order[0], k(7));
        assert_eq!(order[earliest_first_batch], k(5000));
        assert_eq!(order[earliest_first_batch + 999], k(5999));
        assert_eq!(order[3499], k(4997));
    }
}
