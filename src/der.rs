//! The DER form of a session, as OpenSSL 3.0's `i2d_SSL_SESSION` writes it and its
//! `d2i_SSL_SESSION` reads it, byte for byte and check for check (measured against libssl
//! 3.0.19; the fixtures under `tests-c/fixtures/` come from it).
//!
//! The form is `SSL_SESSION_ASN1`, one SEQUENCE:
//!
//! ```text
//!   version INTEGER (1), ssl_version INTEGER, cipher OCTET STRING (2 bytes),
//!   session_id OCTET STRING, master_key OCTET STRING, key_arg [0] IMPLICIT OCTET STRING OPT,
//!   [1] time, [2] timeout, [3] peer Certificate, [4] sid_ctx, [5] verify_result,
//!   [6] hostname, [7] psk_identity_hint, [8] psk_identity, [9] tick_lifetime_hint,
//!   [10] tick, [11] comp_id, [12] srp_username, [13] flags, [14] tick_age_add,
//!   [15] max_early_data, [16] alpn_selected, [17] max_fragment_len_mode,
//!   [18] ticket_appdata, [19] kex_group          -- [n] are EXPLICIT and OPTIONAL
//! ```
//!
//! OpenSSL writes strict DER but reads with its generic template decoder, which takes much of
//! BER: indefinite lengths, constructed OCTET STRINGs, non-minimal lengths and tag numbers.
//! The reader below follows that decoder (`ASN1_get_object`, `asn1_check_tlen`,
//! `asn1_collect`, the SEQUENCE template loop) so that we accept and refuse the same inputs.
//!
//! Layout: a small BER reader, a DER writer, then the session mapping.

use std::ffi::CString;

use crate::session::{SessionFields, ShortBytes, MAX_MASTER_KEY_LEN, MAX_SESSION_ID_LEN, MAX_SID_CTX_LEN};

/// `SSL_SESSION_ASN1_VERSION`: the only version OpenSSL reads.
const ASN1_VERSION: i128 = 1;
/// What `d2i` sets the timeout to when the DER has none (or 0).
const DECODE_DEFAULT_TIMEOUT: i64 = 3;

// ---------------------------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------------------------

/// A decoding failure: OpenSSL's d2i returns NULL. The reason does not matter to callers.
#[derive(Debug, PartialEq)]
struct Bad;

type Res<T> = Result<T, Bad>;

const UNIVERSAL: u8 = 0x00;
const CONTEXT: u8 = 0x80;
const TAG_INTEGER: u32 = 2;
const TAG_OCTET_STRING: u32 = 4;
const TAG_SEQUENCE: u32 = 16;
/// OpenSSL's ASN1_MAX_STRING_NEST: how deep constructed strings may nest.
const MAX_STRING_NEST: u32 = 5;

/// One identifier and length, as `ASN1_get_object` reads them.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Header {
    class: u8,
    constructed: bool,
    tag: u32,
    /// Bytes of identifier and length.
    len: usize,
    /// Content length; for an indefinite length, everything left in the container.
    content: usize,
    indefinite: bool,
}

/// Reads a header from `buf`, the bytes left in the enclosing container. Mirrors
/// `ASN1_get_object`, including its quirk of wanting one byte past a long-form length.
fn header(buf: &[u8]) -> Res<Header> {
    let b0 = *buf.first().ok_or(Bad)?;
    let mut max = buf.len();
    let mut p = 1;
    let tag = if b0 & 0x1f == 0x1f {
        // High tag number form, base 128; non-minimal forms are accepted.
        max -= 1;
        if max == 0 {
            return Err(Bad);
        }
        let mut t: u64 = 0;
        while buf[p] & 0x80 != 0 {
            t = (t << 7) | u64::from(buf[p] & 0x7f);
            p += 1;
            max -= 1;
            if max == 0 || t > (i32::MAX as u64 >> 7) {
                return Err(Bad);
            }
        }
        t = (t << 7) | u64::from(buf[p] & 0x7f);
        p += 1;
        max -= 1;
        if max == 0 {
            return Err(Bad);
        }
        t as u32
    } else {
        max -= 1;
        if max == 0 {
            return Err(Bad);
        }
        u32::from(b0 & 0x1f)
    };
    let constructed = b0 & 0x20 != 0;

    // The length (asn1_get_length). `max` counts the bytes from here on.
    let l0 = buf[p];
    p += 1;
    max -= 1;
    let (indefinite, content) = if l0 == 0x80 {
        (true, 0)
    } else if l0 & 0x80 == 0 {
        (false, usize::from(l0))
    } else {
        let mut n = usize::from(l0 & 0x7f);
        // OpenSSL wants the length bytes and one more byte in the container.
        if max < n + 1 {
            return Err(Bad);
        }
        while n > 0 && buf[p] == 0 {
            p += 1;
            n -= 1;
        }
        if n > 8 {
            return Err(Bad);
        }
        let mut v: u64 = 0;
        for _ in 0..n {
            v = (v << 8) | u64::from(buf[p]);
            p += 1;
        }
        if v > i64::MAX as u64 {
            return Err(Bad);
        }
        (false, usize::try_from(v).map_err(|_| Bad)?)
    };
    if indefinite && !constructed {
        return Err(Bad);
    }
    let left = buf.len() - p;
    if content > left {
        return Err(Bad);
    }
    Ok(Header {
        class: b0 & 0xc0,
        constructed,
        tag,
        len: p,
        content: if indefinite { left } else { content },
        indefinite,
    })
}

