//! The ticket key ring: the keys every preloaded context of the fleet seals its session tickets
//! with, in libssl's default format (a 16-byte key name, AES-256-CBC, HMAC-SHA256).
//!
//! A ring is three keys: `previous` (still opens, and the ticket is renewed), `current` (seals
//! and opens) and `next` (opens: another process may already have rotated to it). Rotation
//! shifts them down and draws a fresh `next`, so a key seals for one period and opens for the
//! periods on either side; a ticket sealed before the ring aged its key out gets a full
//! handshake. Periods are aligned on the epoch (a ring made at `t` is current from
//! `t - t % period`), so that processes rotating on their own keep the same schedule.
//!
//! A ring's version is the number of its current period since the epoch (`since / period`), so
//! every process names the same period alike. In Redis (`<prefix>tickets`) the fleet keeps one
//! ring, sealed under the fleet key (`seal`); `reconcile` says what a process does with it: a
//! ring as new as its own replaces it (Redis decides between two rings of one period), an
//! older one or none is replaced by its own through an atomic compare-and-set, so two
//! processes racing to rotate leave one ring. Rotating locally when due is always safe: the
//! new current key is the old `next`, which every process already had; only the fresh `next`
//! differs until the processes agree, well before anything is sealed under it.
//!
//! Key bytes live only here and in the ring's Redis copy, sealed; they are zeroized on drop
//! and never printed.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use once_cell::sync::OnceCell;
use parking_lot::{Mutex, RwLock};
use zeroize::Zeroize;

use super::config::Tickets;
use super::keys::Keys;
use super::seal::{Rejected, SealError};
use crate::engine::SessionKey;

/// libssl's ticket key name length (TLSEXT_KEYNAME_LENGTH).
pub const NAME_LEN: usize = 16;
/// AES-256 and HMAC-SHA256 key lengths, as libssl's own ticket keys.
pub const KEY_LEN: usize = 32;
/// How long a lock of the keyring is waited for: a fork can leave one held by a thread that
/// the child does not have.
const LOCK_WAIT: Duration = Duration::from_millis(100);
/// How many aged-out key names are remembered, to tell an aged-out ticket from a foreign one.
const RETIRED_NAMES: usize = 16;

/// One ticket key: its name (sent in the clear in every ticket) and its two secrets.
#[derive(Clone)]
pub struct TicketKey {
    pub name: [u8; NAME_LEN],
    pub aes: [u8; KEY_LEN],
    pub hmac: [u8; KEY_LEN],
}

impl TicketKey {
    /// A new random key.
    pub fn random() -> Result<TicketKey, getrandom::Error> {
        let mut key = TicketKey { name: [0; NAME_LEN], aes: [0; KEY_LEN], hmac: [0; KEY_LEN] };
        getrandom::fill(&mut key.name)?;
        getrandom::fill(&mut key.aes)?;
        getrandom::fill(&mut key.hmac)?;
        Ok(key)
    }
}

impl Drop for TicketKey {
    fn drop(&mut self) {
        self.aes.zeroize();
        self.hmac.zeroize();
    }
}

impl std::fmt::Debug for TicketKey {
    /// The name only: it travels in the clear anyway; the secrets never print.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TicketKey").field("name", &hex(&self.name)).finish_non_exhaustive()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A ticket key's name.
pub type KeyName = [u8; NAME_LEN];

/// Which key of the ring opened a ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    Previous,
    Current,
    Next,
}

/// One version of the ring.
#[derive(Clone, Debug)]
pub struct Ring {
    /// The number of the period `current` serves (`since / period`), +1 at every rotation.
    pub version: u64,
    /// When `current` became current (seconds since the epoch, a multiple of the period).
    pub since: i64,
    pub previous: TicketKey,
    pub current: TicketKey,
    pub next: TicketKey,
}

impl Ring {
    /// A ring of three new keys, current from the start of the period `now` is in.
    pub fn fresh(now: i64, period: i64) -> Result<Ring, getrandom::Error> {
        let since = now - now.rem_euclid(period);
        Ok(Ring {
            version: (since / period).max(0) as u64,
            since,
            previous: TicketKey::random()?,
            current: TicketKey::random()?,
            next: TicketKey::random()?,
        })
    }

