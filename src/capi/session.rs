//! `SSL_SESSION`: our session object, its reference counting, and the SSL_SESSION_* accessors.

use std::cell::UnsafeCell;
use std::ffi::{c_char, c_int, c_long, c_uchar, c_uint, c_void, CStr};
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

use parking_lot::lock_api::RawMutex as _;
use parking_lot::RawMutex;

use super::cipher::SSL_CIPHER;
use super::ctx::SSL_CTX;
use super::exdata::ExData;
use super::{borrow, bytes, guard, guard_void, now};
use crate::engine::{self, Expiry, Handle as _, HandshakeSession, SessionKey};
use crate::session::{SessionFields, ShortBytes, MAX_MASTER_KEY_LEN};

/// A session. C holds it by pointer and counts its references with `SSL_SESSION_up_ref` and
/// `_free`; the cache's and each connection's reference is one `SessionRef`, counted the same.
/// Opaque to C: the header declares the name only.
pub struct SSL_SESSION(SessionObject);

// Laid out by hand because a cache holds a million of these: a 4-byte count instead of an
// `Arc`'s two words, and a 1-byte lock beside it instead of a `Mutex` whose lock takes a
// word of its own. That fits the object in 184 bytes, a 192-byte block from malloc. In
// this order (repr(C), behind the opaque `SSL_SESSION`) so that an add or a lookup reads
// the count, the lock and the first fields (see `SessionFields`) from one cache line.
#[repr(C)]
pub struct SessionObject {
    /// References held: C's (SSL_SESSION_new, each up_ref) and every `SessionRef`'s.
    refs: AtomicU32,
    /// Guards `fields`, which are reached only through `fields()`.
    lock: RawMutex,
    /// Set when the session leaves a cache, or a handshake gives up on it.
    not_resumable: AtomicBool,
    fields: UnsafeCell<SessionFields>,
    /// The address of the context that last cached it, so that a change of time or timeout
    /// moves it in that cache's expiry order (OpenSSL's `owner`); 0 for none. An address, not
    /// a counted reference: setting it on every add must not write a cache line all sessions
    /// of a context share. `SSL_CTX::live` turns it back into a context.
    owner: AtomicUsize,
    pub(crate) ex_data: ExData,
}

impl Deref for SSL_SESSION {
    type Target = SessionObject;
    fn deref(&self) -> &SessionObject {
        &self.0
    }
}

// SAFETY: `fields` is reached only through a `FieldsGuard`, which holds `lock`; the other
// members are atomics or lock themselves.
unsafe impl Sync for SSL_SESSION {}

impl SSL_SESSION {
    pub(crate) fn with_fields(fields: SessionFields) -> SessionRef {
        let object = Box::new(SSL_SESSION(SessionObject {
            refs: AtomicU32::new(1),
            lock: RawMutex::INIT,
            not_resumable: AtomicBool::new(false),
            owner: AtomicUsize::new(0),
            ex_data: ExData::default(),
            fields: UnsafeCell::new(fields),
        }));
        let s = SessionRef(NonNull::from(Box::leak(object)));
        s.object().ex_data.on_new(s.as_ptr());
        s
    }
    pub(crate) fn fields(&self) -> FieldsGuard<'_> {
        self.lock.lock();
        FieldsGuard { session: self, _not_send: PhantomData }
    }
    pub(crate) fn set_owner(&self, ctx: &SSL_CTX) {
        self.owner.store(ctx as *const SSL_CTX as usize, Ordering::Relaxed);
    }
    /// One more reference, as `Arc::clone`: Relaxed, since the caller's own keeps it alive.
    fn up_ref(&self) {
        let before = self.refs.fetch_add(1, Ordering::Relaxed);
        // OpenSSL counts in an int. Past that, references are leaking without bound: stop
        // before the count could wrap and free a session still in use (Arc aborts too).
        if before >= i32::MAX as u32 {
            std::process::abort();
        }
    }
}

impl Drop for SSL_SESSION {
    fn drop(&mut self) {
        let me: *mut SSL_SESSION = self;
        self.ex_data.on_free(me);
    }
}

/// A session's fields, locked until the guard is dropped.
pub(crate) struct FieldsGuard<'a> {
    session: &'a SSL_SESSION,
    /// Unlocked on the thread that locked, as parking_lot's own guards are.
    _not_send: PhantomData<*const ()>,
}

impl Deref for FieldsGuard<'_> {
    type Target = SessionFields;
    fn deref(&self) -> &SessionFields {
        // SAFETY: this guard holds the lock.
        unsafe { &*self.session.fields.get() }
    }
}

impl DerefMut for FieldsGuard<'_> {
    fn deref_mut(&mut self) -> &mut SessionFields {
        // SAFETY: this guard holds the lock.
        unsafe { &mut *self.session.fields.get() }
    }
}

