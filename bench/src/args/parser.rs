//! Reading the command line into [`Args`]: defaults, each option's value and range, and the
//! PostgreSQL URL from the environment when `--pg-url` is not given.
use std::time::Duration;

use super::{Args, Backend, DbKind, Layers, Parsed};
use crate::workload::Workload;

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
        layers: Layers::LADDER.to_vec(),
        workloads: Workload::ALL.to_vec(),
        users: 10_000,
        connections: 32,
        per_connection_tokens: false,
        prefill: 2,
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
    // Without `--layers`: the whole ladder for the default backends, every layer (one leg per
    // backend) when the backends were chosen, so a narrow run stays as narrow as asked.
    let mut layers_given = false;
    let mut it = raw.into_iter();
    while let Some(arg) = it.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(Parsed::Help);
        }
        if arg == "--no-build" {
            args.build = false;
            continue;
        }
        if arg == "--no-prefill" {
            args.prefill = 0;
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
                })?;
                if !layers_given {
                    args.layers = vec![Layers::All];
                }
            }
            "--layers" => {
                args.layers = list(&value, "layer configuration", Layers::parse)?;
                args.layers.sort();
                layers_given = true;
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
            "--prefill" => {
                args.prefill = match value.as_str() {
                    "0" => 0,
                    "1" => 1,
                    "2" => 2,
                    _ => return Err(format!("--prefill: `{value}` is not 0, 1 or 2")),
                }
            }
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
            "--tokens" => {
                args.per_connection_tokens = match value.as_str() {
                    "shared" => false,
                    "per-connection" => true,
                    _ => {
                        return Err(format!(
                            "--tokens: `{value}` is not shared or per-connection"
                        ));
                    }
                }
            }
            "--url" => args.url = Some(value),
            "--token" => args.token = Some(value),
            _ => return Err(format!("unknown option {opt} (see --help)")),
        }
    }
    if args.url.is_some() != args.token.is_some() {
        return Err("--url and --token go together".into());
    }
    if args.url.is_some() && args.per_connection_tokens {
        return Err(
            "--tokens per-connection needs a local run (it logs in as seeded users)".into(),
        );
    }
    if args.per_connection_tokens && args.connections as u64 > args.users {
        return Err(
            "--tokens per-connection needs at least as many --users as --connections".into(),
        );
    }
    if args.pg_url.is_none() {
        args.pg_url = env("TEST_DATABASE_URL")
            .or_else(|| env("BENCH_PG_URL"))
            .filter(|u| !u.trim().is_empty());
    }
    Ok(Parsed::Run(Box::new(args)))
}

#[cfg(test)]
mod tests;
