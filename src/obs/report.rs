//! SESSCACHE_REPORT=FILE: at process exit, one JSON line per context that worked in this
//! process, appended to FILE: the mode, the process id, the context's number (the order contexts
//! were made in, kept across fork), the twelve statistics as `SSL_CTX_sess_*` answers them, and
//! the engine's own `stored` (sessions it took in) and `served` (lookups it answered). A
//! process where the fleet tier started adds one line of the tier's counts,
//! `{"pid":...,"fleet":{"published":...}}` (no `ctx`: the tier is the process's).
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
use std::sync::MutexGuard;

use once_cell::sync::OnceCell;

use super::registry::{self, Retired, State};
use super::{Observed, Snapshot};

/// The report's file: its path, and the descriptor opened at start with what it was then.
struct Target {
    path: std::path::PathBuf,
    fd: c_int,
    dev_ino: Option<(u64, u64)>,
}

static TARGET: OnceCell<Target> = OnceCell::new();

thread_local! {
    /// The registry, locked by the fork handler from before fork() until after it.
    static HELD_FOR_FORK: std::cell::RefCell<Option<MutexGuard<'static, State>>> =
        const { std::cell::RefCell::new(None) };
}

/// Reads SESSCACHE_REPORT once; with it set, opens the file and registers the exit and fork
/// handlers.
pub fn enable() {
    let Some(path) = std::env::var_os("SESSCACHE_REPORT").filter(|p| !p.is_empty()) else { return };
    let path = std::path::PathBuf::from(path);
    let fd = open(&path);
    let target = Target { dev_ino: dev_ino(fd), fd, path };
    if TARGET.set(target).is_ok() {
        // SAFETY: registers a plain function to run at exit.
        unsafe { libc::atexit(write_report) };
        install_fork_handlers();
    }
}

/// The fork handlers, once per process (the report's and the stats socket's: a child counts
/// from the fork, and starts its own socket).
pub fn install_fork_handlers() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: registers plain functions to run around fork.
        unsafe {
            libc::pthread_atfork(
                Some(before_fork as unsafe extern "C" fn()),
                Some(after_fork_parent as unsafe extern "C" fn()),
                Some(after_fork_child as unsafe extern "C" fn()),
            );
        }
    });
}

fn enabled() -> bool {
    TARGET.get().is_some()
}

