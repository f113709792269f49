//! The fleet against a real redis-server on loopback: two `Fleet`s in one test stand for two
//! processes (each has its own origin, mirror and threads). Sharing by publish/subscribe and
//! by lookup, removals, blobs that must not open, and a Redis that is absent, stopped, paused
//! or back. Time bounds here are hang guards, far above what the code is meant to take.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use sesscache::engine::{Remote, SessionKey};
use sesscache::fleet::{Config, Fleet, FleetCounters, Keys};

#[path = "support/redis.rs"]
mod redis_server;
use redis_server::{eventually, free_port, Redis};

const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";
const OTHER_KEY: &str = "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";
const PREFIX: &str = "sesscache:";
const CHANNEL: &str = "sesscache:sessions";

fn fleet_with(url: &str, keys: &str, knobs: &[(&str, &str)]) -> Fleet {
    let map: HashMap<String, String> = knobs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let config = Config::parse(url, Path::new("/not/read"), |name| map.get(name).cloned()).unwrap();
    Fleet::new(config, Keys::parse(keys).unwrap()).unwrap()
}

fn fleet(url: &str, knobs: &[(&str, &str)]) -> Fleet {
    fleet_with(url, KEY, knobs)
}

fn key(n: u8) -> SessionKey {
    SessionKey::new(0x0303, &[n; 32]).unwrap()
}

fn der(n: u8) -> Vec<u8> {
    let mut d = vec![0x30, 0x81, 0x80];
    d.extend(std::iter::repeat_n(n, 128));
    d
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn subscribers(r: &Redis) -> i64 {
    let v: (String, i64) = redis::cmd("PUBSUB").arg("NUMSUB").arg(CHANNEL).query(&mut r.conn()).unwrap();
    v.1
}

/// Starts `f`'s threads (a find of a session nobody has) and waits until its subscription is up.
fn started(r: &Redis, f: &Fleet, before: i64) {
    assert_eq!(f.find(&key(250), now()), None);
    eventually(10, "the subscription is up", || subscribers(r) > before);
}

fn counters(f: &Fleet) -> FleetCounters {
    f.counters()
}

#[test]
fn a_session_published_at_a_is_found_at_b_from_memory() {
    let Some(r) = Redis::start("a_session_published_at_a_is_found_at_b_from_memory") else { return };
    let (a, b) = (fleet(&r.url(), &[]), fleet(&r.url(), &[]));
    started(&r, &b, 0);
    let lookups = counters(&b).remote_lookups;
    a.publish(&key(1), der(1), now() + 300);
    eventually(10, "b received the session", || counters(&b).received == 1);
    assert_eq!(b.find(&key(1), now()), Some(der(1)));
    let c = counters(&b);
    assert_eq!((c.mirror_hits, c.remote_lookups, c.mirror_entries), (1, lookups, 1));
    assert!(c.mirror_bytes >= 131);
    assert_eq!(counters(&a).published, 1);
    // A process does not take its own messages into its mirror.
    assert_eq!(counters(&a).received, 0);
    // What Redis holds is the sealed blob under a keyed name, not the session.
    let names: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut r.conn()).unwrap();
    assert_eq!(names.len(), 1);
    assert!(names[0].starts_with(PREFIX) && names[0].len() == PREFIX.len() + 64, "{names:?}");
    let blob: Vec<u8> = redis::cmd("GET").arg(&names[0]).query(&mut r.conn()).unwrap();
    assert!(!blob.windows(der(1).len()).any(|w| w == der(1)), "the session is in Redis in the clear");
    let ttl: i64 = redis::cmd("TTL").arg(&names[0]).query(&mut r.conn()).unwrap();
    assert!((250..=300).contains(&ttl), "EXAT the session's expiry: ttl {ttl}");
}

#[test]
fn a_session_missed_on_the_channel_is_looked_up_and_kept() {
    let Some(r) = Redis::start("a_session_missed_on_the_channel_is_looked_up_and_kept") else { return };
    let a = fleet(&r.url(), &[]);
    a.publish(&key(2), der(2), now() + 300);
    a.drain(Duration::from_secs(5));
    assert_eq!(counters(&a).published, 1);
    // B starts after the message went by; a budget no loaded machine misses.
    let b = fleet(&r.url(), &[("SESSCACHE_FLEET_BUDGET_US", "1000000")]);
    assert_eq!(b.find(&key(2), now()), Some(der(2)));
    assert_eq!(b.find(&key(2), now()), Some(der(2)));
    let c = counters(&b);
    assert_eq!((c.remote_lookups, c.remote_hits, c.mirror_hits), (1, 1, 1));
    // Expired: not served.
    assert_eq!(b.find(&key(2), now() + 400), None);
}

