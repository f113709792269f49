//! `SSL_SESS_CACHE_*` flags, with OpenSSL's values.

bitflags::bitflags! {
    /// The cache mode of a context. OpenSSL keeps it in 32 bits and stores whatever the caller
    /// passes, unknown bits included, so this keeps every bit too.
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    pub struct CacheMode: u32 {
        const CLIENT = 0x0001;
        const SERVER = 0x0002;
        const BOTH = 0x0003;
        const NO_AUTO_CLEAR = 0x0080;
        const NO_INTERNAL_LOOKUP = 0x0100;
        const NO_INTERNAL_STORE = 0x0200;
        const NO_INTERNAL = 0x0300;
        const UPDATE_TIME = 0x0400;
        const _ = !0;
    }
}

/// Which side of a handshake a connection plays; it picks the mode bit and the counters.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Role {
    Client,
    Server,
}

impl Role {
    pub fn cache_bit(self) -> CacheMode {
        match self {
            Role::Client => CacheMode::CLIENT,
            Role::Server => CacheMode::SERVER,
        }
    }
}
