//! `SSL_METHOD`: which role a context's connections start in. All three are OpenSSL's
//! version-flexible TLS methods.

use crate::engine::Role;

pub struct SSL_METHOD {
    /// OpenSSL makes a connection a server unless its method cannot accept.
    pub(crate) initial_role: Role,
}

static TLS_GENERIC: SSL_METHOD = SSL_METHOD { initial_role: Role::Server };
static TLS_SERVER: SSL_METHOD = SSL_METHOD { initial_role: Role::Server };
static TLS_CLIENT: SSL_METHOD = SSL_METHOD { initial_role: Role::Client };

#[no_mangle]
pub extern "C" fn TLS_method() -> *const SSL_METHOD {
    forward!(TLS_method());
    &TLS_GENERIC
}

#[no_mangle]
pub extern "C" fn TLS_server_method() -> *const SSL_METHOD {
    forward!(TLS_server_method());
    &TLS_SERVER
}

#[no_mangle]
pub extern "C" fn TLS_client_method() -> *const SSL_METHOD {
    forward!(TLS_client_method());
    &TLS_CLIENT
}
