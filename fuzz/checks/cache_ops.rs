//! `cache_ops`: a sequence of cache-API operations, decoded from the fuzzer's bytes, run
//! against libssl (through its C API, `dlmopen`ed) and against our native API. After every
//! step each side reports the call's return value, the remove callbacks it made (which session,
//! in order), `SSL_CTX_sess_number` and the other eleven counters, the context's size, mode and
//! timeout, every session slot's time, timeout and resumability, and `SSL_has_matching_session_id`
//! for every id of the (small, so that ids collide) id space. The two transcripts must be equal.
//!
//! Times are explicit: a session's time is set right after `SSL_SESSION_new`, flushes name
//! their time, and `SSL_SESS_CACHE_UPDATE_TIME` (which stamps the wall clock) is never set, so
//! a run's transcript does not depend on when it runs.
//!
//! One thing is never done on either side: changing the id or protocol version of a session
//! while it is cached (the README's compatibility table: libssl's list gets corrupted when such
//! a session is re-added). Each side tracks what it has cached from its own return values and
//! remove callbacks, and such a step is recorded as skipped.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{c_int, c_long};
use std::fmt::Write;

use super::libssl::{self, Libssl, Ptr};

/// Session handles the operations name (slot numbers).
const SLOTS: usize = 4;
/// At most this many operations run per input, so that every input ends quickly.
const MAX_OPS: usize = 300;
/// The time sessions are given at creation; operation times sit around it.
pub const T_BASE: c_long = 1_700_000_000;
/// The version `SSL_has_matching_session_id` looks up on a new connection of a
/// `TLS_server_method` context (`SSL_version`: TLS 1.3), so sessions with it are the ones the
/// probes can see.
const PROBE_VERSION: c_int = 0x0304;
const SSL_SESS_CACHE_UPDATE_TIME: c_long = 0x0400;

/// One side's cache API, with every handle as an untyped pointer.
pub trait CacheApi {
    /// `SSL_CTX_new(TLS_server_method())` with a remove callback that calls `removed`.
    unsafe fn ctx_new(&self) -> Ptr;
    unsafe fn ctx_free(&self, ctx: Ptr);
    /// The twelve `SSL_CTX_sess_*` statistics, `number` first, in OpenSSL's order.
    unsafe fn stats(&self, ctx: Ptr) -> [c_long; 12];
    unsafe fn set_cache_size(&self, ctx: Ptr, n: c_long) -> c_long;
    unsafe fn cache_size(&self, ctx: Ptr) -> c_long;
    unsafe fn set_cache_mode(&self, ctx: Ptr, m: c_long) -> c_long;
    unsafe fn cache_mode(&self, ctx: Ptr) -> c_long;
    unsafe fn set_timeout(&self, ctx: Ptr, t: c_long) -> c_long;
    unsafe fn timeout(&self, ctx: Ptr) -> c_long;
    unsafe fn add(&self, ctx: Ptr, s: Ptr) -> c_int;
    unsafe fn remove(&self, ctx: Ptr, s: Ptr) -> c_int;
    unsafe fn flush(&self, ctx: Ptr, t: c_long);
    unsafe fn ssl_new(&self, ctx: Ptr) -> Ptr;
    unsafe fn ssl_free(&self, ssl: Ptr);
    unsafe fn has_matching(&self, ssl: Ptr, id: &[u8]) -> c_int;
    unsafe fn session_new(&self) -> Ptr;
    unsafe fn session_free(&self, s: Ptr);
    unsafe fn session_dup(&self, s: Ptr) -> Ptr;
    unsafe fn set1_id(&self, s: Ptr, id: &[u8]) -> c_int;
    unsafe fn set_protocol_version(&self, s: Ptr, v: c_int) -> c_int;
    unsafe fn set_time(&self, s: Ptr, t: c_long) -> c_long;
    unsafe fn time(&self, s: Ptr) -> c_long;
    unsafe fn set_session_timeout(&self, s: Ptr, t: c_long) -> c_long;
    unsafe fn session_timeout(&self, s: Ptr) -> c_long;
    unsafe fn is_resumable(&self, s: Ptr) -> c_int;
}

