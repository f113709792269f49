//! `SSL_METHOD`: which role a context's connections start in. All three are OpenSSL's
//! version-flexible TLS methods.

use crate::abi::{self, Castable, Shared, SSL_METHOD};
use crate::engine::Role;

pub struct Method {
    /// OpenSSL makes a connection a server unless its method cannot accept.
    pub(crate) initial_role: Role,
}

// SAFETY: every `SSL_METHOD *` the native front hands out is `to_c` of one of the statics below.
unsafe impl Castable for SSL_METHOD {
    type Native = Method;
    type Ownership = Shared;
}

static TLS_GENERIC: Method = Method { initial_role: Role::Server };
static TLS_SERVER: Method = Method { initial_role: Role::Server };
static TLS_CLIENT: Method = Method { initial_role: Role::Client };

pub(crate) fn generic() -> Option<*const SSL_METHOD> {
    Some(abi::boundary::to_c::<SSL_METHOD>(&TLS_GENERIC))
}

pub(crate) fn server() -> Option<*const SSL_METHOD> {
    Some(abi::boundary::to_c::<SSL_METHOD>(&TLS_SERVER))
}

pub(crate) fn client() -> Option<*const SSL_METHOD> {
    Some(abi::boundary::to_c::<SSL_METHOD>(&TLS_CLIENT))
}
