//! The DER writer: minimal lengths and integers, as `i2d_SSL_SESSION` writes them.

pub(super) fn put_tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
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
pub(super) fn int_content(v: i128) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let mut i = 0;
    while i < 15 && ((bytes[i] == 0 && bytes[i + 1] & 0x80 == 0) || (bytes[i] == 0xff && bytes[i + 1] & 0x80 != 0)) {
        i += 1;
    }
    bytes[i..].to_vec()
}

pub(super) fn put_int(out: &mut Vec<u8>, v: i128) {
    put_tlv(out, 0x02, &int_content(v));
}

/// EXPLICIT [tag] around `inner` (all tags here are below 31).
pub(super) fn put_explicit(out: &mut Vec<u8>, tag: u8, inner: &[u8]) {
    put_tlv(out, 0xa0 | tag, inner);
}

pub(super) fn put_explicit_int(out: &mut Vec<u8>, tag: u8, v: i128) {
    let mut inner = Vec::new();
    put_int(&mut inner, v);
    put_explicit(out, tag, &inner);
}

/// The Z types (ZINT64, ZUINT32, ...) leave a zero out.
pub(super) fn put_explicit_nonzero(out: &mut Vec<u8>, tag: u8, v: i128) {
    if v != 0 {
        put_explicit_int(out, tag, v);
    }
}

pub(super) fn put_explicit_octets(out: &mut Vec<u8>, tag: u8, v: Option<&[u8]>) {
    if let Some(v) = v {
        let mut inner = Vec::new();
        put_tlv(&mut inner, 0x04, v);
        put_explicit(out, tag, &inner);
    }
}