#[test]
fn a_removal_reaches_every_process_and_redis() {
    let Some(r) = Redis::start("a_removal_reaches_every_process_and_redis") else { return };
    let (a, b) = (fleet(&r.url(), &[]), fleet(&r.url(), &[]));
    started(&r, &a, 0);
    started(&r, &b, 1);
    a.publish(&key(3), der(3), now() + 300);
    eventually(10, "b received the session", || counters(&b).received == 1);
    assert!(!a.forgotten(&key(3)) && !b.forgotten(&key(3)));
    b.forget(&key(3));
    assert!(b.forgotten(&key(3)), "the process that removes it knows at once");
    assert_eq!(b.find(&key(3), now()), None);
    eventually(10, "a heard of the removal", || a.forgotten(&key(3)));
    assert_eq!(counters(&a).removals_received, 1);
    b.drain(Duration::from_secs(5));
    assert_eq!(counters(&b).forgotten, 1);
    let names: Vec<String> = redis::cmd("KEYS").arg(format!("{PREFIX}*")).query(&mut r.conn()).unwrap();
    assert!(names.is_empty(), "the removed session is still in Redis: {names:?}");
    let late = fleet(&r.url(), &[("SESSCACHE_FLEET_BUDGET_US", "1000000")]);
    assert_eq!(late.find(&key(3), now()), None);
}

#[test]
fn blobs_that_do_not_open_are_rejected_and_counted() {
    let Some(r) = Redis::start("blobs_that_do_not_open_are_rejected_and_counted") else { return };
    let keys = Keys::parse(KEY).unwrap();
    let foreign = Keys::parse(OTHER_KEY).unwrap();
    let b = fleet(&r.url(), &[("SESSCACHE_FLEET_BUDGET_US", "1000000")]);
    let mut con = r.conn();
    let exp = now() + 300;
    let plant = |con: &mut redis::Connection, n: u8, blob: &[u8]| {
        let name = keys.name(0, PREFIX, &key(n));
        let _: () = redis::cmd("SET").arg(&name).arg(blob).query(con).unwrap();
    };
    plant(&mut con, 10, b"garbage, not a sealed session");
    let name = keys.name(0, PREFIX, &key(11));
    let mut tampered = keys.seal(&name, &key(11), exp, &der(11)).unwrap();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    plant(&mut con, 11, &tampered);
    plant(&mut con, 12, &foreign.seal(&keys.name(0, PREFIX, &key(12)), &key(12), exp, &der(12)).unwrap());
    // Sealed for another session's name: moved under this one.
    plant(&mut con, 13, &keys.seal(&keys.name(0, PREFIX, &key(14)), &key(14), exp, &der(14)).unwrap());
    plant(&mut con, 15, &vec![b'x'; 64 * 1024]);
    // Sealed under this name, but for another session (only a key holder could make it).
    plant(&mut con, 17, &keys.seal(&keys.name(0, PREFIX, &key(17)), &key(18), exp, &der(18)).unwrap());
    // The control: a good blob planted the same way opens.
    plant(&mut con, 16, &keys.seal(&keys.name(0, PREFIX, &key(16)), &key(16), exp, &der(16)).unwrap());
    for n in [10, 11, 12, 13, 15, 17] {
        assert_eq!(b.find(&key(n), now()), None, "blob {n} opened");
    }
    assert_eq!(counters(&b).rejected, 6);
    assert_eq!(b.find(&key(16), now()), Some(der(16)));
    // The same on the channel: garbage, a foreign key, a tampered message.
    eventually(10, "the subscription is up", || subscribers(&r) == 1);
    let publish = |con: &mut redis::Connection, m: &[u8]| {
        let _: i64 = redis::cmd("PUBLISH").arg(CHANNEL).arg(m).query(con).unwrap();
    };
    publish(&mut con, b"garbage");
    let mut m = vec![b'S'];
    m.extend_from_slice(b"stranger");
    m.push(name.len() as u8);
    m.extend_from_slice(name.as_bytes());
    m.extend_from_slice(&tampered);
    publish(&mut con, &m);
    eventually(10, "both messages rejected", || counters(&b).rejected == 8);
    assert_eq!(counters(&b).received, 0);
    assert_eq!(b.find(&key(11), now()), None);
}

