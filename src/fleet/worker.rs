//! One process's fleet: its origin, counters, mirror and breaker, and its three threads,
//! started by the first find or publish in that process (a forked child starts its own; its
//! parent's `Process` is never dropped there):
//!
//! - the publisher takes sessions off a bounded queue (full: dropped and counted), seals
//!   them and sends `SET <name> <blob> EXAT <expires_at>` and `PUBLISH <prefix>sessions
//!   <message>` in one pipeline per batch; a removal is `DEL` of its names and a PUBLISH;
//! - the subscriber listens on `<prefix>sessions` (reconnecting with backoff), skips its own
//!   origin, opens each blob and fills the mirror or applies the removal;
//! - the lookup worker answers finds that missed the mirror (`GET`), on a bounded channel: the
//!   handshake waits at most the budget, a late answer still fills the mirror. While the
//!   breaker is open it probes Redis with PING every RETRY_MS.
//!
//! Message on the channel: kind (b'S' a session, b'R' a removal) | origin (8 random bytes of
//! the sending process) | name length (u8) | name | sealed blob.
//!
//! The threads run with every signal blocked, never call user code, and stop (at their next
//! poll) once their `Process` is stopped; nothing ever joins them.

#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::client::{self, Conn};
use super::counters::{add, bump, read, Counters, FleetCounters};
use super::seal::Rejected;
use super::{now, Breaker, Mirror, Shared};
use crate::engine::SessionKey;

/// Requests the lookup worker may have waiting; more count as timeouts at once.
pub const LOOKUP_QUEUE: usize = 256;
/// Sessions sent in one pipeline.
const BATCH: usize = 64;
/// How long a removal's tombstone lasts where the session's own expiry is not known: a
/// process that still holds the session drops it when it is looked up within this time.
pub const TOMBSTONE_SECS: i64 = 24 * 3600;
/// Tombstones the mirror keeps (the oldest go first).
pub const TOMBSTONE_CAP: usize = 65536;
/// Reconnection backoff: from this, doubling up to RETRY_MS.
const FIRST_BACKOFF: Duration = Duration::from_millis(25);
/// How often an idle thread looks at its stop flag.
const POLL: Duration = Duration::from_millis(100);
/// Attempts at one batch before it is dropped (and counted).
const SEND_ATTEMPTS: u32 = 3;
/// Seconds between two log lines of one kind.
const LOG_EVERY_SECS: u64 = 10;

pub const STORE: u8 = b'S';
pub const REMOVAL: u8 = b'R';

enum Outgoing {
    Store { key: SessionKey, der: Vec<u8>, expires_at: i64 },
    Removal { key: SessionKey, until: i64 },
}

type Answer = Result<Option<Vec<u8>>, ()>;

/// A thread's work.
type Body = Box<dyn FnOnce() + Send>;

struct Lookup {
    key: SessionKey,
    now: i64,
    /// None: nobody waits (a zero budget); the answer only fills the mirror.
    reply: Option<SyncSender<Answer>>,
}

/// What log lines are about; each kind is rate limited on its own.
#[derive(Clone, Copy)]
enum Topic {
    Publish = 0,
    Subscribe,
    Lookup,
    Rejected,
    Dropped,
    Breaker,
}
const TOPICS: usize = 6;

/// This process's fleet: what its threads and the handshakes share.
pub struct Process {
    pub pid: u32,
    origin: [u8; 8],
    shared: Arc<Shared>,
    counters: Counters,
    mirror: Mirror,
    breaker: Breaker,
    publish_queue: SyncSender<Outgoing>,
    lookup_queue: SyncSender<Lookup>,
    /// Sessions queued or in the publisher's hands.
    pending: AtomicUsize,
    /// Some removal reached the mirror: until then `forgotten` needs no lock.
    removals: AtomicBool,
    /// The publisher's last connection attempt failed: draining at exit would only wait.
    publisher_down: AtomicBool,
    stopped: AtomicBool,
    logged_at: [AtomicU64; TOPICS],
}

