//! What OpenSSL's TLS 1.2 handshake does to the session cache, step by step: counting starts,
//! the server's resume lookup (internal, then external), and the store at completion with the
//! automatic flush. A TLS engine that is not OpenSSL drives these to keep every counter meaning
//! what it means in libssl.

use super::context::{Callbacks, Context, Session};
use super::{CacheMode, Counter, Role, SessionKey};

/// More of the session than the cache itself needs: what the handshake checks.
pub trait HandshakeSession: Session {
    fn is_resumable(&self) -> bool;
    /// The session id context the session was created under.
    fn sid_ctx_matches(&self, sid_ctx: &[u8]) -> bool;
}

/// The get callback, for a session not found internally. Never called under a lock.
pub trait GetCallback<H>: Callbacks<H> {
    /// The returned handle owns a reference (the front applies the callback's copy flag).
    fn external_get(&self, id: &[u8]) -> Option<H>;
}

/// User callbacks the handshake calls, never under a lock.
pub trait HandshakeCallbacks<H>: GetCallback<H> {
    /// The new-session callback, offered every session the handshake would cache.
    fn new_session(&self, session: &H);
}

/// The connection as the handshake sees it.
pub struct Peer<'a> {
    pub role: Role,
    /// The negotiated protocol version.
    pub version: i32,
    pub sid_ctx: &'a [u8],
    /// SSL_VERIFY_PEER is set.
    pub verify_peer: bool,
}

pub enum Resume<H> {
    /// Resume this session (`hits` counted).
    Hit(H),
    /// Do a full handshake.
    Miss,
    /// The handshake must fail: a session would be resumed under SSL_VERIFY_PEER with no id
    /// context to tell where it came from.
    Fatal,
}

impl<H: HandshakeSession> Context<H> {
    /// A handshake starts on a connection: `connect`/`accept`, or their renegotiate
    /// counters when the connection already finished one.
    pub fn handshake_started(&self, role: Role, renegotiation: bool) {
        self.stats.bump(match (role, renegotiation) {
            (Role::Client, false) => Counter::Connect,
            (Role::Client, true) => Counter::ConnectRenegotiate,
            (Role::Server, false) => Counter::Accept,
            (Role::Server, true) => Counter::AcceptRenegotiate,
        });
    }

    /// The server got a ClientHello offering session `id`: OpenSSL's lookup order and checks.
    pub fn resume_lookup(&self, peer: &Peer, id: &[u8], now: i64, callbacks: &impl HandshakeCallbacks<H>) -> Resume<H> {
        let Some(key) = SessionKey::new(peer.version, id) else { return Resume::Miss };
        let Some(s) = self.lookup(&key, now, callbacks) else { return Resume::Miss };
        // A session of another version, or made for another context, is treated as a miss
        // without counting one.
        if s.key().version() != peer.version || !s.sid_ctx_matches(peer.sid_ctx) {
            return Resume::Miss;
        }
        if peer.verify_peer && peer.sid_ctx.is_empty() {
            return Resume::Fatal;
        }
        if s.expiry().is_expired_at(now) {
            self.stats.bump(Counter::Timeout);
            self.remove(&s, callbacks);
            return Resume::Miss;
        }
        self.stats.bump(Counter::Hit);
        Resume::Hit(s)
    }

