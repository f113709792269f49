//! The processes that use the library on this host, read from their stats sockets
//! (`<run dir>/<pid>.sock`, the library's src/obs/socket.rs): what `stat` and `metrics` show.
//! The command knows the library only from outside, so the run directory's rule is written
//! again here; the two must agree (sesscache(7), SESSCACHE_RUN_DIR).

use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

/// How long one process may take to accept, and to answer.
const TIMEOUT: Duration = Duration::from_secs(1);
/// The longest answer read from one process.
const ANSWER_LIMIT: u64 = 1 << 20;

/// The counters summed into totals, in the order the tables show them.
pub const COUNTERS: [&str; 14] = [
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

/// The fleet tier's counts in a process's document (`fleet`, null where the tier is off),
/// as the library names them (src/fleet/counters.rs); the two `mirror_entries` and
/// `mirror_bytes` are levels, the rest only grow.
pub const FLEET_COUNTERS: [(&str, &str); 15] = [
    ("published", "Sessions written to Redis and announced"),
    ("publish_dropped", "Sessions or removals not published (queue full, too large, Redis failed)"),
    ("received", "Other processes' sessions received and kept in memory"),
    ("rejected", "Blobs or messages that did not open (tampered, truncated, another key, garbage)"),
    ("mirror_hits", "Lookups answered from other processes' sessions in memory"),
    ("remote_lookups", "Lookups sent to Redis"),
    ("remote_hits", "Lookups Redis answered with a session within the budget"),
    ("remote_timeouts", "Lookups not answered within the budget"),
    ("remote_errors", "Lookups that failed (no connection, a Redis error)"),
    ("breaker_trips", "Times the circuit breaker opened"),
    ("forgotten", "Explicit removals sent to the fleet"),
    ("removals_received", "Removals received from other processes"),
    ("mirror_entries", "Other processes' sessions held in memory now"),
    ("mirror_bytes", "Bytes those sessions count against the memory cap now"),
    ("mirror_evicted", "Sessions evicted from memory to stay within the cap"),
];

/// Whether a fleet count is a level (a gauge) rather than a running total.
pub fn fleet_level(name: &str) -> bool {
    matches!(name, "mirror_entries" | "mirror_bytes")
}

/// The ticket key ring's counts in a process's document (`tickets`, null where the process has
/// no ring), with their help text, in the library's order (`TicketCounters::fields`, which a
/// test holds this to); `ring_version` is a level, the rest only grow.
pub const TICKET_COUNTERS: [(&str, &str); 11] = [
    ("ring_version", "Version of the ticket key ring in use (0: none yet)"),
    ("rotations", "Ticket key ring rotations made or picked up"),
    ("rings_fetched", "Ticket key rings taken from the fleet (Redis)"),
    ("rings_published", "Ticket key rings of this process stored in Redis for the fleet"),
    ("rings_rejected", "Ticket key rings in Redis that did not open (tampered, another fleet key, garbage)"),
    ("issued", "Tickets sealed under the current key"),
    ("opened", "Tickets opened with the current or next key"),
    ("opened_previous", "Tickets opened with the previous key (renewed)"),
    ("refused_aged_out", "Tickets refused as sealed under a key the ring aged out (full handshake)"),
    ("refused_unknown", "Tickets refused as sealed under a key never held (full handshake)"),
    ("rotation_failures", "Rotations that could not draw a key (the ring stayed as it was)"),
];

/// Whether a ticket count is a level (a gauge) rather than a running total. The host's
/// value of a level is the newest ring's version, not a sum.
pub fn ticket_level(name: &str) -> bool {
    name == "ring_version"
}

/// A process's ticket counts, or None where it has no ring.
pub fn tickets(p: &Value) -> Option<&serde_json::Map<String, Value>> {
    p.get("tickets").and_then(Value::as_object)
}

/// A process's fleet counts, or None where its tier is off.
pub fn fleet(p: &Value) -> Option<&serde_json::Map<String, Value>> {
    p.get("fleet").and_then(Value::as_object)
}

/// SESSCACHE_RUN_DIR, else `$XDG_RUNTIME_DIR/sesscache`, else `/run/sesscache`.
pub fn run_dir(explicit: Option<&Path>) -> PathBuf {
    if let Some(d) = explicit {
        return d.to_path_buf();
    }
    let env = |name| std::env::var_os(name).filter(|v: &OsString| !v.is_empty());
    if let Some(d) = env("SESSCACHE_RUN_DIR") {
        return PathBuf::from(d);
    }
    match env("XDG_RUNTIME_DIR") {
        Some(x) => Path::new(&x).join("sesscache"),
        None => PathBuf::from("/run/sesscache"),
    }
}

/// What one look at the run directory found.
#[derive(Default)]
pub struct Scan {
    /// Each process's document, as it sent it, in pid order.
    pub processes: Vec<Value>,
    /// Sockets that refused us (another user's process: mode 0600).
    pub unreadable: usize,
    /// Stale sockets removed (their process is gone).
    pub removed: usize,
    /// Sockets that did not answer in time or answered nonsense.
    pub unanswered: usize,
}

/// Every `<pid>.sock` in `dir`, asked for a snapshot. Stale ones (connection refused, or no
/// such process) are removed.
pub fn scan(dir: &Path) -> Scan {
    let mut scan = Scan::default();
    let Ok(entries) = std::fs::read_dir(dir) else { return scan };
    let mut sockets: Vec<(u32, PathBuf)> = entries
        .filter_map(|e| {
            let e = e.ok()?;
            let name = e.file_name();
            let pid = name.to_str()?.strip_suffix(".sock")?.parse::<u32>().ok()?;
            Some((pid, e.path()))
        })
        .collect();
    sockets.sort();
    for (pid, path) in sockets {
        match ask(&path) {
            Ok(doc) => scan.processes.push(doc),
            Err(Failure::Refused) => {
                // A listener is gone (refused) or its process is: nobody will answer there again.
                if std::fs::remove_file(&path).is_ok() {
                    scan.removed += 1;
                }
            }
            Err(Failure::Denied) => scan.unreadable += 1,
            Err(Failure::Other) if !process_exists(pid) => {
                if std::fs::remove_file(&path).is_ok() {
                    scan.removed += 1;
                }
            }
            Err(Failure::Other) => scan.unanswered += 1,
        }
    }
    scan
}

enum Failure {
    Refused,
    Denied,
    Other,
}

fn process_exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

fn ask(path: &Path) -> Result<Value, Failure> {
    let mut stream = connect(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::ConnectionRefused => Failure::Refused,
        std::io::ErrorKind::PermissionDenied => Failure::Denied,
        _ => Failure::Other,
    })?;
    stream.set_read_timeout(Some(TIMEOUT)).map_err(|_| Failure::Other)?;
    stream.set_write_timeout(Some(TIMEOUT)).map_err(|_| Failure::Other)?;
    stream.write_all(b"snapshot\n").map_err(|_| Failure::Other)?;
    let mut answer = Vec::new();
    stream.take(ANSWER_LIMIT).read_to_end(&mut answer).map_err(|_| Failure::Other)?;
    let doc: Value = serde_json::from_slice(&answer).map_err(|_| Failure::Other)?;
    if doc.get("pid").and_then(Value::as_u64).is_none() || doc.get("error").is_some() {
        return Err(Failure::Other);
    }
    Ok(doc)
}

