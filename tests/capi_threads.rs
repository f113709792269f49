//! Native C API from several threads on one context: sessions are made, cached, evicted,
//! removed, duplicated and handed to connections on every thread, so each session's last
//! reference goes on whichever thread happens to drop it. Every session made is freed exactly
//! once (counted by ex_data callbacks), and the cache keeps its size limit. Run under
//! ThreadSanitizer by tools/tsan.sh, where a reference count TSan cannot follow would show.

use std::ffi::{c_int, c_long, c_void};
use std::sync::atomic::{AtomicI64, Ordering};

use sesscache::abi::*;
use sesscache::exports::ctx::*;
use sesscache::exports::exdata::SSL_SESSION_get_ex_new_index;
use sesscache::exports::method::TLS_server_method;
use sesscache::exports::session::*;
use sesscache::exports::ssl::*;
use sesscache::exports::stats::SSL_CTX_sess_number;

static MADE: AtomicI64 = AtomicI64::new(0);
static FREED: AtomicI64 = AtomicI64::new(0);

unsafe extern "C" fn on_new(
    _: *mut c_void,
    _: *mut c_void,
    _: *mut CRYPTO_EX_DATA,
    _: c_int,
    _: c_long,
    _: *mut c_void,
) {
    MADE.fetch_add(1, Ordering::Relaxed);
}
unsafe extern "C" fn on_free(
    _: *mut c_void,
    _: *mut c_void,
    _: *mut CRYPTO_EX_DATA,
    _: c_int,
    _: c_long,
    _: *mut c_void,
) {
    FREED.fetch_add(1, Ordering::Relaxed);
}

struct Ctx(*mut SSL_CTX);
// SAFETY: a context is shared by threads in C as well; every entry point locks what it needs.
unsafe impl Sync for Ctx {}

#[test]
fn every_session_is_freed_once_whatever_thread_drops_it_last() {
    const THREADS: u64 = 4;
    const OPS: u64 = 3_000;
    const SIZE: c_long = 64;
    unsafe {
        assert!(SSL_SESSION_get_ex_new_index(0, std::ptr::null_mut(), Some(on_new), None, Some(on_free)) > 0);
        let ctx = Ctx(SSL_CTX_new(TLS_server_method()));
        assert!(!ctx.0.is_null());
        SSL_CTX_sess_set_cache_size(ctx.0, SIZE);
        std::thread::scope(|scope| {
            for t in 0..THREADS {
                let ctx = &ctx;
                scope.spawn(move || {
                    let ssl = SSL_new(ctx.0);
                    for i in 0..OPS {
                        let s = SSL_SESSION_new();
                        let mut id = [0u8; 32];
                        // Ids repeat across threads every 16 rounds: adds replace each other's
                        // sessions, and removals hit sessions other threads made.
                        id[0] = (i % 16) as u8;
                        id[1] = (t % 2) as u8;
                        SSL_SESSION_set1_id(s, id.as_ptr(), id.len() as u32);
                        SSL_SESSION_set_protocol_version(s, TLS1_2_VERSION);
                        SSL_SESSION_set_time(s, i as c_long);
                        SSL_CTX_add_session(ctx.0, s);
                        if i % 3 == 0 {
                            SSL_set_session(ssl, s);
                        }
                        if i % 5 == 0 {
                            let copy = SSL_SESSION_dup(s);
                            SSL_CTX_remove_session(ctx.0, s);
                            SSL_CTX_add_session(ctx.0, copy);
                            SSL_SESSION_free(copy);
                        }
                        SSL_SESSION_free(s);
                        if i % 500 == 499 {
                            SSL_CTX_flush_sessions(ctx.0, (i / 2) as c_long);
                        }
                    }
                    SSL_free(ssl);
                });
            }
        });
        assert!(SSL_CTX_sess_number(ctx.0) < SIZE);
        SSL_CTX_free(ctx.0);
    }
    assert_eq!(MADE.load(Ordering::Relaxed), FREED.load(Ordering::Relaxed));
    assert!(MADE.load(Ordering::Relaxed) >= (4 * 3_000 * 6 / 5) as i64);
}
