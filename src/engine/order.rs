//! The expiry order: which cached session goes first when the cache is full or flushed, and
//! where each session lives.
//!
//! OpenSSL keeps a doubly linked list sorted by expiry, newest-expiring at the head; it evicts
//! and flushes from the tail. Among equal expiries, the session (re)inserted last sits nearest
//! the head. Finding the spot for a session whose expiry differs from the head's walks the
//! list, O(n). Here the order is an ordered map of buckets (by_expiry.rs), one per distinct
//! expiry, each a circular list of its sessions in insertion order through the bucket's
//! sentinel: the same order, with O(log b) bucket lookups among b distinct expiries (a few
//! thousand at most when sessions get whole-second times and a handful of timeouts, so it
//! stays in cache) and O(1) list work.
//!
//! The order also hands out slots: a session lives in one shard of the store, at a slot of
//! that shard's slab, and its two list links sit here at the same position, so that the order
//! can be changed without touching any shard. The store holds the order's lock for every
//! change, so the slab positions it hands out never race.

use hashbrown::HashMap;

use super::by_expiry::ByExpiry;
use super::Expiry;

/// log2 of the number of shards the store splits its sessions over.
pub(super) const SHARD_BITS: u32 = 6;
pub(super) const SHARDS: usize = 1 << SHARD_BITS;

/// No slot: the end of a list, or a slot not in the order.
const NIL: u32 = u32::MAX;
/// The bit that makes a list link name a bucket's sentinel instead of a slot.
const SENTINEL: u32 = 1 << 31;

/// Where a cached session lives: its shard and its position in that shard's slab, packed as
/// the order's links store them (bit 31 stays clear for sentinels).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(super) struct SlotId(u32);

impl SlotId {
    pub fn new(shard: usize, local: u32) -> SlotId {
        SlotId((local << SHARD_BITS) | shard as u32)
    }
    pub fn shard(self) -> usize {
        self.0 as usize & (SHARDS - 1)
    }
    pub fn local(self) -> u32 {
        self.0 >> SHARD_BITS
    }
}

/// A slot's neighbours in the expiry order, older and newer: slots or the bucket's sentinel.
/// `prev` is NIL while the slot is not in the order (a newcomer whose add is still evicting:
/// counted and findable, as OpenSSL's newcomer is in the hash table but not the list). A free
/// slot's `next` chains the shard's free slots.
#[derive(Clone, Copy)]
struct Link {
    prev: u32,
    next: u32,
    /// The session's hash in the store's index, so that taking a slot out finds its index
    /// entry without reading the session.
    hash: u32,
}

/// The sentinel of the sessions with one expiry: `next` is the oldest insertion, `prev` the
/// newest.
struct Bucket {
    sort_key: u128,
    prev: u32,
    next: u32,
}

pub(super) struct Order {
    /// The links of every slot, at the slot's packed value: one array, so that a link is one
    /// indexed load (the shards' slabs grow at about the same pace, so it stays dense).
    links: Vec<Link>,
    /// Per shard, the slab positions handed out so far: the next new one, and the slab's length.
    fresh: Vec<u32>,
    /// Per shard, the first free slab position; free positions chain through `next`.
    free: Vec<u32>,
    /// Slots handed out and not yet released: the cache's session count.
    len: usize,
    /// Sessions newly cached, ever (for reports): counted here, under the lock every add
    /// holds anyway, where an atomic counter would cost a locked instruction an add.
    pub stored: u64,
    buckets: Vec<Bucket>,
    /// The first free bucket (NIL: none); free buckets chain through `next`, so that freeing
    /// one, which a flush does cold, never grows a vector.
    free_bucket: u32,
    /// The sentinel of the bucket `bucket` found last, while it exists (NIL: none).
    last_bucket: u32,
    /// Buckets by `Expiry::sort_key`: the first bucket's oldest session is OpenSSL's list
    /// tail, the next to be evicted. Boxed: held inline (64 bytes of the order), it made
    /// preloaded adds @ 1K-10K 15-29% slower in alternated runs; boxed, they are as before.
    by_expiry: Box<ByExpiry>,
    /// Walks under way (see `cache::Walk`), and what was placed in the order since the first
    /// began, by placement number: a walk passes over what was placed after it started.
    walks: u32,
    placed_during_walks: HashMap<u32, u64>,
    placements: u64,
}

