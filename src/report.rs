//! SESSCACHE_REPORT=FILE: at process exit, one JSON line per context that worked in this
//! process, appended to FILE: the mode, the process id, the context's number (the order contexts
//! were made in, kept across fork), the twelve statistics as `SSL_CTX_sess_*` answers them, and
//! the engine's own `stored` (sessions it took in) and `served` (lookups it answered).
//!
//! Made for forking, privilege-dropping daemons (nginx, Apache):
//! - a process reports only its own work: a child counts from the values its contexts had when
//!   it was forked (`number`, the sessions cached now, excepted), forgets the contexts its
//!   parent had freed, and writes no line for a context whose counts did not move in it (so
//!   neither a master that only forks workers, nor a daemon's first process, nor a control
//!   command such as `nginx -s quit` writes one);
//! - FILE is opened, O_APPEND, when the library starts, before a daemon drops its privileges,
//!   and that descriptor is inherited by the processes forked from it: workers that run as
//!   another user write through it (the file is not made world-writable: anyone could forge
//!   lines in it). A process whose descriptor was closed or reused opens FILE again;
//! - each line is one write(), so appends from concurrent processes do not interleave; when
//!   lines cannot be written, the process says so in one line on stderr.

use std::ffi::{c_int, CString};
use std::os::unix::ffi::OsStrExt;
use std::sync::{Mutex, MutexGuard, Weak};

use once_cell::sync::OnceCell;

use crate::capi::ctx::*;

/// A context's counts: the twelve statistics in SSL_CTRL_SESS_NUMBER .. CACHE_FULL order,
/// then the engine's stored and served.
pub type Counts = [i64; 14];

/// A context that can give its counts for the report.
pub trait Reported: Send + Sync {
    fn mode(&self) -> &'static str;
    fn counts(&self) -> Counts;
}

/// The counts of a context, from its statistics by SSL_CTRL_SESS_* command.
pub fn counts(statistic: impl Fn(c_int) -> i64, stored: u64, served: u64) -> Counts {
    let mut c = [0; 14];
    for (i, cmd) in (SSL_CTRL_SESS_NUMBER..=SSL_CTRL_SESS_CACHE_FULL).enumerate() {
        c[i] = statistic(cmd);
    }
    c[12] = stored as i64;
    c[13] = served as i64;
    c
}

const NAMES: [&str; 14] = [
    "number",
    "connect",
    "connect_good",
    "connect_renegotiate",
    "accept",
    "accept_good",
    "accept_renegotiate",
    "hits",
    "cb_hits",
    "misses",
    "timeouts",
    "cache_full",
    "stored",
    "served",
];

struct Live {
    id: u64,
    ctx: Weak<dyn Reported>,
    /// Its counts when this process began (zero, or the values at the fork that made it).
    base: Counts,
    /// Its counts taken by the fork handler in the parent, for the child.
    at_fork: Counts,
}

/// A line taken when its context was freed, by the process that freed it.
struct Retired {
    pid: i32,
    id: u64,
    mode: &'static str,
    counts: Counts,
}

#[derive(Default)]
struct Registry {
    live: Vec<Live>,
    retired: Vec<Retired>,
    next_id: u64,
}

/// The report's file: its path, and the descriptor opened at start with what it was then.
struct Target {
    path: std::path::PathBuf,
    fd: c_int,
    dev_ino: Option<(u64, u64)>,
}

static TARGET: OnceCell<Target> = OnceCell::new();
// std's Mutex, not parking_lot's: the fork handler holds it across fork() and the child
// releases it, which is a plain atomic store (and at worst a wake-up of nobody) in std's.
static REGISTRY: Mutex<Registry> = Mutex::new(Registry { live: Vec::new(), retired: Vec::new(), next_id: 0 });

thread_local! {
    /// The registry, locked by the fork handler from before fork() until after it.
    static HELD_FOR_FORK: std::cell::RefCell<Option<MutexGuard<'static, Registry>>> =
        const { std::cell::RefCell::new(None) };
}

fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// Reads SESSCACHE_REPORT once; with it set, opens the file and registers the exit and fork
/// handlers.
pub fn enable() {
    let Some(path) = std::env::var_os("SESSCACHE_REPORT").filter(|p| !p.is_empty()) else { return };
    let path = std::path::PathBuf::from(path);
    let fd = open(&path);
    let target = Target { dev_ino: dev_ino(fd), fd, path };
    if TARGET.set(target).is_ok() {
        // SAFETY: registers plain functions to run at exit and around fork.
        unsafe {
            libc::atexit(write_report);
            libc::pthread_atfork(
                Some(before_fork as unsafe extern "C" fn()),
                Some(after_fork_parent as unsafe extern "C" fn()),
                Some(after_fork_child as unsafe extern "C" fn()),
            );
        }
    }
}

fn enabled() -> bool {
    TARGET.get().is_some()
}

/// FILE for appending (created with mode 0644 less the umask), or -1.
fn open(path: &std::path::Path) -> c_int {
    let Ok(c) = CString::new(path.as_os_str().as_bytes()) else { return -1 };
    // SAFETY: a NUL-terminated path.
    unsafe { libc::open(c.as_ptr(), libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT | libc::O_CLOEXEC, 0o644) }
}

