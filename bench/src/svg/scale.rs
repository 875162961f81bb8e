//! The y scale of a [`super::Chart`]: value to pixel row, and the ticks to draw. Linear from 0
//! to a "nice" top, or logarithmic over whole decades, with 2 and 5 between them over short
//! spans so that values within a decade or two can still be read off the axis.
use super::{Scale, nice_step};

/// A tick written by the chart's format, without trailing zeros (ticks are round numbers, so
/// `5.00` says no more than `5`).
pub(super) fn tick_label(text: String) -> String {
    if text.contains('.') && text.chars().all(|c| c.is_ascii_digit() || c == '.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// A linear scale from 0 to a "nice" top at or above `max`, and its ticks.
pub(super) fn linear_scale(max: f64, top: f64, plot_h: f64) -> (Scale, Vec<f64>) {
    let max = max.max(f64::MIN_POSITIVE);
    let step = nice_step(max, 6.0);
    let top_v = (max / step).ceil() * step;
    let ticks = (0..=((top_v / step).round() as i64))
        .map(|i| i as f64 * step)
        .collect();
    (
        Box::new(move |v: f64| top + plot_h - (v.max(0.0) / top_v) * plot_h),
        ticks,
    )
}

/// A logarithmic scale over whole decades around the positive values, and its ticks: each
/// decade, with 2 and 5 between them when the span is two decades or less.
pub(super) fn log_scale(all: &[f64], data_max: f64, top: f64, plot_h: f64) -> (Scale, Vec<f64>) {
    let lo = all
        .iter()
        .copied()
        .filter(|v| *v > 0.0)
        .fold(f64::INFINITY, f64::min)
        .min(data_max)
        .max(1e-6);
    let lo_exp = if lo.is_finite() {
        lo.log10().floor()
    } else {
        -1.0
    };
    let hi_exp = if data_max > 0.0 {
        data_max.log10().ceil().max(lo_exp + 1.0)
    } else {
        lo_exp + 1.0
    };
    let span = hi_exp - lo_exp;
    let steps: &[f64] = if span <= 2.0 {
        &[1.0, 2.0, 5.0]
    } else {
        &[1.0]
    };
    let mut ticks = Vec::new();
    for e in lo_exp as i32..=hi_exp as i32 {
        for m in steps {
            let v = m * 10f64.powi(e);
            if v <= 10f64.powf(hi_exp) * 1.0001 {
                ticks.push(v);
            }
        }
    }
    (
        Box::new(move |v: f64| {
            let e = if v > 0.0 {
                v.log10().max(lo_exp)
            } else {
                lo_exp
            };
            top + plot_h - (e - lo_exp) / span * plot_h
        }),
        ticks,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks() {
        assert_eq!(nice_step(97.0, 5.0), 20.0);
        assert_eq!(tick_label("5.00".into()), "5");
        assert_eq!(tick_label("0.50".into()), "0.5");
        assert_eq!(tick_label("20,000".into()), "20,000");
        let (_, ticks) = linear_scale(97.0, 0.0, 100.0);
        assert_eq!(ticks, [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
    }

    #[test]
    fn short_log_spans_get_intermediate_ticks() {
        let (_, ticks) = log_scale(&[0.8, 3.0], 3.0, 0.0, 100.0);
        assert_eq!(ticks, [0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0]);
        let (_, ticks) = log_scale(&[0.5, 300.0], 300.0, 0.0, 100.0);
        assert_eq!(ticks, [0.1, 1.0, 10.0, 100.0, 1000.0]);
    }
}
