//! A BER reader that accepts and refuses what OpenSSL 3.0's template decoder does
//! (`ASN1_get_object`, `asn1_check_tlen`, `asn1_collect`).

/// A decoding failure: OpenSSL's d2i returns NULL. The reason does not matter to callers.
#[derive(Debug, PartialEq)]
pub(super) struct Bad;

pub(super) type Res<T> = Result<T, Bad>;

pub(super) const UNIVERSAL: u8 = 0x00;
pub(super) const CONTEXT: u8 = 0x80;
pub(super) const TAG_INTEGER: u32 = 2;
pub(super) const TAG_OCTET_STRING: u32 = 4;
pub(super) const TAG_SEQUENCE: u32 = 16;
/// OpenSSL's ASN1_MAX_STRING_NEST: how deep constructed strings may nest.
pub(super) const MAX_STRING_NEST: u32 = 5;

/// One identifier and length, as `ASN1_get_object` reads them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Header {
    pub(super) class: u8,
    pub(super) constructed: bool,
    pub(super) tag: u32,
    /// Bytes of identifier and length.
    pub(super) len: usize,
    /// Content length; for an indefinite length, everything left in the container.
    pub(super) content: usize,
    pub(super) indefinite: bool,
}

/// Reads a header from `buf`, the bytes left in the enclosing container. Mirrors
/// `ASN1_get_object`, including its quirk of wanting one byte past a long-form length.
pub(super) fn header(buf: &[u8]) -> Res<Header> {
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
pub(super) fn expect(buf: &[u8], tag: u32, class: u8, optional: bool) -> Res<Option<Header>> {
    let h = header(buf)?;
    if h.tag != tag || h.class != class {
        return if optional { Ok(None) } else { Err(Bad) };
    }
    Ok(Some(h))
}

/// An end-of-contents marker at the start of `buf`.
pub(super) fn is_eoc(buf: &[u8]) -> bool {
    buf.len() >= 2 && buf[0] == 0 && buf[1] == 0
}

/// The content of a string (an OCTET STRING, or an IMPLICIT-tagged one) at the start of
/// `buf`, and the bytes it took. Constructed forms are concatenated as `asn1_collect` does:
/// the pieces may carry any tag at all, and nest at most MAX_STRING_NEST deep.
pub(super) fn string(buf: &[u8], tag: u32, class: u8, optional: bool) -> Res<Option<(Vec<u8>, usize)>> {
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
pub(super) fn collect(buf: &[u8], indefinite: bool, depth: u32, out: &mut Vec<u8>) -> Res<usize> {
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
pub(super) fn octets(buf: &[u8]) -> Res<(Vec<u8>, usize)> {
    string(buf, TAG_OCTET_STRING, UNIVERSAL, false)?.ok_or(Bad)
}

/// A universal INTEGER: its value (|v| < 2^64, what OpenSSL's 64-bit readers take) and the
/// bytes it took. Must be primitive and minimally encoded; empty content reads as 0 (OpenSSL
/// keeps that for old writers that encoded 0 so).
pub(super) fn integer(buf: &[u8]) -> Res<(i128, usize)> {
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

pub(super) fn uint32(v: i128) -> Res<u32> {
    u32::try_from(v).map_err(|_| Bad)
}
pub(super) fn int32(v: i128) -> Res<i32> {
    i32::try_from(v).map_err(|_| Bad)
}
pub(super) fn uint64(v: i128) -> Res<u64> {
    u64::try_from(v).map_err(|_| Bad)
}
/// INT64 refuses positive values past i64::MAX but takes any negative magnitude below 2^64
/// and wraps it (`0 - magnitude` in 64 bits): -(2^63 + 1) reads as i64::MAX.
pub(super) fn int64(v: i128) -> Res<i64> {
    if v > i128::from(i64::MAX) {
        return Err(Bad);
    }
    Ok(v as i64) // truncation to 64 bits is the wrap
}
