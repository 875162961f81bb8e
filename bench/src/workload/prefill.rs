//! Before W3–W5 warm up, every seeded user is asked for `--prefill` times, twice by default (the
//! first request loads it from the database, the second is answered from cache entries, so its
//! response can be kept): a time-based warm-up alone leaves most of 10,000 ids cold, and the
//! window would measure the database loads of the first requests instead of the server that has
//! been running a while. Once is enough where the responses cannot all be kept anyway (a million
//! users): every entry is then filled, at half the prefill's time. Every answer is checked like
//! any other; none is in the window.
use std::{sync::Arc, time::Instant};

use super::{check::FailureCounts, op::Op, spec::RunSpec};
use crate::http::Conn;

/// `passes` in words, for the progress line and the report.
pub fn times(passes: u64) -> &'static str {
    match passes {
        0 => "never",
        1 => "once",
        _ => "twice",
    }
}

/// What prefilling found wrong, with up to a few samples.
#[derive(Default)]
pub(super) struct Prefilled {
    pub(super) requests: u64,
    pub(super) failures: FailureCounts,
    pub(super) samples: Vec<String>,
}

/// Asks for every id `PASSES` times over the open connections, each reading with its own
/// token; returns the connections (a broken one as `None`) and what went wrong.
pub(super) async fn prefill(
    spec: &Arc<RunSpec>,
    conns: Vec<Option<Conn>>,
) -> (Vec<Option<Conn>>, Prefilled) {
    let n = conns.len().max(1) as u64;
    let tasks: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(k, conn)| {
            let spec = spec.clone();
            tokio::spawn(async move { one_connection(&spec, conn, k, n).await })
        })
        .collect();
    let mut back = Vec::with_capacity(tasks.len());
    let mut all = Prefilled::default();
    for task in tasks {
        match task.await {
            Ok((conn, part)) => {
                back.push(conn);
                all.requests += part.requests;
                all.failures.merge(&part.failures);
                all.samples.extend(part.samples);
            }
            Err(e) => {
                back.push(None);
                all.samples.push(format!("a prefill task failed: {e}"));
            }
        }
    }
    all.samples.truncate(super::task::MAX_SAMPLES);
    (back, all)
}

async fn one_connection(
    spec: &RunSpec,
    mut conn: Option<Conn>,
    k: usize,
    n: u64,
) -> (Option<Conn>, Prefilled) {
    let token = spec.reader(k);
    let mut part = Prefilled::default();
    let mut body = Vec::with_capacity(256);
    for _ in 0..spec.prefill {
        let mut id = k as u64 + 1;
        while id <= spec.layout.users {
            let Some(c) = conn.as_mut() else {
                return (None, part);
            };
            let op = Op::User(id);
            op.body(&mut body);
            let started = Instant::now();
            part.requests += 1;
            let verdict = match c.post_json(&spec.target.path, Some(token), &body).await {
                Ok(resp) => op.check(&resp, started, &spec.layout, &spec.writes),
                Err(e) => Err(super::check::Failure::Transport(e.to_string())),
            };
            if let Err(f) = verdict {
                part.failures.add(&f);
                if part.samples.len() < super::task::MAX_SAMPLES {
                    part.samples
                        .push(format!("prefill {op:?}: {}", f.message()));
                }
                if matches!(f, super::check::Failure::Transport(_)) {
                    return (None, part);
                }
            }
            id += n;
        }
    }
    (conn, part)
}
