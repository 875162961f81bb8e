//! Drawing a [`Chart`]: the y scale (linear with "nice" ticks, or logarithmic by decades), grid,
//! axes, grouped bars with their labels, legend and note.
use super::{Chart, Scale, esc, nice_step, short};

impl Chart {
    pub fn render(&self) -> String {
        let (w, h) = (900.0, 480.0);
        let (left, right, top, bottom) = (80.0, 20.0, 60.0, 90.0);
        let plot_w = w - left - right;
        let plot_h = h - top - bottom;
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
        let mut out = String::new();
        out.push_str(&format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{}" y="24" text-anchor="middle" font-size="16" font-weight="bold">{}</text>
"#,
            w / 2.0,
            esc(&self.title)
        ));

        // The y scale: value -> pixel.
        let (y_of, ticks): (Scale, Vec<(f64, String)>) = if self.log {
            let positive: Vec<f64> = all.iter().copied().filter(|v| *v > 0.0).collect();
            let lo = positive
                .iter()
                .copied()
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
            let ticks = (lo_exp as i32..=hi_exp as i32)
                .map(|e| (10f64.powi(e), short(10f64.powi(e))))
                .collect();
            let span = hi_exp - lo_exp;
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
        } else {
            let max = self.y_max.unwrap_or(data_max * 1.1).max(f64::MIN_POSITIVE);
            let step = nice_step(max, 5.0);
            let top_v = (max / step).ceil() * step;
            let ticks = (0..=((top_v / step).round() as i64))
                .map(|i| {
                    let v = i as f64 * step;
                    (v, short(v))
                })
                .collect();
            (
                Box::new(move |v: f64| top + plot_h - (v.max(0.0) / top_v) * plot_h),
                ticks,
            )
        };

        // Grid and y axis.
        for (v, label) in &ticks {
            let y = y_of(*v);
            out.push_str(&format!(
                "<line x1=\"{left}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#e0e0e0\"/>\n<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\n",
                left + plot_w,
                left - 6.0,
                y + 4.0,
                esc(label)
            ));
        }
        out.push_str(&format!(
            "<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{:.1}\" stroke=\"#333\"/>\n<line x1=\"{left}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#333\"/>\n",
            top + plot_h,
            top + plot_h,
            left + plot_w,
            top + plot_h
        ));
        out.push_str(&format!(
            "<text transform=\"translate(18 {:.1}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
            top + plot_h / 2.0,
            esc(&self.y_label)
        ));

        // Bars.
        let groups = self.groups.len().max(1) as f64;
        let group_w = plot_w / groups;
        let n = self.series.len().max(1) as f64;
        let bar_w = (group_w * 0.8 / n).min(60.0);
        let base = y_of(0.0);
        for (g, group) in self.groups.iter().enumerate() {
            let gx = left + group_w * g as f64;
            let start = gx + (group_w - bar_w * n) / 2.0;
            for (s, series) in self.series.iter().enumerate() {
                let x = start + bar_w * s as f64;
                let Some(v) = series.values.get(g).copied().flatten() else {
                    out.push_str(&format!(
                        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#999\" font-size=\"10\">n/a</text>\n",
                        x + bar_w / 2.0,
                        base - 4.0
                    ));
                    continue;
                };
                let y = y_of(v);
                let outer_opacity = if series.inner.is_some() { "0.35" } else { "1" };
                out.push_str(&format!(
                    "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\" fill-opacity=\"{outer_opacity}\"><title>{} {}: {}</title></rect>\n",
                    bar_w - 2.0,
                    (base - y).max(0.0),
                    series.color,
                    esc(group),
                    esc(&series.name),
                    short(v)
                ));
                if let Some(inner) = &series.inner
                    && let Some(iv) = inner.get(g).copied().flatten()
                {
                    let iy = y_of(iv);
                    out.push_str(&format!(
                        "<rect x=\"{:.1}\" y=\"{iy:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{} {}: {}</title></rect>\n",
                        x + bar_w * 0.2,
                        (bar_w - 2.0) * 0.6,
                        (base - iy).max(0.0),
                        series.color,
                        esc(group),
                        esc(&series.name),
                        short(iv)
                    ));
                    out.push_str(&format!(
                        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"9\" fill=\"white\">{}</text>\n",
                        x + bar_w / 2.0 - 1.0,
                        (iy + 10.0).min(base - 2.0),
                        short(iv)
                    ));
                }
                out.push_str(&format!(
                    "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"9\">{}</text>\n",
                    x + bar_w / 2.0 - 1.0,
                    y - 3.0,
                    short(v)
                ));
            }
            // Group label, split on ": " over two lines.
            let (l1, l2) = group.split_once(": ").unwrap_or((group, ""));
            out.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-weight=\"bold\">{}</text>\n<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"10\" fill=\"#555\">{}</text>\n",
                gx + group_w / 2.0,
                top + plot_h + 18.0,
                esc(l1),
                gx + group_w / 2.0,
                top + plot_h + 32.0,
                esc(l2)
            ));
        }

        // Legend.
        let mut lx = left;
        let ly = h - 30.0;
        for series in &self.series {
            out.push_str(&format!(
                "<rect x=\"{lx:.1}\" y=\"{:.1}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text>\n",
                ly - 10.0,
                series.color,
                lx + 16.0,
                ly,
                esc(&series.name)
            ));
            lx += 30.0 + 8.0 * series.name.len() as f64;
        }
        if let Some(note) = &self.note {
            out.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{ly:.1}\" fill=\"#555\">{}</text>\n",
                lx + 10.0,
                esc(note)
            ));
        }
        out.push_str("</svg>\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::svg::{COLORS, Series};

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
            };
            let svg = chart.render();
            assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
            assert!(svg.contains("t &lt;&amp;&gt;") && svg.contains("n/a"));
            assert!(!svg.contains("NaN") && !svg.contains("inf"));
        }
        assert_eq!(short(12345.0), "12.3k");
        assert_eq!(short(0.25), "0.250");
        assert_eq!(nice_step(97.0, 5.0), 20.0);
    }
}
