//! A libssl context with our engine as its session cache.
//!
//! libssl's own cache is switched off on the real context (SSL_SESS_CACHE_NO_INTERNAL) and
//! three trampolines are installed as its external-cache callbacks:
//! - `on_get` answers libssl's lookups from the engine (with the fleet tier, when the process
//!   has one: the engine's lookup asks it after a miss, and libssl's d2i makes the session),
//!   then from the application's get callback, as libssl's internal lookup would;
//! - `on_new` stores what libssl would have stored (publishing a server's to the fleet, in
//!   libssl's i2d), then offers the session to the application's new-session callback;
//! - `on_remove` is reached whenever libssl removes a session (expired, failed connection,
//!   fatal alert): the engine drops it (and the fleet forgets it) and the application's remove
//!   callback runs. Our own `SSL_CTX_remove_session` calls libssl's only to mark the session,
//!   then does the same.
//!
//! The application's mode, size and callbacks live here; libssl sees only the bits that steer
//! its handshake (CLIENT, SERVER, NO_AUTO_CLEAR).
//!
//! Two of libssl's internal calls need the internal cache, and a libssl linked with -Bsymbolic
//! never lets them reach our exports, so both are covered through the internal list itself:
//! - TLS 1.3 anti-replay: a server that accepts early data removes the session it resumes with
//!   its own `SSL_CTX_remove_session` and takes 0 as a replay. `on_get` puts such a session in
//!   libssl's internal list just before handing it over, so that removal finds it (and calls
//!   `on_remove`, where the engine drops it), whichever function the call reaches.
//! - the automatic flush every 255 handshakes (ssl_update_cache): each context keeps one
//!   expired sentinel session in the internal list. libssl's own flush removes it (`on_remove`
//!   notes that) and frees it once its lock is released; the sentinel's ex_data free callback
//!   then flushes the engine. When the flush reaches our export instead, the engine is flushed
//!   there and the sentinel stays: one flush either way.

use std::ffi::{c_char, c_int, c_long, c_uchar, c_uint, c_void};
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::sync::{Arc, Weak};

use once_cell::sync::OnceCell;

use super::session::{in_own_call, with_context, without_callbacks, RealCodec, RealSession};
use super::Runtime;
use crate::abi::*;
use crate::engine::{
    CacheMode, Callbacks, Context, Counter, GetCallback, Handle, HandshakeSession, Session, SessionKey,
};
use crate::obs::{self, Front, Observed, Snapshot};

/// A real context's engine state: the application's mode, size and callbacks (which libssl
/// never sees) and the engine that is its cache.
pub struct PreloadCtx {
    rt: &'static Runtime,
    /// The real context, as an address (it outlives this state: freed only after its ex_data).
    ctx: usize,
    engine: Context<RealSession>,
    /// The application's callbacks; `generate_id` only where libssl's own
    /// SSL_has_matching_session_id never reaches us (`on_generate`).
    callbacks: CallbackSlots,
    /// The auto-flush sentinel in libssl's internal list, or null while there is none.
    sentinel: AtomicPtr<SSL_SESSION>,
    /// Set once `on_get` has put a session in libssl's internal list for the anti-replay
    /// removal: from then on our removal goes through libssl's, which takes it out.
    lent_to_internal_list: AtomicBool,
    /// Whether the fleet's ticket keys serve this context (tickets.rs).
    pub(super) tickets: super::tickets::CtxTickets,
}

/// A sentinel's ex_data: whose it is, and whether libssl's flush took it out.
struct Sentinel {
    ctx: Weak<PreloadCtx>,
    flushed: AtomicBool,
}

/// The sentinel's id; its protocol version stays 0, so it never equals a real session.
const SENTINEL_ID: &[u8; 32] = b"sesscache: libssl's auto flush. ";

/// The application's callbacks, bound to the real context and, for lookups, the connection.
struct BoundCallbacks {
    ctx: *mut SSL_CTX,
    ssl: *mut SSL,
    app: AppCallbacks,
}

impl Callbacks<RealSession> for BoundCallbacks {
    fn removed(&self, session: &RealSession) {
        // SAFETY: live objects; the engine holds no lock now.
        unsafe { self.app.call_remove(self.ctx, session.as_ptr()) };
    }
    fn calls_back_on_remove(&self) -> bool {
        self.app.remove_session.is_some()
    }
}

impl GetCallback<RealSession> for BoundCallbacks {
    fn external_get(&self, id: &[u8]) -> Option<RealSession> {
        // SAFETY: `ssl` is the live connection libssl is looking up for; the application's
        // callback returns one of libssl's sessions or NULL.
        unsafe { self.app.call_get(self.ssl, id) }
    }
}

