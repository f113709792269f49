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

use std::time::Duration;

use redis::{ConnectionLike, RedisResult};

use super::keys::Keys;
use super::ring::{reconcile, redis_name, Keyring, Ring, RingRejected, Step};

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