#[test]
fn redis_absent_at_start_costs_at_most_the_budget_then_trips_the_breaker() {
    let port = free_port();
    let f = fleet(&format!("redis://127.0.0.1:{port}"), &[("SESSCACHE_FLEET_BREAKER", "3")]);
    for n in 0..3 {
        let t = Instant::now();
        assert_eq!(f.find(&key(n), now()), None);
        assert!(t.elapsed() < Duration::from_millis(50), "a find waited {:?}", t.elapsed());
    }
    let c = counters(&f);
    assert_eq!(c.remote_lookups, 3);
    assert_eq!(c.remote_errors + c.remote_timeouts, 3);
    assert_eq!(c.breaker_trips, 1);
    // Open: no more lookups, no waiting.
    assert_eq!(f.find(&key(9), now()), None);
    assert_eq!(counters(&f).remote_lookups, 3);
}

#[test]
fn a_paused_redis_costs_a_find_the_budget_only() {
    let Some(r) = Redis::start("a_paused_redis_costs_a_find_the_budget_only") else { return };
    let f = fleet(&r.url(), &[("SESSCACHE_FLEET_BUDGET_US", "1000"), ("SESSCACHE_FLEET_BREAKER", "100")]);
    started(&r, &f, 0);
    r.pause();
    for n in 0..5 {
        let t = Instant::now();
        assert_eq!(f.find(&key(n), now()), None);
        assert!(t.elapsed() < Duration::from_millis(50), "a find waited {:?} on a paused Redis", t.elapsed());
    }
    r.resume();
    let c = counters(&f);
    assert!(c.remote_timeouts >= 5, "{c:?}");
}

#[test]
fn the_breaker_opens_and_closes_when_redis_is_back() {
    let Some(mut r) = Redis::start("the_breaker_opens_and_closes_when_redis_is_back") else { return };
    let f = fleet(
        &r.url(),
        &[
            ("SESSCACHE_FLEET_BUDGET_US", "500000"),
            ("SESSCACHE_FLEET_BREAKER", "2"),
            ("SESSCACHE_FLEET_RETRY_MS", "50"),
        ],
    );
    started(&r, &f, 0);
    r.stop();
    eventually(10, "the breaker opened", || {
        f.find(&key(1), now());
        counters(&f).breaker_trips == 1
    });
    let lookups = counters(&f).remote_lookups;
    let t = Instant::now();
    assert_eq!(f.find(&key(2), now()), None);
    assert!(t.elapsed() < Duration::from_millis(50));
    assert_eq!(counters(&f).remote_lookups, lookups, "a lookup went out while the breaker was open");
    r.run();
    // Planted without a PUBLISH: only a lookup finds it, once the breaker closed.
    let keys = Keys::parse(KEY).unwrap();
    let name = keys.name(0, PREFIX, &key(3));
    let blob = keys.seal(&name, &key(3), now() + 300, &der(3)).unwrap();
    let _: () = redis::cmd("SET").arg(&name).arg(blob).query(&mut r.conn()).unwrap();
    eventually(10, "the session is found again", || f.find(&key(3), now()) == Some(der(3)));
    assert_eq!(counters(&f).remote_hits, 1);
    assert_eq!(counters(&f).breaker_trips, 1);
}

#[test]
fn a_full_queue_drops_and_counts() {
    let port = free_port();
    let f = fleet(&format!("redis://127.0.0.1:{port}"), &[("SESSCACHE_FLEET_QUEUE", "1")]);
    for n in 0..50 {
        f.publish(&key(n), der(n), now() + 300);
    }
    // The publisher holds at most a batch of what the queue held: one or two.
    let c = counters(&f);
    assert!(c.publish_dropped >= 48, "{c:?}");
    assert_eq!(c.published, 0);
}

#[test]
fn drain_waits_for_the_queue_but_never_longer_than_asked() {
    let Some(r) = Redis::start("drain_waits_for_the_queue_but_never_longer_than_asked") else { return };
    let f = fleet(&r.url(), &[]);
    for n in 0..20 {
        f.publish(&key(n), der(n), now() + 300);
    }
    f.drain(Duration::from_secs(10));
    assert_eq!(counters(&f).published, 20, "drain returned before the queue was sent");
    // Redis stopped mid-conversation: the publisher waits on its command timeout, drain does not.
    r.pause();
    for n in 20..40 {
        f.publish(&key(n), der(n), now() + 300);
    }
    let t = Instant::now();
    f.drain(Duration::from_millis(100));
    let took = t.elapsed();
    r.resume();
    assert!(took < Duration::from_millis(150), "drain took {took:?}");
}

