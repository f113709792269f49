//! The store: sessions by key, and an expiry order that decides eviction and flushing.
//!
//! OpenSSL keeps a hash table plus a doubly linked list sorted by expiry, newest-expiring at the
//! head; it evicts and flushes from the tail. Among equal expiries, the session (re)inserted
//! last sits nearest the head. Finding the spot for a session whose expiry differs from the
//! head's walks the list, O(n). Here the order is a B-tree of buckets, one per distinct
//! expiry, each a doubly linked list of its sessions in insertion order: the same order, with
//! O(log b) bucket lookups in a tree of b distinct expiries (a few thousand at most when
//! sessions get whole-second times and a handful of timeouts, so it stays in cache) and O(1)
//! list work.
//!
//! Layout, for speed and size: entries live in a slab (each key stored once) and carry their
//! list links; the hash index holds 4-byte slab positions with the key's 32-bit hash beside
//! them, so growing the index never reads the slab. The hash is seeded per cache, so ids
//! chosen by peers cannot be aimed at one bucket.
//!
//! The store never calls out: whatever it drops it hands back, so the caller can run user
//! callbacks and release references after the lock is gone.

use std::collections::BTreeMap;
use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};
use parking_lot::RwLock;

use super::{Expiry, SessionKey};

/// A cached session as the store sees it: something cheap to clone with an identity.
pub trait Handle: Clone {
    /// True when both name the same session object (not merely equal contents).
    fn same(&self, other: &Self) -> bool;
}

/// No slot: the end of a list.
const NIL: u32 = u32::MAX;

struct Slot<H> {
    handle: H,
    key: SessionKey,
    /// `Expiry::sort_key` of the bucket the slot is in.
    expiry: u128,
    /// When it was (re)inserted; 0 while an add is evicting for it: counted and findable,
    /// not yet in the order, as OpenSSL's newcomer is in the hash table but not the list.
    seq: u64,
    /// Neighbours in its bucket, older and newer.
    prev: u32,
    next: u32,
}

/// The sessions with one expiry, oldest insertion first.
struct Bucket {
    head: u32,
    tail: u32,
}

/// An index entry: a slab position and its key's hash.
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

struct State<H> {
    slots: Vec<Option<Slot<H>>>,
    free: Vec<u32>,
    index: HashTable<Indexed>,
    hasher: DefaultHashBuilder,
    /// Buckets by expiry sort key: the first bucket's head is OpenSSL's list tail, the next
    /// session to be evicted.
    order: BTreeMap<u128, Bucket>,
    next_seq: u64,
}

impl<H> State<H> {
    fn hash(&self, key: &SessionKey) -> u32 {
        self.hasher.hash_one(key) as u32
    }
    fn slot(&self, i: u32) -> &Slot<H> {
        self.slots[i as usize].as_ref().expect("indexed slots are occupied")
    }
    fn slot_mut(&mut self, i: u32) -> &mut Slot<H> {
        self.slots[i as usize].as_mut().expect("indexed slots are occupied")
    }
    fn find(&self, key: &SessionKey) -> Option<u32> {
        let hash = self.hash(key);
        let slots = &self.slots;
        let is_key = |e: &Indexed| e.hash == hash && slots[e.slot as usize].as_ref().is_some_and(|s| s.key == *key);
        self.index.find(widen(hash), is_key).map(|e| e.slot)
    }

