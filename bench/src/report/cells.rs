//! The number formats of the report, one per kind of number, used by the tables, the charts
//! (bar labels and axis ticks), the Markdown report and the progress lines alike:
//!
//! - throughput: [`rps`], three significant digits with thousands separators (`48,700`);
//! - latency: [`ms`] / [`ms_us`], milliseconds with two decimals below 10 ms, one below 100 ms
//!   (`0.84`, `12.3`, `145`);
//! - shares: [`pct`], one decimal (`62.5`).
//!
//! And one result's cells built from them: its hit rate, when it means something.
use crate::workload::RunResult;

/// Responses per second: three significant digits (more is noise on any machine), thousands
/// separated by commas: `48,693.2` → `48,700`, `512.4` → `512`, `4.567` → `4.57`.
pub(crate) fn rps(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    if v.abs() < 100.0 {
        return significant(v);
    }
    let digits = v.abs().log10().floor() as i32 + 1;
    let unit = 10f64.powi(digits - 3);
    let rounded = ((v / unit).round() * unit) as i64;
    let text = rounded.unsigned_abs().to_string();
    let mut out = String::with_capacity(text.len() + text.len() / 3 + 1);
    if rounded < 0 {
        out.push('-');
    }
    for (i, c) in text.chars().enumerate() {
        if i > 0 && (text.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Three significant digits for a small value (`4.57`, `42.0` → `42`).
fn significant(v: f64) -> String {
    let text = if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    };
    match text.trim_end_matches('0').trim_end_matches('.') {
        "" | "-" => "0".into(),
        t => t.to_owned(),
    }
}

/// Milliseconds: two decimals below 10 (`0.84`, `9.50`), one below 100 (`12.3`), none above
/// (`145`).
pub(crate) fn ms(v: f64) -> String {
    if !v.is_finite() {
        "–".into()
    } else if v.abs() < 10.0 {
        format!("{v:.2}")
    } else if v.abs() < 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

/// Microseconds as [`ms`], `–` when there is no value.
pub(crate) fn ms_us(us: Option<u64>) -> String {
    us.map_or_else(|| "–".into(), |v| ms(v as f64 / 1000.0))
}

/// A percentage with one decimal, without the sign: `62.5`.
pub(crate) fn pct(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.1}")
    } else {
        "–".into()
    }
}

/// The window's hit rate, when the server counted enough lookups for it to say something: at
/// least one per 100 responses (W0 makes none; the `cacheStats` reads themselves count one).
pub(super) fn meaningful_hit_rate(r: &RunResult) -> Option<f64> {
    let lookups = r.delta_hits? + r.delta_misses?;
    (lookups * 100 >= r.responses).then_some(r.hit_rate?)
}

/// The hit-rate cell: the rate, or the number of lookups when too few to mean anything.
pub(super) fn hit_rate_cell(r: &RunResult) -> String {
    match (meaningful_hit_rate(r), r.delta_hits, r.delta_misses) {
        (Some(h), _, _) => pct(h),
        (None, Some(h), Some(m)) => format!("– ({} lookups)", h + m),
        _ => "–".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throughput_has_three_digits_and_separators() {
        assert_eq!(rps(48_693.2), "48,700");
        assert_eq!(rps(108_895.4), "109,000");
        assert_eq!(rps(1_234_567.0), "1,230,000");
        assert_eq!(rps(2_506.0), "2,510");
        assert_eq!(rps(999.6), "1,000");
        assert_eq!(rps(512.4), "512");
        assert_eq!(rps(42.0), "42");
        assert_eq!(rps(4.567), "4.57");
        assert_eq!(rps(0.0), "0");
        assert_eq!(rps(f64::NAN), "–");
    }

    #[test]
    fn latency_and_shares() {
        assert_eq!(ms(0.843), "0.84");
        assert_eq!(ms(12.34), "12.3");
        assert_eq!(ms(145.2), "145");
        assert_eq!(ms_us(Some(846)), "0.85");
        assert_eq!(ms_us(None), "–");
        assert_eq!(pct(62.46), "62.5");
        assert_eq!(pct(100.0), "100.0");
    }
}
