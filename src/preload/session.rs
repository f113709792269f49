//! A counted reference to one of libssl's sessions: what the engine holds in preload mode.

use std::cell::Cell;
use std::ffi::c_long;
use std::ptr::NonNull;

use super::{runtime, Runtime};
use crate::abi::{SessionHandle, SSL_CTX, SSL_SESSION};
use crate::engine::{self, Expiry, SessionKey};

/// Just the pointer: the cache keeps one of these for every session, so the runtime is looked
/// up, not stored.
pub struct RealSession {
    ptr: NonNull<SSL_SESSION>,
}

// SAFETY: libssl's sessions are reference counted with atomics and safe to share; we only
// call libssl's own thread-safe accessors on them.
unsafe impl Send for RealSession {}
// SAFETY: as above.
unsafe impl Sync for RealSession {}

impl RealSession {
    /// A new reference to a session libssl or the application passed us.
    ///
    /// # Safety
    /// `p` is NULL or a live libssl session.
    pub unsafe fn borrowed(p: *mut SSL_SESSION) -> Option<RealSession> {
        let ptr = NonNull::new(p)?;
        // SAFETY: a live session (the caller's promise); libssl counts the reference.
        unsafe { (runtime().real.SSL_SESSION_up_ref)(p) };
        Some(RealSession { ptr })
    }
    /// Takes over a reference someone handed us.
    ///
    /// # Safety
    /// As for `borrowed`, and the caller gives up one reference.
    pub unsafe fn owned(p: *mut SSL_SESSION) -> Option<RealSession> {
        Some(RealSession { ptr: NonNull::new(p)? })
    }
    /// Gives this reference away.
    pub fn into_raw(self) -> *mut SSL_SESSION {
        let p = self.ptr.as_ptr();
        std::mem::forget(self);
        p
    }
    pub fn as_ptr(&self) -> *mut SSL_SESSION {
        self.ptr.as_ptr()
    }
    fn rt(&self) -> &'static Runtime {
        runtime()
    }
}

/// Where libssl keeps a session's id inside the object: the same for every session of one
/// libssl build, learned from the first id libssl hands us, so that a removal can ask for the
/// id's line (the key's miss, a session away in memory) before its own preamble runs.
static ID_OFFSET: once_cell::sync::OnceCell<usize> = once_cell::sync::OnceCell::new();

fn note_id_offset(session: *mut SSL_SESSION, id: *const u8) {
    if ID_OFFSET.get().is_none() {
        // An id outside the object's first kilobyte is not libssl 3's layout: no hint.
        let offset = (id as usize).wrapping_sub(session as usize);
        if offset < 1024 {
            let _ = ID_OFFSET.set(offset);
        }
    }
}

/// Asks for the lines a removal reads the key from (the version at the object's start, the
/// id), once their place is known.
pub(super) fn prefetch_key(session: *mut SSL_SESSION) {
    if let Some(&offset) = ID_OFFSET.get() {
        crate::hint::prefetch_write(session.cast::<u8>());
        crate::hint::prefetch_write(session.cast::<u8>().wrapping_add(offset));
    }
}

/// How libssl's sessions cross the fleet: libssl's own i2d/d2i, so that what it checks on a
/// resumption (id context, version, timeout) is what it encoded. A failure leaves nothing on
/// libssl's error queue, which the application's next SSL_get_error would read.
pub(crate) struct RealCodec;

impl engine::Codec<RealSession> for RealCodec {
    fn encode(&self, session: &RealSession) -> Option<Vec<u8>> {
        let real = &runtime().real;
        // SAFETY: real functions on a live session; the second call writes at most the length
        // the first returned, into a buffer of that length.
        unsafe {
            (real.ERR_set_mark)();
            let len = (real.i2d_SSL_SESSION)(session.as_ptr(), std::ptr::null_mut());
            let mut der = vec![0u8; usize::try_from(len).unwrap_or(0)];
            let mut p = der.as_mut_ptr();
            let written = if der.is_empty() { 0 } else { (real.i2d_SSL_SESSION)(session.as_ptr(), &mut p) };
            (real.ERR_pop_to_mark)();
            (written > 0 && written == len).then_some(der)
        }
    }
    /// Exactly one session: trailing bytes mean the remote's answer is not what was shared.
    fn decode(&self, der: &[u8], _now: i64) -> Option<RealSession> {
        let real = &runtime().real;
        let len = c_long::try_from(der.len()).ok()?;
        let mut p = der.as_ptr();
        // SAFETY: libssl reads at most `len` bytes at `p` and returns a new session with one
        // reference, which the handle takes over, or NULL.
        let session = unsafe {
            (real.ERR_set_mark)();
            let s = (real.d2i_SSL_SESSION)(std::ptr::null_mut(), &mut p, len);
            (real.ERR_pop_to_mark)();
            RealSession::owned(s)?
        };
        (p == der.as_ptr().wrapping_add(der.len())).then_some(session)
    }
}

