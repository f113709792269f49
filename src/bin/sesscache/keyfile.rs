//! Fleet key files (SESSCACHE_FLEET_KEY_FILE, issue 11): one key a line, 64 hex digits (32
//! bytes); the first line seals, every line opens. `keygen` writes a file of one fresh key;
//! `check` reads one and says whether it is well formed and private.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// A key's bytes; as hex, twice as many digits.
pub const KEY_BYTES: usize = 32;

/// What `check` found in a key file that does not stop it from being used.
#[derive(Debug, Default, PartialEq)]
pub struct KeyFileReport {
    pub keys: usize,
    pub mode: u32,
    pub warnings: Vec<String>,
}

/// Writes one fresh key to `path`, created with mode 0600; an existing file is never touched.
pub fn generate(path: &Path) -> Result<(), String> {
    let mut key = [0u8; KEY_BYTES];
    fill_random(&mut key).map_err(|e| format!("no randomness from the kernel: {e}"))?;
    let line = key_line(&key);
    key.fill(0);
    let mut file =
        OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => format!("{}: already exists; not overwritten", path.display()),
            _ => format!("{}: {e}", path.display()),
        })?;
    // The umask can only take bits away from 0600; say exactly 0600 in case it took too many.
    let written = file
        .set_permissions(std::fs::Permissions::from_mode(0o600))
        .and_then(|()| file.write_all(line.as_bytes()))
        .and_then(|()| file.sync_all());
    if let Err(e) = written {
        // A half-written key file must not be left behind to be trusted later.
        let _ = std::fs::remove_file(path);
        return Err(format!("{}: {e}", path.display()));
    }
    Ok(())
}

/// A key as its line in a key file.
pub fn key_line(key: &[u8; KEY_BYTES]) -> String {
    let mut s: String = key.iter().map(|b| format!("{b:02x}")).collect();
    s.push('\n');
    s
}

/// getrandom(2), or /dev/urandom on a kernel without it.
fn fill_random(buf: &mut [u8]) -> std::io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        let rest = &mut buf[filled..];
        // SAFETY: writes at most rest.len() bytes into rest.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if n > 0 {
            filled += n as usize;
            continue;
        }
        let err = std::io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::ENOSYS) => return std::fs::File::open("/dev/urandom")?.read_exact(buf),
            _ => return Err(err),
        }
    }
    Ok(())
}

/// Reads and judges a key file: an error when it cannot be used at all, warnings when it can
/// but should not be as it is.
pub fn check_file(path: &Path) -> Result<KeyFileReport, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!("{}: not a regular file", path.display()));
    }
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let keys = check_text(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let mode = meta.mode() & 0o7777;
    let mut warnings = mode_warnings(mode);
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me && meta.uid() != 0 {
        warnings.push(format!("owned by uid {}, neither this user ({me}) nor root", meta.uid()));
    }
    Ok(KeyFileReport { keys, mode, warnings })
}

/// The number of keys in a key file's text, or what is wrong with it.
pub fn check_text(text: &[u8]) -> Result<usize, String> {
    if text.is_empty() {
        return Err("empty: no key".into());
    }
    let body = text.strip_suffix(b"\n").unwrap_or(text);
    let mut keys = 0;
    for (i, line) in body.split(|&b| b == b'\n').enumerate() {
        let n = i + 1;
        if line.is_empty() {
            return Err(format!("line {n} is empty"));
        }
        if line.len() != 2 * KEY_BYTES {
            return Err(format!("line {n} has {} characters; a key is {} hex digits", line.len(), 2 * KEY_BYTES));
        }
        if let Some(bad) = line.iter().position(|b| !b.is_ascii_hexdigit()) {
            return Err(format!("line {n}, column {}: not a hex digit", bad + 1));
        }
        keys += 1;
    }
    Ok(keys)
}

/// What is wrong with a key file's permission bits.
pub fn mode_warnings(mode: u32) -> Vec<String> {
    let mut warnings = Vec::new();
    if mode & 0o044 != 0 {
        warnings.push(format!("mode {mode:04o}: readable by group or others; chmod 600"));
    }
    if mode & 0o022 != 0 {
        warnings.push(format!("mode {mode:04o}: writable by group or others; chmod 600"));
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";

    #[test]
    fn a_key_line_is_64_hex_digits_and_a_newline() {
        let mut key = [0u8; KEY_BYTES];
        key[0] = 0xab;
        key[31] = 0x01;
        let line = key_line(&key);
        assert_eq!(line.len(), 65);
        assert!(line.starts_with("ab00"));
        assert!(line.ends_with("01\n"));
        assert_eq!(check_text(line.as_bytes()), Ok(1));
    }

    #[test]
    fn well_formed_files() {
        assert_eq!(check_text(KEY.as_bytes()), Ok(1));
        assert_eq!(check_text(format!("{KEY}\n").as_bytes()), Ok(1));
        assert_eq!(check_text(format!("{KEY}\n{}\n", KEY.to_lowercase()).as_bytes()), Ok(2));
    }

    #[test]
    fn malformed_files() {
        let short = &KEY[..63];
        let long = format!("{KEY}0");
        let not_hex = format!("{}g", &KEY[..63]);
        for (text, says) in [
            (String::new(), "empty"),
            ("\n".to_string(), "line 1 is empty"),
            (format!("{KEY}\n\n"), "line 2 is empty"),
            (format!("{KEY}\n\n{KEY}\n"), "line 2 is empty"),
            (format!("{short}\n"), "63 characters"),
            (format!("{long}\n"), "65 characters"),
            (format!("{not_hex}\n"), "line 1, column 64"),
            (format!("{KEY}\r\n"), "65 characters"),
            (format!(" {KEY}\n"), "65 characters"),
            (format!("{KEY}\n{short}"), "line 2 has 63"),
        ] {
            let got = check_text(text.as_bytes());
            assert!(matches!(&got, Err(e) if e.contains(says)), "{text:?} gave {got:?}, not {says:?}");
        }
    }

    #[test]
    fn modes() {
        assert!(mode_warnings(0o600).is_empty());
        assert!(mode_warnings(0o400).is_empty());
        assert_eq!(mode_warnings(0o640).len(), 1);
        assert_eq!(mode_warnings(0o604).len(), 1);
        assert_eq!(mode_warnings(0o620).len(), 1);
        assert_eq!(mode_warnings(0o666).len(), 2);
        assert!(mode_warnings(0o644)[0].contains("0644"));
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("sesscache-keyfile-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn generate_makes_a_private_file_once() {
        let dir = scratch("generate");
        let path = dir.join("fleet.key");
        generate(&path).unwrap();
        let first = std::fs::read(&path).unwrap();
        let report = check_file(&path).unwrap();
        assert_eq!((report.keys, report.mode, report.warnings.len()), (1, 0o600, 0));
        let err = generate(&path).unwrap_err();
        assert!(err.contains("already exists"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), first, "an existing key file was changed");
        // Two keys drawn are not the same key.
        let other = dir.join("other.key");
        generate(&other).unwrap();
        assert_ne!(std::fs::read(&other).unwrap(), first);
        // Nor does keygen follow a dangling symlink to create a file elsewhere.
        let target = dir.join("elsewhere");
        let link = dir.join("link.key");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(generate(&link).is_err());
        assert!(!target.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn check_file_warns_about_open_modes_and_refuses_directories() {
        let dir = scratch("check");
        let path = dir.join("k");
        std::fs::write(&path, format!("{KEY}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let report = check_file(&path).unwrap();
        assert_eq!(report.keys, 1);
        assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
        assert!(check_file(&dir).is_err());
        assert!(check_file(&dir.join("missing")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
