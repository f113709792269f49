//! Many threads on one context, with remove callbacks that call back into it: no deadlock, and
//! every session that left the cache is accounted for.

use std::sync::atomic::{AtomicI64, Ordering};

use sesscache::engine::{Callbacks, Context, Handle, SessionKey};

#[path = "support/session.rs"]
mod support;
use support::S;

/// A remove callback that re-enters the context, as a C callback may.
struct Reentrant<'a> {
    ctx: &'a Context<S>,
    calls: AtomicI64,
}
impl Callbacks<S> for Reentrant<'_> {
    fn removed(&self, s: &S) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let _ = self.ctx.number();
        let _ = self.ctx.contains(&s.key());
    }
}

#[test]
fn threads_with_reentrant_callbacks_keep_the_books() {
    const THREADS: u64 = 4;
    const OPS: u64 = 20_000;
    let ctx: Context<S> = Context::default();
    ctx.set_cache_size(500);
    let callbacks = Reentrant { ctx: &ctx, calls: AtomicI64::new(0) };
    let added = AtomicI64::new(0);
    let remove_calls = AtomicI64::new(0);
    let removed = AtomicI64::new(0);
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let (ctx, callbacks, added, remove_calls, removed) = (&ctx, &callbacks, &added, &remove_calls, &removed);
            scope.spawn(move || {
                let mut mine = Vec::new();
                for i in 0..OPS {
                    // Unique ids, so no add replaces another object silently.
                    let mut id = [0u8; 32];
                    id[..8].copy_from_slice(&t.to_le_bytes());
                    id[8..16].copy_from_slice(&i.to_le_bytes());
                    let s = S::new(SessionKey::new(0x303, &id).unwrap(), i as i64, 100);
                    if ctx.add(s.clone(), || 0, callbacks) {
                        added.fetch_add(1, Ordering::Relaxed);
                    }
                    mine.push(s);
                    if i % 7 == 0 {
                        let victim = &mine[(i as usize * 31) % mine.len()];
                        remove_calls.fetch_add(1, Ordering::Relaxed);
                        if ctx.remove(victim, callbacks) {
                            removed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    if i % 1000 == 999 {
                        ctx.flush(i as i64, callbacks);
                    }
                    if ctx.get(&mine[mine.len() / 2].key()).is_some_and(|found| !found.same(&mine[mine.len() / 2])) {
                        panic!("lookup returned another session");
                    }
                }
            });
        }
    });
    let evicted_or_flushed = callbacks.calls.load(Ordering::Relaxed) - remove_calls.load(Ordering::Relaxed);
    let number = ctx.number();
    assert_eq!(number, added.load(Ordering::Relaxed) - evicted_or_flushed - removed.load(Ordering::Relaxed));
    assert_eq!(ctx.keys_in_eviction_order().len() as i64, number);
    assert!(number < 500, "the size limit held: {number}");
}
