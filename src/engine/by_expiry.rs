//! The order's buckets by expiry: an ordered map from `Expiry::sort_key` to a bucket's link,
//! whose first entry is cheap to take out.
//!
//! Sessions are mostly made in time order with one timeout, so new expiries mostly arrive
//! above every one present. Those go to the back of a queue (`run`), and a flush or an
//! eviction takes its buckets from the queue's front: no tree code runs there. A flush of a
//! few sessions runs that code cold, and the tree's removal alone made a preloaded flush @ 1K
//! 6% slower (BENCHMARKS.md, "The first bucket without the tree"). Expiries that arrive out
//! of order go to a B-tree (`rest`), as every expiry did before, so any mix of timeouts stays
//! O(log b) for b buckets.
//!
//! A bucket emptied inside the queue leaves its entry as a tombstone (`EMPTY`), found again
//! if the same expiry comes back; tombstones at either end go at once, and the queue is
//! compacted when more than `COMPACT_AFTER` of them outnumber the live entries, so it holds
//! at most twice as many entries as there are buckets, or `COMPACT_AFTER` more.

use std::collections::{BTreeMap, VecDeque};

/// A queue entry whose bucket was emptied. Bucket links have their top bit set, so no link
/// is this value.
const EMPTY: u32 = u32::MAX;

/// Tombstones tolerated before a compaction is considered.
const COMPACT_AFTER: usize = 64;

#[derive(Default)]
pub(super) struct ByExpiry {
    /// Strictly increasing keys; neither end is a tombstone.
    run: VecDeque<(u128, u32)>,
    /// Tombstones in `run`.
    dead: usize,
    /// Every other key: none is in `run`.
    rest: BTreeMap<u128, u32>,
}