fn pid() -> i32 {
    // SAFETY: getpid has no preconditions.
    unsafe { libc::getpid() }
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

/// The context at `address` (registered in `registry`) is going away: its counts are taken now
/// (kept only if it worked), and the report no longer lists it. The registry still finds it
/// until its front unregisters it.
pub fn retire(address: usize, ctx: &dyn Observed) {
    if !enabled() {
        return;
    }
    let now = ctx.snapshot();
    let mut r = registry::lock();
    let Some(entry) = r.live.get_mut(&address).filter(|e| !e.retired) else { return };
    entry.retired = true;
    let id = entry.id;
    let counts = entry.base.as_ref().map_or(now, |base| now.since(base));
    if counts.worked() {
        r.retired.push(Retired { pid: pid(), id, counts });
    }
}

/// The JSON line for one context's counts, with its newline.
pub fn line(pid: i32, id: u64, s: &Snapshot) -> String {
    let mut line = format!("{{\"mode\":\"{}\",\"pid\":{pid},\"ctx\":{id}", s.front.name());
    for (name, value) in s.statistics() {
        line.push_str(&format!(",\"{name}\":{value}"));
    }
    line.push_str(&format!(",\"stored\":{},\"served\":{}}}\n", s.stored, s.served));
    line
}

/// The fleet tier's line, one per process where the tier started: its counts (the fleet is
/// the process's, not a context's), with its newline.
pub fn fleet_line(pid: i32, fleet: &crate::fleet::FleetCounters) -> String {
    format!("{{\"pid\":{pid},\"fleet\":{{{}}}}}\n", fleet.json_members())
}

/// The fleet's ticket keys' line, one per process that has a ring: its version and counts.
pub fn tickets_line(pid: i32, tickets: &crate::fleet::ring::TicketCounters) -> String {
    format!("{{\"pid\":{pid},\"tickets\":{{{}}}}}\n", tickets.json_members())
}

// ---- fork: the child starts counting from the values its contexts have at the fork ----

extern "C" fn before_fork() {
    let _ = std::panic::catch_unwind(|| {
        let mut r = registry::lock();
        for e in r.live.values_mut().filter(|e| !e.retired) {
            if let Some(c) = e.ctx.upgrade() {
                e.at_fork = Some(c.snapshot());
            }
        }
        HELD_FOR_FORK.with(|h| *h.borrow_mut() = Some(r));
    });
}

extern "C" fn after_fork_parent() {
    let _ = std::panic::catch_unwind(|| HELD_FOR_FORK.with(|h| h.borrow_mut().take()));
}

extern "C" fn after_fork_child() {
    super::socket::after_fork_child();
    let _ = std::panic::catch_unwind(|| {
        HELD_FOR_FORK.with(|h| {
            if let Some(mut r) = h.borrow_mut().take() {
                for e in r.live.values_mut() {
                    e.base = e.at_fork;
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
        let pid = pid();
        let lines: Vec<String> = {
            let mut r = registry::lock();
            let mut lines: Vec<String> = std::mem::take(&mut r.retired)
                .into_iter()
                .filter(|x| x.pid == pid)
                .map(|x| line(pid, x.id, &x.counts))
                .collect();
            let mut live: Vec<_> = r.live.values().filter(|e| !e.retired).collect();
            live.sort_by_key(|e| e.id);
            for e in live {
                if let Some(c) = e.ctx.upgrade() {
                    let now = c.snapshot();
                    let counts = e.base.as_ref().map_or(now, |base| now.since(base));
                    if counts.worked() {
                        lines.push(line(pid, e.id, &counts));
                    }
                }
            }
            lines
        };
        let mut lines = lines;
        if let Some(fleet) = crate::fleet::counters_if_started() {
            lines.push(fleet_line(pid, &fleet));
        }
        if let Some(tickets) = crate::fleet::ring::counters_if_started() {
            lines.push(tickets_line(pid, &tickets));
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::obs::Front;

    /// The line's keys and their order are the report's format (README, tests-c/modes).
    #[test]
    fn a_line_names_every_counter_in_order() {
        let s = Snapshot::from_ctrl(Front::Preload, |cmd| i64::from(cmd) - 20, 7, 8);
        assert_eq!(
            line(42, 3, &s),
            "{\"mode\":\"preload\",\"pid\":42,\"ctx\":3,\"number\":0,\"connect\":1,\"connect_good\":2,\
             \"connect_renegotiate\":3,\"accept\":4,\"accept_good\":5,\"accept_renegotiate\":6,\"hits\":7,\
             \"cb_hits\":8,\"misses\":9,\"timeouts\":10,\"cache_full\":11,\"stored\":7,\"served\":8}\n"
        );
    }

    /// The fleet's line: the process and every count of the tier, by name.
    #[test]
    fn the_fleet_line() {
        let f = crate::fleet::FleetCounters { published: 3, remote_hits: 2, mirror_bytes: 640, ..Default::default() };
        assert_eq!(
            fleet_line(42, &f),
            "{\"pid\":42,\"fleet\":{\"published\":3,\"publish_dropped\":0,\"received\":0,\"rejected\":0,\
             \"mirror_hits\":0,\"remote_lookups\":0,\"remote_hits\":2,\"remote_timeouts\":0,\"remote_errors\":0,\
             \"breaker_trips\":0,\"forgotten\":0,\"removals_received\":0,\"mirror_entries\":0,\"mirror_bytes\":640,\
             \"mirror_evicted\":0}}\n"
        );
    }

    /// The ticket keys' line: the process, the ring's version and every count, by name.
    #[test]
    fn the_tickets_line() {
        let t = crate::fleet::ring::TicketCounters { ring_version: 490_000, opened_previous: 2, ..Default::default() };
        assert_eq!(
            tickets_line(42, &t),
            "{\"pid\":42,\"tickets\":{\"ring_version\":490000,\"rotations\":0,\"rings_fetched\":0,\
             \"rings_published\":0,\"rings_rejected\":0,\"issued\":0,\"opened\":0,\"opened_previous\":2,\
             \"refused_aged_out\":0,\"refused_unknown\":0,\"rotation_failures\":0}}\n"
        );
    }

    /// A child's counts start at the fork's; `number` is what is cached now.
    #[test]
    fn since_keeps_number_and_subtracts_the_rest() {
        let base = Snapshot::from_ctrl(Front::Native, i64::from, 1, 1);
        let now = Snapshot::from_ctrl(Front::Native, |cmd| i64::from(cmd) * 2, 3, 1);
        let d = now.since(&base);
        assert_eq!((d.number, d.connect, d.cache_full, d.stored, d.served), (40, 21, 31, 2, 0));
        assert!(d.worked() && !base.since(&base).worked());
    }
}