/// `asn1_check_tlen`: reads a header and checks tag and class. Ok(None) when they differ and
/// the item is optional; a malformed header is an error even for an optional item.
fn expect(buf: &[u8], tag: u32, class: u8, optional: bool) -> Res<Option<Header>> {
    let h = header(buf)?;
    if h.tag != tag || h.class != class {
        return if optional { Ok(None) } else { Err(Bad) };
    }
    Ok(Some(h))
}

/// An end-of-contents marker at the start of `buf`.
fn is_eoc(buf: &[u8]) -> bool {
    buf.len() >= 2 && buf[0] == 0 && buf[1] == 0
}

/// The content of a string (an OCTET STRING, or an IMPLICIT-tagged one) at the start of
/// `buf`, and the bytes it took. Constructed forms are concatenated as `asn1_collect` does:
/// the pieces may carry any tag at all, and nest at most MAX_STRING_NEST deep.
fn string(buf: &[u8], tag: u32, class: u8, optional: bool) -> Res<Option<(Vec<u8>, usize)>> {
    let Some(h) = expect(buf, tag, class, optional)? else {
        return Ok(None);
    };
    let body = &buf[h.len..h.len + h.content];
    if !h.constructed {
        return Ok(Some((body.to_vec(), h.len + h.content)));
    }
    let mut out = Vec::new();
    let used = collect(body, h.indefinite, 0, &mut out)?;
    Ok(Some((out, h.len + used)))
}

/// `asn1_collect`: appends the pieces in `buf` to `out`; returns the bytes read (up to and
/// including the end-of-contents for an indefinite length).
fn collect(buf: &[u8], indefinite: bool, depth: u32, out: &mut Vec<u8>) -> Res<usize> {
    let mut p = 0;
    while p < buf.len() {
        if is_eoc(&buf[p..]) {
            if !indefinite {
                return Err(Bad);
            }
            return Ok(p + 2);
        }
        let h = header(&buf[p..])?;
        let body = &buf[p + h.len..p + h.len + h.content];
        if h.constructed {
            if depth >= MAX_STRING_NEST {
                return Err(Bad);
            }
            p += h.len + collect(body, h.indefinite, depth + 1, out)?;
        } else {
            out.extend_from_slice(body);
            p += h.len + h.content;
        }
    }
    if indefinite {
        return Err(Bad); // ran out before the end-of-contents
    }
    Ok(p)
}

/// A universal OCTET STRING (primitive or constructed).
fn octets(buf: &[u8]) -> Res<(Vec<u8>, usize)> {
    string(buf, TAG_OCTET_STRING, UNIVERSAL, false)?.ok_or(Bad)
}

/// A universal INTEGER: its value (|v| < 2^64, what OpenSSL's 64-bit readers take) and the
/// bytes it took. Must be primitive and minimally encoded; empty content reads as 0 (OpenSSL
/// keeps that for old writers that encoded 0 so).
fn integer(buf: &[u8]) -> Res<(i128, usize)> {
    let h = expect(buf, TAG_INTEGER, UNIVERSAL, false)?.ok_or(Bad)?;
    if h.constructed {
        return Err(Bad);
    }
    let c = &buf[h.len..h.len + h.content];
    let used = h.len + h.content;
    if c.is_empty() {
        return Ok((0, used));
    }
    if c.len() > 1 && ((c[0] == 0 && c[1] & 0x80 == 0) || (c[0] == 0xff && c[1] & 0x80 != 0)) {
        return Err(Bad); // padded
    }
    if c.len() > 9 {
        return Err(Bad); // minimal and this long: at least 2^64 in magnitude
    }
    let mut v: i128 = if c[0] & 0x80 != 0 { -1 } else { 0 };
    for &b in c {
        v = (v << 8) | i128::from(b);
    }
    if v.unsigned_abs() > u128::from(u64::MAX) {
        return Err(Bad);
    }
    Ok((v, used))
}

// OpenSSL's fixed-width integer types (crypto/asn1/x_int64.c) on top of `integer`.

fn uint32(v: i128) -> Res<u32> {
    u32::try_from(v).map_err(|_| Bad)
}
fn int32(v: i128) -> Res<i32> {
    i32::try_from(v).map_err(|_| Bad)
}
fn uint64(v: i128) -> Res<u64> {
    u64::try_from(v).map_err(|_| Bad)
}
/// INT64 refuses positive values past i64::MAX but takes any negative magnitude below 2^64
/// and wraps it (`0 - magnitude` in 64 bits): -(2^63 + 1) reads as i64::MAX.
fn int64(v: i128) -> Res<i64> {
    if v > i128::from(i64::MAX) {
        return Err(Bad);
    }
    Ok(v as i64) // truncation to 64 bits is the wrap
}

/// The peer certificate. OpenSSL runs its X.509 decoder here and writes the certificate back
/// from what it parsed: the tbsCertificate as the bytes it read, the signature algorithm and
/// signature re-encoded (DER lengths, BIT STRING unused bits cleared). We check what that
/// decoder checks (see `x509`) and keep the bytes OpenSSL would write. Returns them and the
/// bytes read.
fn certificate(buf: &[u8]) -> Res<(Vec<u8>, usize)> {
    let mut outer = x509::Walk::new(buf);
    let mut body = Vec::new();
    outer.seq(|c| {
        body.extend_from_slice(c.raw(|c| c.seq(x509::tbs))?);
        c.seq(|alg| {
            let mut a = Vec::new();
            x509::algorithm(alg, Some(&mut a))?;
            put_tlv(&mut body, 0x30, &a);
            Ok(())
        })?;
        let bits = c.bit_string()?;
        put_tlv(&mut body, 0x03, &x509::cleared_bits(&bits));
        Ok(())
    })?;
    let mut cert = Vec::with_capacity(body.len() + 4);
    put_tlv(&mut cert, 0x30, &body);
    Ok((cert, outer.pos))
}

