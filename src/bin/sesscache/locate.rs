//! Which libsesscache the command preloads: the one it was told (--lib, SESSCACHE_LIB), else
//! the one installed beside it (PREFIX/bin/sesscache -> PREFIX/lib/libsesscache.so.0), else the
//! one beside it in a build tree (target/release), else the one the dynamic loader finds.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The soname programs link against, and the name installed under it.
pub const SONAME: &str = "libsesscache.so.0";

pub struct Located {
    pub path: PathBuf,
    /// Where it was found, in words.
    pub how: &'static str,
}

/// Finds the library, or says where it looked.
pub fn library(explicit: Option<&Path>) -> Result<Located, String> {
    let named = explicit.map(|p| (p.to_path_buf(), "named by --lib")).or_else(|| {
        std::env::var_os("SESSCACHE_LIB").filter(|v| !v.is_empty()).map(|v| (v.into(), "named by SESSCACHE_LIB"))
    });
    if let Some((path, how)) = named {
        if !path.is_file() {
            return Err(format!("{} ({how}): no such file", path.display()));
        }
        // Absolute, so that a program that changes directory still finds it when it re-executes
        // itself; symlinks kept, so that an upgrade of what libsesscache.so.0 points to is seen.
        let path = std::path::absolute(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok(Located { path, how });
    }
    let mut tried = Vec::new();
    if let Some(dir) = std::env::current_exe().ok().as_deref().and_then(Path::parent) {
        let candidates = [
            (dir.parent().map(|prefix| prefix.join("lib").join(SONAME)), "installed beside the command"),
            (Some(dir.join("libsesscache.so")), "beside the command in its build tree"),
        ];
        for (path, how) in candidates {
            let Some(path) = path else { continue };
            if path.is_file() {
                return Ok(Located { path, how });
            }
            tried.push(path.display().to_string());
        }
    }
    if let Some(path) = loader_finds(SONAME) {
        return Ok(Located { path, how: "found by the dynamic loader" });
    }
    tried.push(format!("{SONAME} in the dynamic loader's path"));
    Err(format!("libsesscache not found (looked for {}); set SESSCACHE_LIB or use --lib", tried.join(", ")))
}

/// Where the dynamic loader finds a library by name (ld.so.cache, the default directories,
/// LD_LIBRARY_PATH), by loading it here and asking where a symbol of it lives.
fn loader_finds(name: &str) -> Option<PathBuf> {
    let name = CString::new(name).ok()?;
    // SAFETY: dlopen/dlsym/dladdr with NUL-terminated names; the handle is closed before return.
    unsafe {
        let handle = libc::dlopen(name.as_ptr(), libc::RTLD_LAZY | libc::RTLD_LOCAL);
        if handle.is_null() {
            return None;
        }
        let path = path_of_symbol(handle, c"sesscache_handshake_start");
        libc::dlclose(handle);
        path
    }
}

/// The file that defines `symbol` in the object `handle` names.
///
/// # Safety
/// `handle` is a live dlopen handle.
pub unsafe fn path_of_symbol(handle: *mut libc::c_void, symbol: &std::ffi::CStr) -> Option<PathBuf> {
    // SAFETY: the caller's handle; dladdr fills `info` for an address inside a loaded object.
    unsafe {
        let address = libc::dlsym(handle, symbol.as_ptr());
        if address.is_null() {
            return None;
        }
        let mut info: libc::Dl_info = std::mem::zeroed();
        if libc::dladdr(address, &mut info) == 0 || info.dli_fname.is_null() {
            return None;
        }
        let file = std::ffi::CStr::from_ptr(info.dli_fname);
        Some(PathBuf::from(std::ffi::OsStr::from_bytes(file.to_bytes())))
    }
}

/// Whether a path can go into LD_PRELOAD, which splits on colons and spaces.
pub fn preloadable(path: &Path) -> Result<(), String> {
    if path.as_os_str().as_bytes().iter().any(|&b| b == b':' || b == b' ' || b == b'\t' || b == b'\n') {
        return Err(format!("{}: LD_PRELOAD cannot hold a path with a colon or a space", path.display()));
    }
    Ok(())
}

/// LD_PRELOAD with `lib` added after what is there already (once: not again if present).
pub fn preload_list(existing: Option<&std::ffi::OsStr>, lib: &Path) -> std::ffi::OsString {
    let existing = existing.map(|e| e.as_bytes()).unwrap_or_default();
    let lib = lib.as_os_str().as_bytes();
    let present = existing.split(|&b| b == b':' || b == b' ').any(|entry| entry == lib);
    let trimmed = existing.trim_ascii();
    let mut list = trimmed.to_vec();
    if !present {
        if !list.is_empty() {
            list.push(b':');
        }
        list.extend_from_slice(lib);
    }
    std::os::unix::ffi::OsStringExt::from_vec(list)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn preload_list_appends_once() {
        let lib = Path::new("/usr/lib/libsesscache.so.0");
        assert_eq!(preload_list(None, lib), "/usr/lib/libsesscache.so.0");
        assert_eq!(preload_list(Some(OsStr::new("")), lib), "/usr/lib/libsesscache.so.0");
        assert_eq!(preload_list(Some(OsStr::new("/a.so")), lib), "/a.so:/usr/lib/libsesscache.so.0");
        assert_eq!(preload_list(Some(OsStr::new("/a.so /b.so ")), lib), "/a.so /b.so:/usr/lib/libsesscache.so.0");
        assert_eq!(
            preload_list(Some(OsStr::new("/usr/lib/libsesscache.so.0:/a.so")), lib),
            "/usr/lib/libsesscache.so.0:/a.so"
        );
    }

    #[test]
    fn paths_ld_preload_cannot_hold() {
        assert!(preloadable(Path::new("/usr/lib/libsesscache.so.0")).is_ok());
        assert!(preloadable(Path::new("/my libs/libsesscache.so")).is_err());
        assert!(preloadable(Path::new("/a:b/libsesscache.so")).is_err());
    }
}
