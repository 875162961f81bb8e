//! One measured run of a workload: clear the cache and time one cold request, open the
//! connections, warm up, measure the window, read the cache counters around it, and sum up.
//!
//! The per-connection loop is in `task`; this drives it from the outside and keeps the progress
//! bar moving.
use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use indicatif::ProgressBar;
use rand::Rng;

use super::{
    Workload,
    check::FailureCounts,
    client::Client,
    hook,
    op::Op,
    prefill::prefill,
    spec::{OpCounts, OpLatency, RunResult, RunSpec, Split},
    task::{MAX_SAMPLES, Shared, connection_task, histogram},
};
use crate::{http::Conn, procs::CpuMark};

/// Where the progress bar is and what it says.
pub struct Progress<'a> {
    pub bar: &'a ProgressBar,
    /// Position (ms) at the start of this run.
    pub base_ms: u64,
    pub label: String,
}

/// Runs one workload: cold request, warm-up, measured window.
pub async fn run(mut spec: RunSpec, progress: Progress<'_>) -> RunResult {
    let mut notes = Vec::new();
    let mut failures = FailureCounts::default();
    let mut samples = Vec::new();
    let mut control = Client::new(spec.target.clone(), Some(spec.token.clone()));

    // Cold: an empty cache, then one request.
    if spec.has_cache
        && let Err(e) = control.clear_cache().await
    {
        notes.push(format!("clearCache failed: {e}"));
    }
    let cold_op = match spec.workload {
        Workload::W0 => Op::Typename,
        Workload::W1 => Op::User(spec.hot_id),
        Workload::W2 => Op::List,
        Workload::W3 | Workload::W4 | Workload::W5 => Op::User(spec.picker.pick(&mut rand::rng())),
    };
    let mut body = Vec::new();
    cold_op.body(&mut body);
    let started = Instant::now();
    let cold = control.send(&body).await;
    let cold_us = started.elapsed().as_micros() as u64;
    let cold_verdict = cold.and_then(|r| cold_op.check(&r, started, &spec.layout, &spec.writes));
    if let Err(f) = &cold_verdict {
        failures.add(f);
        samples.push(format!("cold {cold_op:?}: {}", f.message()));
    }

    // Open every connection before the clock starts.
    let mut conns = Vec::with_capacity(spec.connections);
    for _ in 0..spec.connections {
        match Conn::connect(&spec.target).await {
            Ok(c) => conns.push(Some(c)),
            Err(e) => {
                notes.push(format!("opening a connection failed: {e}"));
                conns.push(None);
            }
        }
    }

    // W3 and W4 ask for any of the users: every one of them is asked for first (`prefill`).
    let mut prefilled = 0;
    if spec.prefill > 0 && matches!(spec.workload, Workload::W3 | Workload::W4 | Workload::W5) {
        progress.bar.set_message(format!(
            "{} prefill: every user, {}",
            progress.label,
            super::prefill::times(spec.prefill)
        ));
        let shared_spec = Arc::new(spec);
        let (back, found) = prefill(&shared_spec, conns).await;
        conns = back;
        prefilled = found.requests;
        failures.merge(&found.failures);
        samples.extend(found.samples);
        spec = Arc::try_unwrap(shared_spec).unwrap_or_else(|_| unreachable!("prefill is done"));
    }

    let t0 = Instant::now();
    let window_start = t0 + spec.warmup;
    let window_end = window_start + spec.duration;
    let has_cache = spec.has_cache;
    let spec_writes = spec.workload.has_writes();
    let connections = spec.connections;
    let shared = Arc::new(Shared {
        spec,
        window_start,
        window_end,
        done: AtomicU64::new(0),
        completed: Default::default(),
        wrong: AtomicU64::new(0),
        samples: Mutex::new(Vec::new()),
    });
    let base_seed: u64 = rand::rng().random();
    let tasks: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            tokio::spawn(connection_task(
                shared.clone(),
                c,
                i,
                base_seed ^ (i as u64 + 1),
            ))
        })
        .collect();

    // The window's cache counters, and the progress bar, from this task.
    let mut before = None;
    let mut l1_before = None;
    let mut cpu_before = None;
    let mut hook = None;
    let tick = Duration::from_millis(200);
    let mut last_done = 0u64;
    let mut last_at = Instant::now();
    let mut rate = 0.0;
    loop {
        let now = Instant::now();
        if now >= window_end {
            break;
        }
        if before.is_none() && now >= window_start {
            cpu_before = shared.spec.server_pid.and_then(CpuMark::now);
            hook = shared.spec.window_hook.as_deref().and_then(|cmd| {
                hook::start(cmd, &hook::Window::of(&shared.spec))
                    .map_err(|e| notes.push(e))
                    .ok()
            });
            let counts = if has_cache {
                control.cache_counts().await
            } else {
                Err("no cache".into())
            };
            l1_before = control.l1_reads().await;
            before = Some((counts, shared.completed()));
            continue;
        }
        let next = if before.is_none() {
            window_start.min(now + tick)
        } else {
            window_end.min(now + tick)
        };
        tokio::time::sleep_until(next.into()).await;
        let done = shared.done.load(Ordering::Relaxed);
        let at = Instant::now();
        let dt = at.duration_since(last_at).as_secs_f64();
        if dt >= 0.19 {
            rate = (done - last_done) as f64 / dt;
            last_done = done;
            last_at = at;
        }
        let phase = if at < window_start {
            "warm-up"
        } else {
            "measure"
        };
        progress
            .bar
            .set_position(progress.base_ms + at.duration_since(t0).as_millis() as u64);
        progress.bar.set_message(format!(
            "{} {phase} {:.0} req/s, {} wrong",
            progress.label,
            rate,
            shared.wrong.load(Ordering::Relaxed) + failures.total()
        ));
    }

    let server_cpu_percent = cpu_before.and_then(|mark| mark.percent_since());
    if let Some(running) = hook {
        notes.extend(running.finish(hook::GRACE).await);
    }
    let mut hist = histogram();
    let mut window_failures = 0;
    let mut requests_total = 1 + prefilled;
    let mut writes_ok = 0;
    let mut split = spec_writes.then(|| (histogram(), histogram()));
    for t in tasks {
        match t.await {
            Ok(s) => {
                if let Some(h) = &s.window {
                    hist.add(h).expect("same histogram bounds");
                }
                if let (Some((r, w)), Some((tr, tw))) = (&mut split, &s.split)
                    && (r.add(tr).is_err() || w.add(tw).is_err())
                {
                    notes.push("merging the reads' and writes' histograms failed".into());
                }
                window_failures += s.window_failures;
                requests_total += s.requests;
                writes_ok += s.writes_ok;
                failures.merge(&s.failures);
            }
            Err(e) => notes.push(format!("a connection task failed: {e}")),
        }
    }
    let after = if has_cache {
        Some(control.cache_counts().await)
    } else {
        None
    };
    let l1_served_percent = match (l1_before, control.l1_reads().await) {
        (Some((s0, f0)), Some((s1, f1))) if s1 + f1 > s0 + f0 => {
            let (served, fetched) = (s1.saturating_sub(s0), f1.saturating_sub(f0));
            Some(served as f64 / (served + fetched) as f64 * 100.0)
        }
        _ => None,
    };
    let rss_mib = shared.spec.server_pid.and_then(crate::procs::resident_mib);
    let redis_size = if has_cache {
        control.redis_size().await
    } else {
        None
    };
    let (counts_before, ops_before) = match before {
        Some((counts, ops)) => (Some(counts), ops),
        None => (None, OpCounts::default()),
    };
    let window_counts = match (counts_before, after) {
        (Some(Ok(c0)), Some(Ok(c1))) => Some(c1.since(c0)),
        (Some(Err(e)), _) | (_, Some(Err(e))) if has_cache => {
            notes.push(format!("cacheStats failed: {e}"));
            None
        }
        _ => None,
    };
    let ops_after = shared.completed();
    let between_reads = OpCounts {
        reads: ops_after.reads.saturating_sub(ops_before.reads),
        writes: ops_after.writes.saturating_sub(ops_before.writes),
        other: ops_after.other.saturating_sub(ops_before.other),
    };
    samples.extend(shared.samples.lock().expect("samples lock").drain(..));
    samples.truncate(MAX_SAMPLES);

    let spec = &shared.spec;
    let window_secs = spec.duration.as_secs_f64();
    let responses = hist.len();
    let q = |x: f64| (responses > 0).then(|| hist.value_at_quantile(x));
    let d = window_counts.unwrap_or_default();
    RunResult {
        db: spec.db.clone(),
        backend: spec.backend.clone(),
        base: spec.base.clone(),
        layers: spec.layers,
        workload: spec.workload,
        has_cache,
        connections,
        window_secs,
        responses,
        throughput: responses as f64 / window_secs,
        p50_us: q(0.50),
        p90_us: q(0.90),
        p99_us: q(0.99),
        max_us: (responses > 0).then(|| hist.max()),
        mean_us: (responses > 0).then(|| hist.mean()),
        cold_us: Some(cold_us),
        delta_hits: window_counts.map(|_| d.hits),
        delta_misses: window_counts.map(|_| d.misses),
        hit_rate: window_counts
            .filter(|_| d.hits + d.misses > 0)
            .map(|_| d.hits as f64 / (d.hits + d.misses) as f64 * 100.0),
        delta_shared: window_counts.and(d.shared),
        delta_served: window_counts.and(d.served),
        l1_served_percent,
        rss_mib,
        server_cpu_percent,
        redis_used_mib: redis_size.map(|(bytes, _)| bytes as f64 / (1 << 20) as f64),
        redis_keys: redis_size.map(|(_, keys)| keys),
        between_reads,
        split: split.map(|(r, w)| Split {
            reads: OpLatency::of(&r),
            writes: OpLatency::of(&w),
        }),
        requests_total,
        writes_ok,
        failures,
        window_failures,
        samples,
        notes,
    }
}
