//! The fleet's session ticket keys for libssl's contexts.
//!
//! libssl seals each stateless ticket (TLS 1.3 tickets, TLS 1.2 RFC 5077 tickets) under keys
//! `SSL_CTX_new` draws once per context and never rotates, so a ticket opens only on the
//! context that issued it. With the fleet on, every context we adopt gets our ticket key
//! callback (`SSL_CTX_set_tlsext_ticket_key_evp_cb`), which seals and opens in libssl's own
//! format and algorithms (a 16-byte key name, AES-256-CBC, HMAC-SHA256) under the process's key
//! ring (`fleet::ring`), shared by the fleet and rotated.
//!
//! The application's choice wins, exactly as libssl would honour it:
//! - its own callback (`SSL_CTX_set_tlsext_ticket_key_evp_cb`, or the older
//!   `SSL_CTX_set_tlsext_ticket_key_cb`, a `SSL_CTX_callback_ctrl`) or its own keys
//!   (`SSL_CTRL_SET_TLSEXT_TICKET_KEYS`) take ours out for good, and libssl goes on as told;
//! - SSL_OP_NO_TICKET: libssl never asks a callback for a connection that has it. For a
//!   connection that cleared it while its context still has it (an option libssl's SSL_CONF
//!   may set without a call we see), the callback uses the context's own keys, as libssl would.

use std::ffi::{c_char, c_int, c_long, c_uchar, c_uint, c_void, CStr};
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

use zeroize::Zeroize;

use super::ctx::{state, state_of_ssl};
use super::Runtime;
use crate::abi::*;
use crate::fleet::ring::{self, Slot, KEY_LEN, NAME_LEN};

/// libcrypto's cipher, cipher context and MAC context: only handed back to libcrypto.
#[allow(non_camel_case_types)]
pub struct EVP_CIPHER {
    _private: [u8; 0],
}
#[allow(non_camel_case_types)]
pub struct EVP_CIPHER_CTX {
    _private: [u8; 0],
}
#[allow(non_camel_case_types)]
pub struct EVP_MAC_CTX {
    _private: [u8; 0],
}

/// libcrypto's `OSSL_PARAM`.
#[allow(non_camel_case_types)]
#[repr(C)]
pub struct OSSL_PARAM {
    key: *const c_char,
    data_type: c_uint,
    data: *mut c_void,
    data_size: usize,
    return_size: usize,
}

const OSSL_PARAM_UTF8_STRING: c_uint = 4;
const OSSL_PARAM_OCTET_STRING: c_uint = 5;
const OSSL_PARAM_UNMODIFIED: usize = usize::MAX;

/// libssl's ticket key callback (`SSL_CTX_set_tlsext_ticket_key_evp_cb`).
pub type TicketKeyCb =
    unsafe extern "C" fn(*mut SSL, *mut c_uchar, *mut c_uchar, *mut EVP_CIPHER_CTX, *mut EVP_MAC_CTX, c_int) -> c_int;

pub const SSL_CTRL_GET_TLSEXT_TICKET_KEYS: c_int = 58;
pub const SSL_CTRL_SET_TLSEXT_TICKET_KEYS: c_int = 59;
pub const SSL_CTRL_SET_TLSEXT_TICKET_KEY_CB: c_int = 72;
const SSL_OP_NO_TICKET: u64 = 1 << 14;
/// EVP_MAX_IV_LENGTH: the IV buffer libssl hands the callback.
const IV_LEN: usize = 16;

/// Whether contexts get the fleet's ticket keys: with the fleet on (configured and its key
/// file read), unless SESSCACHE_FLEET_TICKETS=0 (`fleet::config`). Decided once.
fn enabled() -> bool {
    static ON: once_cell::sync::OnceCell<bool> = once_cell::sync::OnceCell::new();
    *ON.get_or_init(|| crate::fleet::tickets().is_some_and(|t| t.on))
}

/// A context's ticket handling: whether ours is installed (the AES-256-CBC it fetched from the
/// context's library context) and whether the application chose its own.
pub struct CtxTickets {
    /// AES-256-CBC from the context's library context while ours is installed; NULL otherwise.
    cipher: AtomicPtr<EVP_CIPHER>,
    chosen: AtomicBool,
}

