//! The fleet key file (SESSCACHE_FLEET_KEY_FILE) and what each of its keys derives: one key a
//! line, 64 hex digits; blank lines and `#` comments are skipped; the first key seals, every
//! key opens (rotation: add the new key on top, drop the old one once its sessions expired).
//!
//! A key's bytes never leave this file: each key is turned at once into three HKDF-SHA256
//! subkeys (the AEAD key, the Redis name key, the 8-byte key id put in every envelope) and
//! wiped. Everything that holds key material is wiped on drop; `Debug` shows key ids only.

use std::fmt;
use std::fs::OpenOptions;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use chacha20poly1305::{KeyInit, XChaCha20Poly1305};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use crate::engine::SessionKey;

/// A key's bytes; as hex, twice as many digits.
pub const KEY_BYTES: usize = 32;
/// More keys than an operator rotating through them needs: a longer file is a mistake (a
/// session file pasted in, say) that should be said, not tried on every blob.
pub const MAX_KEYS: usize = 16;
/// A key file is a few lines; anything bigger is not one, and is not read into memory.
const MAX_FILE_BYTES: u64 = 64 * 1024;
/// The bytes of a key id in an envelope.
pub const KEY_ID_BYTES: usize = 8;

// HKDF info strings: one subkey per use, so no two uses ever share a key.
const INFO_SEAL: &[u8] = b"sesscache fleet seal";
const INFO_NAME: &[u8] = b"sesscache fleet name";
const INFO_ID: &[u8] = b"sesscache key id";

/// One key of the file, as its subkeys.
pub(super) struct Key {
    /// Names the key in an envelope without revealing it.
    pub(super) id: [u8; KEY_ID_BYTES],
    /// Wipes its key on drop (chacha20poly1305's `zeroize` feature).
    pub(super) aead: XChaCha20Poly1305,
    /// HMAC-SHA256 keyed with the name subkey, cloned per name (sha2's `zeroize` feature
    /// wipes its states on drop).
    name_mac: Hmac<Sha256>,
}

impl Key {
    fn derive(key: &[u8; KEY_BYTES]) -> Key {
        let hkdf = Hkdf::<Sha256>::new(None, key);
        let mut seal = Zeroizing::new([0u8; 32]);
        let mut name = Zeroizing::new([0u8; 32]);
        let mut id = [0u8; KEY_ID_BYTES];
        // 32 and 8 bytes are far below HKDF-SHA256's 255 * 32.
        hkdf.expand(INFO_SEAL, &mut seal[..]).expect("HKDF length");
        hkdf.expand(INFO_NAME, &mut name[..]).expect("HKDF length");
        hkdf.expand(INFO_ID, &mut id).expect("HKDF length");
        Key {
            id,
            aead: XChaCha20Poly1305::new(&(*seal).into()),
            name_mac: <Hmac<Sha256> as KeyInit>::new_from_slice(&name[..]).expect("HMAC takes any key length"),
        }
    }
}

/// The keys of a fleet key file, in file order (index 0 seals). Never empty.
pub struct Keys {
    keys: Vec<Key>,
}

impl Keys {
    /// Reads a key file: an error (naming the file, never a key) when it cannot be used, and
    /// warnings when it can but should not be as it is (readable or writable by others).
    pub fn load(path: &Path) -> Result<(Keys, Vec<String>), String> {
        let at = |e: String| format!("{}: {e}", path.display());
        // O_NONBLOCK: a FIFO put where the file should be must not hang the process; the checks
        // below are on the opened file itself, so nothing can be swapped in between.
        let mut file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(path)
            .map_err(|e| at(e.to_string()))?;
        let meta = file.metadata().map_err(|e| at(e.to_string()))?;
        if !meta.is_file() {
            return Err(at("not a regular file".into()));
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err(at(format!("{} bytes: too large for a key file", meta.len())));
        }
        let mut text = Zeroizing::new(Vec::with_capacity(meta.len() as usize + 1));
        (&mut file).take(MAX_FILE_BYTES + 1).read_to_end(&mut text).map_err(|e| at(e.to_string()))?;
        if text.len() as u64 > MAX_FILE_BYTES {
            return Err(at("too large for a key file".into()));
        }
        let keys = Keys::parse_bytes(&text).map_err(at)?;
        let warnings = mode_warning(meta.mode()).map(at).into_iter().collect();
        Ok((keys, warnings))
    }

