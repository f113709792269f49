//! Engine micro-benchmarks (criterion): the cache rules of `engine::Context` with a minimal
//! session handle, no FFI. What the C fronts add on top (handles, locks on session fields,
//! libssl's accessors) is measured by `make bench` (bench/).
//!
//! - insert/{equal,mixed}/N: one add into a context holding N sessions (no eviction); equal
//!   timeouts with non-decreasing times, or timeouts from 60 to 7200 s with the new expiry
//!   anywhere in the cached range. Timed in chunks of N/10 adds, each chunk removed untimed,
//!   so the cache stays near N.
//! - lookup/N: `get` of a random cached key.
//! - evict/N: one add into a full context of N (size N+1): each add evicts the oldest.
//! - flush/N: `flush` at a time where 1% of N have expired; the flushed sessions are put
//!   back untimed between iterations.
//!
//! cargo bench --bench engine [-- FILTER]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use sesscache::engine::{Context, NoCallbacks, SessionKey};

#[path = "../tests/support/session.rs"]
mod support;
use support::S;

const BASE: i64 = 1_700_000_000;

fn splitmix(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9e3779b97f4a7c15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
    z ^ (z >> 31)
}

fn key(i: u64) -> SessionKey {
    let mut seed = i.wrapping_mul(0x2545f4914f6cdd1d) ^ 17;
    let mut id = [0u8; 32];
    for w in id.chunks_mut(8) {
        w.copy_from_slice(&splitmix(&mut seed).to_le_bytes());
    }
    SessionKey::new(0x0303, &id).expect("32 bytes")
}

fn session(i: u64, time: i64, timeout: i64) -> S {
    S::new(key(i), time, timeout)
}

#[derive(Clone, Copy)]
enum Times {
    Equal,
    Mixed,
}

/// Session `i` of a cache of `n`: the first n in expiry order, later ones as the workload says.
fn make(i: u64, n: u64, times: Times, rng: &mut u64) -> S {
    match times {
        Times::Equal => session(i, BASE + (i / 1000) as i64, 300),
        Times::Mixed => {
            let expiry = if i < n {
                BASE + 7200 + (i as f64 * 7200.0 / n as f64) as i64
            } else {
                BASE + 7200 + (splitmix(rng) % 7200) as i64
            };
            let timeout = 60 + (splitmix(rng) % 7141) as i64;
            session(i, expiry - timeout, timeout)
        }
    }
}

fn filled(n: u64, times: Times, limit: i64) -> Context<S> {
    let ctx = Context::default();
    ctx.set_cache_size(limit);
    let mut rng = 42;
    for i in 0..n {
        ctx.add(make(i, n, times, &mut rng), || BASE, &NoCallbacks);
    }
    ctx
}

const SIZES: [u64; 3] = [1_000, 100_000, 1_000_000];

fn insert(c: &mut Criterion) {
    let mut g = c.benchmark_group("insert");
    g.sample_size(20);
    for (name, times) in [("equal", Times::Equal), ("mixed", Times::Mixed)] {
        for n in SIZES {
            let ctx = filled(n, times, 0);
            let mut next = n;
            let mut rng = 7;
            g.bench_with_input(BenchmarkId::new(name, n), &n, |b, &n| {
                b.iter_custom(|iters| {
                    let mut spent = Duration::ZERO;
                    let mut left = iters;
                    while left > 0 {
                        let chunk = left.min((n / 10).max(1));
                        let fresh: Vec<S> = (0..chunk).map(|j| make(next + j, n, times, &mut rng)).collect();
                        next += chunk;
                        let t0 = Instant::now();
                        for s in &fresh {
                            black_box(ctx.add(s.clone(), || BASE, &NoCallbacks));
                        }
                        spent += t0.elapsed();
                        for s in &fresh {
                            ctx.remove(s, &NoCallbacks);
                        }
                        left -= chunk;
                    }
                    spent
                })
            });
        }
    }
    g.finish();
}

fn lookup(c: &mut Criterion) {
    let mut g = c.benchmark_group("lookup");
    for n in SIZES {
        let ctx = filled(n, Times::Equal, 0);
        let mut rng = 3;
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.iter_custom(|iters| {
                let keys: Vec<SessionKey> = (0..iters).map(|_| key(splitmix(&mut rng) % n)).collect();
                let t0 = Instant::now();
                for k in &keys {
                    black_box(ctx.get(k));
                }
                t0.elapsed()
            })
        });
    }
    g.finish();
}

fn evict(c: &mut Criterion) {
    let mut g = c.benchmark_group("evict");
    g.sample_size(20);
    for n in SIZES {
        let ctx = filled(n, Times::Equal, n as i64 + 1);
        let mut next = n;
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter_custom(|iters| {
                let fresh: Vec<S> = (next..next + iters).map(|i| session(i, BASE + (i / 1000) as i64, 300)).collect();
                next += iters;
                let t0 = Instant::now();
                for s in &fresh {
                    black_box(ctx.add(s.clone(), || BASE, &NoCallbacks));
                }
                let spent = t0.elapsed();
                drop(fresh);
                spent
            })
        });
    }
    g.finish();
}

fn flush(c: &mut Criterion) {
    let mut g = c.benchmark_group("flush_1pct");
    g.sample_size(10);
    for n in [100_000u64, 1_000_000] {
        // Times spread over 100 s, timeout 300: at BASE+301 the first 1% have expired.
        let ctx = Context::default();
        ctx.set_cache_size(0);
        let all: Vec<S> = (0..n).map(|i| session(i, BASE + (i as f64 * 100.0 / n as f64) as i64, 300)).collect();
        for s in &all {
            ctx.add(s.clone(), || BASE, &NoCallbacks);
        }
        let expired = &all[..(n / 100) as usize];
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter_custom(|iters| {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    let t0 = Instant::now();
                    ctx.flush(BASE + 301, &NoCallbacks);
                    spent += t0.elapsed();
                    for s in expired {
                        ctx.add(s.clone(), || BASE, &NoCallbacks);
                    }
                }
                assert_eq!(ctx.number(), n as i64);
                spent
            })
        });
    }
    g.finish();
}

criterion_group!(benches, insert, lookup, evict, flush);
criterion_main!(benches);
