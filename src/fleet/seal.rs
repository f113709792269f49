//! Sealed sessions: what the fleet writes to Redis and publishes, XChaCha20-Poly1305 under the
//! key file's first key, opened by any of its keys.
//!
//! Envelope: `SCF1` | key id (8) | expires_at (i64 BE) | nonce (24) | ciphertext | tag (16).
//! Plaintext: version (i32 BE) | id length (u8) | id | DER (empty: a removal).
//! Associated data: the Redis name || the envelope's first 20 bytes, so a blob copied under
//! another name, or given another expiry or key id, fails to open.
//! Nonces are random: 24 bytes make a collision negligible at any volume, with no counter to
//! share between processes and hosts.

use std::fmt;

use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::XNonce;
use zeroize::Zeroize;

use super::keys::{Keys, KEY_ID_BYTES};
use crate::engine::SessionKey;

/// The largest blob opened (and sealed): a session's DER is a few hundred bytes, a few KiB
/// with a client certificate chain.
pub const MAX_BLOB: usize = 16 * 1024;

const MAGIC: &[u8; 4] = b"SCF1";
/// Magic, key id, expiry: authenticated, not encrypted.
const HEADER: usize = MAGIC.len() + KEY_ID_BYTES + 8;
const NONCE: usize = 24;
const TAG: usize = 16;
/// The plaintext's version and id length.
const PLAIN_HEAD: usize = 4 + 1;
/// The bytes a blob adds to an empty id and DER.
pub const OVERHEAD: usize = HEADER + NONCE + PLAIN_HEAD + TAG;
/// The largest DER that seals (with a 32-byte id) into at most MAX_BLOB.
pub const MAX_DER: usize = MAX_BLOB - OVERHEAD - 32;

/// Why a blob was not opened. None of them is resumed; the caller drops and counts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejected {
    /// Shorter than any envelope.
    Truncated,
    /// Longer than MAX_BLOB: not even looked at.
    Oversized,
    /// Sealed under a key this key file does not have (another fleet, or a retired key).
    UnknownKey,
    /// The tag does not match: tampered, truncated inside, or moved under another name.
    Forged,
    /// Not an envelope (no magic), or an authentic one whose plaintext is not a session.
    Malformed,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Rejected::Truncated => "truncated",
            Rejected::Oversized => "oversized",
            Rejected::UnknownKey => "sealed under an unknown key",
            Rejected::Forged => "does not authenticate",
            Rejected::Malformed => "malformed",
        })
    }
}

/// Why nothing was sealed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SealError {
    /// The DER is longer than MAX_DER: its blob would be refused as Oversized.
    TooLarge,
    /// The kernel gave no random bytes for the nonce.
    NoRandomness,
}

impl fmt::Display for SealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SealError::TooLarge => "session too large to share",
            SealError::NoRandomness => "no random bytes for a nonce",
        })
    }
}

/// An opened blob.
pub struct Opened {
    pub key: SessionKey,
    pub expires_at: i64,
    /// The session (i2d_SSL_SESSION's bytes); empty for a removal.
    pub der: Vec<u8>,
}

/// Never the DER: it holds the master secret.
impl fmt::Debug for Opened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opened")
            .field("version", &self.key.version())
            .field("id_len", &self.key.id().len())
            .field("expires_at", &self.expires_at)
            .field("der_len", &self.der.len())
            .finish()
    }
}

impl Keys {
    /// `der` (empty: a removal) of the session `key`, valid until `expires_at`, sealed under
    /// the first key for the Redis name `name`.
    pub fn seal(&self, name: &str, key: &SessionKey, expires_at: i64, der: &[u8]) -> Result<Vec<u8>, SealError> {
        if der.len() > MAX_DER {
            return Err(SealError::TooLarge);
        }
        let sealer = self.key(0);
        let id = key.id();
        let mut blob = Vec::with_capacity(OVERHEAD + id.len() + der.len());
        blob.extend_from_slice(MAGIC);
        blob.extend_from_slice(&sealer.id);
        blob.extend_from_slice(&expires_at.to_be_bytes());
        let mut nonce = [0u8; NONCE];
        getrandom::fill(&mut nonce).map_err(|_| SealError::NoRandomness)?;
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&key.version().to_be_bytes());
        blob.push(id.len() as u8);
        blob.extend_from_slice(id);
        blob.extend_from_slice(der);
        let ad = associated_data(name, &blob[..HEADER]);
        let (_, plaintext) = blob.split_at_mut(HEADER + NONCE);
        // Fails only past XChaCha20's 256 GiB per message.
        let tag = sealer.aead.encrypt_inout_detached(&XNonce::from(nonce), &ad, plaintext.into()).expect("AEAD length");
        blob.extend_from_slice(&tag);
        Ok(blob)
    }

    /// The session in `blob`, read from (or published for) the Redis name `name`. Whether it
    /// is still valid (`expires_at`) is the caller's to judge.
    pub fn open(&self, name: &str, blob: &[u8]) -> Result<Opened, Rejected> {
        if blob.len() > MAX_BLOB {
            return Err(Rejected::Oversized);
        }
        if blob.len() < OVERHEAD {
            return Err(Rejected::Truncated);
        }
        if blob[..MAGIC.len()] != MAGIC[..] {
            return Err(Rejected::Malformed);
        }
        let key_id = &blob[MAGIC.len()..MAGIC.len() + KEY_ID_BYTES];
        let opener = self.by_id(key_id).ok_or(Rejected::UnknownKey)?;
        let expires_at = i64::from_be_bytes(blob[HEADER - 8..HEADER].try_into().expect("8 bytes"));
        let nonce = XNonce::try_from(&blob[HEADER..HEADER + NONCE]).expect("24 bytes");
        let (sealed, tag) = blob[HEADER + NONCE..].split_at(blob.len() - HEADER - NONCE - TAG);
        let mut plain = sealed.to_vec();
        let ad = associated_data(name, &blob[..HEADER]);
        opener
            .aead
            .decrypt_inout_detached(&nonce, &ad, plain.as_mut_slice().into(), tag.try_into().expect("16 bytes"))
            .map_err(|_| Rejected::Forged)?;
        let session = read_plaintext(&plain);
        let Some((key, start)) = session else {
            plain.zeroize();
            return Err(Rejected::Malformed);
        };
        // Move the DER to the front in place, and wipe the tail it leaves behind.
        let der_len = plain.len() - start;
        plain.copy_within(start.., 0);
        plain[der_len..].zeroize();
        plain.truncate(der_len);
        Ok(Opened { key, expires_at, der: plain })
    }
}

