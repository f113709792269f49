//! Connections to Redis, through redis-rs's blocking API, each with connect, read and write
//! timeouts: one server, or a Redis Cluster (SET/GET/DEL/PUBLISH routed by the cluster client;
//! the subscription is one plain connection to a seed, since PUBLISH reaches every node).
//! Only the fleet's own threads call these; the handshake never does.

#![forbid(unsafe_code)]

use std::time::Duration;

use redis::cluster::{ClusterClient, ClusterConnection};
use redis::{Cmd, ConnectionLike, RedisResult};

use super::config::{redact, Servers};

/// How long a connection may take to be made.
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// How long one command may take, for the publisher and the lookup worker (whose callers
/// wait only their budget: a late answer still fills the mirror).
pub const COMMAND_TIMEOUT: Duration = Duration::from_millis(500);
/// How long the subscriber waits for a message before it looks at its stop flag.
pub const SUBSCRIBE_POLL: Duration = Duration::from_millis(100);

/// Where the fleet's Redis is, ready to connect (nothing is connected before the first call).
pub struct Target {
    servers: Servers,
    single: Option<redis::Client>,
    cluster: Option<ClusterClient>,
    /// The cluster's seeds, each a plain client for the subscription.
    seeds: Vec<redis::Client>,
}

/// One connection to the fleet's Redis.
pub enum Conn {
    Single(redis::Connection),
    Cluster(Box<ClusterConnection>),
}

impl Target {
    pub fn new(servers: &Servers) -> Result<Target, String> {
        let client = |url: &str| redis::Client::open(url).map_err(|e| format!("{}: {e}", redact(url)));
        match servers {
            Servers::Single(url) => {
                Ok(Target { servers: servers.clone(), single: Some(client(url)?), cluster: None, seeds: Vec::new() })
            }
            Servers::Cluster(urls) => {
                let cluster = ClusterClient::builder(urls.iter().map(String::as_str))
                    .connection_timeout(CONNECT_TIMEOUT)
                    .response_timeout(COMMAND_TIMEOUT)
                    // A moved slot is followed once; a dead node is the breaker's business.
                    .retries(1)
                    .build()
                    .map_err(|e| format!("Redis Cluster seeds: {e}"))?;
                let seeds = urls.iter().map(|u| client(u)).collect::<Result<Vec<_>, _>>()?;
                Ok(Target { servers: servers.clone(), single: None, cluster: Some(cluster), seeds })
            }
        }
    }

    /// Where this is, for log lines (passwords hidden).
    pub fn describe(&self) -> String {
        match &self.servers {
            Servers::Single(url) => redact(url),
            Servers::Cluster(urls) => {
                format!("Redis Cluster {}", urls.iter().map(|u| redact(u)).collect::<Vec<_>>().join(","))
            }
        }
    }

    /// A connection for commands, with COMMAND_TIMEOUT on reads and writes.
    pub fn connect(&self) -> RedisResult<Conn> {
        if let Some(client) = &self.single {
            let con = client.get_connection_with_timeout(CONNECT_TIMEOUT)?;
            con.set_read_timeout(Some(COMMAND_TIMEOUT))?;
            con.set_write_timeout(Some(COMMAND_TIMEOUT))?;
            return Ok(Conn::Single(con));
        }
        let cluster = self.cluster.as_ref().expect("a target is single or a cluster");
        let con = cluster.get_connection()?;
        con.set_read_timeout(Some(COMMAND_TIMEOUT))?;
        con.set_write_timeout(Some(COMMAND_TIMEOUT))?;
        Ok(Conn::Cluster(Box::new(con)))
    }

    /// A plain connection for SUBSCRIBE, polling every SUBSCRIBE_POLL: the server, or the
    /// first cluster seed that answers (`attempt` picks where to start).
    pub fn subscriber(&self, attempt: usize) -> RedisResult<redis::Connection> {
        let clients: Vec<&redis::Client> = match &self.single {
            Some(c) => vec![c],
            None => self.seeds.iter().collect(),
        };
        let mut last = None;
        for i in 0..clients.len() {
            let client = clients[(attempt + i) % clients.len()];
            match client.get_connection_with_timeout(CONNECT_TIMEOUT) {
                Ok(con) => {
                    con.set_read_timeout(Some(SUBSCRIBE_POLL))?;
                    con.set_write_timeout(Some(COMMAND_TIMEOUT))?;
                    return Ok(con);
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("at least one server"))
    }
}

impl Conn {
    fn link(&mut self) -> &mut dyn ConnectionLike {
        match self {
            Conn::Single(c) => c,
            Conn::Cluster(c) => c.as_mut(),
        }
    }

    /// Every command, in order; one round trip on a single server (a pipeline), one per
    /// command on a cluster (each routed to its slot's node). The first error is returned.
    pub fn run(&mut self, commands: &[Cmd]) -> RedisResult<()> {
        if commands.is_empty() {
            return Ok(());
        }
        match self {
            Conn::Single(c) => {
                let mut pipe = redis::pipe();
                for cmd in commands {
                    pipe.add_command(cmd.clone()).ignore();
                }
                pipe.query::<()>(c)
            }
            Conn::Cluster(_) => {
                for cmd in commands {
                    cmd.query::<redis::Value>(self.link())?;
                }
                Ok(())
            }
        }
    }

    /// The value under the first of `names` that has one, with its index.
    pub fn get_first(&mut self, names: &[String]) -> RedisResult<Option<(usize, Vec<u8>)>> {
        match self {
            Conn::Single(c) if names.len() > 1 => {
                let mut pipe = redis::pipe();
                for name in names {
                    pipe.cmd("GET").arg(name);
                }
                let values: Vec<Option<Vec<u8>>> = pipe.query(c)?;
                Ok(values.into_iter().enumerate().find_map(|(i, v)| v.map(|v| (i, v))))
            }
            _ => {
                for (i, name) in names.iter().enumerate() {
                    let value: Option<Vec<u8>> = redis::cmd("GET").arg(name).query(self.link())?;
                    if let Some(v) = value {
                        return Ok(Some((i, v)));
                    }
                }
                Ok(None)
            }
        }
    }

    pub fn ping(&mut self) -> RedisResult<()> {
        let _: String = redis::cmd("PING").query(self.link())?;
        Ok(())
    }
}

/// `SET name blob EXAT expires_at`.
pub fn set_command(name: &str, blob: &[u8], expires_at: i64) -> Cmd {
    let mut cmd = redis::cmd("SET");
    cmd.arg(name).arg(blob).arg("EXAT").arg(expires_at);
    cmd
}

pub fn publish_command(channel: &str, message: &[u8]) -> Cmd {
    let mut cmd = redis::cmd("PUBLISH");
    cmd.arg(channel).arg(message);
    cmd
}

pub fn del_command(name: &str) -> Cmd {
    let mut cmd = redis::cmd("DEL");
    cmd.arg(name);
    cmd
}
