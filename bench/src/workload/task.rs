//! One connection's loop during a run: choose a request, send it, check the answer, record its
//! latency when it falls inside the measured window.
//!
//! What the tasks share (the spec, the window, live counters, wrong-answer samples) is here too;
//! `measure` starts the tasks and merges what they return.
use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;
use rand::{Rng, SeedableRng, rngs::SmallRng};

use super::{
    Workload,
    check::{Failure, FailureCounts},
    client::REQUEST_TIMEOUT,
    op::Op,
    spec::{OpCounts, RunSpec},
};
use crate::http::Conn;

/// Wrong answers kept verbatim per run, for the report.
pub(super) const MAX_SAMPLES: usize = 10;
/// Share of W4's requests that are writes.
const WRITE_SHARE: f64 = 0.05;
/// Share of W5's requests that are writes (its reads are half by id, half the first page).
const W5_WRITE_SHARE: f64 = 0.2;

/// What the connection tasks of one run share: the spec, the window, live counters, samples.
pub(super) struct Shared {
    pub(super) spec: RunSpec,
    pub(super) window_start: Instant,
    pub(super) window_end: Instant,
    pub(super) done: AtomicU64,
    /// Requests completed so far by kind (reads, writes, others), read around the window's
    /// `cacheStats` reads.
    pub(super) completed: [AtomicU64; 3],
    pub(super) wrong: AtomicU64,
    pub(super) samples: Mutex<Vec<String>>,
}

impl Shared {
    /// The requests completed so far, by kind.
    pub(super) fn completed(&self) -> OpCounts {
        let [reads, writes, other] = self.completed.each_ref().map(|c| c.load(Ordering::Relaxed));
        OpCounts {
            reads,
            writes,
            other,
        }
    }

    fn record_failure(&self, op: Op, f: &Failure) {
        self.wrong.fetch_add(1, Ordering::Relaxed);
        let mut s = self.samples.lock().expect("samples lock");
        if s.len() < MAX_SAMPLES {
            s.push(format!("{op:?}: {}", f.message()));
        }
    }
}

/// What one connection task measured; `measure` merges them.
#[derive(Default)]
pub(super) struct TaskStats {
    pub(super) window: Option<Histogram<u64>>,
    /// The window's reads and writes apart, for workloads that write.
    pub(super) split: Option<(Histogram<u64>, Histogram<u64>)>,
    pub(super) window_failures: u64,
    pub(super) requests: u64,
    pub(super) writes_ok: u64,
    pub(super) failures: FailureCounts,
}

pub(super) fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}

fn choose(shared: &Shared, rng: &mut SmallRng) -> Op {
    let spec = &shared.spec;
    match spec.workload {
        Workload::W0 => Op::Typename,
        Workload::W1 => Op::User(spec.hot_id),
        Workload::W2 => Op::List,
        Workload::W3 => Op::User(spec.picker.pick(rng)),
        Workload::W4 => {
            if rng.random_bool(WRITE_SHARE)
                && let Some((id, n)) = spec.writes.claim(&spec.picker, rng)
            {
                return Op::Write(id, n);
            }
            Op::User(spec.picker.pick(rng))
        }
        Workload::W5 => {
            if rng.random_bool(W5_WRITE_SHARE)
                && let Some((id, n)) = spec.writes.claim(&spec.picker, rng)
            {
                return Op::Write(id, n);
            }
            match rng.random_bool(0.5) {
                true => Op::List,
                false => Op::User(spec.picker.pick(rng)),
            }
        }
    }
}

/// One connection's loop: requests back to back until the window ends.
pub(super) async fn connection_task(
    shared: Arc<Shared>,
    mut conn: Option<Conn>,
    index: usize,
    seed: u64,
) -> TaskStats {
    let spec = &shared.spec;
    // Reads go with this connection's own token when there is one; writes always as the admin.
    let reader = spec.reader(index);
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut stats = TaskStats::default();
    let mut hist = histogram();
    let mut split = spec
        .workload
        .has_writes()
        .then(|| (histogram(), histogram()));
    let mut body = Vec::with_capacity(512);
    let mut passed_page: Option<(Vec<u8>, u64)> = None;
    loop {
        let started = Instant::now();
        if started >= shared.window_end {
            break;
        }
        let op = choose(&shared, &mut rng);
        op.body(&mut body);
        let outcome = async {
            if conn.as_ref().is_none_or(|c| !c.is_open()) {
                conn = Some(
                    Conn::connect(&spec.target)
                        .await
                        .map_err(|e| Failure::Transport(format!("connect: {e}")))?,
                );
            }
            let c = conn.as_mut().expect("connected");
            match tokio::time::timeout(
                REQUEST_TIMEOUT,
                c.post_json(
                    &spec.target.path,
                    Some(if matches!(op, Op::Write(..)) {
                        &spec.token
                    } else {
                        reader
                    }),
                    &body,
                ),
            )
            .await
            {
                Ok(Ok(resp)) => Ok(resp),
                Ok(Err(e)) => Err(Failure::Transport(e.to_string())),
                Err(_) => Err(Failure::Transport("timed out".into())),
            }
        }
        .await;
        let ended = Instant::now();
        // A page identical, byte for byte, to one that passed every check, with no write
        // returned since, passes them again: skip re-parsing 100 users (the client would
        // otherwise be the bottleneck of W2).
        let verdict = outcome.and_then(|resp| {
            let returned = spec.writes.returned();
            if matches!(op, Op::List)
                && passed_page
                    .as_ref()
                    .is_some_and(|(body, at)| *at == returned && *body == resp.body)
            {
                return Ok(());
            }
            let verdict = op.check(&resp, started, &spec.layout, &spec.writes);
            if verdict.is_ok() && matches!(op, Op::List) {
                passed_page = Some((resp.body, returned));
            }
            verdict
        });
        if let Op::Write(id, n) = op {
            spec.writes.finish(id, n, verdict.is_ok());
            if verdict.is_ok() {
                stats.writes_ok += 1;
            }
        }
        stats.requests += 1;
        let kind = match op {
            Op::User(_) | Op::List => 0,
            Op::Write(..) => 1,
            Op::Typename => 2,
        };
        shared.completed[kind].fetch_add(1, Ordering::Relaxed);
        shared.done.fetch_add(1, Ordering::Relaxed);
        let in_window = started >= shared.window_start && ended <= shared.window_end;
        if in_window {
            let us = ended.duration_since(started).as_micros().max(1) as u64;
            hist.saturating_record(us);
            if let Some((reads, writes)) = &mut split {
                let h = if kind == 1 { writes } else { reads };
                h.saturating_record(us);
            }
        }
        if let Err(f) = verdict {
            stats.failures.add(&f);
            if in_window {
                stats.window_failures += 1;
            }
            shared.record_failure(op, &f);
            if matches!(f, Failure::Transport(_)) {
                conn = None;
                // Do not spin on a server that is gone.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    stats.window = Some(hist);
    stats.split = split;
    stats
}
