//! Replays the fuzz targets' committed corpora (fuzz/corpus/<target>/) through the checks the
//! targets run (fuzz/checks/, shared with the fuzz crate), so that `cargo test` keeps every
//! input the fuzzer found interesting passing: DER round trips, DER against libssl, and cache
//! operation sequences against libssl (loaded with dlmopen, see fuzz/checks/libssl.rs).

#[path = "../fuzz/checks/mod.rs"]
mod checks;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

/// Runs `check` on every file of the target's corpus; fails naming each file that fails.
fn replay(target: &str, check: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    files.sort();
    assert!(files.len() >= 10, "{}: only {} inputs", dir.display(), files.len());
    let mut failed = Vec::new();
    for f in &files {
        let input = std::fs::read(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        if catch_unwind(AssertUnwindSafe(|| check(&input))).is_err() {
            failed.push(f.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    assert!(failed.is_empty(), "{target}: {} of {} inputs fail: {failed:?}", failed.len(), files.len());
}

#[test]
fn der_roundtrip_corpus() {
    replay("der_roundtrip", checks::der::roundtrip);
}

#[test]
fn der_vs_libssl_corpus() {
    replay("der_vs_libssl", checks::der::vs_libssl);
}

#[test]
fn cache_ops_corpus() {
    replay("cache_ops", checks::cache_ops::run);
}
