//! The ticket key ring against a real redis-server (fleet::ring_sync): a ring published by one
//! process is adopted by the others, two processes rotating at once leave one ring, a dead
//! Redis leaves local rotation running and reconciles on return, garbage in Redis is refused,
//! and no ticket key is in Redis in the clear. Each keyring stands for one process.
//! Skipped (with a line saying so) when redis-server is not installed; `.ci/run` installs it.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use sesscache::fleet::keys::Keys;
use sesscache::fleet::ring::{redis_name, Keyring, RingRejected};
use sesscache::fleet::ring_sync::{spawn, sync_once, Outcome, RingHome};
use sesscache::fleet::seal::Rejected;

const FLEET_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const PREFIX: &str = "sesscache:";
const PERIOD: i64 = 3600;
/// A period's start, as the tests' clock.
const T0: i64 = 1_800_000_000 - 1_800_000_000 % PERIOD;

struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    fn start(test: &str) -> Option<Redis> {
        let installed =
            Command::new("redis-server").arg("--version").stdout(Stdio::null()).status().is_ok_and(|s| s.success());
        if !installed {
            eprintln!("SKIPPED {test}: redis-server is not installed (.ci/run installs it)");
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        let redis = Redis { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while redis.connect().is_err() {
            assert!(Instant::now() < deadline, "redis-server did not answer within 10 s");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(redis)
    }

    fn connect(&self) -> redis::RedisResult<redis::Connection> {
        let client = redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))?;
        let mut con = client.get_connection_with_timeout(Duration::from_secs(1))?;
        redis::cmd("PING").query::<String>(&mut con)?;
        Ok(con)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn keys() -> Keys {
    Keys::parse(FLEET_KEY).unwrap()
}

#[test]
fn a_published_ring_is_adopted_by_every_process() {
    let Some(redis) = Redis::start("a_published_ring_is_adopted_by_every_process") else { return };
    let (keys, mut con) = (keys(), redis.connect().unwrap());
    let a = Keyring::new(T0, PERIOD).unwrap();
    let b = Keyring::new(T0, PERIOD).unwrap();
    assert!(!a.ring(T0).same_keys(&b.ring(T0)), "two processes start with their own rings");
    assert_eq!(sync_once(&mut con, &a, &keys, PREFIX, T0).unwrap(), Outcome::Published);
    assert_eq!(sync_once(&mut con, &b, &keys, PREFIX, T0).unwrap(), Outcome::Adopted);
    assert!(a.ring(T0).same_keys(&b.ring(T0)));
    assert_eq!(sync_once(&mut con, &a, &keys, PREFIX, T0).unwrap(), Outcome::Same);
    assert_eq!(sync_once(&mut con, &b, &keys, PREFIX, T0).unwrap(), Outcome::Same);
    assert_eq!((a.counters().published, b.counters().fetched), (1, 1));
}

#[test]
fn processes_racing_to_rotate_leave_one_ring() {
    let Some(redis) = Redis::start("processes_racing_to_rotate_leave_one_ring") else { return };
    let keys = Arc::new(keys());
    let rings: Vec<Arc<Keyring>> = (0..4).map(|_| Arc::new(Keyring::new(T0, PERIOD).unwrap())).collect();
    let mut con = redis.connect().unwrap();
    for ring in &rings {
        sync_once(&mut con, ring, &keys, PREFIX, T0).unwrap();
    }
    for period in 1..=20 {
        let now = T0 + period * PERIOD;
        // Every process finds the ring due at once and offers its own rotation.
        let barrier = Arc::new(Barrier::new(rings.len()));
        let outcomes: Vec<Outcome> = rings
            .iter()
            .map(|ring| {
                let (ring, keys, barrier) = (ring.clone(), keys.clone(), barrier.clone());
                let mut con = redis.connect().unwrap();
                std::thread::spawn(move || {
                    barrier.wait();
                    sync_once(&mut con, &ring, &keys, PREFIX, now).unwrap()
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect();
        let won = outcomes.iter().filter(|o| **o == Outcome::Published).count();
        assert_eq!(won, 1, "period {period}: exactly one rotation is stored: {outcomes:?}");
        // The next round: everyone holds the stored ring.
        for ring in &rings {
            sync_once(&mut con, ring, &keys, PREFIX, now).unwrap();
        }
        let first = rings[0].ring(now);
        assert_eq!(first.version, (now / PERIOD) as u64);
        for ring in &rings[1..] {
            assert!(ring.ring(now).same_keys(&first), "period {period}: one ring fleet-wide");
        }
    }
}

#[test]
fn a_dead_redis_leaves_local_rotation_running_and_the_fleet_reconciles_when_it_returns() {
    let Some(redis) = Redis::start("dead_redis") else { return };
    let keys = keys();
    let a = Keyring::new(T0, PERIOD).unwrap();
    let b = Keyring::new(T0, PERIOD).unwrap();
    let mut con = redis.connect().unwrap();
    sync_once(&mut con, &a, &keys, PREFIX, T0).unwrap();
    sync_once(&mut con, &b, &keys, PREFIX, T0).unwrap();
    let before = a.ring(T0);
    let port = redis.port;
    drop(con);
    drop(redis);
    // Redis is gone: no round completes, the ring still rotates when due.
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
    assert!(client.get_connection_with_timeout(Duration::from_millis(200)).is_err());
    let later = T0 + 2 * PERIOD;
    let (ra, rb) = (a.ring(later), b.ring(later));
    assert_eq!((ra.version, rb.version), (before.version + 2, before.version + 2));
    assert!(ra.find(&before.current.name).is_none(), "the key of two periods ago aged out");
    // The keys that were shared before the outage are still common: current was next twice ago.
    assert_eq!(ra.previous.name, rb.previous.name);
    assert_ne!(ra.next.name, rb.next.name, "each drew its own new keys meanwhile");
    // Another Redis (empty, as a restarted one without persistence): one ring again.
    let Some(redis) = Redis::start("dead_redis") else { return };
    let mut con = redis.connect().unwrap();
    assert_eq!(sync_once(&mut con, &a, &keys, PREFIX, later).unwrap(), Outcome::Published);
    assert_eq!(sync_once(&mut con, &b, &keys, PREFIX, later).unwrap(), Outcome::Adopted);
    assert!(a.ring(later).same_keys(&b.ring(later)));
}

#[test]
fn garbage_in_redis_is_refused_and_replaced_and_no_key_is_in_the_clear() {
    let Some(redis) = Redis::start("garbage") else { return };
    let keys = keys();
    let mut con = redis.connect().unwrap();
    let name = redis_name(PREFIX);
    let _: () =
        redis::cmd("HSET").arg(&name).arg("v").arg("not a number").arg("ring").arg("garbage").query(&mut con).unwrap();
    let a = Keyring::new(T0, PERIOD).unwrap();
    assert!(matches!(sync_once(&mut con, &a, &keys, PREFIX, T0).unwrap(), Outcome::Rejected(RingRejected::Sealed(_))));
    assert_eq!(a.counters().ring_rejected, 1);
    assert_eq!(sync_once(&mut con, &a, &keys, PREFIX, T0).unwrap(), Outcome::Same, "ours replaced the garbage");
    // Every value in Redis, against every key byte string of the ring it holds now.
    let ring = a.ring(T0);
    let all: Vec<Vec<u8>> = redis::cmd("HVALS").arg(&name).query(&mut con).unwrap();
    assert_eq!(all.len(), 2);
    for secret in [&ring.previous, &ring.current, &ring.next].iter().flat_map(|k| [&k.aes[..], &k.hmac[..]]) {
        for value in &all {
            assert!(!value.windows(secret.len()).any(|w| w == secret), "a ticket key is in Redis in the clear");
        }
    }
    // A ring sealed under another fleet key is refused, and the process keeps its own.
    let other = Keys::parse(&"ab".repeat(32)).unwrap();
    let foreign = Keyring::new(T0 + PERIOD, PERIOD).unwrap();
    assert_eq!(
        sync_once(&mut con, &foreign, &other, PREFIX, T0 + PERIOD).unwrap(),
        Outcome::Rejected(RingRejected::Sealed(Rejected::UnknownKey))
    );
    let own = a.ring(T0 + PERIOD);
    assert_eq!(
        sync_once(&mut con, &a, &keys, PREFIX, T0 + PERIOD).unwrap(),
        Outcome::Rejected(RingRejected::Sealed(Rejected::UnknownKey))
    );
    assert!(a.ring(T0 + PERIOD).same_keys(&own));
    assert_eq!(a.counters().ring_rejected, 2);
}

struct TestHome {
    keys: Keys,
    client: redis::Client,
}

impl RingHome for TestHome {
    fn keys(&self) -> &Keys {
        &self.keys
    }
    fn prefix(&self) -> &str {
        PREFIX
    }
    fn connect(&self) -> redis::RedisResult<Box<dyn redis::ConnectionLike + Send>> {
        let con = self.client.get_connection_with_timeout(Duration::from_millis(500))?;
        con.set_read_timeout(Some(Duration::from_millis(500)))?;
        Ok(Box::new(con))
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Polls `f` every 50 ms for at most `secs` seconds.
fn within(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    f()
}

#[test]
fn every_process_picks_up_each_rotation_within_seconds_and_rotates_alone_without_redis() {
    let Some(redis) = Redis::start("threads") else { return };
    let period = 2;
    let home: Arc<dyn RingHome> = Arc::new(TestHome {
        keys: keys(),
        client: redis::Client::open(format!("redis://127.0.0.1:{}/", redis.port)).unwrap(),
    });
    let a: &'static Keyring = Box::leak(Box::new(Keyring::new(unix_now(), period).unwrap()));
    let b: &'static Keyring = Box::leak(Box::new(Keyring::new(unix_now(), period).unwrap()));
    let (sa, sb) = (spawn(home.clone(), a).unwrap(), spawn(home.clone(), b).unwrap());
    let agree = || {
        let now = unix_now();
        a.ring(now).same_keys(&b.ring(now))
    };
    assert!(within(5, agree), "the two processes share one ring within seconds");
    let v = a.ring(unix_now()).version;
    assert!(
        within(3 * period as u64 + 3, || agree() && a.ring(unix_now()).version >= v + 2),
        "two rotations later they still share one ring"
    );
    // Redis goes away: each rotates on its own.
    drop(redis);
    let v = a.ring(unix_now()).version.max(b.ring(unix_now()).version);
    assert!(within(2 * period as u64 + 2, || {
        let now = unix_now();
        a.ring(now).version > v && b.ring(now).version > v
    }));
    sa.stop();
    sb.stop();
}
