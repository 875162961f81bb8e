//! The SVG charts of each database, and what each one shows (for `report.md`):
//!
//! - `throughput-<db>.svg`: responses per second, workload × backend (every layer on);
//! - `layers-<db>.svg`: throughput by cache layer, `none` and each configuration of the
//!   laddered backend side by side (`layer_chart`);
//! - `latency-<db>.svg`: p99 with p50 inside, workload × backend, log scale;
//! - `p99-writes-<db>.svg`: p99 of W4's and W5's reads and writes apart, beside the read-only workloads
//!   (`write_chart`);
//! - `sources-<db>.svg`: where the answers came from, stacked (`sources`).
//!
//! The backend charts show one leg per backend: every layer on, or the most a backend ran with.
use super::{
    Report,
    cells::{ms, rps},
};
use crate::{
    args::Layers,
    svg::{COLORS, Chart, Series},
    workload::RunResult,
};

/// The kinds of chart, by file-name prefix, and what each shows.
const CAPTIONS: [(&str, &str); 5] = [
    (
        "throughput-",
        "Throughput per workload and backend, every cache layer on.",
    ),
    (
        "layers-",
        "Throughput by cache layer: no cache, then one more layer at a time, up to every layer.",
    ),
    (
        "latency-",
        "Latency per workload and backend: p99 (pale) with p50 inside, log scale.",
    ),
    (
        "p99-writes-",
        "p99 under writes: W4's and W5's reads and writes apart, beside the read-only workloads.",
    ),
    (
        "sources-",
        "Where the answers came from: whole-response cache, cache entries, database.",
    ),
];

/// The colour of a backend in every chart, whatever else ran: `none` is the grey of "no cache".
pub(super) fn backend_color(base: &str, index: usize) -> &'static str {
    match base {
        "redis" => "#2e86ab",
        "redis-cluster" => "#8d5a97",
        "memory" => "#edae49",
        "none" => "#6c757d",
        _ => COLORS[index % COLORS.len()],
    }
}

/// What the chart in file `name` shows, for `report.md`.
pub(super) fn caption(name: &str) -> &'static str {
    CAPTIONS
        .iter()
        .find(|(prefix, _)| name.starts_with(prefix))
        .map_or("", |(_, c)| c)
}

impl Report {
    /// (file name, SVG) of every chart.
    pub fn charts(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for db in self.db_names() {
            out.push((format!("throughput-{db}.svg"), self.throughput_chart(&db)));
            if let Some(svg) = self.layer_chart(&db) {
                out.push((format!("layers-{db}.svg"), svg));
            }
            out.push((format!("latency-{db}.svg"), self.latency_chart(&db)));
            if let Some(svg) = self.write_chart(&db) {
                out.push((format!("p99-writes-{db}.svg"), svg));
            }
            if let Some(svg) = self.sources_chart(&db) {
                out.push((format!("sources-{db}.svg"), svg));
            }
        }
        out
    }

    /// One leg per backend, in the order they ran: the one with the most layers on.
    pub(super) fn backend_legs(&self, db: &str) -> Vec<String> {
        let mut best: Vec<(&str, Layers, &str)> = Vec::new();
        for r in self.runs.iter().filter(|r| r.db == db) {
            match best.iter_mut().find(|(base, _, _)| *base == r.base) {
                Some(b) if b.1 < r.layers => *b = (&r.base, r.layers, &r.backend),
                Some(_) => {}
                None => best.push((&r.base, r.layers, &r.backend)),
            }
        }
        best.into_iter().map(|(_, _, leg)| leg.to_owned()).collect()
    }

    /// `W1: user(id), hot`, … for the workloads of `db`.
    pub(super) fn group_labels(&self, db: &str) -> Vec<String> {
        self.workloads_of(db)
            .iter()
            .map(|w| format!("{}: {}", w.as_str(), w.label(self.zipf)))
            .collect()
    }

    /// One series per backend leg of `db`, `f` of each workload's result.
    pub(super) fn backend_series(
        &self,
        db: &str,
        f: &dyn Fn(&RunResult) -> Option<f64>,
    ) -> Vec<Series> {
        let workloads = self.workloads_of(db);
        self.backend_legs(db)
            .into_iter()
            .enumerate()
            .map(|(i, leg)| {
                let results: Vec<Option<&RunResult>> =
                    workloads.iter().map(|w| self.find(db, &leg, *w)).collect();
                let base = results.iter().flatten().next().map_or("", |r| &r.base);
                Series {
                    color: backend_color(base, i),
                    values: results.iter().map(|r| r.and_then(f)).collect(),
                    name: leg,
                    inner: None,
                }
            })
            .collect()
    }

    /// Users, connections and window, for chart titles.
    pub(super) fn settings(&self) -> String {
        format!(
            "{} users, {} connections, {} s window",
            self.users, self.connections, self.duration_s
        )
    }

    fn throughput_chart(&self, db: &str) -> String {
        Chart {
            title: format!("Throughput, {db} ({})", self.settings()),
            y_label: "responses / s".into(),
            groups: self.group_labels(db),
            series: self.backend_series(db, &|r| Some(r.throughput)),
            log: false,
            y_max: None,
            note: Some("every cache layer on; layers-*.svg takes them one at a time".into()),
            format: rps,
        }
        .render()
    }

    fn latency_chart(&self, db: &str) -> String {
        let workloads = self.workloads_of(db);
        let mut series = self.backend_series(db, &|r| r.p99_us.map(|v| v as f64 / 1000.0));
        for s in &mut series {
            s.inner = Some(
                workloads
                    .iter()
                    .map(|w| {
                        self.find(db, &s.name, *w)
                            .and_then(|r| r.p50_us)
                            .map(|v| v as f64 / 1000.0)
                    })
                    .collect(),
            );
        }
        Chart {
            title: format!("Latency, {db} ({})", self.settings()),
            y_label: "milliseconds (log scale)".into(),
            groups: self.group_labels(db),
            series,
            log: true,
            y_max: None,
            note: Some("pale bar: p99 · solid inner bar: p50".into()),
            format: ms,
        }
        .render()
    }
}
