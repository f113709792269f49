//! SESSCACHE_REPORT=FILE: at process exit, one JSON line per context the engine served,
//! appended to FILE: the mode, the twelve statistics as `SSL_CTX_sess_*` answers them, and the
//! engine's own `stored` (sessions it took in) and `served` (lookups it answered).

use std::ffi::c_int;
use std::io::Write;
use std::sync::Weak;

use once_cell::sync::OnceCell;
use parking_lot::Mutex;

use crate::capi::ctx::*;

/// A context that can describe itself in one report line.
pub trait Reported: Send + Sync {
    fn line(&self) -> String;
}

static PATH: OnceCell<std::path::PathBuf> = OnceCell::new();
static LIVE: Mutex<Vec<Weak<dyn Reported>>> = parking_lot::const_mutex(Vec::new());
static RETIRED: Mutex<Vec<String>> = parking_lot::const_mutex(Vec::new());

/// Reads SESSCACHE_REPORT once; with it set, registers the exit handler.
pub fn enable() {
    let Some(path) = std::env::var_os("SESSCACHE_REPORT").filter(|p| !p.is_empty()) else { return };
    if PATH.set(path.into()).is_ok() {
        // SAFETY: registers a plain function to run at exit.
        unsafe { libc::atexit(write_report) };
    }
}

fn enabled() -> bool {
    PATH.get().is_some()
}

/// A new context to report on at exit.
pub fn register(ctx: Weak<dyn Reported>) {
    if enabled() {
        LIVE.lock().push(ctx);
    }
}

/// A context going away: its line is taken now.
pub fn retire(ctx: &dyn Reported) {
    if enabled() {
        RETIRED.lock().push(ctx.line());
    }
}

/// The JSON line for a context, from its statistics by SSL_CTRL_SESS_* command.
pub fn line(mode: &str, statistic: impl Fn(c_int) -> i64, stored: u64, served: u64) -> String {
    const NAMES: [(&str, c_int); 12] = [
        ("number", SSL_CTRL_SESS_NUMBER),
        ("connect", SSL_CTRL_SESS_CONNECT),
        ("connect_good", SSL_CTRL_SESS_CONNECT_GOOD),
        ("connect_renegotiate", SSL_CTRL_SESS_CONNECT_RENEGOTIATE),
        ("accept", SSL_CTRL_SESS_ACCEPT),
        ("accept_good", SSL_CTRL_SESS_ACCEPT_GOOD),
        ("accept_renegotiate", SSL_CTRL_SESS_ACCEPT_RENEGOTIATE),
        ("hits", SSL_CTRL_SESS_HIT),
        ("cb_hits", SSL_CTRL_SESS_CB_HIT),
        ("misses", SSL_CTRL_SESS_MISSES),
        ("timeouts", SSL_CTRL_SESS_TIMEOUTS),
        ("cache_full", SSL_CTRL_SESS_CACHE_FULL),
    ];
    let mut s = format!("{{\"mode\":\"{mode}\"");
    for (name, cmd) in NAMES {
        s.push_str(&format!(",\"{name}\":{}", statistic(cmd)));
    }
    s.push_str(&format!(",\"stored\":{stored},\"served\":{served}}}"));
    s
}

extern "C" fn write_report() {
    let _ = std::panic::catch_unwind(|| {
        let Some(path) = PATH.get() else { return };
        let mut lines = std::mem::take(&mut *RETIRED.lock());
        lines.extend(LIVE.lock().iter().filter_map(Weak::upgrade).map(|c| c.line()));
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
            let _ = f.write_all(text.as_bytes());
        }
    });
}
