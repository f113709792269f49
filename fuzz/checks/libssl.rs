//! The system's libssl 3, loaded with `dlmopen(LM_ID_NEWLM, ...)`: in a link-map namespace of
//! its own, its calls to its own functions stay inside it and its symbols never meet ours
//! (sesscache exports the same names). Loaded once per process; a process that cannot load
//! it fails the check with the loader's message (libssl 3 is a test requirement).

use std::ffi::{c_char, c_int, c_long, c_uchar, c_uint, c_void, CStr};
use std::sync::OnceLock;

pub type Ptr = *mut c_void;
pub type RemoveCb = unsafe extern "C" fn(Ptr, Ptr);

macro_rules! functions {
    ($($name:ident: fn($($arg:ty),*) $(-> $ret:ty)?;)*) => {
        /// libssl's functions, by their own names.
        #[allow(non_snake_case)]
        pub struct Libssl {
            $(pub $name: unsafe extern "C" fn($($arg),*) $(-> $ret)?,)*
        }

        impl Libssl {
            unsafe fn load(handle: *mut c_void) -> Result<Libssl, String> {
                Ok(Libssl {
                    $($name: {
                        let name = concat!(stringify!($name), "\0");
                        let p = libc::dlsym(handle, name.as_ptr() as *const c_char);
                        if p.is_null() {
                            return Err(format!("libssl.so.3 has no {}", stringify!($name)));
                        }
                        std::mem::transmute::<*mut c_void, unsafe extern "C" fn($($arg),*) $(-> $ret)?>(p)
                    },)*
                })
            }
        }
    };
}

functions! {
    OPENSSL_init_ssl: fn(u64, Ptr) -> c_int;
    d2i_SSL_SESSION: fn(*mut Ptr, *mut *const c_uchar, c_long) -> Ptr;
    i2d_SSL_SESSION: fn(Ptr, *mut *mut c_uchar) -> c_int;
    SSL_SESSION_new: fn() -> Ptr;
    SSL_SESSION_free: fn(Ptr);
    SSL_SESSION_dup: fn(Ptr) -> Ptr;
    SSL_SESSION_set1_id: fn(Ptr, *const c_uchar, c_uint) -> c_int;
    SSL_SESSION_set_time: fn(Ptr, c_long) -> c_long;
    SSL_SESSION_get_time: fn(Ptr) -> c_long;
    SSL_SESSION_set_timeout: fn(Ptr, c_long) -> c_long;
    SSL_SESSION_get_timeout: fn(Ptr) -> c_long;
    SSL_SESSION_set_protocol_version: fn(Ptr, c_int) -> c_int;
    SSL_SESSION_is_resumable: fn(Ptr) -> c_int;
    TLS_server_method: fn() -> Ptr;
    SSL_CTX_new: fn(Ptr) -> Ptr;
    SSL_CTX_free: fn(Ptr);
    SSL_CTX_ctrl: fn(Ptr, c_int, c_long, Ptr) -> c_long;
    SSL_CTX_set_timeout: fn(Ptr, c_long) -> c_long;
    SSL_CTX_get_timeout: fn(Ptr) -> c_long;
    SSL_CTX_add_session: fn(Ptr, Ptr) -> c_int;
    SSL_CTX_remove_session: fn(Ptr, Ptr) -> c_int;
    SSL_CTX_flush_sessions: fn(Ptr, c_long);
    SSL_CTX_sess_set_remove_cb: fn(Ptr, Option<RemoveCb>);
    SSL_new: fn(Ptr) -> Ptr;
    SSL_free: fn(Ptr);
    SSL_has_matching_session_id: fn(Ptr, *const c_uchar, c_uint) -> c_int;
}

// SSL_CTX_ctrl commands (openssl/ssl.h): what the SSL_CTX_sess_* macros expand to.
pub const SSL_CTRL_SESS_NUMBER: c_int = 20;
pub const SSL_CTRL_SET_SESS_CACHE_SIZE: c_int = 42;
pub const SSL_CTRL_GET_SESS_CACHE_SIZE: c_int = 43;
pub const SSL_CTRL_SET_SESS_CACHE_MODE: c_int = 44;
pub const SSL_CTRL_GET_SESS_CACHE_MODE: c_int = 45;

// Function pointers into a library that is never unloaded: shared freely between threads.
static LIBSSL: OnceLock<Result<Libssl, String>> = OnceLock::new();

/// libssl, loaded on first use; panics with the reason when it cannot be.
pub fn get() -> &'static Libssl {
    let loaded = LIBSSL.get_or_init(|| {
        // SAFETY: dlmopen/dlsym/dlerror with NUL-terminated names.
        unsafe {
            let handle = libc::dlmopen(libc::LM_ID_NEWLM, c"libssl.so.3".as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL);
            if handle.is_null() {
                let err = libc::dlerror();
                let why = if err.is_null() { "unknown".into() } else { CStr::from_ptr(err).to_string_lossy() };
                return Err(format!("dlmopen(libssl.so.3): {why}"));
            }
            let l = Libssl::load(handle)?;
            // Initialise (and load the configuration) now: left to the first call that needs
            // it, from inside d2i's X.509 decoding, the init crashes in the new namespace.
            if (l.OPENSSL_init_ssl)(0, std::ptr::null_mut()) != 1 {
                return Err("OPENSSL_init_ssl failed".into());
            }
            Ok(l)
        }
    });
    match loaded {
        Ok(l) => l,
        Err(e) => panic!("{e}"),
    }
}

impl Libssl {
    /// i2d_SSL_SESSION into a buffer of ours (so that no memory crosses the namespaces'
    /// allocators); None when libssl writes nothing (a session without a cipher).
    pub unsafe fn i2d(&self, s: Ptr) -> Option<Vec<u8>> {
        let len = (self.i2d_SSL_SESSION)(s, std::ptr::null_mut());
        if len <= 0 {
            return None;
        }
        let mut buf = vec![0u8; len as usize];
        let mut p = buf.as_mut_ptr();
        let written = (self.i2d_SSL_SESSION)(s, &mut p);
        assert_eq!(written, len, "libssl's i2d wrote another length than it announced");
        Some(buf)
    }
}
