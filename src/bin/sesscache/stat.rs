//! `sesscache stat`: every process that uses the library, live (like top or varnishstat),
//! once, or as one JSON document.

use std::io::Write;

use serde_json::Value;

use crate::args::StatOptions;
use crate::procs::{self, count, hit_ratio, Scan};

/// The JSON document: the run directory, each process's snapshot, the host's totals.
pub fn json(dir: &std::path::Path, scan: &Scan) -> String {
    let doc = serde_json::json!({
        "run_dir": dir.to_string_lossy(),
        "totals": procs::totals(&scan.processes),
        "processes": scan.processes,
        "unreadable": scan.unreadable,
        "unanswered": scan.unanswered,
        "removed_stale": scan.removed,
    });
    format!("{doc}\n")
}

fn ratio(hits: i64, misses: i64) -> String {
    hit_ratio(hits, misses).map_or_else(|| "-".to_string(), |r| format!("{r:.1}%"))
}

/// The screen: the totals on top, then one row per process.
pub fn table(dir: &std::path::Path, scan: &Scan, footer: &str) -> String {
    let t = procs::totals(&scan.processes);
    let n = |name: &str| t.get(name).and_then(Value::as_i64).unwrap_or(0);
    let mut out = format!("sesscache stat: {} process(es) in {}{footer}\n", scan.processes.len(), dir.display());
    out.push_str(&format!(
        "totals: contexts {}  sessions {}  accepts {}  hits {}  misses {}  timeouts {}  cache_full {}  hit ratio {}\n",
        n("contexts"),
        n("number"),
        n("accept"),
        n("hits"),
        n("misses"),
        n("timeouts"),
        n("cache_full"),
        ratio(n("hits"), n("misses"))
    ));
    if let Some(f) = t.get("fleet").and_then(Value::as_object) {
        let n = |name: &str| f.get(name).and_then(Value::as_i64).unwrap_or(0);
        out.push_str(&format!(
            "fleet: processes {}  published {}  received {}  mirror hits {}  remote hits {} of {}  timeouts {}  \
             errors {}  breaker trips {}  dropped {}  rejected {}  mirror {} sessions {} bytes\n",
            n("processes"),
            n("published"),
            n("received"),
            n("mirror_hits"),
            n("remote_hits"),
            n("remote_lookups"),
            n("remote_timeouts"),
            n("remote_errors"),
            n("breaker_trips"),
            n("publish_dropped"),
            n("rejected"),
            n("mirror_entries"),
            n("mirror_bytes"),
        ));
    }
    if let Some(r) = t.get("tickets").and_then(Value::as_object) {
        let n = |name: &str| r.get(name).and_then(Value::as_i64).unwrap_or(0);
        out.push_str(&format!(
            "tickets: processes {}  ring version {}  rotations {}  rings fetched {}  published {}  rejected {}  \
             issued {}  opened {}  opened previous {}  refused aged out {}  unknown {}  rotation failures {}\n",
            n("processes"),
            n("ring_version"),
            n("rotations"),
            n("rings_fetched"),
            n("rings_published"),
            n("rings_rejected"),
            n("issued"),
            n("opened"),
            n("opened_previous"),
            n("refused_aged_out"),
            n("refused_unknown"),
            n("rotation_failures"),
        ));
    }
    let mut notes = Vec::new();
    if scan.unreadable > 0 {
        notes.push(format!("{} socket(s) of other users not readable", scan.unreadable));
    }
    if scan.unanswered > 0 {
        notes.push(format!("{} socket(s) did not answer", scan.unanswered));
    }
    if scan.removed > 0 {
        notes.push(format!("{} stale socket(s) removed", scan.removed));
    }
    if !notes.is_empty() {
        out.push_str(&format!("({})\n", notes.join(", ")));
    }
    out.push('\n');
    out.push_str(&format!(
        "{:>8} {:<15} {:<7} {:>4} {:>9} {:>9} {:>9} {:>9} {:>8} {:>10} {:>7}\n",
        "PID", "PROGRAM", "MODE", "CTX", "SESSIONS", "ACCEPTS", "HITS", "MISSES", "TIMEOUTS", "CACHE_FULL", "HIT%"
    ));
    for p in &scan.processes {
        let empty = Value::Null;
        let t = p.get("totals").unwrap_or(&empty);
        let program: String = p.get("program").and_then(Value::as_str).unwrap_or("?").chars().take(15).collect();
        out.push_str(&format!(
            "{:>8} {:<15} {:<7} {:>4} {:>9} {:>9} {:>9} {:>9} {:>8} {:>10} {:>7}\n",
            count(p, "pid"),
            program,
            p.get("mode").and_then(Value::as_str).unwrap_or("?"),
            count(t, "contexts"),
            count(t, "number"),
            count(t, "accept"),
            count(t, "hits"),
            count(t, "misses"),
            count(t, "timeouts"),
            count(t, "cache_full"),
            ratio(count(t, "hits"), count(t, "misses")),
        ));
    }
    let fleets: Vec<_> = scan.processes.iter().filter_map(|p| procs::fleet(p).map(|f| (p, f))).collect();
    member_table(&mut out, &fleets, &FLEET_COLUMNS);
    let rings: Vec<_> = scan.processes.iter().filter_map(|p| procs::tickets(p).map(|r| (p, r))).collect();
    member_table(&mut out, &rings, &TICKET_COLUMNS);
    out
}