    /// Whether `current` has served its period at `now`.
    pub fn due(&self, now: i64, period: i64) -> bool {
        now >= self.since.saturating_add(period)
    }

    /// The ring after one rotation: next becomes current, current previous, a new next.
    pub fn rotated(&self) -> Result<Ring, getrandom::Error> {
        Ok(self.rotated_with(TicketKey::random()?))
    }

    fn rotated_with(&self, next: TicketKey) -> Ring {
        Ring {
            version: self.version + 1,
            since: self.since,
            previous: self.current.clone(),
            current: self.next.clone(),
            next,
        }
    }

    /// The ring at `now`: rotated once per period elapsed since `since` (three rotations
    /// replace every key, so never more), `since` moved by whole periods. Returns the ring and
    /// the names of the keys it dropped. Not due: None.
    pub fn catch_up(&self, now: i64, period: i64) -> Result<Option<(Ring, Vec<KeyName>)>, getrandom::Error> {
        if !self.due(now, period) {
            return Ok(None);
        }
        let periods = (now - self.since) / period;
        let mut ring = self.clone();
        let mut dropped = Vec::new();
        for _ in 0..periods.min(3) {
            dropped.push(ring.previous.name);
            ring = ring.rotated()?;
        }
        ring.version = self.version + periods as u64;
        ring.since = self.since + periods * period;
        Ok(Some((ring, dropped)))
    }

    /// Whether both rings hold the same three keys.
    pub fn same_keys(&self, other: &Ring) -> bool {
        let secrets = |r: &Ring| [&r.previous, &r.current, &r.next].map(|k| (k.name, k.aes, k.hmac));
        secrets(self) == secrets(other)
    }

    /// The key named `name`, and which of the three it is.
    pub fn find(&self, name: &[u8]) -> Option<(&TicketKey, Slot)> {
        [(&self.current, Slot::Current), (&self.previous, Slot::Previous), (&self.next, Slot::Next)]
            .into_iter()
            .find(|(key, _)| key.name[..] == *name)
    }
}

/// What the ring has done in this process (`counters`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TicketCounters {
    /// The ring's version now (0: no ring yet).
    pub ring_version: u64,
    /// Rotations this process made or picked up.
    pub rotations: u64,
    /// Rings taken from the fleet (Redis) in place of this process's own.
    pub fetched: u64,
    /// Rings of this process's that became the fleet's (stored in Redis).
    pub published: u64,
    /// Rings in Redis this process could not open (tampered, another fleet key, garbage).
    pub ring_rejected: u64,
    /// Tickets sealed under `current`.
    pub issued: u64,
    /// Tickets opened with `current` or `next`.
    pub opened: u64,
    /// Tickets opened with `previous` (renewed).
    pub opened_previous: u64,
    /// Tickets under a key the ring aged out: full handshake.
    pub refused_aged_out: u64,
    /// Tickets under a key this process never had (another fleet, garbage): full handshake.
    pub refused_unknown: u64,
    /// Rotations that could not draw a key (the ring stays as it was).
    pub rotation_failures: u64,
}

/// The process's ring, rotated locally when due.
/// The ring's counts, this process's own: a forked child starts from zero rather than carry
/// its parent's (which the parent reports itself), checked where each count is read or
/// added to.
struct Counts {
    rotations: AtomicU64,
    fetched: AtomicU64,
    published: AtomicU64,
    ring_rejected: AtomicU64,
    issued: AtomicU64,
    opened: AtomicU64,
    opened_previous: AtomicU64,
    refused_aged_out: AtomicU64,
    refused_unknown: AtomicU64,
    rotation_failures: AtomicU64,
    /// `abi::boundary::forks()` when these counts were last this process's.
    forks: AtomicU64,
}

impl Counts {
    fn new() -> Counts {
        Counts {
            rotations: AtomicU64::new(0),
            fetched: AtomicU64::new(0),
            published: AtomicU64::new(0),
            ring_rejected: AtomicU64::new(0),
            issued: AtomicU64::new(0),
            opened: AtomicU64::new(0),
            opened_previous: AtomicU64::new(0),
            refused_aged_out: AtomicU64::new(0),
            refused_unknown: AtomicU64::new(0),
            rotation_failures: AtomicU64::new(0),
            forks: AtomicU64::new(crate::abi::boundary::forks()),
        }
    }

