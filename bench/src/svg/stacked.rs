//! Horizontal stacked bars of shares: one row per bar, rows in blocks under a bold heading,
//! each bar split into parts that add up to 100%. Rows are labelled on the left, so long labels
//! (a backend with its layers) stay readable however many rows there are.
use std::fmt::Write as _;

use super::{esc, header, legend_layout};

/// One kind of part of every bar: its legend name and colour.
pub struct Part {
    pub name: String,
    pub color: &'static str,
}

/// One bar: its label and one share (%) per part, `None` when it is not known.
pub struct Row {
    pub label: String,
    pub shares: Option<Vec<f64>>,
}

/// The chart: blocks of rows (a heading and its rows), shares of `parts`.
pub struct Stacked {
    pub title: String,
    pub parts: Vec<Part>,
    pub blocks: Vec<(String, Vec<Row>)>,
    /// Lines under the legend.
    pub notes: Vec<String>,
    /// How a share is written (without the `%`).
    pub format: fn(f64) -> String,
}

const ROW_H: f64 = 20.0;
const HEADING_H: f64 = 22.0;

impl Stacked {
    pub fn render(&self) -> String {
        let fmt = self.format;
        let (w, left, right) = (900.0, 250.0, 30.0);
        let plot_w = w - left - right;
        let (legend, rows) =
            legend_layout(self.parts.iter().map(|p| p.name.as_str()), 20.0, w - right);
        let legend_y = 52.0;
        let notes_y = legend_y + 18.0 * rows as f64;
        let top = notes_y + 16.0 * self.notes.len() as f64 + 10.0;
        let body: f64 = self
            .blocks
            .iter()
            .map(|(_, rows)| HEADING_H + ROW_H * rows.len() as f64)
            .sum();
        let axis_y = top + body + 4.0;
        let h = axis_y + 24.0;
        let mut out = header(w, h, &self.title);
        for (part, (lx, row)) in self.parts.iter().zip(&legend) {
            let ly = legend_y + 18.0 * *row as f64;
            let _ = writeln!(
                out,
                "<rect x=\"{lx:.1}\" y=\"{:.1}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{ly:.1}\">{}</text>",
                ly - 10.0,
                part.color,
                lx + 16.0,
                esc(&part.name)
            );
        }
        for (i, note) in self.notes.iter().enumerate() {
            let _ = writeln!(
                out,
                "<text x=\"20\" y=\"{:.1}\" fill=\"#555\">{}</text>",
                notes_y + 16.0 * i as f64,
                esc(note)
            );
        }
        // Grid: 0, 20, …, 100 %.
        for i in 0..=5 {
            let x = left + plot_w * i as f64 / 5.0;
            let _ = writeln!(
                out,
                "<line x1=\"{x:.1}\" y1=\"{top:.1}\" x2=\"{x:.1}\" y2=\"{axis_y:.1}\" stroke=\"#e0e0e0\"/>\n<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}%</text>",
                axis_y + 16.0,
                i * 20
            );
        }
        let mut y = top;
        for (heading, rows) in &self.blocks {
            let _ = writeln!(
                out,
                "<text x=\"20\" y=\"{:.1}\" font-weight=\"bold\">{}</text>",
                y + 15.0,
                esc(heading)
            );
            y += HEADING_H;
            for row in rows {
                self.row(&mut out, row, y, left, plot_w, fmt);
                y += ROW_H;
            }
        }
        out.push_str("</svg>\n");
        out
    }

    /// One bar at `y`: its label, then its parts left to right.
    fn row(
        &self,
        out: &mut String,
        row: &Row,
        y: f64,
        left: f64,
        plot_w: f64,
        fmt: fn(f64) -> String,
    ) {
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            left - 8.0,
            y + 14.0,
            esc(&row.label)
        );
        let Some(shares) = &row.shares else {
            let _ = writeln!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#999\">n/a (no counters)</text>",
                left + 4.0,
                y + 14.0
            );
            return;
        };
        let total: f64 = shares.iter().filter(|v| v.is_finite() && **v > 0.0).sum();
        let mut x = left;
        for (part, share) in self.parts.iter().zip(shares) {
            if !(share.is_finite() && *share > 0.0 && total > 0.0) {
                continue;
            }
            let width = share / total * plot_w;
            let text = format!("{}%", fmt(*share));
            let _ = writeln!(
                out,
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{width:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{}, {}: {}</title></rect>",
                y + 3.0,
                ROW_H - 5.0,
                part.color,
                esc(&row.label),
                esc(&part.name),
                esc(&text)
            );
            if width >= 6.5 * text.len() as f64 {
                let _ = writeln!(
                    out,
                    "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"10\" fill=\"{}\">{}</text>",
                    x + width / 2.0,
                    y + 14.0,
                    ink_on(part.color),
                    esc(&text)
                );
            }
            x += width;
        }
    }
}

/// Black or white, whichever reads better on `color` (`#rrggbb`).
fn ink_on(color: &str) -> &'static str {
    let channel = |i: usize| {
        color
            .get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .map_or(0.0, f64::from)
    };
    let luma = 0.299 * channel(1) + 0.587 * channel(3) + 0.114 * channel(5);
    if luma > 150.0 { "#111" } else { "white" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_shares_and_unknown_rows() {
        let chart = Stacked {
            title: "where <answers> came from".into(),
            parts: vec![
                Part {
                    name: "cache".into(),
                    color: "#08519c",
                },
                Part {
                    name: "database".into(),
                    color: "#edae49",
                },
            ],
            blocks: vec![(
                "W1: user(id)".into(),
                vec![
                    Row {
                        label: "redis".into(),
                        shares: Some(vec![75.0, 25.0]),
                    },
                    Row {
                        label: "memory".into(),
                        shares: None,
                    },
                ],
            )],
            notes: vec!["a note".into()],
            format: |v| format!("{v:.1}"),
        };
        let svg = chart.render();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("&lt;answers&gt;") && svg.contains(">75.0%<"));
        assert!(svg.contains("n/a (no counters)") && svg.contains(">a note<"));
        assert!(!svg.contains("NaN"));
        assert_eq!((ink_on("#08519c"), ink_on("#edae49")), ("white", "#111"));
    }
}