    /// OpenSSL's `lookup_sess_in_cache`: the cache (unless NO_INTERNAL_LOOKUP; a miss counts),
    /// then the get callback (a session no longer resumable is ignored; cb_hits counts; it is
    /// cached unless NO_INTERNAL_STORE). `key`'s id is what the peer offered.
    ///
    /// With a fleet (server caches only): a cached session the fleet forgot is removed here
    /// and missed; after an internal miss the fleet's session, if it decodes into the session
    /// asked for and is still usable at `now`, is the answer. It stays out of this cache, so
    /// `number` keeps counting this context's own sessions, and cb_hits the application's.
    pub fn lookup(&self, key: &SessionKey, now: i64, callbacks: &impl GetCallback<H>) -> Option<H> {
        if !self.mode().contains(CacheMode::NO_INTERNAL_LOOKUP) {
            match self.get(key) {
                Some(s) => match self.fleet() {
                    Some(fleet) if fleet.remote.forgotten(key) => {
                        self.remove_locally(key, &s, callbacks);
                        self.stats.bump(Counter::Miss);
                    }
                    _ => {
                        self.note_served();
                        return Some(s);
                    }
                },
                None => self.stats.bump(Counter::Miss),
            }
            if let Some(s) = self.find_shared(key, now) {
                return Some(s);
            }
        }
        let s = callbacks.external_get(key.id())?;
        if !s.is_resumable() {
            return None;
        }
        self.stats.bump(Counter::CbHit);
        if !self.mode().contains(CacheMode::NO_INTERNAL_STORE) {
            self.add(s.clone(), || now, callbacks);
        }
        Some(s)
    }

    /// The fleet's session under `key`. What comes back is only bytes: it must decode into
    /// the session asked for, resumable and not timed out (which libssl would count and remove).
    fn find_shared(&self, key: &SessionKey, now: i64) -> Option<H> {
        let fleet = self.fleet()?;
        let der = fleet.remote.find(key, now)?;
        let s = fleet.codec.decode(&der, now)?;
        (s.key() == *key && s.is_resumable() && !s.expiry().is_expired_at(now)).then_some(s)
    }

    /// A client offered a session with an id and the server chose not to resume it: the
    /// client's context counts a miss.
    pub fn client_offer_refused(&self) {
        self.stats.bump(Counter::Miss);
    }

    /// The handshake finished with `session` (resumed when `hit`): cache it per the mode, offer
    /// it to the new-session callback, count the good handshake, and every 256th good
    /// handshake flush expired sessions unless NO_AUTO_CLEAR.
    pub fn handshake_finished(
        &self,
        peer: &Peer,
        session: &H,
        hit: bool,
        now: i64,
        callbacks: &impl HandshakeCallbacks<H>,
    ) {
        let good = match peer.role {
            Role::Client => Counter::ConnectGood,
            Role::Server => Counter::AcceptGood,
        };
        // OpenSSL reads the good counter for the flush before counting this handshake, and
        // counts a client's hit after the cache update.
        self.update_cache(peer, session, hit, self.counter(good), now, callbacks);
        if hit && peer.role == Role::Client {
            self.stats.bump(Counter::Hit);
        }
        self.stats.bump(good);
    }

    /// Whether a server's new session keeps its id in the ServerHello: without the SERVER
    /// mode bit OpenSSL sends an empty id, so the session can never be resumed by id.
    pub fn server_keeps_session_id(&self) -> bool {
        self.mode().contains(CacheMode::SERVER)
    }

    fn update_cache(
        &self,
        peer: &Peer,
        session: &H,
        hit: bool,
        good_so_far: i64,
        now: i64,
        callbacks: &impl HandshakeCallbacks<H>,
    ) {
        if session.key().has_empty_id() || !session.is_resumable() {
            return;
        }
        // On a server, a session with no id context cannot be safely resumed under
        // SSL_VERIFY_PEER, so it is not cached at all.
        if peer.role == Role::Server && peer.verify_peer && session.sid_ctx_matches(&[]) {
            return;
        }
        let mode = self.mode();
        let bit = peer.role.cache_bit();
        if mode.intersects(bit) && !hit {
            if !mode.contains(CacheMode::NO_INTERNAL_STORE)
                && self.add(session.clone(), || now, callbacks)
                && peer.role == Role::Server
            {
                self.share(session);
            }
            callbacks.new_session(session);
        }
        if !mode.contains(CacheMode::NO_AUTO_CLEAR) && mode.contains(bit) && good_so_far & 0xff == 0xff {
            self.flush(now, callbacks);
        }
    }
}
