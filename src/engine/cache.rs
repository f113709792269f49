//! The store: sessions by key, split over shards, and the expiry order (`order.rs`) that
//! decides eviction and flushing.
//!
//! Locking, for two threads on one context: resumption is mostly lookups, and a lookup takes
//! only the read lock of the one shard its key hashes to, so lookups on different cores do not
//! write the same cache lines. Every change takes the order's lock first and keeps it to the
//! end, then one shard's lock at a time: changes are serialized, as OpenSSL's are, and the
//! order always agrees with the shards once the change is over. A change keeps its shard
//! locked until its order work is done, so that its two unlocks, each of which waits for the
//! stores before it, wait once; only an add that must evict lets its shard go first, since a
//! victim's shard is locked next and may be the same one. No lock is held while calling out.
//!
//! Layout, for size (an 8-byte slab entry and an 8-byte index entry a session here, and 8
//! bytes of links in the order: about what libssl's lhash node and bucket pointer cost): each
//! shard has a slab of handles and a hash index of slab positions with the key's 32-bit hash
//! beside them, so growing the index never reads the slab. The key itself is not copied: like
//! OpenSSL's hash table, the store keeps the hash from insertion and compares the session's
//! current key, so a session whose id changes while cached is found under neither id, as in
//! libssl. The hash is seeded per cache, so ids chosen by peers cannot be aimed at one bucket
//! or shard.
//!
//! The store never calls out: whatever it drops it hands back, so the caller can run user
//! callbacks and release references after the locks are gone.

use std::hash::BuildHasher;

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use hashbrown::{DefaultHashBuilder, HashTable};
use parking_lot::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::order::{Order, SlotId, SHARDS};
use super::{Expiry, SessionKey};

/// A cached session as the store sees it: something cheap to clone with an identity and a key.
pub trait Handle: Clone {
    /// True when both name the same session object (not merely equal contents).
    fn same(&self, other: &Self) -> bool;
    /// The key the session has now: (protocol version, id). The store compares it on every
    /// match, as OpenSSL's hash table compares the session's current id.
    fn key(&self) -> SessionKey;
    /// A flush has just taken this session out, and releases it once the locks are gone: a
    /// front may ask now for the memory that release starts with, so that those misses
    /// overlap the rest of the flush instead of the release (BENCHMARKS.md, "Overlapping the
    /// misses"). Nothing by default.
    fn taken_for_release(&self) {}
}

/// A flush's sessions: a typical flush's few on the stack, so that none allocates.
pub type Flushed<H> = smallvec::SmallVec<[H; 16]>;

/// An index entry: a slab position and its key's hash when the session came in.
#[derive(Clone, Copy)]
struct Indexed {
    local: u32,
    hash: u32,
}

/// hashbrown takes its control tag from the top bits of a 64-bit hash and the bucket from
/// the low bits; a 32-bit hash in both halves serves both and can be stored in 4 bytes.
fn widen(hash: u32) -> u64 {
    (u64::from(hash) << 32) | u64::from(hash)
}

/// The shard a hash belongs to: bits 19-24, clear of the tag (bits 25-31) and of the bucket
/// bits until a shard holds half a million sessions.
fn shard_of(hash: u32) -> usize {
    (hash >> 19) as usize & (SHARDS - 1)
}

/// The sessions whose keys hash to one shard. The order owns the slab positions: it says
/// which are free, and a change writes here only while holding the order's lock.
struct Shard<H> {
    handles: Vec<Option<H>>,
    index: HashTable<Indexed>,
}

impl<H: Handle> Shard<H> {
    fn handle(&self, local: u32) -> &H {
        self.handles[local as usize].as_ref().expect("indexed slots are occupied")
    }

    fn find(&self, key: &SessionKey, hash: u32) -> Option<u32> {
        let handles = &self.handles;
        let is_key =
            |e: &Indexed| e.hash == hash && handles[e.local as usize].as_ref().is_some_and(|h| h.key() == *key);
        self.index.find(widen(hash), is_key).map(|e| e.local)
    }