    /// A key file's text.
    pub fn parse(text: &str) -> Result<Keys, String> {
        Keys::parse_bytes(text.as_bytes())
    }

    /// A key file's bytes (need not be UTF-8: a bad byte is reported as a bad digit). Errors
    /// name the line and column, never what is on it: a line close to a key is a secret.
    pub fn parse_bytes(text: &[u8]) -> Result<Keys, String> {
        let mut keys = Vec::new();
        let mut key = Zeroizing::new([0u8; KEY_BYTES]);
        for (i, line) in text.split(|&b| b == b'\n').enumerate() {
            let n = i + 1;
            let content = line.trim_ascii_start();
            if content.trim_ascii_end().is_empty() || content.starts_with(b"#") {
                continue;
            }
            if line.len() != 2 * KEY_BYTES {
                return Err(format!("line {n} has {} characters; a key is {} hex digits", line.len(), 2 * KEY_BYTES));
            }
            for (j, pair) in line.chunks_exact(2).enumerate() {
                let digit = |k: usize| {
                    hex_value(pair[k]).ok_or_else(|| format!("line {n}, column {}: not a hex digit", 2 * j + k + 1))
                };
                key[j] = digit(0)? << 4 | digit(1)?;
            }
            if keys.len() == MAX_KEYS {
                return Err(format!("line {n}: more than {MAX_KEYS} keys"));
            }
            let derived = Key::derive(&key);
            if let Some(same) = keys.iter().position(|k: &(usize, Key)| k.1.id == derived.id) {
                return Err(format!("line {n} repeats the key on line {}", keys[same].0));
            }
            keys.push((n, derived));
        }
        key.zeroize();
        if keys.is_empty() {
            return Err(if text.is_empty() { "empty: no key".into() } else { "no key: only blank and # lines".into() });
        }
        Ok(Keys { keys: keys.into_iter().map(|(_, k)| k).collect() })
    }

    /// How many keys (at least 1).
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Never: a `Keys` always has a key. (For clippy's `len_without_is_empty`.)
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The Redis key name of a session under key `which` (0 = the sealing key): `prefix` and
    /// 64 hex digits of HMAC-SHA256(name subkey, version as i32 BE || id). Without the key, a
    /// name says nothing of the session id. Panics when `which >= len()`, like an index.
    pub fn name(&self, which: usize, prefix: &str, key: &SessionKey) -> String {
        let mut mac = self.keys[which].name_mac.clone();
        mac.update(&key.version().to_be_bytes());
        mac.update(key.id());
        let digest = mac.finalize().into_bytes();
        let mut name = String::with_capacity(prefix.len() + 2 * digest.len());
        name.push_str(prefix);
        for b in digest.iter() {
            name.push(HEX[usize::from(b >> 4)] as char);
            name.push(HEX[usize::from(b & 15)] as char);
        }
        name
    }

    /// The key `which` (0 seals).
    pub(super) fn key(&self, which: usize) -> &Key {
        &self.keys[which]
    }

    /// The key whose id is `id`, if this file has it.
    pub(super) fn by_id(&self, id: &[u8]) -> Option<&Key> {
        self.keys.iter().find(|k| k.id[..] == *id)
    }
}

/// Key ids only: they are in every envelope anyway, and say which key a blob needs.
impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<String> = self.keys.iter().map(|k| k.id.iter().map(|b| format!("{b:02x}")).collect()).collect();
        f.debug_struct("Keys").field("ids", &ids).finish()
    }
}

impl fmt::Display for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} fleet key{}", self.len(), if self.len() == 1 { "" } else { "s" })
    }
}

