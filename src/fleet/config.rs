//! The fleet's settings, read once per process from the environment (or given to
//! `sesscache_fleet_configure`, which names the Redis URL and the key file; the knobs below
//! still come from the environment):
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | SESSCACHE_FLEET | `redis://[user:pass@]host:port[/db]` or `redis+unix:///path[?db=N]`; several `redis://` URLs separated by commas are the seeds of a Redis Cluster. `rediss://` (TLS to Redis) is refused: this build has no TLS client. | off |
//! | SESSCACHE_FLEET_KEY_FILE | the key file: one key a line, 64 hex digits; the first seals, every one opens. Required. | - |
//! | SESSCACHE_FLEET_BUDGET_US | how long a handshake may wait for Redis when a session is neither local nor in the mirror, in microseconds (at most 1 s); 0 = never wait (the lookup still runs in the background and fills the mirror) | 1000 |
//! | SESSCACHE_FLEET_MEMORY | the mirror's cap (other processes' sessions kept in memory): bytes, or with K, M or G (powers of 1024) | 64M |
//! | SESSCACHE_FLEET_QUEUE | sessions waiting to be published; more are dropped and counted | 4096 |
//! | SESSCACHE_FLEET_PREFIX | the prefix of every Redis key and of the channels `<prefix>sessions` (new sessions) and `<prefix>removals` (explicit removals) | `sesscache:` |
//! | SESSCACHE_FLEET_SUBSCRIBE | `sessions`: this process hears every new session of the fleet (its mirror is filled ahead of need) and every removal; `removals`: it hears only removals, publishes its own new sessions with SET alone (no PUBLISH), and finds other processes' sessions by the bounded GET, keeping the answer in the mirror. `removals` is for fleets whose size x new-session rate passes a few hundred thousand deliveries a second. Processes of either kind share one fleet. | `sessions` |
//! | SESSCACHE_FLEET_BREAKER | consecutive failed lookups (timeouts or errors) that open the breaker | 3 |
//! | SESSCACHE_FLEET_RETRY_MS | while the breaker is open, how often the lookup worker probes Redis (PING) | 1000 |
//! | SESSCACHE_FLEET_TICKETS | `0`: preloaded contexts keep libssl's own ticket keys (the ticket key ring is off); `1`: they seal and open tickets under the ring | 1 |
//! | SESSCACHE_FLEET_TICKET_ROTATE | seconds between rotations of the ticket key ring, the same fleet-wide (at most 30 days) | 3600 |
//! | SESSCACHE_FLEET_TICKET_PREVIOUS | `1`: a ticket still opens for one period after the one it was sealed in; `0`: only within it | 1 |
//!
//! A setting that does not parse keeps the whole tier off, with one line on stderr that names
//! it: a fleet half-configured the way the operator did not mean is worse than none.

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where Redis is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Servers {
    /// One server (or a primary): its URL.
    Single(String),
    /// The seed nodes of a Redis Cluster (two or more URLs).
    Cluster(Vec<String>),
}

/// What the subscriber listens to (SESSCACHE_FLEET_SUBSCRIBE).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subscribe {
    /// Every new session and every removal: the mirror is filled ahead of need.
    Sessions,
    /// Removals only; other processes' sessions are found by the bounded GET (pull).
    Removals,
}

/// Every setting of the tier, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub servers: Servers,
    pub key_file: PathBuf,
    /// The longest a handshake waits on the network; zero: never.
    pub budget: Duration,
    /// The mirror's cap in bytes.
    pub memory: usize,
    /// The publisher's queue, in sessions.
    pub queue: usize,
    pub prefix: String,
    /// Consecutive lookup failures that open the breaker.
    pub breaker: u32,
    /// How often an open breaker is probed.
    pub retry: Duration,
    pub subscribe: Subscribe,
    pub tickets: Tickets,
}

/// The ticket key ring's settings (`fleet::ring`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tickets {
    /// Whether preloaded contexts get the ring's keys (SESSCACHE_FLEET_TICKETS).
    pub on: bool,
    /// Seconds between rotations (SESSCACHE_FLEET_TICKET_ROTATE).
    pub rotate_secs: i64,
    /// Whether the previous key still opens (SESSCACHE_FLEET_TICKET_PREVIOUS).
    pub previous: bool,
}