    /// Puts `handle`, whose key hashes to `hash`, at slab position `local`, which the order
    /// just handed out: the slab's length when it must grow. Returns where the index's probes
    /// now start (see `ProbeHint`).
    fn put(&mut self, local: u32, hash: u32, handle: H) -> (usize, usize) {
        if local as usize == self.handles.len() {
            self.handles.push(Some(handle));
        } else {
            self.handles[local as usize] = Some(handle);
        }
        let entry = self.index.insert_unique(widen(hash), Indexed { local, hash }, |e| widen(e.hash));
        // hashbrown keeps bucket i's entry i + 1 entries below its control bytes.
        let at = entry.get() as *const Indexed as usize;
        let control = at + (entry.bucket_index() + 1) * std::mem::size_of::<Indexed>();
        (control, entry.into_table().num_buckets() - 1)
    }

    /// Takes out the session at `local`, indexed under `hash` (the order keeps it: the session
    /// is not read, and an id changed while cached does not matter).
    fn take(&mut self, local: u32, hash: u32) -> H {
        match self.index.find_entry(widen(hash), |e| e.local == local) {
            Ok(entry) => drop(entry.remove()),
            // Not under the hash it was indexed with: cannot happen; a full scan, not a panic.
            Err(_) => self.index.retain(|e| e.local != local),
        }
        self.handles[local as usize].take().expect("indexed slots are occupied")
    }
}

/// What the first step of an add found.
pub(super) enum AddStart<'a, H: Handle> {
    /// The key was not cached, or held another session object, which was dropped without a
    /// remove callback (`replaced`), as OpenSSL does. OpenSSL returns 1. When an eviction is
    /// due, the newcomer is counted but not yet in the expiry order, and `eviction` is the
    /// walk to evict with (`Walk::evict_one`) and to end with `Walk::link_newcomer`.
    New { replaced: Option<H>, eviction: Option<Walk<'a, H>> },
    /// This very session was already cached under the key; it has been moved to its place
    /// for the new expiry. OpenSSL returns 0.
    Already,
}

/// Keeps each shard's lock and header on cache lines of their own, so that threads working
/// in different shards do not write the same line.
#[repr(align(128))]
struct Padded<T>(T);

/// Where a shard index's probes start (the address of its control bytes, and its bucket
/// mask), kept beside the lock so that a change can ask for a probe's two lines before it
/// takes the locks: no load may pass a lock's atomic instruction, so otherwise the probe's
/// misses wait for both locks and then for each other. Written under the shard's write lock
/// when an insert may have moved the index; read without it, as a hint only: a stale value
/// asks for lines nobody needs, and nothing is ever read through it.
#[derive(Default)]
struct ProbeHint {
    control: AtomicUsize,
    mask: AtomicUsize,
}

impl ProbeHint {
    fn note(&self, (control, mask): (usize, usize)) {
        self.control.store(control, Ordering::Relaxed);
        self.mask.store(mask, Ordering::Relaxed);
    }

    /// Asks for the control group and the entries a probe for `hash` reads first.
    fn ask(&self, hash: u32) {
        let control = self.control.load(Ordering::Relaxed);
        if control == 0 {
            return;
        }
        let position = hash as usize & self.mask.load(Ordering::Relaxed);
        crate::hint::prefetch_write(control.wrapping_add(position) as *const u8);
        let entry = control.wrapping_sub((position + 1) * std::mem::size_of::<Indexed>());
        crate::hint::prefetch_write(entry as *const u8);
    }
}

/// A shard, its lock and its probe hint.
struct ShardCell<H> {
    lock: RwLock<Shard<H>>,
    hint: ProbeHint,
}

impl<H> ShardCell<H> {
    fn read(&self) -> RwLockReadGuard<'_, Shard<H>> {
        self.lock.read()
    }
    fn write(&self) -> RwLockWriteGuard<'_, Shard<H>> {
        self.lock.write()
    }
}

/// The order behind its lock, and two of its counts readable without it: a statistic or a
/// report never waits for the lock. A forked child's copy of the lock stays held if another
/// thread of its parent held it at the fork, and the child's exit report must not hang on it.
/// The copies sit before the lock, on its cache line, which every change writes anyway.
#[derive(Default)]
#[repr(C)]
struct Locked {
    len: AtomicUsize,
    stored: AtomicU64,
    order: Mutex<Order>,
}

impl Locked {
    fn lock(&self) -> OrderGuard<'_> {
        OrderGuard { order: self.order.lock(), copies: self }
    }
}

