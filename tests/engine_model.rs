//! The engine against a reference model of OpenSSL's cache: a hash table plus the doubly
//! linked list OpenSSL keeps, with its insertion walk (new head if not earlier than the head,
//! new tail if earlier than the tail, else the first entry from the head it is not earlier
//! than). Random operation sequences must produce the same return values, the same removals in
//! the same order, and the same final order.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use sesscache::engine::{Callbacks, Context, Expiry, Handle, Session, SessionKey};

#[derive(Debug)]
struct Data {
    tag: u32,
    id: Vec<u8>,
    time: i64,
    timeout: i64,
}

#[derive(Clone, Debug)]
struct S(Arc<(Mutex<Data>, AtomicBool)>);

impl S {
    fn new(tag: u32, id: Vec<u8>, time: i64, timeout: i64) -> S {
        S(Arc::new((Mutex::new(Data { tag, id, time, timeout }), AtomicBool::new(false))))
    }
    fn tag(&self) -> u32 {
        self.0 .0.lock().unwrap().tag
    }
}

impl Handle for S {
    fn same(&self, o: &Self) -> bool {
        Arc::ptr_eq(&self.0, &o.0)
    }
    fn key(&self) -> SessionKey {
        SessionKey::new(0x303, &self.0 .0.lock().unwrap().id).unwrap()
    }
}

impl Session for S {
    fn expiry(&self) -> Expiry {
        let d = self.0 .0.lock().unwrap();
        Expiry::new(d.time, d.timeout)
    }
    fn touch(&self, now: i64) -> Expiry {
        let mut d = self.0 .0.lock().unwrap();
        d.time = now;
        Expiry::new(d.time, d.timeout)
    }
    fn mark_not_resumable(&self) {
        self.0 .1.store(true, Ordering::Relaxed);
    }
}

/// Records remove callbacks by tag. A quiet log says it has no callback to run, so that the
/// context evicts without calling it (and without stopping between evictions).
#[derive(Default)]
struct Log(Mutex<Vec<u32>>, bool);
impl Callbacks<S> for Log {
    fn removed(&self, s: &S) {
        self.0.lock().unwrap().push(s.tag());
    }
    fn calls_back_on_remove(&self) -> bool {
        !self.1
    }
}

/// OpenSSL's structure, restated: `list[0]` is the head (latest expiry), the last is the tail.
#[derive(Default)]
struct Model {
    table: HashMap<SessionKey, S>,
    list: Vec<S>,
}

