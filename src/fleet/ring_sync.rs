//! The ticket key ring in Redis: one round of `sync_once` makes this process's ring and the
//! fleet's agree (`ring::reconcile`). A process's thread runs it every `POLL`, so a rotation
//! made anywhere reaches every process within about that; the handshake never waits on it.
//!
//! Redis holds a hash `<prefix>tickets` with `v` (the ring's version, readable by the script)
//! and `ring` (the sealed ring, whose own version is the authenticated one). A ring is
//! offered with `CAS`, a script that stores it only over an older version, so of two processes
//! that rotate at once one ring is kept and the other process adopts it at its next round.
//! Redis unreachable: the ring keeps rotating locally (`Keyring::ring`), and the next round that
//! reaches Redis reconciles.

#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use redis::{ConnectionLike, RedisResult};

use super::client::Conn;
use super::config::Tickets;
use super::keys::Keys;
use super::ring::{self, reconcile, redis_name, Keyring, Ring, RingRejected, Step};

/// How often a process compares its ring with the fleet's.
pub const POLL: Duration = Duration::from_secs(1);

/// Stores the ring (ARGV[2]) with its version (ARGV[1]) and expiry (ARGV[3], seconds since the
/// epoch) unless the hash holds this version or a newer one. 1: stored, 0: not.
const CAS: &str = r"
local v = tonumber(redis.call('HGET', KEYS[1], 'v'))
if v ~= nil and v >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'ring', ARGV[2])
redis.call('EXPIREAT', KEYS[1], ARGV[3])
return 1
";

/// What one round did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The fleet's ring and ours are the same.
    Same,
    /// The fleet's ring replaced ours.
    Adopted,
    /// Ours is now the fleet's.
    Published,
    /// Ours was offered, but another process's got there first (taken at the next round).
    Lost,
    /// What Redis holds is not a ring this process can open (counted; ours is offered over it).
    Rejected(RingRejected),
}

/// One round against Redis for `keyring`, at `now`, under the fleet key `keys`. A rejected ring
/// is treated as none: ours is offered in its place.
pub fn sync_once(
    con: &mut dyn ConnectionLike,
    keyring: &Keyring,
    keys: &Keys,
    prefix: &str,
    now: i64,
) -> RedisResult<Outcome> {
    let name = redis_name(prefix);
    let period = keyring.period();
    let local = keyring.ring(now);
    let stored: Option<Vec<u8>> = redis::cmd("HGET").arg(&name).arg("ring").query(con)?;
    let mut rejected = None;
    let remote = match stored.map(|blob| Ring::open(keys, &name, &blob, period)) {
        None => None,
        Some(Ok(ring)) => Some(ring),
        Some(Err(why)) => {
            keyring.note_ring_rejected();
            rejected = Some(why);
            None
        }
    };
    let outcome = match reconcile(&local, remote) {
        Step::Nothing => Outcome::Same,
        Step::Adopt(ring) => {
            keyring.adopt(*ring);
            Outcome::Adopted
        }
        Step::Propose => {
            let Ok(blob) = local.seal(keys, &name, period) else {
                // No random nonce: nothing is offered this round.
                return Ok(Outcome::Lost);
            };
            let expires_at = local.since.saturating_add(3 * period);
            let stored: i64 = redis::cmd("EVAL")
                .arg(CAS)
                .arg(1)
                .arg(&name)
                .arg(local.version)
                .arg(blob)
                .arg(expires_at)
                .query(con)?;
            if stored == 1 {
                keyring.note_published();
                Outcome::Published
            } else {
                Outcome::Lost
            }
        }
    };
    Ok(rejected.map_or(outcome, Outcome::Rejected))
}

/// Where the ring lives: the fleet key, the prefix of its Redis names and a way to connect.
pub trait RingHome: Send + Sync {
    fn keys(&self) -> &Keys;
    fn prefix(&self) -> &str;
    /// A connection with the fleet's connect and command timeouts.
    fn connect(&self) -> RedisResult<Box<dyn ConnectionLike + Send>>;
}

/// The fleet's own: its key file's keys, its prefix, its Redis (one server or a cluster).
impl RingHome for super::Shared {
    fn keys(&self) -> &Keys {
        &self.keys
    }
    fn prefix(&self) -> &str {
        &self.config.prefix
    }
    fn connect(&self) -> RedisResult<Box<dyn ConnectionLike + Send>> {
        Ok(match self.target.connect()? {
            Conn::Single(c) => Box::new(c),
            Conn::Cluster(c) => c,
        })
    }
}