/// The order, locked; on release it leaves its counts in `Locked`'s copies, whatever the
/// change was (plain stores, still under the lock: no locked instruction).
struct OrderGuard<'a> {
    order: MutexGuard<'a, Order>,
    copies: &'a Locked,
}

impl Deref for OrderGuard<'_> {
    type Target = Order;
    fn deref(&self) -> &Order {
        &self.order
    }
}

impl DerefMut for OrderGuard<'_> {
    fn deref_mut(&mut self) -> &mut Order {
        &mut self.order
    }
}

impl Drop for OrderGuard<'_> {
    fn drop(&mut self) {
        self.copies.len.store(self.order.len(), Ordering::Relaxed);
        self.copies.stored.store(self.order.stored, Ordering::Relaxed);
    }
}

pub(super) struct Cache<H> {
    /// Read by every call: kept off the order's lines, which every change writes.
    hasher: DefaultHashBuilder,
    shards: Box<[Padded<ShardCell<H>>]>,
    /// Taken first by every change, and held to its end.
    order: Padded<Locked>,
}

impl<H: Handle> Default for Cache<H> {
    fn default() -> Self {
        let shard = || {
            let lock = RwLock::new(Shard { handles: Vec::new(), index: HashTable::new() });
            Padded(ShardCell { lock, hint: ProbeHint::default() })
        };
        Cache {
            hasher: DefaultHashBuilder::default(),
            order: Padded(Locked::default()),
            shards: (0..SHARDS).map(|_| shard()).collect(),
        }
    }
}

/// An eviction or flush under way: one session at a time is taken out, and the caller runs
/// the remove callback between steps with no lock held. A callback may re-add what was taken
/// out; the walk passes over everything placed after it began, so it always ends.
pub(super) struct Walk<'a, H: Handle> {
    cache: &'a Cache<H>,
    mark: u64,
}

impl<H: Handle> Walk<'_, H> {
    /// One eviction for a newcomer: while the count (newcomer included) is at least `limit`,
    /// takes out the session nearest the expiry end. None when there is room, when there is
    /// no such session, or when it has an empty id (OpenSSL cannot remove that one by key,
    /// and stops).
    pub fn evict_one(&self, limit: usize) -> Option<H> {
        let mut order = self.cache.order.0.lock();
        if limit == 0 || order.len() < limit {
            return None;
        }
        self.cache.evict_first(&mut order, self.mark)
    }

    /// Takes out the session nearest the expiry end if `expired` holds for it: one step of
    /// OpenSSL's flush walk, which stops at the first session that has not expired.
    pub fn pop_expired(&self, expired: impl Fn(Expiry) -> bool) -> Option<H> {
        let mut order = self.cache.order.0.lock();
        let (expiry, id) = order.first_before(self.mark)?;
        if !expired(expiry) {
            return None;
        }
        Some(self.cache.take_slot(&mut order, id))
    }

    /// Ends an add's eviction: the newcomer under `key` takes its place in the expiry order,
    /// if it is still there unlinked (a callback during eviction may have removed or replaced
    /// it; a replacement is unlinked too, and takes the place).
    pub fn link_newcomer(self, key: SessionKey, expiry: Expiry) {
        let mut order = self.cache.order.0.lock();
        if let Some(id) = self.cache.find(&key) {
            if !order.is_linked(id) {
                order.link(id, expiry);
            }
        }
        order.end_walk();
        // Ended above; the walk holds nothing else to release.
        std::mem::forget(self);
    }
}

impl<H: Handle> Drop for Walk<'_, H> {
    fn drop(&mut self) {
        self.cache.order.0.lock().end_walk();
    }
}

impl<H: Handle> Cache<H> {
    fn hash(&self, key: &SessionKey) -> u32 {
        self.hasher.hash_one(key) as u32
    }

    /// Where `key`'s session lives, if it is cached.
    fn find(&self, key: &SessionKey) -> Option<SlotId> {
        let hash = self.hash(key);
        let s = shard_of(hash);
        self.shards[s].0.read().find(key, hash).map(|local| SlotId::new(s, local))
    }

    /// Takes the session at `id` out of its shard and the order.
    fn take_slot(&self, order: &mut Order, id: SlotId) -> H {
        let mut shard = self.shards[id.shard()].0.write();
        let handle = shard.take(id.local(), order.hash_of(id));
        order.release(id);
        handle
    }

