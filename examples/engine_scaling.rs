//! Where two threads lose time on one cache: the engine alone (no FFI, no session locks), with
//! T threads doing 1 add (steady-state eviction) + 4 lookups per iteration, on one shared
//! `Context` and on one `Context` per thread; and the same with lookups only.
//!
//! cargo run --release --example engine_scaling

use std::time::Instant;

use sesscache::engine::{Context, NoCallbacks, SessionKey};

#[path = "../tests/support/session.rs"]
mod support;
use support::S;

fn key(i: u64) -> SessionKey {
    let mut id = [0u8; 32];
    id[..8].copy_from_slice(&i.to_le_bytes());
    id[8..16].copy_from_slice(&i.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_le_bytes());
    SessionKey::new(0x303, &id).expect("32 bytes")
}

fn session(i: u64) -> S {
    S::new(key(i), 1000, 300)
}

/// A context of `n` sessions, sized so that every further add evicts one.
fn context(n: u64) -> Context<S> {
    let c = Context::default();
    c.set_cache_size(n as i64 + 1);
    for i in 0..n {
        c.add(session(i), || 0, &NoCallbacks);
    }
    c
}

/// Thousands of iterations a second, all threads together; thread t works on ctxs[t % len].
fn run(ctxs: &[&Context<S>], threads: usize, iters: u64, n: u64, adds: bool, round: u64) -> f64 {
    // Each thread's new sessions, made before the clock starts.
    let fresh: Vec<Vec<S>> =
        (0..threads as u64).map(|t| (0..iters).map(|j| session(((round * 8 + t + 1) << 32) + j)).collect()).collect();
    let t0 = Instant::now();
    std::thread::scope(|scope| {
        for (t, fresh) in fresh.into_iter().enumerate() {
            let c = ctxs[t % ctxs.len()];
            scope.spawn(move || {
                let mut x = 0x1234_5678u64 + t as u64;
                let mut hits = 0u64;
                for s in fresh {
                    if adds {
                        c.add(s, || 0, &NoCallbacks);
                    }
                    for _ in 0..4 {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        hits += c.contains(&key(x % n)) as u64;
                    }
                }
                std::hint::black_box(hits);
            });
        }
    });
    threads as f64 * iters as f64 / t0.elapsed().as_secs_f64() / 1e3
}

fn main() {
    let n = 100_000;
    let (a, b) = (context(n), context(n));
    for (label, adds) in [("1 add + 4 lookups", true), ("4 lookups", false)] {
        for round in 0..5 {
            let one = run(&[&a], 1, 300_000, n, adds, round * 3);
            let shared = run(&[&a], 2, 300_000, n, adds, round * 3 + 1);
            let private = run(&[&a, &b], 2, 300_000, n, adds, round * 3 + 2);
            println!(
                "{label}: 1 thread {one:.0} kiter/s; 2 threads, one context {shared:.0} ({:.2}x), a context each {private:.0} ({:.2}x)",
                shared / one,
                private / one
            );
        }
    }
}
