//! Where the answers came from: each request between the window's two `cacheStats` reads
//! attributed to the layer that answered it, from the server's counters and the load
//! generator's own count of what it sent. Shown as stacked bars (`sources-<db>.svg`), as a
//! table column, and in `results.json`.
//!
//! The attribution, for `r` reads, `w` writes and `o` other requests (`__typename`):
//!
//! 1. *whole-response cache*: `responsesServed`'s growth (reads first, then others);
//! 2. *database loads*: the reads left that a lookup answered from the database, Δmisses plus
//!    Δshared (a load another request made), at most one per read;
//! 3. *cache entries*: the reads left (answered by L1, Redis or the memory store);
//! 4. *writes*: `updateUser`, which always goes to the database;
//! 5. *nothing to read*: the others left (executed, no data needed).
//!
//! With backend `none` every read is a database load. The caller's own lookup (the admin, on
//! every request) is a hit in the counters but not an answer, so it is not counted as one.
use super::{Report, cells::pct};
use crate::{
    svg::{Part, Row, Stacked},
    workload::RunResult,
};

/// The parts, in the order they stack: legend name, short name (table cells, JSON), colour.
pub(super) const SOURCES: [(&str, &str, &str); 5] = [
    ("whole-response cache", "responses", "#08519c"),
    ("cache entries (L1, Redis or memory)", "entries", "#6baed6"),
    ("database loads (misses)", "database", "#edae49"),
    ("writes (database)", "writes", "#d1495b"),
    ("executed, nothing to read", "nothing", "#bdbdbd"),
];

/// The shares (%) of [`SOURCES`] for one result, `None` without counters or requests.
pub(super) fn sources(r: &RunResult) -> Option<[f64; 5]> {
    let ops = r.between_reads;
    let total = ops.total();
    if total == 0 {
        return None;
    }
    let (served, loads) = if r.has_cache {
        let loads = r.delta_misses? + r.delta_shared.unwrap_or(0);
        (r.delta_served.unwrap_or(0), loads)
    } else {
        (0, ops.reads)
    };
    let served_reads = served.min(ops.reads);
    let served_other = (served - served_reads).min(ops.other);
    let database = loads.min(ops.reads - served_reads);
    let entries = ops.reads - served_reads - database;
    let counts = [
        served_reads + served_other,
        entries,
        database,
        ops.writes,
        ops.other - served_other,
    ];
    Some(counts.map(|c| c as f64 / total as f64 * 100.0))
}

/// The table cell: the parts that are not zero, `responses 62.5 · entries 37.5`.
pub(super) fn sources_cell(r: &RunResult) -> String {
    let Some(shares) = sources(r) else {
        return "–".into();
    };
    let parts: Vec<String> = SOURCES
        .iter()
        .zip(shares)
        .filter(|(_, s)| *s >= 0.05)
        .map(|((_, short, _), s)| format!("{short} {}", pct(s)))
        .collect();
    parts.join(" · ")
}

impl Report {
    /// `sources-<db>.svg`: per workload, a stacked bar per leg of where the answers came from.
    pub(super) fn sources_chart(&self, db: &str) -> Option<String> {
        let legs = self.backends_of(db);
        let blocks: Vec<(String, Vec<Row>)> = self
            .workloads_of(db)
            .into_iter()
            .map(|w| {
                let rows = legs
                    .iter()
                    .filter_map(|leg| self.find(db, leg, w))
                    .map(|r| Row {
                        label: r.backend.clone(),
                        shares: sources(r).map(Vec::from),
                    })
                    .collect();
                (format!("{}: {}", w.as_str(), w.describe(self.zipf)), rows)
            })
            .collect();
        if blocks.is_empty() {
            return None;
        }
        Some(
            Stacked {
                title: format!("Where the answers came from, {db}"),
                parts: SOURCES
                    .iter()
                    .map(|(name, _, color)| Part {
                        name: (*name).into(),
                        color,
                    })
                    .collect(),
                blocks,
                notes: vec![
                    "Share of the requests between the window's two cacheStats reads: responsesServed, then Δmisses + Δshared".into(),
                    "(at most one per read) as database loads, the other reads from cache entries; backend none: every read a load.".into(),
                ],
                format: pct,
            }
            .render(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::result;

    #[test]
    fn every_request_is_attributed_once() {
        let shares = sources(&result(true, 95, 5, 0)).unwrap();
        assert_eq!(shares, [50.0, 25.0, 20.0, 5.0, 0.0]);
        assert_eq!(
            sources_cell(&result(true, 95, 5, 0)),
            "responses 50.0 · entries 25.0 · database 20.0 · writes 5.0"
        );
        // `__typename`: served, or executed with nothing to read.
        let shares = sources(&result(true, 0, 0, 100)).unwrap();
        assert_eq!(shares, [50.0, 0.0, 0.0, 0.0, 50.0]);
        // No cache: every read is a database load.
        let shares = sources(&result(false, 90, 10, 0)).unwrap();
        assert_eq!(shares, [0.0, 0.0, 90.0, 10.0, 0.0]);
        assert!(sources(&result(true, 0, 0, 0)).is_none());
        let mut no_counters = result(true, 10, 0, 0);
        no_counters.delta_misses = None;
        assert!(sources(&no_counters).is_none());
    }
}
