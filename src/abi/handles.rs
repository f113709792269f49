//! The handles C holds, opaque as rustls-ffi's are: a zero-sized private field, so no Rust
//! code can make one or look inside. A pointer to one becomes the Rust object behind it only
//! through `boundary::Castable`, which the native front implements for its own objects; the
//! preload front keeps libssl's pointers as these types and hands them back to libssl.

/// A context with a session cache.
pub struct SSL_CTX {
    _private: [u8; 0],
}

/// A session.
pub struct SSL_SESSION {
    _private: [u8; 0],
}

/// A connection.
pub struct SSL {
    _private: [u8; 0],
}

/// A method (`TLS_method` and its two siblings).
pub struct SSL_METHOD {
    _private: [u8; 0],
}

/// A cipher suite.
pub struct SSL_CIPHER {
    _private: [u8; 0],
}

/// OpenSSL 3's library context (providers); unused natively.
pub struct OSSL_LIB_CTX {
    _private: [u8; 0],
}

/// OpenSSL's `CRYPTO_EX_DATA`: only a pointer handed to the ex_data callbacks.
pub struct CRYPTO_EX_DATA {
    _private: [u8; 0],
}
