//! Between `SSL_SESSION_ASN1` and a session's fields: what `i2d_SSL_SESSION` writes and the
//! checks `d2i_SSL_SESSION` makes once the SEQUENCE is read.

use std::ffi::CString;

use super::template::Asn1Session;
use super::writer::*;
use crate::codec::session::{SessionFields, ShortBytes, MAX_MASTER_KEY_LEN, MAX_SESSION_ID_LEN, MAX_SID_CTX_LEN};

/// `SSL_SESSION_ASN1_VERSION`: the only version OpenSSL reads.
const ASN1_VERSION: i128 = 1;
/// What `d2i` sets the timeout to when the DER has none (or 0).
const DECODE_DEFAULT_TIMEOUT: i64 = 3;

/// i2d_SSL_SESSION: None where OpenSSL returns 0 (no cipher and cipher_id == 0).
pub fn encode(s: &SessionFields) -> Option<Vec<u8>> {
    let id = s.cipher_id(); // the known suite's, else the last id set
    if id == 0 {
        return None;
    }
    let r = s.rare();
    let cstr = |c: &Option<CString>| c.as_ref().map(|c| c.to_bytes().to_vec());

    let mut b = Vec::new();
    put_int(&mut b, ASN1_VERSION);
    put_int(&mut b, i128::from(s.ssl_version));
    put_tlv(&mut b, 0x04, &[(id >> 8) as u8, id as u8]); // the two wire bytes
    put_tlv(&mut b, 0x04, s.session_id.as_slice());
    put_tlv(&mut b, 0x04, s.master_key());
    put_explicit_nonzero(&mut b, 1, i128::from(s.time));
    put_explicit_nonzero(&mut b, 2, i128::from(s.timeout));
    if let Some(cert) = &r.peer_cert {
        put_explicit(&mut b, 3, cert);
    }
    put_explicit_octets(&mut b, 4, Some(s.sid_ctx.as_slice())); // written even when empty
    put_explicit_nonzero(&mut b, 5, i128::from(s.verify_result));
    put_explicit_octets(&mut b, 6, cstr(&r.hostname).as_deref());
    put_explicit_octets(&mut b, 7, cstr(&r.psk_identity_hint).as_deref());
    put_explicit_octets(&mut b, 8, cstr(&r.psk_identity).as_deref());
    put_explicit_nonzero(&mut b, 9, i128::from(r.tick_lifetime_hint));
    put_explicit_octets(&mut b, 10, r.tick.as_deref());
    if r.compress_meth != 0 {
        // One byte: OpenSSL casts the method id to unsigned char.
        put_explicit_octets(&mut b, 11, Some(&[r.compress_meth as u8]));
    }
    put_explicit_octets(&mut b, 12, cstr(&r.srp_username).as_deref());
    put_explicit_nonzero(&mut b, 13, i128::from(s.flags));
    put_explicit_nonzero(&mut b, 14, i128::from(r.tick_age_add));
    put_explicit_nonzero(&mut b, 15, i128::from(r.max_early_data));
    put_explicit_octets(&mut b, 16, r.alpn_selected.as_deref());
    put_explicit_nonzero(&mut b, 17, i128::from(s.max_fragment_len_mode));
    put_explicit_octets(&mut b, 18, r.ticket_appdata.as_deref());
    put_explicit_int(&mut b, 19, i128::from(s.kex_group)); // UINT32, not Z: always written

    let mut out = Vec::with_capacity(b.len() + 4);
    put_tlv(&mut out, 0x30, &b);
    Some(out)
}

/// d2i_SSL_SESSION: the session and how many bytes it consumed; None where OpenSSL fails.
/// `now` is the time the session gets when the DER has none.
pub fn decode(input: &[u8], now: i64) -> Option<(SessionFields, usize)> {
    let mut s = SessionFields::new(now);
    let n = decode_into(input, now, &mut s)?;
    Some((s, n))
}

/// d2i_SSL_SESSION into an existing session (`*a` non-NULL). OpenSSL checks and stores field
/// by field, so a failure can leave `s` partly overwritten: whatever was stored before the
/// failing check stays. A DER that does not parse at all leaves `s` untouched. On success every
/// field the DER form carries is replaced (absent ones get the decoder's defaults).
pub fn decode_into(input: &[u8], now: i64, s: &mut SessionFields) -> Option<usize> {
    let (a, used) = Asn1Session::read(input).ok()?;

    if a.version != ASN1_VERSION {
        return None;
    }
    // TLS/SSL major 3, DTLS major 0xfe, or DTLS1_BAD_VER (0x0100).
    let major = a.ssl_version >> 8;
    if major != 0x03 && major != 0xfe && a.ssl_version != 0x0100 {
        return None;
    }
    s.ssl_version = a.ssl_version;
    s.kex_group = a.kex_group;

    if a.cipher.len() != 2 {
        return None;
    }
    // A suite libssl does not know fails, with its id already stored.
    s.set_cipher_by_wire_code(u16::from_be_bytes([a.cipher[0], a.cipher[1]]))?;

    s.session_id = short_bytes(&a.session_id, MAX_SESSION_ID_LEN)?;
    if a.master_key.len() > MAX_MASTER_KEY_LEN {
        return None;
    }
    s.set_master_key(&a.master_key);

    // Absent or zero: the current time, and a 3 second timeout. A negative timeout stays.
    s.time = if a.time != 0 { a.time } else { now };
    s.timeout = if a.timeout != 0 { a.timeout } else { DECODE_DEFAULT_TIMEOUT };
    s.change_rare(|r| r.peer_cert = a.peer);

    s.sid_ctx = short_bytes(a.sid_ctx.as_deref().unwrap_or_default(), MAX_SID_CTX_LEN)?;
    // Absent means 0 (X509_V_OK), not SSL_SESSION_new's default.
    s.verify_result = a.verify_result;
    s.change_rare(|r| {
        r.hostname = a.hostname.as_deref().map(c_string);
        r.psk_identity_hint = a.psk_identity_hint.as_deref().map(c_string);
        r.psk_identity = a.psk_identity.as_deref().map(c_string);
        r.tick_lifetime_hint = a.tick_lifetime_hint;
        r.tick_age_add = a.tick_age_add;
        r.tick = a.tick;
    });

    // A bad compression id fails with everything up to the ticket stored.
    let compress_meth = match &a.comp_id {
        Some(c) if c.len() != 1 => return None,
        Some(c) => u32::from(c[0]),
        None => 0,
    };
    s.change_rare(|r| {
        r.compress_meth = compress_meth;
        r.srp_username = a.srp_username.as_deref().map(c_string);
        r.max_early_data = a.max_early_data;
        r.alpn_selected = a.alpn_selected;
        r.ticket_appdata = a.ticket_appdata;
    });
    s.flags = a.flags as u32; // stored in 32 bits
    s.max_fragment_len_mode = a.max_fragment_len_mode as u8; // stored in 8 bits
    Some(used)
}

/// An id or id context: None when longer than `max`.
pub(super) fn short_bytes(b: &[u8], max: usize) -> Option<ShortBytes> {
    if b.len() > max {
        return None;
    }
    ShortBytes::new(b)
}

/// OpenSSL reads the string fields with `OPENSSL_strndup`: they end at the first NUL.
pub(super) fn c_string(b: &[u8]) -> CString {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    CString::new(&b[..end]).expect("no NUL before `end`")
}