/// A per-process table's columns after PID: (header, width, the member it shows).
type Columns = [(&'static str, usize, &'static str)];

const FLEET_COLUMNS: [(&str, usize, &str); 11] = [
    ("PUBLISHED", 9, "published"),
    ("RECEIVED", 9, "received"),
    ("MIRROR_HIT", 9, "mirror_hits"),
    ("REMOTE_HIT", 9, "remote_hits"),
    ("LOOKUPS", 9, "remote_lookups"),
    ("TIMEOUTS", 8, "remote_timeouts"),
    ("ERRORS", 7, "remote_errors"),
    ("TRIPS", 6, "breaker_trips"),
    ("DROPPED", 8, "publish_dropped"),
    ("REJECTED", 8, "rejected"),
    ("MIRRORED", 8, "mirror_entries"),
];

const TICKET_COLUMNS: [(&str, usize, &str); 10] = [
    ("RING", 12, "ring_version"),
    ("ROTATIONS", 9, "rotations"),
    ("FETCHED", 7, "rings_fetched"),
    ("PUBLISHED", 9, "rings_published"),
    ("REJECTED", 9, "rings_rejected"),
    ("ISSUED", 9, "issued"),
    ("OPENED", 9, "opened"),
    ("PREVIOUS", 9, "opened_previous"),
    ("AGED_OUT", 8, "refused_aged_out"),
    ("UNKNOWN", 8, "refused_unknown"),
];

/// One table of a member object (the fleet's or the ticket ring's counts) for the processes
/// that have it, after a blank line; nothing when none has it.
fn member_table(out: &mut String, rows: &[(&Value, &serde_json::Map<String, Value>)], columns: &Columns) {
    if rows.is_empty() {
        return;
    }
    out.push('\n');
    out.push_str(&format!("{:>8}", "PID"));
    for (header, width, _) in columns {
        out.push_str(&format!(" {header:>width$}"));
    }
    out.push('\n');
    for (p, member) in rows {
        out.push_str(&format!("{:>8}", count(p, "pid")));
        for (_, width, name) in columns {
            out.push_str(&format!(" {:>width$}", member.get(*name).and_then(Value::as_i64).unwrap_or(0)));
        }
        out.push('\n');
    }
}

pub fn stat(opts: &StatOptions) -> i32 {
    let dir = procs::run_dir(opts.run_dir.as_deref());
    if !dir.is_dir() {
        eprintln!("sesscache stat: no run directory {} (SESSCACHE_RUN_DIR, --run-dir)", dir.display());
        return crate::FAILED;
    }
    if opts.once || opts.json && opts.count.is_none() {
        let scan = procs::scan(&dir);
        print!("{}", if opts.json { json(&dir, &scan) } else { table(&dir, &scan, "") });
        return crate::OK;
    }
    let tty = Terminal::raw();
    let mut shown = 0u64;
    loop {
        let scan = procs::scan(&dir);
        let out = if opts.json {
            json(&dir, &scan)
        } else {
            let footer = format!("  (every {} s; q quits)", opts.interval);
            format!("\x1b[H\x1b[2J{}", table(&dir, &scan, &footer))
        };
        let mut stdout = std::io::stdout().lock();
        if stdout.write_all(out.as_bytes()).and_then(|_| stdout.flush()).is_err() {
            break;
        }
        drop(stdout);
        shown += 1;
        if opts.count.is_some_and(|c| shown >= c) {
            break;
        }
        if tty.wait_for_quit(opts.interval) {
            break;
        }
    }
    crate::OK
}