/// The shape of an X.509 certificate as OpenSSL 3.0's decoder checks it: the template
/// structure, INTEGER minimality, OBJECT IDENTIFIER encoding, BIT STRING unused bits, BOOLEAN
/// and NULL lengths, and names whose text must convert to UTF-8. Strings may be BER
/// constructed and any constructed value may have an indefinite length, as OpenSSL allows.
mod x509 {
    use super::{collect, header, is_eoc, put_tlv, Bad, Header, Res, CONTEXT, UNIVERSAL};

    /// A cursor over the contents of one constructed value.
    pub(super) struct Walk<'a> {
        buf: &'a [u8],
        pub(super) pos: usize,
    }

    impl<'a> Walk<'a> {
        pub(super) fn new(buf: &'a [u8]) -> Walk<'a> {
            Walk { buf, pos: 0 }
        }
        fn rest(&self) -> &'a [u8] {
            &self.buf[self.pos..]
        }
        fn done(&self) -> bool {
            self.pos == self.buf.len()
        }
        /// The next header. An end-of-contents pair where a value would start is refused, as
        /// OpenSSL's template decoder does (an indefinite value's own end is found by `step`
        /// before its contents are walked, so none is legitimate here).
        fn next(&self) -> Res<Header> {
            if is_eoc(self.rest()) {
                return Err(Bad);
            }
            header(self.rest())
        }
        /// The next header if it has this tag and class.
        fn peek(&self, tag: u32, class: u8) -> Res<Option<Header>> {
            if self.done() {
                return Ok(None);
            }
            let h = self.next()?;
            Ok((h.tag == tag && h.class == class).then_some(h))
        }
        /// Steps over the value `h` describes; its contents (for an indefinite length, up to
        /// its end-of-contents, which is stepped over too).
        fn step(&mut self, h: Header) -> Res<&'a [u8]> {
            let value = &self.rest()[h.len..];
            let (content, end) = if h.indefinite {
                let n = find_end(value)?;
                (n, n + 2)
            } else {
                (h.content, h.content)
            };
            self.pos += h.len + end;
            Ok(&value[..content])
        }
        /// The next value, which must have this tag and form; its contents.
        fn take(&mut self, tag: u32, class: u8, constructed: bool) -> Res<&'a [u8]> {
            let h = self.peek(tag, class)?.ok_or(Bad)?;
            if h.constructed != constructed {
                return Err(Bad);
            }
            self.step(h)
        }
        /// SEQUENCE OF or SET OF contents: OpenSSL does not check the constructed bit here.
        fn take_of(&mut self, tag: u32) -> Res<&'a [u8]> {
            let h = self.peek(tag, UNIVERSAL)?.ok_or(Bad)?;
            self.step(h)
        }
        /// A SEQUENCE whose contents `f` must use up.
        pub(super) fn seq(&mut self, f: impl FnOnce(&mut Walk<'a>) -> Res<()>) -> Res<()> {
            let mut inner = Walk::new(self.take(16, UNIVERSAL, true)?);
            f(&mut inner)?;
            if inner.done() {
                Ok(())
            } else {
                Err(Bad)
            }
        }
        /// Runs `f` and returns the bytes it read.
        pub(super) fn raw(&mut self, f: impl FnOnce(&mut Walk<'a>) -> Res<()>) -> Res<&'a [u8]> {
            let start = self.pos;
            f(self)?;
            Ok(&self.buf[start..self.pos])
        }
        /// A value of a universal string type, primitive or BER constructed; its content.
        fn string(&mut self, tag: u32) -> Res<Vec<u8>> {
            let h = self.peek(tag, UNIVERSAL)?.ok_or(Bad)?;
            string_content(h, self.step(h)?)
        }
        /// An INTEGER, minimally encoded (any size).
        fn integer(&mut self) -> Res<()> {
            let c = self.take(2, UNIVERSAL, false)?;
            value_ok(2, c)
        }
        /// An OBJECT IDENTIFIER; its content.
        fn oid(&mut self) -> Res<&'a [u8]> {
            let c = self.take(6, UNIVERSAL, false)?;
            value_ok(6, c)?;
            Ok(c)
        }
        /// A BIT STRING: the unused-bits count first, at most 7; its content.
        pub(super) fn bit_string(&mut self) -> Res<Vec<u8>> {
            let c = self.string(3)?;
            value_ok(3, &c)?;
            Ok(c)
        }
        /// A value of type ANY (AlgorithmIdentifier parameters): OpenSSL decodes it as the
        /// type its universal tag names, with that type's checks. With `out`, appends it as
        /// OpenSSL writes it back.
        fn any(&mut self, out: Option<&mut Vec<u8>>) -> Res<()> {
            let h = self.next()?;
            let start = self.pos;
            let body = self.step(h)?;
            let raw = &self.buf[start..self.pos];
            if h.class != UNIVERSAL || h.tag == 16 || h.tag == 17 {
                // Other classes, SEQUENCE and SET: kept as read (SEQUENCE and SET must be
                // constructed).
                if h.class == UNIVERSAL && !h.constructed {
                    return Err(Bad);
                }
                if let Some(out) = out {
                    out.extend_from_slice(raw);
                }
                return Ok(());
            }
            let c = match h.tag {
                1 | 2 | 5 | 6 | 10 if h.constructed => return Err(Bad),
                _ => string_content(h, body)?,
            };
            value_ok(h.tag, &c)?;
            if let Some(out) = out {
                let c = if h.tag == 3 { cleared_bits(&c) } else { c };
                put_identifier(out, h.tag);
                let mut tl = Vec::new();
                put_tlv(&mut tl, 0, &c);
                out.extend_from_slice(&tl[1..]); // length and content
            }
            Ok(())
        }
        /// A name's attribute value: OpenSSL's DirectoryString-like MSTRING takes the
        /// universal types in its B_ASN1_PRINTABLE mask, then converts the text types to
        /// UTF-8 for the canonical name, which fails on text that does not convert.
        fn name_value(&mut self) -> Res<()> {
            // BIT STRING, the "unknown" types, UTF8String, SEQUENCE, Numeric, Printable,
            // T61, IA5, UniversalString, BMPString.
            const PRINTABLE: [u32; 17] = [3, 7, 8, 9, 11, 12, 13, 14, 15, 16, 18, 19, 20, 22, 28, 29, 30];
            let h = self.next()?;
            if h.class != UNIVERSAL || !PRINTABLE.contains(&h.tag) {
                return Err(Bad);
            }
            if h.tag == 16 {
                return self.take(16, UNIVERSAL, true).map(|_| ());
            }
            let c = string_content(h, self.step(h)?)?;
            value_ok(h.tag, &c)?;
            let text_ok = match h.tag {
                12 => std::str::from_utf8(&c).is_ok(),
                30 => c.chunks(2).all(|u| char::from_u32(u32::from(u16::from_be_bytes([u[0], u[1]]))).is_some()),
                28 => c.chunks(4).all(|u| char::from_u32(u32::from_be_bytes([u[0], u[1], u[2], u[3]])).is_some()),
                _ => true,
            };
            if text_ok {
                Ok(())
            } else {
                Err(Bad)
            }
        }
        /// UTCTime or GeneralizedTime; libssl 3.0.19 checks neither their length nor their
        /// contents when it reads a certificate.
        fn time(&mut self) -> Res<()> {
            let h = self.next()?;
            if h.class != UNIVERSAL || !(h.tag == 23 || h.tag == 24) {
                return Err(Bad);
            }
            string_content(h, self.step(h)?).map(|_| ())
        }
    }

    /// `asn1_find_end`: the length of an indefinite-length value's contents in `buf` (which
    /// starts right after its header), up to its end-of-contents; nested indefinite lengths
    /// are matched with their own.
    fn find_end(buf: &[u8]) -> Res<usize> {
        let mut p = 0;
        let mut open = 1usize;
        while p < buf.len() {
            if is_eoc(&buf[p..]) {
                open -= 1;
                if open == 0 {
                    return Ok(p);
                }
                p += 2;
                continue;
            }
            let h = header(&buf[p..])?;
            if h.indefinite {
                open = open.checked_add(1).ok_or(Bad)?;
                p += h.len;
            } else {
                p += h.len + h.content;
            }
        }
        Err(Bad) // no end-of-contents before the data ran out
    }

    /// A string's content: primitive as is, constructed joined as `asn1_collect` does.
    fn string_content(h: Header, body: &[u8]) -> Res<Vec<u8>> {
        if !h.constructed {
            return Ok(body.to_vec());
        }
        let mut out = Vec::new();
        collect(body, false, 0, &mut out)?;
        Ok(out)
    }

    /// An identifier octet (or octets) for a primitive universal tag.
    fn put_identifier(out: &mut Vec<u8>, tag: u32) {
        if tag < 31 {
            out.push(tag as u8);
            return;
        }
        out.push(0x1f);
        let mut groups = vec![(tag & 0x7f) as u8];
        let mut t = tag >> 7;
        while t > 0 {
            groups.push(0x80 | (t & 0x7f) as u8);
            t >>= 7;
        }
        out.extend(groups.iter().rev());
    }

    /// The checks OpenSSL's primitive decoder makes for a universal type's content
    /// (`asn1_ex_c2i`).
    fn value_ok(tag: u32, c: &[u8]) -> Res<()> {
        let ok = match tag {
            1 => c.len() == 1, // BOOLEAN
            2 | 10 => {
                // INTEGER, ENUMERATED: non-empty and minimal.
                !c.is_empty()
                    && !(c.len() > 1 && ((c[0] == 0 && c[1] & 0x80 == 0) || (c[0] == 0xff && c[1] & 0x80 != 0)))
            }
            3 => matches!(c.first(), Some(&unused) if unused <= 7),
            5 => c.is_empty(), // NULL
            6 => {
                // OBJECT IDENTIFIER: non-empty, no sub-identifier starting with 0x80, the last
                // one closed.
                let bad_start = c.iter().enumerate().any(|(i, &b)| b == 0x80 && (i == 0 || c[i - 1] & 0x80 == 0));
                !c.is_empty() && !bad_start && c[c.len() - 1] & 0x80 == 0
            }
            28 => c.len().is_multiple_of(4), // UniversalString
            30 => c.len().is_multiple_of(2), // BMPString
            _ => true,
        };
        if ok {
            Ok(())
        } else {
            Err(Bad)
        }
    }

    /// A BIT STRING's content as OpenSSL writes it back: the unused bits cleared, and an
    /// unused-bits count of 0 when there are no bits at all.
    pub(super) fn cleared_bits(c: &[u8]) -> Vec<u8> {
        let mut c = c.to_vec();
        if c.len() == 1 {
            c[0] = 0;
        } else if let Some(&unused) = c.first() {
            let n = c.len();
            c[n - 1] &= 0xff << unused;
        }
        c
    }

    /// AlgorithmIdentifier contents: an OID and optional parameters of any type. With `out`,
    /// appends the contents as OpenSSL writes them back.
    pub(super) fn algorithm(w: &mut Walk, mut out: Option<&mut Vec<u8>>) -> Res<()> {
        let oid = w.oid()?;
        if let Some(out) = out.as_deref_mut() {
            put_tlv(out, 0x06, oid);
        }
        if !w.done() {
            w.any(out)?;
        }
        Ok(())
    }

    /// Name: SEQUENCE OF SET OF AttributeTypeAndValue.
    fn name(w: &mut Walk) -> Res<()> {
        let mut rdns = Walk::new(w.take_of(16)?);
        while !rdns.done() {
            let mut set = Walk::new(rdns.take_of(17)?);
            while !set.done() {
                set.seq(|atv| {
                    atv.oid()?;
                    atv.name_value()
                })?;
            }
        }
        Ok(())
    }

    /// tbsCertificate contents.
    pub(super) fn tbs(w: &mut Walk) -> Res<()> {
        if w.peek(0, CONTEXT)?.is_some() {
            // [0] EXPLICIT version
            let mut v = Walk::new(w.take(0, CONTEXT, true)?);
            v.integer()?;
            if !v.done() {
                return Err(Bad);
            }
        }
        w.integer()?; // serialNumber
        w.seq(|a| algorithm(a, None))?;
        name(w)?; // issuer
        w.seq(|v| {
            v.time()?;
            v.time()
        })?;
        name(w)?; // subject
        w.seq(|k| {
            k.seq(|a| algorithm(a, None))?;
            k.bit_string().map(|_| ())
        })?;
        for tag in [1, 2] {
            // issuerUniqueID, subjectUniqueID: [n] IMPLICIT BIT STRING
            if let Some(h) = w.peek(tag, CONTEXT)? {
                let c = string_content(h, w.step(h)?)?;
                value_ok(3, &c)?;
            }
        }
        if w.peek(3, CONTEXT)?.is_some() {
            // [3] EXPLICIT SEQUENCE OF Extension { OID, critical BOOLEAN OPT, OCTET STRING }
            let mut e = Walk::new(w.take(3, CONTEXT, true)?);
            let mut exts = Walk::new(e.take_of(16)?);
            while !exts.done() {
                exts.seq(|ext| {
                    ext.oid()?;
                    if ext.peek(1, UNIVERSAL)?.is_some() && ext.take(1, UNIVERSAL, false)?.len() != 1 {
                        return Err(Bad);
                    }
                    ext.string(4).map(|_| ())
                })?;
            }
            if !e.done() {
                return Err(Bad);
            }
        }
        Ok(())
    }
}

