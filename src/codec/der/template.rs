//! `SSL_SESSION_ASN1` as OpenSSL's SEQUENCE template reads it: each member in order, the
//! optional ones by their tags, before any session-level check.

use super::reader::*;
use super::x509::certificate;

/// `SSL_SESSION_ASN1` as read, before OpenSSL's session-level checks.
#[derive(Default)]
pub(super) struct Asn1Session {
    pub(super) version: i128,
    pub(super) ssl_version: i32,
    pub(super) cipher: Vec<u8>,
    pub(super) session_id: Vec<u8>,
    pub(super) master_key: Vec<u8>,
    pub(super) time: i64,
    pub(super) timeout: i64,
    pub(super) peer: Option<Vec<u8>>,
    pub(super) sid_ctx: Option<Vec<u8>>,
    pub(super) verify_result: i32,
    pub(super) hostname: Option<Vec<u8>>,
    pub(super) psk_identity_hint: Option<Vec<u8>>,
    pub(super) psk_identity: Option<Vec<u8>>,
    pub(super) tick_lifetime_hint: u64,
    pub(super) tick: Option<Vec<u8>>,
    pub(super) comp_id: Option<Vec<u8>>,
    pub(super) srp_username: Option<Vec<u8>>,
    pub(super) flags: u64,
    pub(super) tick_age_add: u32,
    pub(super) max_early_data: u32,
    pub(super) alpn_selected: Option<Vec<u8>>,
    pub(super) max_fragment_len_mode: u32,
    pub(super) ticket_appdata: Option<Vec<u8>>,
    pub(super) kex_group: u32,
}

/// The SEQUENCE's members in order. The first five are mandatory.
pub(super) const FIELDS: usize = 25;
pub(super) const MANDATORY: usize = 5;

impl Asn1Session {
    /// Reads member `i` at the start of `buf`: Ok(Some(bytes taken)), or Ok(None) when an
    /// optional member is absent.
    fn member(&mut self, i: usize, buf: &[u8], optional: bool) -> Res<Option<usize>> {
        match i {
            0 => {
                let (v, n) = integer(buf)?;
                self.version = v;
                Ok(Some(n))
            }
            1 => {
                let (v, n) = integer(buf)?;
                self.ssl_version = int32(v)?;
                Ok(Some(n))
            }
            2..=4 => {
                let (v, n) = octets(buf)?;
                match i {
                    2 => self.cipher = v,
                    3 => self.session_id = v,
                    _ => self.master_key = v,
                }
                Ok(Some(n))
            }
            // key_arg: [0] IMPLICIT OCTET STRING, read and dropped (an SSLv2 leftover).
            5 => Ok(string(buf, 0, CONTEXT, optional)?.map(|(_, n)| n)),
            _ => {
                let tag = (i - 5) as u32; // [1] .. [19]
                let Some(h) = expect(buf, tag, CONTEXT, optional)? else {
                    return Ok(None);
                };
                if !h.constructed {
                    return Err(Bad);
                }
                let inner = &buf[h.len..h.len + h.content];
                let n = self.explicit(tag, inner)?;
                let after = &inner[n..];
                if h.indefinite {
                    // The inner value must be followed by the end-of-contents...
                    if !is_eoc(after) {
                        return Err(Bad);
                    }
                    Ok(Some(h.len + n + 2))
                } else {
                    // ... or fill the explicit tag exactly.
                    if !after.is_empty() {
                        return Err(Bad);
                    }
                    Ok(Some(h.len + h.content))
                }
            }
        }
    }

    /// The content of explicit member `[tag]`; returns the bytes it took.
    fn explicit(&mut self, tag: u32, buf: &[u8]) -> Res<usize> {
        if tag == 3 {
            let (cert, n) = certificate(buf)?;
            self.peer = Some(cert);
            return Ok(n);
        }
        if let Some(slot) = self.string_slot(tag) {
            let (v, n) = octets(buf)?;
            *slot = Some(v);
            return Ok(n);
        }
        let (v, n) = integer(buf)?;
        match tag {
            1 => self.time = int64(v)?,
            2 => self.timeout = int64(v)?,
            5 => self.verify_result = int32(v)?,
            9 => self.tick_lifetime_hint = uint64(v)?,
            13 => self.flags = uint64(v)?,
            14 => self.tick_age_add = uint32(v)?,
            15 => self.max_early_data = uint32(v)?,
            17 => self.max_fragment_len_mode = uint32(v)?,
            19 => self.kex_group = uint32(v)?,
            _ => return Err(Bad),
        }
        Ok(n)
    }

    /// Where explicit member `[tag]` goes when it is an OCTET STRING.
    fn string_slot(&mut self, tag: u32) -> Option<&mut Option<Vec<u8>>> {
        Some(match tag {
            4 => &mut self.sid_ctx,
            6 => &mut self.hostname,
            7 => &mut self.psk_identity_hint,
            8 => &mut self.psk_identity,
            10 => &mut self.tick,
            11 => &mut self.comp_id,
            12 => &mut self.srp_username,
            16 => &mut self.alpn_selected,
            18 => &mut self.ticket_appdata,
            _ => return None,
        })
    }

    /// Reads the whole SEQUENCE at the start of `input`; returns it and the bytes it took.
    /// The loop is OpenSSL's template loop: each member in turn may be absent if optional;
    /// whatever is left when the members run out is an error (for a definite length) or
    /// must start with the end-of-contents (indefinite); bytes after the SEQUENCE are not read.
    pub(super) fn read(input: &[u8]) -> Res<(Asn1Session, usize)> {
        let h = expect(input, TAG_SEQUENCE, UNIVERSAL, false)?.ok_or(Bad)?;
        if !h.constructed {
            return Err(Bad);
        }
        let body = &input[h.len..h.len + h.content];
        let mut s = Asn1Session::default();
        let mut p = 0;
        let mut eoc_seen = false;
        let mut next = FIELDS;
        for i in 0..FIELDS {
            let rest = &body[p..];
            if rest.is_empty() {
                next = i;
                break;
            }
            if is_eoc(rest) {
                if !h.indefinite {
                    return Err(Bad);
                }
                p += 2;
                eoc_seen = true;
                next = i;
                break;
            }
            // OpenSSL treats the last member as mandatory while data is left.
            let optional = i >= MANDATORY && i != FIELDS - 1;
            if let Some(n) = s.member(i, rest, optional)? {
                p += n;
            }
        }
        if h.indefinite && !eoc_seen {
            if !is_eoc(&body[p..]) {
                return Err(Bad);
            }
            p += 2;
        }
        if !h.indefinite && p != body.len() {
            return Err(Bad);
        }
        if next < MANDATORY {
            return Err(Bad);
        }
        Ok((s, h.len + p))
    }
}