impl PreloadCtx {
    pub(super) fn real_ctx(&self) -> *mut SSL_CTX {
        self.ctx as *mut SSL_CTX
    }
    fn callbacks(&self) -> BoundCallbacks {
        self.callbacks_for(std::ptr::null_mut())
    }
    fn callbacks_for(&self, ssl: *mut SSL) -> BoundCallbacks {
        BoundCallbacks { ctx: self.real_ctx(), ssl, app: self.callbacks.snapshot() }
    }
    fn real_ctrl(&self, cmd: c_int, larg: c_long) -> c_long {
        // SAFETY: the real context is alive while this state is.
        unsafe { (self.rt.real.SSL_CTX_ctrl)(self.real_ctx(), cmd, larg, std::ptr::null_mut()) }
    }

    /// A statistic as plain libssl would answer it. libssl's handshake counters are right as
    /// they are; the cache's own come from the engine; libssl counts client-side misses while
    /// the engine counts the server's lookups that found nothing.
    fn statistic(&self, cmd: c_int) -> c_long {
        match cmd {
            SSL_CTRL_SESS_NUMBER => self.engine.number() as c_long,
            SSL_CTRL_SESS_CB_HIT => self.engine.counter(Counter::CbHit) as c_long,
            SSL_CTRL_SESS_CACHE_FULL => self.engine.counter(Counter::CacheFull) as c_long,
            SSL_CTRL_SESS_MISSES => self.real_ctrl(cmd, 0) + self.engine.counter(Counter::Miss) as c_long,
            _ => self.real_ctrl(cmd, 0),
        }
    }

    /// libssl sees the application's CLIENT, SERVER and NO_AUTO_CLEAR bits, never its own
    /// internal lookup or store, nor UPDATE_TIME (the engine applies it; libssl would re-stamp
    /// the sessions we put in its internal list).
    fn apply_mode(&self, mode: u32) {
        let internal = CacheMode::NO_INTERNAL.bits();
        let real_mode = (mode & !internal & !CacheMode::UPDATE_TIME.bits()) | internal;
        self.real_ctrl(SSL_CTRL_SET_SESS_CACHE_MODE, c_long::from(real_mode));
    }

    fn add(&self, session: RealSession) -> bool {
        with_context(self.real_ctx(), || self.engine.add(session, now, &self.callbacks()))
    }
    fn flush(&self, t: i64) {
        with_context(self.real_ctx(), || self.engine.flush(t, &self.callbacks()))
    }

    /// `SSL_CTX_add_session` of libssl's own, into its internal list; the internal calls it
    /// makes (the cache size and number) get libssl's answers, and nothing is stamped.
    ///
    /// # Safety
    /// `s` is a live libssl session.
    unsafe fn add_internally(&self, s: *mut SSL_SESSION) -> bool {
        // SAFETY: the real context is alive while this state is; `s` is a live session.
        without_callbacks(|| unsafe { (self.rt.real.SSL_CTX_add_session)(self.real_ctx(), s) }) != 0
    }

    /// Puts an expired sentinel session in libssl's internal list unless one is there: when
    /// libssl's own flush runs on this context, it takes the sentinel out and we learn of it.
    fn arm_auto_flush(&self) {
        let real = &self.rt.real;
        if self.rt.session_index() < 0 || !self.sentinel.load(Ordering::Acquire).is_null() {
            return;
        }
        // SAFETY: every state lives in an Arc (made in `adopt`), alive while we are called.
        let this = unsafe {
            Arc::increment_strong_count(self as *const Self);
            Arc::from_raw(self as *const Self)
        };
        // SAFETY: real functions on a session we just made; libssl frees it (and its ex_data,
        // through `on_sentinel_free`) when the last reference goes.
        unsafe {
            let s = (real.SSL_SESSION_new)();
            if s.is_null() {
                return;
            }
            // Expired at any time a flush can name.
            (real.SSL_SESSION_set_time)(s, 1);
            let data =
                Box::into_raw(Box::new(Sentinel { ctx: Arc::downgrade(&this), flushed: AtomicBool::new(false) }));
            if (real.SSL_SESSION_set1_id)(s, SENTINEL_ID.as_ptr(), SENTINEL_ID.len() as c_uint) == 0
                || (real.SSL_SESSION_set_ex_data)(s, self.rt.session_index(), data as *mut c_void) == 0
            {
                drop(Box::from_raw(data));
                (real.SSL_SESSION_free)(s);
                return;
            }
            let armed =
                self.sentinel.compare_exchange(std::ptr::null_mut(), s, Ordering::AcqRel, Ordering::Acquire).is_ok()
                    && self.add_internally(s);
            if !armed {
                // Only compared, never used: `s` may be freed just below.
                let _ = self.sentinel.compare_exchange(s, std::ptr::null_mut(), Ordering::AcqRel, Ordering::Acquire);
            }
            // The internal list holds its own reference.
            (real.SSL_SESSION_free)(s);
        }
    }
}

