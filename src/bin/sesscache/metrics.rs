//! `sesscache metrics --listen ADDR`: one Prometheus endpoint for the host. Each scrape of
//! GET /metrics reads every process's stats socket and answers in the OpenMetrics text format
//! (which Prometheus scrapes), encoded by the prometheus-client crate: counters per process
//! (labels pid, program, mode) and the host's totals; the fleet tier's counts (`sesscache_fleet_*`,
//! `sesscache_host_fleet_*`) for the processes where it runs, and the ticket key ring's
//! (`sesscache_tickets_*`, `sesscache_host_tickets_*`) for the processes that have one. One
//! connection at a time; a request is read for at most 5 s and 8 KiB.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde_json::Value;

use crate::procs::{self, count, FLEET_COUNTERS, TICKET_COUNTERS};

const REQUEST_LIMIT: usize = 8 * 1024;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The counters exported, with their help text (the name gets `_total`).
const COUNTERS: [(&str, &str); 13] = [
    ("connect", "Client handshakes started (SSL_CTX_sess_connect)"),
    ("connect_good", "Client handshakes completed (SSL_CTX_sess_connect_good)"),
    ("connect_renegotiate", "Client renegotiations started (SSL_CTX_sess_connect_renegotiate)"),
    ("accept", "Server handshakes started (SSL_CTX_sess_accept)"),
    ("accept_good", "Server handshakes completed (SSL_CTX_sess_accept_good)"),
    ("accept_renegotiate", "Server renegotiations started (SSL_CTX_sess_accept_renegotiate)"),
    ("hits", "Sessions resumed from the cache (SSL_CTX_sess_hits)"),
    ("cb_hits", "Sessions resumed through the get-session callback (SSL_CTX_sess_cb_hits)"),
    ("misses", "Session lookups not found (SSL_CTX_sess_misses)"),
    ("timeouts", "Sessions found but expired (SSL_CTX_sess_timeouts)"),
    ("cache_full", "Sessions evicted because the cache was full (SSL_CTX_sess_cache_full)"),
    ("stored", "Sessions the cache took in"),
    ("served", "Lookups the cache answered with a session"),
];

type Labels = Vec<(String, String)>;