    /// Takes out the session nearest the expiry end among those placed before `mark`, unless
    /// it has an empty id (OpenSSL cannot remove that one by key, and stops).
    /// `take_slot` with the key check between its steps, so the shard is locked and the key
    /// read once.
    fn evict_first(&self, order: &mut Order, mark: u64) -> Option<H> {
        let (_, id) = order.first_before(mark)?;
        let mut shard = self.shards[id.shard()].0.write();
        let key = shard.handle(id.local()).key();
        if key.has_empty_id() {
            return None;
        }
        let handle = shard.take(id.local(), order.hash_of(id));
        order.release(id);
        Some(handle)
    }

    /// Sessions cached, as the last change left them (without the order's lock).
    pub fn len(&self) -> usize {
        self.order.0.len.load(Ordering::Relaxed)
    }

    /// Sessions newly cached so far (`AddStart::New`), as the last change left them (without
    /// the order's lock).
    pub fn stored(&self) -> u64 {
        self.order.0.stored.load(Ordering::Relaxed)
    }

    /// First step of caching `handle` under `key` (its current key); see `AddStart`. With
    /// `limit` (0 for none) leaving room for the newcomer, nothing will be evicted, and it is
    /// linked at once. With `evict_into`, whatever must go to make room goes now, under the
    /// same order lock, into that list: for a context whose evictions call nobody back, so
    /// that no change could come between the steps.
    pub fn add_start(
        &self,
        key: SessionKey,
        handle: H,
        expiry: Expiry,
        limit: usize,
        evict_into: Option<&mut Vec<H>>,
    ) -> AddStart<'_, H> {
        let hash = self.hash(&key);
        let s = shard_of(hash);
        let mut order = self.order.0.lock();
        let mut shard = self.shards[s].0.write();
        let (id, replaced) = match shard.find(&key, hash) {
            Some(local) if shard.handle(local).same(&handle) => {
                order.link(SlotId::new(s, local), expiry);
                return AddStart::Already;
            }
            Some(local) => {
                // Another object under the key: it goes, the newcomer takes its slot unlinked.
                let id = SlotId::new(s, local);
                order.unlink(id);
                (id, shard.handles[local as usize].replace(handle))
            }
            None => {
                let id = order.alloc(s, hash);
                self.shards[s].0.hint.note(shard.put(id.local(), hash, handle));
                (id, None)
            }
        };
        order.stored += 1;
        let room = |order: &Order| limit == 0 || order.len() < limit;
        if room(&order) {
            // Linked before the shard is let go: each unlock waits for the stores before it,
            // and one wait for the index's and the order's cold lines together is cheaper
            // than two.
            order.link(id, expiry);
            return AddStart::New { replaced, eviction: None };
        }
        drop(shard);
        if let Some(evicted) = evict_into {
            while !room(&order) {
                let Some(victim) = self.evict_first(&mut order, u64::MAX) else { break };
                evicted.push(victim);
            }
            if room(&order) {
                order.link(id, expiry);
                return AddStart::New { replaced, eviction: None };
            }
        }
        let mark = order.begin_walk();
        AddStart::New { replaced, eviction: Some(Walk { cache: self, mark }) }
    }

    /// A whole flush at once, for a context whose removals call nobody back: takes out every
    /// session from the expiry end on while `expired` holds for it, under one order lock (as
    /// OpenSSL 3.0 holds its lock through a flush). In expiry order, which is mostly the order
    /// the sessions were made in, so their memory is read front to back.
    pub fn take_expired(&self, expired: impl Fn(Expiry) -> bool) -> Flushed<H> {
        let mut order = self.order.0.lock();
        let mut taken = Flushed::new();
        // The sessions of one bucket share its expiry: they go together.
        while order.first_expiry().is_some_and(&expired) {
            order.release_first_bucket(|id, hash| {
                let session = self.shards[id.shard()].0.write().take(id.local(), hash);
                session.taken_for_release();
                taken.push(session);
            });
        }
        taken
    }

    /// Starts a flush; see `Walk`.
    pub fn walk(&self) -> Walk<'_, H> {
        let mark = self.order.0.lock().begin_walk();
        Walk { cache: self, mark }
    }

    /// Takes out whatever session is cached under `key`, the current key of `session`.
    pub fn remove(&self, key: &SessionKey, session: Option<&H>) -> Option<H> {
        let hash = self.hash(key);
        let s = shard_of(hash);
        self.shards[s].0.hint.ask(hash);
        let mut order = self.order.0.lock();
        let mut shard = self.shards[s].0.write();
        let Shard { handles, index } = &mut *shard;
        // One probe finds and removes the entry. `session` itself has `key` now, so its own
        // entry matches without reading its key a second time. At a matching hash the slot's
        // order links are asked for before its handle is read: `release` rewrites them, and
        // their miss then overlaps the handle's instead of following it (BENCHMARKS.md,
        // "Overlapping the misses").
        let is_key = |e: &Indexed| {
            e.hash == hash
                && {
                    order.prefetch(SlotId::new(s, e.local));
                    true
                }
                && handles[e.local as usize]
                    .as_ref()
                    .is_some_and(|h| session.is_some_and(|s| h.same(s)) || h.key() == *key)
        };
        let local = index.find_entry(widen(hash), is_key).ok()?.remove().0.local;
        let handle = handles[local as usize].take().expect("indexed slots are occupied");
        order.release(SlotId::new(s, local));
        Some(handle)
    }

    pub fn get(&self, key: &SessionKey) -> Option<H> {
        let hash = self.hash(key);
        let shard = self.shards[shard_of(hash)].0.read();
        shard.find(key, hash).map(|local| shard.handle(local).clone())
    }

    pub fn contains(&self, key: &SessionKey) -> bool {
        self.find(key).is_some()
    }

    /// Moves a cached session to its place for a new expiry, as OpenSSL re-links a session
    /// whose time or timeout changes while it is cached. False if it is not cached under `key`.
    pub fn reposition(&self, key: &SessionKey, handle: &H, expiry: Expiry) -> bool {
        let hash = self.hash(key);
        let s = shard_of(hash);
        let mut order = self.order.0.lock();
        let shard = self.shards[s].0.read();
        match shard.find(key, hash) {
            Some(local) if shard.handle(local).same(handle) => {
                order.link(SlotId::new(s, local), expiry);
                true
            }
            _ => false,
        }
    }

    /// The cached keys from the expiry end to the newest, for tests and reports.
    pub fn keys_in_eviction_order(&self) -> Vec<SessionKey> {
        let order = self.order.0.lock();
        order.in_order().map(|(_, id)| self.shards[id.shard()].0.read().handle(id.local()).key()).collect()
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
    fn stored_counts_each_session_taken_in_and_not_a_re_add() {
        let c = Cache::default();
        let e = Expiry::new(1000, 100);
        add(&c, H(1, key(1)), e, 2);
        add(&c, H(1, key(1)), e, 2); // the same object again: Already
        add(&c, H(2, key(1)), e, 2); // another object under the key: replaces, taken in
        add(&c, H(3, key(3)), e, 2); // evicts to make room: taken in
        assert_eq!((c.stored(), c.len()), (3, 1));
    }

    #[test]
    fn the_counts_are_read_without_the_order_lock() {
        // A forked child's copy of the lock stays held if another thread of its parent held it
        // at the fork; the child's exit report reads these counts and must not wait for it.
        let c = Cache::default();
        add(&c, H(1, key(1)), Expiry::new(1000, 100), 0);
        add(&c, H(2, key(2)), Expiry::new(1000, 100), 0);
        let held = c.order.0.lock();
        let got = std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::channel();
            let c = &c;
            scope.spawn(move || tx.send((c.len(), c.stored())));
            let got = rx.recv_timeout(std::time::Duration::from_secs(10));
            drop(held);
            got
        });
        assert_eq!(got, Ok((2, 2)), "a count waited for the order's lock");
        flush(&c, 2000);
        assert_eq!((c.len(), c.stored()), (0, 2), "the copies follow every change");
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
    fn a_session_costs_8_bytes_of_slab_beside_its_index_entry() {
        assert_eq!(std::mem::size_of::<Option<std::sync::Arc<u8>>>(), 8);
        assert_eq!(std::mem::size_of::<Indexed>(), 8);
    }

    impl<H: Handle> Cache<H> {
        /// The shards and the order agree: every slot in the order holds a session found
        /// under its key at that slot, and every indexed session is in the order once.
        fn check(&self) {
            let order = self.order.0.lock();
            let in_order: Vec<SlotId> = order.in_order().map(|(_, id)| id).collect();
            let indexed: usize = self.shards.iter().map(|s| s.0.read().index.len()).sum();
            assert_eq!((in_order.len(), indexed), (order.len(), order.len()));
            for id in in_order {
                let key = self.shards[id.shard()].0.read().handle(id.local()).key();
                assert_eq!(self.find(&key), Some(id));
            }
        }
    }

    #[test]
    fn a_whole_flush_takes_expired_buckets_whole_in_order_and_stops_at_the_first_live_one() {
        let c = Cache::default();
        // Expiries 1100, 1200, 1300 by turns: three buckets of two.
        for i in 1..=6u8 {
            add(&c, H(i.into(), key(i)), Expiry::new(1000 + 100 * i64::from((i - 1) % 3), 100), 0);
        }
        // A walk under way (a flush with a remove callback on another thread) sees the
        // store agree with the order before and after.
        let walk = c.walk();
        assert_eq!(ids(&c.take_expired(|e| e.is_expired_at(1250))), vec![1, 4, 2, 5]);
        c.check();
        assert_eq!(c.keys_in_eviction_order(), vec![key(3), key(6)]);
        assert!(walk.pop_expired(|e| e.is_expired_at(1250)).is_none());
        drop(walk);
        // The freed slots are handed out again.
        add(&c, H(7, key(7)), Expiry::new(900, 100), 0);
        add(&c, H(8, key(8)), Expiry::new(900, 100), 0);
        c.check();
        assert_eq!(ids(&c.take_expired(|_| true)), vec![7, 8, 3, 6]);
        assert_eq!(c.len(), 0);
        c.check();
    }

    #[test]
    fn threads_racing_on_keys_leave_shards_and_order_agreeing() {
        let c: Cache<H> = Cache::default();
        std::thread::scope(|scope| {
            for t in 0..4u32 {
                let c = &c;
                scope.spawn(move || {
                    for n in 0..200_000u32 {
                        // 64 keys shared by all threads: adds replace each other's objects.
                        let k = SessionKey::new(0x303, &(n % 64).to_le_bytes()).unwrap();
                        let h = H(t << 24 | n, k);
                        let e = Expiry::new(i64::from(n % 13), 10);
                        match n % 5 {
                            0 => drop(c.remove(&k, None)),
                            1 => drop(c.reposition(&k, &h, e)),
                            _ => {
                                let mut evicted = Vec::new();
                                let _ = c.add_start(k, h, e, 40, Some(&mut evicted));
                            }
                        }
                        if let Some(found) = c.get(&k) {
                            assert_eq!(found.1, k);
                        }
                    }
                });
            }
        });
        c.check();
        assert!(c.len() < 40);
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
        assert!(c.remove(&key(2), None).is_none());
        // Nor by the object itself: its entry sits under the old id's hash.
        assert!(c.remove(&key(2), Some(&s)).is_none());
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn remove_takes_whatever_object_is_cached_under_the_key() {
        let c = Cache::default();
        add(&c, H(1, key(1)), Expiry::new(1000, 100), 0);
        add(&c, H(2, key(2)), Expiry::new(1000, 100), 0);
        // Another object with key 1's id, as OpenSSL's removal by key finds the cached one.
        assert_eq!(c.remove(&key(1), Some(&H(3, key(1)))).map(|h| h.0), Some(1));
        assert!(c.remove(&key(1), Some(&H(1, key(1)))).is_none());
        assert_eq!(c.remove(&key(2), Some(&H(2, key(2)))).map(|h| h.0), Some(2));
        assert_eq!(c.len(), 0);
    }

    #[test]
    fn thousands_of_sessions_survive_index_growth_and_slot_reuse() {
        let c = Cache::default();
        let k = |n: u32| SessionKey::new(0x303, &n.to_le_bytes()).unwrap();
        for n in 0..5000 {
            add(&c, H(n, k(n)), Expiry::new(1000 + i64::from(n % 7), 100), 0);
        }
        for n in (0..5000).step_by(2) {
            assert_eq!(c.remove(&k(n), None).map(|h| h.0), Some(n));
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