impl Observed for PreloadCtx {
    fn snapshot(&self) -> Snapshot {
        Snapshot::from_ctrl(
            Front::Preload,
            |cmd| self.statistic(cmd) as i64,
            self.engine.stored(),
            self.engine.served(),
        )
    }
}

/// The engine state of a real context, if it was made by our `SSL_CTX_new`. Borrowed, not
/// counted: the slot's reference lasts until libssl frees the context, and the caller is using
/// the context (counting would make every call write one shared cache line).
///
/// # Safety
/// `ctx` is NULL or a live libssl context, used by the caller for `'a`.
pub unsafe fn state<'a>(rt: &'static Runtime, ctx: *const SSL_CTX) -> Option<&'a PreloadCtx> {
    if ctx.is_null() {
        return None;
    }
    // SAFETY: a live real context; the slot holds an `Arc` pointer we put there, or NULL.
    unsafe { ((rt.real.SSL_CTX_get_ex_data)(ctx, rt.ctx_index) as *const PreloadCtx).as_ref() }
}

/// The context whose cache serves a connection: libssl's session context, the one the
/// connection was made with, which `SSL_set_SSL_CTX` (a servername callback choosing a virtual
/// host) leaves alone; libssl looks sessions up, stores them, runs the cache callbacks and
/// counts in it. libssl has no getter for it, so our `SSL_new` records it; a connection made
/// where we could not record it (libssl's own internal SSL_new) is on it until moved.
///
/// # Safety
/// `ssl` is a live libssl connection.
pub(super) unsafe fn state_of_ssl<'a>(rt: &'static Runtime, ssl: *const SSL) -> Option<&'a PreloadCtx> {
    // SAFETY: a live real connection, and so a live session context.
    unsafe { state(rt, session_ctx(rt, ssl)) }
}

/// The SSL ex_data slot that holds the context a connection was made with (registered at the
/// first connection on one of our contexts; -1 when libssl had no slot to give).
static SESSION_CTX_INDEX: OnceCell<c_int> = OnceCell::new();

/// # Safety
/// `ssl` is a live libssl connection.
unsafe fn session_ctx(rt: &'static Runtime, ssl: *const SSL) -> *mut SSL_CTX {
    // SAFETY: real accessors on a live connection; the slot holds a context pointer or NULL.
    unsafe {
        if let Some(&idx) = SESSION_CTX_INDEX.get().filter(|&&i| i >= 0) {
            let recorded = (rt.real.SSL_get_ex_data)(ssl, idx) as *mut SSL_CTX;
            if !recorded.is_null() {
                return recorded;
            }
        }
        (rt.real.SSL_get_SSL_CTX)(ssl)
    }
}

/// `SSL_new`: libssl's, then, on a context of ours, a note of the context in the connection's
/// slot. No reference is taken: libssl holds one on its session context until `SSL_free`,
/// which frees the slots before it drops that reference.
pub unsafe fn new_ssl(rt: &'static Runtime, ctx: *mut SSL_CTX) -> Option<*mut SSL> {
    // SAFETY: libssl's SSL_new with the caller's argument.
    let ssl = unsafe { (rt.real.SSL_new)(ctx) };
    // SAFETY: `ctx` is live: libssl just made a connection on it.
    if ssl.is_null() || unsafe { state(rt, ctx) }.is_none() {
        return Some(ssl);
    }
    // A forked worker's stats socket: one relaxed load once it runs.
    obs::socket::ensure_started();
    let idx = *SESSION_CTX_INDEX.get_or_init(|| {
        // SAFETY: registers a dup callback for SSL ex_data, as any application may.
        unsafe {
            (rt.real.CRYPTO_get_ex_new_index)(
                super::real::CRYPTO_EX_INDEX_SSL,
                0,
                std::ptr::null_mut(),
                None,
                Some(on_ssl_dup),
                None,
            )
        }
    });
    if idx >= 0 {
        // SAFETY: a connection libssl just made; on failure it keeps no note and is served by
        // the context it is in.
        unsafe { (rt.real.SSL_set_ex_data)(ssl, idx, ctx as *mut c_void) };
    }
    Some(ssl)
}

/// `SSL_dup` copies a connection's slots into a connection made on the original's current
/// context, which is the copy's session context: keep what our `SSL_new` noted for the copy
/// (NULL if libssl made it without us), never the original's note.
unsafe extern "C" fn on_ssl_dup(
    to: *mut CRYPTO_EX_DATA,
    _from: *const CRYPTO_EX_DATA,
    value: *mut *mut c_void,
    idx: c_int,
    _argl: c_long,
    _argp: *mut c_void,
) -> c_int {
    // SAFETY: libcrypto passes the copy's ex_data and a pointer to the value being copied.
    unsafe {
        if let (Some(rt), Some(value)) = (runtime(), value.as_mut()) {
            *value = (rt.real.CRYPTO_get_ex_data)(to, idx);
        }
    }
    1
}

