//! What a TLS session holds, as plain data: the fields OpenSSL 3 keeps in an `SSL_SESSION` and
//! writes into its DER form. No locking and no C types here; the native front wraps this in a
//! lock and a reference count, the DER codec (`der.rs`) reads and writes it.
//!
//! Memory: a cache holds a million of these, so the layout is part of the design. Every
//! session has an id, an id context, a master key, times and a few numbers; those are kept
//! inline at their real widths. The fields only some sessions carry (certificates, tickets,
//! names, ...) live in one `Rare` box that most sessions never allocate.

use std::ffi::CString;

use crate::codec::cipher::{self, Cipher, CIPHERSUITE_FLAG};
use crate::engine::{Expiry, SessionKey};

/// Longest session id OpenSSL accepts (SSL_MAX_SSL_SESSION_ID_LENGTH).
pub const MAX_SESSION_ID_LEN: usize = 32;
/// Longest session id context (SSL_MAX_SID_CTX_LENGTH).
pub const MAX_SID_CTX_LEN: usize = 32;
/// Longest master key `SSL_SESSION_set1_master_key` takes in OpenSSL 3.0 (its buffer is sized for
/// TLS 1.3 resumption secrets; measured against libssl 3.0.19).
pub const MAX_MASTER_KEY_LEN: usize = 512;
/// How much of a master key is kept inline: 48 bytes holds the TLS 1.2 master secret and the
/// largest TLS 1.3 resumption secret (SHA-384). A longer key goes to the `Rare` box.
const INLINE_MASTER_KEY_LEN: usize = 48;
/// `SSL_SESSION_new`'s timeout: five minutes and four seconds, as OpenSSL sets it.
pub const DEFAULT_SESSION_TIMEOUT: i64 = 60 * 5 + 4;
/// `SSL_SESSION_new`'s verify result: X509_V_ERR_UNSPECIFIED, so that a fresh session is never
/// mistaken for a verified one.
pub const DEFAULT_VERIFY_RESULT: i32 = 1;
/// What `SSL_SESSION_new` stores as the max fragment length mode (measured: libssl 3.0.19
/// writes 255 into a fresh session's DER).
pub const MAX_FRAGMENT_LEN_UNSPECIFIED: u8 = 255;

/// A byte string of at most `N` (< 256) bytes with its length, stored inline.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct InlineBytes<const N: usize> {
    len: u8,
    bytes: [u8; N],
}

/// Ids and id contexts: at most 32 bytes, as OpenSSL stores them.
pub type ShortBytes = InlineBytes<32>;

impl<const N: usize> Default for InlineBytes<N> {
    fn default() -> Self {
        InlineBytes { len: 0, bytes: [0; N] }
    }
}

