//! The orchestration of one benchmark run: collect results (from local servers it starts, or
//! from an already running one), then write and print the report and choose the exit code.
//!
//! - `local`: fresh databases, redis-server and the server per leg, every workload on each;
//! - `legs`: the legs of a local run: each backend, and the first one's layer configurations;
//! - `external`: every workload against a server given with `--url` and `--token`;
//! - `workloads`: every workload against one server (a leg, or an external server);
//! - `progress`: the progress bar and the one-line result of each workload.
mod external;
mod legs;
mod local;
mod progress;
mod workloads;

use std::process::ExitCode;

use crate::{
    args::Args,
    procs::{self, TempDir},
    report::{self, DbInfo, Report, ServerLog},
    workload::RunResult,
};

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

/// Runs the benchmark `args` describes, writes `bench/results/<name>/`, prints the summary and
/// returns the exit code: 0 when every response was right, 1 when one was not (or part of the
/// run could not be done), 2 on a setup error.
pub async fn run(args: Args) -> ExitCode {
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
        Some(url) => external::run_external(&args, url).await,
        None => local::run_local(&args, &tmp).await,
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
        per_connection_tokens: args.per_connection_tokens,
        duration_s: args.duration.as_secs_f64(),
        warmup_s: args.warmup.as_secs_f64(),
        prefill: args.prefill,
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
