//! `SSL_CTX`: the context that owns a session cache; its life cycle, `SSL_CTX_ctrl`, the cache
//! settings, and the manipulation functions (add, remove, flush).

use std::collections::BTreeMap;
use std::ffi::{c_char, c_int, c_long, c_uchar, c_uint, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use parking_lot::{Mutex, RwLock};

use super::callbacks::{Callbacks, CtxHooks};
use super::method::SSL_METHOD;
use super::session::{SessionRef, SSL_SESSION};
use super::ssl::SSL;
use super::{borrow, bytes, guard, guard_void, now};
use crate::engine::{Context, Counter};
use crate::session::ShortBytes;

pub const SSL_CTRL_SESS_NUMBER: c_int = 20;
pub const SSL_CTRL_SESS_CONNECT: c_int = 21;
pub const SSL_CTRL_SESS_CONNECT_GOOD: c_int = 22;
pub const SSL_CTRL_SESS_CONNECT_RENEGOTIATE: c_int = 23;
pub const SSL_CTRL_SESS_ACCEPT: c_int = 24;
pub const SSL_CTRL_SESS_ACCEPT_GOOD: c_int = 25;
pub const SSL_CTRL_SESS_ACCEPT_RENEGOTIATE: c_int = 26;
pub const SSL_CTRL_SESS_HIT: c_int = 27;
pub const SSL_CTRL_SESS_CB_HIT: c_int = 28;
pub const SSL_CTRL_SESS_MISSES: c_int = 29;
pub const SSL_CTRL_SESS_TIMEOUTS: c_int = 30;
pub const SSL_CTRL_SESS_CACHE_FULL: c_int = 31;
pub const SSL_CTRL_SET_SESS_CACHE_SIZE: c_int = 42;
pub const SSL_CTRL_GET_SESS_CACHE_SIZE: c_int = 43;
pub const SSL_CTRL_SET_SESS_CACHE_MODE: c_int = 44;
pub const SSL_CTRL_GET_SESS_CACHE_MODE: c_int = 45;

pub const SSL_SESS_CACHE_OFF: c_long = 0x0000;
pub const SSL_SESS_CACHE_CLIENT: c_long = 0x0001;
pub const SSL_SESS_CACHE_SERVER: c_long = 0x0002;
pub const SSL_SESS_CACHE_BOTH: c_long = 0x0003;
pub const SSL_SESS_CACHE_NO_AUTO_CLEAR: c_long = 0x0080;
pub const SSL_SESS_CACHE_NO_INTERNAL_LOOKUP: c_long = 0x0100;
pub const SSL_SESS_CACHE_NO_INTERNAL_STORE: c_long = 0x0200;
pub const SSL_SESS_CACHE_NO_INTERNAL: c_long = 0x0300;
pub const SSL_SESS_CACHE_UPDATE_TIME: c_long = 0x0400;

pub const SSL_MAX_SSL_SESSION_ID_LENGTH: c_int = 32;
pub const SSL_MAX_SID_CTX_LENGTH: c_int = 32;
pub const SSL_MAX_MASTER_KEY_LENGTH: c_int = 48;
pub const SSL_SESSION_CACHE_MAX_SIZE_DEFAULT: c_long = 1024 * 20;

pub const SSL3_VERSION: c_int = 0x0300;
pub const TLS1_VERSION: c_int = 0x0301;
pub const TLS1_1_VERSION: c_int = 0x0302;
pub const TLS1_2_VERSION: c_int = 0x0303;
pub const TLS1_3_VERSION: c_int = 0x0304;
pub const DTLS1_VERSION: c_int = 0xFEFF;
pub const DTLS1_2_VERSION: c_int = 0xFEFD;
pub const DTLS1_BAD_VER: c_int = 0x0100;

/// Every live context by address, for sessions that name their owner by address. Changed
/// only when a context is made or freed.
static LIVE: Mutex<BTreeMap<usize, Weak<SSL_CTX>>> = parking_lot::const_mutex(BTreeMap::new());

/// OpenSSL 3's library context (providers); opaque, and unused natively.
pub enum OSSL_LIB_CTX {}

/// A context. C holds it through `Arc` pointers, but counts its own references in `refs`:
/// the last `SSL_CTX_free` must flush the cache (with remove callbacks that receive this very
/// pointer) before the object goes, which an `Arc`'s own count cannot express.
pub struct SSL_CTX {
    refs: AtomicUsize,
    me: Weak<SSL_CTX>,
    pub(crate) method: &'static SSL_METHOD,
    pub(crate) cache: Context<SessionRef>,
    sid_ctx: Mutex<ShortBytes>,
    pub(crate) callbacks: RwLock<Callbacks>,
}

impl SSL_CTX {
    /// The user callbacks, for calls made on behalf of connection `ssl` (may be NULL).
    pub(crate) fn hooks(&self, ssl: *mut SSL) -> CtxHooks<'_> {
        CtxHooks::new(self, ssl)
    }
    pub(crate) fn as_ptr(&self) -> *mut SSL_CTX {
        self as *const SSL_CTX as *mut SSL_CTX
    }
    pub(crate) fn weak(&self) -> Weak<SSL_CTX> {
        self.me.clone()
    }
    /// The live context at this address, if any: how a session's owner address is resolved.
    pub(crate) fn live(address: usize) -> Option<Arc<SSL_CTX>> {
        LIVE.lock().get(&address).and_then(Weak::upgrade)
    }
    pub(crate) fn sid_ctx(&self) -> ShortBytes {
        *self.sid_ctx.lock()
    }
    /// Takes one more C reference (SSL_CTX_up_ref, SSL_new).
    pub(crate) fn up_ref(&self) {
        self.refs.fetch_add(1, Ordering::Relaxed);
    }
    /// Drops one C reference; the last one flushes the cache and frees the context.
    pub(crate) unsafe fn release(p: *const SSL_CTX) {
        let Some(ctx) = borrow(p) else { return };
        if ctx.refs.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        // The report shows the cache as the application last saw it; the remove callback
        // may read the context's data: flush while it is whole.
        crate::report::retire(ctx);
        ctx.cache.flush(0, &ctx.hooks(std::ptr::null_mut()));
        LIVE.lock().remove(&(p as usize));
        drop(Arc::from_raw(p));
    }
}