impl Drop for FieldsGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: locked by `SSL_SESSION::fields` when this guard was made.
        unsafe { self.session.lock.unlock() }
    }
}

/// One counted reference to a session: what the cache and connections hold.
pub(crate) struct SessionRef(NonNull<SSL_SESSION>);

// SAFETY: a counted shared reference to a Sync object, freed by whichever reference is
// dropped last, as an `Arc<SSL_SESSION>` would be.
unsafe impl Send for SessionRef {}
unsafe impl Sync for SessionRef {}

impl SessionRef {
    /// A new reference to a session C passed us (C keeps its own).
    pub(crate) unsafe fn from_borrowed(p: *const SSL_SESSION) -> Option<SessionRef> {
        let p = NonNull::new(p.cast_mut())?;
        p.as_ref().up_ref();
        Some(SessionRef(p))
    }
    /// Takes over a reference C hands us.
    pub(crate) unsafe fn from_owned(p: *const SSL_SESSION) -> Option<SessionRef> {
        NonNull::new(p.cast_mut()).map(SessionRef)
    }
    /// Gives this reference to C.
    pub(crate) fn into_raw(self) -> *mut SSL_SESSION {
        ManuallyDrop::new(self).as_ptr()
    }
    pub(crate) fn as_ptr(&self) -> *mut SSL_SESSION {
        self.0.as_ptr()
    }
    pub(crate) fn fields(&self) -> FieldsGuard<'_> {
        self.object().fields()
    }
    pub(crate) fn object(&self) -> &SSL_SESSION {
        // SAFETY: this reference keeps the object alive.
        unsafe { self.0.as_ref() }
    }
}

impl Clone for SessionRef {
    fn clone(&self) -> SessionRef {
        self.object().up_ref();
        SessionRef(self.0)
    }
}

impl Drop for SessionRef {
    /// The last reference frees the session, as `Arc`'s drop: Release so that every holder's
    /// use happens before the free, and Acquire by the one that frees.
    fn drop(&mut self) {
        if self.object().refs.fetch_sub(1, Ordering::Release) != 1 {
            return;
        }
        // An Acquire load of the count rather than an Acquire fence: the same ordering (it
        // reads the last decrement, which every holder's Release decrement precedes), free on
        // x86, and unlike a fence visible to ThreadSanitizer (what std's Arc does under it).
        self.object().refs.load(Ordering::Acquire);
        // SAFETY: no reference is left; the object was leaked from a Box in `with_fields`.
        drop(unsafe { Box::from_raw(self.0.as_ptr()) });
    }
}

impl engine::Handle for SessionRef {
    fn same(&self, other: &Self) -> bool {
        self.0 == other.0
    }
    fn key(&self) -> SessionKey {
        self.fields().key()
    }
}

impl engine::Session for SessionRef {
    fn expiry(&self) -> Expiry {
        self.fields().expiry()
    }
    fn key_and_expiry(&self) -> (SessionKey, Expiry) {
        let f = self.fields();
        (f.key(), f.expiry())
    }
    fn touch(&self, now: i64) -> Expiry {
        let mut f = self.fields();
        f.time = now;
        f.expiry()
    }
    fn mark_not_resumable(&self) {
        self.object().not_resumable.store(true, Ordering::Relaxed);
    }
}

impl HandshakeSession for SessionRef {
    fn is_resumable(&self) -> bool {
        !self.object().not_resumable.load(Ordering::Relaxed)
    }
    fn sid_ctx_matches(&self, sid_ctx: &[u8]) -> bool {
        self.fields().sid_ctx.as_slice() == sid_ctx
    }
}

/// Changes a session's time or timeout, then moves it in the cache that owns it.
unsafe fn retime(s: *const SSL_SESSION, change: impl FnOnce(&mut SessionFields)) -> Option<()> {
    let session = SessionRef::from_borrowed(s)?;
    let expiry = {
        let mut f = session.fields();
        change(&mut f);
        f.expiry()
    };
    // Filed under its current key: a session whose id changed while cached is not found,
    // and stays where it was (OpenSSL's list would be corrupt by then).
    if let Some(ctx) = SSL_CTX::live(session.object().owner.load(Ordering::Relaxed)) {
        let key = session.key();
        ctx.cache.reposition(&key, &session, expiry);
    }
    Some(())
}

// ---- life cycle ----

#[no_mangle]
pub extern "C" fn SSL_SESSION_new() -> *mut SSL_SESSION {
    forward!(SSL_SESSION_new());
    guard(std::ptr::null_mut(), || Some(SSL_SESSION::with_fields(SessionFields::new(now())).into_raw()))
}

#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_free(s: *mut SSL_SESSION) {
    forward!(SSL_SESSION_free(s));
    guard_void(|| {
        drop(SessionRef::from_owned(s)?);
        Some(())
    })
}

