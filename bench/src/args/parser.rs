//! Reading the command line into [`Args`] with clap: each option's value and range, the
//! defaults that depend on other options, the checks across options, and the PostgreSQL URL
//! from the environment when `--pg-url` is not given.
use std::time::Duration;

use clap::{CommandFactory, Parser, error::ErrorKind};

use super::{Args, Backend, DbKind, Layers};
use crate::workload::Workload;

/// Starts the cachegraph server (target/release/cachegraph, rebuilt first) against fresh,
/// seeded databases and a redis-server of its own, drives it over HTTP/1.1 and checks every
/// response.
#[derive(Debug, Parser)]
#[command(
    name = "bench",
    override_usage = "cargo run --release -p bench -- [OPTIONS]"
)]
struct Cli {
    /// Databases to run on: sqlite, postgres [default: sqlite,postgres].
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = db_kind)]
    databases: Vec<DbKind>,
    /// PostgreSQL server to create the benchmark database on [default: env TEST_DATABASE_URL,
    /// then BENCH_PG_URL; without one postgres is skipped].
    #[arg(long, value_name = "URL")]
    pg_url: Option<String>,
    /// Cache backends: redis, redis-cluster, memory, none [default: all four].
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = backend)]
    backends: Vec<Backend>,
    /// Layer configurations of the first cache backend of --backends, each a server of its
    /// own: entries (cache entries only), l1 (+ L1), parsed (+ parsed documents), all (+ whole
    /// responses: the server's defaults); the other backends run with every layer [default:
    /// entries,l1,parsed,all without --backends, all with --backends].
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = layers)]
    layers: Vec<Layers>,
    /// Workloads: W0, W1, W2, W3, W4, W5 [default: all].
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = workload)]
    workloads: Vec<Workload>,
    /// Seeded users user{i}@example.com.
    #[arg(long, value_name = "N", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(100..=10_000_000))]
    users: u64,
    /// Concurrent keep-alive connections.
    #[arg(long, value_name = "N", default_value_t = 32,
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    connections: u16,
    /// shared: every connection sends the admin's token; per-connection: each reads as a user
    /// of its own (user{i}, logged in through the server), writes as the admin.
    #[arg(long, value_name = "MODE", default_value = "shared",
          value_parser = ["shared", "per-connection"])]
    tokens: String,
    /// Measured window per workload, in seconds (up to 3600).
    #[arg(long, value_name = "SECS", default_value = "8", value_parser = window)]
    duration: Duration,
    /// Warm-up before each window, in seconds (0 to 3600).
    #[arg(long, value_name = "SECS", default_value = "2", value_parser = seconds)]
    warmup: Duration,
    /// W3/W4 pick ids from Zipf(S), S in (0, 10], instead of uniformly.
    #[arg(long, value_name = "S", value_parser = zipf)]
    zipf: Option<f64>,
    /// taskset CPU list for the server, or `none` [default: 1, on machines with >= 2 CPUs].
    #[arg(long, value_name = "LIST", default_value = "1", hide_default_value = true,
          value_parser = cpus)]
    server_cpus: CpuList,
    /// Results go to bench/results/NAME/ [default: today's date, UTC].
    #[arg(long, value_parser = name)]
    name: Option<String>,
    /// Do not run `cargo build --release --bin cachegraph` first.
    #[arg(long)]
    no_build: bool,
    /// W3-W5 first ask for every user N times (0-2): twice fills the entries and keeps each
    /// response, once only fills the entries (enough when the responses cannot all be kept, as
    /// at a million users).
    #[arg(long, value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u64).range(0..=2))]
    prefill: u64,
    /// --prefill 0: start cold; the cache warms during the warm-up.
    #[arg(long)]
    no_prefill: bool,
    /// Extra environment for the server under test (repeatable), e.g. --server-env
    /// CACHE_L1_CAPACITY=1000 (applied after --layers' switches).
    #[arg(long, value_name = "K=V", value_parser = env_pair)]
    server_env: Vec<(String, String)>,
    /// A shell command started when each measured window opens (a profiler, say: `perf record
    /// -p "$BENCH_SERVER_PID" -o "$BENCH_WORKLOAD.data" -- sleep "$BENCH_WINDOW_SECONDS"`); it
    /// is given BENCH_SERVER_PID, BENCH_WORKLOAD, BENCH_LABEL and BENCH_WINDOW_SECONDS, and
    /// waited for after the window (at most 60 s).
    #[arg(long, value_name = "CMD")]
    window_hook: Option<String>,
    /// Benchmark an already running server instead (no seeding, no server start; it must hold
    /// the seeded layout: ids 1..=N are user{i}@example.com, N = --users).
    #[arg(long, requires = "token")]
    url: Option<String>,
    /// The token for --url: an admin's for W4, cacheStats and clearCache.
    #[arg(long, requires = "url")]
    token: Option<String>,
}

/// `--server-cpus`: `None` for no pinning.
#[derive(Clone, Debug)]
struct CpuList(Option<String>);

