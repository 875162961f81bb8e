//! The report: Markdown tables, ratios, `results.json` and SVG charts.
use std::{
    fmt::Write as _,
    path::Path,
    process::Command,
    time::{SystemTime, UNIX_EPOCH},
};

use serde_json::{Value, json};

use crate::{
    svg::{COLORS, Chart, Series},
    workload::{RunResult, Workload},
};

/// (year, month, day) of a count of days since 1970-01-01 (proleptic Gregorian calendar).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn unix_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Today's date, UTC: `2026-11-25`.
pub fn today() -> String {
    let (y, m, d) = civil(unix_secs().div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Now, UTC: `2026-11-25 14:03:07 UTC`.
pub fn now_utc() -> String {
    let secs = unix_secs();
    let (y, m, d) = civil(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        t / 3600,
        t % 3600 / 60,
        t % 60
    )
}

/// What the numbers were measured on.
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub memory: String,
    pub kernel: String,
}

pub fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or_else(|| "unknown".into(), |(_, v)| v.trim().to_owned());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or_else(
            || "unknown".into(),
            |kb| format!("{:.1} GiB", kb / 1024.0 / 1024.0),
        );
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| format!("Linux {}", s.trim()))
        .unwrap_or_else(|_| std::env::consts::OS.to_owned());
    Machine {
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        cpu_model,
        memory,
        kernel,
    }
}

