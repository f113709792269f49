//! The process's fleet (`fleet::remote`, `fleet::configure`, the exit drain) and fork, in
//! child processes: this test binary runs itself again with FLEET_CHILD naming what to do, so
//! that each child starts with no fleet and exits as a program does.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sesscache::engine::SessionKey;
use sesscache::fleet::{self, Config, Fleet, Keys};

#[path = "support/redis.rs"]
mod redis_server;
use redis_server::{eventually, Redis};

const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";

fn key(n: u8) -> SessionKey {
    SessionKey::new(0x0303, &[n; 32]).unwrap()
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn key_file(dir: &std::path::Path) -> std::path::PathBuf {
    use std::os::unix::fs::OpenOptionsExt;
    let path = dir.join("fleet.key");
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&path).unwrap();
    f.write_all(KEY.as_bytes()).unwrap();
    path
}

/// This binary again, running only `child` with FLEET_CHILD=what; its output.
fn run_child(what: &str, env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "child", "--ignored", "--nocapture", "--test-threads=1"]).env("FLEET_CHILD", what);
    for var in ["SESSCACHE_FLEET", "SESSCACHE_FLEET_KEY_FILE"] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied()).stdin(Stdio::null()).output().unwrap()
}

/// What a child does (run by `run_child()`; on its own it does nothing).
#[test]
#[ignore = "run by the other tests in a child process"]
fn child() {
    let what = std::env::var("FLEET_CHILD").unwrap_or_default();
    let url = std::env::var("CHILD_URL").unwrap_or_default();
    let file = std::env::var("CHILD_KEY_FILE").unwrap_or_default();
    match what.as_str() {
        // Configured through the extension function; a session published just before exit
        // reaches Redis through the exit drain.
        "publish_and_exit" => {
            fleet::configure(&url, std::path::Path::new(&file)).unwrap();
            let again = fleet::configure(&url, std::path::Path::new(&file)).unwrap_err();
            assert!(again.contains("already set up"), "{again}");
            let remote = fleet::remote().expect("the configured fleet");
            remote.publish(&key(1), vec![0x30, 1, 2, 3], now() + 300);
        }
        // From the environment.
        "from_env" => {
            let remote = fleet::remote();
            println!("CHILD remote={}", remote.is_some());
            assert_eq!(fleet::counters(), Default::default());
            if let Some(r) = remote {
                r.publish(&key(2), vec![0x30, 2], now() + 300);
            }
        }
        _ => {}
    }
}

#[test]
fn a_session_published_just_before_exit_reaches_redis() {
    let Some(r) = Redis::start("a_session_published_just_before_exit_reaches_redis") else { return };
    let dir = std::env::temp_dir().join(format!("sesscache-kf-{}", r.port)).tap_mkdir();
    let file = key_file(&dir);
    let out = run_child("publish_and_exit", &[("CHILD_URL", &r.url()), ("CHILD_KEY_FILE", file.to_str().unwrap())]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let names: Vec<String> = redis::cmd("KEYS").arg("sesscache:*").query(&mut r.conn()).unwrap();
    assert_eq!(names.len(), 1, "the exit did not drain the queue");
}

#[test]
fn exit_does_not_wait_for_a_stopped_redis() {
    let Some(r) = Redis::start("exit_does_not_wait_for_a_stopped_redis") else { return };
    let dir = std::env::temp_dir().join(format!("sesscache-kf-{}", r.port)).tap_mkdir();
    let file = key_file(&dir);
    r.pause();
    let t = Instant::now();
    let out = run_child("publish_and_exit", &[("CHILD_URL", &r.url()), ("CHILD_KEY_FILE", file.to_str().unwrap())]);
    let took = t.elapsed();
    r.resume();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // A hang guard: the drain is bounded at 100 ms, the rest is the child's own start.
    assert!(took < Duration::from_secs(5), "the child took {took:?} to exit");
}

#[test]
fn the_environment_configures_the_tier_or_says_why_not() {
    let Some(r) = Redis::start("the_environment_configures_the_tier_or_says_why_not") else { return };
    let dir = std::env::temp_dir().join(format!("sesscache-kf-{}", r.port)).tap_mkdir();
    let file = key_file(&dir);
    let url = r.url();
    let out = run_child("from_env", &[("SESSCACHE_FLEET", &url), ("SESSCACHE_FLEET_KEY_FILE", file.to_str().unwrap())]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("CHILD remote=true"));
    eventually(10, "the child's session is in Redis", || {
        let names: Vec<String> = redis::cmd("KEYS").arg("sesscache:*").query(&mut r.conn()).unwrap();
        names.len() == 1
    });
    for (env, said) in [
        (vec![("SESSCACHE_FLEET", url.as_str())], "SESSCACHE_FLEET_KEY_FILE"),
        (vec![("SESSCACHE_FLEET", url.as_str()), ("SESSCACHE_FLEET_KEY_FILE", "/nonexistent/fleet.key")], "fleet.key"),
        (
            vec![
                ("SESSCACHE_FLEET", url.as_str()),
                ("SESSCACHE_FLEET_KEY_FILE", file.to_str().unwrap()),
                ("SESSCACHE_FLEET_QUEUE", "many"),
            ],
            "SESSCACHE_FLEET_QUEUE",
        ),
        (
            vec![("SESSCACHE_FLEET", "rediss://127.0.0.1:1"), ("SESSCACHE_FLEET_KEY_FILE", file.to_str().unwrap())],
            "TLS",
        ),
    ] {
        let out = run_child("from_env", &env);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("CHILD remote=false"), "{env:?}");
        let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("sesscache: fleet:")).collect();
        assert_eq!(lines.len(), 1, "{env:?}: {stderr}");
        assert!(lines[0].contains(said) && lines[0].ends_with("the fleet tier is off"), "{env:?}: {}", lines[0]);
    }
    // Off unless set: nothing said.
    let out = run_child("from_env", &[]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("CHILD remote=false"));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("sesscache: fleet"));
}

