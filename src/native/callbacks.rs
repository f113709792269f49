//! How the engine reaches a native context's application callbacks (new, remove, get) with
//! OpenSSL's reference-counting rules, and how they are set and read. The engine calls them
//! only after releasing its locks.

use std::ffi::c_int;

use super::ctx::Ctx;
use super::session::SessionRef;
use crate::abi::boundary::borrow;
use crate::abi::*;
use crate::engine::{Callbacks, GetCallback, HandshakeCallbacks, SessionKey};

/// A context's callbacks, bound to the connection on whose behalf the engine works. They are
/// read when a callback is due, not before: most adds call none.
pub(crate) struct CtxCallbacks<'a> {
    ctx: &'a Ctx,
    ssl: *mut SSL,
}

impl<'a> CtxCallbacks<'a> {
    pub(crate) fn new(ctx: &'a Ctx, ssl: *mut SSL) -> CtxCallbacks<'a> {
        CtxCallbacks { ctx, ssl }
    }
    fn app(&self) -> AppCallbacks {
        self.ctx.callbacks.snapshot()
    }
}

impl Callbacks<SessionRef> for CtxCallbacks<'_> {
    fn removed(&self, session: &SessionRef) {
        // SAFETY: live objects; the engine holds no lock now.
        unsafe { self.app().call_remove(self.ctx.as_ptr(), session.as_ptr()) };
    }
    fn calls_back_on_remove(&self) -> bool {
        self.app().remove_session.is_some()
    }
    fn added(&self, session: &SessionRef, _key: SessionKey) {
        session.object().set_owner(self.ctx);
    }
}

impl GetCallback<SessionRef> for CtxCallbacks<'_> {
    fn external_get(&self, id: &[u8]) -> Option<SessionRef> {
        // SAFETY: `ssl` is NULL or the live connection the lookup is for; natively a get
        // callback returns one of our sessions.
        unsafe { self.app().call_get(self.ssl, id) }
    }
}

impl HandshakeCallbacks<SessionRef> for CtxCallbacks<'_> {
    fn new_session(&self, session: &SessionRef) {
        if let Some(cb) = self.app().new_session {
            let given = session.clone().into_raw();
            // SAFETY: the application's callback with live objects. A callback returning 0
            // did not keep the reference it was given, which is ours to drop.
            unsafe {
                if cb(self.ssl, given) == 0 {
                    drop(SessionRef::from_owned(given));
                }
            }
        }
    }
}

/// Changes a context's callbacks.
///
/// # Safety
/// `ctx` is NULL or a live context, as every C entry point is promised.
pub(crate) unsafe fn set(ctx: *mut SSL_CTX, change: impl FnOnce(&mut AppCallbacks)) -> Option<()> {
    // SAFETY: the caller's promise.
    let ctx = unsafe { borrow(ctx)? };
    ctx.callbacks.update(change);
    Some(())
}

/// Reads a context's callbacks.
///
/// # Safety
/// As for `set`.
pub(crate) unsafe fn get<T>(ctx: *mut SSL_CTX, pick: impl FnOnce(&AppCallbacks) -> T) -> Option<T> {
    // SAFETY: as above.
    let ctx = unsafe { borrow(ctx)? };
    let cbs = ctx.callbacks.snapshot();
    Some(pick(&cbs))
}

/// `SSL_CTX_set_generate_session_id`: returns 1.
pub(crate) unsafe fn set_generate_session_id(ctx: *mut SSL_CTX, cb: GEN_SESSION_CB) -> Option<c_int> {
    // SAFETY: the module's contract.
    unsafe { set(ctx, |c| c.generate_id = cb) }.map(|_| 1)
}