impl Model {
    fn unlink(&mut self, s: &S) {
        self.list.retain(|x| !x.same(s));
    }
    fn link(&mut self, s: &S) {
        self.unlink(s);
        let e = s.expiry();
        let pos = if self.list.is_empty() || e >= self.list[0].expiry() {
            0
        } else if e < self.list.last().unwrap().expiry() {
            self.list.len()
        } else {
            (1..self.list.len()).find(|&i| e >= self.list[i].expiry()).unwrap()
        };
        self.list.insert(pos, s.clone());
    }
    fn add(&mut self, s: &S, limit: usize, removed: &mut Vec<u32>) -> bool {
        let key = s.key();
        match self.table.insert(key, s.clone()) {
            Some(old) if old.same(s) => {
                self.link(s);
                return false;
            }
            Some(old) => self.unlink(&old),
            None => {}
        }
        if limit > 0 {
            while self.table.len() >= limit {
                let Some(tail) = self.list.last().cloned() else { break };
                if tail.key().id().is_empty() {
                    break;
                }
                self.table.remove(&tail.key());
                self.unlink(&tail);
                removed.push(tail.tag());
            }
        }
        self.link(s);
        true
    }
    fn remove(&mut self, s: &S, removed: &mut Vec<u32>) -> bool {
        let key = s.key();
        if key.id().is_empty() {
            return false;
        }
        let found = self.table.remove(&key);
        if let Some(r) = &found {
            self.unlink(r);
        }
        removed.push(s.tag());
        found.is_some()
    }
    fn flush(&mut self, t: i64, removed: &mut Vec<u32>) {
        while let Some(tail) = self.list.last().cloned() {
            if t != 0 && !tail.expiry().is_expired_at(t) {
                break;
            }
            self.table.remove(&tail.key());
            self.list.pop();
            removed.push(tail.tag());
        }
    }
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// `ids` distinct ids (beyond the empty one) and a size limit below `limits` (0 = unlimited).
fn run(seed: u64, steps: usize, ids: u64, limits: u64) {
    let mut rng = Rng(seed);
    let ctx: Context<S> = Context::default();
    let limit = rng.below(limits) as usize;
    ctx.set_cache_size(limit as i64);
    let mut model = Model::default();
    let quiet = rng.below(2) == 0;
    let callbacks = Log(Mutex::default(), quiet);
    let mut pool: Vec<S> = Vec::new();
    let times = [0i64, 5, 10, 100, 1000, -1, -50, i64::MAX - 3];
    for step in 0..steps {
        let mut want = Vec::new();
        let what = rng.below(10);
        let context = format!("seed {seed} step {step} op {what}");
        match what {
            0..=4 => {
                // add: a known session again, or a new one (sometimes an empty id or an id
                // that collides with a known one)
                let s = if !pool.is_empty() && rng.below(3) == 0 {
                    pool[rng.below(pool.len() as u64) as usize].clone()
                } else {
                    let id = match rng.below(10) {
                        0 => vec![],
                        _ if ids <= 6 => vec![rng.below(ids) as u8 + 1; 1 + rng.below(32) as usize],
                        _ => (1 + rng.below(ids) as u32).to_le_bytes().to_vec(),
                    };
                    let time = times[rng.below(times.len() as u64) as usize];
                    let s = S::new(pool.len() as u32, id, time, rng.below(200) as i64);
                    pool.push(s.clone());
                    s
                };
                let got = ctx.add(s.clone(), || 0, &callbacks);
                let mut evicted = Vec::new();
                assert_eq!(got, model.add(&s, limit, &mut evicted), "{context}: add result");
                if !quiet {
                    want = evicted;
                }
            }
            5 | 6 if !pool.is_empty() => {
                let s = pool[rng.below(pool.len() as u64) as usize].clone();
                let got = ctx.remove(&s, &callbacks);
                assert_eq!(got, model.remove(&s, &mut want), "{context}: remove result");
            }
            // Large runs flush rarely, so that the cache gets large.
            7 if ids <= 6 || rng.below(40) == 0 => {
                let t = [0i64, 50, 150, 1100, 1200][rng.below(5) as usize];
                ctx.flush(t, &callbacks);
                model.flush(t, &mut want);
                if quiet {
                    // No callback to call: the flushed sessions show only as marked.
                    for tag in std::mem::take(&mut want) {
                        assert!(pool[tag as usize].0 .1.load(Ordering::Relaxed), "{context}: flushed {tag} unmarked");
                    }
                }
            }
            8 if !pool.is_empty() => {
                // set_time on a session, moving it if cached (what the fronts do)
                let s = pool[rng.below(pool.len() as u64) as usize].clone();
                let e = s.touch(times[rng.below(times.len() as u64) as usize]);
                let key = s.key();
                let cached = model.table.get(&key).is_some_and(|x| x.same(&s));
                assert_eq!(ctx.reposition(&key, &s, e), cached, "{context}: reposition");
                if cached {
                    model.link(&s);
                }
            }
            _ => {}
        }
        let got = std::mem::take(&mut *callbacks.0.lock().unwrap());
        assert_eq!(got, want, "{context}: removals");
        assert_eq!(ctx.number() as usize, model.table.len(), "{context}: number");
        let order: Vec<SessionKey> = model.list.iter().rev().map(|s| s.key()).collect();
        assert_eq!(ctx.keys_in_eviction_order(), order, "{context}: order");
    }
}

#[test]
fn random_operation_sequences_match_openssls_list() {
    for seed in 1..=300u64 {
        run(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1, 200, 6, 8);
    }
}

/// Thousands of sessions: the index grows, chains get long enough to remove from the middle,
/// and freed slots are reused.
#[test]
fn large_caches_match_too() {
    for seed in 1..=6u64 {
        run(seed.wrapping_mul(0xD1B5_4A32_D192_ED03) | 1, 3000, 4000, 1500);
    }
}
