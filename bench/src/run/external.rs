//! An external run (`--url`, `--token`): check that the server holds the seeded layout, then
//! run every workload against it; nothing is started, seeded or pinned.
use std::{
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

use super::{
    Collected,
    progress::progress_bar,
    workloads::{Leg, Shared, run_all},
};
use crate::{
    args::{Args, Layers},
    http::Target,
    workload::{Client, Layout, Op, Picker, Writes},
};

/// Benchmarks a server that is already running (`--url`, `--token`).
pub(super) async fn run_external(args: &Args, url: &str) -> Result<Collected, String> {
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
    let leg = Leg {
        server_pid: None,
        db: "external".into(),
        backend: "external".into(),
        base: "external".into(),
        layers: Layers::All,
        target: &target,
        token: &token,
        readers: &[],
        has_cache,
        label: "external".into(),
    };
    let shared = Shared {
        layout: &layout,
        picker: &picker,
        writes: &writes,
    };
    run_all(args, &leg, &shared, &bar, 0, step_ms, &mut c.runs).await;
    bar.finish_and_clear();
    Ok(c)
}