thread_local! {
    /// The sessions the remove callback was called with, in order, since the last drain.
    static REMOVED: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// What both sides' remove callbacks do.
pub fn removed(s: Ptr) {
    REMOVED.with(|r| r.borrow_mut().push(s as usize));
}

fn drain_removed() -> Vec<usize> {
    REMOVED.with(|r| std::mem::take(&mut *r.borrow_mut()))
}

unsafe extern "C" fn libssl_remove_cb(_ctx: Ptr, s: Ptr) {
    removed(s);
}

impl CacheApi for Libssl {
    unsafe fn ctx_new(&self) -> Ptr {
        let ctx = (self.SSL_CTX_new)((self.TLS_server_method)());
        assert!(!ctx.is_null(), "libssl's SSL_CTX_new failed");
        (self.SSL_CTX_sess_set_remove_cb)(ctx, Some(libssl_remove_cb));
        ctx
    }
    unsafe fn ctx_free(&self, ctx: Ptr) {
        (self.SSL_CTX_free)(ctx)
    }
    unsafe fn stats(&self, ctx: Ptr) -> [c_long; 12] {
        std::array::from_fn(|i| {
            (self.SSL_CTX_ctrl)(ctx, libssl::SSL_CTRL_SESS_NUMBER + i as c_int, 0, std::ptr::null_mut())
        })
    }
    unsafe fn set_cache_size(&self, ctx: Ptr, n: c_long) -> c_long {
        (self.SSL_CTX_ctrl)(ctx, libssl::SSL_CTRL_SET_SESS_CACHE_SIZE, n, std::ptr::null_mut())
    }
    unsafe fn cache_size(&self, ctx: Ptr) -> c_long {
        (self.SSL_CTX_ctrl)(ctx, libssl::SSL_CTRL_GET_SESS_CACHE_SIZE, 0, std::ptr::null_mut())
    }
    unsafe fn set_cache_mode(&self, ctx: Ptr, m: c_long) -> c_long {
        (self.SSL_CTX_ctrl)(ctx, libssl::SSL_CTRL_SET_SESS_CACHE_MODE, m, std::ptr::null_mut())
    }
    unsafe fn cache_mode(&self, ctx: Ptr) -> c_long {
        (self.SSL_CTX_ctrl)(ctx, libssl::SSL_CTRL_GET_SESS_CACHE_MODE, 0, std::ptr::null_mut())
    }
    unsafe fn set_timeout(&self, ctx: Ptr, t: c_long) -> c_long {
        (self.SSL_CTX_set_timeout)(ctx, t)
    }
    unsafe fn timeout(&self, ctx: Ptr) -> c_long {
        (self.SSL_CTX_get_timeout)(ctx)
    }
    unsafe fn add(&self, ctx: Ptr, s: Ptr) -> c_int {
        (self.SSL_CTX_add_session)(ctx, s)
    }
    unsafe fn remove(&self, ctx: Ptr, s: Ptr) -> c_int {
        (self.SSL_CTX_remove_session)(ctx, s)
    }
    unsafe fn flush(&self, ctx: Ptr, t: c_long) {
        (self.SSL_CTX_flush_sessions)(ctx, t)
    }
    unsafe fn ssl_new(&self, ctx: Ptr) -> Ptr {
        let ssl = (self.SSL_new)(ctx);
        assert!(!ssl.is_null(), "libssl's SSL_new failed");
        ssl
    }
    unsafe fn ssl_free(&self, ssl: Ptr) {
        (self.SSL_free)(ssl)
    }
    unsafe fn has_matching(&self, ssl: Ptr, id: &[u8]) -> c_int {
        (self.SSL_has_matching_session_id)(ssl, id.as_ptr(), id.len() as u32)
    }
    unsafe fn session_new(&self) -> Ptr {
        let s = (self.SSL_SESSION_new)();
        assert!(!s.is_null(), "libssl's SSL_SESSION_new failed");
        s
    }
    unsafe fn session_free(&self, s: Ptr) {
        (self.SSL_SESSION_free)(s)
    }
    unsafe fn session_dup(&self, s: Ptr) -> Ptr {
        (self.SSL_SESSION_dup)(s)
    }
    unsafe fn set1_id(&self, s: Ptr, id: &[u8]) -> c_int {
        (self.SSL_SESSION_set1_id)(s, id.as_ptr(), id.len() as u32)
    }
    unsafe fn set_protocol_version(&self, s: Ptr, v: c_int) -> c_int {
        (self.SSL_SESSION_set_protocol_version)(s, v)
    }
    unsafe fn set_time(&self, s: Ptr, t: c_long) -> c_long {
        (self.SSL_SESSION_set_time)(s, t)
    }
    unsafe fn time(&self, s: Ptr) -> c_long {
        (self.SSL_SESSION_get_time)(s)
    }
    unsafe fn set_session_timeout(&self, s: Ptr, t: c_long) -> c_long {
        (self.SSL_SESSION_set_timeout)(s, t)
    }
    unsafe fn session_timeout(&self, s: Ptr) -> c_long {
        (self.SSL_SESSION_get_timeout)(s)
    }
    unsafe fn is_resumable(&self, s: Ptr) -> c_int {
        (self.SSL_SESSION_is_resumable)(s)
    }
}

#[derive(Clone, Debug)]
enum Op {
    NewSession(usize),
    SetId(usize, Vec<u8>),
    SetVersion(usize, c_int),
    SetTime(usize, c_long),
    SetTimeout(usize, c_long),
    Add(usize),
    Remove(usize),
    Flush(c_long),
    SetCacheSize(c_long),
    SetCtxTimeout(c_long),
    SetMode(c_long),
    Dup {
        from: usize,
        to: usize,
    },
    /// SSL_CTX_free (which flushes) and a new context.
    RenewCtx,
}

/// The ids the operations and probes use: a small space, so that sessions collide. Byte `k`
/// repeated 1 or 32 times, the empty id, and one too long for `set1_id` (33 bytes).
fn id_arg(b: u8) -> Vec<u8> {
    let len = [1, 1, 1, 1, 32, 32, 0, 33][usize::from(b >> 2) & 7];
    vec![b & 3; len]
}

/// A time near T_BASE (so that expiries interleave), or one of the edges.
fn time_arg(b: u8) -> c_long {
    const EDGES: [c_long; 16] = [
        0,
        -1,
        1,
        c_long::MAX,
        c_long::MIN,
        c_long::MAX - 1,
        T_BASE - 1000,
        -T_BASE,
        c_long::MAX - 10,
        c_long::MIN + 1,
        T_BASE + 1_000_000,
        2,
        -2,
        T_BASE + 300,
        T_BASE + 304,
        T_BASE - 304,
    ];
    if b >= 0xf0 {
        EDGES[usize::from(b & 0xf)]
    } else {
        T_BASE + c_long::from(b % 24)
    }
}

/// A session timeout: small (so that sessions expire in the window), or one of the edges.
fn timeout_arg(b: u8) -> c_long {
    const EDGES: [c_long; 8] = [0, -1, c_long::MAX, c_long::MIN, 304, c_long::MAX - T_BASE, 1 << 40, -300];
    if b >= 0xf8 {
        EDGES[usize::from(b & 7)]
    } else {
        c_long::from(b % 16)
    }
}

/// Every distinct id of `id_arg`'s space.
fn probe_ids() -> impl Iterator<Item = Vec<u8>> {
    (0..4u8).flat_map(|k| [vec![k], vec![k; 32]]).chain([vec![], vec![0; 33]])
}

const VERSIONS: [c_int; 4] = [PROBE_VERSION, 0x0303, 0x10000, 0xfeff];

fn decode_ops(data: &[u8]) -> Vec<Op> {
    let mut bytes = data.iter().copied();
    let mut next = move || bytes.next();
    let mut ops = Vec::new();
    while ops.len() < MAX_OPS {
        let Some(code) = next() else { break };
        let mut arg = || next().unwrap_or(0);
        let slot = |b: u8| usize::from(b) % SLOTS;
        ops.push(match code % 16 {
            0 => Op::NewSession(slot(arg())),
            1 => Op::SetId(slot(arg()), id_arg(arg())),
            2 => Op::SetVersion(slot(arg()), VERSIONS[usize::from(arg() & 3)]),
            3 => Op::SetTime(slot(arg()), time_arg(arg())),
            4 => Op::SetTimeout(slot(arg()), timeout_arg(arg())),
            5 | 13 | 14 => Op::Add(slot(arg())),
            6 | 15 => Op::Remove(slot(arg())),
            7 => Op::Flush(time_arg(arg())),
            8 => Op::SetCacheSize([0, 1, 2, 3, 4, 6, -1, 1 << 40][usize::from(arg() & 7)]),
            9 => Op::SetCtxTimeout([0, 1, 5, 300, -1, c_long::MAX, c_long::MIN, 7][usize::from(arg() & 7)]),
            10 => {
                let b = arg();
                let mode = c_long::from(b & 3)
                    | if b & 4 != 0 { 0x80 } else { 0 }
                    | if b & 8 != 0 { 0x100 } else { 0 }
                    | if b & 16 != 0 { 0x200 } else { 0 };
                debug_assert_eq!(mode & SSL_SESS_CACHE_UPDATE_TIME, 0);
                Op::SetMode(mode)
            }
            11 => {
                let b = arg();
                Op::Dup { from: slot(b), to: slot(b >> 4) }
            }
            _ => Op::RenewCtx,
        });
    }
    ops
}

/// What decides where a session is cached in libssl: protocol version and id.
type Key = (c_int, Vec<u8>);

/// One side's run: its handles and what it has told us it caches.
struct Run<'a, A: CacheApi> {
    api: &'a A,
    ctx: Ptr,
    ssl: Ptr,
    /// Each slot's session handle and its serial number (creation order, the same on both sides).
    slots: [(Ptr, u32); SLOTS],
    next_serial: u32,
    /// Serial and key of every session handle we made, by address (an address reused by a new
    /// session is overwritten: a remove callback only ever names a live session).
    by_ptr: HashMap<usize, (u32, Key)>,
    /// The serials this side caches, per its return values and remove callbacks.
    cached: HashMap<u32, Key>,
    transcript: Vec<String>,
}