impl Default for Order {
    fn default() -> Self {
        Order {
            links: Vec::new(),
            fresh: vec![0; SHARDS],
            free: vec![NIL; SHARDS],
            len: 0,
            stored: 0,
            buckets: Vec::new(),
            free_bucket: NIL,
            last_bucket: NIL,
            by_expiry: Box::default(),
            walks: 0,
            placed_during_walks: HashMap::new(),
            placements: 0,
        }
    }
}

impl Order {
    pub fn len(&self) -> usize {
        self.len
    }

    /// A slot in `shard` for a new session whose index hash is `hash`, counted but not in the
    /// order. Its position is the shard slab's length when the slab must grow.
    pub fn alloc(&mut self, shard: usize, hash: u32) -> SlotId {
        let id = match self.free[shard] {
            NIL => {
                let local = self.fresh[shard];
                assert!(local < SENTINEL >> SHARD_BITS, "too many sessions in one shard");
                self.fresh[shard] += 1;
                let id = SlotId::new(shard, local);
                if self.links.len() <= id.0 as usize {
                    self.links.resize(id.0 as usize + 1, Link { prev: NIL, next: NIL, hash: 0 });
                }
                id
            }
            local => {
                let id = SlotId::new(shard, local);
                self.free[shard] = self.links[id.0 as usize].next;
                id
            }
        };
        self.links[id.0 as usize] = Link { prev: NIL, next: NIL, hash };
        self.len += 1;
        id
    }

    /// Takes `id` out of the order and frees its slot.
    pub fn release(&mut self, id: SlotId) {
        self.unlink(id);
        let free = std::mem::replace(&mut self.free[id.shard()], id.local());
        self.link_mut(id.0).next = free;
        self.len -= 1;
    }

    fn link_mut(&mut self, v: u32) -> &mut Link {
        &mut self.links[v as usize]
    }
    fn slot_link(&self, id: SlotId) -> Link {
        self.links[id.0 as usize]
    }

    // The list links: a value with SENTINEL set names a bucket.
    fn next_of(&self, v: u32) -> u32 {
        if v & SENTINEL != 0 {
            self.buckets[(v & !SENTINEL) as usize].next
        } else {
            self.slot_link(SlotId(v)).next
        }
    }
    fn set_next(&mut self, v: u32, to: u32) {
        if v & SENTINEL != 0 {
            self.buckets[(v & !SENTINEL) as usize].next = to
        } else {
            self.link_mut(v).next = to
        }
    }
    fn set_prev(&mut self, v: u32, to: u32) {
        if v & SENTINEL != 0 {
            self.buckets[(v & !SENTINEL) as usize].prev = to
        } else {
            self.link_mut(v).prev = to
        }
    }

    /// The sentinel link of the bucket for `sort_key`, made if missing.
    fn bucket(&mut self, sort_key: u128) -> u32 {
        // Sessions are mostly made in time order with one timeout, so most adds land in the
        // bucket the add before used: found without a search.
        if self.last_bucket != NIL && self.buckets[(self.last_bucket & !SENTINEL) as usize].sort_key == sort_key {
            return self.last_bucket;
        }
        if let Some(b) = self.by_expiry.get(sort_key) {
            self.last_bucket = b;
            return b;
        }
        let b = match self.free_bucket {
            NIL => {
                self.buckets.push(Bucket { sort_key: 0, prev: NIL, next: NIL });
                (self.buckets.len() - 1) as u32
            }
            b => {
                self.free_bucket = self.buckets[b as usize].next;
                b
            }
        };
        let link = b | SENTINEL;
        self.buckets[b as usize] = Bucket { sort_key, prev: link, next: link };
        self.by_expiry.insert(sort_key, link);
        self.last_bucket = link;
        link
    }