impl<const N: usize> InlineBytes<N> {
    /// None when `b` is longer than `N` bytes.
    pub fn new(b: &[u8]) -> Option<Self> {
        let mut s = Self::default();
        s.assign(b).then_some(s)
    }
    /// Copies `b` over the start of the buffer and takes its length, keeping the bytes past
    /// it: OpenSSL copies only the new length, and a caller who passes the session's own
    /// buffer back sees its old tail. False (unchanged) when `b` is over `N` bytes.
    pub fn assign(&mut self, b: &[u8]) -> bool {
        if b.len() > N {
            return false;
        }
        self.bytes[..b.len()].copy_from_slice(b);
        self.len = b.len() as u8;
        true
    }
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }
    /// The whole buffer; C callers get a pointer into it, as they do into OpenSSL's.
    pub fn buffer(&self) -> &[u8; N] {
        &self.bytes
    }
    pub fn len(&self) -> usize {
        self.len as usize
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A session's suite as OpenSSL keeps it: two fields that only d2i sets together. The cipher
/// (`SSL_SESSION_get0_cipher`, changed alone by `SSL_SESSION_set_cipher`) and the cipher id
/// that d2i read, which i2d writes only when the cipher is NULL (both unset: i2d returns 0).
/// Packed in 4 bytes: the cipher as its place in the cipher table, the id as its wire code
/// (every id is 0 or CIPHERSUITE_FLAG | a two-byte code).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
struct SuiteSlot {
    /// 1 + the cipher's index in `cipher::all()`; 0 for none.
    cipher: u8,
    /// Whether `id` holds a cipher id (else it is 0).
    has_id: bool,
    id: u16,
}

/// The fields few sessions set, boxed together so that a session without any of them pays
/// one pointer. Read them through `SessionFields::rare`, change them through
/// `SessionFields::change_rare`.
#[derive(Clone, Debug, PartialEq)]
pub struct Rare {
    /// The peer certificate exactly as DER-encoded by whoever made it.
    pub peer_cert: Option<Vec<u8>>,
    pub hostname: Option<CString>,
    pub psk_identity_hint: Option<CString>,
    pub psk_identity: Option<CString>,
    pub srp_username: Option<CString>,
    pub tick_lifetime_hint: u64,
    pub tick: Option<Vec<u8>>,
    pub tick_age_add: u32,
    pub tick_nonce: Option<Vec<u8>>,
    /// Compression method id; 0 = none (then not encoded).
    pub compress_meth: u32,
    pub max_early_data: u32,
    pub alpn_selected: Option<Vec<u8>>,
    pub ticket_appdata: Option<Vec<u8>>,
    /// A master key longer than INLINE_MASTER_KEY_LEN (then the inline one is empty).
    long_master_key: Option<Box<[u8]>>,
}

impl Rare {
    /// What a session without rare fields reads.
    const NONE: Rare = Rare {
        peer_cert: None,
        hostname: None,
        psk_identity_hint: None,
        psk_identity: None,
        srp_username: None,
        tick_lifetime_hint: 0,
        tick: None,
        tick_age_add: 0,
        tick_nonce: None,
        compress_meth: 0,
        max_early_data: 0,
        alpn_selected: None,
        ticket_appdata: None,
        long_master_key: None,
    };
}

/// Shared by every session that has no `Rare` box.
static NO_RARE: Rare = Rare::NONE;

/// Every field of an OpenSSL 3.0 session that its DER form carries, plus the cache's view of it.
// In this order on purpose: what every add and lookup reads (time, timeout, version, id) comes
// first, so that it shares the object's first cache line with the reference count and lock.
#[derive(Clone, Debug, PartialEq)]
#[repr(C)]
pub struct SessionFields {
    /// Creation time, seconds since the epoch.
    pub time: i64,
    /// Lifetime in seconds. The setters refuse negatives, but a decoded session keeps a
    /// negative timeout as libssl's decoder does.
    pub timeout: i64,
    /// Protocol version (TLS1_2_VERSION = 0x0303, ...); 0 for a fresh session.
    pub ssl_version: i32,
    pub session_id: ShortBytes,
    pub sid_ctx: ShortBytes,
    /// Through `master_key` and `set_master_key`: a key of up to 48 bytes, or empty when the
    /// key is longer and lives in `rare`.
    inline_master_key: InlineBytes<INLINE_MASTER_KEY_LEN>,
    pub max_fragment_len_mode: u8,
    /// OpenSSL keeps a long but encodes (and so decodes) an int32, and no accessor returns
    /// it: 32 bits lose nothing.
    pub verify_result: i32,
    /// SSL_SESS_FLAG_* bits (extended master secret, ...); OpenSSL 3.0 keeps them in 32 bits.
    pub flags: u32,
    /// The key exchange group of the handshake (libssl 3.0.19 writes it in every DER).
    pub kex_group: u32,
    /// Through `cipher`, `cipher_id` and `set_cipher`.
    suite: SuiteSlot,
    /// None while every rare field has its default: `change_rare` keeps it so, which also
    /// makes the derived equality compare contents.
    rare: Option<Box<Rare>>,
}

impl SessionFields {
    /// What `SSL_SESSION_new` makes at time `now`.
    pub fn new(now: i64) -> SessionFields {
        SessionFields {
            ssl_version: 0,
            suite: SuiteSlot::default(),
            session_id: ShortBytes::default(),
            sid_ctx: ShortBytes::default(),
            inline_master_key: InlineBytes::default(),
            time: now,
            timeout: DEFAULT_SESSION_TIMEOUT,
            verify_result: DEFAULT_VERIFY_RESULT,
            flags: 0,
            kex_group: 0,
            max_fragment_len_mode: MAX_FRAGMENT_LEN_UNSPECIFIED,
            rare: None,
        }
    }

    /// The id the cache files this session under: (protocol version, session id).
    pub fn key(&self) -> SessionKey {
        SessionKey::new(self.ssl_version, self.session_id.as_slice())
            .expect("a session id is at most 32 bytes by construction")
    }

    /// When the session stops being resumable, OpenSSL's way.
    pub fn expiry(&self) -> Expiry {
        Expiry::new(self.time, self.timeout)
    }

    /// The rarely-set fields (all defaults when the session has none).
    pub fn rare(&self) -> &Rare {
        self.rare.as_deref().unwrap_or(&NO_RARE)
    }

    /// Changes rarely-set fields. The box is made only when a field gets a value other than
    /// its default, and dropped when all are back to their defaults.
    pub fn change_rare(&mut self, change: impl FnOnce(&mut Rare)) {
        match &mut self.rare {
            Some(rare) => {
                change(rare);
                if **rare == Rare::NONE {
                    self.rare = None;
                }
            }
            None => {
                let mut rare = Rare::NONE;
                change(&mut rare);
                if rare != Rare::NONE {
                    self.rare = Some(Box::new(rare));
                }
            }
        }
    }

    pub fn master_key(&self) -> &[u8] {
        match &self.rare().long_master_key {
            Some(long) => long,
            None => self.inline_master_key.as_slice(),
        }
    }

    /// Replaces the master key; the caller keeps it within MAX_MASTER_KEY_LEN.
    pub fn set_master_key(&mut self, key: &[u8]) {
        match InlineBytes::new(key) {
            Some(inline) => {
                self.inline_master_key = inline;
                if self.rare().long_master_key.is_some() {
                    self.change_rare(|r| r.long_master_key = None);
                }
            }
            None => {
                self.inline_master_key = InlineBytes::default();
                self.change_rare(|r| r.long_master_key = Some(key.into()));
            }
        }
    }

    /// The cipher (`SSL_SESSION_get0_cipher`).
    pub fn cipher(&self) -> Option<&'static Cipher> {
        self.suite.cipher.checked_sub(1).map(|i| &cipher::all()[usize::from(i)])
    }

    /// The id the encoder writes, as i2d picks it: the cipher's, else the id d2i stored (0
    /// for none).
    pub fn cipher_id(&self) -> u32 {
        match (self.cipher(), self.suite.has_id) {
            (Some(c), _) => c.id,
            (None, true) => CIPHERSUITE_FLAG | u32::from(self.suite.id),
            (None, false) => 0,
        }
    }

    /// `SSL_SESSION_set_cipher`: the cipher only (NULL clears it); the stored id stays.
    pub fn set_cipher(&mut self, c: Option<&'static Cipher>) {
        self.suite.cipher = c.map_or(0, table_place);
    }

    /// What d2i stores: the id read, and the cipher, which is libssl's suite of that id or
    /// none (returned).
    pub fn set_cipher_by_wire_code(&mut self, code: u16) -> Option<&'static Cipher> {
        let known = cipher::by_wire_code(code.to_be_bytes());
        self.suite = SuiteSlot { cipher: known.map_or(0, table_place), has_id: true, id: code };
        known
    }
}

