//! Fleet key files (SESSCACHE_FLEET_KEY_FILE, issue 11): one key a line, 64 hex digits (32
//! bytes); the first line seals, every line opens. `keygen` writes a file of one fresh key;
//! `check` reads one through the library's own loader (`sesscache::fleet::keys`), so it says
//! exactly what the fleet will say, and adds what only a command can check (the owner).

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use sesscache::fleet::keys::{Keys, KEY_BYTES};

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
    getrandom::fill(&mut key).map_err(|e| format!("no randomness from the kernel: {e}"))?;
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

/// Reads and judges a key file: an error when it cannot be used at all, warnings when it can
/// but should not be as it is.
pub fn check_file(path: &Path) -> Result<KeyFileReport, String> {
    let (keys, warnings) = Keys::load(path)?;
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    // The loader names the file in each warning; `check` names it once per line itself.
    let named = format!("{}: ", path.display());
    let mut warnings: Vec<String> =
        warnings.into_iter().map(|w| w.strip_prefix(&named).map(str::to_string).unwrap_or(w)).collect();
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me && meta.uid() != 0 {
        warnings.push(format!("owned by uid {}, neither this user ({me}) nor root", meta.uid()));
    }
    Ok(KeyFileReport { keys: keys.len(), mode: meta.mode() & 0o7777, warnings })
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
        assert_eq!(Keys::parse(&line).map(|k| k.len()), Ok(1));
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
        assert_eq!(report.warnings, ["mode 0644: readable by group or others; chmod 600"]);
        // The fleet's own parser: comments and blank lines are fine, a bad line is named.
        std::fs::write(&path, format!("# rotated in December\n\n{KEY}\n{}\n", KEY.replace('0', "1"))).unwrap();
        assert_eq!(check_file(&path).unwrap().keys, 2);
        std::fs::write(&path, format!("{KEY}\nnot a key\n")).unwrap();
        let err = check_file(&path).unwrap_err();
        assert!(err.ends_with("/k: line 2 has 9 characters; a key is 64 hex digits"), "{err}");
        assert!(check_file(&dir).is_err());
        assert!(check_file(&dir.join("missing")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
