//! Every function C can call, with OpenSSL 3's literal signature (cbindgen reads these files
//! to write include/ssl.h), one file per area of OpenSSL's API. Each body is one `dispatch!`
//! (or, where OpenSSL has a macro over another function, a call to that export):
//!
//! ```text
//! dispatch! {
//!     error: <OpenSSL's failure value, written once>,
//!     native => <the native front's function, Option<R>>,
//!     preload(rt) => <the preload front's function, Option<R>>  |  preload => libssl  |  preload => error,
//!     pass_through => libssl <libssl's function>(<args>)  |  pass_through => error,
//! }
//! ```
//! `native` and `preload(rt)` run under `abi::guard`: None or a panic gives the error value.
//! `libssl` calls the real function of that name; `error` answers the failure value (the
//! handshake hooks, which have no libssl counterpart).

#![allow(non_snake_case, clippy::missing_safety_doc)]

/// The one dispatch on the process's mode (see the module documentation).
// The arms are the export's own calls: the SAFETY comments below state the contract that
// covers them, which is the C caller's.
#[allow(clippy::macro_metavars_in_unsafe)]
macro_rules! dispatch {
    (@libssl $real:expr, $f:ident($($a:expr),*)) => {{
        // SAFETY: libssl's own function, given the caller's arguments.
        unsafe { ($real.$f)($($a),*) }
    }};
    (@front $error:expr, $body:expr) => {
        crate::abi::guard($error, || {
            // SAFETY: the export's contract, OpenSSL's: each handle is NULL or live, each
            // buffer holds the length given with it. The front's functions ask no more.
            #[allow(unused_unsafe)]
            let r = unsafe { $body };
            r
        })
    };
    (error: $error:expr,
     native => $native:expr,
     preload => libssl,
     pass_through => libssl $f:ident($($a:expr),* $(,)?) $(,)?) => {
        match crate::preload::mode() {
            crate::preload::Mode::Native => dispatch!(@front $error, $native),
            crate::preload::Mode::Preload(rt) => dispatch!(@libssl (rt.real), $f($($a),*)),
            crate::preload::Mode::PassThrough(real) => dispatch!(@libssl real, $f($($a),*)),
        }
    };
    (error: $error:expr,
     native => $native:expr,
     preload => error,
     pass_through => error $(,)?) => {
        match crate::preload::mode() {
            crate::preload::Mode::Native => dispatch!(@front $error, $native),
            crate::preload::Mode::Preload(_) | crate::preload::Mode::PassThrough(_) => $error,
        }
    };
    (error: $error:expr,
     native => $native:expr,
     preload($rt:ident) => $preload:expr,
     pass_through => libssl $f:ident($($a:expr),* $(,)?) $(,)?) => {
        match crate::preload::mode() {
            crate::preload::Mode::Native => dispatch!(@front $error, $native),
            crate::preload::Mode::Preload($rt) => dispatch!(@front $error, $preload),
            crate::preload::Mode::PassThrough(real) => dispatch!(@libssl real, $f($($a),*)),
        }
    };
}

pub mod callbacks;
pub mod cipher;
pub mod ctx;
pub mod der;
pub mod exdata;
pub mod fleet;
pub mod handshake;
pub mod method;
pub mod session;
pub mod ssl;
pub mod stats;
pub mod tickets;