impl Default for Tickets {
    fn default() -> Self {
        Tickets { on: true, rotate_secs: DEFAULT_TICKET_ROTATE_SECS, previous: true }
    }
}

pub const DEFAULT_BUDGET_US: u64 = 1000;
pub const MAX_BUDGET_US: u64 = 1_000_000;
pub const DEFAULT_MEMORY: usize = 64 << 20;
pub const DEFAULT_QUEUE: usize = 4096;
pub const MAX_QUEUE: usize = 1 << 20;
pub const DEFAULT_PREFIX: &str = "sesscache:";
pub const DEFAULT_BREAKER: u32 = 3;
pub const DEFAULT_RETRY_MS: u64 = 1000;
pub const DEFAULT_TICKET_ROTATE_SECS: i64 = 3600;
/// 30 days. A key opens for three periods, and the ring's expiry in Redis is `since + 3 x period`:
/// a bound keeps that arithmetic far from overflow (any positive i64 was taken before).
pub const MAX_TICKET_ROTATE_SECS: i64 = 30 * 86_400;

impl Config {
    /// The tier's settings from the environment: None when SESSCACHE_FLEET is unset or empty
    /// (the tier is off), an error naming the setting when one is wrong.
    pub fn from_env() -> Result<Option<Config>, String> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// As `from_env`, reading variables through `var` (tests pass a map).
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Option<Config>, String> {
        let Some(url) = var("SESSCACHE_FLEET").filter(|u| !u.trim().is_empty()) else { return Ok(None) };
        let key_file = var("SESSCACHE_FLEET_KEY_FILE")
            .filter(|k| !k.is_empty())
            .ok_or("SESSCACHE_FLEET is set but SESSCACHE_FLEET_KEY_FILE is not: the tier needs a key file")?;
        Config::parse(&url, Path::new(&key_file), var).map(Some)
    }

    /// The settings for `url` and `key_file`, the knobs read through `var`.
    pub fn parse(url: &str, key_file: &Path, var: impl Fn(&str) -> Option<String>) -> Result<Config, String> {
        if key_file.as_os_str().is_empty() {
            return Err("the fleet needs a key file (SESSCACHE_FLEET_KEY_FILE)".into());
        }
        let knob = |name: &str| var(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let number = |name: &str, default: u64, min: u64, max: u64| -> Result<u64, String> {
            let Some(v) = knob(name) else { return Ok(default) };
            match v.parse::<u64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(format!("{name}={v:?}: expected a whole number from {min} to {max}")),
            }
        };
        let budget = number("SESSCACHE_FLEET_BUDGET_US", DEFAULT_BUDGET_US, 0, MAX_BUDGET_US)?;
        let queue = number("SESSCACHE_FLEET_QUEUE", DEFAULT_QUEUE as u64, 1, MAX_QUEUE as u64)? as usize;
        let breaker = number("SESSCACHE_FLEET_BREAKER", u64::from(DEFAULT_BREAKER), 1, 1_000_000)? as u32;
        let retry = number("SESSCACHE_FLEET_RETRY_MS", DEFAULT_RETRY_MS, 1, 3_600_000)?;
        let memory = match knob("SESSCACHE_FLEET_MEMORY") {
            None => DEFAULT_MEMORY,
            Some(v) => parse_size(&v).ok_or_else(|| {
                format!("SESSCACHE_FLEET_MEMORY={v:?}: expected bytes, or a number with K, M or G (e.g. 64M)")
            })?,
        };
        let prefix = match var("SESSCACHE_FLEET_PREFIX") {
            None => DEFAULT_PREFIX.to_string(),
            Some(p) if p.len() <= 64 && p.bytes().all(|b| b.is_ascii_graphic()) => p,
            Some(p) => {
                return Err(format!("SESSCACHE_FLEET_PREFIX={p:?}: expected at most 64 printable ASCII characters"))
            }
        };
        let subscribe = match knob("SESSCACHE_FLEET_SUBSCRIBE").map(|v| v.to_ascii_lowercase()).as_deref() {
            None | Some("sessions") => Subscribe::Sessions,
            Some("removals") => Subscribe::Removals,
            Some(v) => {
                return Err(format!("SESSCACHE_FLEET_SUBSCRIBE={v:?}: expected sessions (the default) or removals"))
            }
        };
        let flag = |name: &str| -> Result<bool, String> {
            match knob(name).as_deref() {
                None | Some("1") => Ok(true),
                Some("0") => Ok(false),
                Some(v) => Err(format!("{name}={v:?}: expected 0 or 1")),
            }
        };
        let tickets = Tickets {
            on: flag("SESSCACHE_FLEET_TICKETS")?,
            rotate_secs: number(
                "SESSCACHE_FLEET_TICKET_ROTATE",
                DEFAULT_TICKET_ROTATE_SECS as u64,
                1,
                MAX_TICKET_ROTATE_SECS as u64,
            )? as i64,
            previous: flag("SESSCACHE_FLEET_TICKET_PREVIOUS")?,
        };
        Ok(Config {
            servers: parse_servers(url)?,
            key_file: key_file.to_path_buf(),
            budget: Duration::from_micros(budget),
            memory,
            queue,
            prefix,
            breaker,
            retry: Duration::from_millis(retry),
            subscribe,
            tickets,
        })
    }

