//! The boundary between C and Rust: every entry runs under `guard`; a handle becomes the Rust
//! object behind it only through `Castable`; C buffers become slices through `bytes`.

use std::ffi::c_uchar;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The one way into the library from C: runs `body`, and gives `error` (OpenSSL's error
/// value for that function) when `body` finds a bad argument (returns None) or panics. A
/// panic must never unwind into C.
pub fn guard<R>(error: R, body: impl FnOnce() -> Option<R>) -> R {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Some(r)) => r,
        Ok(None) | Err(_) => error,
    }
}

/// `guard` for functions returning nothing.
pub fn guard_void(body: impl FnOnce() -> Option<()>) {
    guard((), body)
}

/// How C holds a handle's object, as rustls-ffi's `Ownership`: it decides which of the
/// conversions below apply.
pub trait Ownership {}
/// C holds an `Arc` pointer (`Arc::into_raw`), and gives it back once.
pub struct OwnedByArc;
/// C holds a `Box` pointer (`Box::into_raw`), and gives it back once.
pub struct OwnedByBox;
/// C borrows: a static, or an object that counts its own references.
pub struct Shared;
impl Ownership for OwnedByArc {}
impl Ownership for OwnedByBox {}
impl Ownership for Shared {}

/// Ties an opaque handle to the one Rust type behind it.
///
/// # Safety
/// Implement it only where every non-NULL pointer of this handle type that the library hands
/// to C points at a `Native`, made as `Ownership` says. The native front implements it for
/// its own objects; libssl's pointers never get an implementation, so they cannot be cast.
pub unsafe trait Castable {
    type Native;
    type Ownership: Ownership;
}

/// The object behind a handle; None for NULL.
///
/// # Safety
/// `p` is NULL or a pointer the library handed out for this handle and that is still live
/// (OpenSSL's contract for every handle argument), and it stays live for `'a`.
pub unsafe fn borrow<'a, T: Castable>(p: *const T) -> Option<&'a T::Native> {
    // SAFETY: by the trait's contract a non-NULL `p` points at a `T::Native`; by the caller's,
    // a live one.
    unsafe { p.cast::<T::Native>().as_ref() }
}

/// The handle C gets for an object (no ownership moves).
pub fn to_c<T: Castable>(native: &T::Native) -> *mut T {
    (native as *const T::Native).cast_mut().cast()
}

/// A new object for C to own through a `Box` handle.
pub fn box_to_c<T: Castable<Ownership = OwnedByBox>>(native: T::Native) -> *mut T {
    Box::into_raw(Box::new(native)).cast()
}

/// Takes back what `box_to_c` gave; None for NULL.
///
/// # Safety
/// `p` is NULL or came from `box_to_c` and was not taken back before.
pub unsafe fn box_from_c<T: Castable<Ownership = OwnedByBox>>(p: *mut T) -> Option<Box<T::Native>> {
    if p.is_null() {
        return None;
    }
    // SAFETY: the caller's promise: a pointer from `Box::into_raw`, taken back once.
    Some(unsafe { Box::from_raw(p.cast::<T::Native>()) })
}

/// Gives C one `Arc` reference as a handle.
pub fn arc_to_c<T: Castable<Ownership = OwnedByArc>>(native: std::sync::Arc<T::Native>) -> *mut T {
    std::sync::Arc::into_raw(native).cast_mut().cast()
}

/// Takes back the reference `arc_to_c` gave.
///
/// # Safety
/// `p` came from `arc_to_c` and its reference was not taken back before.
pub unsafe fn arc_from_c<T: Castable<Ownership = OwnedByArc>>(p: *const T) -> std::sync::Arc<T::Native> {
    // SAFETY: the caller's promise: a pointer from `Arc::into_raw`, taken back once.
    unsafe { std::sync::Arc::from_raw(p.cast::<T::Native>()) }
}

/// A byte slice from C, None for NULL with a non-zero length (an empty slice for NULL, 0).
///
/// # Safety
/// A non-NULL `p` points at `len` readable bytes that stay unchanged for `'a`.
pub unsafe fn bytes<'a>(p: *const c_uchar, len: usize) -> Option<&'a [u8]> {
    if len == 0 {
        return Some(&[]);
    }
    if p.is_null() {
        return None;
    }
    // SAFETY: the caller's promise.
    Some(unsafe { std::slice::from_raw_parts(p, len) })
}

/// Seconds since the epoch, read with `time(NULL)` as OpenSSL 3.0 reads them. glibc answers it
/// from the kernel's coarse clock, which runs up to a tick behind `CLOCK_REALTIME`: a precise
/// read just after a second boundary would stamp a session a second ahead of the application's
/// own `time(NULL)`.
pub fn now() -> i64 {
    // SAFETY: time(NULL) only reads the clock.
    unsafe { libc::time(std::ptr::null_mut()) as i64 }
}

/// `f` run with every signal blocked in this thread, so that a thread it makes starts with
/// them blocked (the process's signals stay with its own threads: nginx's master waits in
/// sigsuspend, its workers in epoll); the mask is restored after.
pub fn with_signals_blocked<T>(f: impl FnOnce() -> T) -> T {
    // SAFETY: sigset_t is plain data, filled by sigfillset; pthread_sigmask with valid sets.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        let blocked = libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old) == 0;
        let result = f();
        if blocked {
            libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        }
        result
    }
}

static FORKS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
static FORK_COUNTER: std::sync::Once = std::sync::Once::new();

/// How many times this process's ancestors forked it since the first call (each child sees
/// one more than its parent at the fork): a relaxed load, for state that must be rebuilt in
/// a forked child without asking the kernel for the pid each time.
#[inline]
pub fn forks() -> u64 {
    if !FORK_COUNTER.is_completed() {
        FORK_COUNTER.call_once(|| {
            // SAFETY: registers a plain function to run in the child after fork.
            unsafe { libc::pthread_atfork(None, None, Some(count_fork)) };
        });
    }
    FORKS.load(std::sync::atomic::Ordering::Relaxed)
}

extern "C" fn count_fork() {
    FORKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// Runs `f` at process exit (atexit(3)), in this process and in the children it forks.
pub fn at_exit(f: extern "C" fn()) {
    // SAFETY: registers a plain function to run at exit.
    unsafe { libc::atexit(f) };
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
