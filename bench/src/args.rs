//! Command-line options, parsed by hand (`--name value` or `--name=value`).
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
  --workloads LIST     W0,W1,W2,W3,W4                               [W0,W1,W2,W3,W4]
  --users N            seeded users user{i}@example.com (N >= 100)  [10000]
  --connections N      concurrent keep-alive connections            [32]
  --duration SECS      measured window per workload                 [8]
  --warmup SECS        warm-up before each window                   [2]
  --zipf S             W3/W4 pick ids from Zipf(S) instead of uniformly
  --server-cpus LIST   taskset CPU list for the server, or `none`   [1, on machines with >= 2 CPUs]
  --name NAME          results go to bench/results/NAME/            [today's date, UTC]
  --no-build           do not run `cargo build --release --bin cachegraph` first
  --server-env K=V     extra environment for the server under test (repeatable), e.g.
                       --server-env CACHE_RESPONSES=false to measure what a layer buys
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
    pub workloads: Vec<Workload>,
    pub users: u64,
    pub connections: usize,
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

fn list<T>(value: &str, what: &str, parse: impl Fn(&str) -> Option<T>) -> Result<Vec<T>, String>
where
    T: PartialEq,
{
    let mut out = Vec::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let v = parse(item).ok_or_else(|| format!("unknown {what} `{item}`"))?;
        if !out.contains(&v) {
            out.push(v);
        }
    }
    if out.is_empty() {
        return Err(format!("empty list of {what}s"));
    }
    Ok(out)
}

fn seconds(value: &str, opt: &str) -> Result<Duration, String> {
    let secs: f64 = value
        .parse()
        .map_err(|_| format!("{opt}: `{value}` is not a number of seconds"))?;
    if !(0.0..=3600.0).contains(&secs) {
        return Err(format!("{opt}: {secs} is out of range (0 to 3600 s)"));
    }
    Ok(Duration::from_secs_f64(secs))
}