#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_up_ref(s: *mut SSL_SESSION) -> c_int {
    forward!(SSL_SESSION_up_ref(s));
    guard(0, || {
        SessionRef::from_borrowed(s)?.into_raw();
        Some(1)
    })
}

/// A new session with the same contents (ticket included); it is in no cache.
#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_dup(src: *const SSL_SESSION) -> *mut SSL_SESSION {
    forward!(SSL_SESSION_dup(src));
    guard(std::ptr::null_mut(), || {
        let src = borrow(src)?;
        // Copied out first: the new callbacks `with_fields` runs may read the source.
        let fields = src.fields().clone();
        let copy = SSL_SESSION::with_fields(fields);
        let not_resumable = src.not_resumable.load(Ordering::Relaxed);
        copy.object().not_resumable.store(not_resumable, Ordering::Relaxed);
        if !copy.object().ex_data.copy_from(&src.ex_data) {
            return None;
        }
        Some(copy.into_raw())
    })
}

// ---- id and id context ----

#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_get_id(s: *const SSL_SESSION, len: *mut c_uint) -> *const c_uchar {
    forward!(SSL_SESSION_get_id(s, len));
    guard(std::ptr::null(), || {
        let f = borrow(s)?.fields();
        if let Some(len) = len.as_mut() {
            *len = f.session_id.len() as c_uint;
        }
        Some(f.session_id.buffer().as_ptr())
    })
}

#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_set1_id(s: *mut SSL_SESSION, sid: *const c_uchar, sid_len: c_uint) -> c_int {
    forward!(SSL_SESSION_set1_id(s, sid, sid_len));
    guard(0, || {
        // Copied out first: `sid` may point into this session's own buffer.
        let id = ShortBytes::new(bytes(sid, sid_len as usize)?)?;
        borrow(s)?.fields().session_id.assign(id.as_slice());
        Some(1)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_get0_id_context(s: *const SSL_SESSION, len: *mut c_uint) -> *const c_uchar {
    forward!(SSL_SESSION_get0_id_context(s, len));
    guard(std::ptr::null(), || {
        let f = borrow(s)?.fields();
        if let Some(len) = len.as_mut() {
            *len = f.sid_ctx.len() as c_uint;
        }
        Some(f.sid_ctx.buffer().as_ptr())
    })
}

#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_set1_id_context(
    s: *mut SSL_SESSION,
    sid_ctx: *const c_uchar,
    len: c_uint,
) -> c_int {
    forward!(SSL_SESSION_set1_id_context(s, sid_ctx, len));
    guard(0, || {
        let ctx = ShortBytes::new(bytes(sid_ctx, len as usize)?)?;
        borrow(s)?.fields().sid_ctx.assign(ctx.as_slice());
        Some(1)
    })
}

// ---- time and timeout ----

#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_get_time(s: *const SSL_SESSION) -> c_long {
    forward!(SSL_SESSION_get_time(s));
    guard(0, || Some(borrow(s)?.fields().time as c_long))
}

/// Returns `t`; a cached session moves to its new place in the expiry order.
#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_set_time(s: *mut SSL_SESSION, t: c_long) -> c_long {
    preload!(SSL_SESSION_set_time(s, t), 0, |rt| {
        let r = (rt.real.SSL_SESSION_set_time)(s, t);
        crate::preload::ctx::retimed(s);
        r
    });
    guard(0, || {
        retime(s, |f| f.time = t as i64)?;
        Some(t)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_get_timeout(s: *const SSL_SESSION) -> c_long {
    forward!(SSL_SESSION_get_timeout(s));
    guard(0, || Some(borrow(s)?.fields().timeout as c_long))
}

/// A negative timeout is refused with 0; otherwise 1.
#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_set_timeout(s: *mut SSL_SESSION, t: c_long) -> c_long {
    preload!(SSL_SESSION_set_timeout(s, t), 0, |rt| {
        let r = (rt.real.SSL_SESSION_set_timeout)(s, t);
        crate::preload::ctx::retimed(s);
        r
    });
    guard(0, || {
        if t < 0 {
            return None;
        }
        retime(s, |f| f.timeout = t as i64)?;
        Some(1)
    })
}

// ---- protocol, keys, names ----

#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_get_protocol_version(s: *const SSL_SESSION) -> c_int {
    forward!(SSL_SESSION_get_protocol_version(s));
    guard(0, || Some(borrow(s)?.fields().ssl_version))
}

#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_set_protocol_version(s: *mut SSL_SESSION, version: c_int) -> c_int {
    forward!(SSL_SESSION_set_protocol_version(s, version));
    guard(0, || {
        borrow(s)?.fields().ssl_version = version;
        Some(1)
    })
}