    /// Frees bucket `b`, emptied and out of `by_expiry`.
    fn drop_bucket(&mut self, b: u32) {
        if self.last_bucket == b | SENTINEL {
            self.last_bucket = NIL;
        }
        self.buckets[b as usize].next = std::mem::replace(&mut self.free_bucket, b);
    }

    /// Asks for `id`'s links, which `release` is about to rewrite.
    pub fn prefetch(&self, id: SlotId) {
        crate::hint::prefetch_write(self.links.as_ptr().wrapping_add(id.0 as usize));
    }

    /// The index hash `id` was handed out with.
    pub fn hash_of(&self, id: SlotId) -> u32 {
        self.slot_link(id).hash
    }

    pub fn is_linked(&self, id: SlotId) -> bool {
        self.slot_link(id).prev != NIL
    }

    /// Puts `id` at its place for `expiry`, as if inserted now: the newest of its bucket.
    pub fn link(&mut self, id: SlotId, expiry: Expiry) {
        // A newcomer's slot is not in the order yet: the usual add asks without a call.
        if self.is_linked(id) {
            self.unlink(id);
        }
        let sentinel = self.bucket(expiry.sort_key());
        let newest = self.buckets[(sentinel & !SENTINEL) as usize].prev;
        self.set_next(newest, id.0);
        self.set_prev(sentinel, id.0);
        let link = self.link_mut(id.0);
        (link.prev, link.next) = (newest, sentinel);
        self.placements += 1;
        if self.walks > 0 {
            self.placed_during_walks.insert(id.0, self.placements);
        }
    }

    /// Takes `id` out of the order, if it is in it; an emptied bucket goes.
    #[inline]
    pub fn unlink(&mut self, id: SlotId) {
        let Link { prev, next, .. } = self.slot_link(id);
        if prev == NIL {
            return;
        }
        self.set_next(prev, next);
        self.set_prev(next, prev);
        let link = self.link_mut(id.0);
        (link.prev, link.next) = (NIL, NIL);
        if prev == next {
            // Only the sentinel is left.
            let b = prev & !SENTINEL;
            self.by_expiry.remove(self.buckets[b as usize].sort_key);
            self.drop_bucket(b);
        }
        if self.walks > 0 {
            self.placed_during_walks.remove(&id.0);
        }
    }