/// A connection to the socket at `path`, given up after TIMEOUT: a process that does not
/// accept (stopped, say) fills its backlog, and a plain connect would then wait for ever.
/// Linux bounds a Unix socket's connect by its send timeout, which std cannot set before
/// connecting.
fn connect(path: &Path) -> std::io::Result<UnixStream> {
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::os::unix::ffi::OsStrExt;
    // SAFETY: sockaddr_un is plain data; all zeroes is a valid value.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    let bytes = path.as_os_str().as_bytes();
    if bytes.len() >= addr.sun_path.len() {
        return Err(std::io::ErrorKind::InvalidInput.into());
    }
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (dst, &src) in addr.sun_path.iter_mut().zip(bytes) {
        *dst = src as libc::c_char;
    }
    // SAFETY: socket() has no preconditions.
    let raw = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `raw` was just made and is owned by nothing else.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let tv = libc::timeval { tv_sec: TIMEOUT.as_secs() as libc::time_t, tv_usec: 0 };
    let len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
    // SAFETY: setsockopt with a timeval of its size; connect with a sockaddr_un of `len` bytes.
    let failed = unsafe {
        libc::setsockopt(
            raw,
            libc::SOL_SOCKET,
            libc::SO_SNDTIMEO,
            (&tv as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        ) != 0
            || libc::connect(raw, (&addr as *const libc::sockaddr_un).cast(), len) != 0
    };
    if failed {
        return Err(std::io::Error::last_os_error());
    }
    Ok(UnixStream::from(fd))
}

/// A counter of an object, 0 when absent.
pub fn count(v: &Value, name: &str) -> i64 {
    v.get(name).and_then(Value::as_i64).unwrap_or(0)
}

/// The host's totals: processes, contexts, and each counter summed over the processes.
pub fn totals(processes: &[Value]) -> serde_json::Map<String, Value> {
    let mut t = serde_json::Map::new();
    t.insert("processes".into(), processes.len().into());
    let sum = |name: &str| processes.iter().map(|p| p.get("totals").map_or(0, |t| count(t, name))).sum::<i64>();
    t.insert("contexts".into(), sum("contexts").into());
    for name in COUNTERS {
        t.insert(name.into(), sum(name).into());
    }
    // The fleet's, over the processes where it runs (absent when it runs nowhere).
    let fleets: Vec<&serde_json::Map<String, Value>> = processes.iter().filter_map(fleet).collect();
    if !fleets.is_empty() {
        let mut f = serde_json::Map::new();
        f.insert("processes".into(), fleets.len().into());
        for (name, _) in FLEET_COUNTERS {
            let total: i64 = fleets.iter().map(|m| m.get(name).and_then(Value::as_i64).unwrap_or(0)).sum();
            f.insert(name.into(), total.into());
        }
        t.insert("fleet".into(), f.into());
    }
    // The ticket key ring's, over the processes that have one (absent when none has).
    let rings: Vec<&serde_json::Map<String, Value>> = processes.iter().filter_map(tickets).collect();
    if !rings.is_empty() {
        let mut r = serde_json::Map::new();
        r.insert("processes".into(), rings.len().into());
        for (name, _) in TICKET_COUNTERS {
            let values = rings.iter().map(|m| m.get(name).and_then(Value::as_i64).unwrap_or(0));
            let total: i64 = if ticket_level(name) { values.max().unwrap_or(0) } else { values.sum() };
            r.insert(name.into(), total.into());
        }
        t.insert("tickets".into(), r.into());
    }
    t
}

/// The words set in bold (`.B`, `.BR`: the first word) in the section `.SS <section>` of
/// sesscache(1), for the tests that hold the page to what `stat` and `metrics` print.
#[cfg(test)]
pub fn man_page_bold_words(section: &str) -> Vec<&'static str> {
    let page = include_str!("../../../man/sesscache.1");
    let start = page.find(&format!("\n.SS {section}\n")).expect("the section");
    let rest = &page[start + 1..];
    let end = rest[1..].find("\n.S").map_or(rest.len(), |i| i + 1);
    rest[..end]
        .lines()
        .filter_map(|l| l.strip_prefix(".B ").or_else(|| l.strip_prefix(".BR ")))
        .filter_map(|l| l.split_whitespace().next())
        .collect()
}