/// `SSL_SESSION_ASN1` as read, before OpenSSL's session-level checks.
#[derive(Default)]
struct Asn1Session {
    version: i128,
    ssl_version: i32,
    cipher: Vec<u8>,
    session_id: Vec<u8>,
    master_key: Vec<u8>,
    time: i64,
    timeout: i64,
    peer: Option<Vec<u8>>,
    sid_ctx: Option<Vec<u8>>,
    verify_result: i32,
    hostname: Option<Vec<u8>>,
    psk_identity_hint: Option<Vec<u8>>,
    psk_identity: Option<Vec<u8>>,
    tick_lifetime_hint: u64,
    tick: Option<Vec<u8>>,
    comp_id: Option<Vec<u8>>,
    srp_username: Option<Vec<u8>>,
    flags: u64,
    tick_age_add: u32,
    max_early_data: u32,
    alpn_selected: Option<Vec<u8>>,
    max_fragment_len_mode: u32,
    ticket_appdata: Option<Vec<u8>>,
    kex_group: u32,
}

/// The SEQUENCE's members in order. The first five are mandatory.
const FIELDS: usize = 25;
const MANDATORY: usize = 5;

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
    fn read(input: &[u8]) -> Res<(Asn1Session, usize)> {
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

// ---------------------------------------------------------------------------------------------
// Writer (DER: minimal lengths and integers)
// ---------------------------------------------------------------------------------------------

fn put_tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = (n as u64).to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (8 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
}

/// An INTEGER's DER content: big-endian two's complement, shortest form.
fn int_content(v: i128) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let mut i = 0;
    while i < 15 && ((bytes[i] == 0 && bytes[i + 1] & 0x80 == 0) || (bytes[i] == 0xff && bytes[i + 1] & 0x80 != 0)) {
        i += 1;
    }
    bytes[i..].to_vec()
}