    /// The counts, zeroed first if the process forked since they were last used.
    fn current(&self) -> &Counts {
        let forks = crate::abi::boundary::forks();
        let seen = self.forks.load(Ordering::Relaxed);
        if seen != forks && self.forks.compare_exchange(seen, forks, Ordering::Relaxed, Ordering::Relaxed).is_ok() {
            for c in [
                &self.rotations,
                &self.fetched,
                &self.published,
                &self.ring_rejected,
                &self.issued,
                &self.opened,
                &self.opened_previous,
                &self.refused_aged_out,
                &self.refused_unknown,
                &self.rotation_failures,
            ] {
                c.store(0, Ordering::Relaxed);
            }
        }
        self
    }
}

pub struct Keyring {
    period: i64,
    /// Whether `previous` still opens (`config::Tickets::previous`).
    accept_previous: bool,
    ring: RwLock<Arc<Ring>>,
    /// The ring used where `ring`'s lock cannot be had (`stuck`).
    stuck: OnceCell<Arc<Ring>>,
    /// Names of keys the ring dropped, newest last.
    retired: Mutex<VecDeque<[u8; NAME_LEN]>>,
    counts: Counts,
}

impl Keyring {
    /// A keyring with a fresh ring at `now`.
    pub fn new(now: i64, period: i64) -> Result<Keyring, getrandom::Error> {
        let period = period.max(1);
        Ok(Keyring {
            period,
            accept_previous: true,
            ring: RwLock::new(Arc::new(Ring::fresh(now, period)?)),
            stuck: OnceCell::new(),
            retired: Mutex::new(VecDeque::new()),
            counts: Counts::new(),
        })
    }

    pub fn period(&self) -> i64 {
        self.period
    }

    /// This keyring with `previous` opening tickets or not.
    pub fn accepting_previous(self, accept: bool) -> Keyring {
        Keyring { accept_previous: accept, ..self }
    }

