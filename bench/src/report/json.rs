//! `results.json`: every raw number of the run, for tools rather than readers.
use serde_json::{Value, json};

use super::{
    Report,
    sources::{SOURCES, sources},
};
use crate::workload::OpLatency;

/// One kind of request's latency, in µs.
fn latency(l: &OpLatency) -> Value {
    json!({ "responses": l.responses, "p50": l.p50_us, "p99": l.p99_us })
}

impl Report {
    /// The whole of `results.json`.
    pub fn json(&self) -> Value {
        let m = &self.machine;
        let runs: Vec<Value> = self
            .runs
            .iter()
            .map(|r| {
                let sources = sources(r).map(|shares| {
                    SOURCES
                        .iter()
                        .zip(shares)
                        .map(|((_, short, _), s)| ((*short).to_owned(), json!(s)))
                        .collect::<serde_json::Map<_, _>>()
                });
                json!({
                    "database": r.db,
                    "backend": r.backend,
                    "backend_alone": r.base,
                    "layers": r.layers.as_str(),
                    "workload": r.workload.as_str(),
                    "description": r.workload.describe(self.zipf),
                    "connections": r.connections,
                    "window_seconds": r.window_secs,
                    "responses": r.responses,
                    "throughput_rps": r.throughput,
                    "latency_us": {
                        "p50": r.p50_us, "p90": r.p90_us, "p99": r.p99_us,
                        "max": r.max_us, "mean": r.mean_us,
                    },
                    "latency_us_apart": r.split.map(|s| json!({
                        "reads": latency(&s.reads), "writes": latency(&s.writes),
                    })),
                    "cold_us": r.cold_us,
                    "cache": {
                        "delta_hits": r.delta_hits,
                        "delta_misses": r.delta_misses,
                        "hit_rate_percent": r.hit_rate,
                        "delta_shared": r.delta_shared,
                        "delta_responses_served": r.delta_served,
                        "l1_served_percent": r.l1_served_percent,
                    },
                    "server_rss_mib": r.rss_mib,
                    "server_cpu_percent": r.server_cpu_percent,
                    "server_cpu_us_per_request": r
                        .server_cpu_percent
                        .filter(|_| r.throughput > 0.0)
                        .map(|p| p / 100.0 * 1e6 / r.throughput),
                    "redis_used_memory_mib": r.redis_used_mib,
                    "redis_keys": r.redis_keys,
                    "requests_between_counter_reads": {
                        "reads": r.between_reads.reads,
                        "writes": r.between_reads.writes,
                        "other": r.between_reads.other,
                    },
                    "answered_from_percent": sources,
                    "requests_total": r.requests_total,
                    "writes_ok": r.writes_ok,
                    "wrong_answers": r.failures.to_json(),
                    "wrong_answers_in_window": r.window_failures,
                    "wrong_answer_samples": r.samples,
                    "notes": r.notes,
                })
            })
            .collect();
        json!({
            "command": self.command,
            "date": self.date,
            "server_source": self.git,
            "target": self.target,
            "machine": {
                "cpus": m.cpus, "cpu_model": m.cpu_model, "memory": m.memory, "kernel": m.kernel,
                "server_pinning": self.pinning,
            },
            "redis": self.redis_version,
            "settings": {
                "users": self.users,
                "connections": self.connections,
                "tokens": if self.per_connection_tokens { "per-connection" } else { "shared" },
                "duration_seconds": self.duration_s,
                "warmup_seconds": self.warmup_s,
                "prefill_passes": self.prefill,
                "zipf": self.zipf,
            },
            "databases": self.databases.iter().map(|d| json!({
                "name": d.name, "url": d.url, "version": d.version, "seed_seconds": d.seed_secs,
            })).collect::<Vec<_>>(),
            "runs": runs,
            "server_logs": self.server_logs.iter().map(|l| json!({
                "database": l.db, "backend": l.backend, "exit": l.exit, "lines": l.lines,
            })).collect::<Vec<_>>(),
            "errors": self.errors,
            "wrong_answers": self.wrong_total(),
            "verdict": if self.passed() { "PASSED" } else { "FAILED" },
        })
    }
}
