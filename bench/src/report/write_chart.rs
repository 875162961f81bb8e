//! `p99-writes-<db>.svg`, p99 under writes: per backend, the p99 of the reads of each workload
//! that writes (W4) and of its writes, measured apart, then the read-only workloads for
//! reference. The scale is linear unless the values span more than [`LOG_ABOVE`]×, where a
//! linear axis would flatten the small ones.
use super::{Report, cells::ms};
use crate::{
    svg::Chart,
    workload::{RunResult, Workload},
};

/// Largest / smallest value above which the axis is logarithmic.
const LOG_ABOVE: f64 = 20.0;

/// One group of bars: its label, its workload and how to read its value (µs) from a result.
type Group = (String, Workload, fn(&RunResult) -> Option<u64>);

fn reads_p99(r: &RunResult) -> Option<u64> {
    r.split.and_then(|s| s.reads.p99_us)
}

fn writes_p99(r: &RunResult) -> Option<u64> {
    r.split.and_then(|s| s.writes.p99_us)
}

impl Report {
    /// The chart, when a workload with writes ran on `db`.
    pub(super) fn write_chart(&self, db: &str) -> Option<String> {
        let workloads = self.workloads_of(db);
        if !workloads.iter().any(|w| w.has_writes()) {
            return None;
        }
        let mut groups: Vec<Group> = Vec::new();
        for &w in workloads.iter().filter(|w| w.has_writes()) {
            groups.push((format!("{} reads: under writes", w.as_str()), w, reads_p99));
            groups.push((format!("{} writes: updateUser", w.as_str()), w, writes_p99));
        }
        for &w in workloads.iter().filter(|w| !w.has_writes()) {
            let label = format!("{}: {}, no writes", w.as_str(), w.label(self.zipf));
            groups.push((label, w, |r| r.p99_us));
        }
        let mut series = self.backend_series(db, &|_| None);
        for s in &mut series {
            s.values = groups
                .iter()
                .map(|(_, w, value)| {
                    let r = self.find(db, &s.name, *w)?;
                    value(r).map(|us| us as f64 / 1000.0)
                })
                .collect();
        }
        let positive: Vec<f64> = series
            .iter()
            .flat_map(|s| s.values.iter().flatten().copied())
            .filter(|v| *v > 0.0)
            .collect();
        let (lo, hi) = positive
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
                (lo.min(*v), hi.max(*v))
            });
        let log = hi / lo > LOG_ABOVE;
        Some(
            Chart {
                title: format!("p99 latency under writes, {db} ({})", self.settings()),
                y_label: if log {
                    "p99, milliseconds (log scale)".into()
                } else {
                    "p99, milliseconds".into()
                },
                groups: groups.into_iter().map(|(label, _, _)| label).collect(),
                series,
                log,
                y_max: None,
                note: Some(format!(
                    "W4: 95% user(id) reads / 5% updateUser; W5: 80% reads (ids and the first page) / 20% updateUser; reads and writes measured apart; the others read only ({})",
                    if log { "log scale: the values span more than 20×" } else { "linear scale" }
                )),
                format: ms,
            }
            .render(),
        )
    }
}