    /// The key of `ring` that opens a ticket named `name`, and which it is; counted. None (a
    /// full handshake): a name the ring does not hold, or `previous` where it is not accepted,
    /// both counted as refused.
    pub fn opener<'r>(&self, ring: &'r Ring, name: &[u8]) -> Option<(&'r TicketKey, Slot)> {
        match ring.find(name) {
            Some((_, Slot::Previous)) if !self.accept_previous => {
                self.counts.current().refused_aged_out.fetch_add(1, Ordering::Relaxed);
                None
            }
            Some((key, slot)) => {
                self.note_opened(slot);
                Some((key, slot))
            }
            None => {
                self.note_refused(name);
                None
            }
        }
    }

    /// The ring at `now`, rotated first if its period is over. A rotation that cannot draw a
    /// key keeps the ring (and is counted): tickets keep working under the older key.
    pub fn ring(&self, now: i64) -> Arc<Ring> {
        let Some(ring) = self.ring.try_read_for(LOCK_WAIT).map(|r| Arc::clone(&r)) else {
            return self.stuck(now);
        };
        if !ring.due(now, self.period) {
            return ring;
        }
        let Some(mut slot) = self.ring.try_write_for(LOCK_WAIT) else {
            return self.stuck(now);
        };
        match slot.catch_up(now, self.period) {
            Ok(Some((rotated, dropped))) => {
                self.counts.current().rotations.fetch_add(rotated.version - slot.version, Ordering::Relaxed);
                self.retire(dropped);
                *slot = Arc::new(rotated);
            }
            Ok(None) => {}
            Err(_) => {
                self.counts.current().rotation_failures.fetch_add(1, Ordering::Relaxed);
            }
        }
        Arc::clone(&slot)
    }

    /// Takes the fleet's ring (from Redis) if it is newer than ours, or of the same period but
    /// other keys: between two rings of one period, the one Redis kept wins.
    pub fn adopt(&self, ring: Ring) -> bool {
        let Some(mut slot) = self.ring.try_write_for(LOCK_WAIT) else { return false };
        if ring.version < slot.version || (ring.version == slot.version && ring.same_keys(&slot)) {
            return false;
        }
        let kept = [&ring.previous.name, &ring.current.name, &ring.next.name];
        let dropped = [slot.previous.name, slot.current.name, slot.next.name]
            .into_iter()
            .filter(|name| !kept.contains(&name))
            .collect();
        self.counts.current().rotations.fetch_add(ring.version - slot.version, Ordering::Relaxed);
        self.retire(dropped);
        *slot = Arc::new(ring);
        self.counts.current().fetched.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// The ring of a process whose ring lock is held by a thread it does not have (forked at
    /// that moment): one of its own, never rotated, said once. Its tickets open here only.
    #[cold]
    fn stuck(&self, now: i64) -> Arc<Ring> {
        Arc::clone(self.stuck.get_or_init(|| {
            eprintln!(
                "sesscache: fleet: the ticket key ring was locked when this process was forked; using keys of its own"
            );
            Arc::new(Ring::fresh(now, self.period).expect("random bytes for a ticket key ring"))
        }))
    }

    fn retire(&self, names: Vec<[u8; NAME_LEN]>) {
        let Some(mut retired) = self.retired.try_lock_for(LOCK_WAIT) else { return };
        for name in names {
            if retired.len() == RETIRED_NAMES {
                retired.pop_front();
            }
            retired.push_back(name);
        }
    }

    /// This process's ring was stored in Redis.
    pub fn note_published(&self) {
        self.counts.current().published.fetch_add(1, Ordering::Relaxed);
    }

    /// Redis held a ring this process could not open.
    pub fn note_ring_rejected(&self) {
        self.counts.current().ring_rejected.fetch_add(1, Ordering::Relaxed);
    }

    /// A ticket was sealed under the current key.
    pub fn note_issued(&self) {
        self.counts.current().issued.fetch_add(1, Ordering::Relaxed);
    }

    /// A ticket opened with the ring's key in `slot`.
    pub fn note_opened(&self, slot: Slot) {
        let counts = self.counts.current();
        match slot {
            Slot::Previous => &counts.opened_previous,
            Slot::Current | Slot::Next => &counts.opened,
        }
        .fetch_add(1, Ordering::Relaxed);
    }

    /// A ticket under a name the ring does not hold: counted as aged out if the ring once held
    /// it, as unknown otherwise.
    pub fn note_refused(&self, name: &[u8]) {
        let aged_out = self.retired.try_lock_for(LOCK_WAIT).is_some_and(|r| r.iter().any(|n| n[..] == *name));
        let counts = self.counts.current();
        if aged_out { &counts.refused_aged_out } else { &counts.refused_unknown }.fetch_add(1, Ordering::Relaxed);
    }

    pub fn counters(&self) -> TicketCounters {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let counts = self.counts.current();
        TicketCounters {
            ring_version: self.ring.try_read_for(LOCK_WAIT).map_or(0, |r| r.version),
            rotations: load(&counts.rotations),
            fetched: load(&counts.fetched),
            published: load(&counts.published),
            ring_rejected: load(&counts.ring_rejected),
            issued: load(&counts.issued),
            opened: load(&counts.opened),
            opened_previous: load(&counts.opened_previous),
            refused_aged_out: load(&counts.refused_aged_out),
            refused_unknown: load(&counts.refused_unknown),
            rotation_failures: load(&counts.rotation_failures),
        }
    }
}

// ---- the ring in Redis ----

/// The ring's bytes before sealing: magic, version, since, period, then previous, current and
/// next as name, AES key, HMAC key.
const RING_MAGIC: &[u8; 4] = b"SCT1";
const KEY_BYTES: usize = NAME_LEN + 2 * KEY_LEN;
pub const RING_BYTES: usize = RING_MAGIC.len() + 3 * 8 + 3 * KEY_BYTES;
/// What the sealed envelope carries where a session's key would be: a version no TLS session
/// has and a fixed id, checked on opening (the Redis name is bound in too).
const RING_SEAL_VERSION: i32 = 0x5449_434b; // "TICK"
const RING_SEAL_ID: &[u8] = b"sesscache ticket key ring";

