//! Every live context of either front, by address, in the order they were made: how a native
//! session's owner address becomes its context again, how the preload front reaches every
//! engine a re-timed session may be in, and what the exit report lists. Changed only when a
//! context is made or freed.
//!
//! The lock is std's Mutex, not parking_lot's: the report's fork handler holds it across
//! fork() and the child releases it, which is a plain atomic store in std's.

#![forbid(unsafe_code)]

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use super::Snapshot;

/// A context the registry holds: it can take a snapshot of itself.
pub trait Observed: Any + Send + Sync {
    fn snapshot(&self) -> Snapshot;
}

pub(super) struct Entry {
    /// The context's number: the order contexts were made in, kept across fork.
    pub(super) id: u64,
    pub(super) ctx: Weak<dyn Observed>,
    /// Its counts when this process began: none, or the values at the fork that made it.
    pub(super) base: Option<Snapshot>,
    /// Its counts taken by the fork handler in the parent, for the child.
    pub(super) at_fork: Option<Snapshot>,
    /// The report took its last snapshot (it is being freed); still found until unregistered.
    pub(super) retired: bool,
}

/// A report line's counts taken when its context was freed, by the process that freed it.
pub(super) struct Retired {
    pub(super) pid: i32,
    pub(super) id: u64,
    pub(super) counts: Snapshot,
}

pub(super) struct State {
    next_id: u64,
    pub(super) live: BTreeMap<usize, Entry>,
    pub(super) retired: Vec<Retired>,
}

static STATE: Mutex<State> = Mutex::new(State { next_id: 0, live: BTreeMap::new(), retired: Vec::new() });

/// The registry, locked (a panic while it was held leaves it usable: every change is whole).
pub(super) fn lock() -> MutexGuard<'static, State> {
    STATE.lock().unwrap_or_else(|e| e.into_inner())
}

/// A new context at `address` (the handle C holds).
pub fn register(address: usize, ctx: Weak<dyn Observed>) {
    {
        let mut r = lock();
        r.next_id += 1;
        let id = r.next_id;
        r.live.insert(address, Entry { id, ctx, base: None, at_fork: None, retired: false });
    }
    // The first context starts the stats socket (out of the lock).
    super::socket::ensure_started();
}

/// The context at `address` is gone.
pub fn unregister(address: usize) {
    lock().live.remove(&address);
}

/// The live context of type `T` at `address`, if any.
pub fn find<T: Observed>(address: usize) -> Option<Arc<T>> {
    let ctx = lock().live.get(&address)?.ctx.upgrade()?;
    let any: Arc<dyn Any + Send + Sync> = ctx;
    any.downcast::<T>().ok()
}

/// Every live context of type `T`, taken out of the lock.
pub fn all<T: Observed>() -> Vec<Arc<T>> {
    let live: Vec<Arc<dyn Observed>> = lock().live.values().filter_map(|e| e.ctx.upgrade()).collect();
    live.into_iter()
        .filter_map(|ctx| {
            let any: Arc<dyn Any + Send + Sync> = ctx;
            any.downcast::<T>().ok()
        })
        .collect()
}

/// A snapshot of every live context with its number, in the order they were made. The
/// snapshots are taken out of the registry's lock.
pub fn snapshots() -> Vec<(u64, Snapshot)> {
    let mut live: Vec<(u64, Arc<dyn Observed>)> =
        lock().live.values().filter(|e| !e.retired).filter_map(|e| Some((e.id, e.ctx.upgrade()?))).collect();
    live.sort_by_key(|(id, _)| *id);
    live.into_iter().map(|(id, ctx)| (id, ctx.snapshot())).collect()
}

/// Like `snapshots`, but what each context did in this process, as the report counts it: a
/// forked child's counts start at the fork's (`number`, the sessions cached now, excepted).
pub fn own_snapshots() -> Vec<(u64, Snapshot)> {
    type Live = (u64, Option<Snapshot>, Arc<dyn Observed>);
    let mut live: Vec<Live> =
        lock().live.values().filter(|e| !e.retired).filter_map(|e| Some((e.id, e.base, e.ctx.upgrade()?))).collect();
    live.sort_by_key(|(id, _, _)| *id);
    live.into_iter()
        .map(|(id, base, ctx)| {
            let now = ctx.snapshot();
            (id, base.map_or(now, |b| now.since(&b)))
        })
        .collect()
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
        let mine: Vec<i64> =
            snapshots().iter().filter(|(_, s)| s.front == Front::Native).map(|(_, s)| s.number / 100).collect();
        assert_eq!(mine, [2, 1]);
        assert_eq!(all::<Fake>().len(), 2);
        unregister(3);
        drop(a);
        assert!(find::<Fake>(3).is_none() && find::<Fake>(1).is_none());
        unregister(1);
        unregister(2);
    }
}
