//! The report: Markdown tables, ratios, `results.json` and SVG charts.
//!
//! This file owns what a report is made of ([`Report`], [`DbInfo`], [`ServerLog`]) and the
//! lookups over its runs; each output is rendered beside it:
//!
//! - `provenance`: when, where, from which commit and with which command line the run was made;
//! - `cells`: the one format of each kind of number (req/s, ms, %), and the hit-rate cell;
//! - `sources`: where the answers came from (response cache, cache entries, database), its
//!   table cell and its chart;
//! - `tables`: the results tables, throughput ratios and verdict (the printed summary);
//! - `markdown`: `report.md`, the summary with its setting and server logs;
//! - `json`: `results.json`, every raw number;
//! - `charts`: the SVG charts, with `layer_chart` (throughput by layer) and `write_chart`
//!   (p99 under writes) beside it.
mod cells;
mod charts;
mod json;
mod layer_chart;
mod markdown;
mod provenance;
mod sources;
mod tables;
#[cfg(test)]
mod tests;
mod write_chart;

pub(crate) use cells::{ms_us, pct, rps};
use provenance::Machine;
pub use provenance::{command_line, git_state, machine, now_utc, today};

use crate::workload::{RunResult, Workload};

/// One database's part of the run.
pub struct DbInfo {
    pub name: String,
    pub url: String,
    pub version: Option<String>,
    pub seed_secs: Option<f64>,
}

/// What the server logged, per database and backend.
pub struct ServerLog {
    pub db: String,
    pub backend: String,
    pub lines: Vec<String>,
    pub exit: String,
}

pub struct Report {
    pub command: String,
    pub date: String,
    pub git: String,
    pub machine: Machine,
    pub pinning: String,
    pub redis_version: Option<String>,
    pub users: u64,
    pub connections: usize,
    /// `--tokens per-connection`.
    pub per_connection_tokens: bool,
    pub duration_s: f64,
    pub warmup_s: f64,
    /// How many times W3–W5 asked for every user before their warm-up (`--prefill`).
    pub prefill: u64,
    pub zipf: Option<f64>,
    pub target: String,
    pub databases: Vec<DbInfo>,
    pub runs: Vec<RunResult>,
    pub server_logs: Vec<ServerLog>,
    /// Problems that stopped part of the run (a server that did not start, …).
    pub errors: Vec<String>,
}

impl Report {
    pub fn wrong_total(&self) -> u64 {
        self.runs.iter().map(|r| r.failures.total()).sum()
    }

    pub fn passed(&self) -> bool {
        self.wrong_total() == 0 && self.errors.is_empty()
    }

    fn db_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for r in &self.runs {
            if !names.contains(&r.db) {
                names.push(r.db.clone());
            }
        }
        names
    }

    /// The legs (backend labels) that ran on `db`, in the order they ran.
    fn backends_of(&self, db: &str) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for r in self.runs.iter().filter(|r| r.db == db) {
            if !names.contains(&r.backend) {
                names.push(r.backend.clone());
            }
        }
        names
    }

    fn workloads_of(&self, db: &str) -> Vec<Workload> {
        let mut ws: Vec<Workload> = Vec::new();
        for r in self.runs.iter().filter(|r| r.db == db) {
            if !ws.contains(&r.workload) {
                ws.push(r.workload);
            }
        }
        ws.sort();
        ws
    }

    fn find(&self, db: &str, backend: &str, w: Workload) -> Option<&RunResult> {
        self.runs
            .iter()
            .find(|r| r.db == db && r.backend == backend && r.workload == w)
    }
}
