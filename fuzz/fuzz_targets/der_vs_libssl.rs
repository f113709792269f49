//! `der_vs_libssl`: see `checks::der`; tests/fuzz_replay.rs replays this target's corpus with the same check.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sesscache_fuzz_checks::der::vs_libssl(data));