// ---- the preload versions of the exported cache functions ----
//
// Each has the contract of the OpenSSL function it stands for: every handle is NULL or a live
// libssl object, every buffer holds the length given with it.

/// `SSL_CTX_new`: libssl's SSL_CTX_new is SSL_CTX_new_ex with no library context; calling that
/// directly keeps libssl's inner call from reaching our SSL_CTX_new_ex as well.
pub unsafe fn new(rt: &'static Runtime, method: *const SSL_METHOD) -> Option<*mut SSL_CTX> {
    // SAFETY: libssl's constructor with the caller's method.
    unsafe {
        adopt(
            rt,
            (rt.real.SSL_CTX_new_ex)(std::ptr::null_mut(), std::ptr::null(), method),
            std::ptr::null_mut(),
            std::ptr::null(),
        )
    }
}

/// `SSL_CTX_new_ex`: libssl's, with the engine as its cache.
pub unsafe fn new_ex(
    rt: &'static Runtime,
    libctx: *mut OSSL_LIB_CTX,
    propq: *const c_char,
    method: *const SSL_METHOD,
) -> Option<*mut SSL_CTX> {
    // SAFETY: libssl's constructor with the caller's arguments.
    unsafe { adopt(rt, (rt.real.SSL_CTX_new_ex)(libctx, propq, method), libctx, propq) }
}

/// Gives a context libssl just made its engine, once, and the fleet's ticket keys.
///
/// # Safety
/// `ctx` is NULL or a live libssl context made with `libctx` and `propq`.
unsafe fn adopt(
    rt: &'static Runtime,
    ctx: *mut SSL_CTX,
    libctx: *mut OSSL_LIB_CTX,
    propq: *const c_char,
) -> Option<*mut SSL_CTX> {
    let real = &rt.real;
    // SAFETY: real functions on the context libssl just returned.
    unsafe {
        if ctx.is_null() {
            super::probe_reached();
            return Some(ctx);
        }
        if state(rt, ctx).is_some() {
            return Some(ctx);
        }
        let state = Arc::new(PreloadCtx {
            rt,
            ctx: ctx as usize,
            engine: Context::default(),
            callbacks: CallbackSlots::default(),
            sentinel: AtomicPtr::new(std::ptr::null_mut()),
            lent_to_internal_list: AtomicBool::new(false),
            tickets: Default::default(),
        });
        // The slot owns one reference; `on_ctx_free` takes it back. Without the slot the
        // context keeps libssl's own cache, untouched.
        let slot = Arc::into_raw(Arc::clone(&state));
        if (real.SSL_CTX_set_ex_data)(ctx, rt.ctx_index, slot as *mut c_void) == 0 {
            drop(Arc::from_raw(slot));
            return Some(ctx);
        }
        if let Some(remote) = crate::fleet::remote() {
            state.engine.attach_remote(remote, Box::new(RealCodec));
        }
        state.apply_mode(state.engine.mode().bits());
        (real.SSL_CTX_sess_set_new_cb)(ctx, Some(on_new));
        (real.SSL_CTX_sess_set_remove_cb)(ctx, Some(on_remove));
        (real.SSL_CTX_sess_set_get_cb)(ctx, Some(on_get));
        super::mark::find_flag(rt, ctx);
        state.tickets.install(rt, ctx, libctx, propq);
        let weak: Weak<PreloadCtx> = Arc::downgrade(&state);
        obs::registry::register(ctx as usize, weak);
        state.arm_auto_flush();
        Some(ctx)
    }
}

pub unsafe fn ctrl(
    rt: &'static Runtime,
    ctx: *mut SSL_CTX,
    cmd: c_int,
    larg: c_long,
    parg: *mut c_void,
) -> Option<c_long> {
    // SAFETY: the contract above.
    let Some(st) = (unsafe { state(rt, ctx) }).filter(|_| !in_own_call()) else {
        // SAFETY: not a context of ours: libssl answers.
        return Some(unsafe { (rt.real.SSL_CTX_ctrl)(ctx, cmd, larg, parg) });
    };
    Some(match cmd {
        SSL_CTRL_SESS_NUMBER..=SSL_CTRL_SESS_CACHE_FULL => st.statistic(cmd),
        SSL_CTRL_SET_SESS_CACHE_SIZE => st.engine.set_cache_size(larg as i64) as c_long,
        SSL_CTRL_GET_SESS_CACHE_SIZE => st.engine.cache_size() as c_long,
        SSL_CTRL_SET_SESS_CACHE_MODE => {
            let previous = st.engine.set_mode(larg as i64);
            st.apply_mode(larg as u32);
            previous as c_long
        }
        SSL_CTRL_GET_SESS_CACHE_MODE => c_long::from(st.engine.mode().bits()),
        super::tickets::SSL_CTRL_SET_TLSEXT_TICKET_KEYS => {
            // SAFETY: our state of this live context; then libssl takes the keys.
            unsafe {
                super::tickets::keys_set(&st.tickets, rt, ctx, parg);
                (rt.real.SSL_CTX_ctrl)(ctx, cmd, larg, parg)
            }
        }
        // SAFETY: every other command is libssl's.
        _ => unsafe { (rt.real.SSL_CTX_ctrl)(ctx, cmd, larg, parg) },
    })
}

