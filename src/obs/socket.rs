//! The stats socket: each process that uses the cache and has a run directory answers
//! snapshots of its contexts on `<run dir>/<pid>.sock`, for `sesscache stat` and
//! `sesscache metrics`.
//!
//! - Run directory: SESSCACHE_RUN_DIR (created mode 0700 when missing), else
//!   `$XDG_RUNTIME_DIR/sesscache`, else `/run/sesscache`, read at the first context and kept
//!   by forked children (whose environment a daemon may have cleared); used only if the socket
//!   can be bound there. Otherwise nothing starts and nothing is said (no thread, no line on stderr).
//! - Started lazily, once per process: at the first context registered, and in a forked child
//!   (whose listener, inherited, is closed by the fork handler) at its next `SSL_new`, which
//!   then costs one relaxed atomic load. One detached thread, all signals blocked (the
//!   process's signals stay with its own threads: nginx's master waits in sigsuspend), accepts
//!   one connection at a time, reads one request line (at most 256 bytes, 1 s), answers, closes.
//! - The socket is bound with mode 0600 (fchmod before bind, so it is never wider), owned by
//!   the process's user; read-only; it holds counters, no secret. Removed at exit by the
//!   process that made it (the parent's is not removed by a child).
//!
//! Protocol: `snapshot\n` -> one JSON document and close (`document`, with the fleet tier's
//! counts when it runs and the ticket key ring's once the process has one); anything else -> one
//! `{"error":...}` line and close. The counts are this process's own work, as the report
//! counts them: a forked child counts from the values at the fork (`number` excepted).

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Mutex, Once};
use std::time::Duration;

use super::{registry, Front, Snapshot};
use crate::fleet::ring::TicketCounters;
use crate::fleet::FleetCounters;

/// The longest request line read.
pub const REQUEST_LIMIT: usize = 256;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(1);
/// The version of the document's layout (fields are only ever added): 2 added `fleet`, 3
/// added `tickets`.
pub const VERSION: u32 = 3;

/// This process tried to start its socket (whatever came of it); reset in a forked child.
static TRIED: AtomicBool = AtomicBool::new(false);
/// The listener this process's thread serves, for a forked child to close.
static LISTENER_FD: AtomicI32 = AtomicI32::new(-1);
/// The socket file and the process that made it, for the exit handler.
static CREATED: Mutex<Option<(u32, PathBuf)>> = Mutex::new(None);
static AT_EXIT: Once = Once::new();
/// The run directory, as the environment named it when this process or its first ancestor
/// using the cache first tried.
static RUN_DIR: once_cell::sync::OnceCell<Option<(PathBuf, bool)>> = once_cell::sync::OnceCell::new();

/// Starts this process's socket if it has not tried yet: the check on the per-connection path.
#[inline]
pub fn ensure_started() {
    if !TRIED.load(Ordering::Relaxed) {
        start();
    }
}

#[cold]
fn start() {
    if TRIED.swap(true, Ordering::Relaxed) {
        return;
    }
    // Fork handlers even without a socket here: a child that gets one counts from the fork.
    super::report::install_fork_handlers();
    let _ = std::panic::catch_unwind(|| {
        // Read once, by the first process: a forked child uses its parent's directory (nginx
        // clears its workers' environment).
        let Some((dir, create)) = RUN_DIR
            .get_or_init(|| {
                let set = |v: Option<std::ffi::OsString>| v.filter(|v| !v.is_empty());
                run_dir(set(std::env::var_os("SESSCACHE_RUN_DIR")), set(std::env::var_os("XDG_RUNTIME_DIR")))
            })
            .clone()
        else {
            return;
        };
        if create && !dir.exists() {
            use std::os::unix::fs::DirBuilderExt;
            if std::fs::DirBuilder::new().mode(0o700).create(&dir).is_err() {
                return;
            }
        }
        let pid = std::process::id();
        let path = dir.join(format!("{pid}.sock"));
        let Some(listener) = sys::bind_private(&path) else { return };
        let fd = listener.as_raw_fd();
        let spawned = crate::abi::boundary::with_signals_blocked(|| {
            std::thread::Builder::new().name("sesscache-stats".into()).spawn(move || serve(listener))
        });
        if spawned.is_err() {
            let _ = std::fs::remove_file(&path);
            return;
        }
        LISTENER_FD.store(fd, Ordering::Relaxed);
        // try_lock: a fork in the middle of a start may have left it held in this child.
        if let Ok(mut created) = CREATED.try_lock() {
            *created = Some((pid, path));
        }
        AT_EXIT.call_once(sys::remove_at_exit);
    });
}

