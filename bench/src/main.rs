//! `bench`: a load benchmark of the cachegraph server.
//!
//! It builds the server, creates and seeds fresh databases (SQLite, and PostgreSQL when given
//! one), starts a redis-server of its own, then for each cache backend (and each configuration of
//! cache layers asked for) starts the server as a subprocess and drives it over HTTP/1.1 with a
//! fixed number of keep-alive connections. Every response is checked; throughput, latency
//! percentiles (reads and writes apart where a workload writes), cold latency, hit rates and
//! where the answers came from are written to `bench/results/<name>/` (Markdown, JSON, SVG).
//! See `bench/README.md`.
//!
//! This file parses the arguments and hands them to [`run`], which orchestrates the whole run;
//! the other modules are its parts (see each module's comment).
mod args;
mod db;
mod http;
mod procs;
mod report;
mod run;
mod svg;
mod workload;

use std::process::ExitCode;

use rand::{Rng, distr::Alphanumeric};

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
    // `--help` and bad options print and exit here (0 and 2).
    let args = args::parse(raw, |k| std::env::var(k).ok()).unwrap_or_else(|e| e.exit());
    tokio::select! {
        code = run::run(args) => code,
        _ = tokio::signal::ctrl_c() => {
            // Dropping `run` stops the servers and redis-server and drops the databases.
            eprintln!("\nbench: interrupted; cleaning up");
            ExitCode::from(130)
        }
    }
}
