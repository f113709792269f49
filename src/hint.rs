//! Cache-line hints for the hot paths: asking for a line some steps before it is used, so
//! that its miss overlaps the misses in between instead of following them. Imports nothing
//! from the crate.

/// Asks for the cache line holding `p`, which is about to be written. A hint only: nothing a
/// program can observe changes (no load, no fault, whatever the address), and on targets
/// without such an instruction it does nothing.
#[inline(always)]
pub fn prefetch_write<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch instruction (PREFETCHT0 on baseline x86-64) neither reads nor
    // writes memory as the program sees it and never faults, for any address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_ET0 }>(p.cast::<i8>())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