/// The run directory and whether it may be created: SESSCACHE_RUN_DIR (may be), else
/// `$XDG_RUNTIME_DIR/sesscache`, else `/run/sesscache` (both must exist).
pub fn run_dir(
    sesscache_run_dir: Option<std::ffi::OsString>,
    xdg: Option<std::ffi::OsString>,
) -> Option<(PathBuf, bool)> {
    if let Some(d) = sesscache_run_dir {
        return Some((PathBuf::from(d), true));
    }
    let dir = match xdg {
        Some(x) => Path::new(&x).join("sesscache"),
        None => PathBuf::from("/run/sesscache"),
    };
    Some((dir, false))
}

/// The fork handler's part in the child: the parent's listener is not ours to serve, and the
/// child starts its own socket at its next connection.
pub(super) fn after_fork_child() {
    let fd = LISTENER_FD.swap(-1, Ordering::Relaxed);
    if fd >= 0 {
        sys::close(fd);
    }
    TRIED.store(false, Ordering::Relaxed);
}

fn serve(listener: UnixListener) {
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                let _ = std::panic::catch_unwind(move || answer(stream));
            }
            // Out of descriptors or the like: wait rather than spin.
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

fn answer(mut stream: UnixStream) {
    let _ = stream.set_read_timeout(Some(REQUEST_TIMEOUT));
    let _ = stream.set_write_timeout(Some(REQUEST_TIMEOUT));
    let mut buf = [0u8; REQUEST_LIMIT];
    let mut len = 0;
    while len < buf.len() && !buf[..len].contains(&b'\n') {
        match stream.read(&mut buf[len..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => len += n,
        }
    }
    let reply = match parse_request(&buf[..len]) {
        Ok(Request::Snapshot) => document(
            std::process::id(),
            &program(),
            &registry::own_snapshots(),
            crate::fleet::counters_if_started().as_ref(),
            crate::fleet::ring::counters_if_started().as_ref(),
        ),
        Err(e) => format!("{{\"error\":{}}}\n", json_string(e)),
    };
    let _ = stream.write_all(reply.as_bytes());
    // Closing with unread bytes would reset the connection before the client reads the
    // answer: end ours, then drain a little of what the client still sends (bounded).
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut drained = 0;
    while drained < 4 * REQUEST_LIMIT {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => drained += n,
        }
    }
}

/// What a client may ask.
#[derive(Debug, PartialEq, Eq)]
pub enum Request {
    Snapshot,
}

/// One request line, as read (at most REQUEST_LIMIT bytes): `snapshot` and a newline.
pub fn parse_request(bytes: &[u8]) -> Result<Request, &'static str> {
    let Some(end) = bytes.iter().position(|&b| b == b'\n') else {
        return Err(if bytes.len() >= REQUEST_LIMIT {
            "request too long"
        } else {
            "incomplete request: expected \"snapshot\" and a newline"
        });
    };
    let line = &bytes[..end];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    match line {
        b"snapshot" => Ok(Request::Snapshot),
        _ => Err("unknown request: expected \"snapshot\""),
    }
}

/// The process's name: /proc/self/comm, else argv[0]'s file name.
fn program() -> String {
    if let Ok(comm) = std::fs::read_to_string("/proc/self/comm") {
        let comm = comm.trim_end_matches('\n');
        if !comm.is_empty() {
            return comm.to_string();
        }
    }
    std::env::args_os()
        .next()
        .map(|a| Path::new(&a).file_name().unwrap_or(a.as_ref()).to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A JSON string literal.
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A snapshot's fields as JSON members (no braces): the twelve statistics, stored, served.
fn members(s: &Snapshot) -> String {
    let mut out = String::new();
    for (name, value) in s.statistics() {
        out.push_str(&format!("\"{name}\":{value},"));
    }
    out.push_str(&format!("\"stored\":{},\"served\":{}", s.stored, s.served));
    out
}

/// The answer to `snapshot`: the process, each context (an object with named fields, so
/// counters can be added), the process's totals, the fleet tier's counts (null where the
/// tier did not start in this process) and the ticket key ring's (null where the process has
/// no ring); one line.
pub fn document(
    pid: u32,
    program: &str,
    contexts: &[(u64, Snapshot)],
    fleet: Option<&FleetCounters>,
    tickets: Option<&TicketCounters>,
) -> String {
    let mode = match contexts.first() {
        Some((_, s)) => s.front.name(),
        None => "none",
    };
    let mut out =
        format!("{{\"version\":{VERSION},\"pid\":{pid},\"program\":{},\"mode\":\"{mode}\"", json_string(program));
    out.push_str(",\"contexts\":[");
    let mut total: Option<Snapshot> = None;
    for (i, (id, s)) in contexts.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!("{{\"ctx\":{id},\"mode\":\"{}\",{}}}", s.front.name(), members(s)));
        total = Some(match total {
            None => *s,
            Some(t) => t.plus(s),
        });
    }
    out.push_str("],\"totals\":{");
    let total = total.unwrap_or_else(|| Snapshot::from_ctrl(Front::Native, |_| 0, 0, 0));
    out.push_str(&format!("\"contexts\":{},{}", contexts.len(), members(&total)));
    out.push('}');
    match fleet {
        Some(f) => out.push_str(&format!(",\"fleet\":{{{}}}", f.json_members())),
        None => out.push_str(",\"fleet\":null"),
    }
    match tickets {
        Some(t) => out.push_str(&format!(",\"tickets\":{{{}}}", t.json_members())),
        None => out.push_str(",\"tickets\":null"),
    }
    out.push_str("}\n");
    out
}

