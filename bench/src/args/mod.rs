//! Command-line options, parsed by hand (`--name value` or `--name=value`).
//!
//! This file owns the options themselves: the `--help` text and what a run is asked to do
//! ([`Args`]); `parser` reads the command line (and the environment's PostgreSQL URL) into them,
//! and `layers` is the ladder of cache layers `--layers` picks from.
mod layers;
mod parser;

pub use layers::Layers;
pub use parser::parse;

use std::time::Duration;

use crate::workload::Workload;

pub const USAGE: &str = "\
cargo run --release -p bench -- [options]

Starts the cachegraph server (target/release/cachegraph, rebuilt first) against fresh, seeded
databases and a redis-server of its own, drives it over HTTP/1.1 and checks every response.

Options (defaults in brackets):
  --databases LIST     sqlite,postgres                              [sqlite,postgres]
  --pg-url URL         PostgreSQL server to create the benchmark database on
                       [env TEST_DATABASE_URL, then BENCH_PG_URL; without one postgres is skipped]
  --backends LIST      redis,redis-cluster,memory,none  [redis,redis-cluster,memory,none]
  --layers LIST        layer configurations of the first cache backend of --backends, each a
                       server of its own: entries (cache entries only), l1 (+ L1), parsed
                       (+ parsed documents), all (+ whole responses: the server's defaults);
                       the other backends run with every layer
                       [entries,l1,parsed,all without --backends, all with --backends]
  --workloads LIST     W0,W1,W2,W3,W4,W5                            [all]
  --users N            seeded users user{i}@example.com (N >= 100)  [10000]
  --connections N      concurrent keep-alive connections            [32]
  --tokens MODE        shared: every connection sends the admin's token; per-connection:
                       each reads as a user of its own (user{i}, logged in through the
                       server), writes as the admin                 [shared]
  --duration SECS      measured window per workload                 [8]
  --warmup SECS        warm-up before each window                   [2]
  --zipf S             W3/W4 pick ids from Zipf(S) instead of uniformly
  --server-cpus LIST   taskset CPU list for the server, or `none`   [1, on machines with >= 2 CPUs]
  --name NAME          results go to bench/results/NAME/            [today's date, UTC]
  --no-build           do not run `cargo build --release --bin cachegraph` first
  --prefill N          W3-W5 first ask for every user N times (0-2): twice fills the entries
                       and keeps each response, once only fills the entries (enough when the
                       responses cannot all be kept, as at a million users)          [2]
  --no-prefill         --prefill 0: start cold; the cache warms during the warm-up
  --server-env K=V     extra environment for the server under test (repeatable), e.g.
                       --server-env CACHE_L1_CAPACITY=1000 (applied after --layers' switches)
  --url URL --token T  benchmark an already running server instead (no seeding, no server start;
                       it must hold the seeded layout: ids 1..=N are user{i}@example.com, N = --users;
                       the token should be an admin's for W4, cacheStats and clearCache)
  -h, --help           this text
";

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
    /// The arguments as given (after the program name), for the report.
    pub raw: Vec<String>,
}

pub enum Parsed {
    Run(Box<Args>),
    Help,
}