impl Default for CtxTickets {
    fn default() -> Self {
        CtxTickets { cipher: AtomicPtr::new(std::ptr::null_mut()), chosen: AtomicBool::new(false) }
    }
}

impl CtxTickets {
    /// Installs our callback on a context libssl just made, when the fleet's ticket keys are
    /// on and the context can serve (not TLS_client_method's). Without the cipher, a ring or
    /// libssl's consent, the context keeps libssl's keys.
    ///
    /// # Safety
    /// `ctx` is the live context just made with `libctx` and `propq` (NULL or a C string).
    pub unsafe fn install(
        &self,
        rt: &'static Runtime,
        ctx: *mut SSL_CTX,
        libctx: *mut OSSL_LIB_CTX,
        propq: *const c_char,
    ) {
        let real = &rt.real;
        // A client's context never seals or opens a ticket: no ring, no thread for it.
        // SAFETY: real functions on the caller's live context.
        if unsafe { (real.SSL_CTX_get_ssl_method)(ctx) == (real.TLS_client_method)() } {
            return;
        }
        // A context's creation (never a handshake) may wait once for the fleet's ring.
        if !enabled() || keyring(true).is_none() {
            return;
        }
        // SAFETY: real functions on the caller's live context and its library context.
        unsafe {
            let cipher = (real.EVP_CIPHER_fetch)(libctx, c"AES-256-CBC".as_ptr(), propq);
            if cipher.is_null() {
                return;
            }
            if (real.SSL_CTX_set_tlsext_ticket_key_evp_cb)(ctx, Some(on_ticket_key)) != 1 {
                (real.EVP_CIPHER_free)(cipher);
                return;
            }
            self.cipher.store(cipher, Ordering::Release);
        }
    }

    /// The application set its own ticket callback or keys: ours is taken out (libssl's own
    /// keys are back until the application's setter, which the caller calls next, takes effect).
    ///
    /// # Safety
    /// `ctx` is the live context this state belongs to.
    unsafe fn application_chose(&self, rt: &'static Runtime, ctx: *mut SSL_CTX) {
        self.chosen.store(true, Ordering::Release);
        let cipher = self.cipher.swap(std::ptr::null_mut(), Ordering::AcqRel);
        if !cipher.is_null() {
            // SAFETY: a live context; NULL gives libssl back its own keys. The cipher is ours
            // and no longer used by this context (its callback is gone).
            unsafe {
                (rt.real.SSL_CTX_set_tlsext_ticket_key_evp_cb)(ctx, None);
                (rt.real.EVP_CIPHER_free)(cipher);
            }
        }
    }
}

impl Drop for CtxTickets {
    fn drop(&mut self) {
        let cipher = *self.cipher.get_mut();
        if let (false, super::Mode::Preload(rt)) = (cipher.is_null(), super::mode()) {
            // SAFETY: the cipher we fetched; the context is gone.
            unsafe { (rt.real.EVP_CIPHER_free)(cipher) };
        }
    }
}

/// The process's key ring, synced with the fleet's by a thread started in this process.
fn keyring(first: bool) -> Option<&'static ring::Keyring> {
    let settings = crate::fleet::tickets()?;
    crate::fleet::ring_sync::keyring(crate::fleet::ring_home(), &settings, first)
}

// ---- the application's own ticket handling (the exports) ----

/// `SSL_CTX_set_tlsext_ticket_key_evp_cb`: the application's callback replaces ours for good.
///
/// # Safety
/// OpenSSL's contract: `ctx` is NULL or live.
pub unsafe fn set_evp_cb(rt: &'static Runtime, ctx: *mut SSL_CTX, cb: Option<TicketKeyCb>) -> Option<c_int> {
    // SAFETY: the contract above.
    if let Some(st) = unsafe { state(rt, ctx) } {
        // SAFETY: our state of this live context.
        unsafe { st.tickets.application_chose(rt, ctx) };
    }
    // SAFETY: libssl's setter with the caller's arguments.
    Some(unsafe { (rt.real.SSL_CTX_set_tlsext_ticket_key_evp_cb)(ctx, cb) })
}

