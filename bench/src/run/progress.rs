//! What the run shows while it goes: a progress bar on stderr, the lines above it, and the
//! one-line result of each workload.
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::{
    report::{ms_us, pct, rps},
    workload::RunResult,
};

pub(super) fn progress_bar(total_ms: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total_ms), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("[{elapsed_precise}] {wide_bar} {percent:>3}%  {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}

/// A line above the progress bar, or on stderr when the bar is hidden (not a terminal).
pub(super) fn say(bar: &ProgressBar, msg: String) {
    if bar.is_hidden() {
        eprintln!("{msg}");
    } else {
        bar.println(msg);
    }
}

pub(super) fn one_line(r: &RunResult) -> String {
    format!(
        "{}/{} {}: {} req/s, p50 {} ms, p99 {} ms, cold {} ms, hit rate {}, {} wrong",
        r.db,
        r.backend,
        r.workload.as_str(),
        rps(r.throughput),
        ms_us(r.p50_us),
        ms_us(r.p99_us),
        ms_us(r.cold_us),
        match (r.hit_rate, r.delta_hits, r.delta_misses) {
            (Some(h), Some(dh), Some(dm)) => format!("{}% of {} lookups", pct(h), dh + dm),
            _ => "–".into(),
        },
        r.failures.total()
    )
}
