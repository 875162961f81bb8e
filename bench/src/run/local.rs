//! A local run: build the server, create and seed each database, start redis-server (and a
//! Redis Cluster), then for each leg (a backend with a configuration of cache layers, see `legs`)
//! start the server and run every workload against it.
//!
//! Every process and database is a handle that cleans up on drop, so an early return or Ctrl-C
//! leaves nothing behind.
use std::sync::Arc;

use super::{
    Collected,
    legs::legs,
    progress::{progress_bar, say},
    workloads::{Leg, Shared, run_all},
};
use crate::{
    args::{Args, Backend, DbKind},
    db::{self, BenchDb},
    http::Target,
    procs::{self, Redis, RedisCluster, Server, ServerConfig, TempDir},
    random_token,
    report::{DbInfo, ServerLog},
    workload::{Client, Layout, Picker, Writes},
};

/// The admin the server creates at start; no seeded user has this address.
const ADMIN_EMAIL: &str = "admin@bench.example.com";

/// Seeds databases, starts redis-server and the server per leg, runs every workload.
pub(super) async fn run_local(args: &Args, tmp: &TempDir) -> Result<Collected, String> {
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
    let (legs, left_out) = legs(&backends, &args.layers);
    for note in left_out {
        eprintln!("bench: note: {note}");
    }

    let step_ms = (args.warmup + args.duration).as_millis() as u64;
    let total_ms = step_ms * (databases.len() * legs.len() * args.workloads.len()) as u64;
    let bar = progress_bar(total_ms);
    let mut position = 0u64;

    for kind in databases {
        let label = kind.as_str().to_owned();
        let planned = step_ms * (legs.len() * args.workloads.len()) as u64;
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
        let password = match seeded {
            Ok((took, password)) => {
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
                password
            }
            Err(e) => {
                c.errors.push(format!("{label}: seeding failed: {e}"));
                position = db_end;
                bar.set_position(position);
                continue;
            }
        };

        let layout = Arc::new(Layout { users: args.users });
        let picker = Arc::new(Picker::new(args.users, args.zipf));
        // One record of W4's writes per database: it outlives each server, as the data does.
        let writes = Arc::new(Writes::new(args.users, 1));
        let admin_password = random_token(24);
        let jwt_secret = random_token(32);

        for (i, leg) in legs.iter().enumerate() {
            let backend = &leg.backend;
            let leg_label = leg.label.as_str();
            let backend_end = position + step_ms * args.workloads.len() as u64;
            bar.set_message(format!("{label}/{leg_label}: starting the server"));
            // The layers' switches first: `--server-env` may still override them.
            let mut env = leg.layers.env();
            env.extend(args.server_env.iter().cloned());
            let started = Server::start(ServerConfig {
                binary: &binary,
                workdir: tmp.path(),
                log: tmp.path().join(format!(
                    "server-{label}-{i}-{}-{}.log",
                    backend.as_str(),
                    leg.layers.as_str()
                )),
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
                extra_env: &env,
            })
            .await;
            let mut server = match started {
                Ok(s) => s,
                Err(e) => {
                    c.errors.push(format!("{label}/{leg_label}: {e}"));
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
                    c.errors
                        .push(format!("{label}/{leg_label}: admin login failed: {e}"));
                    server.stop();
                    position = backend_end;
                    bar.set_position(position);
                    continue;
                }
            };
            // With `--tokens per-connection`, connection i reads as user{i+1}: tokens issued
            // by this server's own login, like any client's.
            let mut readers = Vec::new();
            if args.per_connection_tokens {
                let mut client = Client::new(target.clone(), None);
                for i in 1..=args.connections {
                    match client
                        .login(&format!("user{i}@example.com"), &password)
                        .await
                    {
                        Ok(t) => readers.push(t),
                        Err(e) => {
                            c.errors
                                .push(format!("{label}/{leg_label}: user{i} login failed: {e}"));
                            break;
                        }
                    }
                }
                if readers.len() < args.connections {
                    server.stop();
                    position = backend_end;
                    bar.set_position(position);
                    continue;
                }
            }
            let run = Leg {
                server_pid: Some(server.pid()),
                db: label.clone(),
                backend: leg.label.clone(),
                base: backend.as_str().to_owned(),
                layers: leg.layers,
                target: &target,
                token: &token,
                readers: &readers,
                has_cache: *backend != Backend::None,
                label: format!("{label}/{leg_label}"),
            };
            let shared = Shared {
                layout: &layout,
                picker: &picker,
                writes: &writes,
            };
            position = run_all(args, &run, &shared, &bar, position, step_ms, &mut c.runs).await;
            bar.set_message(format!("{label}/{leg_label}: stopping the server"));
            let exit = server
                .stop()
                .map_or_else(|| "unknown".into(), |s| s.to_string());
            c.server_logs.push(ServerLog {
                db: label.clone(),
                backend: leg.label.clone(),
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