fn one_of<T>(what: &str, parsed: Option<T>, s: &str) -> Result<T, String> {
    parsed.ok_or_else(|| format!("unknown {what} `{s}`"))
}

fn db_kind(s: &str) -> Result<DbKind, String> {
    let kind = match s.trim() {
        "sqlite" => Some(DbKind::Sqlite),
        "postgres" | "postgresql" | "pg" => Some(DbKind::Postgres),
        _ => None,
    };
    one_of("database", kind, s)
}

fn backend(s: &str) -> Result<Backend, String> {
    let backend = match s.trim() {
        "redis" => Some(Backend::Redis),
        "redis-cluster" | "cluster" => Some(Backend::RedisCluster),
        "memory" => Some(Backend::Memory),
        "none" => Some(Backend::None),
        _ => None,
    };
    one_of("backend", backend, s)
}

fn layers(s: &str) -> Result<Layers, String> {
    one_of("layer configuration", Layers::parse(s.trim()), s)
}

fn workload(s: &str) -> Result<Workload, String> {
    one_of("workload", Workload::parse(s.trim()), s)
}

fn seconds(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| "not a number of seconds".to_owned())?;
    if !(0.0..=3600.0).contains(&secs) {
        return Err(format!("{secs} is out of range (0 to 3600 s)"));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn window(s: &str) -> Result<Duration, String> {
    seconds(s).and_then(|d| match d.is_zero() {
        true => Err("must be greater than 0".into()),
        false => Ok(d),
    })
}

fn zipf(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(z) if z > 0.0 && z <= 10.0 => Ok(z),
        Ok(_) => Err("must be in (0, 10]".into()),
        Err(_) => Err("not a number".into()),
    }
}

fn cpus(s: &str) -> Result<CpuList, String> {
    match s {
        "" | "none" | "off" => Ok(CpuList(None)),
        list if list
            .chars()
            .all(|c| c.is_ascii_digit() || c == ',' || c == '-') =>
        {
            Ok(CpuList(Some(list.to_owned())))
        }
        _ => Err("not a CPU list (e.g. 1 or 0-1,3) or none".into()),
    }
}

fn name(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && !s.starts_with('.')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    match ok {
        true => Ok(s.to_owned()),
        false => Err("must be letters, digits, `-`, `_` or `.`, not starting with `.`".into()),
    }
}

fn env_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err("not KEY=VALUE".into()),
    }
}

/// `items` without repeats, in first-given order; `all` when none were given.
fn distinct<T: PartialEq + Copy>(items: Vec<T>, all: &[T]) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for item in if items.is_empty() {
        all.to_vec()
    } else {
        items
    } {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// Parses `raw` (the arguments after the program name). `env` reads the environment (for the
/// PostgreSQL URL). `--help` comes back as an error of kind `DisplayHelp`: `Error::exit`
/// prints it and exits 0.
pub fn parse(raw: Vec<String>, env: impl Fn(&str) -> Option<String>) -> Result<Args, clap::Error> {
    let cli = Cli::try_parse_from(std::iter::once("bench".to_owned()).chain(raw.iter().cloned()))?;
    let conflict = |msg: &str| Cli::command().error(ErrorKind::ArgumentConflict, msg);
    let per_connection_tokens = cli.tokens == "per-connection";
    if cli.url.is_some() && per_connection_tokens {
        return Err(conflict(
            "--tokens per-connection needs a local run (it logs in as seeded users)",
        ));
    }
    if per_connection_tokens && u64::from(cli.connections) > cli.users {
        return Err(conflict(
            "--tokens per-connection needs at least as many --users as --connections",
        ));
    }
    // Without `--layers`: the whole ladder for the default backends, every layer (one leg per
    // backend) when the backends were chosen, so a narrow run stays as narrow as asked.
    let mut layers = match (cli.layers.is_empty(), cli.backends.is_empty()) {
        (true, false) => vec![Layers::All],
        _ => distinct(cli.layers, &Layers::LADDER),
    };
    layers.sort();
    let pg_url = cli.pg_url.or_else(|| {
        env("TEST_DATABASE_URL")
            .or_else(|| env("BENCH_PG_URL"))
            .filter(|u| !u.trim().is_empty())
    });
    Ok(Args {
        databases: distinct(cli.databases, &[DbKind::Sqlite, DbKind::Postgres]),
        pg_url,
        backends: distinct(
            cli.backends,
            &[
                Backend::Redis,
                Backend::RedisCluster,
                Backend::Memory,
                Backend::None,
            ],
        ),
        layers,
        workloads: distinct(cli.workloads, &Workload::ALL),
        users: cli.users,
        connections: usize::from(cli.connections),
        per_connection_tokens,
        prefill: if cli.no_prefill { 0 } else { cli.prefill },
        duration: cli.duration,
        warmup: cli.warmup,
        zipf: cli.zipf,
        server_cpus: cli.server_cpus.0,
        name: cli.name.unwrap_or_else(crate::report::today),
        build: !cli.no_build,
        url: cli.url,
        token: cli.token,
        server_env: cli.server_env,
        window_hook: cli.window_hook,
        raw,
    })
}

#[cfg(test)]
mod tests;