fn dev_ino(fd: c_int) -> Option<(u64, u64)> {
    if fd < 0 {
        return None;
    }
    // SAFETY: fstat into a zeroed struct.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        (libc::fstat(fd, &mut st) == 0).then_some((st.st_dev, st.st_ino))
    }
}

/// A new context to report on at exit.
pub fn register(ctx: Weak<dyn Reported>) {
    if enabled() {
        let mut r = registry();
        r.next_id += 1;
        let id = r.next_id;
        r.live.push(Live { id, ctx, base: [0; 14], at_fork: [0; 14] });
    }
}

/// A context going away: its counts are taken now (kept only if it worked), and it leaves the
/// live list.
pub fn retire(ctx: &dyn Reported) {
    if !enabled() {
        return;
    }
    let (mode, counts) = (ctx.mode(), ctx.counts());
    let mut r = registry();
    let target = ctx as *const dyn Reported as *const ();
    if let Some(i) = r.live.iter().position(|l| l.ctx.as_ptr() as *const () == target) {
        let l = r.live.swap_remove(i);
        // SAFETY: getpid has no preconditions.
        let pid = unsafe { libc::getpid() };
        let counts = since(&counts, &l.base);
        if worked(&counts) {
            r.retired.push(Retired { pid, id: l.id, mode, counts });
        }
    }
}

/// What a context did since `base`; `number` is the sessions cached now.
fn since(now: &Counts, base: &Counts) -> Counts {
    let mut d = *now;
    for i in 1..14 {
        d[i] -= base[i];
    }
    d
}

/// A line only for a context that worked: any count but `number` moved.
fn worked(c: &Counts) -> bool {
    c[1..].iter().any(|&v| v != 0)
}

fn line(mode: &str, pid: i32, id: u64, c: &Counts) -> String {
    let mut s = format!("{{\"mode\":\"{mode}\",\"pid\":{pid},\"ctx\":{id}");
    for (name, v) in NAMES.iter().zip(c) {
        s.push_str(&format!(",\"{name}\":{v}"));
    }
    s.push_str("}\n");
    s
}

// ---- fork: the child starts counting from the values its contexts have at the fork ----

extern "C" fn before_fork() {
    let _ = std::panic::catch_unwind(|| {
        let mut r = registry();
        for l in r.live.iter_mut() {
            if let Some(c) = l.ctx.upgrade() {
                l.at_fork = c.counts();
            }
        }
        HELD_FOR_FORK.with(|h| *h.borrow_mut() = Some(r));
    });
}

extern "C" fn after_fork_parent() {
    let _ = std::panic::catch_unwind(|| HELD_FOR_FORK.with(|h| h.borrow_mut().take()));
}

extern "C" fn after_fork_child() {
    let _ = std::panic::catch_unwind(|| {
        HELD_FOR_FORK.with(|h| {
            if let Some(mut r) = h.borrow_mut().take() {
                for l in r.live.iter_mut() {
                    l.base = l.at_fork;
                }
                r.retired.clear();
            }
        })
    });
}

// ---- exit ----

extern "C" fn write_report() {
    let _ = std::panic::catch_unwind(|| {
        let Some(target) = TARGET.get() else { return };
        // SAFETY: getpid has no preconditions.
        let pid = unsafe { libc::getpid() };
        let lines: Vec<String> = {
            let mut r = registry();
            let mut lines: Vec<String> = std::mem::take(&mut r.retired)
                .into_iter()
                .filter(|x| x.pid == pid)
                .map(|x| line(x.mode, pid, x.id, &x.counts))
                .collect();
            for l in &r.live {
                if let Some(c) = l.ctx.upgrade() {
                    let counts = since(&c.counts(), &l.base);
                    if worked(&counts) {
                        lines.push(line(c.mode(), pid, l.id, &counts));
                    }
                }
            }
            lines
        };
        if lines.is_empty() {
            return;
        }
        // The descriptor from the start, unless it was closed or now names another file.
        let mut fd = target.fd;
        let mut opened = false;
        if fd < 0 || target.dev_ino.is_none() || dev_ino(fd) != target.dev_ino {
            fd = open(&target.path);
            opened = true;
        }
        let mut lost = 0;
        let mut error = None;
        for l in &lines {
            // SAFETY: writes a live buffer to a descriptor (a bad one fails with EBADF).
            let n = if fd < 0 { -1 } else { unsafe { libc::write(fd, l.as_ptr().cast(), l.len()) } };
            if n != l.len() as isize {
                lost += 1;
                error.get_or_insert_with(|| {
                    if n < 0 {
                        std::io::Error::last_os_error().to_string()
                    } else {
                        format!("short write ({n} of {} bytes)", l.len())
                    }
                });
            }
        }
        if opened && fd >= 0 {
            // SAFETY: the descriptor opened just above.
            unsafe { libc::close(fd) };
        }
        if let Some(e) = error {
            eprintln!(
                "sesscache: SESSCACHE_REPORT: {lost} of {} line(s) not written to {}: {e}",
                lines.len(),
                target.path.display()
            );
        }
    });
}
