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

use super::cipher;
use super::ctx::Ctx;
use super::exdata::ExData;
use crate::abi::boundary::{borrow, to_c};
use crate::abi::*;
use crate::codec::session::{SessionFields, ShortBytes, MAX_MASTER_KEY_LEN};
use crate::engine::{self, Expiry, Handle as _, HandshakeSession, SessionKey};

/// A session. C holds it by pointer and counts its references with `SSL_SESSION_up_ref` and
/// `_free`; the cache's and each connection's reference is one `SessionRef`, counted the same.
pub struct Session(SessionObject);

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

impl Deref for Session {
    type Target = SessionObject;
    fn deref(&self) -> &SessionObject {
        &self.0
    }
}

// SAFETY: `fields` is reached only through a `FieldsGuard`, which holds `lock`; the other
// members are atomics or lock themselves.
unsafe impl Sync for Session {}

// SAFETY: every `SSL_SESSION *` the native front hands out is a `SessionRef`'s pointer to a
// `Session` (`with_fields`); the object counts its own references.
unsafe impl Castable for SSL_SESSION {
    type Native = Session;
    type Ownership = Shared;
}

impl SessionHandle for SessionRef {
    unsafe fn from_borrowed(p: *mut SSL_SESSION) -> Option<SessionRef> {
        // SAFETY: the trait's contract is this function's.
        unsafe { SessionRef::from_borrowed(p) }
    }
    unsafe fn from_owned(p: *mut SSL_SESSION) -> Option<SessionRef> {
        // SAFETY: as above.
        unsafe { SessionRef::from_owned(p) }
    }
}

impl Session {
    pub(crate) fn with_fields(fields: SessionFields) -> SessionRef {
        let object = Box::new(Session(SessionObject {
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
    pub(crate) fn set_owner(&self, ctx: &Ctx) {
        self.owner.store(ctx.as_ptr() as usize, Ordering::Relaxed);
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

impl Drop for Session {
    fn drop(&mut self) {
        self.ex_data.on_free(to_c::<SSL_SESSION>(self));
    }
}

/// A session's fields, locked until the guard is dropped.
pub(crate) struct FieldsGuard<'a> {
    session: &'a Session,
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
        // SAFETY: locked by `Session::fields` when this guard was made.
        unsafe { self.session.lock.unlock() }
    }
}

/// One counted reference to a session: what the cache and connections hold.
pub(crate) struct SessionRef(NonNull<Session>);

// SAFETY: a counted shared reference to a Sync object, freed by whichever reference is
// dropped last, as an `Arc<Session>` would be.
unsafe impl Send for SessionRef {}
// SAFETY: as above.
unsafe impl Sync for SessionRef {}

impl SessionRef {
    /// A new reference to a session C passed us (C keeps its own).
    ///
    /// # Safety
    /// `p` is NULL or a live session of ours.
    pub(crate) unsafe fn from_borrowed(p: *const SSL_SESSION) -> Option<SessionRef> {
        // SAFETY: the caller's promise; `Castable` makes the pointer a `Session`.
        let session = unsafe { borrow(p)? };
        session.up_ref();
        Some(SessionRef(NonNull::from(session)))
    }
    /// Takes over a reference C hands us.
    ///
    /// # Safety
    /// As for `from_borrowed`, and the caller gives up one reference.
    pub(crate) unsafe fn from_owned(p: *const SSL_SESSION) -> Option<SessionRef> {
        NonNull::new(p.cast_mut().cast::<Session>()).map(SessionRef)
    }
    /// Gives this reference to C.
    pub(crate) fn into_raw(self) -> *mut SSL_SESSION {
        ManuallyDrop::new(self).as_ptr()
    }
    pub(crate) fn as_ptr(&self) -> *mut SSL_SESSION {
        self.0.as_ptr().cast()
    }
    pub(crate) fn fields(&self) -> FieldsGuard<'_> {
        self.object().fields()
    }
    pub(crate) fn object(&self) -> &Session {
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
///
/// # Safety
/// `s` is NULL or a live session of ours.
unsafe fn retime(s: *const SSL_SESSION, change: impl FnOnce(&mut SessionFields)) -> Option<()> {
    // SAFETY: the caller's promise.
    let session = unsafe { SessionRef::from_borrowed(s)? };
    let expiry = {
        let mut f = session.fields();
        change(&mut f);
        f.expiry()
    };
    // Filed under its current key: a session whose id changed while cached is not found,
    // and stays where it was (OpenSSL's list would be corrupt by then).
    if let Some(ctx) = Ctx::live(session.object().owner.load(Ordering::Relaxed)) {
        let key = session.key();
        ctx.cache.reposition(&key, &session, expiry);
    }
    Some(())
}

// ---- the SSL_SESSION_* functions: life cycle, id and id context, time and timeout, protocol,
// keys and names, application data ----

pub(crate) fn new() -> Option<*mut SSL_SESSION> {
    Some(Session::with_fields(SessionFields::new(now())).into_raw())
}

pub(crate) unsafe fn free(s: *mut SSL_SESSION) -> Option<()> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe {
        drop(SessionRef::from_owned(s)?);
        Some(())
    }
}

pub(crate) unsafe fn up_ref(s: *mut SSL_SESSION) -> Option<c_int> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe {
        SessionRef::from_borrowed(s)?.into_raw();
        Some(1)
    }
}

pub(crate) unsafe fn dup(src: *const SSL_SESSION) -> Option<*mut SSL_SESSION> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe {
        let src = borrow(src)?;
        // Copied out first: the new callbacks `with_fields` runs may read the source.
        let fields = src.fields().clone();
        let copy = Session::with_fields(fields);
        let not_resumable = src.not_resumable.load(Ordering::Relaxed);
        copy.object().not_resumable.store(not_resumable, Ordering::Relaxed);
        if !copy.object().ex_data.copy_from(&src.ex_data) {
            return None;
        }
        Some(copy.into_raw())
    }
}

pub(crate) unsafe fn get_id(s: *const SSL_SESSION, len: *mut c_uint) -> Option<*const c_uchar> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe {
        let f = borrow(s)?.fields();
        if let Some(len) = len.as_mut() {
            *len = f.session_id.len() as c_uint;
        }
        Some(f.session_id.buffer().as_ptr())
    }
}

pub(crate) unsafe fn set1_id(s: *mut SSL_SESSION, sid: *const c_uchar, sid_len: c_uint) -> Option<c_int> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe {
        // Copied out first: `sid` may point into this session's own buffer.
        let id = ShortBytes::new(bytes(sid, sid_len as usize)?)?;
        borrow(s)?.fields().session_id.assign(id.as_slice());
        Some(1)
    }
}

