//! OpenSSL 3's numbers, with its names and values.

use std::ffi::{c_int, c_long};

pub const SSL_CTRL_SESS_NUMBER: c_int = 20;
pub const SSL_CTRL_SESS_CONNECT: c_int = 21;
pub const SSL_CTRL_SESS_CONNECT_GOOD: c_int = 22;
pub const SSL_CTRL_SESS_CONNECT_RENEGOTIATE: c_int = 23;
pub const SSL_CTRL_SESS_ACCEPT: c_int = 24;
pub const SSL_CTRL_SESS_ACCEPT_GOOD: c_int = 25;
pub const SSL_CTRL_SESS_ACCEPT_RENEGOTIATE: c_int = 26;
pub const SSL_CTRL_SESS_HIT: c_int = 27;
pub const SSL_CTRL_SESS_CB_HIT: c_int = 28;
pub const SSL_CTRL_SESS_MISSES: c_int = 29;
pub const SSL_CTRL_SESS_TIMEOUTS: c_int = 30;
pub const SSL_CTRL_SESS_CACHE_FULL: c_int = 31;
pub const SSL_CTRL_SET_SESS_CACHE_SIZE: c_int = 42;
pub const SSL_CTRL_GET_SESS_CACHE_SIZE: c_int = 43;
pub const SSL_CTRL_SET_SESS_CACHE_MODE: c_int = 44;
pub const SSL_CTRL_GET_SESS_CACHE_MODE: c_int = 45;

pub const SSL_SESS_CACHE_OFF: c_long = 0x0000;
pub const SSL_SESS_CACHE_CLIENT: c_long = 0x0001;
pub const SSL_SESS_CACHE_SERVER: c_long = 0x0002;
pub const SSL_SESS_CACHE_BOTH: c_long = 0x0003;
pub const SSL_SESS_CACHE_NO_AUTO_CLEAR: c_long = 0x0080;
pub const SSL_SESS_CACHE_NO_INTERNAL_LOOKUP: c_long = 0x0100;
pub const SSL_SESS_CACHE_NO_INTERNAL_STORE: c_long = 0x0200;
pub const SSL_SESS_CACHE_NO_INTERNAL: c_long = 0x0300;
pub const SSL_SESS_CACHE_UPDATE_TIME: c_long = 0x0400;

pub const SSL_MAX_SSL_SESSION_ID_LENGTH: c_int = 32;
pub const SSL_MAX_SID_CTX_LENGTH: c_int = 32;
pub const SSL_MAX_MASTER_KEY_LENGTH: c_int = 48;
pub const SSL_SESSION_CACHE_MAX_SIZE_DEFAULT: c_long = 1024 * 20;

pub const SSL3_VERSION: c_int = 0x0300;
pub const TLS1_VERSION: c_int = 0x0301;
pub const TLS1_1_VERSION: c_int = 0x0302;
pub const TLS1_2_VERSION: c_int = 0x0303;
pub const TLS1_3_VERSION: c_int = 0x0304;
pub const DTLS1_VERSION: c_int = 0xFEFF;
pub const DTLS1_2_VERSION: c_int = 0xFEFD;
pub const DTLS1_BAD_VER: c_int = 0x0100;