fn put_int(out: &mut Vec<u8>, v: i128) {
    put_tlv(out, 0x02, &int_content(v));
}

/// EXPLICIT [tag] around `inner` (all tags here are below 31).
fn put_explicit(out: &mut Vec<u8>, tag: u8, inner: &[u8]) {
    put_tlv(out, 0xa0 | tag, inner);
}

fn put_explicit_int(out: &mut Vec<u8>, tag: u8, v: i128) {
    let mut inner = Vec::new();
    put_int(&mut inner, v);
    put_explicit(out, tag, &inner);
}

/// The Z types (ZINT64, ZUINT32, ...) leave a zero out.
fn put_explicit_nonzero(out: &mut Vec<u8>, tag: u8, v: i128) {
    if v != 0 {
        put_explicit_int(out, tag, v);
    }
}

fn put_explicit_octets(out: &mut Vec<u8>, tag: u8, v: Option<&[u8]>) {
    if let Some(v) = v {
        let mut inner = Vec::new();
        put_tlv(&mut inner, 0x04, v);
        put_explicit(out, tag, &inner);
    }
}

// ---------------------------------------------------------------------------------------------
// The session
// ---------------------------------------------------------------------------------------------

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
fn short_bytes(b: &[u8], max: usize) -> Option<ShortBytes> {
    if b.len() > max {
        return None;
    }
    ShortBytes::new(b)
}