pub(crate) unsafe fn get0_id_context(s: *const SSL_SESSION, len: *mut c_uint) -> Option<*const c_uchar> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe {
        let f = borrow(s)?.fields();
        if let Some(len) = len.as_mut() {
            *len = f.sid_ctx.len() as c_uint;
        }
        Some(f.sid_ctx.buffer().as_ptr())
    }
}

pub(crate) unsafe fn set1_id_context(s: *mut SSL_SESSION, sid_ctx: *const c_uchar, len: c_uint) -> Option<c_int> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe {
        let ctx = ShortBytes::new(bytes(sid_ctx, len as usize)?)?;
        borrow(s)?.fields().sid_ctx.assign(ctx.as_slice());
        Some(1)
    }
}

pub(crate) unsafe fn get_time(s: *const SSL_SESSION) -> Option<c_long> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe { Some(borrow(s)?.fields().time as c_long) }
}

/// Returns `t`; a cached session moves to its new place in the expiry order.
pub(crate) unsafe fn set_time(s: *mut SSL_SESSION, t: c_long) -> Option<c_long> {
    // SAFETY: the module's contract.
    unsafe { retime(s, |f| f.time = t as i64)? };
    Some(t)
}

pub(crate) unsafe fn get_timeout(s: *const SSL_SESSION) -> Option<c_long> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe { Some(borrow(s)?.fields().timeout as c_long) }
}

/// A negative timeout is refused with 0; otherwise 1.
pub(crate) unsafe fn set_timeout(s: *mut SSL_SESSION, t: c_long) -> Option<c_long> {
    if t < 0 {
        return None;
    }
    // SAFETY: the module's contract.
    unsafe { retime(s, |f| f.timeout = t as i64)? };
    Some(1)
}

