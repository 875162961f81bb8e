//! `bench`: a load benchmark of the cachegraph server.
//!
//! It builds the server, creates and seeds fresh databases (SQLite, and PostgreSQL when given
//! one), starts a redis-server of its own, then for each cache backend starts the server as a
//! subprocess and drives it over HTTP/1.1 with a fixed number of keep-alive connections. Every
//! response is checked; throughput, latency percentiles, cold latency and cache hit rates are
//! written to `bench/results/<name>/` (Markdown, JSON, SVG). See `bench/README.md`.
mod args;
mod db;
mod http;
mod procs;
mod report;
mod svg;
mod workload;

use std::{
    process::ExitCode,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rand::{Rng, distr::Alphanumeric};

use crate::{
    args::{Args, Backend, DbKind, Parsed},
    db::BenchDb,
    http::Target,
    procs::{Redis, RedisCluster, Server, ServerConfig, TempDir},
    report::{DbInfo, Report, ServerLog},
    workload::{Client, Layout, Op, Picker, Progress, RunResult, RunSpec, Writes},
};

/// The admin the server creates at start; no seeded user has this address.
const ADMIN_EMAIL: &str = "admin@bench.example.com";

/// Random letters and digits.
pub fn random_token(len: usize) -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

#[tokio::main]
async fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let args = match args::parse(raw, |k| std::env::var(k).ok()) {
        Ok(Parsed::Run(args)) => args,
        Ok(Parsed::Help) => {
            print!("{}", args::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("bench: {e}");
            return ExitCode::from(2);
        }
    };
    tokio::select! {
        code = run(*args) => code,
        _ = tokio::signal::ctrl_c() => {
            // Dropping `run` stops the servers and redis-server and drops the databases.
            eprintln!("\nbench: interrupted; cleaning up");
            ExitCode::from(130)
        }
    }
}

/// Everything collected while running, turned into the report at the end.
struct Collected {
    runs: Vec<RunResult>,
    databases: Vec<DbInfo>,
    server_logs: Vec<ServerLog>,
    errors: Vec<String>,
    pinning: String,
    redis_version: Option<String>,
    target: String,
}

fn progress_bar(total_ms: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total_ms), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("[{elapsed_precise}] {wide_bar} {percent:>3}%  {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}

/// A line above the progress bar, or on stderr when the bar is hidden (not a terminal).
fn say(bar: &ProgressBar, msg: String) {
    if bar.is_hidden() {
        eprintln!("{msg}");
    } else {
        bar.println(msg);
    }
}

fn one_line(r: &RunResult) -> String {
    format!(
        "{}/{} {}: {:.0} req/s, p50 {} ms, p99 {} ms, cold {} ms, hit rate {}, {} wrong",
        r.db,
        r.backend,
        r.workload.as_str(),
        r.throughput,
        r.p50_us
            .map_or("–".into(), |v| format!("{:.2}", v as f64 / 1000.0)),
        r.p99_us
            .map_or("–".into(), |v| format!("{:.2}", v as f64 / 1000.0)),
        r.cold_us
            .map_or("–".into(), |v| format!("{:.2}", v as f64 / 1000.0)),
        match (r.hit_rate, r.delta_hits, r.delta_misses) {
            (Some(h), Some(dh), Some(dm)) => format!("{h:.1}% of {} lookups", dh + dm),
            _ => "–".into(),
        },
        r.failures.total()
    )
}

async fn run(args: Args) -> ExitCode {
    let date = report::now_utc();
    let root = procs::workspace_root();
    let tmp = match TempDir::new() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("bench: cannot create a temporary folder: {e}");
            return ExitCode::from(2);
        }
    };
    let collected = match &args.url {
        Some(url) => run_external(&args, url).await,
        None => run_local(&args, &tmp).await,
    };
    let collected = match collected {
        Ok(c) => c,
        Err(e) => {
            eprintln!("bench: {e}");
            return ExitCode::from(2);
        }
    };

    let report = Report {
        command: report::command_line(&args.raw),
        date,
        git: match &args.url {
            Some(_) => format!(
                "not known (external server); the workspace is at {}",
                report::git_state(&root)
            ),
            None => report::git_state(&root),
        },
        machine: report::machine(),
        pinning: collected.pinning,
        redis_version: collected.redis_version,
        users: args.users,
        connections: args.connections,
        duration_s: args.duration.as_secs_f64(),
        warmup_s: args.warmup.as_secs_f64(),
        zipf: args.zipf,
        target: collected.target,
        databases: collected.databases,
        runs: collected.runs,
        server_logs: collected.server_logs,
        errors: collected.errors,
    };

    let dir = root.join("bench/results").join(&args.name);
    let written = (|| -> std::io::Result<Vec<String>> {
        std::fs::create_dir_all(&dir)?;
        let mut files = Vec::new();
        for (name, svg) in report.charts() {
            std::fs::write(dir.join(&name), svg)?;
            files.push(name);
        }
        let json = serde_json::to_string_pretty(&report.json()).map_err(std::io::Error::other)?;
        std::fs::write(dir.join("results.json"), json + "\n")?;
        std::fs::write(dir.join("report.md"), report.markdown(&files))?;
        Ok(files)
    })();

    println!("{}", report.summary());
    match written {
        Ok(_) => println!(
            "Report: {}\n        {}",
            dir.join("report.md").display(),
            dir.join("results.json").display()
        ),
        Err(e) => {
            eprintln!("bench: writing {}: {e}", dir.display());
            return ExitCode::from(2);
        }
    }
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Seeds databases, starts redis-server and the server per backend, runs every workload.
async fn run_local(args: &Args, tmp: &TempDir) -> Result<Collected, String> {
    let mut c = Collected {
        runs: Vec::new(),
        databases: Vec::new(),
        server_logs: Vec::new(),
        errors: Vec::new(),
        pinning: String::new(),
        redis_version: None,
        target: "local server subprocess (target/release/cachegraph)".into(),
    };
    if args.build {
        eprintln!("bench: building the server: cargo build --release --bin cachegraph");
        procs::build_server()?;
    } else {
        eprintln!("bench: --no-build: using the server binary as it is");
    }
    let binary = procs::server_binary();
    if !binary.exists() {
        return Err(format!(
            "{} does not exist; run `cargo build --release --bin cachegraph`",
            binary.display()
        ));
    }
    let pin = procs::pinning(args.server_cpus.as_deref());
    c.pinning = match &pin {
        Ok(cpus) => {
            format!(
                "server pinned to CPU {cpus} with `taskset -c {cpus}`; load generator, redis-server and database not pinned"
            )
        }
        Err(reason) => reason.clone(),
    };

    let mut databases = args.databases.clone();
    if databases.contains(&DbKind::Postgres) && args.pg_url.is_none() {
        eprintln!(
            "bench: note: no PostgreSQL URL (--pg-url, TEST_DATABASE_URL or BENCH_PG_URL): postgres skipped"
        );
        databases.retain(|d| *d != DbKind::Postgres);
    }
    if databases.is_empty() {
        return Err("no database to run on".into());
    }

    let mut backends = args.backends.clone();
    let redis = if backends.contains(&Backend::Redis) {
        match Redis::start(tmp.path()) {
            Ok(r) => {
                c.redis_version = Some(r.version.clone());
                Some(r)
            }
            Err(e) => {
                c.errors.push(format!("redis backend skipped: {e}"));
                backends.retain(|b| *b != Backend::Redis);
                None
            }
        }
    } else {
        None
    };
    let cluster = if backends.contains(&Backend::RedisCluster) {
        match RedisCluster::start(tmp.path()) {
            Ok(cluster) => Some(cluster),
            Err(e) => {
                c.errors.push(format!("redis-cluster backend skipped: {e}"));
                backends.retain(|b| *b != Backend::RedisCluster);
                None
            }
        }
    } else {
        None
    };
    // The server validates REDIS_URL even when it does not use Redis.
    let redis_url = redis
        .as_ref()
        .map_or_else(|| "redis://127.0.0.1:1".to_owned(), Redis::url);
    let cluster_url = cluster.as_ref().map(RedisCluster::url);

    let step_ms = (args.warmup + args.duration).as_millis() as u64;
    let total_ms = step_ms * (databases.len() * backends.len() * args.workloads.len()) as u64;
    let bar = progress_bar(total_ms);
    let mut position = 0u64;

    for kind in databases {
        let label = kind.as_str().to_owned();
        let planned = step_ms * (backends.len() * args.workloads.len()) as u64;
        let db_end = position + planned;
        bar.set_message(format!(
            "{label}: creating and seeding {} users",
            args.users
        ));
        let mut database = match kind {
            DbKind::Sqlite => BenchDb::sqlite(tmp.path()),
            DbKind::Postgres => {
                match BenchDb::postgres(args.pg_url.as_deref().expect("checked above")).await {
                    Ok(d) => d,
                    Err(e) => {
                        c.errors.push(format!("{label}: {e}"));
                        position = db_end;
                        bar.set_position(position);
                        continue;
                    }
                }
            }
        };
        let seeded = database.seed(args.users).await;
        let version = database.version().await;
        let url_shown = match kind {
            DbKind::Sqlite => String::new(),
            DbKind::Postgres => db::redact(&database.url),
        };
        match seeded {
            Ok(took) => {
                say(
                    &bar,
                    format!(
                        "{label}: seeded {} users in {:.1} s",
                        args.users,
                        took.as_secs_f64()
                    ),
                );
                c.databases.push(DbInfo {
                    name: label.clone(),
                    url: url_shown,
                    version,
                    seed_secs: Some(took.as_secs_f64()),
                });
            }
            Err(e) => {
                c.errors.push(format!("{label}: seeding failed: {e}"));
                position = db_end;
                bar.set_position(position);
                continue;
            }
        }

        let layout = Arc::new(Layout { users: args.users });
        let picker = Arc::new(Picker::new(args.users, args.zipf));
        // One record of W4's writes per database: it outlives each server, as the data does.
        let writes = Arc::new(Writes::new(args.users, 1));
        let admin_password = random_token(24);
        let jwt_secret = random_token(32);

        for backend in &backends {
            let backend_end = position + step_ms * args.workloads.len() as u64;
            bar.set_message(format!("{label}/{}: starting the server", backend.as_str()));
            let started = Server::start(ServerConfig {
                binary: &binary,
                workdir: tmp.path(),
                log: tmp
                    .path()
                    .join(format!("server-{label}-{}.log", backend.as_str())),
                database_url: &database.url,
                backend: backend.server_backend(),
                redis_url: match (backend, &cluster_url) {
                    (Backend::RedisCluster, Some(url)) => url,
                    _ => &redis_url,
                },
                admin_email: ADMIN_EMAIL,
                admin_password: &admin_password,
                jwt_secret: &jwt_secret,
                pin: pin.as_deref().ok(),
                extra_env: &args.server_env,
            })
            .await;
            let mut server = match started {
                Ok(s) => s,
                Err(e) => {
                    c.errors.push(format!("{label}/{}: {e}", backend.as_str()));
                    position = backend_end;
                    bar.set_position(position);
                    continue;
                }
            };
            let target = Target::local(&server.addr);
            let token = match Client::new(target.clone(), None)
                .login(ADMIN_EMAIL, &admin_password)
                .await
            {
                Ok(t) => t,
                Err(e) => {
                    c.errors.push(format!(
                        "{label}/{}: admin login failed: {e}",
                        backend.as_str()
                    ));
                    server.stop();
                    position = backend_end;
                    bar.set_position(position);
                    continue;
                }
            };
            for w in &args.workloads {
                let spec = RunSpec {
                    db: label.clone(),
                    backend: backend.as_str().to_owned(),
                    workload: *w,
                    target: target.clone(),
                    token: token.clone(),
                    connections: args.connections,
                    warmup: args.warmup,
                    duration: args.duration,
                    has_cache: *backend != Backend::None,
                    layout: layout.clone(),
                    picker: picker.clone(),
                    writes: writes.clone(),
                    hot_id: args.users.div_ceil(2),
                };
                let result = workload::run(
                    spec,
                    Progress {
                        bar: &bar,
                        base_ms: position,
                        label: format!("{label}/{} {}", backend.as_str(), w.as_str()),
                    },
                )
                .await;
                position += step_ms;
                bar.set_position(position);
                say(&bar, one_line(&result));
                c.runs.push(result);
            }
            bar.set_message(format!("{label}/{}: stopping the server", backend.as_str()));
            let exit = server
                .stop()
                .map_or_else(|| "unknown".into(), |s| s.to_string());
            c.server_logs.push(ServerLog {
                db: label.clone(),
                backend: backend.as_str().to_owned(),
                lines: server.warnings(),
                exit,
            });
        }
        bar.set_message(format!("{label}: cleaning up"));
        database.cleanup().await;
    }
    drop(redis);
    bar.finish_and_clear();
    Ok(c)
}

/// Benchmarks a server that is already running (`--url`, `--token`).
async fn run_external(args: &Args, url: &str) -> Result<Collected, String> {
    let target = Target::parse(url)?;
    let token = args.token.clone().expect("checked with --url");
    let mut client = Client::new(target.clone(), Some(token.clone()));
    let layout = Arc::new(Layout { users: args.users });
    // Names written by earlier runs carry smaller numbers than any of this run.
    let first_n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| d.as_micros() as u64);
    let writes = Arc::new(Writes::new(args.users, first_n));

    // The checks assume the seeded layout: verify it on the first and the last user.
    let mut body = Vec::new();
    for id in [1, args.users] {
        let op = Op::User(id);
        op.body(&mut body);
        let started = std::time::Instant::now();
        let resp = client
            .send(&body)
            .await
            .map_err(|f| format!("{}: {f:?}", target.url()))?;
        op.check(&resp, started, &layout, &writes).map_err(|f| {
            format!(
                "{} does not hold the seeded layout (ids 1..={} are user{{i}}@example.com): {f:?}",
                target.url(),
                args.users
            )
        })?;
    }
    let backend = client
        .gql("{ cacheStats { backend } }", serde_json::Value::Null)
        .await
        .ok()
        .and_then(|d| d["cacheStats"]["backend"].as_str().map(str::to_owned));
    let has_cache = backend.as_deref().is_some_and(|b| b != "none");
    let mut c = Collected {
        runs: Vec::new(),
        databases: Vec::new(),
        server_logs: Vec::new(),
        errors: Vec::new(),
        pinning: "external server: not started (nor pinned) by the benchmark".into(),
        redis_version: None,
        target: format!(
            "external server {} (its cacheStats backend: {})",
            target.url(),
            backend
                .as_deref()
                .unwrap_or("unknown: cacheStats not readable with this token")
        ),
    };
    let picker = Arc::new(Picker::new(args.users, args.zipf));
    let step_ms = (args.warmup + args.duration).as_millis() as u64;
    let bar = progress_bar(step_ms * args.workloads.len() as u64);
    let mut position = 0;
    for w in &args.workloads {
        let spec = RunSpec {
            db: "external".into(),
            backend: "external".into(),
            workload: *w,
            target: target.clone(),
            token: token.clone(),
            connections: args.connections,
            warmup: args.warmup,
            duration: args.duration,
            has_cache,
            layout: layout.clone(),
            picker: picker.clone(),
            writes: writes.clone(),
            hot_id: args.users.div_ceil(2),
        };
        let result = workload::run(
            spec,
            Progress {
                bar: &bar,
                base_ms: position,
                label: format!("external {}", w.as_str()),
            },
        )
        .await;
        position += step_ms;
        bar.set_position(position);
        say(&bar, one_line(&result));
        c.runs.push(result);
    }
    bar.finish_and_clear();
    Ok(c)
}
