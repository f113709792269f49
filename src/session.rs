//! What a TLS session holds, as plain data: the fields OpenSSL 3 keeps in an `SSL_SESSION` and
//! writes into its DER form. No locking and no C types here; the native front wraps this in a
//! lock and a reference count, the DER codec (`der.rs`) reads and writes it.

use std::ffi::CString;

use crate::cipher::Cipher;
use crate::engine::{Expiry, SessionKey};

/// Longest session id OpenSSL accepts (SSL_MAX_SSL_SESSION_ID_LENGTH).
pub const MAX_SESSION_ID_LEN: usize = 32;
/// Longest session id context (SSL_MAX_SID_CTX_LENGTH).
pub const MAX_SID_CTX_LEN: usize = 32;
/// Longest master key `SSL_SESSION_set1_master_key` takes in OpenSSL 3.0 (its buffer is sized for
/// TLS 1.3 resumption secrets; measured against libssl 3.0.19).
pub const MAX_MASTER_KEY_LEN: usize = 512;
/// `SSL_SESSION_new`'s timeout: five minutes and four seconds, as OpenSSL sets it.
pub const DEFAULT_SESSION_TIMEOUT: i64 = 60 * 5 + 4;
/// `SSL_SESSION_new`'s verify result: X509_V_ERR_UNSPECIFIED, so that a fresh session is never
/// mistaken for a verified one.
pub const DEFAULT_VERIFY_RESULT: i64 = 1;
/// What `SSL_SESSION_new` stores as the max fragment length mode (measured: libssl 3.0.19
/// writes 255 into a fresh session's DER).
pub const MAX_FRAGMENT_LEN_UNSPECIFIED: u8 = 255;

/// A byte string of at most 32 bytes with its length, as OpenSSL stores ids and id contexts.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct ShortBytes {
    len: u8,
    bytes: [u8; 32],
}

impl ShortBytes {
    /// None when `b` is longer than 32 bytes.
    pub fn new(b: &[u8]) -> Option<ShortBytes> {
        if b.len() > 32 {
            return None;
        }
        let mut s = ShortBytes { len: b.len() as u8, bytes: [0; 32] };
        s.bytes[..b.len()].copy_from_slice(b);
        Some(s)
    }
    /// Copies `b` over the start of the buffer and takes its length, keeping the bytes past
    /// it: OpenSSL copies only the new length, and a caller who passes the session's own
    /// buffer back sees its old tail. False (unchanged) when `b` is over 32 bytes.
    pub fn assign(&mut self, b: &[u8]) -> bool {
        if b.len() > 32 {
            return false;
        }
        self.bytes[..b.len()].copy_from_slice(b);
        self.len = b.len() as u8;
        true
    }
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }
    /// The whole 32-byte buffer; C callers get a pointer into it, as they do into OpenSSL's.
    pub fn buffer(&self) -> &[u8; 32] {
        &self.bytes
    }
    pub fn len(&self) -> usize {
        self.len as usize
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Every field of an OpenSSL 3.0 session that its DER form carries, plus the cache's view of it.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionFields {
    /// Protocol version (TLS1_2_VERSION = 0x0303, ...); 0 for a fresh session.
    pub ssl_version: i32,
    /// The suite, when libssl knows its id.
    pub cipher: Option<&'static Cipher>,
    /// The suite id as last set or decoded (0 = none); used when `cipher` is None.
    pub cipher_id: u32,
    pub session_id: ShortBytes,
    pub sid_ctx: ShortBytes,
    pub master_key: Vec<u8>,
    /// Creation time, seconds since the epoch.
    pub time: i64,
    /// Lifetime in seconds. The setters refuse negatives, but a decoded session keeps a
    /// negative timeout as libssl's decoder does.
    pub timeout: i64,
    /// The peer certificate exactly as DER-encoded by whoever made it.
    pub peer_cert: Option<Vec<u8>>,
    pub verify_result: i64,
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
    /// SSL_SESS_FLAG_* bits (extended master secret, ...).
    pub flags: u64,
    pub max_early_data: u32,
    pub alpn_selected: Option<Vec<u8>>,
    pub max_fragment_len_mode: u8,
    pub ticket_appdata: Option<Vec<u8>>,
    /// The key exchange group of the handshake (libssl 3.0.19 writes it in every DER).
    pub kex_group: u32,
}

impl SessionFields {
    /// What `SSL_SESSION_new` makes at time `now`.
    pub fn new(now: i64) -> SessionFields {
        SessionFields {
            ssl_version: 0,
            cipher: None,
            cipher_id: 0,
            session_id: ShortBytes::default(),
            sid_ctx: ShortBytes::default(),
            master_key: Vec::new(),
            time: now,
            timeout: DEFAULT_SESSION_TIMEOUT,
            peer_cert: None,
            verify_result: DEFAULT_VERIFY_RESULT,
            hostname: None,
            psk_identity_hint: None,
            psk_identity: None,
            srp_username: None,
            tick_lifetime_hint: 0,
            tick: None,
            tick_age_add: 0,
            tick_nonce: None,
            compress_meth: 0,
            flags: 0,
            max_early_data: 0,
            alpn_selected: None,
            max_fragment_len_mode: MAX_FRAGMENT_LEN_UNSPECIFIED,
            ticket_appdata: None,
            kex_group: 0,
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

    /// The id the encoder writes: the known suite's, else the last id set.
    pub fn effective_cipher_id(&self) -> u32 {
        self.cipher.map_or(self.cipher_id, |c| c.id)
    }
}
