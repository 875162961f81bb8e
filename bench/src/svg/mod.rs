//! Hand-written SVG charts: grouped bars, linear or logarithmic.
//!
//! This file owns what a chart is made of ([`Chart`], [`Series`], the palette) and the small
//! text helpers (escaping, short value labels, tick steps); `render` draws it.
mod render;

/// One bar series (one backend): a value per group, `None` where there is nothing to show.
pub struct Series {
    pub name: String,
    pub color: &'static str,
    pub values: Vec<Option<f64>>,
    /// A second, smaller value drawn inside each bar (p50 inside p99).
    pub inner: Option<Vec<Option<f64>>>,
}

pub struct Chart {
    pub title: String,
    pub y_label: String,
    pub groups: Vec<String>,
    pub series: Vec<Series>,
    pub log: bool,
    /// Fixed top of the axis (hit rates: 100).
    pub y_max: Option<f64>,
    /// A line under the legend.
    pub note: Option<String>,
}

/// Value to pixel row.
type Scale = Box<dyn Fn(f64) -> f64>;

pub const COLORS: [&str; 4] = ["#d1495b", "#2e86ab", "#6c757d", "#edae49"];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A short label for a value: 12345 -> 12.3k, 0.0123 -> 0.0123.
pub fn short(v: f64) -> String {
    let a = v.abs();
    if v.fract() == 0.0 && a < 1e4 {
        format!("{v:.0}")
    } else if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.1}k", v / 1e3)
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else if a == 0.0 {
        "0".into()
    } else {
        format!("{v:.3}")
    }
}

/// A "nice" step (1, 2 or 5 times a power of ten) giving about `ticks` ticks up to `max`.
fn nice_step(max: f64, ticks: f64) -> f64 {
    let raw = (max / ticks).max(f64::MIN_POSITIVE);
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let m = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}