    /// A new slot for `handle` under `key` (whose hash is `hash`), in the index but not in
    /// the order.
    fn insert(&mut self, key: SessionKey, hash: u32, handle: H) -> u32 {
        let slot = Some(Slot { handle, key, expiry: 0, seq: 0, prev: NIL, next: NIL });
        let i = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = slot;
                i
            }
            None => {
                self.slots.push(slot);
                (self.slots.len() - 1) as u32
            }
        };
        self.index.insert_unique(widen(hash), Indexed { slot: i, hash }, |e| widen(e.hash));
        i
    }

    /// Takes slot `i` out of the index, the order and the slab.
    fn remove_slot(&mut self, i: u32) -> H {
        let hash = self.hash(&self.slot(i).key);
        if let Ok(entry) = self.index.find_entry(widen(hash), |e| e.slot == i) {
            entry.remove();
        }
        self.unlink(i);
        let slot = self.slots[i as usize].take().expect("indexed slots are occupied");
        self.free.push(i);
        slot.handle
    }

    /// Puts slot `i` at its place for `expiry`, as if inserted now: the newest of its bucket.
    fn link(&mut self, i: u32, expiry: Expiry) {
        self.unlink(i);
        self.next_seq += 1;
        let (seq, key) = (self.next_seq, expiry.sort_key());
        let bucket = self.order.entry(key).or_insert(Bucket { head: NIL, tail: NIL });
        let prev = std::mem::replace(&mut bucket.tail, i);
        if prev == NIL {
            bucket.head = i;
        }
        let slots = &mut self.slots;
        if prev != NIL {
            slots[prev as usize].as_mut().expect("listed slots are occupied").next = i;
        }
        let slot = slots[i as usize].as_mut().expect("indexed slots are occupied");
        (slot.expiry, slot.seq, slot.prev, slot.next) = (key, seq, prev, NIL);
    }

    /// Takes slot `i` out of its bucket, if it is in one; an emptied bucket goes.
    fn unlink(&mut self, i: u32) {
        let slot = self.slot_mut(i);
        if slot.seq == 0 {
            return;
        }
        let (key, prev, next) = (slot.expiry, slot.prev, slot.next);
        (slot.seq, slot.prev, slot.next) = (0, NIL, NIL);
        if prev != NIL {
            self.slot_mut(prev).next = next;
        }
        if next != NIL {
            self.slot_mut(next).prev = prev;
        }
        let bucket = self.order.get_mut(&key).expect("a linked slot's bucket exists");
        if prev == NIL {
            bucket.head = next;
        }
        if next == NIL {
            bucket.tail = prev;
        }
        if bucket.head == NIL {
            self.order.remove(&key);
        }
    }

    /// The slots in eviction order: buckets by expiry, each oldest insertion first.
    fn in_order(&self) -> impl Iterator<Item = (u128, u32)> + '_ {
        self.order.iter().flat_map(move |(&key, bucket)| {
            std::iter::successors(Some(bucket.head).filter(|&j| j != NIL), move |&j| {
                Some(self.slot(j).next).filter(|&n| n != NIL)
            })
            .map(move |j| (key, j))
        })
    }

    /// The slot nearest the expiry end among those placed at or before sequence `mark`, with
    /// its expiry. Only sessions re-added by callbacks during a walk are passed over, so this
    /// is normally the first slot.
    fn first_before(&self, mark: u64) -> Option<(Expiry, u32)> {
        self.in_order().find(|&(_, j)| self.slot(j).seq <= mark).map(|(key, j)| (Expiry::from_sort_key(key), j))
    }
}

/// What the first step of an add found.
pub enum AddStart<H> {
    /// The key was not cached, or held another session object, which was dropped without a
    /// remove callback (`replaced`), as OpenSSL does. The newcomer is counted but not yet in
    /// the expiry order unless `linked` (no eviction due): evict with `evict_one`, then
    /// `link` it. OpenSSL returns 1.
    New { replaced: Option<H>, linked: bool },
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
                free: Vec::new(),
                index: HashTable::new(),
                hasher: DefaultHashBuilder::default(),
                order: BTreeMap::new(),
                next_seq: 0,
            }),
        }
    }
}