pub unsafe fn add_session(rt: &'static Runtime, ctx: *mut SSL_CTX, s: *mut SSL_SESSION) -> Option<c_int> {
    // SAFETY: the contract above.
    let Some(st) = (unsafe { state(rt, ctx) }) else {
        // SAFETY: not ours: libssl's cache.
        return Some(unsafe { (rt.real.SSL_CTX_add_session)(ctx, s) });
    };
    // SAFETY: `s` is NULL or a live session.
    Some(unsafe { RealSession::borrowed(s) }.is_some_and(|s| st.add(s)) as c_int)
}

/// libssl's own removal marks the session not resumable (only libssl can); the engine's
/// removal and the application's remove callback follow, as `on_remove` does for the removals
/// libssl makes itself. The context's state is found once, and `on_remove` is told to ignore
/// this call, so the engine's answer comes back without a thread-local round trip.
pub unsafe fn remove_session(rt: &'static Runtime, ctx: *mut SSL_CTX, s: *mut SSL_SESSION) -> Option<c_int> {
    // SAFETY: the contract above.
    let st = unsafe { state(rt, ctx) };
    let (Some(st), false) = (st, s.is_null()) else {
        // SAFETY: not ours (libssl's cache), or no session: real function, which checks its
        // arguments as OpenSSL does.
        return Some(unsafe { (rt.real.SSL_CTX_remove_session)(ctx, s) });
    };
    // With the flag's place known (mark.rs), the engine's removal marks the session with one
    // store. Otherwise, or where `on_get` may have left the session in libssl's internal list,
    // libssl's removal marks it (when it has an id), takes it out of that list, and calls
    // `on_remove`, which ignores it.
    // The key's lines are read first, once this preamble is over, and the mark writes the
    // flag's after the lookup: asked for now, their misses overlap the preamble and each
    // other (BENCHMARKS.md, "Overlapping the misses").
    super::session::prefetch_key(s);
    let flag = super::mark::known_flag_offset();
    if let Some(offset) = flag {
        crate::hint::prefetch_write(s.cast::<u8>().wrapping_add(offset));
    }
    if flag.is_none() || st.lent_to_internal_list.load(Ordering::Relaxed) {
        // SAFETY: real function on a live context and session.
        without_callbacks(|| unsafe { (rt.real.SSL_CTX_remove_session)(ctx, s) });
    }
    // The caller's reference lasts through this call, and the engine only looks at the
    // handle: no reference of our own.
    // SAFETY: a live session; the handle is never dropped, so it gives nothing back.
    let session = std::mem::ManuallyDrop::new(unsafe { RealSession::owned(s)? });
    Some(c_int::from(st.engine.remove(&session, &st.callbacks())))
}

pub unsafe fn flush(rt: &'static Runtime, ctx: *mut SSL_CTX, t: c_long) -> Option<()> {
    // SAFETY: the contract above.
    match unsafe { state(rt, ctx) } {
        Some(st) => st.flush(t as i64),
        // SAFETY: not ours: libssl's cache.
        None => unsafe { (rt.real.SSL_CTX_flush_sessions)(ctx, t) },
    }
    Some(())
}

pub unsafe fn has_matching_session_id(
    rt: &'static Runtime,
    ssl: *const SSL,
    id: *const c_uchar,
    len: c_uint,
) -> Option<c_int> {
    // SAFETY: the contract above.
    let Some(st) = (unsafe { state_of_ssl(rt, ssl) }) else {
        // SAFETY: not ours: libssl's cache.
        return Some(unsafe { (rt.real.SSL_has_matching_session_id)(ssl, id, len) });
    };
    if len as usize > 32 || (id.is_null() && len > 0) {
        return Some(0);
    }
    // SAFETY: `len` bytes at `id`, checked above; a live connection.
    let (id, version) = unsafe { (bytes(id, len as usize)?, (rt.real.SSL_version)(ssl)) };
    Some(SessionKey::new(version, id).is_some_and(|k| st.engine.contains(&k)) as c_int)
}

/// `SSL_SESSION_set_time`: libssl's, then the session moves in whichever engine caches it.
pub unsafe fn set_time(rt: &'static Runtime, s: *mut SSL_SESSION, t: c_long) -> Option<c_long> {
    // SAFETY: real function with the caller's arguments.
    let r = unsafe { (rt.real.SSL_SESSION_set_time)(s, t) };
    // SAFETY: `s` is NULL or a live session.
    unsafe { retimed(s) };
    Some(r)
}