/// The exposition of one scan: per process and host totals.
pub fn exposition(processes: &[Value]) -> String {
    let mut registry = Registry::with_prefix("sesscache");
    let labels = |p: &Value| -> Labels {
        let s = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        vec![("pid".into(), count(p, "pid").to_string()), ("program".into(), s("program")), ("mode".into(), s("mode"))]
    };
    let empty = Value::Null;
    let sessions = Family::<Labels, Gauge>::default();
    let contexts = Family::<Labels, Gauge>::default();
    for p in processes {
        let t = p.get("totals").unwrap_or(&empty);
        sessions.get_or_create(&labels(p)).set(count(t, "number"));
        contexts.get_or_create(&labels(p)).set(count(t, "contexts"));
    }
    registry.register("sessions", "Sessions cached now, per process", sessions);
    registry.register("contexts", "Live SSL_CTX contexts, per process", contexts);
    for (name, help) in COUNTERS {
        let family = Family::<Labels, Counter>::default();
        for p in processes {
            let t = p.get("totals").unwrap_or(&empty);
            family.get_or_create(&labels(p)).inc_by(count(t, name).max(0) as u64);
        }
        registry.register(name, format!("{help}, per process"), family);
    }
    // The fleet tier's, for the processes where it runs.
    let fleets: Vec<(Labels, &serde_json::Map<String, Value>)> =
        processes.iter().filter_map(|p| procs::fleet(p).map(|f| (labels(p), f))).collect();
    let member_count =
        |f: &serde_json::Map<String, Value>, name: &str| f.get(name).and_then(Value::as_i64).unwrap_or(0);
    if !fleets.is_empty() {
        let fleet = registry.sub_registry_with_prefix("fleet");
        for (name, help) in FLEET_COUNTERS {
            if procs::fleet_level(name) {
                let family = Family::<Labels, Gauge>::default();
                for (l, f) in &fleets {
                    family.get_or_create(l).set(member_count(f, name));
                }
                fleet.register(name, format!("{help}, per process"), family);
            } else {
                let family = Family::<Labels, Counter>::default();
                for (l, f) in &fleets {
                    family.get_or_create(l).inc_by(member_count(f, name).max(0) as u64);
                }
                fleet.register(name, format!("{help}, per process"), family);
            }
        }
    }
    // The ticket key ring's, for the processes that have one.
    let rings: Vec<(Labels, &serde_json::Map<String, Value>)> =
        processes.iter().filter_map(|p| procs::tickets(p).map(|r| (labels(p), r))).collect();
    if !rings.is_empty() {
        let tickets = registry.sub_registry_with_prefix("tickets");
        for (name, help) in TICKET_COUNTERS {
            if procs::ticket_level(name) {
                let family = Family::<Labels, Gauge>::default();
                for (l, r) in &rings {
                    family.get_or_create(l).set(member_count(r, name));
                }
                tickets.register(name, format!("{help}, per process"), family);
            } else {
                let family = Family::<Labels, Counter>::default();
                for (l, r) in &rings {
                    family.get_or_create(l).inc_by(member_count(r, name).max(0) as u64);
                }
                tickets.register(name, format!("{help}, per process"), family);
            }
        }
    }
    let totals = procs::totals(processes);
    let total = |name: &str| totals.get(name).and_then(Value::as_i64).unwrap_or(0);
    let host = registry.sub_registry_with_prefix("host");
    let g = Gauge::<i64>::default();
    g.set(processes.len() as i64);
    host.register("processes", "Processes answering on their stats socket", g);
    let g = Gauge::<i64>::default();
    g.set(total("number"));
    host.register("sessions", "Sessions cached now, all processes", g);
    for (name, help) in COUNTERS {
        let c = Counter::<u64>::default();
        c.inc_by(total(name).max(0) as u64);
        host.register(name, format!("{help}, all processes"), c);
    }
    if let Some(f) = totals.get("fleet").and_then(Value::as_object) {
        let host_fleet = host.sub_registry_with_prefix("fleet");
        let g = Gauge::<i64>::default();
        g.set(member_count(f, "processes"));
        host_fleet.register("processes", "Processes where the fleet tier runs", g);
        for (name, help) in FLEET_COUNTERS {
            if procs::fleet_level(name) {
                let g = Gauge::<i64>::default();
                g.set(member_count(f, name));
                host_fleet.register(name, format!("{help}, all processes"), g);
            } else {
                let c = Counter::<u64>::default();
                c.inc_by(member_count(f, name).max(0) as u64);
                host_fleet.register(name, format!("{help}, all processes"), c);
            }
        }
    }
    if let Some(r) = totals.get("tickets").and_then(Value::as_object) {
        let host_tickets = host.sub_registry_with_prefix("tickets");
        let g = Gauge::<i64>::default();
        g.set(member_count(r, "processes"));
        host_tickets.register("processes", "Processes that have a ticket key ring", g);
        for (name, help) in TICKET_COUNTERS {
            if procs::ticket_level(name) {
                let g = Gauge::<i64>::default();
                g.set(member_count(r, name));
                host_tickets.register(name, format!("{help}, the newest of all processes"), g);
            } else {
                let c = Counter::<u64>::default();
                c.inc_by(member_count(r, name).max(0) as u64);
                host_tickets.register(name, format!("{help}, all processes"), c);
            }
        }
    }
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
    out
}

/// What a request asks for.
#[derive(Debug, PartialEq)]
pub enum Route {
    Metrics,
    NotFound,
    BadMethod,
    Bad,
}

/// The request line of an HTTP request head.
pub fn route(head: &[u8]) -> Route {
    let Some(line) = head.split(|&b| b == b'\n').next() else { return Route::Bad };
    let line = String::from_utf8_lossy(line);
    let mut words = line.split_whitespace();
    let (Some(method), Some(target), Some(version)) = (words.next(), words.next(), words.next()) else {
        return Route::Bad;
    };
    if !version.starts_with("HTTP/") {
        return Route::Bad;
    }
    if method != "GET" && method != "HEAD" {
        return Route::BadMethod;
    }
    match target.split('?').next() {
        Some("/metrics") => Route::Metrics,
        _ => Route::NotFound,
    }
}

