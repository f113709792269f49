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
const REMOVALS: &str = "sesscache:removals";
/// A find that must not wait on the network returns within the default budget (1 ms) or at
/// once (breaker open). This bound is far above that, so a busy machine's scheduling does not
/// trip it, and half of what waiting would cost: a 500 ms connection or command timeout, or
/// the breaker test's 500 ms budget.
const NO_WAIT: Duration = Duration::from_millis(250);

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
    subscribers_on(r, CHANNEL)
}

fn subscribers_on(r: &Redis, channel: &str) -> i64 {
    let v: (String, i64) = redis::cmd("PUBSUB").arg("NUMSUB").arg(channel).query(&mut r.conn()).unwrap();
    v.1
}

/// How many times Redis has run `command` (INFO commandstats), 0 if never.
fn calls(r: &Redis, command: &str) -> u64 {
    let info: String = redis::cmd("INFO").arg("commandstats").query(&mut r.conn()).unwrap();
    let field = format!("cmdstat_{command}:calls=");
    info.lines().find_map(|l| l.strip_prefix(&field)).map_or(0, |rest| rest.split(',').next().unwrap().parse().unwrap())
}

/// Starts `f`'s threads and waits until Redis counts `before + 1` subscribers on `channel`.
fn started_on(r: &Redis, f: &Fleet, channel: &str, before: i64) {
    assert_eq!(f.find(&key(250), now()), None);
    eventually(10, "the subscription is up", || subscribers_on(r, channel) > before);
}