/// `SSL_SESSION_set_timeout`: as `set_time`.
pub unsafe fn set_timeout(rt: &'static Runtime, s: *mut SSL_SESSION, t: c_long) -> Option<c_long> {
    // SAFETY: real function with the caller's arguments.
    let r = unsafe { (rt.real.SSL_SESSION_set_timeout)(s, t) };
    // SAFETY: `s` is NULL or a live session.
    unsafe { retimed(s) };
    Some(r)
}

/// After libssl changed a session's time or timeout: move it in whichever engine caches it.
///
/// # Safety
/// `s` is NULL or a live libssl session.
unsafe fn retimed(s: *mut SSL_SESSION) {
    // SAFETY: the caller's promise.
    let Some(session) = (unsafe { RealSession::borrowed(s) }) else { return };
    let (key, expiry) = (session.key(), session.expiry());
    for st in obs::registry::all::<PreloadCtx>() {
        st.engine.reposition(&key, &session, expiry);
    }
}

/// The application's session-id generator. libssl checks each id it returns against the cache
/// with its own SSL_has_matching_session_id; a libssl linked -Bsymbolic keeps that call to
/// itself, where it finds nothing, so there `on_generate` stands in for the generator and makes
/// the check against the engine. Elsewhere libssl keeps the generator and its call reaches us.
pub unsafe fn set_generate_session_id(rt: &'static Runtime, ctx: *mut SSL_CTX, cb: GEN_SESSION_CB) -> Option<c_int> {
    // SAFETY: the contract above.
    let installed = match unsafe { state(rt, ctx) } {
        Some(st) if !rt.libssl_calls_reach_us() => {
            st.callbacks.update(|c| c.generate_id = cb);
            cb.and(Some(on_generate as unsafe extern "C" fn(*mut SSL, *mut c_uchar, *mut c_uint) -> c_int))
        }
        _ => cb,
    };
    // SAFETY: libssl's own setter.
    Some(unsafe { (rt.real.SSL_CTX_set_generate_session_id)(ctx, installed) })
}

/// The application's generator, then libssl's conflict check against the engine: an id the
/// cache holds fails the generator, and libssl fails the handshake as it does on a conflict.
unsafe extern "C" fn on_generate(ssl: *mut SSL, id: *mut c_uchar, len: *mut c_uint) -> c_int {
    guard(0, || {
        let rt = runtime()?;
        // SAFETY: libssl calls with its live connection.
        let st = unsafe { state_of_ssl(rt, ssl)? };
        let cb = st.callbacks.snapshot().generate_id?;
        // SAFETY: the application's generator with libssl's buffer and its length.
        let made = unsafe { cb(ssl, id, len) };
        // libssl rejects a length of 0 or beyond its buffer itself, before the conflict check.
        // SAFETY: `len` is NULL or libssl's length.
        let n = unsafe { len.as_ref() }.map_or(0, |&l| l as usize);
        if made == 0 || n == 0 || n > 32 || id.is_null() {
            return Some(made);
        }
        // SAFETY: the generator filled `n` bytes of libssl's buffer; a live connection.
        let (id, version) = unsafe { (bytes(id, n)?, (rt.real.SSL_version)(ssl)) };
        let key = SessionKey::new(version, id)?;
        Some(if st.engine.contains(&key) { 0 } else { made })
    })
}

macro_rules! app_callback {
    ($set:ident, $get:ident, $field:ident, $ty:ty, $real_set:ident, $real_get:ident) => {
        pub unsafe fn $set(rt: &'static Runtime, ctx: *mut SSL_CTX, cb: $ty) -> Option<()> {
            // SAFETY: the contract above.
            match unsafe { state(rt, ctx) } {
                Some(st) => st.callbacks.update(|c| c.$field = cb),
                // SAFETY: not ours: libssl keeps it.
                None => unsafe { (rt.real.$real_set)(ctx, cb) },
            }
            Some(())
        }
        pub unsafe fn $get(rt: &'static Runtime, ctx: *mut SSL_CTX) -> Option<$ty> {
            // SAFETY: the contract above.
            Some(match unsafe { state(rt, ctx) } {
                Some(st) => st.callbacks.snapshot().$field,
                // SAFETY: as above.
                None => unsafe { (rt.real.$real_get)(ctx) },
            })
        }
    };
}

app_callback!(
    set_new_cb,
    get_new_cb,
    new_session,
    sesscache_new_session_cb,
    SSL_CTX_sess_set_new_cb,
    SSL_CTX_sess_get_new_cb
);
app_callback!(
    set_remove_cb,
    get_remove_cb,
    remove_session,
    sesscache_remove_session_cb,
    SSL_CTX_sess_set_remove_cb,
    SSL_CTX_sess_get_remove_cb
);
app_callback!(
    set_get_cb,
    get_get_cb,
    get_session,
    sesscache_get_session_cb,
    SSL_CTX_sess_set_get_cb,
    SSL_CTX_sess_get_get_cb
);