fn associated_data(name: &str, header: &[u8]) -> Vec<u8> {
    let mut ad = Vec::with_capacity(name.len() + header.len());
    ad.extend_from_slice(name.as_bytes());
    ad.extend_from_slice(header);
    ad
}

/// The session key and where the DER starts, or None when the plaintext is not a session.
fn read_plaintext(plain: &[u8]) -> Option<(SessionKey, usize)> {
    let version = i32::from_be_bytes(plain.get(..4)?.try_into().ok()?);
    let id_len = usize::from(*plain.get(4)?);
    let id = plain.get(PLAIN_HEAD..PLAIN_HEAD + id_len)?;
    Some((SessionKey::new(version, id)?, PLAIN_HEAD + id_len))
}

#[cfg(test)]
mod tests {
    use super::super::keys::tests::{KEY_A, KEY_B};
    use super::*;

    const NAME: &str = "sesscache:0123";

    fn keys(text: &str) -> Keys {
        Keys::parse(text).unwrap()
    }

    fn session() -> (SessionKey, Vec<u8>) {
        let key = SessionKey::new(0x0303, &[7; 32]).unwrap();
        let der: Vec<u8> = (0..300u32).map(|i| (i * 31 % 251) as u8).collect();
        (key, der)
    }

    /// A tiny xorshift: reproducible garbage without another crate.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn round_trip() {
        let k = keys(KEY_A);
        let (key, der) = session();
        let blob = k.seal(NAME, &key, 1_900_000_000, &der).unwrap();
        assert_eq!(blob.len(), OVERHEAD + 32 + der.len());
        assert_eq!(&blob[..4], b"SCF1");
        let opened = k.open(NAME, &blob).unwrap();
        assert_eq!((opened.key, opened.expires_at, &opened.der), (key, 1_900_000_000, &der));
        // Short and empty ids, other versions, negative expiry.
        for (version, id) in [(0x0304, &[1u8, 2, 3][..]), (0x0301, &[][..]), (-1, &[0xff; 32][..])] {
            let key = SessionKey::new(version, id).unwrap();
            let opened = k.open(NAME, &k.seal(NAME, &key, -5, b"x").unwrap()).unwrap();
            assert_eq!((opened.key, opened.expires_at, &opened.der[..]), (key, -5, &b"x"[..]));
        }
        // Two seals of one session differ (fresh nonces) and the DER is not in the clear.
        let again = k.seal(NAME, &key, 1_900_000_000, &der).unwrap();
        assert_ne!(blob, again);
        assert!(!blob.windows(16).any(|w| der.windows(16).any(|d| d == w)));
        assert!(!blob.windows(8).any(|w| w == [7; 8]), "the session id is in the clear");
    }

    #[test]
    fn removals_round_trip() {
        let k = keys(KEY_A);
        let (key, _) = session();
        let opened = k.open(NAME, &k.seal(NAME, &key, 42, &[]).unwrap()).unwrap();
        assert_eq!((opened.key, opened.expires_at, opened.der.len()), (key, 42, 0));
    }

    #[test]
    fn rotation_opens_with_any_key_and_seals_with_the_first() {
        let (key, der) = session();
        let old = keys(KEY_A);
        let rotated = keys(&format!("{KEY_B}\n{KEY_A}\n"));
        let blob = old.seal(NAME, &key, 9, &der).unwrap();
        assert_eq!(rotated.open(NAME, &blob).unwrap().der, der);
        // A new blob is sealed under the new first key, which the old file does not have.
        let new = rotated.seal(NAME, &key, 9, &der).unwrap();
        assert_eq!(old.open(NAME, &new).err(), Some(Rejected::UnknownKey));
        assert_eq!(keys(KEY_B).open(NAME, &new).unwrap().der, der);
    }

    #[test]
    fn a_foreign_key_is_unknown() {
        let (key, der) = session();
        let blob = keys(KEY_B).seal(NAME, &key, 9, &der).unwrap();
        assert_eq!(keys(KEY_A).open(NAME, &blob).err(), Some(Rejected::UnknownKey));
    }

    #[test]
    fn every_bit_flip_is_rejected() {
        let k = keys(KEY_A);
        let (key, der) = session();
        let blob = k.seal(NAME, &key, 9, &der).unwrap();
        for byte in 0..blob.len() {
            for bit in 0..8 {
                let mut bad = blob.clone();
                bad[byte] ^= 1 << bit;
                let got = k.open(NAME, &bad).err();
                let expected = match byte {
                    0..4 => Rejected::Malformed,
                    4..12 => Rejected::UnknownKey,
                    _ => Rejected::Forged,
                };
                assert_eq!(got, Some(expected), "bit {bit} of byte {byte}");
            }
        }
    }

    #[test]
    fn every_truncation_is_rejected() {
        let k = keys(KEY_A);
        let (key, der) = session();
        let blob = k.seal(NAME, &key, 9, &der).unwrap();
        for len in 0..blob.len() {
            let got = k.open(NAME, &blob[..len]).err();
            let expected = if len < OVERHEAD { Rejected::Truncated } else { Rejected::Forged };
            assert_eq!(got, Some(expected), "{len} bytes");
        }
        // Extended is no better than truncated.
        let mut longer = blob.clone();
        longer.push(0);
        assert_eq!(k.open(NAME, &longer).err(), Some(Rejected::Forged));
    }

    #[test]
    fn oversized() {
        let k = keys(KEY_A);
        let (key, _) = session();
        let largest = k.seal(NAME, &key, 9, &vec![1; MAX_DER]).unwrap();
        assert_eq!(largest.len(), MAX_BLOB);
        assert_eq!(k.open(NAME, &largest).unwrap().der.len(), MAX_DER);
        assert_eq!(k.seal(NAME, &key, 9, &vec![1; MAX_DER + 1]).err(), Some(SealError::TooLarge));
        let mut over = largest.clone();
        over.push(0);
        assert_eq!(k.open(NAME, &over).err(), Some(Rejected::Oversized));
        assert_eq!(k.open(NAME, &vec![0; 10 * MAX_BLOB]).err(), Some(Rejected::Oversized));
    }

    #[test]
    fn a_blob_under_another_name_or_expiry_is_forged() {
        let k = keys(KEY_A);
        let (key, der) = session();
        let blob = k.seal(NAME, &key, 9, &der).unwrap();
        assert_eq!(k.open("sesscache:0124", &blob).err(), Some(Rejected::Forged));
        assert_eq!(k.open("", &blob).err(), Some(Rejected::Forged));
        // The name ends where the header starts: no shifting bytes between the two.
        assert_eq!(k.open(&format!("{NAME}S"), &blob).err(), Some(Rejected::Forged));
        let mut later = blob.clone();
        later[HEADER - 1] ^= 1;
        assert_eq!(k.open(NAME, &later).err(), Some(Rejected::Forged));
    }

    #[test]
    fn authentic_but_not_a_session_is_malformed() {
        // What only a holder of the key could make: an id longer than 32 bytes, an id past the end.
        let k = keys(KEY_A);
        let (key, _) = session();
        let blob = k.seal(NAME, &key, 9, &[]).unwrap();
        let opened = k.open(NAME, &blob).unwrap();
        assert!(opened.der.is_empty());
        for plain in [vec![0, 0, 3, 3, 33], vec![0, 0, 3, 3, 2, 1]] {
            let mut forged = blob[..HEADER + NONCE].to_vec();
            forged.extend_from_slice(&plain);
            let nonce = XNonce::try_from(&forged[HEADER..HEADER + NONCE]).unwrap();
            let ad = associated_data(NAME, &forged[..HEADER]);
            let (_, body) = forged.split_at_mut(HEADER + NONCE);
            let tag = k.key(0).aead.encrypt_inout_detached(&nonce, &ad, body.into()).unwrap();
            forged.extend_from_slice(&tag);
            assert_eq!(k.open(NAME, &forged).err(), Some(Rejected::Malformed), "{plain:?}");
        }
    }

    #[test]
    fn garbage_never_opens_and_never_panics() {
        let k = keys(&format!("{KEY_A}\n{KEY_B}\n"));
        let (key, der) = session();
        let real = k.seal(NAME, &key, 9, &der).unwrap();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for round in 0..20_000 {
            let len = (rng.next() % (MAX_BLOB as u64 + 64)) as usize;
            let len = if round % 2 == 0 { len % 512 } else { len };
            let mut blob: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            // Half with a valid magic and key id, so the AEAD itself is exercised.
            if round % 4 < 2 && blob.len() >= HEADER {
                blob[..12].copy_from_slice(&real[..12]);
            }
            assert!(k.open(NAME, &blob).is_err(), "garbage of {len} bytes opened");
        }
    }
}
