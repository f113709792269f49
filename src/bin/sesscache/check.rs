//! `sesscache check [PROGRAM]`: can sesscache be preloaded into PROGRAM? Whether it loads the
//! system's libssl 3 dynamically (a statically linked OpenSSL cannot be replaced), which
//! libssl.so.3 the dynamic loader gives it, how that libssl was linked (-Bsymbolic), whether
//! the library the command would preload is there and loads, and a fleet key file's shape.

use std::ffi::{CStr, CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::elf::{Elf, SelfReference};
use crate::{keyfile, locate};

/// The function whose self-calls inside libssl show whether libssl's own calls reach a
/// preloaded definition (libssl's automatic flush every 255 handshakes calls it).
const PROBE: &str = "SSL_CTX_flush_sessions";

/// What one line of the report says about the verdict.
#[derive(PartialEq, PartialOrd, Clone, Copy)]
enum Level {
    Ok,
    Note,
    Bad,
}

struct Report {
    worst: Level,
}

impl Report {
    fn line(&mut self, level: Level, topic: &str, text: impl AsRef<str>) {
        if level > self.worst {
            self.worst = level;
        }
        let mark = match level {
            Level::Ok => "ok  ",
            Level::Note => "note",
            Level::Bad => "FAIL",
        };
        println!("{mark} {topic}: {}", text.as_ref());
    }
}

pub fn check(program: Option<&OsStr>, key: Option<&Path>) -> i32 {
    let mut report = Report { worst: Level::Ok };
    let program = match program {
        Some(p) => Some(resolve_program(p)),
        // By default the system's openssl command, or libssl alone when there is none.
        None => find_in_path(OsStr::new("openssl")).map(Ok),
    };
    let libssl = match program {
        Some(Ok(path)) => check_program(&mut report, &path, 0),
        Some(Err(e)) => {
            report.line(Level::Bad, "program", e);
            None
        }
        None => check_system_libssl(&mut report),
    };
    if let Some(libssl) = libssl {
        check_libssl(&mut report, &libssl);
    }
    check_library(&mut report);
    let key = key
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("SESSCACHE_FLEET_KEY_FILE").filter(|v| !v.is_empty()).map(PathBuf::from));
    if let Some(key) = key {
        check_key(&mut report, &key);
    }
    match report.worst {
        Level::Bad => {
            println!("sesscache check: sesscache cannot be used here as things are (see FAIL above)");
            1
        }
        _ => {
            println!("sesscache check: ok");
            0
        }
    }
}

fn find_in_path(name: &OsStr) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// A program named as the user would run it: a path, or a name looked up in PATH.
fn resolve_program(name: &OsStr) -> Result<PathBuf, String> {
    let path = Path::new(name);
    if name.as_bytes().contains(&b'/') {
        return if path.exists() { Ok(path.to_path_buf()) } else { Err(format!("{}: no such file", path.display())) };
    }
    find_in_path(name).ok_or_else(|| format!("{}: not found in PATH", path.display()))
}

