//! Every live context of either front, by address, in the order they were made: how a native
//! session's owner address becomes its context again, how the preload front reaches every
//! engine a re-timed session may be in, and what the exit report lists. Changed only when a
//! context is made or freed.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use super::Snapshot;

/// A context the registry holds: it can take a snapshot of itself.
pub trait Observed: Any + Send + Sync {
    fn snapshot(&self) -> Snapshot;
}

struct Entry {
    /// Registration order, for the report.
    seq: u64,
    ctx: Weak<dyn Observed>,
}

struct Registry {
    next_seq: u64,
    live: BTreeMap<usize, Entry>,
}

static REGISTRY: Mutex<Registry> = parking_lot::const_mutex(Registry { next_seq: 0, live: BTreeMap::new() });

/// A new context at `address` (the handle C holds).
pub fn register(address: usize, ctx: Weak<dyn Observed>) {
    let mut r = REGISTRY.lock();
    let seq = r.next_seq;
    r.next_seq += 1;
    r.live.insert(address, Entry { seq, ctx });
}

/// The context at `address` is going away.
pub fn unregister(address: usize) {
    REGISTRY.lock().live.remove(&address);
}

/// The live context of type `T` at `address`, if any.
pub fn find<T: Observed>(address: usize) -> Option<Arc<T>> {
    let ctx = REGISTRY.lock().live.get(&address)?.ctx.upgrade()?;
    let any: Arc<dyn Any + Send + Sync> = ctx;
    any.downcast::<T>().ok()
}

/// Every live context of type `T`, taken out of the lock.
pub fn all<T: Observed>() -> Vec<Arc<T>> {
    let live: Vec<Arc<dyn Observed>> = REGISTRY.lock().live.values().filter_map(|e| e.ctx.upgrade()).collect();
    live.into_iter()
        .filter_map(|ctx| {
            let any: Arc<dyn Any + Send + Sync> = ctx;
            any.downcast::<T>().ok()
        })
        .collect()
}

/// A snapshot of every live context, in the order they were made. The snapshots are taken
/// out of the registry's lock.
pub fn snapshots() -> Vec<Snapshot> {
    let mut live: Vec<(u64, Arc<dyn Observed>)> =
        REGISTRY.lock().live.values().filter_map(|e| Some((e.seq, e.ctx.upgrade()?))).collect();
    live.sort_by_key(|(seq, _)| *seq);
    live.into_iter().map(|(_, ctx)| ctx.snapshot()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::obs::Front;

    struct Fake(i64);
    impl Observed for Fake {
        fn snapshot(&self) -> Snapshot {
            Snapshot::from_ctrl(Front::Native, |cmd| self.0 * 100 + i64::from(cmd), 1, 2)
        }
    }
    struct Other;
    impl Observed for Other {
        fn snapshot(&self) -> Snapshot {
            Snapshot::from_ctrl(Front::Preload, |_| 0, 0, 0)
        }
    }

    /// Found by address and by type, listed in the order made, gone once unregistered. (The
    /// registry is process-wide: these addresses are not ones a real context could have.)
    #[test]
    fn finds_by_address_and_type_in_registration_order() {
        let (a, b, c) = (Arc::new(Fake(1)), Arc::new(Fake(2)), Arc::new(Other));
        let weak_a: Weak<Fake> = Arc::downgrade(&a);
        let weak_b: Weak<Fake> = Arc::downgrade(&b);
        let weak_c: Weak<Other> = Arc::downgrade(&c);
        register(3, weak_b);
        register(2, weak_c);
        register(1, weak_a);
        assert!(find::<Fake>(3).is_some_and(|f| Arc::ptr_eq(&f, &b)));
        assert!(find::<Fake>(2).is_none(), "a context of another type");
        assert!(find::<Other>(2).is_some());
        let mine: Vec<i64> = snapshots().iter().filter(|s| s.front == Front::Native).map(|s| s.number / 100).collect();
        assert_eq!(mine, [2, 1]);
        assert_eq!(all::<Fake>().len(), 2);
        unregister(3);
        drop(a);
        assert!(find::<Fake>(3).is_none() && find::<Fake>(1).is_none());
        unregister(1);
        unregister(2);
    }
}