// ---- the trampolines libssl calls ----

fn runtime() -> Option<&'static Runtime> {
    match super::mode() {
        super::Mode::Preload(rt) => Some(rt),
        _ => None,
    }
}

/// libssl looks up a session a client offered. Returns it with a reference for libssl
/// (`*copy` = 0), or NULL.
unsafe extern "C" fn on_get(ssl: *mut SSL, id: *const c_uchar, len: c_int, copy: *mut c_int) -> *mut SSL_SESSION {
    guard(std::ptr::null_mut(), || {
        let rt = runtime()?;
        // SAFETY: libssl calls with its live connection.
        let st = unsafe { state_of_ssl(rt, ssl)? };
        let len = usize::try_from(len).ok().filter(|&l| l <= 32 && (l == 0 || !id.is_null()))?;
        // SAFETY: libssl gives `len` bytes at `id`, and a live connection.
        let (id, version) = unsafe { (bytes(id, len)?, (rt.real.SSL_version)(ssl)) };
        let key = SessionKey::new(version, id)?;
        let found = with_context(st.real_ctx(), || st.engine.lookup(&key, now(), &st.callbacks_for(ssl)));
        let session = found?;
        // SAFETY: a live connection.
        if unsafe { anti_replay_removes(rt, ssl) } && st.engine.contains(&key) && session.is_resumable() {
            // libssl removes this session from its cache right after this lookup and rejects
            // the early data unless its removal returns 1: the internal list must hold it.
            st.lent_to_internal_list.store(true, Ordering::Relaxed);
            // SAFETY: a live session this handle holds.
            unsafe { st.add_internally(session.as_ptr()) };
        }
        // SAFETY: `copy` is NULL or libssl's flag.
        if let Some(copy) = unsafe { copy.as_mut() } {
            *copy = 0;
        }
        st.arm_auto_flush();
        Some(session.into_raw())
    })
}

/// libssl 3.0's anti-replay rule (tls_parse_ctos_psk): a TLS 1.3 server that accepts early
/// data and has not switched anti-replay off removes every stateful ticket it resumes.
///
/// # Safety
/// `ssl` is a live libssl connection.
unsafe fn anti_replay_removes(rt: &'static Runtime, ssl: *mut SSL) -> bool {
    const SSL_OP_NO_ANTI_REPLAY: u64 = 1 << 24;
    let real = &rt.real;
    // SAFETY: real accessors on a live connection.
    unsafe {
        (real.SSL_version)(ssl) == TLS1_3_VERSION
            && (real.SSL_is_server)(ssl) != 0
            && (real.SSL_get_max_early_data)(ssl) > 0
            && (real.SSL_get_options)(ssl) & SSL_OP_NO_ANTI_REPLAY == 0
    }
}

/// libssl has a session to cache and holds a reference for us: store it as libssl's internal
/// cache would have, then let the application's new-session callback keep the reference (1)
/// or not (0), as it would have.
unsafe extern "C" fn on_new(ssl: *mut SSL, s: *mut SSL_SESSION) -> c_int {
    guard(0, || {
        let rt = runtime()?;
        // SAFETY: libssl calls with its live connection.
        let st = unsafe { state_of_ssl(rt, ssl)? };
        let callbacks = st.callbacks.snapshot();
        // SAFETY: as above.
        if !st.engine.mode().contains(CacheMode::NO_INTERNAL_STORE) && unsafe { stores_internally(rt, ssl, &callbacks) }
        {
            // SAFETY: libssl's live session.
            let stored = st.add(unsafe { RealSession::borrowed(s)? });
            // SAFETY: a live connection.
            if stored && st.engine.shares_sessions() && unsafe { (rt.real.SSL_is_server)(ssl) } != 0 {
                // libssl's reference lasts through this call: no reference of our own.
                // SAFETY: libssl's live session; the handle is never dropped.
                let session = std::mem::ManuallyDrop::new(unsafe { RealSession::owned(s)? });
                st.engine.share(&session);
            }
        }
        st.arm_auto_flush();
        // SAFETY: the application's callback with libssl's live objects.
        Some(callbacks.new_session.map_or(0, |cb| unsafe { cb(ssl, s) }))
    })
}