/// The socket's libc calls: the whole unsafe surface of this file.
mod sys {
    use std::ffi::CString;
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::net::UnixListener;
    use std::path::Path;

    /// A listening Unix socket at `path`, mode 0600 from the start: the mode is set on the
    /// socket before bind, which creates the file with it (less the umask). A file already at
    /// `path` is a dead process's (the name carries this process's id): it is replaced.
    pub(super) fn bind_private(path: &Path) -> Option<UnixListener> {
        // SAFETY: sockaddr_un is plain data; all zeroes is a valid value.
        let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
        let bytes = path.as_os_str().as_bytes();
        if bytes.len() >= addr.sun_path.len() || bytes.contains(&0) {
            return None;
        }
        addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
        for (dst, &src) in addr.sun_path.iter_mut().zip(bytes) {
            *dst = src as libc::c_char;
        }
        // SAFETY: socket() has no preconditions.
        let raw = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
        if raw < 0 {
            return None;
        }
        // SAFETY: `raw` is a descriptor just made, owned by nothing else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: fchmod on a live descriptor.
        if unsafe { libc::fchmod(raw, 0o600) } != 0 {
            return None;
        }
        let len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
        let bind = || {
            // SAFETY: `addr` is a valid sockaddr_un of `len` bytes; `raw` is live.
            unsafe { libc::bind(raw, (&addr as *const libc::sockaddr_un).cast(), len) }
        };
        if bind() != 0 {
            if std::io::Error::last_os_error().raw_os_error() != Some(libc::EADDRINUSE) {
                return None;
            }
            std::fs::remove_file(path).ok()?;
            if bind() != 0 {
                return None;
            }
        }
        // SAFETY: listen on a live, bound descriptor.
        if unsafe { libc::listen(raw, 16) } != 0 {
            let _ = std::fs::remove_file(path);
            return None;
        }
        Some(UnixListener::from(fd))
    }

    pub(super) fn close(fd: libc::c_int) {
        // SAFETY: closes the inherited listener, which nothing in this process uses.
        unsafe { libc::close(fd) };
    }

    pub(super) fn remove_at_exit() {
        // SAFETY: registers a plain function to run at exit.
        unsafe { libc::atexit(remove_socket) };
    }