/// What is wrong with a key file's permission bits, if anything: any access for group or
/// others (a key readable by others lets them read every session; writable, plant their own).
pub fn mode_warning(mode: u32) -> Option<String> {
    let mode = mode & 0o7777;
    let granted: Vec<&str> = [(0o044, "readable"), (0o022, "writable"), (0o011, "executable")]
        .into_iter()
        .filter(|&(bits, _)| mode & bits != 0)
        .map(|(_, what)| what)
        .collect();
    (!granted.is_empty()).then(|| format!("mode {mode:04o}: {} by group or others; chmod 600", granted.join(" and ")))
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    pub const KEY_A: &str = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
    pub const KEY_B: &str = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("sesscache-fleet-keys-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn well_formed_files() {
        assert_eq!(Keys::parse(KEY_A).unwrap().len(), 1);
        assert_eq!(Keys::parse(&format!("{KEY_A}\n")).unwrap().len(), 1);
        let text = format!("# fleet keys, newest first\n\n{KEY_B}\n   \n  # retired soon\n{KEY_A}\n");
        assert_eq!(Keys::parse(&text).unwrap().len(), 2);
        // Upper and lower case digits are the same key.
        let a = Keys::parse(KEY_A).unwrap();
        let lower = Keys::parse(&KEY_A.to_lowercase()).unwrap();
        assert_eq!(a.key(0).id, lower.key(0).id);
    }

    #[test]
    fn malformed_files_name_the_line_never_its_content() {
        let short = &KEY_A[..63];
        let long = format!("{KEY_A}0");
        let not_hex = format!("{}g", &KEY_A[..63]);
        let many: String = (0..=MAX_KEYS).map(|i| format!("{i:064x}\n")).collect();
        for (text, says) in [
            (String::new(), "empty"),
            ("\n\n# nothing\n".to_string(), "no key"),
            (format!("{short}\n"), "line 1 has 63 characters"),
            (format!("{long}\n"), "line 1 has 65 characters"),
            (format!("{not_hex}\n"), "line 1, column 64: not a hex digit"),
            (format!("{KEY_A}\r\n"), "line 1 has 65 characters"),
            (format!(" {KEY_A}\n"), "line 1 has 65 characters"),
            (format!("{KEY_A}\n# x\n{short}"), "line 3 has 63"),
            (format!("{KEY_A}\n{KEY_B}\n{}\n", KEY_A.to_lowercase()), "line 3 repeats the key on line 1"),
            (many, "line 17: more than 16 keys"),
        ] {
            let got = Keys::parse(&text);
            let err = got.as_ref().err().cloned().unwrap_or_default();
            assert!(err.contains(says), "{text:?} gave {err:?}, not {says:?}");
            for secret in [KEY_A, &KEY_A[..40], &KEY_A.to_lowercase()[..40], short, &not_hex[..40]] {
                assert!(!err.to_lowercase().contains(&secret.to_lowercase()), "{err:?} shows key material");
            }
        }
        // Not UTF-8: a bad digit, by column.
        let mut bytes = KEY_A.as_bytes().to_vec();
        bytes[5] = 0xff;
        assert_eq!(Keys::parse_bytes(&bytes).err().unwrap(), "line 1, column 6: not a hex digit");
        // Exactly MAX_KEYS is fine.
        let sixteen: String = (1..=MAX_KEYS).map(|i| format!("{i:064x}\n")).collect();
        assert_eq!(Keys::parse(&sixteen).unwrap().len(), MAX_KEYS);
    }

    #[test]
    fn debug_and_display_show_no_key_bytes() {
        let keys = Keys::parse(&format!("{KEY_A}\n{KEY_B}\n")).unwrap();
        for shown in [format!("{keys:?}"), format!("{keys:#?}"), keys.to_string()] {
            for key in [KEY_A, KEY_B] {
                for window in key.to_lowercase().as_bytes().windows(8) {
                    let window = std::str::from_utf8(window).unwrap();
                    assert!(!shown.to_lowercase().contains(window), "{shown} shows {window}");
                }
            }
        }
        assert_eq!(keys.to_string(), "2 fleet keys");
        assert!(format!("{keys:?}").contains(&keys.key(1).id.iter().map(|b| format!("{b:02x}")).collect::<String>()));
    }

    #[test]
    fn subkeys_differ_per_use_and_per_key() {
        let keys = Keys::parse(&format!("{KEY_A}\n{KEY_B}\n")).unwrap();
        assert_ne!(keys.key(0).id, keys.key(1).id);
        let raw: Vec<u8> = (0..32).map(|i| u8::from_str_radix(&KEY_A[2 * i..2 * i + 2], 16).unwrap()).collect();
        assert_ne!(keys.key(0).id[..], raw[..8], "the key id is the key's first bytes");
        assert!(keys.by_id(&keys.key(1).id).is_some());
        assert!(keys.by_id(&[0; 8]).is_none());
    }

    #[test]
    fn modes() {
        assert_eq!(mode_warning(0o100600), None);
        assert_eq!(mode_warning(0o400), None);
        assert_eq!(mode_warning(0o700), None);
        for open in [0o640, 0o604, 0o620, 0o610, 0o601, 0o666, 0o777] {
            let warning = mode_warning(open).unwrap_or_default();
            assert!(warning.contains(&format!("{open:04o}")), "{open:o}: {warning:?}");
        }
        assert_eq!(mode_warning(0o100644).unwrap(), "mode 0644: readable by group or others; chmod 600");
        assert_eq!(mode_warning(0o620).unwrap(), "mode 0620: writable by group or others; chmod 600");
        assert_eq!(mode_warning(0o601).unwrap(), "mode 0601: executable by group or others; chmod 600");
        assert_eq!(
            mode_warning(0o777).unwrap(),
            "mode 0777: readable and writable and executable by group or others; chmod 600"
        );
    }

    #[test]
    fn load_reads_files_and_says_what_is_wrong() {
        let dir = scratch("load");
        let path = dir.join("fleet.key");
        std::fs::write(&path, format!("{KEY_B}\n{KEY_A}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let (keys, warnings) = Keys::load(&path).unwrap();
        assert_eq!((keys.len(), warnings.len()), (2, 0));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let (_, warnings) = Keys::load(&path).unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("fleet.key") && warnings[0].contains("0644"), "{warnings:?}");

        let err = |p: &Path| Keys::load(p).err().unwrap_or_default();
        assert!(err(&dir.join("missing")).contains("No such file"), "{}", err(&dir.join("missing")));
        assert!(err(&dir).contains("not a regular file"));
        let empty = dir.join("empty");
        std::fs::write(&empty, "").unwrap();
        assert!(err(&empty).contains("empty"));
        let bad = dir.join("bad");
        std::fs::write(&bad, format!("{KEY_A}\n{}\n", &KEY_B[..60])).unwrap();
        assert!(err(&bad).contains("line 2 has 60"), "{}", err(&bad));
        assert!(!err(&bad).contains(&KEY_B[..60]));
        let big = dir.join("big");
        std::fs::write(&big, vec![b'#'; MAX_FILE_BYTES as usize + 1]).unwrap();
        assert!(err(&big).contains("too large"), "{}", err(&big));
        // A FIFO is refused at once, not waited on for a writer.
        let fifo = dir.join("fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        assert!(err(&fifo).contains("not a regular file"), "{}", err(&fifo));
        // Unreadable, even for root: the kernel refuses to read this file at offset 0.
        let unreadable = err(Path::new("/proc/self/mem"));
        assert!(unreadable.contains("Input/output error"), "{unreadable}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn names() {
        let keys = Keys::parse(&format!("{KEY_A}\n{KEY_B}\n")).unwrap();
        let id = [0x5a; 32];
        let tls12 = SessionKey::new(0x0303, &id).unwrap();
        let tls13 = SessionKey::new(0x0304, &id).unwrap();
        let other = SessionKey::new(0x0303, &[0x5b; 32]).unwrap();
        let short = SessionKey::new(0x0303, &id[..31]).unwrap();
        let name = keys.name(0, "sesscache:", &tls12);
        assert!(name.starts_with("sesscache:"));
        let digits = &name["sesscache:".len()..];
        assert_eq!(digits.len(), 64);
        assert!(digits.bytes().all(|b| HEX.contains(&b)));
        assert_eq!(name, keys.name(0, "sesscache:", &tls12), "a name is a function of its inputs");
        let all = [
            name.clone(),
            keys.name(1, "sesscache:", &tls12),
            keys.name(0, "sesscache:", &tls13),
            keys.name(0, "sesscache:", &other),
            keys.name(0, "sesscache:", &short),
        ];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a, b);
            }
            assert!(!a.contains("5a5a5a5a"), "{a} shows the id");
        }
        assert_eq!(keys.name(0, "p/", &tls12)["p/".len()..], *digits);
        // The same key in another file at another position names alike: rotation finds it.
        let rotated = Keys::parse(&format!("{KEY_B}\n{KEY_A}\n")).unwrap();
        assert_eq!(rotated.name(1, "sesscache:", &tls12), name);
    }
}