/// The commit the server was built from, and whether the tree had uncommitted changes.
pub fn git_state(root: &Path) -> String {
    let run = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    match run(&["rev-parse", "--short", "HEAD"]) {
        Some(commit) => {
            let dirty = run(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
            if dirty {
                format!("{commit} + uncommitted changes")
            } else {
                commit
            }
        }
        None => "unknown".into(),
    }
}

fn shell_quote(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./:=,@%+-".contains(c))
    {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// The command line as given, with secrets hidden (PostgreSQL passwords, tokens).
pub fn command_line(raw: &[String]) -> String {
    let mut out = vec!["cargo run --release -p bench --".to_owned()];
    let mut hide_next: Option<&str> = None;
    for arg in raw {
        let shown = match hide_next.take() {
            Some("--pg-url") => crate::db::redact(arg),
            Some(_) => "***".into(),
            None => {
                if arg == "--pg-url" || arg == "--token" {
                    hide_next = Some(if arg == "--pg-url" {
                        "--pg-url"
                    } else {
                        "--token"
                    });
                    arg.clone()
                } else if let Some(v) = arg.strip_prefix("--pg-url=") {
                    format!("--pg-url={}", crate::db::redact(v))
                } else if arg.starts_with("--token=") {
                    "--token=***".into()
                } else {
                    arg.clone()
                }
            }
        };
        out.push(shell_quote(&shown));
    }
    out.join(" ")
}

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
    pub duration_s: f64,
    pub warmup_s: f64,
    pub zipf: Option<f64>,
    pub target: String,
    pub databases: Vec<DbInfo>,
    pub runs: Vec<RunResult>,
    pub server_logs: Vec<ServerLog>,
    /// Problems that stopped part of the run (a server that did not start, …).
    pub errors: Vec<String>,
}

/// The window's hit rate, when the server counted enough lookups for it to say something: at
/// least one per 100 responses (W0 makes none; the `cacheStats` reads themselves count one).
fn meaningful_hit_rate(r: &RunResult) -> Option<f64> {
    let lookups = r.delta_hits? + r.delta_misses?;
    (lookups * 100 >= r.responses).then_some(r.hit_rate?)
}

fn hit_rate_cell(r: &RunResult) -> String {
    match (meaningful_hit_rate(r), r.delta_hits, r.delta_misses) {
        (Some(h), _, _) => format!("{h:.1}"),
        (None, Some(h), Some(m)) => format!("– ({} lookups)", h + m),
        _ => "–".into(),
    }
}

fn ms(us: Option<u64>) -> String {
    us.map_or_else(|| "–".into(), |v| format!("{:.2}", v as f64 / 1000.0))
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

    /// The results table of one database, Markdown.
    pub fn table(&self, db: &str) -> String {
        let mut out = String::new();
        out.push_str("| workload | backend | req/s | p50 ms | p90 ms | p99 ms | max ms | cold ms | hit rate % | wrong answers |\n");
        out.push_str("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for w in self.workloads_of(db) {
            for b in self.backends_of(db) {
                let Some(r) = self.find(db, &b, w) else {
                    continue;
                };
                let _ = writeln!(
                    out,
                    "| {} {} | {} | {:.0} | {} | {} | {} | {} | {} | {} | {} |",
                    w.as_str(),
                    w.describe(self.zipf),
                    b,
                    r.throughput,
                    ms(r.p50_us),
                    ms(r.p90_us),
                    ms(r.p99_us),
                    ms(r.max_us),
                    ms(r.cold_us),
                    hit_rate_cell(r),
                    r.failures.total()
                );
            }
        }
        out
    }

    /// W1–W4 throughput against `none` and against the same backend's W0.
    pub fn ratios(&self, db: &str) -> String {
        let mut out = String::new();
        let backends = self.backends_of(db);
        for w in self
            .workloads_of(db)
            .into_iter()
            .filter(|w| *w != Workload::W0)
        {
            let none = self
                .find(db, "none", w)
                .map(|r| r.throughput)
                .filter(|t| *t > 0.0);
            let parts: Vec<String> = backends
                .iter()
                .filter_map(|b| {
                    let r = self.find(db, b, w)?;
                    let mut bits = Vec::new();
                    if b != "none"
                        && let Some(n) = none
                    {
                        bits.push(format!("{:.2}× none", r.throughput / n));
                    }
                    if let Some(floor) = self
                        .find(db, b, Workload::W0)
                        .map(|r| r.throughput)
                        .filter(|t| *t > 0.0)
                    {
                        bits.push(format!("{:.2}× its W0 floor", r.throughput / floor));
                    }
                    (!bits.is_empty()).then(|| format!("{b} {}", bits.join(", ")))
                })
                .collect();
            if !parts.is_empty() {
                let _ = writeln!(
                    out,
                    "- {} ({}): {}",
                    w.as_str(),
                    w.describe(self.zipf),
                    parts.join("; ")
                );
            }
        }
        out
    }

    fn failures_section(&self) -> String {
        let mut out = String::new();
        for r in self.runs.iter().filter(|r| r.failures.total() > 0) {
            let f = &r.failures;
            let _ = writeln!(
                out,
                "- {}/{} {}: {} wrong ({} in the window): transport {}, HTTP status {}, GraphQL errors {}, wrong data {}, stale reads {}",
                r.db,
                r.backend,
                r.workload.as_str(),
                f.total(),
                r.window_failures,
                f.transport,
                f.http_status,
                f.graphql_errors,
                f.wrong_data,
                f.stale_reads
            );
            for s in &r.samples {
                let _ = writeln!(out, "  - `{}`", s.replace('`', "'"));
            }
        }
        out
    }

    /// The tables, ratios and verdict: what is printed at the end.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        for db in self.db_names() {
            let _ = writeln!(out, "\n## {db}\n");
            out.push_str(&self.table(&db));
            let ratios = self.ratios(&db);
            if !ratios.is_empty() {
                out.push_str("\nThroughput ratios:\n\n");
                out.push_str(&ratios);
            }
        }
        let failures = self.failures_section();
        if !failures.is_empty() {
            out.push_str("\n## Wrong answers\n\n");
            out.push_str(&failures);
        }
        if !self.errors.is_empty() {
            out.push_str("\n## Errors\n\n");
            for e in &self.errors {
                let _ = writeln!(out, "- {}", e.replace('\n', "\n  "));
            }
        }
        let _ = writeln!(
            out,
            "\n**Verdict: {}** ({} wrong answers, {} errors)",
            if self.passed() { "PASSED" } else { "FAILED" },
            self.wrong_total(),
            self.errors.len()
        );
        out
    }

    pub fn markdown(&self, files: &[String]) -> String {
        let m = &self.machine;
        let mut out = String::new();
        let _ = writeln!(out, "# cachegraph benchmark: {}\n", self.date);
        let _ = writeln!(
            out,
            "Command (from the workspace root):\n\n```sh\n{}\n```\n",
            self.command
        );
        let _ = writeln!(out, "- Date: {}", self.date);
        let _ = writeln!(out, "- Server source: {}", self.git);
        let _ = writeln!(out, "- Target: {}", self.target);
        let _ = writeln!(
            out,
            "- Machine: {} CPUs ({}), {} memory, {}",
            m.cpus, m.cpu_model, m.memory, m.kernel
        );
        let _ = writeln!(out, "- Server CPU pinning: {}", self.pinning);
        if let Some(v) = &self.redis_version {
            let _ = writeln!(out, "- Redis: {v}");
        }
        for d in &self.databases {
            let _ = writeln!(
                out,
                "- Database {}: {}{}{}",
                d.name,
                d.version.as_deref().unwrap_or("version unknown"),
                d.seed_secs
                    .map(|s| format!(", seeded in {s:.1} s"))
                    .unwrap_or_default(),
                if d.url.is_empty() {
                    String::new()
                } else {
                    format!(" (`{}`, dropped after the run)", d.url)
                }
            );
        }
        let _ = writeln!(
            out,
            "- Users: {} · connections: {} · measured window: {} s · warm-up: {} s · id distribution: {}",
            self.users,
            self.connections,
            self.duration_s,
            self.warmup_s,
            self.zipf
                .map_or_else(|| "uniform".into(), |s| format!("Zipf({s})"))
        );
        out.push_str(
            "\nreq/s counts the responses that started and ended inside the measured window. \
Latencies are per request, from sending it to the end of its response, on keep-alive HTTP/1.1 \
connections (HDR histogram). *cold* is one request right after `clearCache` (the first request \
for `none`). *hit rate* is Δhits / (Δhits + Δmisses) of the server's `cacheStats` over the window; \
every lookup the server counts, including its lookups of the caller (the admin) when it makes them. \
*wrong answers* counts every response of the run (cold, warm-up and window) that failed a check: \
no response, HTTP status other than 200, GraphQL `errors`, wrong data, or a stale read.\n",
        );
        out.push_str(&self.summary());
        if !self.server_logs.is_empty() {
            out.push_str("\n## Server logs (RUST_LOG=warn)\n\n");
            for l in &self.server_logs {
                let _ = writeln!(
                    out,
                    "- {}/{}: {} line(s), exit: {}",
                    l.db,
                    l.backend,
                    l.lines.len(),
                    l.exit
                );
                for line in l.lines.iter().take(5) {
                    let short: String = line.chars().take(300).collect();
                    let _ = writeln!(out, "  - `{}`", short.replace('`', "'"));
                }
            }
        }
        if !files.is_empty() {
            out.push_str("\n## Charts\n\n");
            for f in files {
                let _ = writeln!(out, "![{f}]({f})");
            }
        }
        out.push_str(
            "\nNumbers depend on the machine, on what else runs on it, and on the build: compare \
runs made on the same machine with the same settings only.\n",
        );
        out
    }

    pub fn json(&self) -> Value {
        let m = &self.machine;
        let runs: Vec<Value> = self
            .runs
            .iter()
            .map(|r| {
                json!({
                    "database": r.db,
                    "backend": r.backend,
                    "workload": r.workload.as_str(),
                    "description": r.workload.describe(self.zipf),
                    "connections": r.connections,
                    "window_seconds": r.window_secs,
                    "responses": r.responses,
                    "throughput_rps": r.throughput,
                    "latency_us": {
                        "p50": r.p50_us, "p90": r.p90_us, "p99": r.p99_us,
                        "max": r.max_us, "mean": r.mean_us,
                    },
                    "cold_us": r.cold_us,
                    "cache": {
                        "delta_hits": r.delta_hits,
                        "delta_misses": r.delta_misses,
                        "hit_rate_percent": r.hit_rate,
                    },
                    "requests_total": r.requests_total,
                    "writes_ok": r.writes_ok,
                    "wrong_answers": r.failures.to_json(),
                    "wrong_answers_in_window": r.window_failures,
                    "wrong_answer_samples": r.samples,
                    "notes": r.notes,
                })
            })
            .collect();
        json!({
            "command": self.command,
            "date": self.date,
            "server_source": self.git,
            "target": self.target,
            "machine": {
                "cpus": m.cpus, "cpu_model": m.cpu_model, "memory": m.memory, "kernel": m.kernel,
                "server_pinning": self.pinning,
            },
            "redis": self.redis_version,
            "settings": {
                "users": self.users,
                "connections": self.connections,
                "duration_seconds": self.duration_s,
                "warmup_seconds": self.warmup_s,
                "zipf": self.zipf,
            },
            "databases": self.databases.iter().map(|d| json!({
                "name": d.name, "url": d.url, "version": d.version, "seed_seconds": d.seed_secs,
            })).collect::<Vec<_>>(),
            "runs": runs,
            "server_logs": self.server_logs.iter().map(|l| json!({
                "database": l.db, "backend": l.backend, "exit": l.exit, "lines": l.lines,
            })).collect::<Vec<_>>(),
            "errors": self.errors,
            "wrong_answers": self.wrong_total(),
            "verdict": if self.passed() { "PASSED" } else { "FAILED" },
        })
    }

    /// (file name, SVG) of every chart.
    pub fn charts(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for db in self.db_names() {
            let workloads = self.workloads_of(&db);
            let groups: Vec<String> = workloads
                .iter()
                .map(|w| format!("{}: {}", w.as_str(), w.label(self.zipf)))
                .collect();
            let backends = self.backends_of(&db);
            let color = |i: usize| COLORS[i % COLORS.len()];
            let series = |f: &dyn Fn(&RunResult) -> Option<f64>, skip_none: bool| -> Vec<Series> {
                backends
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| !(skip_none && b.as_str() == "none"))
                    .map(|(i, b)| Series {
                        name: b.clone(),
                        color: color(i),
                        values: workloads
                            .iter()
                            .map(|w| self.find(&db, b, *w).and_then(f))
                            .collect(),
                        inner: None,
                    })
                    .collect()
            };
            let settings = format!(
                "{} users, {} connections, {} s window",
                self.users, self.connections, self.duration_s
            );
            out.push((
                format!("throughput-{db}.svg"),
                Chart {
                    title: format!("Throughput, {db} ({settings})"),
                    y_label: "responses / s".into(),
                    groups: groups.clone(),
                    series: series(&|r| Some(r.throughput), false),
                    log: false,
                    y_max: None,
                    note: None,
                }
                .render(),
            ));
            let mut latency = series(&|r| r.p99_us.map(|v| v as f64 / 1000.0), false);
            for s in &mut latency {
                s.inner = Some(
                    workloads
                        .iter()
                        .map(|w| {
                            self.find(&db, &s.name, *w)
                                .and_then(|r| r.p50_us)
                                .map(|v| v as f64 / 1000.0)
                        })
                        .collect(),
                );
            }
            out.push((
                format!("latency-{db}.svg"),
                Chart {
                    title: format!("Latency, {db} ({settings})"),
                    y_label: "milliseconds (log scale)".into(),
                    groups: groups.clone(),
                    series: latency,
                    log: true,
                    y_max: None,
                    note: Some("pale bar: p99 · solid inner bar: p50".into()),
                }
                .render(),
            ));
            out.push((
                format!("hitrate-{db}.svg"),
                Chart {
                    title: format!("Cache hit rate over the window, {db}"),
                    y_label: "hits / (hits + misses), %".into(),
                    groups,
                    series: series(&meaningful_hit_rate, true),
                    log: false,
                    y_max: Some(100.0),
                    note: Some("every lookup the server counts, caller lookups included".into()),
                }
                .render(),
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(20_417), (2025, 11, 25));
        assert_eq!(civil(11_016), (2000, 2, 29));
        assert_eq!(today().len(), 10);
    }

    #[test]
    fn command_lines_hide_secrets() {
        let raw: Vec<String> = [
            "--pg-url",
            "postgres://u:pw@h/db",
            "--token=abc",
            "--name",
            "a b",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let c = command_line(&raw);
        assert!(!c.contains("pw@") && !c.contains("abc"), "{c}");
        assert!(c.ends_with("--name 'a b'"), "{c}");
    }
}
