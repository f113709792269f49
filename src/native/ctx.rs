//! `SSL_CTX`: the context that owns a session cache; its life cycle, `SSL_CTX_ctrl`, the cache
//! settings, and the manipulation functions (add, remove, flush).

use std::ffi::{c_int, c_long, c_uchar, c_uint, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use super::callbacks::CtxCallbacks;
use super::der::DerCodec;
use super::method::Method;
use super::session::SessionRef;
use crate::abi::boundary::{arc_from_c, arc_to_c, borrow, to_c};
use crate::abi::*;
use crate::codec::session::ShortBytes;
use crate::engine::{Context, Counter};
use crate::obs::{self, Front, Observed, Snapshot};

/// A context. C holds it through `Arc` pointers, but counts its own references in `refs`:
/// the last `SSL_CTX_free` must flush the cache (with remove callbacks that receive this very
/// pointer) before the object goes, which an `Arc`'s own count cannot express.
pub struct Ctx {
    refs: AtomicUsize,
    me: Weak<Ctx>,
    pub(crate) method: &'static Method,
    pub(crate) cache: Context<SessionRef>,
    sid_ctx: Mutex<ShortBytes>,
    pub(crate) callbacks: CallbackSlots,
}

// SAFETY: every `SSL_CTX *` the native front hands out comes from `arc_to_c` in `new`.
unsafe impl Castable for SSL_CTX {
    type Native = Ctx;
    type Ownership = OwnedByArc;
}

/// The engine's counters in SSL_CTRL_SESS_CONNECT .. SSL_CTRL_SESS_CACHE_FULL order.
const COUNTERS: [Counter; 11] = Counter::ALL;

impl Ctx {
    /// The user callbacks, for calls made on behalf of connection `ssl` (may be NULL).
    pub(crate) fn callbacks_for(&self, ssl: *mut SSL) -> CtxCallbacks<'_> {
        CtxCallbacks::new(self, ssl)
    }
    pub(crate) fn as_ptr(&self) -> *mut SSL_CTX {
        to_c::<SSL_CTX>(self)
    }
    pub(crate) fn weak(&self) -> Weak<Ctx> {
        self.me.clone()
    }
    /// The live context at this address, if any: how a session's owner address is resolved.
    pub(crate) fn live(address: usize) -> Option<Arc<Ctx>> {
        obs::registry::find::<Ctx>(address)
    }
    pub(crate) fn sid_ctx(&self) -> ShortBytes {
        *self.sid_ctx.lock()
    }
    /// Takes one more C reference (SSL_CTX_up_ref, SSL_new).
    pub(crate) fn up_ref(&self) {
        self.refs.fetch_add(1, Ordering::Relaxed);
    }
    /// A statistic by its SSL_CTRL_SESS_* command.
    fn statistic(&self, cmd: c_int) -> i64 {
        match cmd {
            SSL_CTRL_SESS_NUMBER => self.cache.number(),
            _ => self.cache.counter(COUNTERS[(cmd - SSL_CTRL_SESS_CONNECT) as usize]),
        }
    }
    /// Drops one C reference; the last one flushes the cache and frees the context.
    ///
    /// # Safety
    /// `p` is NULL or a live context handle whose reference the caller gives up.
    pub(crate) unsafe fn release(p: *const SSL_CTX) {
        // SAFETY: the caller's promise.
        let Some(ctx) = (unsafe { borrow(p) }) else { return };
        if ctx.refs.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        // The report shows the cache as the application last saw it; the remove callback
        // may read the context's data: flush while it is whole.
        obs::report::retire(p as usize, ctx);
        ctx.cache.flush(0, &ctx.callbacks_for(std::ptr::null_mut()));
        obs::registry::unregister(p as usize);
        // SAFETY: the last C reference, which `new` made with `arc_to_c`.
        drop(unsafe { arc_from_c(p) });
    }
}

impl Observed for Ctx {
    fn snapshot(&self) -> Snapshot {
        Snapshot::from_ctrl(Front::Native, |cmd| self.statistic(cmd), self.cache.stored(), self.cache.served())
    }
}

// ---- life cycle ----

