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
use crate::http::Target;

/// Everything one measured run needs.
pub struct RunSpec {
    pub db: String,
    pub backend: String,
    pub workload: Workload,
    pub target: Target,
    pub token: String,
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
}

/// What one run measured.
#[derive(Debug)]
pub struct RunResult {
    pub db: String,
    pub backend: String,
    pub workload: Workload,
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