impl<'a, A: CacheApi> Run<'a, A> {
    unsafe fn new(api: &'a A) -> Self {
        drain_removed();
        let ctx = api.ctx_new();
        let ssl = api.ssl_new(ctx);
        let mut run = Run {
            api,
            ctx,
            ssl,
            slots: [(std::ptr::null_mut(), 0); SLOTS],
            next_serial: 0,
            by_ptr: HashMap::new(),
            cached: HashMap::new(),
            transcript: Vec::new(),
        };
        for slot in 0..SLOTS {
            run.fresh_session(slot);
        }
        run
    }

    /// A new session in `slot`: time T_BASE, PROBE_VERSION (what the probes look up) and the
    /// one-byte id `slot`, so that sessions are visible and collide from the start.
    unsafe fn fresh_session(&mut self, slot: usize) {
        let api = self.api;
        let s = api.session_new();
        api.set_time(s, T_BASE);
        api.set_protocol_version(s, PROBE_VERSION);
        let id = [slot as u8];
        api.set1_id(s, &id);
        self.adopt(slot, s);
        self.set_key(s, |k| *k = (PROBE_VERSION, id.to_vec()));
    }

    /// Puts a new session handle in `slot`, releasing the one there.
    unsafe fn adopt(&mut self, slot: usize, s: Ptr) {
        let old = self.slots[slot].0;
        if !old.is_null() {
            self.api.session_free(old);
        }
        let serial = self.next_serial;
        self.next_serial += 1;
        self.slots[slot] = (s, serial);
        if !s.is_null() {
            self.by_ptr.insert(s as usize, (serial, (0, Vec::new())));
        }
    }

