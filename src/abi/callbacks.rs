//! The callbacks C hands us: their typedefs, the application's set of them, and how a session
//! the get callback returns changes hands (its copy flag), written once for both fronts.

use std::ffi::{c_int, c_long, c_uchar, c_uint, c_void};

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
