//! `SSL`: a connection as far as the session cache sees it: its context, role, negotiated
//! version, id context and session, and where it stands in its handshakes.

use std::ffi::{c_int, c_uchar, c_uint};
use std::sync::Arc;

use parking_lot::{Mutex, MutexGuard};

use super::ctx::SSL_CTX;
use super::ctx::TLS1_3_VERSION;
use super::session::{SessionRef, SSL_SESSION};
use super::{borrow, bytes, guard, guard_void};
use crate::engine::{Role, SessionKey};
use crate::session::ShortBytes;

pub struct SSL {
    /// Keeps the context's memory; the connection also holds one C reference to it.
    pub(crate) ctx: Arc<SSL_CTX>,
    conn: Mutex<Connection>,
}

pub(crate) struct Connection {
    pub(crate) role: Role,
    /// The highest version until a handshake negotiates one.
    pub(crate) version: i32,
    pub(crate) sid_ctx: ShortBytes,
    pub(crate) session: Option<SessionRef>,
    /// The current or last handshake resumed `session` (SSL_session_reused).
    pub(crate) hit: bool,
    pub(crate) finished_handshakes: u32,
    pub(crate) in_handshake: bool,
    pub(crate) verify_peer: bool,
    /// close_notify sent: the session stays cached when the connection goes.
    pub(crate) shutdown_sent: bool,
}

impl SSL {
    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock()
    }
    pub(crate) fn as_ptr(&self) -> *mut SSL {
        self as *const SSL as *mut SSL
    }

    /// OpenSSL's `ssl_clear_bad_session`: a connection that finished a handshake and is
    /// dropped or given another session without having sent close_notify may have failed, so
    /// its session leaves the cache.
    fn clear_bad_session(&self) {
        let session = {
            let c = self.conn();
            let settled = c.finished_handshakes > 0 && !c.in_handshake;
            match &c.session {
                Some(s) if settled && !c.shutdown_sent => s.clone(),
                _ => return,
            }
        };
        self.ctx.cache.remove(&session, &self.ctx.hooks(self.as_ptr()));
    }
}

#[no_mangle]
pub unsafe extern "C" fn SSL_new(ctx: *mut SSL_CTX) -> *mut SSL {
    preload!(SSL_new(ctx), std::ptr::null_mut(), |rt| crate::preload::ctx::new_ssl(rt, ctx));
    guard(std::ptr::null_mut(), || {
        let ctx_ref = borrow(ctx)?;
        let ctx_arc = ctx_ref.weak().upgrade()?;
        ctx_ref.up_ref();
        let conn = Connection {
            role: ctx_ref.method.initial_role,
            // libssl 3.0 answers TLS1_3_VERSION for a new connection of any TLS method.
            version: TLS1_3_VERSION,
            sid_ctx: ctx_ref.sid_ctx(),
            session: None,
            hit: false,
            finished_handshakes: 0,
            in_handshake: false,
            verify_peer: false,
            shutdown_sent: false,
        };
        Some(Box::into_raw(Box::new(SSL { ctx: ctx_arc, conn: Mutex::new(conn) })))
    })
}

#[no_mangle]
pub unsafe extern "C" fn SSL_free(s: *mut SSL) {
    forward!(SSL_free(s));
    guard_void(|| {
        borrow(s)?.clear_bad_session();
        let ssl = Box::from_raw(s);
        let ctx = Arc::as_ptr(&ssl.ctx);
        // Taken out, then dropped once the lock is let go: its free callbacks may call in.
        let session = ssl.conn().session.take();
        drop(session);
        SSL_CTX::release(ctx);
        drop(ssl);
        Some(())
    })
}

#[no_mangle]
pub unsafe extern "C" fn SSL_get_SSL_CTX(s: *const SSL) -> *mut SSL_CTX {
    forward!(SSL_get_SSL_CTX(s));
    guard(std::ptr::null_mut(), || Some(borrow(s)?.ctx.as_ptr()))
}

