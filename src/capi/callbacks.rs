//! The external-cache callbacks (new, remove, get) and the session id generator: how they are
//! set and read, and how the engine reaches them with OpenSSL's reference-counting rules.
//! The engine calls them only after releasing its locks.

use std::ffi::{c_int, c_uchar, c_uint};

use super::ctx::SSL_CTX;
use super::session::{SessionRef, SSL_SESSION};
use super::ssl::SSL;
use super::{borrow, guard, guard_void};
use crate::engine::{GetCallback, HandshakeHooks, Hooks, SessionKey};

/// `int (*new_session_cb)(SSL *, SSL_SESSION *)`: returns 1 to keep the reference it is given.
pub type sesscache_new_session_cb = Option<unsafe extern "C" fn(*mut SSL, *mut SSL_SESSION) -> c_int>;
/// `void (*remove_session_cb)(SSL_CTX *, SSL_SESSION *)`.
pub type sesscache_remove_session_cb = Option<unsafe extern "C" fn(*mut SSL_CTX, *mut SSL_SESSION)>;
/// `SSL_SESSION *(*get_session_cb)(SSL *, const unsigned char *id, int len, int *copy)`.
pub type sesscache_get_session_cb =
    Option<unsafe extern "C" fn(*mut SSL, *const c_uchar, c_int, *mut c_int) -> *mut SSL_SESSION>;
/// OpenSSL's session id generator: fills `id` and may shorten `*id_len`; 1 on success.
pub type GEN_SESSION_CB = Option<unsafe extern "C" fn(*mut SSL, *mut c_uchar, *mut c_uint) -> c_int>;

#[derive(Clone, Copy, Default)]
pub(crate) struct Callbacks {
    pub(crate) new_session: sesscache_new_session_cb,
    pub(crate) remove_session: sesscache_remove_session_cb,
    pub(crate) get_session: sesscache_get_session_cb,
    pub(crate) generate_id: GEN_SESSION_CB,
}

/// A context's callbacks, bound to the connection on whose behalf the engine works. They are
/// read when a callback is due, not before: most adds call none.
pub(crate) struct CtxHooks<'a> {
    ctx: &'a SSL_CTX,
    ssl: *mut SSL,
}

impl<'a> CtxHooks<'a> {
    pub(crate) fn new(ctx: &'a SSL_CTX, ssl: *mut SSL) -> CtxHooks<'a> {
        CtxHooks { ctx, ssl }
    }
    fn callbacks(&self) -> Callbacks {
        *self.ctx.callbacks.read()
    }
}

impl Hooks<SessionRef> for CtxHooks<'_> {
    fn removed(&self, session: &SessionRef) {
        if let Some(cb) = self.callbacks().remove_session {
            // SAFETY: the application's callback, given live objects; it may call back in.
            unsafe { cb(self.ctx.as_ptr(), session.as_ptr()) };
        }
    }
    fn calls_back_on_remove(&self) -> bool {
        self.callbacks().remove_session.is_some()
    }
    fn added(&self, session: &SessionRef, _key: SessionKey) {
        session.object().set_owner(self.ctx);
    }
}

impl GetCallback<SessionRef> for CtxHooks<'_> {
    fn external_get(&self, id: &[u8]) -> Option<SessionRef> {
        let cb = self.callbacks().get_session?;
        let mut copy: c_int = 1;
        // SAFETY: as above; `id` outlives the call.
        let found = unsafe { cb(self.ssl, id.as_ptr(), id.len() as c_int, &mut copy) };
        // With copy set, the callback kept its reference and we take a new one; with copy
        // cleared, it handed us its reference.
        unsafe {
            if copy != 0 {
                SessionRef::from_borrowed(found)
            } else {
                SessionRef::from_owned(found)
            }
        }
    }
}

impl HandshakeHooks<SessionRef> for CtxHooks<'_> {
    fn new_session(&self, session: &SessionRef) {
        if let Some(cb) = self.callbacks().new_session {
            let given = session.clone().into_raw();
            // SAFETY: as above. A callback returning 0 did not keep the reference it was given.
            if unsafe { cb(self.ssl, given) } == 0 {
                unsafe { drop(SessionRef::from_owned(given)) };
            }
        }
    }
}

/// # Safety
/// `ctx` is NULL or a live context, as every C entry point is promised.
unsafe fn set(ctx: *mut SSL_CTX, change: impl FnOnce(&mut Callbacks)) -> Option<()> {
    // SAFETY: the caller's promise.
    let ctx = unsafe { borrow(ctx)? };
    change(&mut ctx.callbacks.write());
    Some(())
}

/// # Safety
/// As for `set`.
unsafe fn get<T>(ctx: *mut SSL_CTX, pick: impl FnOnce(&Callbacks) -> T) -> Option<T> {
    // SAFETY: as above.
    let ctx = unsafe { borrow(ctx)? };
    let cbs = *ctx.callbacks.read();
    Some(pick(&cbs))
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_sess_set_new_cb(ctx: *mut SSL_CTX, cb: sesscache_new_session_cb) {
    preload!(SSL_CTX_sess_set_new_cb(ctx, cb), (), |rt| crate::preload::ctx::set_new_cb(rt, ctx, cb));
    guard_void(|| set(ctx, |c| c.new_session = cb))
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_sess_get_new_cb(ctx: *mut SSL_CTX) -> sesscache_new_session_cb {
    preload!(SSL_CTX_sess_get_new_cb(ctx), None, |rt| crate::preload::ctx::get_new_cb(rt, ctx));
    guard(None, || get(ctx, |c| c.new_session))
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_sess_set_remove_cb(ctx: *mut SSL_CTX, cb: sesscache_remove_session_cb) {
    preload!(SSL_CTX_sess_set_remove_cb(ctx, cb), (), |rt| crate::preload::ctx::set_remove_cb(rt, ctx, cb));
    guard_void(|| set(ctx, |c| c.remove_session = cb))
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_sess_get_remove_cb(ctx: *mut SSL_CTX) -> sesscache_remove_session_cb {
    preload!(SSL_CTX_sess_get_remove_cb(ctx), None, |rt| crate::preload::ctx::get_remove_cb(rt, ctx));
    guard(None, || get(ctx, |c| c.remove_session))
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_sess_set_get_cb(ctx: *mut SSL_CTX, cb: sesscache_get_session_cb) {
    preload!(SSL_CTX_sess_set_get_cb(ctx, cb), (), |rt| crate::preload::ctx::set_get_cb(rt, ctx, cb));
    guard_void(|| set(ctx, |c| c.get_session = cb))
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_sess_get_get_cb(ctx: *mut SSL_CTX) -> sesscache_get_session_cb {
    preload!(SSL_CTX_sess_get_get_cb(ctx), None, |rt| crate::preload::ctx::get_get_cb(rt, ctx));
    guard(None, || get(ctx, |c| c.get_session))
}

/// The generator `sesscache_server_new_session` uses for new session ids. Returns 1.
#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_set_generate_session_id(ctx: *mut SSL_CTX, cb: GEN_SESSION_CB) -> c_int {
    preload!(SSL_CTX_set_generate_session_id(ctx, cb), 0, |rt| crate::preload::ctx::set_generate_session_id(
        rt, ctx, cb
    ));
    guard(0, || set(ctx, |c| c.generate_id = cb).map(|_| 1))
}
