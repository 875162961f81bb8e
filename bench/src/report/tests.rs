//! Tests of the report as a whole: a made-up run (no server) through every chart and the
//! Markdown, and the result builder the other report tests use.
use super::{DbInfo, Report, provenance::Machine};
use crate::{
    args::Layers,
    workload::{OpCounts, OpLatency, RunResult, Split, Workload},
};

/// A result of `redis` on W4 with `reads`, `writes` and `other` requests between the counter
/// reads; with a cache, 10 misses, 10 shared loads and 50 served responses.
pub(super) fn result(has_cache: bool, reads: u64, writes: u64, other: u64) -> RunResult {
    RunResult {
        db: "sqlite".into(),
        backend: "redis".into(),
        base: "redis".into(),
        layers: Layers::All,
        workload: Workload::W4,
        has_cache,
        connections: 1,
        window_secs: 1.0,
        responses: reads + writes + other,
        throughput: 0.0,
        p50_us: None,
        p90_us: None,
        p99_us: None,
        max_us: None,
        mean_us: None,
        cold_us: None,
        delta_hits: has_cache.then_some(2 * reads),
        delta_misses: has_cache.then_some(10),
        hit_rate: None,
        delta_shared: has_cache.then_some(10),
        delta_served: has_cache.then_some(50),
        l1_served_percent: None,
        rss_mib: None,
        server_cpu_percent: None,
        redis_used_mib: None,
        redis_keys: None,
        between_reads: OpCounts {
            reads,
            writes,
            other,
        },
        split: None,
        requests_total: 0,
        writes_ok: 0,
        failures: Default::default(),
        window_failures: 0,
        samples: Vec::new(),
        notes: Vec::new(),
    }
}

/// One leg's result on `w`: `base` with `layers`, `rps` req/s, p50/p99 of 1/`p99_ms` ms.
fn leg(base: &str, layers: Layers, w: Workload, rps: f64, p99_ms: u64) -> RunResult {
    let mut r = result(base != "none", 950, if w.has_writes() { 50 } else { 0 }, 0);
    r.backend = layers.leg_label(base);
    r.base = base.into();
    r.layers = layers;
    r.workload = w;
    r.throughput = rps;
    r.p50_us = Some(1000);
    r.p99_us = Some(p99_ms * 1000);
    if w.has_writes() {
        let apart = |p99_us| OpLatency {
            responses: 10,
            p50_us: Some(500),
            p99_us: Some(p99_us),
        };
        r.split = Some(Split {
            reads: apart(p99_ms * 1000),
            writes: apart(p99_ms * 3000),
        });
    }
    r
}

fn report(runs: Vec<RunResult>) -> Report {
    Report {
        command: "bench".into(),
        date: "2026-12-01".into(),
        git: "abc".into(),
        machine: Machine {
            cpus: 2,
            cpu_model: "cpu".into(),
            memory: "1 GiB".into(),
            kernel: "Linux".into(),
        },
        pinning: "not pinned".into(),
        redis_version: None,
        users: 1000,
        connections: 8,
        per_connection_tokens: false,
        duration_s: 2.0,
        warmup_s: 1.0,
        prefill: 2,
        zipf: None,
        target: "local".into(),
        databases: vec![DbInfo {
            name: "sqlite".into(),
            url: String::new(),
            version: None,
            seed_secs: None,
        }],
        runs,
        server_logs: Vec::new(),
        errors: Vec::new(),
    }
}

#[test]
fn every_chart_of_a_laddered_run() {
    let mut runs = Vec::new();
    for w in [Workload::W1, Workload::W4] {
        runs.push(leg("none", Layers::All, w, 5_000.0, 9));
        runs.push(leg("redis", Layers::Entries, w, 6_000.0, 8));
        runs.push(leg("redis", Layers::L1, w, 10_000.0, 7));
        runs.push(leg("redis", Layers::All, w, 48_693.0, 2));
        runs.push(leg("memory", Layers::All, w, 40_000.0, 1));
    }
    let report = report(runs);
    let charts = report.charts();
    let names: Vec<&str> = charts.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "throughput-sqlite.svg",
            "layers-sqlite.svg",
            "latency-sqlite.svg",
            "p99-writes-sqlite.svg",
            "sources-sqlite.svg"
        ]
    );
    let svg = |name: &str| &charts[names.iter().position(|n| *n == name).unwrap()].1;
    // One bar per backend, every layer on; the ladder only in the layers chart.
    assert!(!svg("throughput-sqlite.svg").contains("entries only"));
    assert!(svg("throughput-sqlite.svg").contains(">48,700<"));
    let layers = svg("layers-sqlite.svg");
    for label in [
        "none (no cache)",
        "redis (entries only)",
        "redis (entries + L1)",
        "redis (every layer)",
    ] {
        assert!(layers.contains(label), "{label}");
    }
    assert!(!layers.contains("memory"));
    let writes = svg("p99-writes-sqlite.svg");
    assert!(writes.contains(">W4 reads<") && writes.contains(">W4 writes<"));
    assert!(writes.contains("no writes") && writes.contains("log scale"));
    let sources = svg("sources-sqlite.svg");
    assert!(sources.contains("redis (entries + L1)") && sources.contains("whole-response cache"));
    let files: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let md = report.markdown(&files);
    assert!(md.contains("Throughput by cache layer") && md.contains("| 48,700 |"));
    assert!(md.contains("W4 redis: reads p50 0.50 / p99 2.00 ms"));
}

#[test]
fn no_layer_chart_or_write_chart_without_their_runs() {
    let report = report(vec![leg("redis", Layers::All, Workload::W1, 1.0, 1)]);
    let names: Vec<String> = report.charts().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "throughput-sqlite.svg",
            "latency-sqlite.svg",
            "sources-sqlite.svg"
        ]
    );
}
