//! The peer certificate inside a session. Its shape is checked as OpenSSL 3.0's X.509 decoder
//! checks it: the template structure, INTEGER minimality, OBJECT IDENTIFIER encoding, BIT STRING unused bits, BOOLEAN
//! and NULL lengths, and names whose text must convert to UTF-8. Strings may be BER
//! constructed and any constructed value may have an indefinite length, as OpenSSL allows.

use super::reader::{collect, header, is_eoc, Bad, Header, Res, CONTEXT, UNIVERSAL};
use super::writer::put_tlv;

/// The peer certificate. OpenSSL runs its X.509 decoder here and writes the certificate back
/// from what it parsed: the tbsCertificate as the bytes it read, the signature algorithm and
/// signature re-encoded (DER lengths, BIT STRING unused bits cleared). We check what that
/// decoder checks (see `x509`) and keep the bytes OpenSSL would write. Returns them and the
/// bytes read.
pub(super) fn certificate(buf: &[u8]) -> Res<(Vec<u8>, usize)> {
    let mut outer = Walk::new(buf);
    let mut body = Vec::new();
    outer.seq(|c| {
        body.extend_from_slice(c.raw(|c| c.seq(tbs))?);
        c.seq(|alg| {
            let mut a = Vec::new();
            algorithm(alg, Some(&mut a))?;
            put_tlv(&mut body, 0x30, &a);
            Ok(())
        })?;
        let bits = c.bit_string()?;
        put_tlv(&mut body, 0x03, &cleared_bits(&bits));
        Ok(())
    })?;
    let mut cert = Vec::with_capacity(body.len() + 4);
    put_tlv(&mut cert, 0x30, &body);
    Ok((cert, outer.pos))
}

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
            !c.is_empty() && !(c.len() > 1 && ((c[0] == 0 && c[1] & 0x80 == 0) || (c[0] == 0xff && c[1] & 0x80 != 0)))
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