    fn key_of(&self, s: Ptr) -> Key {
        self.by_ptr.get(&(s as usize)).map(|(_, k)| k.clone()).unwrap_or_default()
    }

    fn set_key(&mut self, s: Ptr, change: impl FnOnce(&mut Key)) {
        if let Some((_, k)) = self.by_ptr.get_mut(&(s as usize)) {
            change(k);
        }
    }

    /// The remove callbacks since the last step, as serials; what they name is no longer cached.
    fn callbacks(&mut self) -> Vec<String> {
        let mut names = Vec::new();
        for p in drain_removed() {
            match self.by_ptr.get(&p) {
                Some(&(serial, _)) => {
                    self.cached.remove(&serial);
                    names.push(format!("#{serial}"));
                }
                None => names.push("unknown".into()),
            }
        }
        names
    }

    unsafe fn step(&mut self, op: &Op) {
        let api = self.api;
        let ret: String = match *op {
            Op::NewSession(slot) => {
                self.fresh_session(slot);
                format!("#{}", self.slots[slot].1)
            }
            Op::SetId(slot, ref id) => {
                let (s, serial) = self.slots[slot];
                if s.is_null() {
                    "no session".into()
                } else if self.cached.contains_key(&serial) {
                    "skipped: cached".into()
                } else {
                    let r = api.set1_id(s, id);
                    if r == 1 {
                        self.set_key(s, |k| k.1 = id.clone());
                    }
                    r.to_string()
                }
            }
            Op::SetVersion(slot, v) => {
                let (s, serial) = self.slots[slot];
                if s.is_null() {
                    "no session".into()
                } else if self.cached.contains_key(&serial) {
                    "skipped: cached".into()
                } else {
                    let r = api.set_protocol_version(s, v);
                    if r == 1 {
                        self.set_key(s, |k| k.0 = v);
                    }
                    r.to_string()
                }
            }
            Op::SetTime(slot, t) => self.on_session(slot, |s| api.set_time(s, t).to_string()),
            Op::SetTimeout(slot, t) => self.on_session(slot, |s| api.set_session_timeout(s, t).to_string()),
            Op::Add(slot) => {
                let (s, serial) = self.slots[slot];
                if s.is_null() {
                    "no session".into()
                } else {
                    let r = api.add(self.ctx, s);
                    let key = self.key_of(s);
                    self.cached.retain(|&other, k| other == serial || *k != key);
                    let evicted = self.callbacks();
                    self.cached.insert(serial, key);
                    return self.observe(op, r.to_string(), evicted);
                }
            }
            Op::Remove(slot) => {
                let (s, serial) = self.slots[slot];
                if s.is_null() {
                    "no session".into()
                } else {
                    let r = api.remove(self.ctx, s);
                    if r == 1 {
                        self.cached.remove(&serial);
                    }
                    r.to_string()
                }
            }
            Op::Flush(t) => {
                api.flush(self.ctx, t);
                "-".into()
            }
            Op::SetCacheSize(n) => api.set_cache_size(self.ctx, n).to_string(),
            Op::SetCtxTimeout(t) => api.set_timeout(self.ctx, t).to_string(),
            Op::SetMode(m) => api.set_cache_mode(self.ctx, m).to_string(),
            Op::Dup { from, to } => {
                let (s, _) = self.slots[from];
                if s.is_null() {
                    "no session".into()
                } else {
                    let d = api.session_dup(s);
                    let key = self.key_of(s);
                    self.adopt(to, d);
                    self.set_key(d, |k| *k = key);
                    if d.is_null() {
                        "NULL".into()
                    } else {
                        format!("#{}", self.slots[to].1)
                    }
                }
            }
            Op::RenewCtx => {
                api.ssl_free(self.ssl);
                api.ctx_free(self.ctx);
                let freed = self.callbacks();
                self.cached.clear();
                self.ctx = api.ctx_new();
                self.ssl = api.ssl_new(self.ctx);
                return self.observe(op, "-".into(), freed);
            }
        };
        let callbacks = self.callbacks();
        self.observe(op, ret, callbacks);
    }