/// What PROGRAM loads; returns the libssl.so.3 it resolves to, if any.
fn check_program(report: &mut Report, path: &Path, depth: usize) -> Option<PathBuf> {
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(e) => {
            report.line(Level::Bad, "program", format!("{}: {e}", path.display()));
            return None;
        }
    };
    if let Some(interpreter) = script_interpreter(&data) {
        if depth >= 4 {
            report.line(
                Level::Bad,
                "program",
                format!("{}: scripts run by scripts, four deep: giving up", path.display()),
            );
            return None;
        }
        report.line(
            Level::Note,
            "program",
            format!("{} is a script run by {}: checking that", path.display(), interpreter.display()),
        );
        return check_program(report, &interpreter, depth + 1);
    }
    let elf = match Elf::parse(data) {
        Ok(e) => e,
        Err(e) => {
            report.line(Level::Bad, "program", format!("{}: {e}", path.display()));
            return None;
        }
    };
    let needed = elf.dynamic.as_ref().map(|d| d.needed.clone()).unwrap_or_default();
    let Some(interp) = &elf.interp else {
        let soname = elf.dynamic.as_ref().and_then(|d| d.soname.clone());
        if soname.as_deref() == Some("libssl.so.3") {
            report.line(Level::Ok, "program", format!("{}: libssl.so.3 itself", path.display()));
            return Some(path.to_path_buf());
        }
        if let Some(soname) = soname {
            if needed.iter().any(|n| n == "libssl.so.3") {
                report.line(
                    Level::Ok,
                    "program",
                    format!("{}: a shared library ({soname}) that needs libssl.so.3", path.display()),
                );
                return system_libssl();
            }
            report.line(
                Level::Note,
                "program",
                format!("{}: a shared library ({soname}) that does not need libssl.so.3", path.display()),
            );
            return None;
        }
        let inside = if openssl_inside(&elf) {
            "; OpenSSL is linked in statically, where a preload cannot replace it"
        } else {
            ""
        };
        report.line(
            Level::Bad,
            "program",
            format!("{}: statically linked: no dynamic loader, nothing can be preloaded{inside}", path.display()),
        );
        return None;
    };
    report.line(Level::Ok, "program", format!("{}: dynamically linked, loader {interp}", path.display()));
    if std::fs::metadata(path).is_ok_and(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o6000 != 0) {
        report.line(
            Level::Note,
            "program",
            "set-user-ID or set-group-ID: the loader ignores LD_PRELOAD entries with a slash for it, and loads others only from its standard directories and when they are set-user-ID themselves",
        );
    }
    let loaded = match loader_list(path) {
        Ok(list) => list,
        Err(e) => {
            report.line(Level::Bad, "libssl", format!("the dynamic loader cannot list what it loads: {e}"));
            return None;
        }
    };
    let directly = needed.iter().any(|n| n == "libssl.so.3");
    match loaded.iter().find(|(name, _)| name == "libssl.so.3") {
        Some((_, Some(resolved))) => {
            let how = if directly { "needed by the program itself" } else { "needed by a library it loads" };
            report.line(Level::Ok, "libssl", format!("libssl.so.3 => {} ({how})", resolved.display()));
            Some(resolved.clone())
        }
        Some((_, None)) => {
            report.line(Level::Bad, "libssl", "libssl.so.3 is needed but the dynamic loader does not find it");
            None
        }
        None => {
            if let Some((other, _)) = loaded.iter().find(|(name, _)| name.starts_with("libssl.so")) {
                report.line(
                    Level::Bad,
                    "libssl",
                    format!("loads {other}, not OpenSSL 3's libssl.so.3: sesscache would pass every call through"),
                );
            } else if openssl_inside(&elf) {
                report.line(Level::Bad, "libssl", "OpenSSL is linked in statically: its session cache is inside the program, where a preload cannot replace it");
            } else {
                report.line(
                    Level::Note,
                    "libssl",
                    "not loaded at start; a program that loads it later with dlopen (Python's ssl module does) still gets sesscache preloaded",
                );
            }
            None
        }
    }
}

/// `#!/path/to/interpreter ...`: the interpreter's path (`env NAME` looked up in PATH).
fn script_interpreter(data: &[u8]) -> Option<PathBuf> {
    let line = data.strip_prefix(b"#!")?;
    let line = &line[..line.iter().position(|&b| b == b'\n').unwrap_or(line.len())];
    let mut words = line.split(|b| b.is_ascii_whitespace()).filter(|w| !w.is_empty());
    let first = Path::new(OsStr::from_bytes(words.next()?));
    if first.file_name() == Some(OsStr::new("env")) {
        let name = words.find(|w| !w.starts_with(b"-"))?;
        return find_in_path(OsStr::from_bytes(name));
    }
    Some(first.to_path_buf())
}

/// Signs of OpenSSL (or a fork) compiled into this file: its entry points' names in a symbol
/// table, or the source file names its error macros record.
fn openssl_inside(elf: &Elf) -> bool {
    [&b"SSL_CTX_new\0"[..], b"ssl/ssl_lib.c", b"ssl_lib.cc", b"ssl/ssl_sess.c"].iter().any(|n| elf.contains(n))
}

/// The loader this command itself runs under: the system's.
fn own_loader() -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let elf = Elf::read(&me)?;
    elf.interp.map(PathBuf::from).ok_or_else(|| "this command has no dynamic loader".into())
}

