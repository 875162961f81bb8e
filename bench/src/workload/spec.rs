//! What one measured run is given ([`RunSpec`]) and what it measured ([`RunResult`]).
//!
//! Plain data, apart from the loop that fills it, so the report can read results without
//! depending on how they were measured.
use std::{sync::Arc, time::Duration};

use super::{
    Workload,
    check::FailureCounts,
    picker::{Layout, Picker},
    writes::Writes,
};
use crate::{args::Layers, http::Target};

/// Everything one measured run needs.
pub struct RunSpec {
    pub db: String,
    /// The leg's label: the backend, with its layers when not every layer is on.
    pub backend: String,
    /// The backend alone (`redis`), whatever the layers.
    pub base: String,
    pub layers: Layers,
    pub workload: Workload,
    pub target: Target,
    /// The admin's token: writes, the control connection, and reads unless `readers` is set.
    pub token: String,
    /// With `--tokens per-connection`: connection i reads with `readers[i]`.
    pub readers: Arc<Vec<String>>,
    pub connections: usize,
    pub warmup: Duration,
    pub duration: Duration,
    /// Whether the server has a cache to clear and count (not for backend `none`).
    pub has_cache: bool,
    pub layout: Arc<Layout>,
    pub picker: Arc<Picker>,
    pub writes: Arc<Writes>,
    /// W1's user.
    pub hot_id: u64,
    /// How many times W3–W5 ask for every user first (0: not).
    pub prefill: u64,
    /// The server's process, when the benchmark started it (its resident memory is read).
    pub server_pid: Option<u32>,
    /// `--window-hook`: a command started when the window opens.
    pub window_hook: Option<Arc<str>>,
}

impl RunSpec {
    /// The token connection `index` reads with: its own with `--tokens per-connection`, else
    /// the admin's.
    pub fn reader(&self, index: usize) -> &str {
        self.readers.get(index).unwrap_or(&self.token)
    }
}

/// What one run measured.
#[derive(Debug)]
pub struct RunResult {
    pub db: String,
    /// The leg's label: the backend, with its layers when not every layer is on.
    pub backend: String,
    /// The backend alone (`redis`), whatever the layers.
    pub base: String,
    pub layers: Layers,
    pub workload: Workload,
    /// Whether the server had a cache (every backend but `none`).
    pub has_cache: bool,
    pub connections: usize,
    /// Length of the measured window.
    pub window_secs: f64,
    /// Responses that started and ended inside the window.
    pub responses: u64,
    pub throughput: f64,
    pub p50_us: Option<u64>,
    pub p90_us: Option<u64>,
    pub p99_us: Option<u64>,
    pub max_us: Option<u64>,
    pub mean_us: Option<f64>,
    pub cold_us: Option<u64>,
    /// Hits and misses counted by the server over the window.
    pub delta_hits: Option<u64>,
    pub delta_misses: Option<u64>,
    pub hit_rate: Option<f64>,
    /// Lookups answered by another request's database load (single-flight), over the window.
    pub delta_shared: Option<u64>,
    /// Whole responses served from the response cache over the window (`None` when it is off).
    pub delta_served: Option<u64>,
    /// Of the reads L1 was asked over the window, the share it served (`/metrics`).
    pub l1_served_percent: Option<f64>,
    /// The server's resident memory at the end of the window, MiB.
    pub rss_mib: Option<f64>,
    /// The server's CPU over the window (user and system, every thread), % of one core.
    pub server_cpu_percent: Option<f64>,
    /// Redis's used memory at the end of the window, MiB (`cacheStats.usedMemory`).
    pub redis_used_mib: Option<f64>,
    /// The keys under the server's namespace at the end of the window.
    pub redis_keys: Option<u64>,
    /// What the load generator completed between the two `cacheStats` reads, by kind.
    pub between_reads: OpCounts,
    /// The window's reads and writes apart, for workloads that write.
    pub split: Option<Split>,
    /// Every request of the run: cold, warm-up and window.
    pub requests_total: u64,
    pub writes_ok: u64,
    /// Wrong answers over the whole run (cold, warm-up and window).
    pub failures: FailureCounts,
    /// Wrong answers inside the window.
    pub window_failures: u64,
    pub samples: Vec<String>,
    pub notes: Vec<String>,
}

/// The server's cache counters at one instant (`cacheStats`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheCounts {
    pub hits: u64,
    pub misses: u64,
    /// Summed over `byKind`; `None` from a server that does not report it.
    pub shared: Option<u64>,
    /// `responsesServed`: `None` when the response cache is off (or not reported).
    pub served: Option<u64>,
}

/// Requests by kind: reads of users, writes (`updateUser`), others (`__typename`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpCounts {
    pub reads: u64,
    pub writes: u64,
    pub other: u64,
}

impl OpCounts {
    pub fn total(&self) -> u64 {
        self.reads + self.writes + self.other
    }
}

/// Latency of one kind of request inside the window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpLatency {
    pub responses: u64,
    pub p50_us: Option<u64>,
    pub p99_us: Option<u64>,
}

/// The window of a workload that writes, its reads and its writes measured apart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Split {
    pub reads: OpLatency,
    pub writes: OpLatency,
}

impl CacheCounts {
    /// The counters' growth from `earlier` to `self`.
    pub fn since(self, earlier: CacheCounts) -> CacheCounts {
        let opt = |a: Option<u64>, b: Option<u64>| Some(b?.saturating_sub(a?));
        CacheCounts {
            hits: self.hits.saturating_sub(earlier.hits),
            misses: self.misses.saturating_sub(earlier.misses),
            shared: opt(earlier.shared, self.shared),
            served: opt(earlier.served, self.served),
        }
    }
}

impl OpLatency {
    /// The median and p99 of one kind of request.
    pub fn of(h: &hdrhistogram::Histogram<u64>) -> OpLatency {
        let q = |x: f64| (!h.is_empty()).then(|| h.value_at_quantile(x));
        OpLatency {
            responses: h.len(),
            p50_us: q(0.50),
            p99_us: q(0.99),
        }
    }
}
