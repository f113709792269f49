//! The callbacks C hands us: their typedefs, the application's set of them, and how a session
//! the get callback returns changes hands (its copy flag), written once for both fronts.

use std::ffi::{c_int, c_long, c_uchar, c_uint, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::handles::{CRYPTO_EX_DATA, SSL, SSL_CTX, SSL_SESSION};

/// `int (*new_session_cb)(SSL *, SSL_SESSION *)`: returns 1 to keep the reference it is given.
pub type sesscache_new_session_cb = Option<unsafe extern "C" fn(*mut SSL, *mut SSL_SESSION) -> c_int>;
/// `void (*remove_session_cb)(SSL_CTX *, SSL_SESSION *)`.
pub type sesscache_remove_session_cb = Option<unsafe extern "C" fn(*mut SSL_CTX, *mut SSL_SESSION)>;
/// `SSL_SESSION *(*get_session_cb)(SSL *, const unsigned char *id, int len, int *copy)`.
pub type sesscache_get_session_cb =
    Option<unsafe extern "C" fn(*mut SSL, *const c_uchar, c_int, *mut c_int) -> *mut SSL_SESSION>;
/// OpenSSL's session id generator: fills `id` and may shorten `*id_len`; 1 on success.
pub type GEN_SESSION_CB = Option<unsafe extern "C" fn(*mut SSL, *mut c_uchar, *mut c_uint) -> c_int>;

/// OpenSSL's ex_data callbacks (the header declares them as function types of its own).
pub type CRYPTO_EX_new =
    unsafe extern "C" fn(*mut c_void, *mut c_void, *mut CRYPTO_EX_DATA, c_int, c_long, *mut c_void);
pub type CRYPTO_EX_free =
    unsafe extern "C" fn(*mut c_void, *mut c_void, *mut CRYPTO_EX_DATA, c_int, c_long, *mut c_void);
/// `from_d` is `void **`, as in OpenSSL 3: the dup callback may replace the value copied.
pub type CRYPTO_EX_dup = unsafe extern "C" fn(
    *mut CRYPTO_EX_DATA,
    *const CRYPTO_EX_DATA,
    *mut *mut c_void,
    c_int,
    c_long,
    *mut c_void,
) -> c_int;

/// A counted reference to a session, as each front holds one (its own objects natively,
/// libssl's preloaded).
pub trait SessionHandle: Sized {
    /// A new reference to a session C passed us; C keeps its own. None for NULL.
    ///
    /// # Safety
    /// `p` is NULL or a live session of the front's kind.
    unsafe fn from_borrowed(p: *mut SSL_SESSION) -> Option<Self>;
    /// Takes over the reference C hands us. None for NULL.
    ///
    /// # Safety
    /// As for `from_borrowed`, and the caller owns one reference it gives up.
    unsafe fn from_owned(p: *mut SSL_SESSION) -> Option<Self>;
}

/// The application's session-cache callbacks on one context, which the engine calls only
/// after releasing its locks. Preloaded, libssl keeps the id generator: `generate_id` stays
/// None there.
#[derive(Clone, Copy, Default)]
pub struct AppCallbacks {
    pub new_session: sesscache_new_session_cb,
    pub remove_session: sesscache_remove_session_cb,
    pub get_session: sesscache_get_session_cb,
    pub generate_id: GEN_SESSION_CB,
}

/// A context's `AppCallbacks` as every cache operation reads them: one atomic word each, so a
/// snapshot is four loads and no lock (libssl, too, reads its callback pointers as they are);
/// each is set on its own, so a reader never needs two to agree. Writers take turns.
#[derive(Default)]
pub struct CallbackSlots {
    words: [AtomicUsize; 4],
    writers: parking_lot::Mutex<()>,
}

// Each callback type is an Option of a function pointer: one word, None as 0.
const _: () = assert!(
    std::mem::size_of::<sesscache_new_session_cb>() == std::mem::size_of::<usize>()
        && std::mem::size_of::<sesscache_remove_session_cb>() == std::mem::size_of::<usize>()
        && std::mem::size_of::<sesscache_get_session_cb>() == std::mem::size_of::<usize>()
        && std::mem::size_of::<GEN_SESSION_CB>() == std::mem::size_of::<usize>()
);

impl CallbackSlots {
    #[inline]
    pub fn snapshot(&self) -> AppCallbacks {
        let word = |i: usize| self.words[i].load(Ordering::Acquire);
        // SAFETY: each word is 0 or a function pointer of its field's type, as `update` stored
        // it; an Option of a function pointer is that pointer, None being 0.
        unsafe {
            AppCallbacks {
                new_session: std::mem::transmute::<usize, sesscache_new_session_cb>(word(0)),
                remove_session: std::mem::transmute::<usize, sesscache_remove_session_cb>(word(1)),
                get_session: std::mem::transmute::<usize, sesscache_get_session_cb>(word(2)),
                generate_id: std::mem::transmute::<usize, GEN_SESSION_CB>(word(3)),
            }
        }
    }

    pub fn update(&self, change: impl FnOnce(&mut AppCallbacks)) {
        let _turn = self.writers.lock();
        let mut cbs = self.snapshot();
        change(&mut cbs);
        let words = [
            cbs.new_session.map_or(0, |f| f as usize),
            cbs.remove_session.map_or(0, |f| f as usize),
            cbs.get_session.map_or(0, |f| f as usize),
            cbs.generate_id.map_or(0, |f| f as usize),
        ];
        for (slot, w) in self.words.iter().zip(words) {
            slot.store(w, Ordering::Release);
        }
    }
}

impl AppCallbacks {
    /// Asks the get callback for the session with this id, for connection `ssl`. The handle
    /// returned owns a reference: with the copy flag left set, the callback kept its own and we
    /// take a new one; with it cleared, the callback handed us its reference.
    ///
    /// # Safety
    /// `ssl` is NULL or the live connection the lookup is for; the callback returns NULL or a
    /// live session of the caller's front.
    pub unsafe fn call_get<H: SessionHandle>(&self, ssl: *mut SSL, id: &[u8]) -> Option<H> {
        let cb = self.get_session?;
        let mut copy: c_int = 1;
        // SAFETY: the application's callback with OpenSSL's arguments; `id` outlives the call.
        let found = unsafe { cb(ssl, id.as_ptr(), id.len() as c_int, &mut copy) };
        // SAFETY: the callback's result is NULL or a live session (the caller's promise).
        unsafe {
            if copy != 0 {
                H::from_borrowed(found)
            } else {
                H::from_owned(found)
            }
        }
    }

    /// Tells the remove callback, if any, that `session` left `ctx`'s cache.
    ///
    /// # Safety
    /// `ctx` and `session` are live; no lock is held that the callback may need.
    pub unsafe fn call_remove(&self, ctx: *mut SSL_CTX, session: *mut SSL_SESSION) {
        if let Some(cb) = self.remove_session {
            // SAFETY: the application's callback with live objects; it may call back in.
            unsafe { cb(ctx, session) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    unsafe extern "C" fn new_one(_: *mut SSL, _: *mut SSL_SESSION) -> c_int {
        1
    }
    unsafe extern "C" fn new_two(_: *mut SSL, _: *mut SSL_SESSION) -> c_int {
        2
    }
    unsafe extern "C" fn generate_seven(_: *mut SSL, _: *mut c_uchar, _: *mut c_uint) -> c_int {
        7
    }

    /// Which of the test's callbacks a snapshot holds, by what they return.
    fn held(slots: &CallbackSlots) -> (Option<c_int>, Option<c_int>) {
        let c = slots.snapshot();
        assert!(c.remove_session.is_none() && c.get_session.is_none());
        use std::ptr::null_mut as null;
        // SAFETY: the test's functions, which ignore their arguments.
        unsafe { (c.new_session.map(|f| f(null(), null())), c.generate_id.map(|f| f(null(), null(), null()))) }
    }

    #[test]
    fn each_slot_keeps_its_own_callback() {
        let slots = CallbackSlots::default();
        assert_eq!(held(&slots), (None, None));
        slots.update(|c| c.new_session = Some(new_one));
        slots.update(|c| c.generate_id = Some(generate_seven));
        assert_eq!(held(&slots), (Some(1), Some(7)));
        slots.update(|c| c.new_session = Some(new_two));
        assert_eq!(held(&slots), (Some(2), Some(7)));
        slots.update(|c| c.new_session = None);
        assert_eq!(held(&slots), (None, Some(7)));
    }
}