/// `ld.so --list PROGRAM`: every library the loader would map, and where it finds it. The
/// system's loader reads the program and maps its libraries without running any of their code.
fn loader_list(program: &Path) -> Result<Vec<(String, Option<PathBuf>)>, String> {
    let loader = own_loader()?;
    let mut child = Command::new(&loader)
        .arg("--list")
        .arg(program)
        .env_remove("LD_PRELOAD")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e}", loader.display()))?;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{} --list took more than 20 s", loader.display()));
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!("{} --list {}: {}", loader.display(), program.display(), err.trim()));
    }
    Ok(parse_loader_list(&out.stdout))
}

/// Lines like `\tlibssl.so.3 => /lib/x86_64-linux-gnu/libssl.so.3 (0x...)` or
/// `\tlibfoo.so => not found`; lines without `=>` (the vdso, the loader) are not needed names.
pub fn parse_loader_list(out: &[u8]) -> Vec<(String, Option<PathBuf>)> {
    let text = String::from_utf8_lossy(out);
    text.lines()
        .filter_map(|line| {
            let (name, rest) = line.trim().split_once(" => ")?;
            let rest = rest.trim();
            let path = if rest == "not found" {
                None
            } else {
                let end = rest.rfind(" (0x").unwrap_or(rest.len());
                Some(PathBuf::from(&rest[..end]))
            };
            Some((name.to_string(), path))
        })
        .collect()
}

fn dlerror_text() -> String {
    // SAFETY: dlerror returns NULL or a NUL-terminated message.
    unsafe {
        let e = libc::dlerror();
        if e.is_null() {
            "unknown error".into()
        } else {
            CStr::from_ptr(e).to_string_lossy().into_owned()
        }
    }
}

/// The system's libssl.so.3 as the loader finds it for a program with no RUNPATH of its own.
fn system_libssl() -> Option<PathBuf> {
    // SAFETY: dlopen of the system's libssl, as any program linking it does; closed after.
    unsafe {
        let handle = libc::dlopen(c"libssl.so.3".as_ptr(), libc::RTLD_LAZY | libc::RTLD_LOCAL);
        if handle.is_null() {
            return None;
        }
        let path = locate::path_of_symbol(handle, c"SSL_CTX_new");
        libc::dlclose(handle);
        path
    }
}

/// With no program to look at: the system's libssl on its own.
fn check_system_libssl(report: &mut Report) -> Option<PathBuf> {
    // SAFETY: as in system_libssl; OpenSSL_version(0) returns a static string.
    let version = unsafe {
        let handle = libc::dlopen(c"libssl.so.3".as_ptr(), libc::RTLD_LAZY | libc::RTLD_LOCAL);
        if handle.is_null() {
            report.line(
                Level::Bad,
                "libssl",
                format!("no openssl command in PATH, and libssl.so.3 does not load: {}", dlerror_text()),
            );
            return None;
        }
        let f = libc::dlsym(handle, c"OpenSSL_version".as_ptr());
        let version = if f.is_null() {
            None
        } else {
            let f: extern "C" fn(libc::c_int) -> *const libc::c_char = std::mem::transmute(f);
            let v = f(0);
            (!v.is_null()).then(|| CStr::from_ptr(v).to_string_lossy().into_owned())
        };
        libc::dlclose(handle);
        version
    };
    let path = system_libssl()?;
    let version = version.map(|v| format!(", {v}")).unwrap_or_default();
    report.line(
        Level::Ok,
        "libssl",
        format!("no openssl command in PATH; the system's libssl.so.3 => {}{version}", path.display()),
    );
    Some(path)
}

/// How the libssl a program gets was linked.
fn check_libssl(report: &mut Report, path: &Path) {
    let elf = match Elf::read(path) {
        Ok(e) => e,
        Err(e) => {
            report.line(Level::Bad, "libssl", e);
            return;
        }
    };
    let Some(dynamic) = &elf.dynamic else {
        report.line(Level::Bad, "libssl", format!("{}: no dynamic section", path.display()));
        return;
    };
    if dynamic.symbolic {
        report.line(
            Level::Note,
            "libssl -Bsymbolic",
            "yes (DT_SYMBOLIC or DF_SYMBOLIC): libssl binds its own calls inside itself; sesscache covers the ones into the cache (early data's anti-replay removal, the automatic flush, the session-id check), with the two differences sesscache(7) lists",
        );
    } else {
        report.line(Level::Ok, "libssl -Bsymbolic", "no (no DT_SYMBOLIC, no DF_SYMBOLIC in its dynamic section)");
    }
    match elf.self_reference(PROBE) {
        SelfReference::Interposable => report.line(
            Level::Ok,
            "libssl self-calls",
            format!("{PROBE} through a dynamic relocation: libssl's internal calls into the cache reach sesscache"),
        ),
        SelfReference::BoundInside => report.line(
            Level::Note,
            "libssl self-calls",
            format!("{PROBE} bound inside libssl (-Bsymbolic-functions or similar): sesscache covers libssl's internal calls into the cache, as for -Bsymbolic"),
        ),
        SelfReference::NotDefined => report.line(Level::Bad, "libssl self-calls", format!("{} does not define {PROBE}: not OpenSSL's libssl", path.display())),
        SelfReference::Unknown => report.line(Level::Note, "libssl self-calls", format!("cannot tell how {PROBE} is bound (stripped section headers)")),
    }
}