    /// The pub/sub channel of new sessions (published only by `sessions` processes).
    pub fn sessions_channel(&self) -> String {
        format!("{}sessions", self.prefix)
    }

    /// The pub/sub channel of explicit removals, which every process publishes and hears.
    pub fn removals_channel(&self) -> String {
        format!("{}removals", self.prefix)
    }

    /// The channels this process's subscriber listens to.
    pub fn channels(&self) -> Vec<String> {
        match self.subscribe {
            Subscribe::Sessions => vec![self.sessions_channel(), self.removals_channel()],
            Subscribe::Removals => vec![self.removals_channel()],
        }
    }
}

/// SESSCACHE_FLEET: one URL, or several (a cluster's seeds) separated by commas.
pub fn parse_servers(text: &str) -> Result<Servers, String> {
    let urls: Vec<&str> = text.split(',').map(str::trim).filter(|u| !u.is_empty()).collect();
    if urls.is_empty() {
        return Err("SESSCACHE_FLEET is empty: expected redis://host:port or redis+unix:///path".into());
    }
    for url in &urls {
        check_url(url, urls.len() > 1)?;
    }
    Ok(match urls.as_slice() {
        [one] => Servers::Single(one.to_string()),
        many => Servers::Cluster(many.iter().map(|u| u.to_string()).collect()),
    })
}

/// One URL, with the reason it cannot be used. The error repeats the URL less any password.
fn check_url(url: &str, in_cluster: bool) -> Result<(), String> {
    let shown = redact(url);
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("redis") => {}
        Some("redis+unix") | Some("unix") if !in_cluster => {}
        Some("redis+unix") | Some("unix") => {
            return Err(format!("SESSCACHE_FLEET: {shown}: a Redis Cluster's seeds must be redis://host:port"))
        }
        Some("rediss") => {
            return Err(format!(
                "SESSCACHE_FLEET: {shown}: rediss:// (TLS to Redis) is not supported by this build; use redis:// \
                 over a trusted network or a tunnel (the sessions themselves are sealed either way)"
            ))
        }
        _ => {
            return Err(format!(
                "SESSCACHE_FLEET: {shown}: expected redis://host:port[/db] or redis+unix:///path (several redis:// \
                 URLs separated by commas for a Redis Cluster)"
            ))
        }
    }
    redis::Client::open(url).map(|_| ()).map_err(|e| format!("SESSCACHE_FLEET: {shown}: {}", e.detail_or_kind()))
}

trait Detail {
    fn detail_or_kind(&self) -> String;
}

impl Detail for redis::RedisError {
    fn detail_or_kind(&self) -> String {
        self.detail().map_or_else(|| format!("{:?}", self.kind()), str::to_string)
    }
}

