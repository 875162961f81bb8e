//! `report.md`: the setting of the run (command, commit, machine, settings), how to read the
//! numbers, the summary, the server logs and the charts, each with what it shows.
use std::fmt::Write as _;

use super::Report;

impl Report {
    /// The whole of `report.md`, with the chart `files` written beside it.
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
            "- Users: {} · connections: {} · tokens: {} · measured window: {} s · warm-up: {} s (W3–W5: after asking for every user {}) · id distribution: {}",
            self.users,
            self.connections,
            if self.per_connection_tokens {
                "one per connection (user{i}; writes as the admin)"
            } else {
                "the admin's, shared"
            },
            self.duration_s,
            self.warmup_s,
            crate::workload::prefill_times(self.prefill),
            self.zipf
                .map_or_else(|| "uniform".into(), |s| format!("Zipf({s})"))
        );
        out.push_str(
            "\nreq/s counts the responses that started and ended inside the measured window (three \
significant digits). Latencies are per request, from sending it to the end of its response, on \
keep-alive HTTP/1.1 connections (HDR histogram), in milliseconds. *cold* is one request right after \
`clearCache` (the first request for `none`). *hit rate* is Δhits / (Δhits + Δmisses) of the server's \
`cacheStats` over the window; every lookup the server counts, including its lookups of the caller (the \
admin) when it makes them. *answered from* attributes each request between the window's two \
`cacheStats` reads: whole responses served (`responsesServed`), reads answered by a database load \
(Δmisses + Δshared, at most one per read), the other reads from cache entries (L1, Redis or memory), \
writes, and requests with nothing to read (`__typename`). A backend with its layers in brackets \
(`redis (entries + L1)`) ran with the others switched off; the backend's name alone is every layer on. \
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
            out.push_str("\n## Charts\n");
            for f in files {
                let _ = writeln!(out, "\n{}\n\n![{f}]({f})", super::charts::caption(f));
            }
        }
        out.push_str(
            "\nNumbers depend on the machine, on what else runs on it, and on the build: compare \
runs made on the same machine with the same settings only.\n",
        );
        out
    }
}
