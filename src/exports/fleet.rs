//! The fleet tier's settings for a program linked with the library, the same that
//! SESSCACHE_FLEET and SESSCACHE_FLEET_KEY_FILE give a preloaded one.

use std::ffi::{c_char, c_int, CStr, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::abi::boundary::guard;

/// Turns on the fleet tier for this process: sessions the server contexts of every process
/// pointed at the same Redis cache are shared, sealed under the key file's first key.
/// `url` is `redis://host:port/db` or `redis+unix:///path` (several URLs separated by commas
/// seed a Redis Cluster); `key_file` holds one key a line, 64 hex digits. It overrides
/// SESSCACHE_FLEET and SESSCACHE_FLEET_KEY_FILE, and must come before the first SSL_CTX_new:
/// a context keeps the fleet it was made with. Returns 1, or 0 with one line on stderr when an
/// argument is NULL or the URL or key file is refused (the tier then stays off).
#[no_mangle]
pub unsafe extern "C" fn sesscache_fleet_configure(url: *const c_char, key_file: *const c_char) -> c_int {
    guard(0, || {
        if url.is_null() || key_file.is_null() {
            eprintln!("sesscache: fleet: sesscache_fleet_configure needs a URL and a key file");
            return Some(0);
        }
        // SAFETY: the caller's NUL-terminated strings, checked for NULL above.
        let (url, key_file) = unsafe { (CStr::from_ptr(url), CStr::from_ptr(key_file)) };
        let Ok(url) = url.to_str() else {
            eprintln!("sesscache: fleet: the URL is not UTF-8");
            return Some(0);
        };
        match crate::fleet::configure(url, Path::new(OsStr::from_bytes(key_file.to_bytes()))) {
            Ok(()) => Some(1),
            Err(e) => {
                eprintln!("sesscache: fleet: {e}");
                Some(0)
            }
        }
    })
}