impl ByExpiry {
    /// Buckets, tombstones not counted.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.run.len() - self.dead + self.rest.len()
    }

    fn run_position(&self, key: u128) -> Result<usize, usize> {
        self.run.binary_search_by_key(&key, |&(k, _)| k)
    }

    pub fn get(&self, key: u128) -> Option<u32> {
        if let Some(&link) = self.rest.get(&key) {
            return Some(link);
        }
        match self.run_position(key) {
            Ok(i) if self.run[i].1 != EMPTY => Some(self.run[i].1),
            _ => None,
        }
    }

    /// Adds `key`, which is not present, for the bucket `link`.
    pub fn insert(&mut self, key: u128, link: u32) {
        debug_assert!(link != EMPTY && self.get(key).is_none());
        if self.run.back().is_none_or(|&(last, _)| key > last) {
            self.run.push_back((key, link));
            return;
        }
        match self.run_position(key) {
            Ok(i) => {
                self.run[i].1 = link;
                self.dead -= 1;
            }
            Err(_) => {
                self.rest.insert(key, link);
            }
        }
    }

    /// Takes `key`, which is present, out.
    pub fn remove(&mut self, key: u128) {
        if self.rest.remove(&key).is_some() {
            return;
        }
        let Ok(i) = self.run_position(key) else {
            debug_assert!(false, "removing an expiry that is not present");
            return;
        };
        if i == 0 {
            self.run.pop_front();
            self.trim_front();
        } else if i == self.run.len() - 1 {
            self.run.pop_back();
            while self.run.back().is_some_and(|&(_, link)| link == EMPTY) {
                self.run.pop_back();
                self.dead -= 1;
            }
        } else {
            self.run[i].1 = EMPTY;
            self.dead += 1;
            if self.dead > COMPACT_AFTER && self.dead * 2 > self.run.len() {
                self.run.retain(|&(_, link)| link != EMPTY);
                self.dead = 0;
            }
        }
    }

    /// Drops the tombstones that taking the front out has uncovered (the back stays live).
    fn trim_front(&mut self) {
        while self.run.front().is_some_and(|&(_, link)| link == EMPTY) {
            self.run.pop_front();
            self.dead -= 1;
        }
    }

    /// Whether the first entry is the queue's (else the tree's, or there is none).
    fn first_in_run(&self) -> bool {
        match (self.run.front(), self.rest.first_key_value()) {
            (Some(&(a, _)), Some((&b, _))) => a < b,
            (run, _) => run.is_some(),
        }
    }

    pub fn first(&self) -> Option<(u128, u32)> {
        if self.first_in_run() {
            return self.run.front().copied();
        }
        self.rest.first_key_value().map(|(&k, &link)| (k, link))
    }

    pub fn pop_first(&mut self) -> Option<(u128, u32)> {
        if !self.first_in_run() {
            return self.rest.pop_first();
        }
        let first = self.run.pop_front();
        self.trim_front();
        first
    }

    /// Every entry, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (u128, u32)> + '_ {
        let mut run = self.run.iter().copied().filter(|&(_, link)| link != EMPTY).peekable();
        let mut rest = self.rest.iter().map(|(&k, &link)| (k, link)).peekable();
        std::iter::from_fn(move || match (run.peek(), rest.peek()) {
            (Some(a), Some(b)) if a.0 < b.0 => run.next(),
            (Some(_), None) => run.next(),
            _ => rest.next(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bounded random sequence of operations, checked after each against a plain BTreeMap.
    #[test]
    fn behaves_as_an_ordered_map_under_random_operations() {
        let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move |n: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % n
        };
        for round in 0..40 {
            let mut m = ByExpiry::default();
            let mut model = BTreeMap::new();
            // Keys mostly rising, as sessions' expiries do, with some from below.
            let mut top = 1000u128;
            for step in 0..2000u32 {
                let link = (1 << 31) | step;
                match next(10) {
                    0..=4 => {
                        top += u128::from(next(3));
                        let key = if next(4) == 0 { top - u128::from(next(50)) } else { top };
                        if let std::collections::btree_map::Entry::Vacant(v) = model.entry(key) {
                            v.insert(link);
                            m.insert(key, link);
                        }
                    }
                    5..=7 if !model.is_empty() => {
                        let k = *model.keys().nth(next(model.len() as u64) as usize).unwrap();
                        model.remove(&k);
                        m.remove(k);
                    }
                    8 => assert_eq!(m.pop_first(), model.pop_first(), "round {round} step {step}"),
                    _ => {
                        let key = top - u128::from(next(60));
                        assert_eq!(m.get(key), model.get(&key).copied());
                    }
                }
                assert_eq!(m.first(), model.first_key_value().map(|(&k, &v)| (k, v)));
                assert_eq!(m.len(), model.len());
                assert!(m.run.len() <= 2 * m.len() + COMPACT_AFTER + 1, "tombstones bounded");
            }
            assert_eq!(m.iter().collect::<Vec<_>>(), model.into_iter().collect::<Vec<_>>());
        }
    }

    #[test]
    fn rising_keys_stay_out_of_the_tree_and_a_returning_expiry_reuses_its_tombstone() {
        let mut m = ByExpiry::default();
        for k in 1..=5u128 {
            m.insert(k, (1 << 31) | k as u32);
        }
        m.remove(3);
        assert_eq!((m.run.len(), m.dead, m.rest.len()), (5, 1, 0));
        m.insert(3, 1 << 31);
        assert_eq!((m.run.len(), m.dead, m.rest.len()), (5, 0, 0));
        m.insert(0, 1 << 31);
        assert_eq!(m.rest.len(), 1, "below the queue's front: the tree");
        assert_eq!(m.pop_first().map(|(k, _)| k), Some(0));
        assert_eq!(m.pop_first().map(|(k, _)| k), Some(1));
    }

    #[test]
    fn many_emptied_buckets_inside_the_queue_are_compacted_away() {
        let mut m = ByExpiry::default();
        for k in 0..1000u128 {
            m.insert(k, 1 << 31);
        }
        for k in 1..999u128 {
            m.remove(k);
        }
        assert_eq!(m.len(), 2);
        assert!(m.run.len() <= 2 + 2 * COMPACT_AFTER, "queue of {}", m.run.len());
        assert_eq!(m.iter().map(|(k, _)| k).collect::<Vec<_>>(), vec![0, 999]);
    }
}