fn respond(mut stream: TcpStream, dir: &Path) {
    let _ = stream.set_read_timeout(Some(REQUEST_TIMEOUT));
    let _ = stream.set_write_timeout(Some(REQUEST_TIMEOUT));
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    let too_long = loop {
        if head.windows(4).any(|w| w == b"\r\n\r\n") || head.windows(2).any(|w| w == b"\n\n") {
            break false;
        }
        if head.len() >= REQUEST_LIMIT {
            break true;
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break false,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    };
    let head_only = head.starts_with(b"HEAD ");
    let (status, ctype, body) = match (too_long, route(&head)) {
        (true, _) => ("431 Request Header Fields Too Large", "text/plain", "request too large\n".to_string()),
        (_, Route::Metrics) => ("200 OK", CONTENT_TYPE, exposition(&procs::scan(dir).processes)),
        (_, Route::NotFound) => ("404 Not Found", "text/plain", "try /metrics\n".to_string()),
        (_, Route::BadMethod) => ("405 Method Not Allowed", "text/plain", "GET only\n".to_string()),
        (_, Route::Bad) => ("400 Bad Request", "text/plain", "bad request\n".to_string()),
    };
    let mut reply = format!(
        "HTTP/1.0 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if !head_only {
        reply.push_str(&body);
    }
    let _ = stream.write_all(reply.as_bytes());
}

pub fn serve(listen: &str, run_dir: Option<&Path>) -> i32 {
    let dir = procs::run_dir(run_dir);
    let listener = match TcpListener::bind(listen) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("sesscache metrics: cannot listen on {listen}: {e}");
            return crate::FAILED;
        }
    };
    let shown = listener.local_addr().map_or_else(|_| listen.to_string(), |a| a.to_string());
    eprintln!("sesscache metrics: http://{shown}/metrics (processes in {})", dir.display());
    for stream in listener.incoming() {
        match stream {
            Ok(s) => respond(s, &dir),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    crate::OK
}

#[cfg(test)]
mod tests {
    use super::*;

    /// sesscache(1) names every fleet and ticket series: a counter by its NAME in
    /// `sesscache_fleet_NAME_total` (`sesscache_tickets_NAME_total`), a gauge by its full name.
    #[test]
    fn the_man_page_names_every_fleet_and_ticket_series() {
        let words = procs::man_page_bold_words("metrics");
        let series = FLEET_COUNTERS.iter().map(|(n, _)| ("fleet", *n, procs::fleet_level(n)));
        let series = series.chain(TICKET_COUNTERS.iter().map(|(n, _)| ("tickets", *n, procs::ticket_level(n))));
        for (family, name, gauge) in series {
            let word = if gauge { format!("sesscache_{family}_{name}") } else { name.to_string() };
            assert!(words.contains(&word.as_str()), "sesscache(1) metrics does not name {word}");
        }
        for word in ["sesscache_host_fleet_processes", "sesscache_host_tickets_processes"] {
            assert!(words.contains(&word), "sesscache(1) metrics does not name {word}");
        }
    }

    #[test]
    fn routes() {
        assert_eq!(route(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), Route::Metrics);
        assert_eq!(route(b"GET /metrics?x=1 HTTP/1.0\r\n\r\n"), Route::Metrics);
        assert_eq!(route(b"GET / HTTP/1.1\r\n\r\n"), Route::NotFound);
        assert_eq!(route(b"POST /metrics HTTP/1.1\r\n\r\n"), Route::BadMethod);
        assert_eq!(route(b"garbage\r\n\r\n"), Route::Bad);
        assert_eq!(route(b""), Route::Bad);
    }

    /// HELP and TYPE for each family, labelled samples per process, host totals, the EOF.
    #[test]
    fn the_exposition() {
        let p: Value = serde_json::from_str(
            r#"{"pid":41,"program":"ng\"inx","mode":"preload",
                "totals":{"contexts":2,"number":3,"accept":12,"hits":8,"misses":4}}"#,
        )
        .unwrap();
        let q: Value =
            serde_json::from_str(r#"{"pid":42,"program":"nginx","mode":"preload","totals":{"accept":1}}"#).unwrap();
        let out = exposition(&[p, q]);
        for want in [
            "# HELP sesscache_accept Server handshakes started (SSL_CTX_sess_accept), per process.\n",
            "# TYPE sesscache_accept counter\n",
            "sesscache_accept_total{pid=\"41\",program=\"ng\\\"inx\",mode=\"preload\"} 12\n",
            "sesscache_accept_total{pid=\"42\",program=\"nginx\",mode=\"preload\"} 1\n",
            "# TYPE sesscache_sessions gauge\n",
            "sesscache_sessions{pid=\"41\",program=\"ng\\\"inx\",mode=\"preload\"} 3\n",
            "# TYPE sesscache_host_accept counter\n",
            "sesscache_host_accept_total 13\n",
            "sesscache_host_hits_total 8\n",
            "sesscache_host_processes 2\n",
        ] {
            assert!(out.contains(want), "missing {want:?} in:\n{out}");
        }
        assert!(out.ends_with("# EOF\n"));
        assert!(!out.contains("fleet"), "no fleet anywhere: no fleet families");
        assert!(!out.contains("tickets"), "no ring anywhere: no ticket families");
    }

    /// The fleet's counts per process where it runs, and the host's sums.
    #[test]
    fn the_fleet_exposition() {
        let p: Value = serde_json::from_str(
            r#"{"pid":41,"program":"nginx","mode":"preload","totals":{},
                "fleet":{"published":5,"remote_hits":2,"mirror_entries":3,"mirror_bytes":960}}"#,
        )
        .unwrap();
        let q: Value = serde_json::from_str(
            r#"{"pid":42,"program":"nginx","mode":"preload","totals":{},"fleet":{"published":1,"mirror_entries":1}}"#,
        )
        .unwrap();
        let off: Value =
            serde_json::from_str(r#"{"pid":43,"program":"x","mode":"native","totals":{},"fleet":null}"#).unwrap();
        let out = exposition(&[p, q, off]);
        for want in [
            "# TYPE sesscache_fleet_published counter\n",
            "sesscache_fleet_published_total{pid=\"41\",program=\"nginx\",mode=\"preload\"} 5\n",
            "sesscache_fleet_published_total{pid=\"42\",program=\"nginx\",mode=\"preload\"} 1\n",
            "sesscache_fleet_remote_hits_total{pid=\"41\",program=\"nginx\",mode=\"preload\"} 2\n",
            "# TYPE sesscache_fleet_mirror_entries gauge\n",
            "sesscache_fleet_mirror_bytes{pid=\"41\",program=\"nginx\",mode=\"preload\"} 960\n",
            "sesscache_host_fleet_published_total 6\n",
            "sesscache_host_fleet_mirror_entries 4\n",
            "sesscache_host_fleet_processes 2\n",
        ] {
            assert!(out.contains(want), "missing {want:?} in:\n{out}");
        }
        assert!(!out.contains("pid=\"43\"} ") && !out.contains("sesscache_fleet_published_total{pid=\"43\""));
    }

    /// The ring's counts per process that has one, and the host's: sums, the newest version.
    #[test]
    fn the_tickets_exposition() {
        let p: Value = serde_json::from_str(
            r#"{"pid":41,"program":"nginx","mode":"preload","totals":{},"fleet":null,
                "tickets":{"ring_version":490001,"rotations":2,"rings_fetched":1,"opened_previous":3,
                           "refused_aged_out":4}}"#,
        )
        .unwrap();
        let q: Value = serde_json::from_str(
            r#"{"pid":42,"program":"nginx","mode":"preload","totals":{},
                "tickets":{"ring_version":490000,"rotations":1,"refused_aged_out":1}}"#,
        )
        .unwrap();
        let none: Value =
            serde_json::from_str(r#"{"pid":43,"program":"x","mode":"native","totals":{},"tickets":null}"#).unwrap();
        let out = exposition(&[p, q, none]);
        for want in [
            "# TYPE sesscache_tickets_ring_version gauge\n",
            "sesscache_tickets_ring_version{pid=\"41\",program=\"nginx\",mode=\"preload\"} 490001\n",
            "sesscache_tickets_ring_version{pid=\"42\",program=\"nginx\",mode=\"preload\"} 490000\n",
            "# TYPE sesscache_tickets_rotations counter\n",
            "sesscache_tickets_rotations_total{pid=\"41\",program=\"nginx\",mode=\"preload\"} 2\n",
            "sesscache_tickets_rings_fetched_total{pid=\"41\",program=\"nginx\",mode=\"preload\"} 1\n",
            "sesscache_tickets_opened_previous_total{pid=\"41\",program=\"nginx\",mode=\"preload\"} 3\n",
            "sesscache_tickets_refused_aged_out_total{pid=\"42\",program=\"nginx\",mode=\"preload\"} 1\n",
            "sesscache_tickets_issued_total{pid=\"42\",program=\"nginx\",mode=\"preload\"} 0\n",
            "# TYPE sesscache_host_tickets_ring_version gauge\n",
            "sesscache_host_tickets_ring_version 490001\n",
            "sesscache_host_tickets_rotations_total 3\n",
            "sesscache_host_tickets_refused_aged_out_total 5\n",
            "sesscache_host_tickets_opened_previous_total 3\n",
            "sesscache_host_tickets_processes 2\n",
        ] {
            assert!(out.contains(want), "missing {want:?} in:\n{out}");
        }
        assert!(!out.contains("sesscache_tickets_rotations_total{pid=\"43\""), "no ring: no ticket samples");
        assert!(!out.contains("sesscache_fleet_"), "no fleet anywhere: no fleet families");
        for (name, _) in TICKET_COUNTERS {
            assert!(out.contains(&format!("# TYPE sesscache_tickets_{name} ")), "no family for {name}");
            assert!(out.contains(&format!("# TYPE sesscache_host_tickets_{name} ")), "no host family for {name}");
        }
    }
}