impl<H: Handle> Cache<H> {
    pub fn len(&self) -> usize {
        self.state.read().index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// First step of caching `handle` under `key`; see `AddStart`. With `limit` (0 for none)
    /// leaving room for the newcomer, nothing will be evicted, and it is linked at once.
    pub fn add_start(&self, key: SessionKey, handle: H, expiry: Expiry, limit: usize) -> AddStart<H> {
        let mut st = self.state.write();
        let hash = st.hash(&key);
        let slots = &st.slots;
        let is_key = |e: &Indexed| e.hash == hash && slots[e.slot as usize].as_ref().is_some_and(|s| s.key == key);
        let (i, replaced) = match st.index.find(widen(hash), is_key).map(|e| e.slot) {
            Some(i) if st.slot(i).handle.same(&handle) => {
                st.link(i, expiry);
                return AddStart::Already;
            }
            Some(i) => {
                // Another object under the key: it goes, the newcomer takes its slot unlinked.
                st.unlink(i);
                (i, Some(std::mem::replace(&mut st.slot_mut(i).handle, handle)))
            }
            None => (st.insert(key, hash, handle), None),
        };
        let linked = limit == 0 || st.index.len() < limit;
        if linked {
            st.link(i, expiry);
        }
        AddStart::New { replaced, linked }
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
        if limit == 0 || st.index.len() < limit {
            return None;
        }
        let (_, i) = st.first_before(mark)?;
        if st.slot(i).key.has_empty_id() {
            return None;
        }
        Some(st.remove_slot(i))
    }

    /// Last step of an add: the newcomer under `key` takes its place in the expiry order, if
    /// it is still there unlinked (a callback during eviction may have removed or replaced
    /// it; a replacement is unlinked too, and takes the place).
    pub fn link_key(&self, key: SessionKey, expiry: Expiry) {
        let mut st = self.state.write();
        if let Some(i) = st.find(&key) {
            if st.slot(i).seq == 0 {
                st.link(i, expiry);
            }
        }
    }

    /// Takes out whatever session is cached under `key`.
    pub fn remove(&self, key: &SessionKey) -> Option<H> {
        let mut st = self.state.write();
        let i = st.find(key)?;
        Some(st.remove_slot(i))
    }

    pub fn get(&self, key: &SessionKey) -> Option<H> {
        let st = self.state.read();
        st.find(key).map(|i| st.slot(i).handle.clone())
    }

    pub fn contains(&self, key: &SessionKey) -> bool {
        self.state.read().find(key).is_some()
    }

    /// Moves a cached session to its place for a new expiry, as OpenSSL re-links a session
    /// whose time or timeout changes while it is cached. False if it is not cached under `key`.
    pub fn reposition(&self, key: &SessionKey, handle: &H, expiry: Expiry) -> bool {
        let mut st = self.state.write();
        match st.find(key) {
            Some(i) if st.slot(i).handle.same(handle) => {
                st.link(i, expiry);
                true
            }
            _ => false,
        }
    }

    /// Takes out the session nearest the expiry end that was placed before `mark`, if
    /// `expired` holds for it: one step of OpenSSL's flush walk, which stops at the first
    /// session that has not expired.
    pub fn pop_expired(&self, expired: impl Fn(Expiry) -> bool, mark: u64) -> Option<H> {
        let mut st = self.state.write();
        let (expiry, i) = st.first_before(mark)?;
        if !expired(expiry) {
            return None;
        }
        Some(st.remove_slot(i))
    }

    /// The cached keys from the expiry end to the newest, for tests and reports.
    pub fn keys_in_eviction_order(&self) -> Vec<SessionKey> {
        let st = self.state.read();
        st.in_order().map(|(_, j)| st.slot(j).key).collect()
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
        match c.add_start(k, h.clone(), e, limit) {
            AddStart::Already => None,
            AddStart::New { linked: true, .. } => Some(Vec::new()),
            AddStart::New { .. } => {
                let mut evicted = Vec::new();
                let mark = c.mark();
                while let Some(v) = c.evict_one(limit, mark) {
                    evicted.push(v);
                }
                c.link_key(k, e);
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
        match c.add_start(key(1), H(9), Expiry::new(1000, 100), 0) {
            AddStart::New { replaced: Some(old), .. } => assert_eq!(old.0, 1),
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