    /// At exit: the socket file, if this process made it (a forked child inherits the handler
    /// and the parent's path). try_lock: exit never waits.
    extern "C" fn remove_socket() {
        let _ = std::panic::catch_unwind(|| {
            let Ok(created) = super::CREATED.try_lock() else { return };
            if let Some((pid, path)) = created.as_ref() {
                if *pid == std::process::id() {
                    if let Ok(c) = CString::new(path.as_os_str().as_bytes()) {
                        // SAFETY: a NUL-terminated path.
                        unsafe { libc::unlink(c.as_ptr()) };
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests() {
        assert_eq!(parse_request(b"snapshot\n"), Ok(Request::Snapshot));
        assert_eq!(parse_request(b"snapshot\r\n"), Ok(Request::Snapshot));
        assert!(parse_request(b"snapshot").unwrap_err().starts_with("incomplete"));
        assert!(parse_request(b"").unwrap_err().starts_with("incomplete"));
        assert!(parse_request(b"snapshots\n").unwrap_err().starts_with("unknown"));
        assert!(parse_request(b"GET / HTTP/1.0\r\n").unwrap_err().starts_with("unknown"));
        assert!(parse_request(b" snapshot\n").is_err());
        assert_eq!(parse_request(&[b'x'; REQUEST_LIMIT]), Err("request too long"));
    }

    #[test]
    fn run_dir_rule() {
        let p = |d: Option<&str>, x: Option<&str>| run_dir(d.map(Into::into), x.map(Into::into));
        assert_eq!(p(Some("/a"), Some("/x")), Some((PathBuf::from("/a"), true)));
        assert_eq!(p(None, Some("/x")), Some((PathBuf::from("/x/sesscache"), false)));
        assert_eq!(p(None, None), Some((PathBuf::from("/run/sesscache"), false)));
    }

    #[test]
    fn strings_are_escaped() {
        assert_eq!(json_string("a\"b\\c\n\u{1}é"), "\"a\\\"b\\\\c\\n\\u0001é\"");
    }

    /// Named fields per context and summed totals; one line.
    #[test]
    fn the_document() {
        let a = Snapshot::from_ctrl(Front::Preload, |cmd| i64::from(cmd) - 20, 7, 8);
        let b = Snapshot::from_ctrl(Front::Preload, |_| 1, 1, 2);
        let doc = document(42, "ng\"x", &[(1, a), (3, b)], None, None);
        let fields = "\"number\":0,\"connect\":1,\"connect_good\":2,\"connect_renegotiate\":3,\"accept\":4,\
                      \"accept_good\":5,\"accept_renegotiate\":6,\"hits\":7,\"cb_hits\":8,\"misses\":9,\
                      \"timeouts\":10,\"cache_full\":11,\"stored\":7,\"served\":8";
        let ones = "\"number\":1,\"connect\":1,\"connect_good\":1,\"connect_renegotiate\":1,\"accept\":1,\
                    \"accept_good\":1,\"accept_renegotiate\":1,\"hits\":1,\"cb_hits\":1,\"misses\":1,\
                    \"timeouts\":1,\"cache_full\":1,\"stored\":1,\"served\":2";
        let sums = "\"number\":1,\"connect\":2,\"connect_good\":3,\"connect_renegotiate\":4,\"accept\":5,\
                    \"accept_good\":6,\"accept_renegotiate\":7,\"hits\":8,\"cb_hits\":9,\"misses\":10,\
                    \"timeouts\":11,\"cache_full\":12,\"stored\":8,\"served\":10";
        assert_eq!(
            doc,
            format!(
                "{{\"version\":3,\"pid\":42,\"program\":\"ng\\\"x\",\"mode\":\"preload\",\"contexts\":[\
                 {{\"ctx\":1,\"mode\":\"preload\",{fields}}},{{\"ctx\":3,\"mode\":\"preload\",{ones}}}],\
                 \"totals\":{{\"contexts\":2,{sums}}},\"fleet\":null,\"tickets\":null}}\n"
            )
        );
        assert_eq!(
            document(1, "p", &[], None, None),
            "{\"version\":3,\"pid\":1,\"program\":\"p\",\"mode\":\"none\",\"contexts\":[],\"totals\":{\"contexts\":0,\
             \"number\":0,\"connect\":0,\"connect_good\":0,\"connect_renegotiate\":0,\"accept\":0,\"accept_good\":0,\
             \"accept_renegotiate\":0,\"hits\":0,\"cb_hits\":0,\"misses\":0,\"timeouts\":0,\"cache_full\":0,\
             \"stored\":0,\"served\":0},\"fleet\":null,\"tickets\":null}\n"
        );
        let fleet = FleetCounters { published: 5, mirror_entries: 2, ..Default::default() };
        let doc = document(1, "p", &[], Some(&fleet), None);
        assert!(
            doc.ends_with(&format!("\"served\":0}},\"fleet\":{{{}}},\"tickets\":null}}\n", fleet.json_members())),
            "{doc}"
        );
        assert!(doc.contains("\"fleet\":{\"published\":5,") && doc.contains("\"mirror_entries\":2,"));
    }

    /// The ring's counts after the fleet's, by the names the report uses; null without a ring.
    #[test]
    fn the_tickets_member() {
        let tickets = TicketCounters { ring_version: 7, refused_aged_out: 3, ..Default::default() };
        let doc = document(1, "p", &[], None, Some(&tickets));
        assert!(
            doc.ends_with(&format!("\"served\":0}},\"fleet\":null,\"tickets\":{{{}}}}}\n", tickets.json_members())),
            "{doc}"
        );
        assert!(doc.contains("\"tickets\":{\"ring_version\":7,\"rotations\":0,"), "{doc}");
        assert!(doc.contains("\"refused_aged_out\":3,"), "{doc}");
        let fleet = FleetCounters { published: 5, ..Default::default() };
        let doc = document(1, "p", &[], Some(&fleet), Some(&tickets));
        assert!(doc.contains(&format!("}},\"tickets\":{{{}}}}}\n", tickets.json_members())), "{doc}");
        let parsed: serde_json::Value = serde_json::from_str(&doc).unwrap();
        assert_eq!(parsed["version"], 3);
        assert_eq!(parsed["fleet"]["published"], 5);
        assert_eq!(parsed["tickets"]["ring_version"], 7);
    }
}