impl Process {
    /// This process's state and threads. An error (no thread could be made) leaves the tier
    /// off in this process.
    pub fn start(shared: Arc<Shared>) -> Result<Arc<Process>, String> {
        let (publish_queue, publish_rx) = sync_channel(shared.config.queue);
        let (lookup_queue, lookup_rx) = sync_channel(LOOKUP_QUEUE);
        let process = Arc::new(Process {
            pid: std::process::id(),
            origin: origin(),
            mirror: Mirror::new(shared.config.memory, TOMBSTONE_CAP),
            breaker: Breaker::new(shared.config.breaker),
            shared,
            counters: Counters::default(),
            publish_queue,
            lookup_queue,
            pending: AtomicUsize::new(0),
            removals: AtomicBool::new(false),
            publisher_down: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
            logged_at: Default::default(),
        });
        let spawn = |name: &str, body: Body| {
            crate::abi::boundary::with_signals_blocked(|| {
                std::thread::Builder::new().name(name.into()).spawn(move || {
                    // A panic ends this thread only; it is said once.
                    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).is_err() {
                        eprintln!("sesscache: fleet: a worker thread failed; the tier degrades to memory only");
                    }
                })
            })
        };
        let threads: [(&str, Body); 3] = [
            (
                "sesscache-fleet-pub",
                Box::new({
                    let p = process.clone();
                    move || p.publisher(publish_rx)
                }),
            ),
            (
                "sesscache-fleet-sub",
                Box::new({
                    let p = process.clone();
                    move || p.subscriber()
                }),
            ),
            (
                "sesscache-fleet-get",
                Box::new({
                    let p = process.clone();
                    move || p.lookup_worker(lookup_rx)
                }),
            ),
        ];
        for (name, body) in threads {
            if let Err(e) = spawn(name, body) {
                process.stop();
                return Err(format!("cannot start thread {name}: {e}"));
            }
        }
        Ok(process)
    }

    /// The threads end at their next poll.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
    }

    fn stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    pub fn counters(&self) -> FleetCounters {
        let c = &self.counters;
        let mirror = self.mirror.stats();
        FleetCounters {
            published: read(&c.published),
            publish_dropped: read(&c.publish_dropped),
            received: read(&c.received),
            rejected: read(&c.rejected),
            mirror_hits: read(&c.mirror_hits),
            remote_lookups: read(&c.remote_lookups),
            remote_hits: read(&c.remote_hits),
            remote_timeouts: read(&c.remote_timeouts),
            remote_errors: read(&c.remote_errors),
            breaker_trips: self.breaker.trips(),
            forgotten: read(&c.forgotten),
            removals_received: read(&c.removals_received),
            mirror_entries: mirror.entries as u64,
            mirror_bytes: mirror.bytes as u64,
            mirror_evicted: mirror.evicted,
        }
    }

    /// At most one line per topic every LOG_EVERY_SECS.
    fn log(&self, topic: Topic, line: impl FnOnce() -> String) {
        let now = now().max(0) as u64;
        let last = &self.logged_at[topic as usize];
        let before = last.load(Ordering::Relaxed);
        if (before == 0 || now >= before + LOG_EVERY_SECS)
            && last.compare_exchange(before, now.max(1), Ordering::Relaxed, Ordering::Relaxed).is_ok()
        {
            eprintln!("sesscache: fleet: {}", line());
        }
    }

    // ---- the handshake's side: memory, or a wait of at most the budget ----

    pub fn find(&self, key: &SessionKey, now: i64) -> Option<Vec<u8>> {
        if self.mirror.forgotten(key, now) {
            return None;
        }
        if let Some(der) = self.mirror.get(key, now) {
            bump(&self.counters.mirror_hits);
            return Some(der);
        }
        if self.breaker.is_open() {
            return None;
        }
        bump(&self.counters.remote_lookups);
        let budget = self.shared.config.budget;
        if budget.is_zero() {
            let _ = self.lookup_queue.try_send(Lookup { key: *key, now, reply: None });
            return None;
        }
        let (reply, answer) = sync_channel(1);
        if self.lookup_queue.try_send(Lookup { key: *key, now, reply: Some(reply) }).is_err() {
            bump(&self.counters.remote_timeouts);
            self.lookup_failed();
            return None;
        }
        match answer.recv_timeout(budget) {
            Ok(Ok(found)) => {
                self.breaker.success();
                if found.is_some() {
                    bump(&self.counters.remote_hits);
                }
                found
            }
            Ok(Err(())) | Err(RecvTimeoutError::Disconnected) => {
                bump(&self.counters.remote_errors);
                self.lookup_failed();
                None
            }
            Err(RecvTimeoutError::Timeout) => {
                bump(&self.counters.remote_timeouts);
                self.lookup_failed();
                None
            }
        }
    }

    fn lookup_failed(&self) {
        if self.breaker.failure() {
            let c = &self.shared.config;
            self.log(Topic::Breaker, || {
                format!(
                    "{} consecutive lookups failed or took longer than {} us: the breaker is open, finds answer \
                     from memory only; probing {} every {} ms",
                    c.breaker,
                    c.budget.as_micros(),
                    self.shared.target.describe(),
                    c.retry.as_millis()
                )
            });
        }
    }

    /// Whether `key` was removed by some process: memory only, and no lock before the first
    /// removal (it is asked at every local hit).
    pub fn forgotten(&self, key: &SessionKey) -> bool {
        self.removals.load(Ordering::Relaxed) && self.mirror.forgotten(key, now())
    }

    fn tombstone(&self, key: &SessionKey, now: i64, until: i64) {
        self.removals.store(true, Ordering::Relaxed);
        self.mirror.remove(key, now, until);
    }

    pub fn publish(&self, key: &SessionKey, der: Vec<u8>, expires_at: i64) {
        self.enqueue(Outgoing::Store { key: *key, der, expires_at });
    }

    pub fn forget(&self, key: &SessionKey, now: i64) {
        let until = now + TOMBSTONE_SECS;
        self.tombstone(key, now, until);
        self.enqueue(Outgoing::Removal { key: *key, until });
    }

    fn enqueue(&self, item: Outgoing) {
        self.pending.fetch_add(1, Ordering::Relaxed);
        if self.publish_queue.try_send(item).is_err() {
            self.pending.fetch_sub(1, Ordering::Relaxed);
            bump(&self.counters.publish_dropped);
            self.log(Topic::Dropped, || {
                format!(
                    "the publish queue is full ({} sessions): dropping (SESSCACHE_FLEET_QUEUE)",
                    self.shared.config.queue
                )
            });
        }
    }

    /// Waits, at most `within`, until what was queued is sent; not at all when the publisher
    /// cannot reach Redis.
    pub fn drain(&self, within: Duration) {
        let deadline = Instant::now() + within;
        while self.pending.load(Ordering::Relaxed) > 0 && !self.publisher_down.load(Ordering::Relaxed) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            std::thread::sleep(left.min(Duration::from_millis(1)));
        }
    }

    // ---- the publisher ----

    fn publisher(&self, queue: Receiver<Outgoing>) {
        let mut conn: Option<Conn> = None;
        let mut backoff = FIRST_BACKOFF;
        let mut batch = Vec::with_capacity(BATCH);
        while !self.stopped() {
            match queue.recv_timeout(POLL) {
                Ok(first) => batch.push(first),
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return,
            }
            while batch.len() < BATCH {
                match queue.try_recv() {
                    Ok(item) => batch.push(item),
                    Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                }
            }
            let taken = batch.len();
            self.send(&mut batch, &mut conn, &mut backoff);
            self.pending.fetch_sub(taken, Ordering::Relaxed);
        }
    }

    /// One batch, sealed and sent in one pipeline; tried SEND_ATTEMPTS times on connection
    /// errors (with backoff), then dropped and counted.
    fn send(&self, batch: &mut Vec<Outgoing>, conn: &mut Option<Conn>, backoff: &mut Duration) {
        let config = &self.shared.config;
        let keys = &self.shared.keys;
        let channel = config.channel();
        let now = now();
        let mut commands = Vec::with_capacity(batch.len() * 2);
        let (mut stores, mut removals) = (0u64, 0u64);
        for item in batch.drain(..) {
            match item {
                Outgoing::Store { key, der, expires_at } => {
                    if expires_at <= now {
                        continue;
                    }
                    let name = keys.name(0, &config.prefix, &key);
                    let blob = match keys.seal(&name, &key, expires_at, &der) {
                        Ok(blob) => blob,
                        Err(why) => {
                            bump(&self.counters.publish_dropped);
                            self.log(Topic::Dropped, || format!("a session of {} bytes not shared: {why}", der.len()));
                            continue;
                        }
                    };
                    commands.push(client::set_command(&name, &blob, expires_at));
                    commands.push(client::publish_command(&channel, &message(STORE, &self.origin, &name, &blob)));
                    stores += 1;
                }
                Outgoing::Removal { key, until } => {
                    for which in 0..keys.len() {
                        commands.push(client::del_command(&keys.name(which, &config.prefix, &key)));
                    }
                    let name = keys.name(0, &config.prefix, &key);
                    let Ok(blob) = keys.seal(&name, &key, until, &[]) else {
                        bump(&self.counters.publish_dropped);
                        self.log(Topic::Dropped, || "a removal not shared: no random bytes for a nonce".to_string());
                        continue;
                    };
                    commands.push(client::publish_command(&channel, &message(REMOVAL, &self.origin, &name, &blob)));
                    removals += 1;
                }
            }
        }
        if commands.is_empty() {
            return;
        }
        for attempt in 1..=SEND_ATTEMPTS {
            if self.stopped() {
                break;
            }
            if conn.is_none() {
                match self.shared.target.connect() {
                    Ok(c) => {
                        *conn = Some(c);
                        self.publisher_down.store(false, Ordering::Relaxed);
                        *backoff = FIRST_BACKOFF;
                    }
                    Err(e) => {
                        self.publisher_down.store(true, Ordering::Relaxed);
                        self.log(Topic::Publish, || {
                            format!("cannot connect to {} to publish: {e}", self.shared.target.describe())
                        });
                        if attempt < SEND_ATTEMPTS {
                            self.pause(backoff);
                        }
                        continue;
                    }
                }
            }
            let Some(c) = conn.as_mut() else { continue };
            match c.run(&commands) {
                Ok(()) => {
                    add(&self.counters.published, stores);
                    add(&self.counters.forgotten, removals);
                    return;
                }
                Err(e) => {
                    *conn = None;
                    self.log(Topic::Publish, || format!("publishing to {} failed: {e}", self.shared.target.describe()));
                    // Redis said no (out of memory, read-only replica): another try says no again.
                    if !(e.is_io_error() || e.is_timeout() || e.is_connection_dropped()) {
                        break;
                    }
                    if attempt < SEND_ATTEMPTS {
                        self.pause(backoff);
                    }
                }
            }
        }
        add(&self.counters.publish_dropped, stores + removals);
    }

    /// Sleeps `backoff` (looking at the stop flag), then doubles it up to RETRY_MS.
    fn pause(&self, backoff: &mut Duration) {
        let until = Instant::now() + *backoff;
        while !self.stopped() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            std::thread::sleep(left.min(POLL));
        }
        *backoff = (*backoff * 2).min(self.shared.config.retry.max(FIRST_BACKOFF));
    }

    // ---- the subscriber ----

    fn subscriber(&self) {
        let channel = self.shared.config.channel();
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 0usize;
        while !self.stopped() {
            let mut con = match self.shared.target.subscriber(attempt) {
                Ok(con) => con,
                Err(e) => {
                    self.log(Topic::Subscribe, || {
                        format!("cannot connect to {} to subscribe: {e}", self.shared.target.describe())
                    });
                    attempt = attempt.wrapping_add(1);
                    self.pause(&mut backoff);
                    continue;
                }
            };
            let mut pubsub = con.as_pubsub();
            if let Err(e) = pubsub.subscribe(&channel) {
                self.log(Topic::Subscribe, || format!("cannot subscribe to {channel}: {e}"));
                drop(pubsub);
                attempt = attempt.wrapping_add(1);
                self.pause(&mut backoff);
                continue;
            }
            backoff = FIRST_BACKOFF;
            while !self.stopped() {
                match pubsub.get_message() {
                    Ok(msg) => self.receive(msg.get_payload_bytes(), now()),
                    Err(e) if e.is_timeout() => {}
                    Err(e) => {
                        self.log(Topic::Subscribe, || format!("the subscription to {channel} ended: {e}"));
                        break;
                    }
                }
            }
        }
    }

    /// One message from the channel.
    pub fn receive(&self, payload: &[u8], now: i64) {
        let Some((kind, origin, name, blob)) = parse_message(payload) else {
            bump(&self.counters.rejected);
            self.log(Topic::Rejected, || {
                format!("a malformed message of {} bytes on the channel: dropped", payload.len())
            });
            return;
        };
        if origin == self.origin {
            return;
        }
        let opened = match self.shared.keys.open(name, blob) {
            Ok(opened) => opened,
            Err(why) => {
                self.rejected(why, "a message on the channel");
                return;
            }
        };
        match kind {
            STORE if !opened.der.is_empty() => {
                if opened.expires_at > now && !self.mirror.forgotten(&opened.key, now) {
                    self.mirror.insert(opened.key, opened.der, opened.expires_at, now);
                    bump(&self.counters.received);
                }
            }
            REMOVAL if opened.der.is_empty() => {
                self.tombstone(&opened.key, now, opened.expires_at.max(now));
                bump(&self.counters.removals_received);
            }
            _ => {
                bump(&self.counters.rejected);
                self.log(Topic::Rejected, || "a message whose kind does not match its blob: dropped".to_string());
            }
        }
    }

    fn rejected(&self, why: Rejected, what: &str) {
        bump(&self.counters.rejected);
        self.log(Topic::Rejected, || format!("{what} did not open ({why}): dropped, never resumed"));
    }

    // ---- the lookup worker ----

    fn lookup_worker(&self, queue: Receiver<Lookup>) {
        // Connected before the first request where possible: a process whose first handshake
        // was a full one (it started the tier by publishing) has it ready for its first lookup.
        let mut conn: Option<Conn> = self.shared.target.connect().ok();
        let mut next_probe: Option<Instant> = None;
        let retry = self.shared.config.retry;
        while !self.stopped() {
            let wait = match next_probe {
                Some(at) => at.saturating_duration_since(Instant::now()).min(POLL),
                None => POLL,
            };
            match queue.recv_timeout(wait) {
                Ok(request) => self.look_up(request, &mut conn),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            if !self.breaker.is_open() {
                next_probe = None;
                continue;
            }
            let at = *next_probe.get_or_insert_with(|| Instant::now() + retry);
            if Instant::now() >= at {
                if self.probe(&mut conn) {
                    self.breaker.close();
                    self.log(Topic::Breaker, || {
                        format!("{} answers again: the breaker is closed", self.shared.target.describe())
                    });
                    next_probe = None;
                } else {
                    next_probe = Some(Instant::now() + retry);
                }
            }
        }
    }

    fn look_up(&self, request: Lookup, conn: &mut Option<Conn>) {
        let answer = self.fetch(&request.key, request.now, conn);
        if let Some(reply) = request.reply {
            // The caller may have given up: the mirror has the answer anyway.
            let _ = reply.try_send(answer);
        }
    }

    /// GET the session under each key's name (the first key first), open it and keep it in
    /// the mirror.
    fn fetch(&self, key: &SessionKey, now: i64, conn: &mut Option<Conn>) -> Answer {
        if let Some(der) = self.mirror.get(key, now) {
            return Ok(Some(der));
        }
        let config = &self.shared.config;
        let keys = &self.shared.keys;
        let names: Vec<String> = (0..keys.len()).map(|which| keys.name(which, &config.prefix, key)).collect();
        let c = match conn {
            Some(c) => c,
            None => match self.shared.target.connect() {
                Ok(c) => conn.insert(c),
                Err(e) => {
                    self.log(Topic::Lookup, || {
                        format!("cannot connect to {} for lookups: {e}", self.shared.target.describe())
                    });
                    return Err(());
                }
            },
        };
        let found = match c.get_first(&names) {
            Ok(found) => found,
            Err(e) => {
                // After a timeout the connection's replies may be out of step: a new one.
                *conn = None;
                self.log(Topic::Lookup, || format!("a lookup in {} failed: {e}", self.shared.target.describe()));
                return Err(());
            }
        };
        let Some((which, blob)) = found else { return Ok(None) };
        match keys.open(&names[which], &blob) {
            Ok(opened) if opened.key == *key && !opened.der.is_empty() => {
                if opened.expires_at <= now || self.mirror.forgotten(key, now) {
                    return Ok(None);
                }
                self.mirror.insert(*key, opened.der.clone(), opened.expires_at, now);
                Ok(Some(opened.der))
            }
            Ok(_) => {
                bump(&self.counters.rejected);
                self.log(Topic::Rejected, || "a blob in Redis sealed for another session: dropped".to_string());
                Ok(None)
            }
            Err(why) => {
                self.rejected(why, "a blob in Redis");
                Ok(None)
            }
        }
    }

    /// PING, answered within the budget (any time when the budget is zero), on a connection
    /// that is up: a slow Redis keeps the breaker open.
    fn probe(&self, conn: &mut Option<Conn>) -> bool {
        if conn.is_none() {
            match self.shared.target.connect() {
                Ok(c) => *conn = Some(c),
                Err(_) => return false,
            }
        }
        let Some(c) = conn.as_mut() else { return false };
        let started = Instant::now();
        match c.ping() {
            Ok(()) => {
                let budget = self.shared.config.budget;
                budget.is_zero() || started.elapsed() <= budget
            }
            Err(_) => {
                *conn = None;
                false
            }
        }
    }
}