/// Forks, runs `body` in the child and ends it with `body`'s exit code (without the parent's
/// exit handlers or the test harness); returns that code once the child has exited.
fn exit_code_of_child(body: impl FnOnce() -> i32) -> i32 {
    // SAFETY: the child runs only `body`, which the callers keep to what is safe after fork,
    // and leaves with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        let code = body();
        // SAFETY: ends the child without running the parent's exit handlers or test harness.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waits for the child just forked.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status), "child status {status}");
    libc::WEXITSTATUS(status)
}

/// A forked child builds its own state (origin, counters, threads) and never uses its
/// parent's: what it publishes reaches the parent like another process's.
#[test]
fn a_forked_child_starts_its_own_fleet() {
    let Some(r) = Redis::start("a_forked_child_starts_its_own_fleet") else { return };
    let config = Config::parse(&r.url(), std::path::Path::new("/not/read"), |_| None).unwrap();
    let f = Fleet::new(config, Keys::parse(KEY).unwrap()).unwrap();
    use sesscache::engine::Remote;
    assert_eq!(f.find(&key(9), now()), None);
    eventually(10, "the parent's subscription is up", || {
        let v: (String, i64) =
            redis::cmd("PUBSUB").arg("NUMSUB").arg("sesscache:sessions").query(&mut r.conn()).unwrap();
        v.1 == 1
    });
    assert_eq!(f.counters().remote_lookups, 1);
    // The child only uses the fleet, which starts its own threads.
    let code = exit_code_of_child(|| {
        let mut code = 0;
        if f.counters() != Default::default() {
            code |= 1;
        }
        f.publish(&key(3), vec![0x30, 3], now() + 300);
        f.drain(Duration::from_secs(5));
        if f.counters().published != 1 {
            code |= 2;
        }
        code
    });
    assert_eq!(code, 0, "1: the child saw its parent's counts; 2: it did not publish");
    eventually(10, "the parent received the child's session", || f.counters().received == 1);
    assert_eq!(f.find(&key(3), now()), Some(vec![0x30, 3]));
    let c = f.counters();
    assert_eq!((c.published, c.mirror_hits, c.remote_lookups), (0, 1, 1));
}

/// A forked worker keeps its master's ticket key ring but counts from zero: the host totals
/// add each process's own tickets once.
#[test]
fn a_forked_child_counts_its_own_tickets() {
    let ring = fleet::ring::Keyring::new(now(), 3600).unwrap();
    for _ in 0..3 {
        ring.note_issued();
    }
    let name = ring.counters().ring_version;
    // The child only counts and reads atomics.
    let code = exit_code_of_child(|| {
        let mut code = 0;
        let c = ring.counters();
        if c.issued != 0 {
            code |= 1;
        }
        if c.ring_version != name {
            code |= 2;
        }
        ring.note_issued();
        if ring.counters().issued != 1 {
            code |= 4;
        }
        code
    });
    assert_eq!(code, 0, "1: the child saw its parent's tickets; 2: it lost the ring; 4: it did not count its own");
    assert_eq!(ring.counters().issued, 3, "the parent keeps its own count");
}

/// A directory of the test's, removed when the test ends.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl std::ops::Deref for TempDir {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

trait Mkdir {
    fn tap_mkdir(self) -> TempDir;
}

impl Mkdir for std::path::PathBuf {
    fn tap_mkdir(self) -> TempDir {
        std::fs::create_dir_all(&self).unwrap();
        TempDir(self)
    }
}
