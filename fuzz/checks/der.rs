//! The DER checks.
//!
//! - `roundtrip`: whatever our `d2i` accepts, `i2d` writes, `d2i` reads back whole, and a
//!   second `i2d` writes the same bytes; nothing panics. Where libssl's own round trip breaks
//!   (its `d2i` refuses what its `i2d` wrote), ours must break the same way, with its bytes.
//! - `vs_libssl`: the input through libssl's `d2i_SSL_SESSION`/`i2d_SSL_SESSION` and ours, both
//!   as a new session and into an existing one (whose fields a failing `d2i` may have partly
//!   overwritten): the same accept or reject, the same bytes consumed, the same re-encoding
//!   byte for byte, except for the differences in `KNOWN_DIFFERENCES`.

use super::{hex, libssl, ours};

/// The time our decoder gives a session whose DER has none, where no clock is compared.
const NOW: i64 = 1_111_111_111;

/// The session that the "into an existing session" half decodes over: every optional field
/// set (tests-c/fixtures/setters_full.der, written by libssl).
const EXISTING: &[u8] = include_bytes!("../../tests-c/fixtures/setters_full.der");

pub fn roundtrip(input: &[u8]) {
    let Some((first, used)) = ours::decode(input, NOW) else { return };
    assert!(used <= input.len(), "d2i took {used} bytes of {}", input.len());
    let enc1 = ours::encode(&first).unwrap_or_else(|| panic!("d2i accepted {} but i2d writes nothing", hex(input)));
    let Some((second, used2)) = ours::decode(&enc1, NOW) else {
        // libssl's own round trip is not stable everywhere: it takes a constructed universal
        // tag 0 (`20 00`) as a parameter of a certificate's algorithm, writes it back as an
        // end-of-contents pair (`00 00`) and refuses that. Ours may break only where libssl's
        // does, with libssl's bytes.
        let (theirs, now) = with_steady_clock(|| unsafe { libssl_d2i(input, false) });
        let ours_then = ours::decode(input, now).and_then(|(f, _)| ours::encode(&f));
        let libssl_refuses_itself =
            theirs.encoding.as_deref().is_some_and(|e| unsafe { libssl_d2i(e, false) }.consumed.is_none());
        assert!(
            theirs.encoding.is_some() && theirs.encoding == ours_then && libssl_refuses_itself,
            "our i2d of {} wrote {}, which our d2i refuses (libssl, at the same second, writes {:?} and \
             {} it again)",
            hex(input),
            hex(&enc1),
            theirs.encoding.as_deref().map(hex),
            if libssl_refuses_itself { "refuses" } else { "takes" },
        );
        return;
    };
    assert_eq!(used2, enc1.len(), "d2i took {used2} of our {} bytes {}", enc1.len(), hex(&enc1));
    let enc2 = ours::encode(&second).expect("a session decoded from our own encoding encodes");
    assert_eq!(hex(&enc1), hex(&enc2), "the round trip of {} is not stable", hex(input));
}

/// What one side's d2i did with the input, as the check compares it.
#[derive(Debug, PartialEq)]
struct Outcome {
    /// Bytes consumed; None when d2i failed.
    consumed: Option<usize>,
    /// i2d of the result (new session) or of the existing session after the call; None when
    /// there is no session or i2d writes nothing.
    encoding: Option<Vec<u8>>,
}

/// Deliberate differences from libssl, each with the README compatibility row it refers to.
/// A difference the fuzzer finds that is not here fails the check. (None today: every input
/// must give libssl's outcome.)
const KNOWN_DIFFERENCES: &[(&str, KnownDifference)] = &[];

/// Whether an input and both outcomes are an instance of one listed difference.
type KnownDifference = fn(input: &[u8], libssl: &Outcome, ours: &Outcome) -> bool;

pub fn vs_libssl(input: &[u8]) {
    let (theirs, now) = with_steady_clock(|| unsafe { libssl_d2i(input, false) });
    let ours = match ours::decode(input, now) {
        None => Outcome { consumed: None, encoding: None },
        Some((f, used)) => Outcome { consumed: Some(used), encoding: ours::encode(&f) },
    };
    compare("d2i(NULL)", input, &theirs, &ours);

    let (theirs, now) = with_steady_clock(|| unsafe { libssl_d2i(input, true) });
    let (mut existing, _) = ours::decode(EXISTING, now).expect("the existing session's DER decodes");
    let consumed = ours::decode_into(input, now, &mut existing);
    let ours = Outcome { consumed, encoding: ours::encode(&existing) };
    compare("d2i(&existing)", input, &theirs, &ours);
}

fn compare(what: &str, input: &[u8], theirs: &Outcome, ours: &Outcome) {
    if theirs == ours {
        return;
    }
    if KNOWN_DIFFERENCES.iter().any(|(_readme_row, known)| known(input, theirs, ours)) {
        return;
    }
    let show = |o: &Outcome| match (&o.consumed, &o.encoding) {
        (None, Some(e)) => format!("failed; the session then encodes as {}", hex(e)),
        (None, None) => "failed".to_string(),
        (Some(n), Some(e)) => format!("took {n} bytes; encodes as {}", hex(e)),
        (Some(n), None) => format!("took {n} bytes; i2d writes nothing"),
    };
    panic!("der_vs_libssl: {what} of {}\n  libssl: {}\n  ours:   {}", hex(input), show(theirs), show(ours));
}

/// Runs `f` until the wall clock reads the same second before and after it; its result and
/// that second (libssl's d2i stamps a session without a time with `time(NULL)`; ours is given
/// the same second).
fn with_steady_clock<R>(mut f: impl FnMut() -> R) -> (R, i64) {
    let now = || unsafe { libc::time(std::ptr::null_mut()) } as i64;
    for _ in 0..10 {
        let before = now();
        let r = f();
        if now() == before {
            return (r, before);
        }
    }
    panic!("the clock moved during each of 10 calls of a few microseconds");
}

/// libssl's d2i of `input`, into a new session or into one decoded from EXISTING.
unsafe fn libssl_d2i(input: &[u8], into_existing: bool) -> Outcome {
    let l = libssl::get();
    let mut target: libssl::Ptr = std::ptr::null_mut();
    if into_existing {
        let mut p = EXISTING.as_ptr();
        target = (l.d2i_SSL_SESSION)(std::ptr::null_mut(), &mut p, EXISTING.len() as libc::c_long);
        assert!(!target.is_null(), "libssl refuses the existing session's DER");
    }
    let mut p = input.as_ptr();
    let r = (l.d2i_SSL_SESSION)(&mut target, &mut p, input.len() as libc::c_long);
    let consumed = (!r.is_null()).then(|| p as usize - input.as_ptr() as usize);
    if !r.is_null() {
        assert!(!into_existing || r == target, "libssl's d2i into a session returned another one");
        target = r;
    }
    let encoding = if target.is_null() { None } else { l.i2d(target) };
    if !target.is_null() {
        (l.SSL_SESSION_free)(target);
    }
    Outcome { consumed, encoding }
}
