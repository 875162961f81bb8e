//! One result's numbers as table cells: milliseconds, and the hit rate when it means something.
//!
//! Shared by the tables and the charts (and the progress lines of the run), so each is written
//! the same way everywhere.
use crate::workload::RunResult;

/// The window's hit rate, when the server counted enough lookups for it to say something: at
/// least one per 100 responses (W0 makes none; the `cacheStats` reads themselves count one).
pub(super) fn meaningful_hit_rate(r: &RunResult) -> Option<f64> {
    let lookups = r.delta_hits? + r.delta_misses?;
    (lookups * 100 >= r.responses).then_some(r.hit_rate?)
}

/// The hit-rate cell: the rate, or the number of lookups when too few to mean anything.
pub(super) fn hit_rate_cell(r: &RunResult) -> String {
    match (meaningful_hit_rate(r), r.delta_hits, r.delta_misses) {
        (Some(h), _, _) => format!("{h:.1}"),
        (None, Some(h), Some(m)) => format!("– ({} lookups)", h + m),
        _ => "–".into(),
    }
}

/// Microseconds as milliseconds with two decimals, `–` when there is no value.
pub(crate) fn ms(us: Option<u64>) -> String {
    us.map_or_else(|| "–".into(), |v| format!("{:.2}", v as f64 / 1000.0))
}
