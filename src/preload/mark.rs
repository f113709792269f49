//! Marking a session not resumable, as libssl's removal and flush do.
//!
//! libssl has no public setter for a session's not-resumable flag: only its own removal from a
//! context sets it, and that call costs the context's lock, a lookup in its hash table and the
//! remove callback (239 instructions, 40% of libssl's whole removal), for every session we
//! remove, evict or flush. So, once per process, `probe` finds the word libssl keeps the flag
//! in, on a zeroed block of our own memory far larger than libssl's session, given an id with
//! libssl's SSL_SESSION_set1_id: libssl's removal of it from a context must change exactly one
//! word, from 0 to 1, and SSL_SESSION_is_resumable must then follow that word both ways. These
//! three functions only read and write the session's own fields (no pointer in it is followed),
//! and no real session is made, so no ex_data callback of the application runs. From then on
//! a mark is one store to that word, the store libssl's removal makes. Anything else (another
//! layout, more than one word changed, a word SSL_SESSION_is_resumable does not read) or
//! SESSCACHE_MARK=call: every mark goes through libssl's removal.

use std::ffi::c_int;
use std::sync::atomic::{AtomicI32, Ordering};

use once_cell::sync::OnceCell;

use super::session::without_callbacks;
use super::Runtime;
use crate::abi::{SSL_CTX, SSL_SESSION};

/// The probe's stand-in session: zeroed memory, aligned as any C object, 4 KiB (libssl 3's
/// session is under 1 KiB).
#[repr(C, align(16))]
struct Block([u8; BLOCK]);
const BLOCK: usize = 4096;

/// Where the flag lives: its byte offset in libssl's session, or None to mark by removal.
static FLAG_OFFSET: OnceCell<Option<usize>> = OnceCell::new();

/// Finds the flag through `ctx`, once: at the process's first context, before any session
/// of it can be removed.
///
/// # Safety
/// `ctx` is a live libssl context.
pub(crate) unsafe fn find_flag(rt: &'static Runtime, ctx: *mut SSL_CTX) {
    FLAG_OFFSET.get_or_init(|| match requested() {
        Requested::Call => None,
        // SAFETY: the caller's promise.
        how => unsafe { probe(rt, ctx) }.or_else(|| {
            if how == Requested::Store {
                eprintln!("sesscache: SESSCACHE_MARK=store: libssl's not-resumable flag was not found; marking by libssl's removal");
            }
            None
        }),
    });
}

/// The flag's offset if the probe ran and found it.
#[inline]
pub(crate) fn known_flag_offset() -> Option<usize> {
    FLAG_OFFSET.get().copied().flatten()
}

#[derive(PartialEq)]
enum Requested {
    /// Unset: the store where the probe finds the flag, silently the removal where not.
    Default,
    /// SESSCACHE_MARK=store: the same, with a line on stderr where the probe fails.
    Store,
    /// SESSCACHE_MARK=call: always libssl's removal (the fallback, kept testable).
    Call,
}

fn requested() -> Requested {
    match std::env::var_os("SESSCACHE_MARK") {
        None => Requested::Default,
        Some(v) if v == "store" => Requested::Store,
        Some(v) if v == "call" => Requested::Call,
        Some(v) => {
            eprintln!("sesscache: SESSCACHE_MARK={v:?} is neither \"store\" nor \"call\": marking by libssl's removal");
            Requested::Call
        }
    }
}

/// Marks `s`. The engine asks only where libssl marks: a removal or eviction of a session
/// with an id, any session a flush takes out.
///
/// # Safety
/// `s` is a live libssl session and `offset` came from `known_flag_offset`.
#[inline]
pub(crate) unsafe fn store(s: *mut SSL_SESSION, offset: usize) {
    // SAFETY: the probe found an aligned int at this offset of every libssl session, the one
    // libssl's removal writes; other threads read it as libssl's own readers do.
    unsafe { flag(s, offset).store(1, Ordering::Relaxed) };
}

/// # Safety
/// `s` is a live libssl session and `offset` an aligned int inside it.
unsafe fn flag<'a>(s: *mut SSL_SESSION, offset: usize) -> &'a AtomicI32 {
    // SAFETY: the caller's promise.
    unsafe { &*(s.cast::<u8>().add(offset).cast::<AtomicI32>()) }
}

/// Finds the flag (see the module's comment); None on any doubt.
///
/// # Safety
/// `ctx` is a live libssl context whose remove callback is `on_remove` or none.
unsafe fn probe(rt: &'static Runtime, ctx: *mut SSL_CTX) -> Option<usize> {
    let real = &rt.real;
    let mut block = Box::new(Block([0; BLOCK]));
    let s = std::ptr::addr_of_mut!(block.0).cast::<SSL_SESSION>();
    // SAFETY: reads the block's fields only (see below).
    let resumable = |s| unsafe { (real.SSL_SESSION_is_resumable)(s) } != 0;
    // SAFETY: libssl's accessors and removal touch only the session's own fields, all inside
    // the block; `on_remove` ignores a call made inside `without_callbacks`.
    unsafe {
        if (real.SSL_SESSION_set1_id)(s, [0x5a; 32].as_ptr(), 32) != 1 || !resumable(s) {
            return None;
        }
        let before = block.0;
        without_callbacks(|| (real.SSL_CTX_remove_session)(ctx, s));
        let offset = flag_word(&before, &block.0)?;
        // The word must be what SSL_SESSION_is_resumable reads, both ways.
        if resumable(s) {
            return None;
        }
        flag(s, offset).store(0, Ordering::Relaxed);
        let cleared = resumable(s) && block.0 == before;
        flag(s, offset).store(1, Ordering::Relaxed);
        (cleared && !resumable(s)).then_some(offset)
    }
}

/// The offset of the one int-aligned word a removal changed from 0 to 1.
fn flag_word(before: &[u8], after: &[u8]) -> Option<usize> {
    let word = |b: &[u8], i: usize| c_int::from_ne_bytes(b[i..i + 4].try_into().expect("4 bytes"));
    let mut changed = (0..before.len().min(after.len()) & !3).step_by(4).filter(|&i| word(before, i) != word(after, i));
    let i = changed.next()?;
    (changed.next().is_none() && word(before, i) == 0 && word(after, i) == 1).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window_with(words: &[(usize, c_int)]) -> [u8; 64] {
        let mut w = [0xee; 64];
        for &(i, v) in words {
            w[i..i + 4].copy_from_slice(&v.to_ne_bytes());
        }
        w
    }

    #[test]
    fn one_word_from_zero_to_one_is_the_flag() {
        let before = window_with(&[(8, 0)]);
        assert_eq!(flag_word(&before, &window_with(&[(8, 1)])), Some(8));
    }

    #[test]
    fn anything_else_is_refused() {
        let before = window_with(&[(8, 0), (12, 0)]);
        // Nothing changed.
        assert_eq!(flag_word(&before, &before), None);
        // Two words changed.
        assert_eq!(flag_word(&before, &window_with(&[(8, 1), (12, 1)])), None);
        // A word changed, but not from 0 to 1.
        assert_eq!(flag_word(&before, &window_with(&[(8, 2), (12, 0)])), None);
        assert_eq!(flag_word(&window_with(&[(8, 1)]), &window_with(&[(8, 0)])), None);
        // A change that straddles two words.
        let mut after = before;
        after[11] = 1;
        after[12] = 1;
        assert_eq!(flag_word(&before, &after), None);
    }
}