/// The Redis key of the fleet's ring.
pub fn redis_name(prefix: &str) -> String {
    format!("{prefix}tickets")
}

/// Why a ring from Redis was not taken.
#[derive(Debug, PartialEq, Eq)]
pub enum RingRejected {
    /// The envelope did not open (`seal::Rejected`'s reason).
    Sealed(Rejected),
    /// It opened, but holds a session or another layout.
    Malformed,
    /// Another rotation period: the fleet's processes disagree on SESSCACHE_FLEET_TICKET_ROTATE.
    Period { theirs: i64, ours: i64 },
}

impl std::fmt::Display for RingRejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RingRejected::Sealed(why) => write!(f, "the ticket key ring in Redis does not open ({why})"),
            RingRejected::Malformed => write!(f, "the ticket key ring in Redis is not one"),
            RingRejected::Period { theirs, ours } => write!(
                f,
                "the ticket key ring in Redis rotates every {theirs} s, this process every {ours} s (SESSCACHE_FLEET_TICKET_ROTATE must be the same fleet-wide)"
            ),
        }
    }
}

impl Ring {
    fn encode(&self, period: i64) -> Vec<u8> {
        let mut out = Vec::with_capacity(RING_BYTES);
        out.extend_from_slice(RING_MAGIC);
        out.extend_from_slice(&self.version.to_be_bytes());
        out.extend_from_slice(&self.since.to_be_bytes());
        out.extend_from_slice(&period.to_be_bytes());
        for key in [&self.previous, &self.current, &self.next] {
            out.extend_from_slice(&key.name);
            out.extend_from_slice(&key.aes);
            out.extend_from_slice(&key.hmac);
        }
        out
    }

    fn decode(bytes: &[u8], period: i64) -> Result<Ring, RingRejected> {
        if bytes.len() != RING_BYTES || bytes[..4] != RING_MAGIC[..] {
            return Err(RingRejected::Malformed);
        }
        let word = |i: usize| <[u8; 8]>::try_from(&bytes[4 + 8 * i..12 + 8 * i]).expect("8 bytes");
        let (version, since, theirs) =
            (u64::from_be_bytes(word(0)), i64::from_be_bytes(word(1)), i64::from_be_bytes(word(2)));
        if theirs != period {
            return Err(RingRejected::Period { theirs, ours: period });
        }
        if since < 0 || since.checked_rem(period) != Some(0) || since / period != version as i64 {
            return Err(RingRejected::Malformed);
        }
        let key = |i: usize| {
            let at = &bytes[28 + i * KEY_BYTES..28 + (i + 1) * KEY_BYTES];
            TicketKey {
                name: at[..NAME_LEN].try_into().expect("16 bytes"),
                aes: at[NAME_LEN..NAME_LEN + KEY_LEN].try_into().expect("32 bytes"),
                hmac: at[NAME_LEN + KEY_LEN..].try_into().expect("32 bytes"),
            }
        };
        Ok(Ring { version, since, previous: key(0), current: key(1), next: key(2) })
    }

    /// The ring sealed under the fleet key for the Redis name `name`, valid until its newest
    /// key ages out.
    pub fn seal(&self, keys: &Keys, name: &str, period: i64) -> Result<Vec<u8>, SealError> {
        let marker = SessionKey::new(RING_SEAL_VERSION, RING_SEAL_ID).expect("a short id");
        let mut plain = self.encode(period);
        let sealed = keys.seal(name, &marker, self.since.saturating_add(3 * period), &plain);
        plain.zeroize();
        sealed
    }

    /// The ring sealed in `blob`, read from the Redis name `name`.
    pub fn open(keys: &Keys, name: &str, blob: &[u8], period: i64) -> Result<Ring, RingRejected> {
        let mut opened = keys.open(name, blob).map_err(RingRejected::Sealed)?;
        let ring = if opened.key.version() == RING_SEAL_VERSION && opened.key.id() == RING_SEAL_ID {
            Ring::decode(&opened.der, period)
        } else {
            Err(RingRejected::Malformed)
        };
        opened.der.zeroize();
        ring
    }
}