impl crate::report::Reported for SSL_CTX {
    fn mode(&self) -> &'static str {
        "native"
    }
    fn counts(&self) -> crate::report::Counts {
        let statistic = |cmd| match cmd {
            SSL_CTRL_SESS_NUMBER => self.cache.number(),
            _ => self.cache.counter(COUNTERS[(cmd - SSL_CTRL_SESS_CONNECT) as usize]),
        };
        crate::report::counts(statistic, self.cache.stored(), self.cache.served())
    }
}

/// The engine's counters in SSL_CTRL_SESS_CONNECT .. SSL_CTRL_SESS_CACHE_FULL order.
const COUNTERS: [Counter; 11] = Counter::ALL;

// ---- life cycle ----

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_new(method: *const SSL_METHOD) -> *mut SSL_CTX {
    // libssl's SSL_CTX_new is SSL_CTX_new_ex with no library context; calling that directly
    // keeps libssl's inner call from reaching our SSL_CTX_new_ex as well.
    preload!(SSL_CTX_new(method), std::ptr::null_mut(), |rt| {
        crate::preload::ctx::adopt(rt, (rt.real.SSL_CTX_new_ex)(std::ptr::null_mut(), std::ptr::null(), method))
    });
    guard(std::ptr::null_mut(), || {
        let method = borrow(method)?;
        let ctx = Arc::new_cyclic(|me| SSL_CTX {
            refs: AtomicUsize::new(1),
            me: me.clone(),
            method,
            cache: Context::default(),
            sid_ctx: Mutex::new(ShortBytes::default()),
            callbacks: RwLock::new(Callbacks::default()),
        });
        let weak: std::sync::Weak<SSL_CTX> = Arc::downgrade(&ctx);
        crate::report::register(weak.clone());
        let p = Arc::into_raw(ctx) as *mut SSL_CTX;
        LIVE.lock().insert(p as usize, weak);
        Some(p)
    })
}

