//! A context's counters at one moment, as plain typed data: what the report prints and what
//! later consumers (a stats socket, metrics) read. Taking one is a handful of atomic reads.

#![forbid(unsafe_code)]

use std::ffi::c_int;

use crate::abi::*;

/// Which front the context belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Front {
    Native,
    Preload,
}

impl Front {
    pub fn name(self) -> &'static str {
        match self {
            Front::Native => "native",
            Front::Preload => "preload",
        }
    }
}

/// The twelve statistics as `SSL_CTX_sess_*` answers them, and the engine's own counts: the
/// sessions it took in (`stored`) and the lookups it answered with a session (`served`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub front: Front,
    pub number: i64,
    pub connect: i64,
    pub connect_good: i64,
    pub connect_renegotiate: i64,
    pub accept: i64,
    pub accept_good: i64,
    pub accept_renegotiate: i64,
    pub hits: i64,
    pub cb_hits: i64,
    pub misses: i64,
    pub timeouts: i64,
    pub cache_full: i64,
    pub stored: u64,
    pub served: u64,
}

impl Snapshot {
    /// From a front's answer to each SSL_CTRL_SESS_* command.
    pub fn from_ctrl(front: Front, statistic: impl Fn(c_int) -> i64, stored: u64, served: u64) -> Snapshot {
        Snapshot {
            front,
            number: statistic(SSL_CTRL_SESS_NUMBER),
            connect: statistic(SSL_CTRL_SESS_CONNECT),
            connect_good: statistic(SSL_CTRL_SESS_CONNECT_GOOD),
            connect_renegotiate: statistic(SSL_CTRL_SESS_CONNECT_RENEGOTIATE),
            accept: statistic(SSL_CTRL_SESS_ACCEPT),
            accept_good: statistic(SSL_CTRL_SESS_ACCEPT_GOOD),
            accept_renegotiate: statistic(SSL_CTRL_SESS_ACCEPT_RENEGOTIATE),
            hits: statistic(SSL_CTRL_SESS_HIT),
            cb_hits: statistic(SSL_CTRL_SESS_CB_HIT),
            misses: statistic(SSL_CTRL_SESS_MISSES),
            timeouts: statistic(SSL_CTRL_SESS_TIMEOUTS),
            cache_full: statistic(SSL_CTRL_SESS_CACHE_FULL),
            stored,
            served,
        }
    }

    /// The twelve statistics with their `SSL_CTX_sess_*` names, in SSL_CTRL_SESS_* order.
    pub fn statistics(&self) -> [(&'static str, i64); 12] {
        [
            ("number", self.number),
            ("connect", self.connect),
            ("connect_good", self.connect_good),
            ("connect_renegotiate", self.connect_renegotiate),
            ("accept", self.accept),
            ("accept_good", self.accept_good),
            ("accept_renegotiate", self.accept_renegotiate),
            ("hits", self.hits),
            ("cb_hits", self.cb_hits),
            ("misses", self.misses),
            ("timeouts", self.timeouts),
            ("cache_full", self.cache_full),
        ]
    }

    /// The sum of two contexts' counts (a process's totals); the front is `self`'s.
    pub fn plus(&self, b: &Snapshot) -> Snapshot {
        Snapshot {
            front: self.front,
            number: self.number + b.number,
            connect: self.connect + b.connect,
            connect_good: self.connect_good + b.connect_good,
            connect_renegotiate: self.connect_renegotiate + b.connect_renegotiate,
            accept: self.accept + b.accept,
            accept_good: self.accept_good + b.accept_good,
            accept_renegotiate: self.accept_renegotiate + b.accept_renegotiate,
            hits: self.hits + b.hits,
            cb_hits: self.cb_hits + b.cb_hits,
            misses: self.misses + b.misses,
            timeouts: self.timeouts + b.timeouts,
            cache_full: self.cache_full + b.cache_full,
            stored: self.stored.wrapping_add(b.stored),
            served: self.served.wrapping_add(b.served),
        }
    }

    /// What the context did since `base` (the counts at an earlier moment); `number`, the
    /// sessions cached now, stays as it is.
    pub fn since(&self, base: &Snapshot) -> Snapshot {
        Snapshot {
            front: self.front,
            number: self.number,
            connect: self.connect - base.connect,
            connect_good: self.connect_good - base.connect_good,
            connect_renegotiate: self.connect_renegotiate - base.connect_renegotiate,
            accept: self.accept - base.accept,
            accept_good: self.accept_good - base.accept_good,
            accept_renegotiate: self.accept_renegotiate - base.accept_renegotiate,
            hits: self.hits - base.hits,
            cb_hits: self.cb_hits - base.cb_hits,
            misses: self.misses - base.misses,
            timeouts: self.timeouts - base.timeouts,
            cache_full: self.cache_full - base.cache_full,
            stored: self.stored.wrapping_sub(base.stored),
            served: self.served.wrapping_sub(base.served),
        }
    }

    /// Whether any count but `number` is non-zero: the context worked.
    pub fn worked(&self) -> bool {
        self.statistics()[1..].iter().any(|&(_, v)| v != 0) || self.stored != 0 || self.served != 0
    }
}