pub(crate) unsafe fn new(method: *const SSL_METHOD) -> Option<*mut SSL_CTX> {
    // SAFETY: `method` is NULL or one of our statics.
    let method = unsafe { borrow(method)? };
    let ctx = Arc::new_cyclic(|me| Ctx {
        refs: AtomicUsize::new(1),
        me: me.clone(),
        method,
        cache: Context::default(),
        sid_ctx: Mutex::new(ShortBytes::default()),
        callbacks: CallbackSlots::default(),
    });
    if let Some(remote) = crate::fleet::remote() {
        ctx.cache.attach_remote(remote, Box::new(DerCodec));
    }
    let weak: Weak<Ctx> = Arc::downgrade(&ctx);
    let p = arc_to_c::<SSL_CTX>(ctx);
    obs::registry::register(p as usize, weak);
    Some(p)
}

pub(crate) unsafe fn up_ref(ctx: *mut SSL_CTX) -> Option<c_int> {
    // SAFETY: the module's contract.
    unsafe { borrow(ctx)? }.up_ref();
    Some(1)
}

pub(crate) unsafe fn free(ctx: *mut SSL_CTX) -> Option<()> {
    // SAFETY: the caller gives up its reference.
    unsafe { Ctx::release(ctx) };
    Some(())
}

/// The cache's commands; any other command answers 0. No cache command takes a pointer.
pub(crate) unsafe fn ctrl(ctx: *mut SSL_CTX, cmd: c_int, larg: c_long, _parg: *mut c_void) -> Option<c_long> {
    // SAFETY: the module's contract.
    let ctx = unsafe { borrow(ctx)? };
    let cache = &ctx.cache;
    match cmd {
        SSL_CTRL_SESS_NUMBER..=SSL_CTRL_SESS_CACHE_FULL => Some(ctx.statistic(cmd) as c_long),
        SSL_CTRL_SET_SESS_CACHE_SIZE => Some(cache.set_cache_size(larg as i64) as c_long),
        SSL_CTRL_GET_SESS_CACHE_SIZE => Some(cache.cache_size() as c_long),
        SSL_CTRL_SET_SESS_CACHE_MODE => Some(cache.set_mode(larg as i64) as c_long),
        SSL_CTRL_GET_SESS_CACHE_MODE => Some(c_long::from(cache.mode().bits())),
        _ => Some(0),
    }
}

pub(crate) unsafe fn set_timeout(ctx: *mut SSL_CTX, t: c_long) -> Option<c_long> {
    // SAFETY: the module's contract.
    Some(unsafe { borrow(ctx)? }.cache.set_timeout(t as i64) as c_long)
}

pub(crate) unsafe fn get_timeout(ctx: *const SSL_CTX) -> Option<c_long> {
    // SAFETY: the module's contract.
    Some(unsafe { borrow(ctx)? }.cache.timeout() as c_long)
}

pub(crate) unsafe fn set_session_id_context(ctx: *mut SSL_CTX, sid_ctx: *const c_uchar, len: c_uint) -> Option<c_int> {
    // SAFETY: the module's contract: `len` bytes at `sid_ctx`.
    let value = ShortBytes::new(unsafe { bytes(sid_ctx, len as usize)? })?;
    // SAFETY: the module's contract.
    unsafe { borrow(ctx)? }.sid_ctx.lock().assign(value.as_slice());
    Some(1)
}

// ---- manipulation ----

pub(crate) unsafe fn flush(ctx: *mut SSL_CTX, t: c_long) -> Option<()> {
    // SAFETY: the module's contract.
    let ctx = unsafe { borrow(ctx)? };
    ctx.cache.flush(t as i64, &ctx.callbacks_for(std::ptr::null_mut()));
    Some(())
}

pub(crate) unsafe fn add_session(ctx: *mut SSL_CTX, s: *mut SSL_SESSION) -> Option<c_int> {
    // SAFETY: the module's contract.
    let (ctx, session) = unsafe { (borrow(ctx)?, SessionRef::from_borrowed(s)?) };
    Some(ctx.cache.add(session, now, &ctx.callbacks_for(std::ptr::null_mut())) as c_int)
}

pub(crate) unsafe fn remove_session(ctx: *mut SSL_CTX, s: *mut SSL_SESSION) -> Option<c_int> {
    // SAFETY: the module's contract.
    let (ctx, session) = unsafe { (borrow(ctx)?, SessionRef::from_borrowed(s)?) };
    Some(ctx.cache.remove(&session, &ctx.callbacks_for(std::ptr::null_mut())) as c_int)
}