/// hits / (hits + misses), as a percentage, or None before any lookup.
pub fn hit_ratio(hits: i64, misses: i64) -> Option<f64> {
    (hits + misses > 0).then(|| 100.0 * hits as f64 / (hits + misses) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_sum_every_process() {
        let a: Value =
            serde_json::from_str(r#"{"pid":1,"totals":{"contexts":2,"hits":3,"misses":1,"number":4}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"pid":2,"totals":{"contexts":1,"hits":5,"stored":2}}"#).unwrap();
        let t = totals(&[a, b]);
        assert_eq!(t["processes"], 2);
        assert_eq!(t["contexts"], 3);
        assert_eq!(t["hits"], 8);
        assert_eq!(t["misses"], 1);
        assert_eq!(t["stored"], 2);
        assert_eq!(t["cache_full"], 0);
        assert_eq!(hit_ratio(3, 1), Some(75.0));
        assert!(t.get("fleet").is_none(), "no fleet anywhere: no fleet totals");
        assert_eq!(hit_ratio(0, 0), None);
    }

    #[test]
    fn fleet_totals_sum_the_processes_where_it_runs() {
        let a: Value =
            serde_json::from_str(r#"{"pid":1,"totals":{},"fleet":{"published":3,"remote_hits":1,"mirror_bytes":100}}"#)
                .unwrap();
        let b: Value = serde_json::from_str(r#"{"pid":2,"totals":{},"fleet":null}"#).unwrap();
        let c: Value =
            serde_json::from_str(r#"{"pid":3,"totals":{},"fleet":{"published":2,"mirror_bytes":50}}"#).unwrap();
        let t = totals(&[a, b, c]);
        let f = &t["fleet"];
        assert_eq!(f["processes"], 2);
        assert_eq!(f["published"], 5);
        assert_eq!(f["remote_hits"], 1);
        assert_eq!(f["mirror_bytes"], 150);
        assert_eq!(f["rejected"], 0);
        assert_eq!(f.as_object().unwrap().len(), 1 + FLEET_COUNTERS.len());
    }

    #[test]
    fn ticket_totals_sum_the_processes_with_a_ring() {
        let a: Value = serde_json::from_str(
            r#"{"pid":1,"totals":{},"tickets":{"ring_version":7,"rotations":2,"opened_previous":1}}"#,
        )
        .unwrap();
        let b: Value = serde_json::from_str(r#"{"pid":2,"totals":{},"tickets":null}"#).unwrap();
        let c: Value = serde_json::from_str(
            r#"{"pid":3,"totals":{},"tickets":{"ring_version":6,"rotations":1,"refused_aged_out":4}}"#,
        )
        .unwrap();
        let t = totals(&[a.clone(), b.clone(), c]);
        let r = &t["tickets"];
        assert_eq!(r["processes"], 2);
        assert_eq!(r["ring_version"], 7, "the newest ring, not a sum");
        assert_eq!(r["rotations"], 3);
        assert_eq!(r["opened_previous"], 1);
        assert_eq!(r["refused_aged_out"], 4);
        assert_eq!(r["issued"], 0);
        assert_eq!(r.as_object().unwrap().len(), 1 + TICKET_COUNTERS.len());
        assert!(totals(&[b]).get("tickets").is_none(), "no ring anywhere: no ticket totals");
    }

    /// The names are the library's, in its order: what its stats socket sends.
    #[test]
    fn fleet_names_are_the_librarys() {
        let library = sesscache::fleet::FleetCounters::default();
        assert!(library.fields().iter().map(|(name, _)| *name).eq(FLEET_COUNTERS.iter().map(|(name, _)| *name)));
    }

    #[test]
    fn ticket_names_are_the_librarys() {
        let library = sesscache::fleet::ring::TicketCounters::default();
        assert!(library.fields().iter().map(|(name, _)| *name).eq(TICKET_COUNTERS.iter().map(|(name, _)| *name)));
    }

    #[test]
    fn run_dir_rule() {
        assert_eq!(run_dir(Some(Path::new("/x"))), PathBuf::from("/x"));
    }
}
