//! The preload front: when this library is preloaded into a process that uses the system's
//! libssl 3, our exported functions act on libssl's real objects, and each context's session
//! cache is our engine, plugged in through libssl's own external-cache callbacks. libssl's
//! internal cache stays off, so nothing depends on whether libssl's internal calls reach us.
//!
//! The mode is decided once, at the first call into the library:
//! - no libssl in the process: native mode (our own objects);
//! - libssl 3: preload mode, unless SESSCACHE_DISABLE=1 asks for pure pass-through;
//! - another libssl: pass-through, with one line on stderr.

pub mod ctx;
pub mod real;
pub mod session;

use std::ffi::{c_int, c_void, CStr};

use once_cell::sync::OnceCell;

use crate::abi::SSL_CTX;

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
    /// A context with no callbacks: removing a session from it is how we mark a session not
    /// resumable, which libssl offers no other way to do.
    marker: OnceCell<usize>,
}

impl Runtime {
    pub(crate) fn marker_ctx(&self) -> *mut SSL_CTX {
        // libssl's SSL_CTX_new calls SSL_CTX_new_ex, which may come back to our export and get
        // an engine; the real SSL_CTX_new_ex does not.
        // SAFETY: real functions with valid arguments.
        *self.marker.get_or_init(|| unsafe {
            (self.real.SSL_CTX_new_ex)(std::ptr::null_mut(), std::ptr::null(), (self.real.TLS_method)()) as usize
        }) as *mut _
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
fn find_real() -> Option<Result<Real, &'static str>> {
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
        Some(Ok(real)) => real,
        Some(Err(missing)) => {
            // Without every function we forward to, neither mode is safe.
            eprintln!("sesscache: this libssl lacks {missing}; cannot run in this process");
            std::process::abort();
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
    Detected::Preload(Runtime { real, ctx_index, marker: OnceCell::new() })
}

/// SESSCACHE_REPORT: once set, the report is written at exit, in either mode.
fn enable_report() {
    crate::obs::report::enable();
}
