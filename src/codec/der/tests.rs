//! The codec against libssl's own encodings (tests-c/fixtures/) and its decoder's verdicts.

use super::mapping::*;
use super::reader::*;
use std::ffi::CString;

use super::writer::*;
use crate::codec::cipher;
use crate::codec::session::*;

/// The time der_oracle.c puts in place of the wall clock when libssl used it.
const NOW: i64 = 1_111_111_111;

const CASES: &str = include_str!("../../../tests-c/fixtures/der_cases.txt");

macro_rules! fixtures {
    ($($name:literal),*) => {
        &[$(($name, include_bytes!(concat!("../../../tests-c/fixtures/", $name, ".der")) as &[u8])),*]
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