impl engine::HandshakeSession for RealSession {
    fn is_resumable(&self) -> bool {
        // SAFETY: a live session.
        unsafe { (self.rt().real.SSL_SESSION_is_resumable)(self.as_ptr()) != 0 }
    }
    fn sid_ctx_matches(&self, sid_ctx: &[u8]) -> bool {
        let mut len = 0;
        // SAFETY: a live session; libssl returns its id context buffer and length.
        unsafe {
            let p = (self.rt().real.SSL_SESSION_get0_id_context)(self.as_ptr(), &mut len);
            let own = if p.is_null() || len == 0 { &[][..] } else { std::slice::from_raw_parts(p, len as usize) };
            own == sid_ctx
        }
    }
}

impl SessionHandle for RealSession {
    unsafe fn from_borrowed(p: *mut SSL_SESSION) -> Option<RealSession> {
        // SAFETY: the trait's contract is this function's.
        unsafe { RealSession::borrowed(p) }
    }
    unsafe fn from_owned(p: *mut SSL_SESSION) -> Option<RealSession> {
        // SAFETY: as above.
        unsafe { RealSession::owned(p) }
    }
}

impl Clone for RealSession {
    fn clone(&self) -> Self {
        // SAFETY: this handle keeps its session alive.
        unsafe { RealSession::borrowed(self.as_ptr()) }.expect("a held session is not NULL")
    }
}

impl Drop for RealSession {
    fn drop(&mut self) {
        // SAFETY: releases the reference this handle owns.
        unsafe { (self.rt().real.SSL_SESSION_free)(self.as_ptr()) };
    }
}

impl engine::Handle for RealSession {
    fn same(&self, other: &Self) -> bool {
        self.ptr == other.ptr
    }
    /// The lines SSL_SESSION_free's chain of dependent steps starts on: the flag's (which
    /// the release writes first) and the two after it (the reference count, then the
    /// pointers it frees, in 3.0), and the object's first lines (master key and id, cleared
    /// first). The release asks for the rest later (`release_flushed`).
    fn taken_for_release(&self) {
        if let Some(offset) = super::mark::known_flag_offset() {
            let object = self.as_ptr().cast::<u8>();
            for at in [offset, offset + 64, offset + 128, 0, 128] {
                crate::hint::prefetch_write(object.wrapping_add(at));
            }
        }
    }
    fn key(&self) -> SessionKey {
        let real = &self.rt().real;
        let mut len = 0;
        // SAFETY: a live session; libssl returns its id buffer and length (at most 32).
        unsafe {
            let id = (real.SSL_SESSION_get_id)(self.as_ptr(), &mut len);
            note_id_offset(self.as_ptr(), id);
            let id = if id.is_null() { &[][..] } else { std::slice::from_raw_parts(id, (len as usize).min(32)) };
            SessionKey::new((real.SSL_SESSION_get_protocol_version)(self.as_ptr()), id).expect("at most 32 bytes")
        }
    }
}

impl engine::Session for RealSession {
    fn expiry(&self) -> Expiry {
        // SAFETY: a live session.
        unsafe {
            Expiry::new(
                (self.rt().real.SSL_SESSION_get_time)(self.as_ptr()) as i64,
                (self.rt().real.SSL_SESSION_get_timeout)(self.as_ptr()) as i64,
            )
        }
    }
    fn touch(&self, now: i64) -> Expiry {
        // SAFETY: a live session; libssl's internal cache, which would re-link it, is off.
        unsafe { (self.rt().real.SSL_SESSION_set_time)(self.as_ptr(), now as _) };
        self.expiry()
    }
    #[inline]
    fn mark_not_resumable(&self) {
        match super::mark::known_flag_offset() {
            // SAFETY: a live session; the offset came from the probe.
            Some(offset) => unsafe { super::mark::store(self.as_ptr(), offset) },
            None => Self::mark_by_removal(std::slice::from_ref(self)),
        }
    }
    /// Marks and releases in order, each session's memory asked for `RELEASE_AHEAD` sessions
    /// before its turn: libssl's SSL_SESSION_free clears the whole object when the cache held
    /// the last reference (OPENSSL_clear_free) and frees the lock SSL_SESSION_new allocated
    /// right after it, lines nothing had read since the session was cached (libssl's own
    /// flush has read some of them in its walk).
    fn release_flushed(sessions: engine::Flushed<Self>) {
        let Some(offset) = super::mark::known_flag_offset() else {
            Self::mark_by_removal(&sessions);
            return;
        };
        let ask = |s: &Self| {
            let object = s.as_ptr().cast::<u8>();
            // A plain loop: a flush runs this code cold, and StepBy's is several lines longer.
            let mut line = 0;
            while line < offset + RELEASE_SPAN {
                crate::hint::prefetch_write(object.wrapping_add(line));
                line += 64;
            }
        };
        let mut rest = sessions.into_iter();
        rest.as_slice().iter().take(RELEASE_AHEAD).for_each(ask);
        while let Some(s) = rest.next() {
            if let Some(ahead) = rest.as_slice().get(RELEASE_AHEAD - 1) {
                ask(ahead);
            }
            // SAFETY: a live session; the offset came from the probe.
            unsafe { super::mark::store(s.as_ptr(), offset) };
            drop(s);
        }
    }
}