pub(crate) unsafe fn get_protocol_version(s: *const SSL_SESSION) -> Option<c_int> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe { Some(borrow(s)?.fields().ssl_version) }
}

pub(crate) unsafe fn set_protocol_version(s: *mut SSL_SESSION, version: c_int) -> Option<c_int> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe {
        borrow(s)?.fields().ssl_version = version;
        Some(1)
    }
}

pub(crate) unsafe fn set1_master_key(s: *mut SSL_SESSION, key: *const c_uchar, len: usize) -> Option<c_int> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe {
        if len > MAX_MASTER_KEY_LEN {
            return None;
        }
        let key = bytes(key, len)?;
        borrow(s)?.fields().set_master_key(key);
        Some(1)
    }
}

pub(crate) unsafe fn get_master_key(s: *const SSL_SESSION, out: *mut c_uchar, outlen: usize) -> Option<usize> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe {
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
    }
}

pub(crate) unsafe fn get0_hostname(s: *const SSL_SESSION) -> Option<*const c_char> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe { Some(borrow(s)?.fields().rare().hostname.as_ref().map_or(std::ptr::null(), |h| h.as_ptr())) }
}

pub(crate) unsafe fn set1_hostname(s: *mut SSL_SESSION, hostname: *const c_char) -> Option<c_int> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe {
        let s = borrow(s)?;
        let name = if hostname.is_null() { None } else { Some(CStr::from_ptr(hostname).to_owned()) };
        s.fields().change_rare(|r| r.hostname = name);
        Some(1)
    }
}

pub(crate) unsafe fn get0_cipher(s: *const SSL_SESSION) -> Option<*const SSL_CIPHER> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe { Some(cipher::to_c(borrow(s)?.fields().cipher())) }
}

pub(crate) unsafe fn set_cipher(s: *mut SSL_SESSION, cipher: *const SSL_CIPHER) -> Option<c_int> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe {
        let cipher = cipher::from_c(cipher);
        borrow(s)?.fields().set_cipher(cipher);
        Some(1)
    }
}

pub(crate) unsafe fn is_resumable(s: *const SSL_SESSION) -> Option<c_int> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe {
        let s = borrow(s)?;
        let f = s.fields();
        let has_id = !f.session_id.is_empty() || f.rare().tick.as_ref().is_some_and(|t| !t.is_empty());
        Some((!s.not_resumable.load(Ordering::Relaxed) && has_id) as c_int)
    }
}

pub(crate) unsafe fn set_ex_data(s: *mut SSL_SESSION, idx: c_int, arg: *mut c_void) -> Option<c_int> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe { Some(borrow(s)?.ex_data.set(idx, arg) as c_int) }
}

pub(crate) unsafe fn get_ex_data(s: *const SSL_SESSION, idx: c_int) -> Option<*mut c_void> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe { Some(borrow(s)?.ex_data.get(idx)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// glibc's malloc hands out blocks of (request + 8) rounded up to 16: up to 184 bytes
    /// fit a 192-byte block, the next size up is 208. A million sessions make the difference.
    #[test]
    fn a_session_fits_a_192_byte_block() {
        assert!(std::mem::size_of::<Session>() <= 184, "Session grew to {} bytes", std::mem::size_of::<Session>());
    }

    #[test]
    fn references_count_and_the_last_frees() {
        let s = Session::with_fields(SessionFields::new(1));
        let p = s.as_ptr();
        // SAFETY: `p` is the live session `s` holds.
        let again = unsafe { SessionRef::from_borrowed(p) }.unwrap();
        assert!(engine::Handle::same(&s, &again));
        assert_eq!(s.object().refs.load(Ordering::Relaxed), 2);
        let c = again.into_raw();
        assert_eq!(c, p);
        // SAFETY: `c` is the reference `into_raw` gave up.
        drop(unsafe { SessionRef::from_owned(c) });
        assert_eq!(s.object().refs.load(Ordering::Relaxed), 1);
        s.fields().time = 5;
        assert_eq!(s.clone().fields().time, 5);
        // SAFETY: NULL is refused before any use.
        assert!(unsafe { SessionRef::from_borrowed(std::ptr::null()) }.is_none());
    }
}
