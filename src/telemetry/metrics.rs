//! The app's metrics: its own Prometheus registry (no global one: tests run several apps in
//! one process), the request counters the GraphQL handler records, and the breaker and Redis
//! gauges `GET /metrics` sets at scrape. The cache layer registers its counters here too.

use prometheus::{
    HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};

use std::{
    collections::HashSet,
    sync::{Arc, RwLock},
};

/// The HTTP-level metrics and the registry every metric of this app lives in.
#[derive(Clone)]
pub struct Metrics {
    pub(crate) registry: Registry,
    /// Operation names labelled so far: the first `max_operations` distinct ones.
    operations: Arc<RwLock<HashSet<Box<str>>>>,
    max_operations: usize,
    requests: IntCounterVec,
    latency: HistogramVec,
    pub(crate) breaker_open: IntGauge,
    pub(crate) redis_up: IntGauge,
    /// L1's counts since start, by event (set at scrape from `cache::l1::L1Counts`).
    pub(crate) l1_events: IntGaugeVec,
}

impl Metrics {
    /// Registers the request, latency and cache-state metrics in `registry`; at most
    /// `max_operations` distinct operation names become labels.
    pub fn new(registry: Registry, max_operations: usize) -> Result<Self, prometheus::Error> {
        let requests = IntCounterVec::new(
            Opts::new(
                "cachegraph_graphql_requests_total",
                "GraphQL requests by operation name and outcome (ok, error).",
            ),
            &["operation", "outcome"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "cachegraph_graphql_request_duration_seconds",
                "Time to execute a GraphQL request, by operation name.",
            )
            .buckets(vec![
                0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
            ]),
            &["operation"],
        )?;
        let breaker_open = IntGauge::new(
            "cachegraph_cache_breaker_open",
            "1 while the cache breaker is open (requests skip the cache).",
        )?;
        let redis_up = IntGauge::new(
            "cachegraph_redis_up",
            "1 when the Redis backend answers, 0 when not, -1 without a Redis backend.",
        )?;
        let l1_events = IntGaugeVec::new(
            Opts::new(
                "cachegraph_l1_events",
                "L1 since start, by event: reads served from it and fetched from Redis, \
                 invalidations, flushes, barrier rounds (done and failed).",
            ),
            &["event"],
        )?;
        registry.register(Box::new(l1_events.clone()))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(breaker_open.clone()))?;
        registry.register(Box::new(redis_up.clone()))?;
        Ok(Self {
            registry,
            operations: Arc::default(),
            max_operations,
            requests,
            latency,
            breaker_open,
            redis_up,
            l1_events,
        })
    }

    /// Records one GraphQL request. Operation names come from clients: only short identifiers,
    /// and only the first `METRICS_MAX_OPERATIONS` distinct ones, are used as labels; anything
    /// else is `other`, so no client can grow the series (or this process) without bound.
    pub fn record(&self, served: &super::Served<'_>) {
        let operation = match served.operation {
            None => "anonymous",
            Some(name) if super::is_short_name(name) && self.admit(name) => name,
            Some(_) => "other",
        };
        let outcome = if served.ok { "ok" } else { "error" };
        self.requests.with_label_values(&[operation, outcome]).inc();
        self.latency
            .with_label_values(&[operation])
            .observe(served.elapsed.as_secs_f64());
    }
}

impl Metrics {
    /// Whether `name` is (or now becomes) one of the labelled operation names.
    fn admit(&self, name: &str) -> bool {
        let known = self.operations.read().unwrap_or_else(|p| p.into_inner());
        if known.contains(name) {
            return true;
        }
        let full = known.len() >= self.max_operations;
        drop(known);
        if full {
            return false;
        }
        let mut known = self.operations.write().unwrap_or_else(|p| p.into_inner());
        if known.len() >= self.max_operations {
            return known.contains(name);
        }
        known.insert(name.into());
        true
    }
}
