//! `SSL`: a connection as far as the session cache sees it: its context, role, negotiated
//! version, id context and session, and where it stands in its handshakes.

use std::ffi::{c_int, c_uchar, c_uint};
use std::sync::Arc;

use parking_lot::{Mutex, MutexGuard};

use super::ctx::Ctx;
use super::session::SessionRef;
use crate::abi::boundary::{borrow, box_from_c, box_to_c, to_c};
use crate::abi::*;
use crate::codec::session::ShortBytes;
use crate::engine::{Role, SessionKey};

pub struct Conn {
    /// Keeps the context's memory; the connection also holds one C reference to it.
    pub(crate) ctx: Arc<Ctx>,
    conn: Mutex<Connection>,
}

// SAFETY: every `SSL *` the native front hands out comes from `box_to_c` in `new`.
unsafe impl Castable for SSL {
    type Native = Conn;
    type Ownership = OwnedByBox;
}

/// What a handshake changes on a connection, under the connection's lock.
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

impl Conn {
    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock()
    }
    pub(crate) fn as_ptr(&self) -> *mut SSL {
        to_c::<SSL>(self)
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
        self.ctx.cache.remove(&session, &self.ctx.callbacks_for(self.as_ptr()));
    }
}

pub(crate) unsafe fn new(ctx: *mut SSL_CTX) -> Option<*mut SSL> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe {
        let ctx_ref = borrow(ctx)?;
        let ctx_arc = ctx_ref.weak().upgrade()?;
        // A forked child's stats socket: one relaxed load once it runs.
        crate::obs::socket::ensure_started();
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
        Some(box_to_c::<SSL>(Conn { ctx: ctx_arc, conn: Mutex::new(conn) }))
    }
}

pub(crate) unsafe fn free(s: *mut SSL) -> Option<()> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe {
        borrow(s)?.clear_bad_session();
        let ssl = box_from_c(s)?;
        let ctx = Arc::as_ptr(&ssl.ctx);
        // Taken out, then dropped once the lock is let go: its free callbacks may call in.
        let session = ssl.conn().session.take();
        drop(session);
        Ctx::release(to_c::<SSL_CTX>(&*ctx));
        drop(ssl);
        Some(())
    }
}

pub(crate) unsafe fn get_ssl_ctx(s: *const SSL) -> Option<*mut SSL_CTX> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe { Some(borrow(s)?.ctx.as_ptr()) }
}

pub(crate) unsafe fn version(s: *const SSL) -> Option<c_int> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe { Some(borrow(s)?.conn().version) }
}

pub(crate) unsafe fn set_session(s: *mut SSL, session: *mut SSL_SESSION) -> Option<c_int> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe {
        let ssl = borrow(s)?;
        let new = SessionRef::from_borrowed(session);
        ssl.clear_bad_session();
        let old = std::mem::replace(&mut ssl.conn().session, new);
        drop(old);
        Some(1)
    }
}

pub(crate) unsafe fn get_session(s: *const SSL) -> Option<*mut SSL_SESSION> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe { Some(borrow(s)?.conn().session.as_ref().map_or(std::ptr::null_mut(), |x| x.as_ptr())) }
}

pub(crate) unsafe fn get1_session(s: *mut SSL) -> Option<*mut SSL_SESSION> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe { Some(borrow(s)?.conn().session.clone().map_or(std::ptr::null_mut(), |x| x.into_raw())) }
}

pub(crate) unsafe fn session_reused(s: *const SSL) -> Option<c_int> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe { Some(borrow(s)?.conn().hit as c_int) }
}

pub(crate) unsafe fn set_session_id_context(s: *mut SSL, sid_ctx: *const c_uchar, len: c_uint) -> Option<c_int> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe {
        let value = ShortBytes::new(bytes(sid_ctx, len as usize)?)?;
        borrow(s)?.conn().sid_ctx.assign(value.as_slice());
        Some(1)
    }
}

pub(crate) unsafe fn set_connect_state(s: *mut SSL) -> Option<()> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe {
        let mut c = borrow(s)?.conn();
        c.role = Role::Client;
        c.shutdown_sent = false;
        Some(())
    }
}

pub(crate) unsafe fn set_accept_state(s: *mut SSL) -> Option<()> {
    // SAFETY: the module's contract: each handle is NULL or live, each buffer as long as given.
    unsafe {
        let mut c = borrow(s)?.conn();
        c.role = Role::Server;
        c.shutdown_sent = false;
        Some(())
    }
}

/// 1 if the context caches a session under this id for the connection's current version.
pub(crate) unsafe fn has_matching_session_id(s: *const SSL, id: *const c_uchar, id_len: c_uint) -> Option<c_int> {
    // SAFETY: the module's contract.
    let (ssl, id) = unsafe { (borrow(s)?, bytes(id, id_len as usize)) };
    let version = ssl.conn().version;
    let key = SessionKey::new(version, id?)?;
    Some(ssl.ctx.cache.contains(&key) as c_int)
}