/// stdin as a terminal without line editing or echo (q and Ctrl-C read as keys), restored on
/// drop; or not a terminal.
struct Terminal {
    saved: Option<libc::termios>,
}

impl Terminal {
    fn raw() -> Terminal {
        // SAFETY: isatty/tcgetattr/tcsetattr on descriptor 0 with a termios they fill.
        unsafe {
            if libc::isatty(0) != 1 {
                return Terminal { saved: None };
            }
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(0, &mut t) != 0 {
                return Terminal { saved: None };
            }
            let saved = t;
            t.c_lflag &= !(libc::ICANON | libc::ECHO | libc::ISIG);
            t.c_cc[libc::VMIN] = 1;
            t.c_cc[libc::VTIME] = 0;
            if libc::tcsetattr(0, libc::TCSANOW, &t) != 0 {
                return Terminal { saved: None };
            }
            Terminal { saved: Some(saved) }
        }
    }

    /// Waits `seconds`; true when q, Q or Ctrl-C was typed meanwhile.
    fn wait_for_quit(&self, seconds: f64) -> bool {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs_f64(seconds);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return false;
            }
            if self.saved.is_none() {
                std::thread::sleep(left);
                return false;
            }
            let mut fds = libc::pollfd { fd: 0, events: libc::POLLIN, revents: 0 };
            let ms = left.as_millis().min(i32::MAX as u128) as i32;
            // SAFETY: poll on one pollfd.
            let n = unsafe { libc::poll(&mut fds, 1, ms.max(1)) };
            if n > 0 {
                let mut byte = [0u8; 1];
                // SAFETY: reads one byte into a live buffer.
                let r = unsafe { libc::read(0, byte.as_mut_ptr().cast(), 1) };
                if r <= 0 || matches!(byte[0], b'q' | b'Q' | 3) {
                    return true;
                }
            }
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        if let Some(t) = self.saved {
            // SAFETY: restores the settings read in `raw`.
            unsafe { libc::tcsetattr(0, libc::TCSANOW, &t) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan() -> Scan {
        let p: Value = serde_json::from_str(
            r#"{"pid":41,"program":"nginx","mode":"preload","contexts":[],
                "totals":{"contexts":2,"number":3,"accept":12,"hits":8,"misses":4}}"#,
        )
        .unwrap();
        Scan { processes: vec![p], unreadable: 1, removed: 0, unanswered: 0 }
    }

    #[test]
    fn the_table() {
        let t = table(std::path::Path::new("/run/sesscache"), &scan(), "");
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "sesscache stat: 1 process(es) in /run/sesscache");
        assert_eq!(
            lines[1],
            "totals: contexts 2  sessions 3  accepts 12  hits 8  misses 4  timeouts 0  cache_full 0  hit ratio 66.7%"
        );
        assert_eq!(lines[2], "(1 socket(s) of other users not readable)");
        assert!(lines[4].split_whitespace().eq([
            "PID",
            "PROGRAM",
            "MODE",
            "CTX",
            "SESSIONS",
            "ACCEPTS",
            "HITS",
            "MISSES",
            "TIMEOUTS",
            "CACHE_FULL",
            "HIT%"
        ]));
        assert!(lines[5]
            .split_whitespace()
            .eq(["41", "nginx", "preload", "2", "3", "12", "8", "4", "0", "0", "66.7%"]));
    }