/// What a process does with its ring (`local`) and the fleet's (`remote`, None when Redis has
/// none).
#[derive(Debug)]
pub enum Step {
    /// Take the fleet's ring (boxed: key material is moved once, not copied around).
    Adopt(Box<Ring>),
    /// Offer ours with a compare-and-set that succeeds only where Redis holds an older one.
    Propose,
    /// They are the same.
    Nothing,
}

pub fn reconcile(local: &Ring, remote: Option<Ring>) -> Step {
    match remote {
        None => Step::Propose,
        Some(remote) if remote.version < local.version => Step::Propose,
        Some(remote) if remote.version == local.version && remote.same_keys(local) => Step::Nothing,
        Some(remote) => Step::Adopt(Box::new(remote)),
    }
}

static PROCESS: OnceCell<Option<Keyring>> = OnceCell::new();

impl TicketCounters {
    /// Every count with its name, in the order the report shows them.
    pub fn fields(&self) -> [(&'static str, u64); 11] {
        [
            ("ring_version", self.ring_version),
            ("rotations", self.rotations),
            ("rings_fetched", self.fetched),
            ("rings_published", self.published),
            ("rings_rejected", self.ring_rejected),
            ("issued", self.issued),
            ("opened", self.opened),
            ("opened_previous", self.opened_previous),
            ("refused_aged_out", self.refused_aged_out),
            ("refused_unknown", self.refused_unknown),
            ("rotation_failures", self.rotation_failures),
        ]
    }

    /// The counts as JSON members (no braces), in `fields` order.
    pub fn json_members(&self) -> String {
        super::counters::json_members(&self.fields())
    }
}

/// The process's keyring, made at the first call with the fleet's settings (`config::Tickets`,
/// parsed with the fleet's other knobs); None when no random bytes could be drawn (one line on
/// stderr; libssl's own keys stay in use). A forked child keeps its parent's ring, so workers
/// forked by one master share it.
pub fn process(now: i64, settings: &Tickets) -> Option<&'static Keyring> {
    PROCESS
        .get_or_init(|| match Keyring::new(now, settings.rotate_secs) {
            Ok(keyring) => Some(keyring.accepting_previous(settings.previous)),
            Err(e) => {
                eprintln!("sesscache: fleet: no random bytes for ticket keys ({e}); libssl's own keys stay in use");
                None
            }
        })
        .as_ref()
}

