//! The preload front: when this library is preloaded into a process that uses the system's
//! libssl 3, our exported functions act on libssl's real objects, and each context's session
//! cache is our engine, plugged in through libssl's own external-cache callbacks. libssl's
//! internal cache stays off, so nothing depends on whether libssl's internal calls reach us
//! (a libssl linked with -Bsymbolic keeps them to itself; ctx.rs says how each is covered).
//!
//! The mode is decided once, at the first call into the library:
//! - no libssl in the process: native mode (our own objects);
//! - libssl 3: preload mode, unless SESSCACHE_DISABLE=1 asks for pure pass-through;
//! - another libssl: pass-through, with one line on stderr.

pub mod ctx;
mod mark;
pub mod real;
pub mod session;
pub mod tickets;

use std::cell::Cell;
use std::ffi::{c_int, c_void, CStr};

use once_cell::sync::OnceCell;

pub use real::Real;

/// How this process uses the library.
pub enum Mode {
    /// Our own objects: no libssl here.
    Native,
    /// libssl's objects, our session cache.
    Preload(&'static Runtime),
    /// libssl's objects and libssl's cache: every call goes straight on.
    PassThrough(&'static Real),
}

/// What preload mode needs besides the real functions.
pub struct Runtime {
    pub real: Real,
    /// The SSL_CTX ex_data slot that holds a context's engine state; its free callback tells
    /// us when libssl frees the context.
    pub ctx_index: c_int,
    /// The SSL_SESSION ex_data slot of each context's auto-flush sentinel (see ctx.rs), or -1
    /// where none is needed; decided at the first context (see `session_index`).
    session_index: OnceCell<c_int>,
    /// Whether libssl's calls to its own exported functions reach ours (`internal_calls_reach_us`).
    interposed: OnceCell<bool>,
}

thread_local! {
    /// `internal_calls_reach_us`'s probe: 1 while it runs, 2 once our export was reached.
    static PROBE: Cell<u8> = const { Cell::new(0) };
}

impl Runtime {
    /// Whether libssl's internal calls of its exported functions reach ours: false for a
    /// libssl linked -Bsymbolic. Probed once, at the first context.
    pub(crate) fn libssl_calls_reach_us(&self) -> bool {
        *self.interposed.get_or_init(|| internal_calls_reach_us(&self.real))
    }

    /// The sentinel's SSL_SESSION ex_data slot: registered only for a libssl whose internal
    /// calls do not reach our exports (linked -Bsymbolic), the only one that needs it, so that
    /// elsewhere the application's own indexes are numbered as with plain libssl. -1: none.
    pub(crate) fn session_index(&self) -> c_int {
        *self.session_index.get_or_init(|| {
            if self.libssl_calls_reach_us() {
                return -1;
            }
            // SAFETY: registers a free callback for SSL_SESSION ex_data, as any application may.
            unsafe {
                (self.real.CRYPTO_get_ex_new_index)(
                    real::CRYPTO_EX_INDEX_SSL_SESSION,
                    0,
                    std::ptr::null_mut::<c_void>(),
                    None,
                    None,
                    Some(ctx::on_sentinel_free),
                )
            }
        })
    }
}

/// Whether libssl's calls to its own exported functions reach ours: libssl's SSL_CTX_new is a
/// call of SSL_CTX_new_ex, which, given no method, fails at once; our SSL_CTX_new_ex notes the
/// probe (`probe_reached`). The error it raises is popped again.
fn internal_calls_reach_us(real: &Real) -> bool {
    PROBE.set(1);
    // SAFETY: real functions; SSL_CTX_new(NULL) only raises SSL_R_NULL_SSL_METHOD_PASSED.
    unsafe {
        (real.ERR_set_mark)();
        (real.SSL_CTX_new)(std::ptr::null());
        (real.ERR_pop_to_mark)();
    }
    PROBE.replace(0) == 2
}

/// Our SSL_CTX_new_ex got no context from libssl: note it if `internal_calls_reach_us` asked.
pub(crate) fn probe_reached() {
    if PROBE.get() == 1 {
        PROBE.set(2);
    }
}

enum Detected {
    Native,
    Preload(Runtime),
    PassThrough(Real),
}

static DETECTED: OnceCell<Detected> = OnceCell::new();

/// The process's mode, decided at the first call.
pub fn mode() -> Mode {
    match DETECTED.get_or_init(detect) {
        Detected::Native => Mode::Native,
        Detected::Preload(rt) => Mode::Preload(rt),
        Detected::PassThrough(real) => Mode::PassThrough(real),
    }
}

/// The preload runtime; only code that handles libssl's objects in preload mode asks.
pub(crate) fn runtime() -> &'static Runtime {
    match mode() {
        Mode::Preload(rt) => rt,
        _ => unreachable!("libssl's sessions reach the cache only in preload mode"),
    }
}

/// libssl's functions if the process has libssl: the next definitions after ours in the
/// global scope, or those of an already loaded libssl.so.3 that is not in the global scope
/// (Python loads it with RTLD_LOCAL).
fn find_real() -> Option<(Real, Option<&'static str>)> {
    // SAFETY: dlsym/dlopen with NUL-terminated names; RTLD_NOLOAD loads nothing new.
    unsafe {
        let next = |name: &CStr| libc::dlsym(libc::RTLD_NEXT, name.as_ptr());
        if !next(c"SSL_CTX_new").is_null() {
            return Some(Real::load(next));
        }
        let ssl = libc::dlopen(c"libssl.so.3".as_ptr(), libc::RTLD_NOLOAD | libc::RTLD_LAZY);
        if ssl.is_null() {
            return None;
        }
        let crypto = libc::dlopen(c"libcrypto.so.3".as_ptr(), libc::RTLD_NOLOAD | libc::RTLD_LAZY);
        Some(Real::load(|name: &CStr| {
            let p = libc::dlsym(ssl, name.as_ptr());
            if p.is_null() && !crypto.is_null() {
                libc::dlsym(crypto, name.as_ptr())
            } else {
                p
            }
        }))
    }
}

fn detect() -> Detected {
    let real = match find_real() {
        None => {
            enable_report();
            return Detected::Native;
        }
        Some((real, None)) => real,
        Some((real, Some(missing))) => {
            // Preload mode needs every function; a call of one this libssl lacks answers as
            // a failure (0, NULL), and every other goes straight on.
            eprintln!("sesscache: this libssl lacks {missing}; passing every call through");
            return Detected::PassThrough(real);
        }
    };
    // SAFETY: a real libcrypto function with no arguments.
    let version = unsafe { (real.OpenSSL_version_num)() };
    if version >> 28 != 3 {
        eprintln!("sesscache: libssl {version:#x} is not OpenSSL 3; passing every call through");
        return Detected::PassThrough(real);
    }
    if std::env::var_os("SESSCACHE_DISABLE").is_some_and(|v| v == "1") {
        return Detected::PassThrough(real);
    }
    // SAFETY: registers a free callback for SSL_CTX ex_data, as any application may.
    let ctx_index = unsafe {
        (real.CRYPTO_get_ex_new_index)(
            real::CRYPTO_EX_INDEX_SSL_CTX,
            0,
            std::ptr::null_mut::<c_void>(),
            None,
            None,
            Some(ctx::on_ctx_free),
        )
    };
    if ctx_index < 0 {
        eprintln!("sesscache: no SSL_CTX ex_data slot; passing every call through");
        return Detected::PassThrough(real);
    }
    enable_report();
    Detected::Preload(Runtime { real, ctx_index, session_index: OnceCell::new(), interposed: OnceCell::new() })
}

/// SESSCACHE_REPORT: once set, the report is written at exit, in either mode.
fn enable_report() {
    crate::obs::report::enable();
}
