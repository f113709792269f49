//! The native C front: OpenSSL 3's session-cache API over our own objects. One file per area
//! of OpenSSL's API; each exported function is a thin mapping onto the engine that goes
//! through `guard`, which checks nothing escapes as a panic and gives OpenSSL's error value.
//!
//! Handles: an `SSL_CTX *` is an `Arc` pointer (`Arc::into_raw`), so a session can name the
//! context that caches it without dangling; an `SSL_SESSION *` is a reference-counted object
//! of its own (`SessionRef`: an `Arc` without the weak count, for size); an `SSL *` is a
//! `Box`. `SSL_METHOD *` and `SSL_CIPHER *` point at statics.

#![allow(non_camel_case_types, non_snake_case, clippy::missing_safety_doc)]

/// Preloaded or passing through: the call goes on to libssl's function of the same name
/// (`real` names another one where OpenSSL has only a macro).
macro_rules! forward {
    ($name:ident($($arg:expr),*)) => {
        if let Some(real) = crate::preload::real() {
            // SAFETY: libssl's own function, given the caller's arguments.
            return unsafe { (real.$name)($($arg),*) };
        }
    };
}

/// Preloaded: the preload front's version of a cache function (guarded like every entry);
/// passing through: libssl's; native: the body that follows.
macro_rules! preload {
    ($name:ident($($arg:expr),*), $error:expr, |$rt:ident| $body:expr) => {
        match crate::preload::mode() {
            crate::preload::Mode::Native => {}
            // SAFETY: libssl's own function, given the caller's arguments.
            crate::preload::Mode::PassThrough(real) => return unsafe { (real.$name)($($arg),*) },
            crate::preload::Mode::Preload($rt) => return crate::capi::guard($error, || Some($body)),
        }
    };
}

pub mod callbacks;
pub mod cipher;
pub mod ctx;
pub mod der;
pub mod exdata;
pub mod hooks;
pub mod method;
pub mod session;
pub mod ssl;
pub mod stats;

use std::ffi::c_uchar;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The one way into the library from C: runs `body`, and gives `error` (OpenSSL's error
/// value for that function) when `body` finds a bad argument (returns None) or panics. A
/// panic must never unwind into C.
pub(crate) fn guard<R>(error: R, body: impl FnOnce() -> Option<R>) -> R {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Some(r)) => r,
        Ok(None) | Err(_) => error,
    }
}

/// `guard` for functions returning nothing.
pub(crate) fn guard_void(body: impl FnOnce() -> Option<()>) {
    guard((), body)
}

/// Borrows the object behind a C pointer, None for NULL. The pointer must be one this library
/// handed out and not yet freed: the same contract as OpenSSL's.
pub(crate) unsafe fn borrow<'a, T>(p: *const T) -> Option<&'a T> {
    p.as_ref()
}

/// A byte slice from C, None for NULL with a non-zero length (an empty slice for NULL, 0).
pub(crate) unsafe fn bytes<'a>(p: *const c_uchar, len: usize) -> Option<&'a [u8]> {
    if len == 0 {
        return Some(&[]);
    }
    if p.is_null() {
        return None;
    }
    Some(std::slice::from_raw_parts(p, len))
}

/// Seconds since the epoch, read with `time(NULL)` as OpenSSL 3.0 reads them. glibc answers it
/// from the kernel's coarse clock, which runs up to a tick behind `CLOCK_REALTIME`: a precise
/// read just after a second boundary would stamp a session a second ahead of the application's
/// own `time(NULL)`.
pub(crate) fn now() -> i64 {
    // SAFETY: time(NULL) only reads the clock.
    unsafe { libc::time(std::ptr::null_mut()) as i64 }
}

#[cfg(test)]
mod tests {
    /// Across a second boundary (the loop spans at least one), a time we stamp is never ahead
    /// of what the application's `time(NULL)` says right after: OpenSSL stamps with
    /// `time(NULL)`, and a scenario that checks "time is now" must see the same.
    #[test]
    fn now_is_never_ahead_of_time_null() {
        let start = std::time::Instant::now();
        let mut checks = 0u64;
        while start.elapsed() < std::time::Duration::from_millis(1100) {
            let ours = super::now();
            // SAFETY: time(NULL) only reads the clock.
            let theirs = unsafe { libc::time(std::ptr::null_mut()) } as i64;
            assert!(ours <= theirs, "stamped {ours}, time(NULL) then said {theirs} (check {checks})");
            checks += 1;
        }
    }
}