/// SESSCACHE_FLEET_SUBSCRIBE, and a budget no loaded machine misses (finds here must reach Redis).
fn mode(subscribe: &str) -> [(&str, &str); 2] {
    [("SESSCACHE_FLEET_SUBSCRIBE", subscribe), ("SESSCACHE_FLEET_BUDGET_US", "1000000")]
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
    // b may hear the PUBLISH before a's publisher has read Redis's answer and counted it.
    a.drain(Duration::from_secs(10));
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
        assert!(t.elapsed() < NO_WAIT, "a find waited {:?}", t.elapsed());
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
        assert!(t.elapsed() < NO_WAIT, "a find waited {:?} on a paused Redis", t.elapsed());
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
    assert!(t.elapsed() < NO_WAIT, "a find waited {:?} with the breaker open", t.elapsed());
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
    let Some(r) = Redis::start("a_full_queue_drops_and_counts") else { return };
    let f = fleet(&r.url(), &[("SESSCACHE_FLEET_QUEUE", "1")]);
    // Redis stopped before the first connection: every attempt of the publisher waits out a
    // timeout (500 ms; three attempts), so once it holds a batch it holds it for over a second.
    r.pause();
    f.publish(&key(0), der(0), now() + 300);
    // drain returns once the publisher's first attempt failed: it has taken session 0 (alone,
    // nothing else was queued) and is still inside that batch's attempts.
    f.drain(Duration::from_secs(10));
    let t = Instant::now();
    for n in 1..50 {
        f.publish(&key(n), der(n), now() + 300);
    }
    let took = t.elapsed();
    let c = counters(&f);
    assert!(took < Duration::from_millis(500), "49 publishes took {took:?}: the publisher may have moved on");
    // Session 1 waits in the queue (one place); 2 to 49 found it full.
    assert_eq!(c.publish_dropped, 48, "{c:?}");
    assert_eq!(c.published, 0);
    // Nothing is lost without a count: once Redis is back, each of the 50 is sent or dropped.
    r.resume();
    eventually(10, "every session sent or counted as dropped", || {
        let c = counters(&f);
        c.published + c.publish_dropped == 50
    });
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
    // A hang guard: drain's own bound is 100 ms; waiting for the publisher would take its
    // command and connect timeouts (500 ms each, several times over).
    assert!(took < Duration::from_millis(400), "drain took {took:?}");
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

/// Redis killed and started again: the subscriptions and the publisher reconnect, and sharing
/// resumes without restarting the processes.
#[test]
fn sharing_resumes_after_redis_restarts() {
    let Some(mut r) = Redis::start("sharing_resumes_after_redis_restarts") else { return };
    let (a, b) = (fleet(&r.url(), &[]), fleet(&r.url(), &[]));
    started(&r, &a, 0);
    started(&r, &b, 1);
    a.publish(&key(1), der(1), now() + 300);
    eventually(10, "b received the first session", || counters(&b).received == 1);
    r.stop();
    // Published while Redis is down: retried, then dropped and counted.
    a.publish(&key(2), der(2), now() + 300);
    eventually(10, "the session published while Redis was down is dropped", || counters(&a).publish_dropped == 1);
    r.run();
    eventually(20, "both subscriptions are back", || subscribers(&r) == 2);
    a.publish(&key(3), der(3), now() + 300);
    eventually(10, "b received the session published after the restart", || counters(&b).received == 2);
    assert_eq!(b.find(&key(3), now()), Some(der(3)));
    a.drain(Duration::from_secs(10));
    assert_eq!(counters(&a).published, 2);
}

/// SESSCACHE_FLEET_SUBSCRIBE=removals: a new session is SET only, never published; another
/// process pulls it with the bounded GET and then serves it from its mirror.
#[test]
fn in_removals_mode_a_session_is_pulled_not_pushed() {
    let Some(r) = Redis::start("in_removals_mode_a_session_is_pulled_not_pushed") else { return };
    let (a, b) = (fleet(&r.url(), &mode("removals")), fleet(&r.url(), &mode("removals")));
    started_on(&r, &b, REMOVALS, 0);
    assert_eq!(subscribers(&r), 0, "a removals process listens to the sessions channel");
    a.publish(&key(1), der(1), now() + 300);
    a.drain(Duration::from_secs(10));
    assert_eq!(counters(&a).published, 1);
    assert_eq!((calls(&r, "set"), calls(&r, "publish")), (1, 0), "one SET and no PUBLISH per new session");
    let before = counters(&b);
    assert_eq!(b.find(&key(1), now()), Some(der(1)));
    let c = counters(&b);
    assert_eq!((c.received, c.remote_lookups - before.remote_lookups, c.remote_hits), (0, 1, 1));
    let gets = calls(&r, "get");
    assert_eq!(b.find(&key(1), now()), Some(der(1)));
    let c = counters(&b);
    assert_eq!((c.mirror_hits, c.remote_lookups - before.remote_lookups), (1, 1));
    assert_eq!(calls(&r, "get"), gets, "the second find went to Redis");
    assert_eq!(counters(&b).received, 0);
}

/// A removal at A tombstones the session in B's mirror, whichever SESSCACHE_FLEET_SUBSCRIBE both run.
#[test]
fn a_removal_reaches_the_other_mirror_in_either_mode() {
    for subscribe in ["sessions", "removals"] {
        let Some(r) = Redis::start(&format!("a_removal_reaches_the_other_mirror_in_{subscribe}_mode")) else { return };
        let (a, b) = (fleet(&r.url(), &mode(subscribe)), fleet(&r.url(), &mode(subscribe)));
        started_on(&r, &a, REMOVALS, 0);
        started_on(&r, &b, REMOVALS, 1);
        a.publish(&key(4), der(4), now() + 300);
        a.drain(Duration::from_secs(10));
        if subscribe == "sessions" {
            eventually(10, "b received the session", || counters(&b).received == 1);
        }
        assert_eq!(b.find(&key(4), now()), Some(der(4)));
        assert_eq!(counters(&b).mirror_entries, 1, "{subscribe}");
        a.forget(&key(4));
        eventually(10, "b heard of the removal", || b.forgotten(&key(4)));
        assert_eq!(counters(&b).removals_received, 1, "{subscribe}");
        assert_eq!(b.find(&key(4), now()), None, "{subscribe}: a removed session served from the mirror");
        assert_eq!(counters(&b).mirror_entries, 0, "{subscribe}");
    }
}

/// Processes of both kinds in one fleet: each finds the other's sessions (pushed or pulled)
/// and hears the other's removals.
#[test]
fn a_mixed_fleet_shares_sessions_and_removals() {
    for (mode_a, mode_b) in [("sessions", "removals"), ("removals", "sessions")] {
        let Some(r) = Redis::start(&format!("a_mixed_fleet_{mode_a}_{mode_b}")) else { return };
        let (a, b) = (fleet(&r.url(), &mode(mode_a)), fleet(&r.url(), &mode(mode_b)));
        started_on(&r, &a, REMOVALS, 0);
        started_on(&r, &b, REMOVALS, 1);
        assert_eq!(subscribers(&r), 1, "only the sessions process listens to new sessions");
        a.publish(&key(1), der(1), now() + 300);
        b.publish(&key(2), der(2), now() + 300);
        a.drain(Duration::from_secs(10));
        b.drain(Duration::from_secs(10));
        // Only the sessions process pushes; the removals process never hears it.
        assert_eq!(calls(&r, "publish"), 1, "{mode_a} + {mode_b}");
        // a made session 1, b session 2; the pusher is the sessions process.
        let (pusher, puller, pushed, pulled) = if mode_a == "sessions" { (&a, &b, 1, 2) } else { (&b, &a, 2, 1) };
        assert_eq!(counters(puller).received, 0);
        // The puller finds the pusher's session by GET, and the pusher the puller's.
        assert_eq!(puller.find(&key(pushed), now()), Some(der(pushed)));
        assert_eq!(pusher.find(&key(pulled), now()), Some(der(pulled)));
        assert_eq!((counters(&a).remote_hits, counters(&b).remote_hits), (1, 1), "{mode_a} + {mode_b}");
        // Removals go both ways.
        a.forget(&key(2));
        b.forget(&key(1));
        eventually(10, "b heard of a's removal", || b.forgotten(&key(2)));
        eventually(10, "a heard of b's removal", || a.forgotten(&key(1)));
        assert_eq!((counters(&a).removals_received, counters(&b).removals_received), (1, 1));
        assert_eq!(a.find(&key(1), now()), None);
        assert_eq!(b.find(&key(2), now()), None);
    }
}