/// libssl 3.0's rule for a TLS 1.3 server: a session goes into the internal cache only when
/// it is stateful (SSL_OP_NO_TICKET), may carry early data under anti-replay, or the
/// application watches removals.
///
/// # Safety
/// `ssl` is a live libssl connection.
unsafe fn stores_internally(rt: &'static Runtime, ssl: *mut SSL, callbacks: &AppCallbacks) -> bool {
    const SSL_OP_NO_TICKET: u64 = 1 << 14;
    const SSL_OP_NO_ANTI_REPLAY: u64 = 1 << 24;
    let real = &rt.real;
    // SAFETY: real accessors on a live connection.
    unsafe {
        if (real.SSL_version)(ssl) != TLS1_3_VERSION || (real.SSL_is_server)(ssl) == 0 {
            return true;
        }
        let options = (real.SSL_get_options)(ssl);
        ((real.SSL_get_max_early_data)(ssl) > 0 && options & SSL_OP_NO_ANTI_REPLAY == 0)
            || callbacks.remove_session.is_some()
            || options & SSL_OP_NO_TICKET != 0
    }
}

/// libssl removed a session from this context (and marked it not resumable): the engine
/// drops its entry and the application's remove callback runs, as libssl's would. Not for our
/// own calls into libssl, nor for the sentinel, which only tells that libssl's flush ran.
unsafe extern "C" fn on_remove(ctx: *mut SSL_CTX, s: *mut SSL_SESSION) {
    if in_own_call() {
        return;
    }
    guard_void(|| {
        let rt = runtime()?;
        // SAFETY: libssl calls with its live context.
        let st = unsafe { state(rt, ctx)? };
        // A plain load first: removals are frequent, sentinels rare.
        if !s.is_null()
            && st.sentinel.load(Ordering::Relaxed) == s
            && st.sentinel.compare_exchange(s, std::ptr::null_mut(), Ordering::AcqRel, Ordering::Acquire).is_ok()
        {
            // libssl's flush holds its lock until it frees the sentinel: the engine is
            // flushed then, in `on_sentinel_free`.
            // SAFETY: the sentinel is live (libssl frees it after this call); our slot holds
            // its `Sentinel` box.
            let data = unsafe { (rt.real.SSL_SESSION_get_ex_data)(s, rt.session_index()) } as *const Sentinel;
            // SAFETY: NULL or the box `arm_auto_flush` put there, freed only with the session.
            if let Some(data) = unsafe { data.as_ref() } {
                data.flushed.store(true, Ordering::Release);
            }
            return Some(());
        }
        // libssl's reference lasts through this call, and the engine only looks at the handle:
        // no reference of our own (two atomic operations on every removal).
        // SAFETY: libssl's live session; the handle is never dropped, so it gives nothing back.
        let session = std::mem::ManuallyDrop::new(unsafe { RealSession::owned(s)? });
        // libssl marked the session before calling us, so the engine's removal has nothing to
        // mark and needs no context to mark through.
        st.engine.remove(&session, &st.callbacks());
        Some(())
    })
}

/// The SSL_SESSION ex_data free callback: for a sentinel that libssl's flush took out (see the
/// module comment), the engine's flush at the same moment, outside libssl's lock; then a new
/// sentinel. Every other session has nothing in our slot.
pub unsafe extern "C" fn on_sentinel_free(
    _parent: *mut c_void,
    ptr: *mut c_void,
    _ad: *mut CRYPTO_EX_DATA,
    _idx: c_int,
    _argl: c_long,
    _argp: *mut c_void,
) {
    if ptr.is_null() {
        return;
    }
    guard_void(|| {
        // SAFETY: our slot's value, the box `arm_auto_flush` made; libcrypto frees it once.
        let data = unsafe { Box::from_raw(ptr as *mut Sentinel) };
        if !data.flushed.load(Ordering::Acquire) {
            return Some(());
        }
        let st = data.ctx.upgrade()?;
        // libssl's automatic flush passes time(NULL); during SSL_CTX_free it passes 0, and
        // `on_ctx_free` flushes the rest.
        st.flush(now());
        st.arm_auto_flush();
        Some(())
    })
}

/// libssl frees a context: flush the engine with the application's remove callback (the
/// context is still whole: our slot is freed before the application's later ones) and
/// release the state.
pub unsafe extern "C" fn on_ctx_free(
    _parent: *mut c_void,
    ptr: *mut c_void,
    _ad: *mut CRYPTO_EX_DATA,
    _idx: c_int,
    _argl: c_long,
    _argp: *mut c_void,
) {
    // Called for every context libssl frees; only ours have state in the slot.
    if ptr.is_null() {
        return;
    }
    guard_void(|| {
        // SAFETY: the slot's reference, put there by `adopt`; libssl frees the slot once.
        let st = unsafe { Arc::from_raw(ptr as *const PreloadCtx) };
        // The report shows the cache as the application last saw it.
        obs::report::retire(st.ctx, &*st);
        st.flush(0);
        // libssl's internal list holds only what we put there (the sentinel, at most a
        // session whose anti-replay removal never came); libssl frees the list but not them.
        // SAFETY: the context is still whole while libssl frees its ex_data.
        without_callbacks(|| unsafe { (st.rt.real.SSL_CTX_flush_sessions)(st.real_ctx(), 0) });
        obs::registry::unregister(st.ctx);
        Some(())
    })
}