    unsafe fn on_session(&mut self, slot: usize, f: impl FnOnce(Ptr) -> String) -> String {
        let (s, _) = self.slots[slot];
        if s.is_null() {
            "no session".into()
        } else {
            f(s)
        }
    }

    /// One transcript line: the step and everything either side can be asked about after it.
    unsafe fn observe(&mut self, op: &Op, ret: String, callbacks: Vec<String>) {
        let api = self.api;
        let mut line = format!("{op:?} -> {ret}; removed {callbacks:?}; stats {:?}", api.stats(self.ctx));
        let _ = write!(
            line,
            "; size {} mode {:#x} timeout {}",
            api.cache_size(self.ctx),
            api.cache_mode(self.ctx),
            api.timeout(self.ctx)
        );
        for (s, serial) in self.slots {
            if s.is_null() {
                line.push_str("; -");
            } else {
                let _ = write!(
                    line,
                    "; #{serial} t={} to={} res={}",
                    api.time(s),
                    api.session_timeout(s),
                    api.is_resumable(s)
                );
            }
        }
        let mut found = String::new();
        for id in probe_ids() {
            found.push(if api.has_matching(self.ssl, &id) == 1 { '1' } else { '0' });
        }
        let _ = write!(line, "; found {found}");
        self.transcript.push(line);
    }

