//! Application data on our sessions: the registered indexes and the per-session slots,
//! with OpenSSL's callbacks (new at creation, dup at `SSL_SESSION_dup`, free at the last
//! `SSL_SESSION_free`).

use std::ffi::{c_int, c_long, c_void};

use once_cell::race::OnceBox;
use parking_lot::Mutex;

use crate::abi::*;

#[derive(Clone, Copy)]
struct Index {
    argl: c_long,
    argp: usize,
    new: Option<CRYPTO_EX_new>,
    dup: Option<CRYPTO_EX_dup>,
    free: Option<CRYPTO_EX_free>,
}

/// Registered session indexes. Slot 0 is the application-data index every OpenSSL class
/// reserves (`SSL_SESSION_set_app_data`), so the first index handed out is 1.
static INDEXES: Mutex<Vec<Index>> = parking_lot::const_mutex(Vec::new());

fn registered() -> Vec<Index> {
    INDEXES.lock().clone()
}

/// One session's slots. Values are C pointers kept as addresses. Most sessions never get
/// application data, so the slots are made at the first set: until then this is one null
/// pointer in the session.
#[derive(Default)]
pub(crate) struct ExData {
    values: OnceBox<Mutex<Vec<usize>>>,
}

impl ExData {
    fn handle(&self) -> *mut CRYPTO_EX_DATA {
        self as *const ExData as *mut CRYPTO_EX_DATA
    }

    /// False for a negative index or when memory runs out, as OpenSSL fails there.
    pub(crate) fn set(&self, idx: c_int, value: *mut c_void) -> bool {
        let Ok(idx) = usize::try_from(idx) else { return false };
        let mut values = self.values.get_or_init(Box::default).lock();
        if values.len() <= idx {
            let missing = idx + 1 - values.len();
            if values.try_reserve(missing).is_err() {
                return false;
            }
            values.resize(idx + 1, 0);
        }
        values[idx] = value as usize;
        true
    }

    pub(crate) fn get(&self, idx: c_int) -> *mut c_void {
        let Some(values) = self.values.get() else { return std::ptr::null_mut() };
        let values = values.lock();
        usize::try_from(idx).ok().and_then(|i| values.get(i)).map_or(std::ptr::null_mut(), |&v| v as *mut c_void)
    }

    /// Calls every registered new callback for a session just made.
    pub(crate) fn on_new(&self, parent: *mut SSL_SESSION) {
        for (i, ix) in registered().iter().enumerate() {
            if let Some(f) = ix.new {
                // SAFETY: a callback registered by the application with OpenSSL's signature.
                unsafe {
                    f(parent.cast(), std::ptr::null_mut(), self.handle(), i as c_int, ix.argl, ix.argp as *mut c_void)
                };
            }
        }
    }

    /// Copies `from`'s slots into this fresh copy, through the dup callbacks, as
    /// `CRYPTO_dup_ex_data` does: only slots below the number of registered indexes. False
    /// when a dup callback refuses, which fails the whole copy.
    pub(crate) fn copy_from(&self, from: &ExData) -> bool {
        let indexes = registered();
        let src = from.values.get().map(|v| v.lock().clone()).unwrap_or_default();
        for (i, &value) in src.iter().enumerate().take(indexes.len()) {
            let mut ptr = value as *mut c_void;
            if let Some(dup) = indexes[i].dup {
                // SAFETY: as above; `ptr` lives across the call.
                let ok = unsafe {
                    dup(
                        self.handle(),
                        from.handle(),
                        &mut ptr,
                        i as c_int,
                        indexes[i].argl,
                        indexes[i].argp as *mut c_void,
                    )
                };
                if ok == 0 {
                    return false;
                }
            }
            self.set(i as c_int, ptr);
        }
        true
    }

    /// Calls every registered free callback with the slot's value, at the session's end.
    pub(crate) fn on_free(&self, parent: *mut SSL_SESSION) {
        for (i, ix) in registered().iter().enumerate() {
            if let Some(f) = ix.free {
                let value = self.get(i as c_int);
                // SAFETY: as above.
                unsafe { f(parent.cast(), value, self.handle(), i as c_int, ix.argl, ix.argp as *mut c_void) };
            }
        }
    }
}

/// `SSL_SESSION_get_ex_new_index`: a new index, with optional callbacks. Slot 0 is reserved.
pub(crate) fn new_index(
    argl: c_long,
    argp: *mut c_void,
    new: Option<CRYPTO_EX_new>,
    dup: Option<CRYPTO_EX_dup>,
    free: Option<CRYPTO_EX_free>,
) -> Option<c_int> {
    let mut indexes = INDEXES.lock();
    if indexes.is_empty() {
        indexes.push(Index { argl: 0, argp: 0, new: None, dup: None, free: None });
    }
    indexes.push(Index { argl, argp: argp as usize, new, dup, free });
    Some((indexes.len() - 1) as c_int)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A session without application data pays one pointer for it.
    #[test]
    fn no_slots_cost_one_pointer() {
        assert_eq!(std::mem::size_of::<ExData>(), std::mem::size_of::<usize>());
        let e = ExData::default();
        assert!(e.get(0).is_null() && e.get(5).is_null() && e.values.get().is_none());
        assert!(e.set(3, 7 as *mut c_void) && !e.set(-1, std::ptr::null_mut()));
        assert_eq!((e.get(3) as usize, e.get(2) as usize, e.get(4) as usize), (7, 0, 0));
    }
}
