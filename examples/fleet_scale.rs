//! What the fleet's fan-out costs one process: the fleet tier driven through its own API
//! (`fleet::Fleet`, configured from the SESSCACHE_FLEET* environment like any process), in
//! three roles, each printing one JSON line with its CPU time, RSS and the fleet's counters.
//! bench/fleet_scale.sh runs them against a private redis-server and does the arithmetic.
//!
//! - `pub INDEX RATE SECONDS DER...`: publishes RATE sessions a second for SECONDS (the DER
//!   files in turn, ids derived from INDEX and a counter), then drains; CPU split into the
//!   calling thread (what a handshake pays: the enqueue) and the fleet's threads (sealing,
//!   SET + PUBLISH).
//! - `sub SECONDS`: starts the tier (one find, so its threads run) and listens for SECONDS:
//!   the subscriber thread receives every other process's session into the mirror.
//! - `get INDEX COUNT RATE`: after the publishers are done, finds COUNT of publisher INDEX's
//!   sessions at RATE a second; nothing is in its mirror, so each find is the bounded GET
//!   (what a process without the subscription would pay per resumption).
//!
//! - `parts COUNT DER...`: no Redis; the CPU of the pieces a received session goes through
//!   (name, seal, parse + open, mirror insert at its cap), COUNT times each, on this thread.
//!
//! cargo run --release --example fleet_scale -- sub 10

use std::time::{Duration, Instant};

use sesscache::engine::{Remote, SessionKey};
use sesscache::fleet::worker::{message, parse_message, STORE, TOMBSTONE_CAP};
use sesscache::fleet::{Config, Fleet, FleetCounters, Keys, Mirror};

/// Session lifetime given to Redis and the mirror: OpenSSL's and nginx's default (300 s).
const LIFETIME: i64 = 300;