/// At most 512 bytes, the size of OpenSSL 3.0's buffer.
#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_set1_master_key(s: *mut SSL_SESSION, key: *const c_uchar, len: usize) -> c_int {
    forward!(SSL_SESSION_set1_master_key(s, key, len));
    guard(0, || {
        if len > MAX_MASTER_KEY_LEN {
            return None;
        }
        let key = bytes(key, len)?;
        borrow(s)?.fields().set_master_key(key);
        Some(1)
    })
}

/// With `outlen` 0, the key's length; otherwise copies up to `outlen` bytes and returns how many.
#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_get_master_key(s: *const SSL_SESSION, out: *mut c_uchar, outlen: usize) -> usize {
    forward!(SSL_SESSION_get_master_key(s, out, outlen));
    guard(0, || {
        let f = borrow(s)?.fields();
        let key = f.master_key();
        if outlen == 0 {
            return Some(key.len());
        }
        let n = outlen.min(key.len());
        if n > 0 {
            if out.is_null() {
                return None;
            }
            std::ptr::copy_nonoverlapping(key.as_ptr(), out, n);
        }
        Some(n)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_get0_hostname(s: *const SSL_SESSION) -> *const c_char {
    forward!(SSL_SESSION_get0_hostname(s));
    guard(std::ptr::null(), || {
        Some(borrow(s)?.fields().rare().hostname.as_ref().map_or(std::ptr::null(), |h| h.as_ptr()))
    })
}

/// NULL clears the hostname.
#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_set1_hostname(s: *mut SSL_SESSION, hostname: *const c_char) -> c_int {
    forward!(SSL_SESSION_set1_hostname(s, hostname));
    guard(0, || {
        let s = borrow(s)?;
        let name = if hostname.is_null() { None } else { Some(CStr::from_ptr(hostname).to_owned()) };
        s.fields().change_rare(|r| r.hostname = name);
        Some(1)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_get0_cipher(s: *const SSL_SESSION) -> *const SSL_CIPHER {
    forward!(SSL_SESSION_get0_cipher(s));
    guard(std::ptr::null(), || Some(SSL_CIPHER::to_c(borrow(s)?.fields().cipher())))
}

#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_set_cipher(s: *mut SSL_SESSION, cipher: *const SSL_CIPHER) -> c_int {
    forward!(SSL_SESSION_set_cipher(s, cipher));
    guard(0, || {
        let cipher = SSL_CIPHER::from_c(cipher);
        borrow(s)?.fields().set_cipher(cipher);
        Some(1)
    })
}

/// Resumable while no cache has dropped it and it has an id (or a ticket) to resume by.
#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_is_resumable(s: *const SSL_SESSION) -> c_int {
    forward!(SSL_SESSION_is_resumable(s));
    guard(0, || {
        let s = borrow(s)?;
        let f = s.fields();
        let has_id = !f.session_id.is_empty() || f.rare().tick.as_ref().is_some_and(|t| !t.is_empty());
        Some((!s.not_resumable.load(Ordering::Relaxed) && has_id) as c_int)
    })
}

// ---- application data ----

#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_set_ex_data(s: *mut SSL_SESSION, idx: c_int, arg: *mut c_void) -> c_int {
    forward!(SSL_SESSION_set_ex_data(s, idx, arg));
    guard(0, || Some(borrow(s)?.ex_data.set(idx, arg) as c_int))
}

#[no_mangle]
pub unsafe extern "C" fn SSL_SESSION_get_ex_data(s: *const SSL_SESSION, idx: c_int) -> *mut c_void {
    forward!(SSL_SESSION_get_ex_data(s, idx));
    guard(std::ptr::null_mut(), || Some(borrow(s)?.ex_data.get(idx)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// glibc's malloc hands out blocks of (request + 8) rounded up to 16: up to 184 bytes
    /// fit a 192-byte block, the next size up is 208. A million sessions make the difference.
    #[test]
    fn a_session_fits_a_192_byte_block() {
        assert!(
            std::mem::size_of::<SSL_SESSION>() <= 184,
            "SSL_SESSION grew to {} bytes",
            std::mem::size_of::<SSL_SESSION>()
        );
    }

    #[test]
    fn references_count_and_the_last_frees() {
        let s = SSL_SESSION::with_fields(SessionFields::new(1));
        let p = s.as_ptr();
        let again = unsafe { SessionRef::from_borrowed(p) }.unwrap();
        assert!(engine::Handle::same(&s, &again));
        assert_eq!(s.object().refs.load(Ordering::Relaxed), 2);
        let c = again.into_raw();
        assert_eq!(c, p);
        drop(unsafe { SessionRef::from_owned(c) });
        assert_eq!(s.object().refs.load(Ordering::Relaxed), 1);
        s.fields().time = 5;
        assert_eq!(s.clone().fields().time, 5);
        assert!(unsafe { SessionRef::from_borrowed(std::ptr::null()) }.is_none());
    }
}
