//! `cache_ops`: see `checks::cache_ops`; tests/fuzz_replay.rs replays this target's corpus with the same check.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sesscache_fuzz_checks::cache_ops::run(data));
