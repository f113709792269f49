//! The fleet tier: sessions shared through Redis by every process that points at it, sealed
//! under the fleet key. Off unless configured (SESSCACHE_FLEET, or `configure` before the
//! first context; the knobs are in `config`). It implements the engine's `Remote`; the network
//! is touched only by its own threads (`worker`), started by the first find or publish in the
//! process that makes it, so a daemon that forks its workers after loading the library gets
//! one set per worker (a child never uses, drops or joins what its parent started).
//!
//! - `config`: the settings and their parsing; `client`: connections to one Redis or a
//!   Redis Cluster, with timeouts; `worker`: one process's state and threads; `breaker`: the
//!   lookup path's circuit breaker; `counters`: the tier's counts.
//! - `keys` and `seal`: the key file, Redis names and the sealing of blobs; `mirror`: other
//!   processes' sessions kept in memory, bounded.

#![forbid(unsafe_code)]

pub mod breaker;
pub mod client;
pub mod config;
pub mod counters;
pub mod keys;
pub mod memory;
pub mod mirror;
pub mod ring;
pub mod ring_sync;
pub mod seal;
pub mod worker;

use std::cell::RefCell;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use once_cell::sync::OnceCell;
use parking_lot::RwLock;

use crate::engine::{Remote, SessionKey};
pub use breaker::Breaker;
pub use config::{Config, Subscribe, Tickets};
pub use counters::FleetCounters;
pub use keys::Keys;
pub use mirror::Mirror;
use worker::Process;

/// What every process of one `Fleet` shares: its settings, keys and where Redis is.
pub struct Shared {
    pub config: Config,
    pub keys: Keys,
    pub target: client::Target,
}

/// A fleet: the process's (`remote()`), or one a test makes. Its threads start at the first
/// find, publish or forget in each process.
pub struct Fleet {
    /// Tells fleets apart in the threads' caches (an address can be reused).
    id: u64,
    shared: Arc<Shared>,
    /// The state of the process that started it last, with the fork count it started at;
    /// another count's is a parent's.
    process: RwLock<Option<(u64, Arc<Process>)>>,
    /// The fork count of a process whose start failed (it stays off, said once); 0: none.
    failed_at: AtomicU64,
}

/// How long a caller waits for the state's lock: a fork can leave it held by a thread that
/// does not exist in the child, where the tier then stays off rather than hang.
const STATE_LOCK_WAIT: Duration = Duration::from_millis(100);

static FLEET_IDS: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The last fleet this thread used: its id, the fork count and its state. A local hit
    /// asks `forgotten` each time, so the shared lock and the Arc's count stay untouched.
    static CURRENT: RefCell<Option<(u64, u64, Arc<Process>)>> = const { RefCell::new(None) };
}

impl Fleet {
    /// A fleet for `config` with `keys`; nothing connects or starts yet.
    pub fn new(config: Config, keys: Keys) -> Result<Fleet, String> {
        let target = client::Target::new(&config.servers)?;
        Ok(Fleet {
            id: FLEET_IDS.fetch_add(1, Ordering::Relaxed),
            shared: Arc::new(Shared { config, keys, target }),
            process: RwLock::new(None),
            failed_at: AtomicU64::new(0),
        })
    }

    /// A fleet for `config`, its keys read from the key file (warnings said on stderr).
    pub fn from_config(config: Config) -> Result<Fleet, String> {
        let (keys, warnings) = Keys::load(&config.key_file)?;
        for w in warnings {
            eprintln!("sesscache: fleet: {w}");
        }
        Fleet::new(config, keys)
    }

    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// `f` on this process's state: from the thread's cache, else the shared slot; started
    /// first when `start` is set and this process has none. None: not started (or off here).
    #[inline]
    fn with_process<R>(&self, start: bool, f: impl FnOnce(&Process) -> R) -> Option<R> {
        let forks = crate::abi::boundary::forks();
        let mut f = Some(f);
        let cached = CURRENT.try_with(|c| match c.try_borrow().as_deref() {
            Ok(Some((id, at, p))) if *id == self.id && *at == forks => f.take().map(|f| f(p)),
            _ => None,
        });
        if let Ok(Some(r)) = cached {
            return Some(r);
        }
        let f = f?;
        let p = self.shared_process(forks).or_else(|| if start { self.start(forks) } else { None })?;
        let _ = CURRENT.try_with(|c| {
            if let Ok(mut c) = c.try_borrow_mut() {
                // A parent's state, copied into this child with the thread: never dropped here.
                if let Some((_, at, old)) = c.replace((self.id, forks, p.clone())) {
                    if at != forks {
                        std::mem::forget(old);
                    }
                }
            }
        });
        Some(f(&p))
    }

    fn shared_process(&self, forks: u64) -> Option<Arc<Process>> {
        let state = self.process.try_read().or_else(|| self.process.try_read_for(STATE_LOCK_WAIT))?;
        state.as_ref().filter(|(at, _)| *at == forks).map(|(_, p)| p.clone())
    }

    #[cold]
    fn start(&self, forks: u64) -> Option<Arc<Process>> {
        if self.failed_at.load(Ordering::Relaxed) == forks + 1 {
            return None;
        }
        let Some(mut state) = self.process.try_write_for(STATE_LOCK_WAIT) else {
            self.failed_at.store(forks + 1, Ordering::Relaxed);
            eprintln!("sesscache: fleet: the fleet's state was locked when this process was forked; off here");
            return None;
        };
        if let Some((_, p)) = state.as_ref().filter(|(at, _)| *at == forks) {
            return Some(p.clone());
        }
        match Process::start(self.shared.clone()) {
            Ok(p) => {
                // A parent's state: its locks and channels may be held by threads this
                // process does not have, so it is never dropped here.
                if let Some(parents) = state.replace((forks, p.clone())) {
                    std::mem::forget(parents);
                }
                Some(p)
            }
            Err(e) => {
                self.failed_at.store(forks + 1, Ordering::Relaxed);
                eprintln!("sesscache: fleet: {e}; the tier is off in this process");
                None
            }
        }
    }

