//! Every workload against one server: the runs of a leg (local) or of an external server,
//! labelled alike and shown on the progress bar alike.
use std::sync::Arc;

use indicatif::ProgressBar;

use super::progress::{one_line, say};
use crate::{
    args::{Args, Layers},
    http::Target,
    workload::{self, Layout, Picker, Progress, RunResult, RunSpec, Writes},
};

/// One server under test: how its runs are labelled, and how they reach it.
pub(super) struct Leg<'a> {
    /// The server's process, when this run started it.
    pub server_pid: Option<u32>,
    pub db: String,
    /// The backend, with its layers when not every layer is on.
    pub backend: String,
    /// The backend alone.
    pub base: String,
    pub layers: Layers,
    pub target: &'a Target,
    pub token: &'a str,
    /// One token per connection to read with (`--tokens per-connection`), else empty.
    pub readers: &'a [String],
    pub has_cache: bool,
    /// The progress bar's label for its runs.
    pub label: String,
}

/// What every run shares: the seeded layout, the id picker and the write log.
pub(super) struct Shared<'a> {
    pub layout: &'a Arc<Layout>,
    pub picker: &'a Arc<Picker>,
    pub writes: &'a Arc<Writes>,
}

/// Runs every workload of `args` against `leg` in order, moving `bar` on by `step_ms` from
/// `position` after each; the results go to `runs`. Returns the new position.
pub(super) async fn run_all(
    args: &Args,
    leg: &Leg<'_>,
    shared: &Shared<'_>,
    bar: &ProgressBar,
    mut position: u64,
    step_ms: u64,
    runs: &mut Vec<RunResult>,
) -> u64 {
    for w in &args.workloads {
        let spec = RunSpec {
            db: leg.db.clone(),
            backend: leg.backend.clone(),
            base: leg.base.clone(),
            layers: leg.layers,
            workload: *w,
            target: leg.target.clone(),
            token: leg.token.to_owned(),
            readers: Arc::new(leg.readers.to_vec()),
            connections: args.connections,
            warmup: args.warmup,
            duration: args.duration,
            has_cache: leg.has_cache,
            layout: shared.layout.clone(),
            picker: shared.picker.clone(),
            writes: shared.writes.clone(),
            hot_id: args.users.div_ceil(2),
            prefill: args.prefill,
            server_pid: leg.server_pid,
            window_hook: args.window_hook.as_deref().map(Arc::from),
        };
        let progress = Progress {
            bar,
            base_ms: position,
            label: format!("{} {}", leg.label, w.as_str()),
        };
        let result = workload::run(spec, progress).await;
        position += step_ms;
        bar.set_position(position);
        say(bar, one_line(&result));
        runs.push(result);
    }
    position
}
