//! SESSCACHE_REPORT=FILE: at process exit, one JSON line per context the engine served,
//! appended to FILE: the mode, the twelve statistics as `SSL_CTX_sess_*` answers them, and the
//! engine's own `stored` (sessions it took in) and `served` (lookups it answered). A context
//! freed before exit is reported as it was when freed.

use std::io::Write;

use once_cell::sync::OnceCell;
use parking_lot::Mutex;

use super::{registry, Observed, Snapshot};

static PATH: OnceCell<std::path::PathBuf> = OnceCell::new();
static RETIRED: Mutex<Vec<Snapshot>> = parking_lot::const_mutex(Vec::new());

/// Reads SESSCACHE_REPORT once. True the first time it is set: the caller then registers
/// `at_exit` to run at process exit.
pub fn enable() -> bool {
    let Some(path) = std::env::var_os("SESSCACHE_REPORT").filter(|p| !p.is_empty()) else { return false };
    PATH.set(path.into()).is_ok()
}

fn enabled() -> bool {
    PATH.get().is_some()
}

/// A context going away: its snapshot is taken now.
pub fn retire(ctx: &dyn Observed) {
    if enabled() {
        RETIRED.lock().push(ctx.snapshot());
    }
}

/// The JSON line for one snapshot.
pub fn line(s: &Snapshot) -> String {
    let mut line = format!("{{\"mode\":\"{}\"", s.front.name());
    for (name, value) in s.statistics() {
        line.push_str(&format!(",\"{name}\":{value}"));
    }
    line.push_str(&format!(",\"stored\":{},\"served\":{}}}", s.stored, s.served));
    line
}

/// Writes the report: the retired contexts, then the live ones in the order they were made.
pub extern "C" fn at_exit() {
    let _ = std::panic::catch_unwind(|| {
        let Some(path) = PATH.get() else { return };
        let mut snapshots = std::mem::take(&mut *RETIRED.lock());
        snapshots.extend(registry::snapshots());
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let text: String = snapshots.iter().map(|s| format!("{}\n", line(s))).collect();
            let _ = f.write_all(text.as_bytes());
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
            line(&s),
            "{\"mode\":\"preload\",\"number\":0,\"connect\":1,\"connect_good\":2,\"connect_renegotiate\":3,\
             \"accept\":4,\"accept_good\":5,\"accept_renegotiate\":6,\"hits\":7,\"cb_hits\":8,\"misses\":9,\
             \"timeouts\":10,\"cache_full\":11,\"stored\":7,\"served\":8}"
        );
    }
}
