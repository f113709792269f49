//! `SSL_METHOD`: OpenSSL's three version-flexible TLS methods.

use crate::abi::*;
use crate::native;

#[no_mangle]
pub extern "C" fn TLS_method() -> *const SSL_METHOD {
    dispatch! {
        error: std::ptr::null(),
        native => native::method::generic(),
        preload => libssl,
        pass_through => libssl TLS_method(),
    }
}

#[no_mangle]
pub extern "C" fn TLS_server_method() -> *const SSL_METHOD {
    dispatch! {
        error: std::ptr::null(),
        native => native::method::server(),
        preload => libssl,
        pass_through => libssl TLS_server_method(),
    }
}

#[no_mangle]
pub extern "C" fn TLS_client_method() -> *const SSL_METHOD {
    dispatch! {
        error: std::ptr::null(),
        native => native::method::client(),
        preload => libssl,
        pass_through => libssl TLS_client_method(),
    }
}
