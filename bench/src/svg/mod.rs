//! Hand-written SVG charts: grouped bars (linear or logarithmic) and horizontal stacked bars.
//!
//! This file owns what a chart is made of ([`Chart`], [`Series`], the palette) and the small
//! helpers (escaping, tick steps, the legend's layout); `render` draws a [`Chart`] over the y
//! scale of `scale`, `stacked` is the stacked chart, [`Stacked`]. Values are written by the caller's format, so the charts
//! show numbers the way the tables do.
mod render;
mod scale;
mod stacked;

pub use stacked::{Part, Row, Stacked};

/// One bar series (one backend): a value per group, `None` where there is nothing to show.
pub struct Series {
    pub name: String,
    pub color: &'static str,
    pub values: Vec<Option<f64>>,
    /// A second, smaller value drawn inside each bar (p50 inside p99).
    pub inner: Option<Vec<Option<f64>>>,
}

/// Grouped bars: one group per entry of `groups`, one bar per series in each.
pub struct Chart {
    pub title: String,
    pub y_label: String,
    /// Group labels; `a: b` is written over two lines.
    pub groups: Vec<String>,
    pub series: Vec<Series>,
    pub log: bool,
    /// Fixed top of the axis.
    pub y_max: Option<f64>,
    /// A line under the legend.
    pub note: Option<String>,
    /// How values are written, on the bars and on the axis.
    pub format: fn(f64) -> String,
}

/// Value to pixel row.
type Scale = Box<dyn Fn(f64) -> f64>;

/// Series colours, told apart in print and by most colour-blind readers.
pub const COLORS: [&str; 8] = [
    "#d1495b", "#2e86ab", "#6c757d", "#edae49", "#66a182", "#8d5a97", "#00798c", "#b5651d",
];

/// Light to dark, for series that are steps of one thing (the layer ladder).
pub const STEPS: [&str; 4] = ["#9ecae1", "#6baed6", "#3182bd", "#08519c"];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Legend entries laid out from `x0` in rows no wider than `x1`: (x, row) of each entry, and
/// the number of rows.
fn legend_layout<'a>(
    names: impl Iterator<Item = &'a str>,
    x0: f64,
    x1: f64,
) -> (Vec<(f64, usize)>, usize) {
    let mut out = Vec::new();
    let (mut x, mut row) = (x0, 0);
    for name in names {
        let w = 28.0 + 6.8 * name.chars().count() as f64;
        if x > x0 && x + w > x1 {
            x = x0;
            row += 1;
        }
        out.push((x, row));
        x += w;
    }
    let rows = if out.is_empty() { 0 } else { row + 1 };
    (out, rows)
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

/// The opening of a chart `w` × `h` px: the `<svg>` element, a white background, the title.
pub(crate) fn header(w: f64, h: f64, title: &str) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.0} {h:.0}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{:.1}" y="24" text-anchor="middle" font-size="16" font-weight="bold">{}</text>
"#,
        w / 2.0,
        esc(title)
    )
}