/// `SSL_CTX_callback_ctrl`: libssl's; the older ticket key callback first takes ours out (libssl
/// prefers an evp callback to it).
///
/// # Safety
/// OpenSSL's contract: `ctx` is NULL or live; `cb` has the type `cmd` expects.
pub unsafe fn callback_ctrl(
    rt: &'static Runtime,
    ctx: *mut SSL_CTX,
    cmd: c_int,
    cb: Option<unsafe extern "C" fn()>,
) -> Option<c_long> {
    if cmd == SSL_CTRL_SET_TLSEXT_TICKET_KEY_CB {
        // SAFETY: the contract above.
        if let Some(st) = unsafe { state(rt, ctx) } {
            // SAFETY: our state of this live context.
            unsafe { st.tickets.application_chose(rt, ctx) };
        }
    }
    // SAFETY: libssl's function with the caller's arguments.
    Some(unsafe { (rt.real.SSL_CTX_callback_ctrl)(ctx, cmd, cb) })
}

/// `SSL_CTX_ctrl(SSL_CTRL_SET_TLSEXT_TICKET_KEYS)` on a context of ours, before libssl's: the
/// application's keys (a NULL buffer only asks for their length) take ours out.
///
/// # Safety
/// `ctx` is the live context `st` belongs to.
pub(super) unsafe fn keys_set(st: &CtxTickets, rt: &'static Runtime, ctx: *mut SSL_CTX, keys: *mut c_void) {
    if !keys.is_null() {
        // SAFETY: the caller's promise.
        unsafe { st.application_chose(rt, ctx) };
    }
}

// ---- the callback libssl calls ----

/// libssl seals (`enc` = 1) or opens (`enc` = 0) a ticket of a connection on one of our
/// contexts. Sealing: the current key's name, a random IV, the cipher and MAC keyed; 1, or -1
/// when libcrypto fails. Opening: 2 (open and renew) under TLS 1.3, as libssl's own keys always
/// renew there, and under a key that is no longer or not yet current; 1 otherwise; 0 for a name
/// the ring does not hold (a full handshake, never an error).
unsafe extern "C" fn on_ticket_key(
    ssl: *mut SSL,
    name: *mut c_uchar,
    iv: *mut c_uchar,
    cctx: *mut EVP_CIPHER_CTX,
    hctx: *mut EVP_MAC_CTX,
    enc: c_int,
) -> c_int {
    let sealing = enc != 0;
    // What cannot be known (a panic, a connection not ours): no ticket opens, none is sealed.
    guard(if sealing { -1 } else { 0 }, || {
        let super::Mode::Preload(rt) = super::mode() else { return None };
        if name.is_null() || iv.is_null() {
            return None;
        }
        // SAFETY: libssl calls with its live connection.
        let st = unsafe { state_of_ssl(rt, ssl)? };
        let cipher = st.tickets.cipher.load(Ordering::Acquire);
        if cipher.is_null() {
            return None;
        }
        // SAFETY: libssl's buffers: the 16-byte key name and the EVP_MAX_IV_LENGTH IV.
        let (name, iv) =
            unsafe { (std::slice::from_raw_parts_mut(name, NAME_LEN), std::slice::from_raw_parts_mut(iv, IV_LEN)) };
        // SAFETY: libssl's live connection.
        let renew = unsafe { (rt.real.SSL_version)(ssl) } == TLS1_3_VERSION;
        let keys = Keys { rt, cipher, cctx, hctx, renew };
        // SAFETY: a live context (the connection's session context, which libssl asks).
        if unsafe { (rt.real.SSL_CTX_get_options)(st.real_ctx()) } & SSL_OP_NO_TICKET != 0 {
            // SAFETY: as above.
            return unsafe { libssl_keys(&keys, st.real_ctx(), name, iv, sealing) };
        }
        let now = now();
        let keyring = keyring(false)?;
        let ring = keyring.ring(now);
        if sealing {
            getrandom::fill(iv).ok()?;
            name.copy_from_slice(&ring.current.name);
            let ok = keys.init(&ring.current.aes, &ring.current.hmac, iv, true);
            if ok {
                keyring.note_issued();
            }
            return Some(if ok { 1 } else { -1 });
        }
        let Some((key, slot)) = keyring.opener(&ring, name) else {
            return Some(0);
        };
        if !keys.init(&key.aes, &key.hmac, iv, false) {
            return Some(-1);
        }
        Some(if renew || slot != Slot::Current { 2 } else { 1 })
    })
}