    /// Frees everything; the context's free is the last transcript line (its flush callbacks).
    unsafe fn finish(mut self) -> Vec<String> {
        let api = self.api;
        api.ssl_free(self.ssl);
        api.ctx_free(self.ctx);
        let freed = self.callbacks();
        self.transcript.push(format!("SSL_CTX_free; removed {freed:?}"));
        for (s, _) in self.slots {
            if !s.is_null() {
                api.session_free(s);
            }
        }
        self.transcript
    }
}

/// Runs the operations on one side; its transcript, one line per step.
fn transcript<A: CacheApi>(api: &A, ops: &[Op]) -> Vec<String> {
    // SAFETY: every handle passed is one this run made and still holds.
    unsafe {
        let mut run = Run::new(api);
        for op in ops {
            run.step(op);
        }
        run.finish()
    }
}

/// The check: the same operations give the same transcript on libssl and on ours.
pub fn run(data: &[u8]) {
    let ops = decode_ops(data);
    let theirs = transcript(libssl::get(), &ops);
    let ours = transcript(&super::ours::Ours, &ops);
    if let Some(step) = (0..theirs.len().max(ours.len())).find(|&i| theirs.get(i) != ours.get(i)) {
        let mut msg = format!("cache_ops: transcripts differ at step {step} (input {})\n", super::hex(data));
        for line in theirs.iter().take(step).skip(step.saturating_sub(3)) {
            let _ = writeln!(msg, "  both    {line}");
        }
        let _ = writeln!(msg, "  libssl  {}", theirs.get(step).map_or("(ended)", |s| s));
        let _ = writeln!(msg, "  ours    {}", ours.get(step).map_or("(ended)", |s| s));
        panic!("{msg}");
    }
}

/// Both transcripts of an input, for debugging.
pub fn transcripts(data: &[u8]) -> (Vec<String>, Vec<String>) {
    let ops = decode_ops(data);
    (transcript(libssl::get(), &ops), transcript(&super::ours::Ours, &ops))
}
