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
//!
//! Layout, one concern per file: `reader` (the BER reader OpenSSL's decoder amounts to),
//! `x509` (the shape of a peer certificate), `template` (the `SSL_SESSION_ASN1` SEQUENCE as
//! read), `writer` (DER out), `mapping` (between that SEQUENCE and `SessionFields`).

#![forbid(unsafe_code)]

mod mapping;
mod reader;
mod template;
mod writer;
mod x509;

pub use mapping::{decode, decode_into, encode};

#[cfg(test)]
mod tests;
