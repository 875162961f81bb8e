//! The results tables, the throughput ratios, the wrong answers and the verdict: the summary
//! printed at the end and included in `report.md`.
use std::fmt::Write as _;

use super::{
    Report,
    cells::{hit_rate_cell, ms_us, rps},
    sources::sources_cell,
};
use crate::workload::Workload;

impl Report {
    /// The results table of one database, Markdown.
    pub fn table(&self, db: &str) -> String {
        let mut out = String::new();
        out.push_str("| workload | backend | req/s | p50 ms | p90 ms | p99 ms | max ms | cold ms | hit rate % | answered from, % | wrong answers |\n");
        out.push_str("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|\n");
        for w in self.workloads_of(db) {
            for b in self.backends_of(db) {
                let Some(r) = self.find(db, &b, w) else {
                    continue;
                };
                let _ = writeln!(
                    out,
                    "| {} {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    w.as_str(),
                    w.describe(self.zipf),
                    b,
                    rps(r.throughput),
                    ms_us(r.p50_us),
                    ms_us(r.p90_us),
                    ms_us(r.p99_us),
                    ms_us(r.max_us),
                    ms_us(r.cold_us),
                    hit_rate_cell(r),
                    sources_cell(r),
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

    /// Reads and writes of the workloads that write, apart: one line per backend.
    pub fn under_writes(&self, db: &str) -> String {
        let mut out = String::new();
        for w in self.workloads_of(db).into_iter().filter(|w| w.has_writes()) {
            for b in self.backends_of(db) {
                let Some(split) = self.find(db, &b, w).and_then(|r| r.split) else {
                    continue;
                };
                let _ = writeln!(
                    out,
                    "- {} {b}: reads p50 {} / p99 {} ms ({} responses), writes p50 {} / p99 {} ms ({} responses)",
                    w.as_str(),
                    ms_us(split.reads.p50_us),
                    ms_us(split.reads.p99_us),
                    split.reads.responses,
                    ms_us(split.writes.p50_us),
                    ms_us(split.writes.p99_us),
                    split.writes.responses,
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
            let writes = self.under_writes(&db);
            if !writes.is_empty() {
                out.push_str("\nUnder writes, reads and writes apart:\n\n");
                out.push_str(&writes);
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
}