/// OpenSSL 3's constructor with a library context and a property query, which choose
/// providers. Natively there are no providers, so it is `SSL_CTX_new`; preloaded, libssl's,
/// with the engine as its cache (OpenSSL's own tools make their contexts this way).
#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_new_ex(
    libctx: *mut OSSL_LIB_CTX,
    propq: *const c_char,
    method: *const SSL_METHOD,
) -> *mut SSL_CTX {
    preload!(SSL_CTX_new_ex(libctx, propq, method), std::ptr::null_mut(), |rt| {
        crate::preload::ctx::adopt(rt, (rt.real.SSL_CTX_new_ex)(libctx, propq, method))
    });
    SSL_CTX_new(method)
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_up_ref(ctx: *mut SSL_CTX) -> c_int {
    forward!(SSL_CTX_up_ref(ctx));
    guard(0, || {
        borrow(ctx)?.up_ref();
        Some(1)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_free(ctx: *mut SSL_CTX) {
    forward!(SSL_CTX_free(ctx));
    guard_void(|| {
        SSL_CTX::release(ctx);
        Some(())
    })
}

// ---- SSL_CTX_ctrl: the cache's commands; any other command answers 0 ----

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_ctrl(ctx: *mut SSL_CTX, cmd: c_int, larg: c_long, parg: *mut c_void) -> c_long {
    preload!(SSL_CTX_ctrl(ctx, cmd, larg, parg), 0, |rt| crate::preload::ctx::ctrl(rt, ctx, cmd, larg, parg));
    // No cache command takes a pointer argument.
    let _ = parg;
    guard(0, || {
        let cache = &borrow(ctx)?.cache;
        match cmd {
            SSL_CTRL_SESS_NUMBER => Some(cache.number() as c_long),
            SSL_CTRL_SESS_CONNECT..=SSL_CTRL_SESS_CACHE_FULL => {
                Some(cache.counter(COUNTERS[(cmd - SSL_CTRL_SESS_CONNECT) as usize]) as c_long)
            }
            SSL_CTRL_SET_SESS_CACHE_SIZE => Some(cache.set_cache_size(larg as i64) as c_long),
            SSL_CTRL_GET_SESS_CACHE_SIZE => Some(cache.cache_size() as c_long),
            SSL_CTRL_SET_SESS_CACHE_MODE => Some(cache.set_mode(larg as i64) as c_long),
            SSL_CTRL_GET_SESS_CACHE_MODE => Some(c_long::from(cache.mode().bits())),
            _ => Some(0),
        }
    })
}

// ---- settings (macros over SSL_CTX_ctrl in OpenSSL, functions here) ----

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_set_session_cache_mode(ctx: *mut SSL_CTX, mode: c_long) -> c_long {
    SSL_CTX_ctrl(ctx, SSL_CTRL_SET_SESS_CACHE_MODE, mode, std::ptr::null_mut())
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_get_session_cache_mode(ctx: *mut SSL_CTX) -> c_long {
    SSL_CTX_ctrl(ctx, SSL_CTRL_GET_SESS_CACHE_MODE, 0, std::ptr::null_mut())
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_sess_set_cache_size(ctx: *mut SSL_CTX, size: c_long) -> c_long {
    SSL_CTX_ctrl(ctx, SSL_CTRL_SET_SESS_CACHE_SIZE, size, std::ptr::null_mut())
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_sess_get_cache_size(ctx: *mut SSL_CTX) -> c_long {
    SSL_CTX_ctrl(ctx, SSL_CTRL_GET_SESS_CACHE_SIZE, 0, std::ptr::null_mut())
}

/// Returns the previous timeout. Any value is stored; a new session takes it (negative
/// becomes 0) unless it is 0, when the method's default applies.
#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_set_timeout(ctx: *mut SSL_CTX, t: c_long) -> c_long {
    forward!(SSL_CTX_set_timeout(ctx, t));
    guard(0, || Some(borrow(ctx)?.cache.set_timeout(t as i64) as c_long))
}

#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_get_timeout(ctx: *const SSL_CTX) -> c_long {
    forward!(SSL_CTX_get_timeout(ctx));
    guard(0, || Some(borrow(ctx)?.cache.timeout() as c_long))
}

/// At most 32 bytes; connections made afterwards start with it.
#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_set_session_id_context(
    ctx: *mut SSL_CTX,
    sid_ctx: *const c_uchar,
    len: c_uint,
) -> c_int {
    forward!(SSL_CTX_set_session_id_context(ctx, sid_ctx, len));
    guard(0, || {
        let value = ShortBytes::new(bytes(sid_ctx, len as usize)?)?;
        borrow(ctx)?.sid_ctx.lock().assign(value.as_slice());
        Some(1)
    })
}

// ---- manipulation ----

/// Removes the sessions timed out at time `t` (every session for 0), firing the remove
/// callback for each, oldest expiry first.
#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_flush_sessions(ctx: *mut SSL_CTX, t: c_long) {
    preload!(SSL_CTX_flush_sessions(ctx, t), (), |rt| crate::preload::ctx::flush(rt, ctx, t));
    guard_void(|| {
        let ctx = borrow(ctx)?;
        ctx.cache.flush(t as i64, &ctx.hooks(std::ptr::null_mut()));
        Some(())
    })
}

/// 1 when the session is newly cached, 0 when this very session already was.
#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_add_session(ctx: *mut SSL_CTX, s: *mut SSL_SESSION) -> c_int {
    preload!(SSL_CTX_add_session(ctx, s), 0, |rt| crate::preload::ctx::add_session(rt, ctx, s));
    guard(0, || {
        let ctx = borrow(ctx)?;
        let session = SessionRef::from_borrowed(s)?;
        Some(ctx.cache.add(session, now, &ctx.hooks(std::ptr::null_mut())) as c_int)
    })
}

/// 1 when a session with this one's key was cached and is now removed.
#[no_mangle]
pub unsafe extern "C" fn SSL_CTX_remove_session(ctx: *mut SSL_CTX, s: *mut SSL_SESSION) -> c_int {
    preload!(SSL_CTX_remove_session(ctx, s), 0, |rt| crate::preload::ctx::remove_session(rt, ctx, s));
    guard(0, || {
        let ctx = borrow(ctx)?;
        let session = SessionRef::from_borrowed(s)?;
        Some(ctx.cache.remove(&session, &ctx.hooks(std::ptr::null_mut())) as c_int)
    })
}

/// The pre-1.0 name of `SSL_CTX_add_session`.
#[no_mangle]
pub unsafe extern "C" fn SSL_add_session(ctx: *mut SSL_CTX, s: *mut SSL_SESSION) -> c_int {
    SSL_CTX_add_session(ctx, s)
}

/// The pre-1.0 name of `SSL_CTX_remove_session`.
#[no_mangle]
pub unsafe extern "C" fn SSL_remove_session(ctx: *mut SSL_CTX, s: *mut SSL_SESSION) -> c_int {
    SSL_CTX_remove_session(ctx, s)
}
