//! The SVG charts of each database: throughput, latency (p99 with p50 inside, log scale) and
//! hit rate, workload × backend.
use super::{Report, cells::meaningful_hit_rate};
use crate::{
    svg::{COLORS, Chart, Series},
    workload::RunResult,
};

impl Report {
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