/// OpenSSL reads the string fields with `OPENSSL_strndup`: they end at the first NUL.
fn c_string(b: &[u8]) -> CString {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    CString::new(&b[..end]).expect("no NUL before `end`")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cipher;

    /// The time der_oracle.c puts in place of the wall clock when libssl used it.
    const NOW: i64 = 1_111_111_111;

    const CASES: &str = include_str!("../tests-c/fixtures/der_cases.txt");

    macro_rules! fixtures {
        ($($name:literal),*) => {
            &[$(($name, include_bytes!(concat!("../tests-c/fixtures/", $name, ".der")) as &[u8])),*]
        };
    }
    const FIXTURES: &[(&str, &[u8])] = fixtures!(
        "setters_minimal",
        "setters_full",
        "setters_mk512",
        "setters_dtls",
        "tls12_server",
        "tls12_client0",
        "tls13_server",
        "tls13_client0",
        "tls13_client1",
        "psk12_server",
        "psk12_client0"
    );

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    fn same_encoding(ours: &[u8], theirs: &[u8]) -> bool {
        ours == theirs
    }

    /// Every input of der_cases.txt decodes (or fails), consumes and re-encodes as libssl did.
    /// SESSCACHE_DER_CASES may name a bigger file of the same form to replay as well (made by
    /// `DER_MUTATIONS=100000 DER_CASES_OUT=/tmp/big.txt tests-c/fixtures/gen_fixtures.sh`).
    #[test]
    fn cases_match_openssl() {
        check_cases(CASES, 1000);
        if let Ok(path) = std::env::var("SESSCACHE_DER_CASES") {
            check_cases(&std::fs::read_to_string(path).unwrap(), 1);
        }
    }

    fn check_cases(cases: &str, at_least: usize) {
        let mut bad = Vec::new();
        let mut count = 0;
        for line in cases.lines().filter(|l| !l.starts_with('#')) {
            let mut cols = line.split('\t');
            let (name, input, expect) = (cols.next().unwrap(), unhex(cols.next().unwrap()), cols.next().unwrap());
            count += 1;
            let got = decode(&input, NOW);
            let verdict = match (expect, &got) {
                ("FAIL", None) => None,
                ("FAIL", Some((s, n))) => Some(format!("accepted ({n} bytes): {}", hex(&encode(s).unwrap()))),
                (_, None) => Some("refused".to_string()),
                (ok, Some((s, n))) => {
                    let f: Vec<&str> = ok.split(' ').collect();
                    let der = encode(s).expect("a decoded session encodes");
                    if f[1].parse::<usize>().unwrap() != *n {
                        Some(format!("consumed {n}, libssl {}", f[1]))
                    } else if !same_encoding(&der, &unhex(f[3])) {
                        Some(format!("re-encoded\n    ours   {}\n    libssl {}", hex(&der), f[3]))
                    } else {
                        None
                    }
                }
            };
            if let Some(v) = verdict {
                bad.push(format!("{name}: {v}\n    input  {}", hex(&input)));
            }
        }
        assert!(count >= at_least, "the case file looks short: {count}");
        assert!(
            bad.is_empty(),
            "{} of {count} cases differ from libssl:\n{}",
            bad.len(),
            bad.iter().take(15).cloned().collect::<Vec<_>>().join("\n")
        );
    }

    #[test]
    fn fixtures_round_trip() {
        for (name, der) in FIXTURES {
            if *name == "setters_minimal" {
                // Protocol version 0, as SSL_SESSION_new leaves it: i2d writes it, d2i refuses it.
                assert_eq!(decode(der, NOW), None);
                continue;
            }
            let (s, n) = decode(der, NOW).unwrap_or_else(|| panic!("{name} does not decode"));
            assert_eq!(n, der.len(), "{name}");
            let again = encode(&s).unwrap();
            if *name == "setters_dtls" {
                // Its zero timeout was left out; reading gives 3, which is then written.
                assert_eq!(s.timeout, 3);
            } else {
                assert!(same_encoding(&again, der), "{name}:\n{}\n{}", hex(&again), hex(der));
            }
            // Decoding what we wrote gives the same session.
            assert_eq!(decode(&again, NOW).unwrap().0, s, "{name}");
            // Trailing bytes are not read.
            let mut longer = der.to_vec();
            longer.extend_from_slice(&[0x30, 0x00, 0xff]);
            assert_eq!(decode(&longer, NOW).unwrap().1, der.len(), "{name}");
        }
    }

    #[test]
    fn real_sessions_hold_what_the_handshakes_put_there() {
        let get = |n: &str| decode(FIXTURES.iter().find(|f| f.0 == n).unwrap().1, NOW).unwrap().0;
        let host = Some(CString::new("fixture.sesscache.test").unwrap());
        let alpn = Some(b"h2".to_vec());

        let server = get("tls12_server");
        assert_eq!(server.ssl_version, 0x0303);
        assert_eq!(server.cipher().unwrap().name.to_str().unwrap(), "ECDHE-ECDSA-AES256-GCM-SHA384");
        assert_eq!(server.rare().peer_cert.as_ref().unwrap()[0], 0x30, "the client's certificate");
        assert_eq!(server.sid_ctx.as_slice(), b"fixture");
        assert_eq!(server.verify_result, 18); // self-signed, accepted by the callback
        assert_eq!(server.flags & 1, 1, "SSL_SESS_FLAG_EXTMS");
        assert_eq!((&server.rare().hostname, &server.rare().alpn_selected), (&host, &alpn));

        let client = get("tls12_client0");
        let r = client.rare();
        assert!(r.peer_cert.is_some() && r.tick.as_ref().unwrap().len() > 100);
        assert!(r.tick_lifetime_hint > 0);
        assert_eq!(client.session_id.len(), 32);

        let t13 = get("tls13_client0");
        assert_eq!(t13.ssl_version, 0x0304);
        assert_eq!(t13.cipher().unwrap().name.to_str().unwrap(), "TLS_AES_256_GCM_SHA384");
        let r = t13.rare();
        assert_eq!(r.max_early_data, 16384);
        assert!(r.tick.is_some() && r.tick_age_add != 0 && r.peer_cert.is_some());
        assert_eq!(t13.master_key().len(), 48);

        let psk = get("psk12_client0");
        assert_eq!(psk.rare().psk_identity.as_deref().unwrap().to_str().unwrap(), "client-identity");
        assert_eq!(psk.rare().psk_identity_hint.as_deref().unwrap().to_str().unwrap(), "server-hint");
        assert!(psk.rare().peer_cert.is_none());
    }

    /// A session with the values tests-c/fixtures/gen_fixtures.c gave setters_full, as
    /// `SSL_SESSION_new` and the setters leave it.
    fn setters_full() -> SessionFields {
        let mut s = SessionFields::new(1_700_000_123);
        s.set_cipher(cipher::by_id(0x0300_1302));
        s.ssl_version = 0x0304;
        s.timeout = 86400;
        s.session_id = ShortBytes::new(&(0xa0..0xc0).collect::<Vec<u8>>()).unwrap();
        s.sid_ctx = ShortBytes::new(b"sesscache-ctx").unwrap();
        s.set_master_key(&(0..48).map(|i| (i * 7) as u8).collect::<Vec<u8>>());
        s.change_rare(|r| {
            r.hostname = Some(CString::new("www.example.org").unwrap());
            r.alpn_selected = Some(b"http/1.1".to_vec());
            r.max_early_data = 16384;
            r.ticket_appdata = Some(b"appdata\0with-nul".to_vec());
        });
        s.verify_result = 1; // X509_V_ERR_UNSPECIFIED
        s.max_fragment_len_mode = 255; // TLSEXT_max_fragment_length_UNSPECIFIED
        s
    }

    #[test]
    fn encoder_writes_libssl_bytes() {
        let full = setters_full();
        assert_eq!(encode(&full).unwrap(), FIXTURES[1].1);

        let mut mk = full.clone();
        mk.set_master_key(&[0x5a; 512]);
        mk.session_id = ShortBytes::new(&[0x5a]).unwrap();
        mk.time = -12345;
        assert_eq!(encode(&mk).unwrap(), FIXTURES[2].1);

        let mut min = SessionFields::new(1_700_000_000);
        min.set_cipher(cipher::by_id(0x0300_c02f));
        min.max_fragment_len_mode = 255;
        assert!(same_encoding(&encode(&min).unwrap(), FIXTURES[0].1));
    }

    #[test]
    fn encoder_edges() {
        let mut s = SessionFields::new(5);
        assert_eq!(encode(&s), None, "no cipher, no cipher id: i2d returns 0");
        // An id libssl does not know is still written (its low 16 bits).
        s.set_cipher_by_wire_code(0x1306);
        let der = encode(&s).unwrap();
        assert_eq!(&der[8..12], &[0x04, 0x02, 0x13, 0x06]); // after 30 len, 02 01 01, 02 01 00
                                                            // ... but does not decode again.
        s.ssl_version = 0x0303;
        assert_eq!(decode(&encode(&s).unwrap(), 0), None);
        // A fresh session's version 0 is written but refused when read.
        s.set_cipher(cipher::by_id(0x0300_c02f));
        s.ssl_version = 0;
        assert_eq!(decode(&encode(&s).unwrap(), 0), None);
        // Zero time and timeout are left out; the decoder then uses now and 3.
        s.ssl_version = 0x0303;
        s.time = 0;
        s.timeout = 0;
        let (d, _) = decode(&encode(&s).unwrap(), 77).unwrap();
        assert_eq!((d.time, d.timeout), (77, 3));
        // Embedded NULs: OpenSSL's strndup stops at the first one.
        s.change_rare(|r| r.compress_meth = 0x100); // non-zero, written as one byte 0x00, read back as 0
        let der = encode(&s).unwrap();
        assert!(der.windows(5).any(|w| w == [0xab, 0x03, 0x04, 0x01, 0x00]));
        assert_eq!(decode(&der, 0).unwrap().0.rare().compress_meth, 0);
        // Verify results and flags are 32 bits wide, as libssl stores and encodes them (the
        // der_cases `verify_*` and `flags_*` inputs check wider values in the DER).
        s.change_rare(|r| r.compress_meth = 0);
        s.verify_result = -5;
        s.flags = 0x8000_0001;
        let (d, _) = decode(&encode(&s).unwrap(), 0).unwrap();
        assert_eq!((d.verify_result, d.flags), (-5, 0x8000_0001));
    }

    /// d2i into an existing session stores field by field (measured with libssl 3.0.19:
    /// d2i_SSL_SESSION(&s, ...) on a failing input leaves `s` partly overwritten).
    #[test]
    fn decode_into_stops_where_openssl_does() {
        let old = {
            let mut s = SessionFields::new(1000);
            s.set_cipher(cipher::by_id(0x0300_1302));
            s.ssl_version = 0x0304;
            s.timeout = 2000;
            s.session_id = ShortBytes::new(b"OLDID").unwrap();
            s.sid_ctx = ShortBytes::new(b"OLDCTX").unwrap();
            s.set_master_key(b"OLDMK");
            s.change_rare(|r| {
                r.hostname = Some(CString::new("old.host").unwrap());
                r.max_early_data = 77;
            });
            s
        };
        let case = |name: &str| -> Vec<u8> {
            let line = CASES.lines().find(|l| l.split('\t').next() == Some(name)).unwrap();
            unhex(line.split('\t').nth(1).unwrap())
        };
        let run = |input: &[u8]| {
            let mut s = old.clone();
            let r = decode_into(input, NOW, &mut s);
            (r, s)
        };

        // Not DER, or a wrong version: untouched.
        for name in ["empty", "version_2", "ssl_version_0x200"] {
            assert_eq!(run(&case(name)), (None, old.clone()), "{name}");
        }
        // Bad cipher length: the protocol version is already stored.
        let (r, s) = run(&case("cipher_00c02f"));
        assert_eq!(r, None);
        assert_eq!((s.ssl_version, s.cipher(), s.cipher_id()), (0x0303, old.cipher(), old.cipher_id()));
        // Unknown suite: its id is stored, the cipher cleared.
        let (_, s) = run(&case("cipher_1306"));
        assert_eq!((s.cipher(), s.cipher_id()), (None, 0x0300_1306));
        assert_eq!(s.session_id, old.session_id);
        // Too long an id: the cipher is stored, the id not.
        let (_, s) = run(&case("sid_33"));
        assert_eq!((s.cipher_id(), s.session_id), (0x0300_c02f, old.session_id));
        // Too long a master key: the (empty) id is stored.
        let (_, s) = run(&case("master_key_513"));
        assert!(s.session_id.is_empty() && s.master_key() == old.master_key());
        // Too long an id context: key, time and timeout are stored.
        let (_, s) = run(&case("sid_ctx_33"));
        assert_eq!((s.time, s.timeout, s.sid_ctx), (1_700_000_000, 7200, old.sid_ctx));
        assert_eq!(s.verify_result, old.verify_result);
        // Bad compression id: everything up to the ticket is stored, the rest not.
        let (r, s) = run(&case("comp_0102"));
        assert_eq!(r, None);
        assert_eq!((s.rare().hostname.clone(), s.rare().max_early_data), (None, 77));
        assert_eq!(s.verify_result, 1);
        // Success: every DER field replaced, absent ones defaulted.
        let (r, s) = run(&case("minimal_head"));
        assert_eq!(r, Some(17));
        assert_eq!(s, decode(&case("minimal_head"), NOW).unwrap().0);
        assert_eq!((s.time, s.timeout, s.verify_result, s.rare().max_early_data), (NOW, 3, 0, 0));
    }

    /// A tiny xorshift generator: the property tests need no crate.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn truncated_input_never_decodes() {
        for (name, der) in FIXTURES {
            for n in 0..der.len() {
                assert_eq!(decode(&der[..n], NOW), None, "{name} cut to {n} bytes");
            }
        }
    }

    #[test]
    fn garbage_never_panics_and_decoded_sessions_are_stable() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        // Seeds: the fixtures, every input libssl decodes in der_cases.txt, random bytes.
        let mut seeds: Vec<Vec<u8>> = FIXTURES.iter().map(|f| f.1.to_vec()).collect();
        for line in CASES.lines().filter(|l| l.split('\t').nth(2).is_some_and(|r| r.starts_with("OK"))) {
            seeds.push(unhex(line.split('\t').nth(1).unwrap()));
        }
        for _ in 0..1000 {
            let n = rng.below(80);
            seeds.push((0..n).map(|_| rng.next() as u8).collect());
        }
        let mut decoded = 0;
        for round in 0..60_000 {
            let mut b = seeds[round % seeds.len()].clone();
            for _ in 0..=rng.below(2) {
                if b.is_empty() {
                    break;
                }
                let at = rng.below(b.len());
                match rng.below(4) {
                    0 => b[at] ^= 1 << rng.below(8),
                    1 => b[at] = rng.next() as u8,
                    2 => b.truncate(at),
                    _ => b.insert(at, [0x00, 0x80, 0x81, 0x24, 0x30, 0xff][rng.below(6)]),
                }
            }
            if let Some((s, n)) = decode(&b, NOW) {
                decoded += 1;
                assert!(n <= b.len());
                let der = encode(&s).unwrap();
                let (again, m) = decode(&der, NOW).expect("what we write, we read");
                assert_eq!((m, &again), (der.len(), &s));
                assert_eq!(encode(&again).unwrap(), der);
            }
        }
        assert!(decoded > 1000, "the mutations should keep some sessions decodable: {decoded}");
    }

    #[test]
    fn reader_basics() {
        // ASN1_get_object's quirk: a long-form length needs one more byte in its container.
        assert_eq!(header(&[0x04, 0x81, 0x00]), Err(Bad));
        assert_eq!(header(&[0x04, 0x81, 0x00, 0x00]).unwrap().content, 0);
        assert_eq!(header(&[0x04, 0x00]).unwrap().len, 2);
        assert_eq!(header(&[0x04]), Err(Bad));
        assert_eq!(header(&[0x04, 0x80, 0x00, 0x00]), Err(Bad), "primitive, indefinite");
        assert_eq!(integer(&[0x02, 0x01, 0x80]).unwrap(), (-128, 3));
        assert_eq!(integer(&[0x02, 0x02, 0x00, 0x7f]), Err(Bad));
        assert_eq!(int_content(-128), vec![0x80]);
        assert_eq!(int_content(128), vec![0x00, 0x80]);
        assert_eq!(int_content(0), vec![0x00]);
        assert_eq!(int_content(i128::from(u64::MAX)), [&[0u8][..], &[0xff; 8]].concat());
    }
}
