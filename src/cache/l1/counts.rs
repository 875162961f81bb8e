//! What L1 did, counted since start (`GET /metrics`, `cachegraph_l1_events`): how many reads it
//! served and how many went on to Redis, and the invalidations, flushes and barrier rounds that
//! decide it. The counts say whether L1 is earning its memory (a low served share under writes
//! means rounds or flushes, not size, are the limit).
use std::sync::atomic::{AtomicU64, Ordering};

/// L1's event counters.
#[derive(Default)]
pub struct L1Counts {
    pub(crate) served: AtomicU64,
    pub(crate) fetched: AtomicU64,
    pub(crate) invalidations: AtomicU64,
    pub(crate) flushes: AtomicU64,
    pub(crate) rounds: AtomicU64,
    pub(crate) failed_rounds: AtomicU64,
    /// Kept responses found current by their keys' marks (`checked`), without lookups.
    pub(crate) by_mark: AtomicU64,
    /// Kept responses whose entries were looked up one by one.
    pub(crate) by_lookup: AtomicU64,
}

impl L1Counts {
    /// Adds `n` to `counter`.
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Every counter, by the name `/metrics` labels it with.
    pub fn snapshot(&self) -> [(&'static str, u64); 8] {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        [
            ("served", get(&self.served)),
            ("fetched", get(&self.fetched)),
            ("invalidated", get(&self.invalidations)),
            ("flushed", get(&self.flushes)),
            ("rounds", get(&self.rounds)),
            ("rounds_failed", get(&self.failed_rounds)),
            ("responses_checked_by_mark", get(&self.by_mark)),
            ("responses_looked_up", get(&self.by_lookup)),
        ]
    }
}