fn key(index: u64, i: u64) -> SessionKey {
    // splitmix64 of (index, i): 32 distinct-looking bytes, cheap enough not to show in the CPU.
    let mut id = [0u8; 32];
    let mut x = (index << 40) ^ i;
    for chunk in id.chunks_mut(8) {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    SessionKey::new(0x0303, &id).expect("32 bytes")
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// CPU seconds (user + system) of the process or of the calling thread.
fn cpu(who: libc::c_int) -> f64 {
    // SAFETY: getrusage writes one rusage into the zeroed struct we own.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above; `who` is RUSAGE_SELF or RUSAGE_THREAD.
    unsafe { libc::getrusage(who, &mut u) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

/// VmRSS and VmHWM in KiB.
fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn fleet() -> Fleet {
    let config = Config::from_env().unwrap_or_else(|e| die(&e)).unwrap_or_else(|| die("SESSCACHE_FLEET is not set"));
    Fleet::from_config(config).unwrap_or_else(|e| die(&e))
}

fn die(why: &str) -> ! {
    eprintln!("fleet_scale: {why}");
    std::process::exit(2)
}

fn counters_json(c: &FleetCounters) -> String {
    format!("{{{}}}", c.json_members())
}

fn arg<T: std::str::FromStr>(args: &[String], i: usize, what: &str) -> T {
    args.get(i).and_then(|a| a.parse().ok()).unwrap_or_else(|| die(&format!("argument {i}: expected {what}")))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("pub") => publisher(arg(&args, 1, "INDEX"), arg(&args, 2, "RATE"), arg(&args, 3, "SECONDS"), &args[4..]),
        Some("sub") => subscriber(arg(&args, 1, "SECONDS")),
        Some("get") => getter(arg(&args, 1, "INDEX"), arg(&args, 2, "COUNT"), arg(&args, 3, "RATE")),
        Some("parts") => parts(arg(&args, 1, "COUNT"), &args[2..]),
        _ => die("usage: fleet_scale pub INDEX RATE SECONDS DER... | sub SECONDS | get INDEX COUNT RATE | parts COUNT DER..."),
    }
}

fn publisher(index: u64, rate: f64, seconds: f64, der_files: &[String]) {
    let ders: Vec<Vec<u8>> =
        der_files.iter().map(|f| std::fs::read(f).unwrap_or_else(|e| die(&format!("{f}: {e}")))).collect();
    if ders.is_empty() || rate <= 0.0 {
        die("pub needs a positive RATE and at least one DER file");
    }
    let fleet = fleet();
    let total = (rate * seconds).round() as u64;
    let (cpu0, thread0) = (cpu(libc::RUSAGE_SELF), cpu(libc::RUSAGE_THREAD));
    let started = Instant::now();
    let mut enqueue_secs = 0.0;
    for i in 0..total {
        // On schedule: session i is due at i / rate; sleep only when more than 1 ms ahead.
        let due = Duration::from_secs_f64(i as f64 / rate);
        let ahead = due.saturating_sub(started.elapsed());
        if ahead > Duration::from_millis(1) {
            std::thread::sleep(ahead);
        }
        let der = ders[(i % ders.len() as u64) as usize].clone();
        let t = Instant::now();
        fleet.publish(&key(index, i), der, now() + LIFETIME);
        enqueue_secs += t.elapsed().as_secs_f64();
    }
    let sent_in = started.elapsed().as_secs_f64();
    fleet.drain(Duration::from_secs(5));
    let wall = started.elapsed().as_secs_f64();
    let (cpu1, thread1) = (cpu(libc::RUSAGE_SELF), cpu(libc::RUSAGE_THREAD));
    let (rss, hwm) = rss_kib();
    let c = fleet.counters();
    println!(
        "{{\"role\":\"pub\",\"index\":{index},\"sessions\":{total},\"der_bytes\":[{}],\"send_secs\":{sent_in:.3},\
         \"wall_secs\":{wall:.3},\"cpu_secs\":{:.4},\"caller_cpu_secs\":{:.4},\"enqueue_secs\":{enqueue_secs:.4},\
         \"rss_kib\":{rss},\"hwm_kib\":{hwm},\"fleet\":{}}}",
        ders.iter().map(|d| d.len().to_string()).collect::<Vec<_>>().join(","),
        cpu1 - cpu0,
        thread1 - thread0,
        counters_json(&c)
    );
}

fn subscriber(seconds: f64) {
    let (rss_before, _) = rss_kib();
    let fleet = fleet();
    let cpu0 = cpu(libc::RUSAGE_SELF);
    // The first find starts the threads (and asks Redis once for a session nobody has).
    let _ = fleet.find(&key(u64::MAX >> 24, 0), now());
    let (rss_started, _) = rss_kib();
    let started = Instant::now();
    let mut last = (0u64, Instant::now());
    let mut peak_rate = 0.0f64;
    while started.elapsed().as_secs_f64() < seconds {
        std::thread::sleep(Duration::from_millis(500));
        let received = fleet.counters().received;
        let dt = last.1.elapsed().as_secs_f64();
        peak_rate = peak_rate.max((received - last.0) as f64 / dt);
        last = (received, Instant::now());
    }
    let cpu_secs = cpu(libc::RUSAGE_SELF) - cpu0;
    let (rss, hwm) = rss_kib();
    let c = fleet.counters();
    println!(
        "{{\"role\":\"sub\",\"pid\":{},\"wall_secs\":{:.3},\"cpu_secs\":{cpu_secs:.4},\"peak_rate\":{peak_rate:.0},\
         \"rss_before_kib\":{rss_before},\"rss_started_kib\":{rss_started},\"rss_kib\":{rss},\"hwm_kib\":{hwm},\
         \"fleet\":{}}}",
        std::process::id(),
        started.elapsed().as_secs_f64(),
        counters_json(&c)
    );
}

fn getter(index: u64, count: u64, rate: f64) {
    let fleet = fleet();
    // Start the threads and connect (one find of a session nobody has), off the clock.
    let _ = fleet.find(&key(u64::MAX >> 24, 1), now());
    std::thread::sleep(Duration::from_millis(200));
    let cpu0 = cpu(libc::RUSAGE_SELF);
    let started = Instant::now();
    let mut waits = Vec::with_capacity(count as usize);
    let mut found = 0u64;
    for i in 0..count {
        let due = Duration::from_secs_f64(i as f64 / rate);
        let ahead = due.saturating_sub(started.elapsed());
        if ahead > Duration::from_millis(1) {
            std::thread::sleep(ahead);
        }
        let t = Instant::now();
        let hit = fleet.find(&key(index, i), now()).is_some();
        waits.push(t.elapsed().as_secs_f64() * 1e6);
        found += u64::from(hit);
    }
    let wall = started.elapsed().as_secs_f64();
    let cpu_secs = cpu(libc::RUSAGE_SELF) - cpu0;
    waits.sort_by(f64::total_cmp);
    let pct = |p: f64| waits.get(((waits.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(0.0);
    let (rss, hwm) = rss_kib();
    println!(
        "{{\"role\":\"get\",\"finds\":{count},\"found\":{found},\"wall_secs\":{wall:.3},\"cpu_secs\":{cpu_secs:.4},\
         \"wait_us_p50\":{:.1},\"wait_us_p99\":{:.1},\"wait_us_max\":{:.1},\"rss_kib\":{rss},\"hwm_kib\":{hwm},\
         \"fleet\":{}}}",
        pct(0.5),
        pct(0.99),
        pct(1.0),
        counters_json(&fleet.counters())
    );
}

fn parts(count: u64, der_files: &[String]) {
    let ders: Vec<Vec<u8>> =
        der_files.iter().map(|f| std::fs::read(f).unwrap_or_else(|e| die(&format!("{f}: {e}")))).collect();
    if ders.is_empty() || count == 0 {
        die("parts needs a positive COUNT and at least one DER file");
    }
    let keys = Keys::parse(&"5a".repeat(32)).unwrap_or_else(|e| die(&e));
    let memory = std::env::var("SESSCACHE_FLEET_MEMORY").ok().and_then(|m| sesscache::fleet::config::parse_size(&m));
    let mirror = Mirror::new(memory.unwrap_or(64 << 20), TOMBSTONE_CAP);
    let expires = now() + LIFETIME;
    let per = |secs: f64| secs / count as f64 * 1e6;
    let time = |f: &mut dyn FnMut(u64)| {
        let t = cpu(libc::RUSAGE_THREAD);
        for i in 0..count {
            f(i);
        }
        per(cpu(libc::RUSAGE_THREAD) - t)
    };
    let der = |i: u64| &ders[(i % ders.len() as u64) as usize];
    let name_us = time(&mut |i| {
        std::hint::black_box(keys.name(0, "sesscache:", &key(7, i)));
    });
    let messages: Vec<Vec<u8>> = (0..count.min(4096))
        .map(|i| {
            let name = keys.name(0, "sesscache:", &key(7, i));
            let blob = keys.seal(&name, &key(7, i), expires, der(i)).unwrap_or_else(|e| die(&format!("{e:?}")));
            message(STORE, &[1; 8], &name, &blob)
        })
        .collect();
    let seal_us = time(&mut |i| {
        let name = keys.name(0, "sesscache:", &key(7, i));
        std::hint::black_box(keys.seal(&name, &key(7, i), expires, der(i)).ok());
    }) - name_us;
    let open_us = time(&mut |i| {
        let m = &messages[(i % messages.len() as u64) as usize];
        let (_, _, name, blob) = parse_message(m).unwrap_or_else(|| die("bad message"));
        std::hint::black_box(keys.open(name, blob).ok());
    });
    let t = now();
    let insert_us = time(&mut |i| mirror.insert(key(8, i), der(i).clone(), expires, t));
    println!(
        "{{\"role\":\"parts\",\"count\":{count},\"name_us\":{name_us:.2},\"seal_us\":{seal_us:.2},\
         \"parse_open_us\":{open_us:.2},\"mirror_insert_us\":{insert_us:.2},\"mirror_entries\":{},\"mirror_evicted\":{}}}",
        mirror.len(),
        mirror.evicted()
    );
}
