//! `layers-<db>.svg`, throughput by cache layer: for each workload, `none` (no cache) and the
//! laddered backend's configurations side by side, from its cache entries alone up to every
//! layer, so a reader sees what each layer adds.
use super::{Report, cells::rps, charts::backend_color};
use crate::{
    args::Layers,
    svg::{Chart, STEPS, Series},
};

impl Report {
    /// The backend the layer ladder ran on: the first with a configuration other than every
    /// layer, else the first with a cache.
    fn laddered_base(&self, db: &str) -> Option<&str> {
        let runs = || self.runs.iter().filter(|r| r.db == db);
        runs()
            .find(|r| r.layers != Layers::All)
            .or_else(|| runs().find(|r| r.has_cache))
            .map(|r| r.base.as_str())
    }

    /// The chart, when the run measured at least two of its bars.
    pub(super) fn layer_chart(&self, db: &str) -> Option<String> {
        let base = self.laddered_base(db)?;
        let workloads = self.workloads_of(db);
        let legs = self.backends_of(db);
        let values = |leg: &str| -> Vec<Option<f64>> {
            workloads
                .iter()
                .map(|w| self.find(db, leg, *w).map(|r| r.throughput))
                .collect()
        };
        let mut series = Vec::new();
        let mut steps = 0;
        if let Some(none) = legs.iter().find(|l| {
            self.runs
                .iter()
                .any(|r| r.db == db && &r.backend == *l && !r.has_cache)
        }) {
            series.push(Series {
                name: format!("{none} (no cache)"),
                color: backend_color("none", 0),
                values: values(none),
                inner: None,
            });
        }
        for (i, layers) in Layers::LADDER.into_iter().enumerate() {
            let leg = layers.leg_label(base);
            if legs.contains(&leg) {
                steps += 1;
                series.push(Series {
                    name: format!("{base} ({})", layers.describe()),
                    color: STEPS[i % STEPS.len()],
                    values: values(&leg),
                    inner: None,
                });
            }
        }
        if series.len() < 2 {
            return None;
        }
        Some(
            Chart {
                title: format!("Throughput by cache layer, {db} ({})", self.settings()),
                y_label: "responses / s".into(),
                groups: self.group_labels(db),
                series,
                log: false,
                y_max: None,
                note: Some(if steps > 1 {
                    "left to right, one more layer on each time: cache entries, L1, parsed documents, whole responses"
                        .into()
                } else {
                    "one configuration of the cache measured: --layers entries,l1,parsed,all adds each layer's step"
                        .into()
                }),
                format: rps,
            }
            .render(),
        )
    }
}
