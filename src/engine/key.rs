//! The key a session is cached under. OpenSSL's hash table compares (protocol version, id
//! length, id bytes), so two sessions with the same id but different versions are distinct.

/// (protocol version, session id of at most 32 bytes), copied by value.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SessionKey {
    version: i32,
    len: u8,
    id: [u8; 32],
}

impl SessionKey {
    /// None when the id is longer than 32 bytes: no such session can exist in OpenSSL.
    pub fn new(version: i32, id: &[u8]) -> Option<SessionKey> {
        if id.len() > 32 {
            return None;
        }
        // Servers draw 32-byte ids: a fixed-size copy, no memcpy call.
        if let Ok(&id) = <&[u8; 32]>::try_from(id) {
            return Some(SessionKey { version, len: 32, id });
        }
        let mut key = SessionKey { version, len: id.len() as u8, id: [0; 32] };
        key.id[..id.len()].copy_from_slice(id);
        Some(key)
    }
    pub fn version(&self) -> i32 {
        self.version
    }
    pub fn id(&self) -> &[u8] {
        &self.id[..self.len as usize]
    }
    /// An empty id: OpenSSL caches such sessions but will not remove them by key, which makes
    /// one at the eviction end of the cache block eviction (a quirk we keep).
    pub fn has_empty_id(&self) -> bool {
        self.len == 0
    }
}

/// Every field, as `Eq` compares them, in three words: the cache's seeded hasher costs one
/// multiply per 128-bit write, where the derived impl hashed the id as a length-prefixed slice.
impl std::hash::Hash for SessionKey {
    fn hash<S: std::hash::Hasher>(&self, state: &mut S) {
        let (front, back) = self.id.split_at(16);
        state.write_u128(u128::from_le_bytes(front.try_into().expect("16 bytes")));
        state.write_u128(u128::from_le_bytes(back.try_into().expect("16 bytes")));
        state.write_u64(u64::from(self.version as u32) | u64::from(self.len) << 32);
    }
}