    #[test]
    fn the_fleet_rows() {
        assert!(!table(std::path::Path::new("/d"), &scan(), "").contains("fleet"));
        let p: Value = serde_json::from_str(
            r#"{"pid":41,"program":"nginx","mode":"preload","contexts":[],"totals":{"contexts":1},
                "fleet":{"published":5,"received":7,"mirror_hits":4,"remote_lookups":3,"remote_hits":2,
                         "remote_timeouts":1,"breaker_trips":1,"publish_dropped":6,"rejected":8,
                         "mirror_entries":9,"mirror_bytes":2880}}"#,
        )
        .unwrap();
        let s = Scan { processes: vec![p], unreadable: 0, removed: 0, unanswered: 0 };
        let t = table(std::path::Path::new("/d"), &s, "");
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[2],
            "fleet: processes 1  published 5  received 7  mirror hits 4  remote hits 2 of 3  timeouts 1  errors 0  \
             breaker trips 1  dropped 6  rejected 8  mirror 9 sessions 2880 bytes"
        );
        let header = lines.iter().position(|l| l.trim_start().starts_with("PID") && l.contains("PUBLISHED")).unwrap();
        assert!(lines[header + 1].split_whitespace().eq(["41", "5", "7", "4", "2", "3", "1", "0", "1", "6", "8", "9"]));
        let doc: Value = serde_json::from_str(&json(std::path::Path::new("/d"), &s)).unwrap();
        assert_eq!(doc["totals"]["fleet"]["published"], 5);
    }

    #[test]
    fn the_ticket_rows() {
        assert!(!table(std::path::Path::new("/d"), &scan(), "").contains("tickets"));
        let p: Value = serde_json::from_str(
            r#"{"pid":41,"program":"nginx","mode":"preload","contexts":[],"totals":{"contexts":1},"fleet":null,
                "tickets":{"ring_version":490001,"rotations":2,"rings_fetched":1,"rings_published":1,
                           "rings_rejected":3,"issued":10,"opened":6,"opened_previous":4,"refused_aged_out":5,
                           "refused_unknown":7,"rotation_failures":8}}"#,
        )
        .unwrap();
        let q: Value = serde_json::from_str(
            r#"{"pid":42,"program":"nginx","mode":"preload","contexts":[],"totals":{"contexts":1},
                "tickets":{"ring_version":490000,"rotations":1,"issued":2}}"#,
        )
        .unwrap();
        let s = Scan { processes: vec![p, q], unreadable: 0, removed: 0, unanswered: 0 };
        let t = table(std::path::Path::new("/d"), &s, "");
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[2],
            "tickets: processes 2  ring version 490001  rotations 3  rings fetched 1  published 1  rejected 3  \
             issued 12  opened 6  opened previous 4  refused aged out 5  unknown 7  rotation failures 8"
        );
        assert!(!t.contains("RECEIVED"), "no fleet: no fleet rows");
        let header = lines.iter().position(|l| l.trim_start().starts_with("PID") && l.contains("ROTATIONS")).unwrap();
        assert!(lines[header].split_whitespace().eq([
            "PID",
            "RING",
            "ROTATIONS",
            "FETCHED",
            "PUBLISHED",
            "REJECTED",
            "ISSUED",
            "OPENED",
            "PREVIOUS",
            "AGED_OUT",
            "UNKNOWN"
        ]));
        assert!(lines[header + 1]
            .split_whitespace()
            .eq(["41", "490001", "2", "1", "1", "3", "10", "6", "4", "5", "7"]));
        assert!(lines[header + 2].split_whitespace().eq(["42", "490000", "1", "0", "0", "0", "2", "0", "0", "0", "0"]));
        let doc: Value = serde_json::from_str(&json(std::path::Path::new("/d"), &s)).unwrap();
        assert_eq!(doc["totals"]["tickets"]["rotations"], 3);
        assert_eq!(doc["processes"][0]["tickets"]["opened_previous"], 4);
    }

    /// sesscache(1) names every column of the fleet's and the ticket ring's tables.
    #[test]
    fn the_man_page_names_every_column() {
        let words = procs::man_page_bold_words("stat");
        for (header, _, _) in FLEET_COLUMNS.iter().chain(TICKET_COLUMNS.iter()) {
            assert!(words.contains(header), "sesscache(1) stat does not name the column {header}");
        }
        assert!(words.contains(&"fleet:") && words.contains(&"tickets:"));
    }

    #[test]
    fn the_json() {
        let doc: Value = serde_json::from_str(&json(std::path::Path::new("/d"), &scan())).unwrap();
        assert_eq!(doc["totals"]["processes"], 1);
        assert_eq!(doc["totals"]["accept"], 12);
        assert_eq!(doc["processes"][0]["pid"], 41);
        assert_eq!(doc["unreadable"], 1);
    }
}
