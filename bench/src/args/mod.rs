//! Command-line options.
//!
//! This file owns what a run is asked to do ([`Args`]); `parser` declares the options (and their
//! `--help` text) with clap and reads the command line and the environment's PostgreSQL URL into
//! them, and `layers` is the ladder of cache layers `--layers` picks from.
mod layers;
mod parser;

pub use layers::Layers;
pub use parser::parse;

use std::time::Duration;

use crate::workload::Workload;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbKind {
    Sqlite,
    Postgres,
}

impl DbKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DbKind::Sqlite => "sqlite",
            DbKind::Postgres => "postgres",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Redis,
    /// Redis Cluster: three primaries on this machine, started by the benchmark.
    RedisCluster,
    Memory,
    None,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Redis => "redis",
            Backend::RedisCluster => "redis-cluster",
            Backend::Memory => "memory",
            Backend::None => "none",
        }
    }

    /// The server's `CACHE_BACKEND` for this leg.
    pub fn server_backend(self) -> &'static str {
        match self {
            Backend::RedisCluster => "redis",
            other => other.as_str(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Args {
    pub databases: Vec<DbKind>,
    pub pg_url: Option<String>,
    pub backends: Vec<Backend>,
    /// `--layers`: the configurations of the first cache backend, in ladder order.
    pub layers: Vec<Layers>,
    pub workloads: Vec<Workload>,
    pub users: u64,
    pub connections: usize,
    /// `--tokens per-connection`: each connection reads with a user token of its own.
    pub per_connection_tokens: bool,
    /// How many times W3–W5 ask for every user before their warm-up (`--prefill`; 0: not).
    pub prefill: u64,
    pub duration: Duration,
    pub warmup: Duration,
    pub zipf: Option<f64>,
    /// `None`: do not pin. `Some(list)`: pin with `taskset -c list` when possible.
    pub server_cpus: Option<String>,
    pub name: String,
    pub build: bool,
    pub url: Option<String>,
    pub token: Option<String>,
    /// `--server-env KEY=VALUE` (repeatable): extra environment for the server under test.
    pub server_env: Vec<(String, String)>,
    /// `--window-hook CMD`: started when each measured window opens.
    pub window_hook: Option<String>,
    /// The arguments as given (after the program name), for the report.
    pub raw: Vec<String>,
}