/// The process's ticket counters, once it has a ring (a forked child keeps its parent's ring
/// but counts from zero).
pub fn counters_if_started() -> Option<TicketCounters> {
    PROCESS.get().and_then(Option::as_ref).map(Keyring::counters)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(ring: &Ring) -> [[u8; NAME_LEN]; 3] {
        [ring.previous.name, ring.current.name, ring.next.name]
    }

    #[test]
    fn fresh_rings_are_random_and_aligned_on_the_period() {
        let a = Ring::fresh(7_205, 3600).unwrap();
        let b = Ring::fresh(7_205, 3600).unwrap();
        assert_eq!(a.since, 7_200);
        assert_eq!(a.version, 2);
        assert_ne!(a.current.name, b.current.name);
        assert_ne!(a.current.aes, b.current.aes);
        assert_ne!(a.current.aes, a.current.hmac);
        let n = names(&a);
        assert!(n[0] != n[1] && n[1] != n[2] && n[0] != n[2]);
    }

    #[test]
    fn rotation_shifts_the_keys_and_draws_a_new_next() {
        let ring = Ring::fresh(0, 10).unwrap();
        let (rotated, dropped) = ring.catch_up(10, 10).unwrap().unwrap();
        assert_eq!(rotated.version, 1);
        assert_eq!(rotated.since, 10);
        assert_eq!(rotated.previous.name, ring.current.name);
        assert_eq!(rotated.current.name, ring.next.name);
        assert!(!names(&ring).contains(&rotated.next.name));
        assert_eq!(dropped, vec![ring.previous.name]);
        assert!(ring.catch_up(9, 10).unwrap().is_none());
    }

    #[test]
    fn catching_up_many_periods_replaces_every_key_once_and_keeps_the_schedule() {
        let ring = Ring::fresh(0, 10).unwrap();
        let (rotated, dropped) = ring.catch_up(105, 10).unwrap().unwrap();
        assert_eq!(rotated.version, 10);
        assert_eq!(rotated.since, 100);
        assert_eq!(dropped.len(), 3);
        for name in names(&ring) {
            assert!(rotated.find(&name).is_none());
        }
    }

    #[test]
    fn find_tells_which_key_opens() {
        let ring = Ring::fresh(0, 10).unwrap();
        assert_eq!(ring.find(&ring.previous.name).unwrap().1, Slot::Previous);
        assert_eq!(ring.find(&ring.current.name).unwrap().1, Slot::Current);
        assert_eq!(ring.find(&ring.next.name).unwrap().1, Slot::Next);
        assert!(ring.find(&[0u8; NAME_LEN]).is_none());
        assert!(ring.find(&ring.current.name[..15]).is_none());
    }

    #[test]
    fn a_key_opens_for_one_rotation_then_ages_out() {
        let keyring = Keyring::new(0, 10).unwrap();
        let sealed_under = keyring.ring(5).current.name;
        // One rotation: the key is previous and still opens.
        let ring = keyring.ring(10);
        assert_eq!(ring.find(&sealed_under).unwrap().1, Slot::Previous);
        keyring.note_opened(Slot::Previous);
        // Two: aged out, and counted as such (a name never seen is unknown).
        let ring = keyring.ring(20);
        assert!(ring.find(&sealed_under).is_none());
        keyring.note_refused(&sealed_under);
        keyring.note_refused(&[7u8; NAME_LEN]);
        let c = keyring.counters();
        assert_eq!((c.ring_version, c.rotations), (2, 2));
        assert_eq!((c.opened_previous, c.refused_aged_out, c.refused_unknown), (1, 1, 1));
    }

    #[test]
    fn the_previous_key_opens_only_where_accepted() {
        for accept in [true, false] {
            let keyring = Keyring::new(0, 10).unwrap().accepting_previous(accept);
            let sealed_under = keyring.ring(0).current.name;
            let ring = keyring.ring(10);
            assert_eq!(keyring.opener(&ring, &sealed_under).map(|(_, slot)| slot), accept.then_some(Slot::Previous));
            assert_eq!(keyring.opener(&ring, &ring.current.name).map(|(_, slot)| slot), Some(Slot::Current));
            let c = keyring.counters();
            assert_eq!((c.opened_previous, c.refused_aged_out, c.opened), (u64::from(accept), u64::from(!accept), 1));
        }
    }

    #[test]
    fn a_newer_ring_from_elsewhere_replaces_ours_and_an_older_one_does_not() {
        let keyring = Keyring::new(0, 10).unwrap();
        let ours = keyring.ring(0);
        let theirs = ours.rotated().unwrap();
        assert!(keyring.adopt(theirs.clone()));
        assert_eq!(keyring.ring(0).current.name, theirs.current.name);
        assert!(!keyring.adopt((*ours).clone()));
        assert!(!keyring.adopt(theirs.clone()), "the same ring again changes nothing");
        keyring.note_refused(&ours.previous.name);
        assert_eq!(keyring.counters().refused_aged_out, 1);
        assert_eq!((keyring.counters().rotations, keyring.counters().fetched), (1, 1));
        // Two rings of one period: the fleet's replaces ours.
        let same_period = Ring { next: TicketKey::random().unwrap(), ..theirs.clone() };
        assert!(keyring.adopt(same_period.clone()));
        assert!(keyring.ring(0).same_keys(&same_period));
        assert_eq!(keyring.counters().rotations, 1);
    }

    const FLEET_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    const OTHER_KEY: &str = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

    #[test]
    fn a_sealed_ring_opens_under_the_fleet_key_only_and_holds_no_key_in_the_clear() {
        let keys = Keys::parse(FLEET_KEY).unwrap();
        let ring = Ring::fresh(36_000, 3600).unwrap();
        let name = redis_name("sesscache:");
        let blob = ring.seal(&keys, &name, 3600).unwrap();
        assert!(Ring::open(&keys, &name, &blob, 3600).unwrap().same_keys(&ring));
        for secret in [&ring.previous, &ring.current, &ring.next].iter().flat_map(|k| [&k.aes[..], &k.hmac[..]]) {
            assert!(!blob.windows(secret.len()).any(|w| w == secret));
        }
        let other = Keys::parse(OTHER_KEY).unwrap();
        assert_eq!(Ring::open(&other, &name, &blob, 3600).unwrap_err(), RingRejected::Sealed(Rejected::UnknownKey));
        assert_eq!(
            Ring::open(&keys, "elsewhere:tickets", &blob, 3600).unwrap_err(),
            RingRejected::Sealed(Rejected::Forged)
        );
        let mut tampered = blob.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(Ring::open(&keys, &name, &tampered, 3600).unwrap_err(), RingRejected::Sealed(Rejected::Forged));
        assert!(matches!(Ring::open(&keys, &name, &blob[..10], 3600), Err(RingRejected::Sealed(_))));
        assert_eq!(Ring::open(&keys, &name, &blob, 60).unwrap_err(), RingRejected::Period { theirs: 3600, ours: 60 });
    }

    #[test]
    fn a_session_blob_under_the_rings_name_is_not_a_ring() {
        let keys = Keys::parse(FLEET_KEY).unwrap();
        let name = redis_name("sesscache:");
        let session = SessionKey::new(0x0304, &[1; 32]).unwrap();
        let blob = keys.seal(&name, &session, 1 << 40, &[0x30; RING_BYTES]).unwrap();
        assert_eq!(Ring::open(&keys, &name, &blob, 3600).unwrap_err(), RingRejected::Malformed);
        // The marker with the wrong layout, or an inconsistent version.
        let marker = SessionKey::new(RING_SEAL_VERSION, RING_SEAL_ID).unwrap();
        let short = keys.seal(&name, &marker, 1 << 40, &[0; 10]).unwrap();
        assert_eq!(Ring::open(&keys, &name, &short, 3600).unwrap_err(), RingRejected::Malformed);
        let mut ring = Ring::fresh(36_000, 3600).unwrap();
        ring.version += 1;
        let lying = ring.seal(&keys, &name, 3600).unwrap();
        assert_eq!(Ring::open(&keys, &name, &lying, 3600).unwrap_err(), RingRejected::Malformed);
    }

    #[test]
    fn reconcile_keeps_one_ring_per_period_the_one_redis_holds() {
        let ours = Ring::fresh(36_000, 3600).unwrap();
        assert!(matches!(reconcile(&ours, None), Step::Propose));
        let older = Ring::fresh(32_400, 3600).unwrap();
        assert!(matches!(reconcile(&ours, Some(older)), Step::Propose));
        assert!(matches!(reconcile(&ours, Some(ours.clone())), Step::Nothing));
        let same_period = Ring { next: TicketKey::random().unwrap(), ..ours.clone() };
        assert!(matches!(reconcile(&ours, Some(same_period)), Step::Adopt(_)));
        let newer = ours.rotated().unwrap();
        assert!(matches!(reconcile(&ours, Some(newer)), Step::Adopt(r) if r.version == ours.version + 1));
    }

    #[test]
    fn a_ring_lock_held_by_a_thread_that_is_gone_costs_a_bounded_wait_then_a_ring_of_its_own() {
        let keyring = Keyring::new(0, 10).unwrap();
        let shared = keyring.ring(0);
        let held = keyring.ring.write();
        let stuck = keyring.ring(0);
        assert!(!stuck.same_keys(&shared));
        assert!(keyring.ring(0).same_keys(&stuck), "the same ring of its own every time");
        assert!(!keyring.adopt(shared.rotated().unwrap()));
        drop(held);
        assert!(keyring.ring(0).same_keys(&shared));
    }

    #[test]
    fn debug_never_prints_a_secret() {
        let key = TicketKey::random().unwrap();
        let shown = format!("{key:?}");
        assert!(shown.contains(&hex(&key.name)));
        assert!(!shown.contains(&hex(&key.aes)) && !shown.contains(&hex(&key.hmac)));
        assert!(!format!("{:?}", Ring::fresh(0, 1).unwrap()).contains(&hex(&key.aes)));
    }
}