/// What keys a ticket's cipher and MAC: libssl's contexts, our cipher.
struct Keys {
    rt: &'static Runtime,
    cipher: *mut EVP_CIPHER,
    cctx: *mut EVP_CIPHER_CTX,
    hctx: *mut EVP_MAC_CTX,
    /// Whether libssl renews a ticket its own keys open (TLS 1.3).
    renew: bool,
}

impl Keys {
    /// AES-256-CBC under `aes` with `iv` for sealing or opening, HMAC-SHA256 under `hmac`:
    /// libssl's default ticket algorithms.
    fn init(&self, aes: &[u8; KEY_LEN], hmac: &[u8; KEY_LEN], iv: &[u8], sealing: bool) -> bool {
        const DIGEST: &CStr = c"SHA256";
        let params = [
            OSSL_PARAM {
                key: c"key".as_ptr(),
                data_type: OSSL_PARAM_OCTET_STRING,
                data: hmac.as_ptr() as *mut c_void,
                data_size: KEY_LEN,
                return_size: OSSL_PARAM_UNMODIFIED,
            },
            OSSL_PARAM {
                key: c"digest".as_ptr(),
                data_type: OSSL_PARAM_UTF8_STRING,
                data: DIGEST.as_ptr() as *mut c_void,
                data_size: DIGEST.to_bytes().len(),
                return_size: OSSL_PARAM_UNMODIFIED,
            },
            OSSL_PARAM {
                key: std::ptr::null(),
                data_type: 0,
                data: std::ptr::null_mut(),
                data_size: 0,
                return_size: 0,
            },
        ];
        let real = &self.rt.real;
        let init = if sealing { real.EVP_EncryptInit_ex } else { real.EVP_DecryptInit_ex };
        // SAFETY: libssl's live cipher and MAC contexts for this ticket, our fetched cipher,
        // 32-byte keys and a 16-byte IV; the parameters are read during the call only.
        unsafe {
            init(self.cctx, self.cipher, std::ptr::null_mut(), aes.as_ptr(), iv.as_ptr()) == 1
                && (real.EVP_MAC_CTX_set_params)(self.hctx, params.as_ptr()) == 1
        }
    }
}

/// The context's own keys, as libssl uses them when no callback is set: its one key name,
/// AES-256-CBC and HMAC-SHA256 under its keys; on a name match 1, or 2 (renew) under TLS 1.3;
/// 0 otherwise.
///
/// # Safety
/// `ctx` is the live session context of the connection libssl is sealing or opening for.
unsafe fn libssl_keys(keys: &Keys, ctx: *mut SSL_CTX, name: &mut [u8], iv: &mut [u8], sealing: bool) -> Option<c_int> {
    // libssl's layout: name, HMAC key, AES key.
    let mut own = [0u8; NAME_LEN + 2 * KEY_LEN];
    // SAFETY: a live context and a buffer of the length libssl asks for.
    let got = unsafe {
        (keys.rt.real.SSL_CTX_ctrl)(ctx, SSL_CTRL_GET_TLSEXT_TICKET_KEYS, own.len() as c_long, own.as_mut_ptr().cast())
    };
    let answer = (|| {
        if got != 1 {
            return Some(-1);
        }
        let (own_name, secrets) = own.split_at(NAME_LEN);
        let hmac: &[u8; KEY_LEN] = secrets[..KEY_LEN].try_into().ok()?;
        let aes: &[u8; KEY_LEN] = secrets[KEY_LEN..].try_into().ok()?;
        if sealing {
            getrandom::fill(iv).ok()?;
            name.copy_from_slice(own_name);
        } else if name != own_name {
            return Some(0);
        }
        Some(match keys.init(aes, hmac, iv, sealing) {
            false => -1,
            true if !sealing && keys.renew => 2,
            true => 1,
        })
    })();
    own.zeroize();
    answer
}