/// The negotiated protocol version; TLS1_3_VERSION before a handshake, as libssl 3.0.
#[no_mangle]
pub unsafe extern "C" fn SSL_version(s: *const SSL) -> c_int {
    forward!(SSL_version(s));
    guard(0, || Some(borrow(s)?.conn().version))
}

/// The session to offer (client) or NULL; the connection takes its own reference.
#[no_mangle]
pub unsafe extern "C" fn SSL_set_session(s: *mut SSL, session: *mut SSL_SESSION) -> c_int {
    forward!(SSL_set_session(s, session));
    guard(0, || {
        let ssl = borrow(s)?;
        let new = SessionRef::from_borrowed(session);
        ssl.clear_bad_session();
        let old = std::mem::replace(&mut ssl.conn().session, new);
        drop(old);
        Some(1)
    })
}

/// The connection's session, borrowed (no reference taken).
#[no_mangle]
pub unsafe extern "C" fn SSL_get_session(s: *const SSL) -> *mut SSL_SESSION {
    forward!(SSL_get_session(s));
    guard(std::ptr::null_mut(), || {
        Some(borrow(s)?.conn().session.as_ref().map_or(std::ptr::null_mut(), |x| x.as_ptr()))
    })
}

/// A macro for `SSL_get_session` in OpenSSL.
#[no_mangle]
pub unsafe extern "C" fn SSL_get0_session(s: *const SSL) -> *mut SSL_SESSION {
    forward!(SSL_get_session(s));
    SSL_get_session(s)
}

/// The connection's session with a new reference for the caller.
#[no_mangle]
pub unsafe extern "C" fn SSL_get1_session(s: *mut SSL) -> *mut SSL_SESSION {
    forward!(SSL_get1_session(s));
    guard(std::ptr::null_mut(), || {
        Some(borrow(s)?.conn().session.clone().map_or(std::ptr::null_mut(), |x| x.into_raw()))
    })
}

#[no_mangle]
pub unsafe extern "C" fn SSL_session_reused(s: *const SSL) -> c_int {
    forward!(SSL_session_reused(s));
    guard(0, || Some(borrow(s)?.conn().hit as c_int))
}

/// At most 32 bytes.
#[no_mangle]
pub unsafe extern "C" fn SSL_set_session_id_context(s: *mut SSL, sid_ctx: *const c_uchar, len: c_uint) -> c_int {
    forward!(SSL_set_session_id_context(s, sid_ctx, len));
    guard(0, || {
        let value = ShortBytes::new(bytes(sid_ctx, len as usize)?)?;
        borrow(s)?.conn().sid_ctx.assign(value.as_slice());
        Some(1)
    })
}

#[no_mangle]
pub unsafe extern "C" fn SSL_set_connect_state(s: *mut SSL) {
    forward!(SSL_set_connect_state(s));
    guard_void(|| {
        let mut c = borrow(s)?.conn();
        c.role = Role::Client;
        c.shutdown_sent = false;
        Some(())
    })
}

#[no_mangle]
pub unsafe extern "C" fn SSL_set_accept_state(s: *mut SSL) {
    forward!(SSL_set_accept_state(s));
    guard_void(|| {
        let mut c = borrow(s)?.conn();
        c.role = Role::Server;
        c.shutdown_sent = false;
        Some(())
    })
}

/// 1 if the context caches a session under this id for the connection's current version.
#[no_mangle]
pub unsafe extern "C" fn SSL_has_matching_session_id(s: *const SSL, id: *const c_uchar, id_len: c_uint) -> c_int {
    preload!(SSL_has_matching_session_id(s, id, id_len), 0, |rt| crate::preload::ctx::has_matching_session_id(
        rt, s, id, id_len
    ));
    guard(0, || {
        let ssl = borrow(s)?;
        let version = ssl.conn().version;
        let key = SessionKey::new(version, bytes(id, id_len as usize)?)?;
        Some(ssl.ctx.cache.contains(&key) as c_int)
    })
}
