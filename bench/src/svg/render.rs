//! Drawing a [`Chart`]: grid, axes, grouped bars with their labels, legend and note, over the
//! y scale of `scale`. The chart grows wider when it has many bars, and taller when the legend
//! needs more than one row.
use std::fmt::Write as _;

use super::{
    Chart, esc, header, legend_layout,
    scale::{linear_scale, log_scale, tick_label},
};

/// Below this width a bar's label is written upwards rather than across.
const LABEL_PX_PER_CHAR: f64 = 5.5;

impl Chart {
    pub fn render(&self) -> String {
        let fmt = self.format;
        let groups = self.groups.len().max(1) as f64;
        let n = self.series.len().max(1) as f64;
        let (left, right, top) = (80.0, 20.0, 60.0);
        let w = (left + right + groups * n * 18.0 / 0.8).max(900.0);
        let plot_w = w - left - right;
        let plot_h = 330.0;
        let (legend, rows) =
            legend_layout(self.series.iter().map(|s| s.name.as_str()), left, w - right);
        let legend_y = top + plot_h + 58.0;
        let note_y = legend_y + 18.0 * rows as f64;
        let h = note_y + if self.note.is_some() { 18.0 } else { 0.0 } + 6.0;
        let all: Vec<f64> = self
            .series
            .iter()
            .flat_map(|s| {
                s.values
                    .iter()
                    .chain(s.inner.iter().flatten())
                    .flatten()
                    .copied()
            })
            .filter(|v| v.is_finite())
            .collect();
        let data_max = all.iter().copied().fold(0.0f64, f64::max);
        let mut out = header(w, h, &self.title);

        let (y_of, ticks) = if self.log {
            log_scale(&all, data_max, top, plot_h)
        } else {
            linear_scale(self.y_max.unwrap_or(data_max * 1.1), top, plot_h)
        };

        // Grid and y axis.
        for v in &ticks {
            let y = y_of(*v);
            let _ = writeln!(
                out,
                "<line x1=\"{left}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#e0e0e0\"/>\n<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                left + plot_w,
                left - 6.0,
                y + 4.0,
                esc(&tick_label(fmt(*v)))
            );
        }
        let bottom = top + plot_h;
        let _ = writeln!(
            out,
            "<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{bottom:.1}\" stroke=\"#333\"/>\n<line x1=\"{left}\" y1=\"{bottom:.1}\" x2=\"{:.1}\" y2=\"{bottom:.1}\" stroke=\"#333\"/>\n<text transform=\"translate(18 {:.1}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
            left + plot_w,
            top + plot_h / 2.0,
            esc(&self.y_label)
        );

        // Bars.
        let group_w = plot_w / groups;
        let bar_w = (group_w * 0.8 / n).min(60.0);
        let base = y_of(0.0);
        for (g, group) in self.groups.iter().enumerate() {
            let gx = left + group_w * g as f64;
            let start = gx + (group_w - bar_w * n) / 2.0;
            for (s, series) in self.series.iter().enumerate() {
                let x = start + bar_w * s as f64;
                let mid = x + bar_w / 2.0 - 1.0;
                let Some(v) = series.values.get(g).copied().flatten() else {
                    let _ = writeln!(
                        out,
                        "<text x=\"{mid:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#999\" font-size=\"10\">n/a</text>",
                        base - 4.0
                    );
                    continue;
                };
                let y = y_of(v);
                let label = esc(&fmt(v));
                let outer_opacity = if series.inner.is_some() { "0.35" } else { "1" };
                let _ = writeln!(
                    out,
                    "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\" fill-opacity=\"{outer_opacity}\"><title>{} · {}: {label}</title></rect>",
                    bar_w - 2.0,
                    (base - y).max(0.0),
                    series.color,
                    esc(group),
                    esc(&series.name),
                );
                if let Some(iv) = series
                    .inner
                    .as_ref()
                    .and_then(|i| i.get(g).copied().flatten())
                {
                    let iy = y_of(iv);
                    let inner = esc(&fmt(iv));
                    let _ = writeln!(
                        out,
                        "<rect x=\"{:.1}\" y=\"{iy:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{} · {}: {inner}</title></rect>",
                        x + bar_w * 0.2,
                        (bar_w - 2.0) * 0.6,
                        (base - iy).max(0.0),
                        series.color,
                        esc(group),
                        esc(&series.name),
                    );
                    if bar_w >= LABEL_PX_PER_CHAR * inner.len() as f64 {
                        let _ = writeln!(
                            out,
                            "<text x=\"{mid:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"9\" fill=\"white\">{inner}</text>",
                            (iy + 10.0).min(base - 2.0),
                        );
                    }
                }
                if bar_w >= LABEL_PX_PER_CHAR * label.len() as f64 {
                    let _ = writeln!(
                        out,
                        "<text x=\"{mid:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"9\">{label}</text>",
                        y - 3.0
                    );
                } else {
                    let _ = writeln!(
                        out,
                        "<text transform=\"translate({:.1} {:.1}) rotate(-90)\" font-size=\"9\">{label}</text>",
                        mid + 3.0,
                        y - 3.0
                    );
                }
            }
            // Group label, split on ": " over two lines.
            let (l1, l2) = group.split_once(": ").unwrap_or((group, ""));
            let cx = gx + group_w / 2.0;
            let _ = writeln!(
                out,
                "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-weight=\"bold\">{}</text>\n<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"10\" fill=\"#555\">{}</text>",
                bottom + 18.0,
                esc(l1),
                bottom + 32.0,
                esc(l2)
            );
        }

        // Legend, then the note on a line of its own.
        for (series, (lx, row)) in self.series.iter().zip(&legend) {
            let ly = legend_y + 18.0 * *row as f64;
            let _ = writeln!(
                out,
                "<rect x=\"{lx:.1}\" y=\"{:.1}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{ly:.1}\">{}</text>",
                ly - 10.0,
                series.color,
                lx + 16.0,
                esc(&series.name)
            );
        }
        if let Some(note) = &self.note {
            let _ = writeln!(
                out,
                "<text x=\"{left}\" y=\"{note_y:.1}\" fill=\"#555\">{}</text>",
                esc(note)
            );
        }
        out.push_str("</svg>\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::svg::{COLORS, Series};

    fn plain(v: f64) -> String {
        format!("{v:.1}")
    }

    #[test]
    fn renders_both_scales() {
        for log in [false, true] {
            let chart = Chart {
                title: "t <&>".into(),
                y_label: "y".into(),
                groups: vec!["W0: a".into(), "W1: b".into()],
                series: vec![
                    Series {
                        name: "redis".into(),
                        color: COLORS[0],
                        values: vec![Some(1234.5), None],
                        inner: Some(vec![Some(100.0), None]),
                    },
                    Series {
                        name: "none".into(),
                        color: COLORS[2],
                        values: vec![Some(0.5), Some(99.0)],
                        inner: None,
                    },
                ],
                log,
                y_max: None,
                note: Some("note".into()),
                format: plain,
            };
            let svg = chart.render();
            assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
            assert!(svg.contains("t &lt;&amp;&gt;") && svg.contains("n/a"));
            assert!(svg.contains(">1234.5<") && svg.contains(">note<"));
            assert!(!svg.contains("NaN") && !svg.contains("inf"));
        }
    }
}