/// 1 + a table suite's index in `cipher::all()` (the table has fewer than 255).
fn table_place(c: &'static Cipher) -> u8 {
    let index = cipher::all().binary_search_by_key(&c.id, |t| t.id).expect("a suite of the cipher table");
    u8::try_from(index + 1).expect("fewer than 255 suites")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bytes are the budget: a cached session may cost 256 bytes in all, cache included,
    /// and a million of them are normal. Moving a rare field back inline, or widening one,
    /// fails here.
    #[test]
    fn session_fields_stay_small() {
        assert_eq!(std::mem::size_of::<ShortBytes>(), 33);
        assert_eq!(std::mem::size_of::<SuiteSlot>(), 4);
        assert!(
            std::mem::size_of::<SessionFields>() <= 160,
            "SessionFields grew to {} bytes",
            std::mem::size_of::<SessionFields>()
        );
    }

    #[test]
    fn master_keys_of_every_length() {
        let mut s = SessionFields::new(0);
        for len in [0, 1, 47, 48, 49, 64, 511, 512, 48, 0, 200, 3] {
            let key: Vec<u8> = (0..len).map(|i| (i * 13 + len) as u8).collect();
            s.set_master_key(&key);
            assert_eq!(s.master_key(), &key[..], "{len}");
            // Only a key that does not fit inline needs the box.
            assert_eq!(s.rare.is_some(), len > INLINE_MASTER_KEY_LEN, "{len}");
        }
    }

    #[test]
    fn rare_box_exists_only_for_values() {
        let mut s = SessionFields::new(0);
        s.change_rare(|r| r.hostname = None);
        assert!(s.rare.is_none());
        s.change_rare(|r| r.hostname = Some(CString::new("h").unwrap()));
        assert_eq!(s.rare().hostname.as_deref().unwrap().to_bytes(), b"h");
        let with_name = s.clone();
        s.change_rare(|r| r.hostname = None);
        assert!(s.rare.is_none());
        assert_eq!(s, SessionFields::new(0));
        assert_ne!(s, with_name);
    }

    /// As libssl: set_cipher changes the cipher alone, d2i sets the cipher and the id, and i2d
    /// writes the cipher's id, else the stored one.
    #[test]
    fn set_cipher_leaves_the_stored_id_alone() {
        let mut s = SessionFields::new(0);
        assert_eq!((s.cipher(), s.cipher_id()), (None, 0));
        s.set_cipher(None);
        assert_eq!(s.cipher_id(), 0);
        let c = cipher::by_id(0x0300_c02f).unwrap();
        s.set_cipher(Some(c));
        assert_eq!((s.cipher(), s.cipher_id()), (Some(c), 0x0300_c02f));
        // No id was stored: with the cipher cleared, i2d has nothing to write.
        s.set_cipher(None);
        assert_eq!((s.cipher(), s.cipher_id()), (None, 0));
        s.set_cipher_by_wire_code(0x1306);
        assert_eq!((s.cipher(), s.cipher_id()), (None, 0x0300_1306));
        // A cipher set over a stored id is what i2d writes; cleared, the stored id is back.
        s.set_cipher(Some(c));
        assert_eq!((s.cipher(), s.cipher_id()), (Some(c), 0x0300_c02f));
        s.set_cipher(None);
        assert_eq!((s.cipher(), s.cipher_id()), (None, 0x0300_1306));
        s.set_cipher_by_wire_code(0x1302);
        assert_eq!(s.cipher().unwrap().id, 0x0300_1302);
        assert!(cipher::all().len() < 255, "the cipher's table place fits a byte");
    }

    /// Every suite in the table is CIPHERSUITE_FLAG | a wire code: what `SuiteSlot` relies on.
    #[test]
    fn table_ids_are_wire_codes() {
        for c in cipher::all() {
            assert_eq!(c.id & !0xffff, CIPHERSUITE_FLAG, "{:?}", c.name);
        }
    }
}