    /// This process's counts (zeros before its first find or publish).
    pub fn counters(&self) -> FleetCounters {
        self.with_process(false, |p| p.counters()).unwrap_or_default()
    }

    /// Whether the tier started in this process.
    pub fn started(&self) -> bool {
        self.with_process(false, |_| ()).is_some()
    }

    /// Waits at most `within` for this process's queued sessions to reach Redis.
    pub fn drain(&self, within: Duration) {
        self.with_process(false, |p| p.drain(within));
    }

    /// One channel message, taken as the subscriber takes it.
    pub fn receive(&self, payload: &[u8]) {
        self.with_process(true, |p| p.receive(payload, now()));
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        if let Some((at, p)) = self.process.get_mut().take() {
            if at == crate::abi::boundary::forks() {
                p.stop();
            } else {
                std::mem::forget(p);
            }
        }
    }
}

impl Remote for Fleet {
    fn find(&self, key: &SessionKey, now: i64) -> Option<Vec<u8>> {
        self.with_process(true, |p| p.find(key, now))?
    }

    fn publish(&self, key: &SessionKey, der: Vec<u8>, expires_at: i64) {
        self.with_process(true, |p| p.publish(key, der, expires_at));
    }

    fn forget(&self, key: &SessionKey) {
        self.with_process(true, |p| p.forget(key, now()));
    }

    fn forgotten(&self, key: &SessionKey) -> bool {
        self.with_process(false, |p| p.forgotten(key)).unwrap_or(false)
    }
}

/// Seconds since the epoch.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// The process's fleet: None when off (never configured, or configured wrongly: said once).
static PROCESS_FLEET: OnceCell<Option<Arc<Fleet>>> = OnceCell::new();

/// The process's fleet, set up from the environment at the first call unless `configure`
/// came first; None while off.
pub fn remote() -> Option<Arc<dyn Remote>> {
    // SESSCACHE_FLEET=memory: is the fronts' test hook (memory.rs), before any Redis URL.
    if let Some(memory) = memory::from_env() {
        return Some(memory);
    }
    let fleet = PROCESS_FLEET.get_or_init(from_env).as_ref()?;
    AT_EXIT.call_once(|| crate::abi::boundary::at_exit(drain_at_exit));
    Some(fleet.clone() as Arc<dyn Remote>)
}

static AT_EXIT: std::sync::Once = std::sync::Once::new();

/// The longest process exit waits for queued sessions.
pub const EXIT_DRAIN: Duration = Duration::from_millis(100);

extern "C" fn drain_at_exit() {
    let _ = std::panic::catch_unwind(|| drain(EXIT_DRAIN));
}

fn from_env() -> Option<Arc<Fleet>> {
    // The memory: test hook (memory.rs) stands in for the whole tier: no Redis URL to parse
    // or complain about, no ticket ring.
    if memory::from_env().is_some() {
        return None;
    }
    let built = Config::from_env().and_then(|config| config.map(Fleet::from_config).transpose());
    match built {
        Ok(fleet) => fleet.map(Arc::new),
        Err(e) => {
            eprintln!("sesscache: fleet: {e}; the fleet tier is off");
            None
        }
    }
}

/// The fleet for `url` (SESSCACHE_FLEET's syntax) and `key_file`, the other knobs from the
/// environment: what `sesscache_fleet_configure` does. Only before the fleet's first use (the
/// first context); an error leaves the process as it was.
pub fn configure(url: &str, key_file: &Path) -> Result<(), String> {
    if PROCESS_FLEET.get().is_some() {
        return Err("the fleet is already set up in this process: configure it before the first SSL_CTX".into());
    }
    let config = Config::parse(url, key_file, |name| std::env::var(name).ok())?;
    let fleet = Fleet::from_config(config)?;
    PROCESS_FLEET
        .set(Some(Arc::new(fleet)))
        .map_err(|_| "the fleet is already set up in this process: configure it before the first SSL_CTX".to_string())
}

/// This process's fleet counts; zeros when the tier is off or has not started here.
pub fn counters() -> FleetCounters {
    started_fleet().map(|f| f.counters()).unwrap_or_default()
}

/// The counts, only if the tier started in this process (the report and the stats socket
/// say nothing of a fleet that is off).
pub fn counters_if_started() -> Option<FleetCounters> {
    started_fleet().filter(|f| f.started()).map(|f| f.counters())
}

fn started_fleet() -> Option<&'static Arc<Fleet>> {
    PROCESS_FLEET.get()?.as_ref()
}

/// At process exit: waits at most `within` for queued sessions to reach Redis. Does nothing
/// (and sets nothing up) when the tier is off or never started in this process.
pub fn drain(within: Duration) {
    if let Some(f) = started_fleet() {
        f.drain(within);
    }
}

/// The ticket key ring's settings, parsed with the fleet's other knobs; None while the fleet is
/// off.
pub fn tickets() -> Option<config::Tickets> {
    Some(PROCESS_FLEET.get_or_init(from_env).as_ref()?.shared.config.tickets)
}

/// Where the process's ticket key ring lives in the fleet (its Redis, the fleet key); None
/// while the fleet is off, and then the ring is this process's alone.
pub fn ring_home() -> Option<Arc<dyn ring_sync::RingHome>> {
    let fleet = PROCESS_FLEET.get_or_init(from_env).as_ref()?;
    Some(fleet.shared.clone() as Arc<dyn ring_sync::RingHome>)
}