/// 8 bytes that tell this process's messages from every other's.
fn origin() -> [u8; 8] {
    let mut origin = [0u8; 8];
    if getrandom::fill(&mut origin).is_err() {
        // Distinct is all that matters here, not secret.
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        origin = (t.as_nanos() as u64 ^ u64::from(std::process::id()) << 40).to_be_bytes();
    }
    origin
}

/// A channel message: kind | origin | name length | name | blob.
pub fn message(kind: u8, origin: &[u8; 8], name: &str, blob: &[u8]) -> Vec<u8> {
    let name = &name.as_bytes()[..name.len().min(255)];
    let mut m = Vec::with_capacity(10 + name.len() + blob.len());
    m.push(kind);
    m.extend_from_slice(origin);
    m.push(name.len() as u8);
    m.extend_from_slice(name);
    m.extend_from_slice(blob);
    m
}

/// (kind, origin, name, blob) of a channel message, or None when it is not one.
pub fn parse_message(m: &[u8]) -> Option<(u8, [u8; 8], &str, &[u8])> {
    let (&kind, rest) = m.split_first()?;
    if kind != STORE && kind != REMOVAL || rest.len() < 9 {
        return None;
    }
    let origin: [u8; 8] = rest[..8].try_into().ok()?;
    let len = usize::from(rest[8]);
    let rest = &rest[9..];
    if rest.len() < len {
        return None;
    }
    let name = std::str::from_utf8(&rest[..len]).ok()?;
    Some((kind, origin, name, &rest[len..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_and_garbage_is_refused() {
        let m = message(STORE, b"12345678", "sesscache:ab", b"blob");
        assert_eq!(parse_message(&m), Some((STORE, *b"12345678", "sesscache:ab", &b"blob"[..])));
        let r = message(REMOVAL, b"12345678", "n", b"");
        assert_eq!(parse_message(&r), Some((REMOVAL, *b"12345678", "n", &b""[..])));
        assert_eq!(parse_message(b""), None);
        assert_eq!(parse_message(b"X12345678\x00"), None);
        assert_eq!(parse_message(b"S1234567"), None);
        assert_eq!(parse_message(b"S12345678\x05abc"), None);
        assert_eq!(parse_message(b"S12345678\x02\xff\xfe"), None);
    }
}