/// The library `sesscache run` would preload: found, and loadable.
fn check_library(report: &mut Report) {
    let located = match locate::library(None) {
        Ok(l) => l,
        Err(e) => {
            report.line(Level::Bad, "library", e);
            return;
        }
    };
    let soname = Elf::read(&located.path).ok().and_then(|e| e.dynamic).and_then(|d| d.soname);
    let Ok(cpath) = CString::new(located.path.as_os_str().as_bytes()) else {
        report.line(Level::Bad, "library", format!("{}: path holds a NUL byte", located.path.display()));
        return;
    };
    // SAFETY: loads the library without calling into it (its functions run only when called),
    // looks one symbol up, and closes it.
    let loaded = unsafe {
        let handle = libc::dlopen(cpath.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL);
        if handle.is_null() {
            Err(dlerror_text())
        } else {
            let has = !libc::dlsym(handle, c"SSL_CTX_new".as_ptr()).is_null()
                && !libc::dlsym(handle, c"sesscache_handshake_start".as_ptr()).is_null();
            libc::dlclose(handle);
            if has {
                Ok(())
            } else {
                Err("it loads but does not export SSL_CTX_new and sesscache_handshake_start: not libsesscache".into())
            }
        }
    };
    let soname = soname.map(|s| format!(", soname {s}")).unwrap_or_else(|| ", no soname".into());
    match loaded {
        Ok(()) => {
            report.line(Level::Ok, "library", format!("{} ({}{soname}): loads", located.path.display(), located.how))
        }
        Err(e) => report.line(
            Level::Bad,
            "library",
            format!("{} ({}): does not load: {e}", located.path.display(), located.how),
        ),
    }
    if let Err(e) = locate::preloadable(&located.path) {
        report.line(Level::Bad, "library", e);
    }
}

fn check_key(report: &mut Report, path: &Path) {
    match keyfile::check_file(path) {
        Ok(found) => {
            let keys = if found.keys == 1 { "1 key".to_string() } else { format!("{} keys", found.keys) };
            if found.warnings.is_empty() {
                report.line(Level::Ok, "key file", format!("{}: {keys}, mode {:04o}", path.display(), found.mode));
            }
            for w in found.warnings {
                report.line(Level::Note, "key file", format!("{}: {keys}; warning: {w}", path.display()));
            }
        }
        Err(e) => report.line(Level::Bad, "key file", e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loader_lists() {
        let out = b"\tlinux-vdso.so.1 (0x00007ffd)\n\tlibssl.so.3 => /lib/x86_64-linux-gnu/libssl.so.3 (0x00007f12)\n\tlibgone.so.1 => not found\n\t/lib64/ld-linux-x86-64.so.2 (0x00007f34)\n";
        assert_eq!(
            parse_loader_list(out),
            vec![
                ("libssl.so.3".to_string(), Some(PathBuf::from("/lib/x86_64-linux-gnu/libssl.so.3"))),
                ("libgone.so.1".to_string(), None),
            ]
        );
    }

    #[test]
    fn script_interpreters() {
        assert_eq!(script_interpreter(b"#!/bin/sh -e\necho"), Some(PathBuf::from("/bin/sh")));
        assert_eq!(script_interpreter(b"#! /usr/bin/python3\n"), Some(PathBuf::from("/usr/bin/python3")));
        assert_eq!(script_interpreter(b"\x7fELF"), None);
        assert_eq!(
            script_interpreter(b"#!/usr/bin/env -S sh\n").as_deref().and_then(Path::file_name),
            Some(OsStr::new("sh"))
        );
    }
}
