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
//! Key bytes live only here and in the ring's Redis copy, sealed (`fleet::seal`); they are
//! zeroized on drop and never printed.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use once_cell::sync::OnceCell;
use parking_lot::{Mutex, RwLock};
use zeroize::Zeroize;

/// libssl's ticket key name length (TLSEXT_KEYNAME_LENGTH).
pub const NAME_LEN: usize = 16;
/// AES-256 and HMAC-SHA256 key lengths, as libssl's own ticket keys.
pub const KEY_LEN: usize = 32;
/// Rotation period when SESSCACHE_FLEET_TICKET_ROTATE is unset: an hour.
pub const DEFAULT_ROTATE_SECS: i64 = 3600;
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
    /// 1 for a ring drawn from nothing, +1 at every rotation.
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
        Ok(Ring {
            version: 1,
            since: now - now.rem_euclid(period),
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
pub struct Keyring {
    period: i64,
    ring: RwLock<Arc<Ring>>,
    /// Names of keys the ring dropped, newest last.
    retired: Mutex<VecDeque<[u8; NAME_LEN]>>,
    rotations: AtomicU64,
    issued: AtomicU64,
    opened: AtomicU64,
    opened_previous: AtomicU64,
    refused_aged_out: AtomicU64,
    refused_unknown: AtomicU64,
    rotation_failures: AtomicU64,
}

impl Keyring {
    /// A keyring with a fresh ring at `now`.
    pub fn new(now: i64, period: i64) -> Result<Keyring, getrandom::Error> {
        let period = period.max(1);
        Ok(Keyring {
            period,
            ring: RwLock::new(Arc::new(Ring::fresh(now, period)?)),
            retired: Mutex::new(VecDeque::new()),
            rotations: AtomicU64::new(0),
            issued: AtomicU64::new(0),
            opened: AtomicU64::new(0),
            opened_previous: AtomicU64::new(0),
            refused_aged_out: AtomicU64::new(0),
            refused_unknown: AtomicU64::new(0),
            rotation_failures: AtomicU64::new(0),
        })
    }

    pub fn period(&self) -> i64 {
        self.period
    }

    /// The ring at `now`, rotated first if its period is over. A rotation that cannot draw a
    /// key keeps the ring (and is counted): tickets keep working under the older key.
    pub fn ring(&self, now: i64) -> Arc<Ring> {
        let ring = Arc::clone(&self.ring.read());
        if !ring.due(now, self.period) {
            return ring;
        }
        let mut slot = self.ring.write();
        match slot.catch_up(now, self.period) {
            Ok(Some((rotated, dropped))) => {
                self.rotations.fetch_add(rotated.version - slot.version, Ordering::Relaxed);
                self.retire(dropped);
                *slot = Arc::new(rotated);
            }
            Ok(None) => {}
            Err(_) => {
                self.rotation_failures.fetch_add(1, Ordering::Relaxed);
            }
        }
        Arc::clone(&slot)
    }

    /// Takes a ring that another process made (from Redis) if it is newer than ours.
    pub fn adopt(&self, ring: Ring) -> bool {
        let mut slot = self.ring.write();
        if ring.version <= slot.version {
            return false;
        }
        let kept = [&ring.previous.name, &ring.current.name, &ring.next.name];
        let dropped = [slot.previous.name, slot.current.name, slot.next.name]
            .into_iter()
            .filter(|name| !kept.contains(&name))
            .collect();
        self.rotations.fetch_add(ring.version - slot.version, Ordering::Relaxed);
        self.retire(dropped);
        *slot = Arc::new(ring);
        true
    }

    fn retire(&self, names: Vec<[u8; NAME_LEN]>) {
        let mut retired = self.retired.lock();
        for name in names {
            if retired.len() == RETIRED_NAMES {
                retired.pop_front();
            }
            retired.push_back(name);
        }
    }

    /// A ticket was sealed under the current key.
    pub fn note_issued(&self) {
        self.issued.fetch_add(1, Ordering::Relaxed);
    }

    /// A ticket opened with the ring's key in `slot`.
    pub fn note_opened(&self, slot: Slot) {
        match slot {
            Slot::Previous => &self.opened_previous,
            Slot::Current | Slot::Next => &self.opened,
        }
        .fetch_add(1, Ordering::Relaxed);
    }

    /// A ticket under a name the ring does not hold: counted as aged out if the ring once held
    /// it, as unknown otherwise.
    pub fn note_refused(&self, name: &[u8]) {
        let aged_out = self.retired.lock().iter().any(|n| n[..] == *name);
        if aged_out { &self.refused_aged_out } else { &self.refused_unknown }.fetch_add(1, Ordering::Relaxed);
    }

    pub fn counters(&self) -> TicketCounters {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        TicketCounters {
            ring_version: self.ring.read().version,
            rotations: load(&self.rotations),
            issued: load(&self.issued),
            opened: load(&self.opened),
            opened_previous: load(&self.opened_previous),
            refused_aged_out: load(&self.refused_aged_out),
            refused_unknown: load(&self.refused_unknown),
            rotation_failures: load(&self.rotation_failures),
        }
    }
}

/// SESSCACHE_FLEET_TICKET_ROTATE: seconds between rotations, a positive integer (default an
/// hour). Anything else: the default, and one line on stderr.
pub fn rotate_period_from_env() -> i64 {
    let Some(value) = std::env::var_os("SESSCACHE_FLEET_TICKET_ROTATE") else {
        return DEFAULT_ROTATE_SECS;
    };
    match value.to_str().and_then(|v| v.trim().parse::<i64>().ok()).filter(|&p| p > 0) {
        Some(period) => period,
        None => {
            eprintln!(
                "sesscache: fleet: SESSCACHE_FLEET_TICKET_ROTATE={:?} is not a positive number of seconds; rotating every {DEFAULT_ROTATE_SECS} s",
                value
            );
            DEFAULT_ROTATE_SECS
        }
    }
}

static PROCESS: OnceCell<Option<Keyring>> = OnceCell::new();

/// The process's keyring, made at the first call with the configured period; None when no
/// random bytes could be drawn (one line on stderr; libssl's own keys stay in use). A forked
/// child keeps its parent's ring, so workers forked by one master share it.
pub fn process(now: i64) -> Option<&'static Keyring> {
    PROCESS
        .get_or_init(|| match Keyring::new(now, rotate_period_from_env()) {
            Ok(keyring) => Some(keyring),
            Err(e) => {
                eprintln!("sesscache: fleet: no random bytes for ticket keys ({e}); libssl's own keys stay in use");
                None
            }
        })
        .as_ref()
}

/// The process's ticket counters; all zero before the first ring.
pub fn counters() -> TicketCounters {
    PROCESS.get().and_then(Option::as_ref).map(Keyring::counters).unwrap_or_default()
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
        assert_eq!(a.version, 1);
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
        assert_eq!(rotated.version, 2);
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
        assert_eq!(rotated.version, 11);
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
        assert_eq!((c.ring_version, c.rotations), (3, 2));
        assert_eq!((c.opened_previous, c.refused_aged_out, c.refused_unknown), (1, 1, 1));
    }

    #[test]
    fn a_newer_ring_from_elsewhere_replaces_ours_and_an_older_one_does_not() {
        let keyring = Keyring::new(0, 10).unwrap();
        let ours = keyring.ring(0);
        let theirs = ours.rotated().unwrap();
        assert!(keyring.adopt(theirs.clone()));
        assert_eq!(keyring.ring(0).current.name, theirs.current.name);
        assert!(!keyring.adopt((*ours).clone()));
        keyring.note_refused(&ours.previous.name);
        assert_eq!(keyring.counters().refused_aged_out, 1);
        assert_eq!(keyring.counters().rotations, 1);
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