pub fn parse(raw: Vec<String>, env: impl Fn(&str) -> Option<String>) -> Result<Parsed, String> {
    let mut args = Args {
        databases: vec![DbKind::Sqlite, DbKind::Postgres],
        pg_url: None,
        backends: vec![
            Backend::Redis,
            Backend::RedisCluster,
            Backend::Memory,
            Backend::None,
        ],
        workloads: Workload::ALL.to_vec(),
        users: 10_000,
        connections: 32,
        duration: Duration::from_secs(8),
        warmup: Duration::from_secs(2),
        zipf: None,
        server_cpus: Some("1".into()),
        name: crate::report::today(),
        build: true,
        url: None,
        token: None,
        server_env: Vec::new(),
        raw: raw.clone(),
    };
    let mut it = raw.into_iter();
    while let Some(arg) = it.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(Parsed::Help);
        }
        if arg == "--no-build" {
            args.build = false;
            continue;
        }
        let (opt, inline) = match arg.split_once('=') {
            Some((o, v)) if o.starts_with("--") => (o.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        if !opt.starts_with("--") {
            return Err(format!("unexpected argument `{arg}` (see --help)"));
        }
        let value = match inline {
            Some(v) => v,
            None => it
                .next()
                .ok_or_else(|| format!("{opt} needs a value (see --help)"))?,
        };
        match opt.as_str() {
            "--databases" => {
                args.databases = list(&value, "database", |s| match s {
                    "sqlite" => Some(DbKind::Sqlite),
                    "postgres" | "postgresql" | "pg" => Some(DbKind::Postgres),
                    _ => None,
                })?
            }
            "--pg-url" => args.pg_url = Some(value),
            "--backends" => {
                args.backends = list(&value, "backend", |s| match s {
                    "redis" => Some(Backend::Redis),
                    "redis-cluster" | "cluster" => Some(Backend::RedisCluster),
                    "memory" => Some(Backend::Memory),
                    "none" => Some(Backend::None),
                    _ => None,
                })?
            }
            "--workloads" => args.workloads = list(&value, "workload", Workload::parse)?,
            "--users" => {
                args.users = value
                    .parse()
                    .map_err(|_| format!("--users: `{value}` is not a whole number"))?;
                if !(100..=10_000_000).contains(&args.users) {
                    return Err("--users must be between 100 and 10000000".into());
                }
            }
            "--connections" => {
                args.connections = value
                    .parse()
                    .map_err(|_| format!("--connections: `{value}` is not a whole number"))?;
                if !(1..=1024).contains(&args.connections) {
                    return Err("--connections must be between 1 and 1024".into());
                }
            }
            "--duration" => {
                args.duration = seconds(&value, "--duration")?;
                if args.duration.is_zero() {
                    return Err("--duration must be greater than 0".into());
                }
            }
            "--warmup" => args.warmup = seconds(&value, "--warmup")?,
            "--zipf" => {
                let s: f64 = value
                    .parse()
                    .map_err(|_| format!("--zipf: `{value}` is not a number"))?;
                if !(s > 0.0 && s <= 10.0) {
                    return Err("--zipf must be in (0, 10]".into());
                }
                args.zipf = Some(s);
            }
            "--server-cpus" => {
                args.server_cpus = match value.as_str() {
                    "" | "none" | "off" => None,
                    cpus if cpus
                        .chars()
                        .all(|c| c.is_ascii_digit() || c == ',' || c == '-') =>
                    {
                        Some(cpus.to_owned())
                    }
                    _ => return Err(format!("--server-cpus: `{value}` is not a CPU list")),
                }
            }
            "--name" => {
                if value.is_empty()
                    || value.starts_with('.')
                    || !value
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                {
                    return Err(format!(
                        "--name: `{value}` must be letters, digits, `-`, `_` or `.`"
                    ));
                }
                args.name = value;
            }
            "--server-env" => match value.split_once('=') {
                Some((k, v)) if !k.is_empty() => args.server_env.push((k.to_owned(), v.to_owned())),
                _ => return Err(format!("--server-env: `{value}` is not KEY=VALUE")),
            },
            "--url" => args.url = Some(value),
            "--token" => args.token = Some(value),
            _ => return Err(format!("unknown option {opt} (see --help)")),
        }
    }
    if args.url.is_some() != args.token.is_some() {
        return Err("--url and --token go together".into());
    }
    if args.pg_url.is_none() {
        args.pg_url = env("TEST_DATABASE_URL")
            .or_else(|| env("BENCH_PG_URL"))
            .filter(|u| !u.trim().is_empty());
    }
    Ok(Parsed::Run(Box::new(args)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Args, String> {
        match parse(args.iter().map(|s| s.to_string()).collect(), |_| None)? {
            Parsed::Run(a) => Ok(*a),
            Parsed::Help => Err("help".into()),
        }
    }

    #[test]
    fn defaults_and_options() {
        let a = run(&[]).unwrap();
        assert_eq!(a.databases, [DbKind::Sqlite, DbKind::Postgres]);
        assert_eq!(a.workloads.len(), 5);
        assert_eq!((a.users, a.connections), (10_000, 32));
        assert_eq!(a.duration, Duration::from_secs(8));
        assert_eq!(a.server_cpus.as_deref(), Some("1"));
        let a = run(&[
            "--databases=sqlite",
            "--backends",
            "none,redis",
            "--workloads",
            "w3,W0",
            "--duration",
            "0.5",
            "--zipf",
            "1.1",
            "--server-cpus",
            "none",
            "--no-build",
        ])
        .unwrap();
        assert_eq!(a.databases, [DbKind::Sqlite]);
        assert_eq!(a.backends, [Backend::None, Backend::Redis]);
        assert_eq!(a.workloads, [Workload::W3, Workload::W0]);
        assert_eq!(a.duration, Duration::from_millis(500));
        assert_eq!(a.zipf, Some(1.1));
        assert!(a.server_cpus.is_none() && !a.build);
    }

    #[test]
    fn rejects_nonsense() {
        for bad in [
            &["--users", "10"][..],
            &["--backends", "memcached"],
            &["--duration", "0"],
            &["--url", "http://x"],
            &["--name", "../x"],
            &["--connections"],
            &["stray"],
        ] {
            assert!(run(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn pg_url_from_the_environment() {
        let parsed = parse(vec![], |k| {
            (k == "BENCH_PG_URL").then(|| "postgres://x@h/db".to_owned())
        })
        .unwrap();
        let Parsed::Run(a) = parsed else { panic!() };
        assert_eq!(a.pg_url.as_deref(), Some("postgres://x@h/db"));
    }
}