#[test]
fn a_session_too_large_for_a_blob_is_dropped_and_counted() {
    let Some(r) = Redis::start("a_session_too_large_for_a_blob_is_dropped_and_counted") else { return };
    let f = fleet(&r.url(), &[]);
    f.publish(&key(1), vec![0x30; 20 * 1024], now() + 300);
    f.publish(&key(2), der(2), now() + 300);
    f.drain(Duration::from_secs(10));
    let c = counters(&f);
    assert_eq!((c.published, c.publish_dropped), (1, 1));
}

/// Redis Cluster, three primaries: sessions are SET on their slots' nodes through the
/// cluster client, PUBLISH reaches the subscriber on a seed, lookups and removals route.
#[test]
fn a_redis_cluster_shares_sessions_and_removals() {
    let Some(nodes) = redis_server::cluster("a_redis_cluster_shares_sessions_and_removals") else { return };
    let seeds = nodes.iter().map(|n| n.url()).collect::<Vec<_>>().join(",");
    let (a, b) = (fleet(&seeds, &[]), fleet(&seeds, &[]));
    let subscribed = || nodes.iter().map(subscribers).sum::<i64>();
    started_by(&a);
    started_by(&b);
    eventually(10, "both subscriptions are up", || subscribed() == 2);
    for n in 1..=8 {
        a.publish(&key(n), der(n), now() + 300);
    }
    a.drain(Duration::from_secs(10));
    assert_eq!(counters(&a).published, 8);
    eventually(10, "b received every session", || counters(&b).received == 8);
    for n in 1..=8 {
        assert_eq!(b.find(&key(n), now()), Some(der(n)));
    }
    // Spread over the nodes by slot.
    let held: Vec<i64> = nodes.iter().map(|n| redis::cmd("DBSIZE").query(&mut n.conn()).unwrap()).collect();
    assert_eq!(held.iter().sum::<i64>(), 8);
    assert!(held.iter().filter(|&&k| k > 0).count() >= 2, "every session on one node: {held:?}");
    // A late process looks them up through the cluster.
    let late = fleet(&seeds, &[("SESSCACHE_FLEET_BUDGET_US", "1000000")]);
    assert_eq!(late.find(&key(5), now()), Some(der(5)));
    assert_eq!(counters(&late).remote_hits, 1);
    b.forget(&key(5));
    eventually(10, "a heard of the removal", || a.forgotten(&key(5)));
    b.drain(Duration::from_secs(10));
    let held: i64 = nodes.iter().map(|n| redis::cmd("DBSIZE").query::<i64>(&mut n.conn()).unwrap()).sum();
    assert_eq!(held, 7);
    let later = fleet(&seeds, &[("SESSCACHE_FLEET_BUDGET_US", "1000000")]);
    assert_eq!(later.find(&key(5), now()), None);
    assert_eq!(later.find(&key(6), now()), Some(der(6)));
}

/// Starts a fleet's threads (a find of a session nobody has).
fn started_by(f: &Fleet) {
    assert_eq!(f.find(&key(250), now()), None);
}

/// A process that started the tier by publishing (its first handshake was a full one) has its
/// lookup connection up before its first lookup: publisher, subscriber and lookup worker.
#[test]
fn the_lookup_connection_is_ready_before_the_first_lookup() {
    let Some(r) = Redis::start("the_lookup_connection_is_ready_before_the_first_lookup") else { return };
    let f = fleet(&r.url(), &[]);
    f.publish(&key(1), der(1), now() + 300);
    f.drain(Duration::from_secs(10));
    let mut con = r.conn();
    eventually(10, "three connections of the fleet's, and this one", || {
        let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut con).unwrap();
        list.lines().count() == 4
    });
    assert_eq!(counters(&f).remote_lookups, 0);
}

/// redis+unix:// : the same sharing over a Unix socket.
#[test]
fn a_unix_socket_url_works_the_same() {
    let dir = std::env::temp_dir().join(format!("sesscache-unix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sock = dir.join("redis.sock");
    let sock_arg = sock.to_str().unwrap().to_string();
    let Some(r) =
        Redis::start_with("a_unix_socket_url_works_the_same", &["--unixsocket", &sock_arg, "--unixsocketperm", "700"])
    else {
        return;
    };
    let url = format!("redis+unix://{}", sock.display());
    let (a, b) = (fleet(&url, &[]), fleet(&url, &[]));
    started(&r, &b, 0);
    a.publish(&key(1), der(1), now() + 300);
    eventually(10, "b received the session", || counters(&b).received == 1);
    assert_eq!(b.find(&key(1), now()), Some(der(1)));
    drop(r);
    let _ = std::fs::remove_dir_all(&dir);
}