    /// The slots in eviction order: buckets by expiry, each oldest insertion first.
    pub fn in_order(&self) -> impl Iterator<Item = (Expiry, SlotId)> + '_ {
        self.by_expiry.iter().flat_map(move |(sort_key, sentinel)| {
            std::iter::successors(Some(self.next_of(sentinel)), move |&j| Some(self.next_of(j)))
                .take_while(move |&j| j != sentinel)
                .map(move |j| (Expiry::from_sort_key(sort_key), SlotId(j)))
        })
    }

    /// The expiry of the next slot to go: that of every slot in the first bucket.
    pub fn first_expiry(&self) -> Option<Expiry> {
        self.by_expiry.first().map(|(sort_key, _)| Expiry::from_sort_key(sort_key))
    }

    /// Takes the first bucket out whole, for a flush: each of its slots, oldest first, goes
    /// to `take` with its index hash and is then freed. Nothing is unlinked one by one, so no
    /// neighbour's links are rewritten; the bucket goes once, not when its last slot does.
    pub fn release_first_bucket(&mut self, mut take: impl FnMut(SlotId, u32)) {
        let Some((_, sentinel)) = self.by_expiry.pop_first() else { return };
        let mut v = self.next_of(sentinel);
        while v != sentinel {
            let id = SlotId(v);
            let Link { next, hash, .. } = self.slot_link(id);
            // The next slot's links are read after `take`'s work: asked for now.
            if next != sentinel {
                self.prefetch(SlotId(next));
            }
            take(id, hash);
            let free = std::mem::replace(&mut self.free[id.shard()], id.local());
            *self.link_mut(v) = Link { prev: NIL, next: free, hash };
            if self.walks > 0 {
                self.placed_during_walks.remove(&v);
            }
            self.len -= 1;
            v = next;
        }
        self.drop_bucket(sentinel & !SENTINEL);
    }

    pub fn begin_walk(&mut self) -> u64 {
        self.walks += 1;
        self.placements
    }
    pub fn end_walk(&mut self) {
        self.walks -= 1;
        if self.walks == 0 {
            self.placed_during_walks = HashMap::new();
        }
    }

    /// The slot nearest the expiry end among those placed before the walk that took `mark`
    /// began (`u64::MAX` for all), with its expiry. Only sessions re-added by callbacks
    /// during a walk are passed over, so this is normally the first slot.
    pub fn first_before(&self, mark: u64) -> Option<(Expiry, SlotId)> {
        let before = |id: &SlotId| self.placed_during_walks.get(&id.0).is_none_or(|&p| p <= mark);
        self.in_order().find(|(_, id)| before(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_ids_keep_shard_and_position_apart() {
        let id = SlotId::new(SHARDS - 1, 12345);
        assert_eq!((id.shard(), id.local()), (SHARDS - 1, 12345));
        assert_eq!(id.0 & SENTINEL, 0);
        // With the 8-byte slab entry and index entry in the shard: 28 B a session.
        assert_eq!(std::mem::size_of::<Link>(), 12);
    }

    #[test]
    fn released_slots_are_reused_per_shard() {
        let mut o = Order::default();
        let a = o.alloc(3, 0);
        let b = o.alloc(3, 0);
        let c = o.alloc(4, 0);
        assert_eq!((a.local(), b.local(), c.local()), (0, 1, 0));
        o.link(a, Expiry::new(10, 1));
        o.release(a);
        assert_eq!(o.len(), 2);
        assert_eq!(o.alloc(3, 0), a);
        assert!(!o.is_linked(a));
    }

    #[test]
    fn the_remembered_bucket_is_forgotten_when_it_empties() {
        let mut o = Order::default();
        let ids: Vec<SlotId> = (0..3).map(|s| o.alloc(s, 0)).collect();
        let (ten, twenty) = (Expiry::new(10, 0), Expiry::new(20, 0));
        o.link(ids[0], ten);
        o.unlink(ids[0]);
        // The emptied bucket is gone: a session at the same expiry goes into a new one.
        o.link(ids[1], ten);
        assert_eq!(o.in_order().collect::<Vec<_>>(), vec![(ten, ids[1])]);
        // A bucket taken by a flush is reused for another expiry: not found for the first.
        o.release_first_bucket(|_, _| {});
        o.link(ids[2], twenty);
        o.link(ids[0], ten);
        assert_eq!(o.in_order().collect::<Vec<_>>(), vec![(ten, ids[0]), (twenty, ids[2])]);
    }

    #[test]
    fn order_is_by_expiry_then_insertion_across_shards() {
        let mut o = Order::default();
        let ids: Vec<SlotId> = (0..4).map(|s| o.alloc(s, 0)).collect();
        o.link(ids[0], Expiry::new(20, 0));
        o.link(ids[1], Expiry::new(10, 0));
        o.link(ids[2], Expiry::new(20, 0));
        o.link(ids[3], Expiry::new(10, 0));
        o.link(ids[1], Expiry::new(10, 0));
        let got: Vec<SlotId> = o.in_order().map(|(_, id)| id).collect();
        assert_eq!(got, vec![ids[3], ids[1], ids[0], ids[2]]);
        o.unlink(ids[3]);
        o.unlink(ids[1]);
        assert_eq!(o.by_expiry.len(), 1, "an emptied bucket goes");
    }
}