/// How many sessions ahead of its release a flushed session's memory is asked for.
const RELEASE_AHEAD: usize = 2;
/// How far past the flag a flushed session's memory is asked for: the object's end (240 bytes
/// after the flag in 3.0) and the lock allocated after it; asking beyond is harmless.
const RELEASE_SPAN: usize = 384;

impl RealSession {
    /// Marks through libssl's removal from the context being changed (mark.rs says when);
    /// the context and the flag for `on_remove` are set up once for a whole flush.
    fn mark_by_removal(sessions: &[Self]) {
        let real = &runtime().real;
        // SAFETY: live sessions. Not resumable already: libssl marked it before telling us
        // (its removal, its flush), or it has no id, which no removal marks.
        let resumable = |s: &&Self| unsafe { (real.SSL_SESSION_is_resumable)(s.as_ptr()) } != 0;
        let mut to_mark = sessions.iter().filter(resumable).peekable();
        if to_mark.peek().is_none() {
            return;
        }
        // Every engine call that evicts or flushes runs inside `with_context`; a removal that
        // `on_remove` or our `SSL_CTX_remove_session` makes does not, as libssl marked that
        // session already.
        let ctx = MARKING_CTX.get();
        if ctx.is_null() {
            return;
        }
        // libssl's removal from the context whose cache this is marks the session; the call
        // comes back to `on_remove`, which ignores it (libssl's internal cache, off, holds
        // nothing of ours but what ctx.rs puts there for libssl's own removals).
        without_callbacks(|| {
            for s in to_mark {
                // SAFETY: a live context (set by `with_context` for the call in progress) and
                // session.
                unsafe { (real.SSL_CTX_remove_session)(ctx, s.as_ptr()) };
            }
        });
    }
}

thread_local! {
    /// The real context whose engine this thread is changing (null: none).
    static MARKING_CTX: Cell<*mut SSL_CTX> = const { Cell::new(std::ptr::null_mut()) };
    /// Set while we call libssl only for its side effect on a session: the callbacks that call
    /// makes (`on_remove`) must not act.
    static OWN_CALL: Cell<bool> = const { Cell::new(false) };
}

/// Sets a thread-local cell for the length of `f` and restores it on the way out, panics
/// included; one thread-local access for both.
fn with_cell<T: Copy + 'static, R>(key: &'static std::thread::LocalKey<Cell<T>>, value: T, f: impl FnOnce() -> R) -> R {
    struct Restore<'a, T: Copy>(&'a Cell<T>, T);
    impl<T: Copy> Drop for Restore<'_, T> {
        fn drop(&mut self) {
            self.0.set(self.1);
        }
    }
    key.with(|cell| {
        let _restore = Restore(cell, cell.replace(value));
        f()
    })
}

/// Runs `f` (an engine call on the cache of `ctx`) so that the sessions it evicts or flushes
/// are marked not resumable through `ctx` itself: no other context, no library context needed.
/// Where the flag's place is known, marking is a store that needs no context, and every add
/// and lookup skips the thread-local round trip.
pub(crate) fn with_context<R>(ctx: *mut SSL_CTX, f: impl FnOnce() -> R) -> R {
    if super::mark::known_flag_offset().is_some() {
        return f();
    }
    with_cell(&MARKING_CTX, ctx, f)
}

/// Runs `f`, a call into libssl made only for its effect on a session or the internal list.
pub(crate) fn without_callbacks<R>(f: impl FnOnce() -> R) -> R {
    with_cell(&OWN_CALL, true, f)
}

/// True inside `without_callbacks`.
pub(crate) fn in_own_call() -> bool {
    OWN_CALL.get()
}