/// Seconds since the epoch.
fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// Seconds between two log lines.
const LOG_EVERY_SECS: i64 = 60;

/// One thread's rounds: connect (again after any error), `sync_once` every `POLL`, until
/// `stop`. Errors are said on stderr at most once a minute, with no key or ring byte.
pub fn run(home: &dyn RingHome, keyring: &Keyring, stop: &AtomicBool) {
    let mut con: Option<Box<dyn ConnectionLike + Send>> = None;
    let logged_at = AtomicU64::new(0);
    let say = |what: &str| {
        let t = now();
        if t - logged_at.load(Ordering::Relaxed) as i64 >= LOG_EVERY_SECS {
            logged_at.store(t as u64, Ordering::Relaxed);
            eprintln!("sesscache: fleet: ticket key ring: {what}");
        }
    };
    while !stop.load(Ordering::Relaxed) {
        if con.is_none() {
            match home.connect() {
                Ok(c) => con = Some(c),
                Err(e) => say(&format!("Redis unreachable ({e}); rotating locally")),
            }
        }
        if let Some(c) = con.as_mut() {
            match sync_once(c.as_mut(), keyring, home.keys(), home.prefix(), now()) {
                Ok(Outcome::Rejected(why)) => say(&why.to_string()),
                Ok(_) => {}
                Err(e) => {
                    say(&format!("Redis failed ({e}); rotating locally"));
                    con = None;
                }
            }
        }
        std::thread::sleep(POLL);
    }
}

/// A ring thread started by `spawn`; stopping it ends the thread at its next round.
pub struct Syncer {
    stop: Arc<AtomicBool>,
}

impl Syncer {
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// A thread running `run` for `keyring`, with every signal blocked; never joined.
pub fn spawn(home: Arc<dyn RingHome>, keyring: &'static Keyring) -> std::io::Result<Syncer> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    crate::abi::boundary::with_signals_blocked(|| {
        std::thread::Builder::new().name("sesscache-fleet-ring".into()).spawn(move || {
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(home.as_ref(), keyring, &flag))).is_err() {
                eprintln!("sesscache: fleet: the ticket key ring's thread failed; rotating locally");
            }
        })
    })?;
    Ok(Syncer { stop })
}

/// The process whose ring thread runs (0: none yet); a forked child differs and starts its own.
static RUNNING_IN: AtomicU32 = AtomicU32::new(0);
/// The process that made its first round at a context's creation (0: none yet).
static FETCHED_IN: AtomicU32 = AtomicU32::new(0);

/// The process's keyring (made with `settings` at the first call). `first` (at a context's creation, never in a handshake): one round,
/// once per process, on this thread, bounded by the connection's timeouts, so that the process
/// seals under the fleet's ring from its first ticket on; no thread yet, so a master that only
/// makes contexts and forks its workers never runs one. Otherwise (a ticket is being sealed or
/// opened): the ring thread starts, once in each process that handles tickets. A ring a round
/// older than the fleet's still agrees with it on the current key (the fleet's next becomes
/// everyone's current), and the thread's first round follows at once.
pub fn keyring(home: Option<Arc<dyn RingHome>>, settings: &Tickets, first: bool) -> Option<&'static Keyring> {
    let keyring = ring::process(now(), settings)?;
    let pid = std::process::id();
    let Some(home) = home else { return Some(keyring) };
    if first {
        if RUNNING_IN.load(Ordering::Relaxed) != pid && FETCHED_IN.swap(pid, Ordering::AcqRel) != pid {
            if let Ok(mut con) = home.connect() {
                let _ = sync_once(con.as_mut(), keyring, home.keys(), home.prefix(), now());
            }
        }
        return Some(keyring);
    }
    if RUNNING_IN.load(Ordering::Relaxed) == pid || RUNNING_IN.swap(pid, Ordering::AcqRel) == pid {
        return Some(keyring);
    }
    if let Err(e) = spawn(home, keyring) {
        eprintln!("sesscache: fleet: no thread for the ticket key ring ({e}); rotating locally");
    }
    Some(keyring)
}