/// `url` with the password, if any, replaced by `***`: URLs appear in log lines.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((user_pass, host)) => {
            let user = user_pass.split_once(':').map_or(user_pass, |(u, _)| u);
            format!("{scheme}://{user}:***@{host}{path}")
        }
        None => url.to_string(),
    }
}

/// `64M`, `1G`, `512K`, `1048576`: bytes, the suffixes powers of 1024. At least 1 KiB.
pub fn parse_size(text: &str) -> Option<usize> {
    let text = text.trim();
    let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => text.split_at(i),
        None => (text, ""),
    };
    let n: usize = digits.parse().ok()?;
    let shift = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        _ => return None,
    };
    let bytes = n.checked_mul(1usize << shift)?;
    (bytes >= 1024).then_some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn off_unless_set() {
        assert_eq!(Config::from_lookup(env(&[])), Ok(None));
        assert_eq!(Config::from_lookup(env(&[("SESSCACHE_FLEET", " ")])), Ok(None));
    }

    #[test]
    fn defaults() {
        let c = Config::from_lookup(env(&[
            ("SESSCACHE_FLEET", "redis://127.0.0.1:6379/2"),
            ("SESSCACHE_FLEET_KEY_FILE", "/k"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(c.servers, Servers::Single("redis://127.0.0.1:6379/2".into()));
        assert_eq!(c.key_file, PathBuf::from("/k"));
        assert_eq!(c.budget, Duration::from_micros(1000));
        assert_eq!((c.memory, c.queue, c.breaker), (64 << 20, 4096, 3));
        assert_eq!(c.prefix, "sesscache:");
        assert_eq!(c.retry, Duration::from_secs(1));
        assert_eq!(c.subscribe, Subscribe::Sessions);
        assert_eq!(c.channels(), ["sesscache:sessions", "sesscache:removals"]);
        assert_eq!(c.tickets, Tickets { on: true, rotate_secs: 3600, previous: true });
    }

    #[test]
    fn every_knob() {
        let c = Config::parse(
            "redis+unix:///run/redis.sock",
            Path::new("/k"),
            env(&[
                ("SESSCACHE_FLEET_BUDGET_US", "0"),
                ("SESSCACHE_FLEET_MEMORY", "2g"),
                ("SESSCACHE_FLEET_QUEUE", "10"),
                ("SESSCACHE_FLEET_PREFIX", "x:"),
                ("SESSCACHE_FLEET_BREAKER", "7"),
                ("SESSCACHE_FLEET_RETRY_MS", "50"),
                ("SESSCACHE_FLEET_SUBSCRIBE", " Removals "),
                ("SESSCACHE_FLEET_TICKETS", "0"),
                ("SESSCACHE_FLEET_TICKET_ROTATE", " 2 "),
                ("SESSCACHE_FLEET_TICKET_PREVIOUS", "0"),
            ]),
        )
        .unwrap();
        assert_eq!(c.subscribe, Subscribe::Removals);
        assert_eq!(c.channels(), ["x:removals"]);
        assert_eq!((c.sessions_channel(), c.removals_channel()), ("x:sessions".into(), "x:removals".into()));
        assert_eq!(c.budget, Duration::ZERO);
        assert_eq!((c.memory, c.queue, c.breaker), (2 << 30, 10, 7));
        assert_eq!(c.prefix, "x:");
        assert_eq!(c.retry, Duration::from_millis(50));
        assert_eq!(c.tickets, Tickets { on: false, rotate_secs: 2, previous: false });
        let on = |pairs: &[(&str, &str)]| Config::parse("redis://h", Path::new("/k"), env(pairs)).unwrap().tickets;
        let t = on(&[
            ("SESSCACHE_FLEET_TICKETS", "1"),
            ("SESSCACHE_FLEET_TICKET_ROTATE", "2592000"),
            ("SESSCACHE_FLEET_TICKET_PREVIOUS", "1"),
        ]);
        assert_eq!(t, Tickets { on: true, rotate_secs: 30 * 86_400, previous: true });
        // Empty is unset, as for every knob.
        assert_eq!(on(&[("SESSCACHE_FLEET_TICKETS", ""), ("SESSCACHE_FLEET_TICKET_ROTATE", " ")]), Tickets::default());
    }

    #[test]
    fn clear_errors() {
        let err = |url: &str, pairs: &[(&str, &str)]| Config::parse(url, Path::new("/k"), env(pairs)).unwrap_err();
        assert!(Config::from_lookup(env(&[("SESSCACHE_FLEET", "redis://h")])).unwrap_err().contains("KEY_FILE"));
        assert!(err("rediss://h:6380", &[]).contains("TLS"));
        assert!(err("http://h", &[]).contains("expected redis://"));
        assert!(err("redis://a:1,redis+unix:///s", &[]).contains("Cluster"));
        let e = err("redis://h", &[("SESSCACHE_FLEET_BUDGET_US", "1ms")]);
        assert!(e.starts_with("SESSCACHE_FLEET_BUDGET_US=\"1ms\""), "{e}");
        assert!(err("redis://h", &[("SESSCACHE_FLEET_BUDGET_US", "2000000")]).contains("0 to 1000000"));
        assert!(err("redis://h", &[("SESSCACHE_FLEET_QUEUE", "0")]).contains("QUEUE"));
        assert!(err("redis://h", &[("SESSCACHE_FLEET_MEMORY", "lots")]).contains("MEMORY"));
        assert!(err("redis://h", &[("SESSCACHE_FLEET_BREAKER", "-1")]).contains("BREAKER"));
        assert!(err("redis://h", &[("SESSCACHE_FLEET_PREFIX", "a b")]).contains("PREFIX"));
        let e = err("redis://h", &[("SESSCACHE_FLEET_SUBSCRIBE", "all")]);
        assert!(e.starts_with("SESSCACHE_FLEET_SUBSCRIBE=\"all\": expected sessions"), "{e}");
        // The ticket key ring's knobs follow the same rule: a bad value keeps the tier off.
        let e = err("redis://h", &[("SESSCACHE_FLEET_TICKET_ROTATE", "1h")]);
        assert!(e.starts_with("SESSCACHE_FLEET_TICKET_ROTATE=\"1h\": expected a whole number from 1 to"), "{e}");
        assert!(err("redis://h", &[("SESSCACHE_FLEET_TICKET_ROTATE", "0")]).contains("TICKET_ROTATE"));
        assert!(err("redis://h", &[("SESSCACHE_FLEET_TICKET_ROTATE", "-5")]).contains("TICKET_ROTATE"));
        let e = err("redis://h", &[("SESSCACHE_FLEET_TICKET_ROTATE", "9223372036854775807")]);
        assert!(e.contains("TICKET_ROTATE"), "{e}");
        let e = err("redis://h", &[("SESSCACHE_FLEET_TICKET_PREVIOUS", "yes")]);
        assert!(e.starts_with("SESSCACHE_FLEET_TICKET_PREVIOUS=\"yes\": expected 0 or 1"), "{e}");
        let e = err("redis://h", &[("SESSCACHE_FLEET_TICKETS", "off")]);
        assert!(e.starts_with("SESSCACHE_FLEET_TICKETS=\"off\": expected 0 or 1"), "{e}");
        // A password never appears in an error.
        let e = err("rediss://u:secret@h:1/0", &[]);
        assert!(e.contains("u:***@h:1/0") && !e.contains("secret"), "{e}");
        assert!(Config::parse("redis://h", Path::new(""), env(&[])).unwrap_err().contains("key file"));
    }

    #[test]
    fn cluster_seeds() {
        assert_eq!(
            parse_servers("redis://a:1, redis://b:2,,").unwrap(),
            Servers::Cluster(vec!["redis://a:1".into(), "redis://b:2".into()])
        );
        assert!(parse_servers(" , ").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64M"), Some(64 << 20));
        assert_eq!(parse_size("512k"), Some(512 << 10));
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("1GiB"), Some(1 << 30));
        assert_eq!(parse_size("10"), None);
        assert_eq!(parse_size("M"), None);
        assert_eq!(parse_size("5T"), None);
        assert_eq!(parse_size("99999999999999999999G"), None);
    }
}
