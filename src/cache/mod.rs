//! The cache layer: backends (Redis, in-process, none), the protocol that keeps them consistent
//! with the database, the breaker that keeps the API up when Redis is not, and the counters.
//!
//! [`Cache`] is one cheap handle; its methods live with the concern they serve:
//! * `connect`: building it, and the namespace;
//! * here: keys, availability, the counters and the write epoch;
//! * `ttl`: how long entries live (a setting is a bound: spread below it, never above);
//! * `access`: single entries, dispatched to the backend through L1;
//! * `tagged`: the generic get-or-load helper any resolver can use ([`Cache::tagged`]), and
//!   invalidation by tag;
//! * [`tags`]: the tags a response was built from (`Cache-Tag`);
//! * `load`: what a miss does (single-flight, leases, the fill's pause point);
//! * `refresh`: early refresh of tagged entries close to expiry (XFetch);
//! * `admin`: `clearCache` and `cacheStats`;
//! * `purge`: invalidation by entity, tag and type, hard or soft;
//! * `announce`: writes announced before their commit, so later writes cover them;
//! * [`health`]: the breaker, the record of owed writes, and the prober that repairs them;
//! * [`trust`]: the owed log shared through the database, and the trust window it keeps.
//!
//! [`CachedUsers`] applies it all to users; [`protocol`] says how entries are encoded and which
//! invariants that buys. Every failure of the cache is logged and counted and then ignored: the
//! database answers.
mod access;
mod admin;
mod announce;
mod client;
mod connect;
mod counters;
pub mod entity;
pub mod entry;
mod flight;
mod glob;
pub mod health;
pub mod l1;
mod load;
pub mod page;
#[cfg(feature = "test-hooks")]
pub mod pause;
#[cfg(not(feature = "test-hooks"))]
pub(crate) mod pause;
pub mod policy;
pub mod protocol;
mod purge;
mod refresh;
mod repair;
pub mod request;
pub mod responses;
mod stats;
mod store;
mod tagged;
pub mod tags;
pub mod trust;
mod ttl;
mod users;

pub use admin::{CacheReport, ClearError, ServerInfo};
pub use announce::Announcement;
pub use counters::Lockout;
pub use glob::PatternError;
pub use purge::{PurgeError, Purged};
pub use stats::{Counts, Kind, Stats};
pub use users::{CachedUsers, USER_COUNTS_TAG, USERS_TAG, UserCounts};

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use crate::db::OwedLog;
use flight::Flights;
use health::Health;
use l1::L1;
use pause::{PausePoints, Point};
use store::Stores;
use trust::Trust;

/// Errors of the cache layer. None reaches a client: callers fall back to the database.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// No cache is configured, or the breaker is open.
    #[error("cache unavailable")]
    Unavailable,
    /// Redis failed, timed out or could not be reached.
    #[error("redis: {0}")]
    Redis(#[from] fred::error::Error),
    /// A stored value could not be decoded, or a value not encoded.
    #[error("undecodable cache value: {0}")]
    Decode(String),
    /// The database failed while repairing the cache.
    #[error("database during cache repair: {0}")]
    Repair(String),
}

struct Inner {
    /// `None` with `CACHE_BACKEND=none`.
    store: Option<Stores>,
    health: Health,
    stats: Stats,
    prefix: String,
    user_ttl: Duration,
    default_ttl: Duration,
    breaker_interval: Duration,
    flights: Flights,
    /// Moves on with every write this process makes: loads started before a write of ours are
    /// never shared with requests that started after it.
    epoch: AtomicU64,
    pause: Option<Arc<PausePoints>>,
    /// Whole responses (`CACHE_RESPONSES`): with the memory backend, or Redis with L1.
    responses: Option<responses::Responses>,
    /// The database's log of owed cache writes, and the trust window it keeps (Redis only:
    /// other instances share it).
    owed_log: Option<OwedLog>,
    trust: Option<Trust>,
    /// Early refresh of tagged entries (`CACHE_EARLY_REFRESH`).
    refresh: refresh::EarlyRefresh,
    /// The entity kinds repair can rewrite (see [`entity`]).
    kinds: std::sync::RwLock<Vec<repair::Registered>>,
    /// The throttle's failure counter script (see `counters`).
    count_failure: fred::types::scripts::Script,
}

/// The cache shared by every request: a cheap, cloneable handle.
#[derive(Clone)]
pub struct Cache {
    inner: Arc<Inner>,
}

impl Cache {
    /// The namespace every key lives under: `CACHE_PREFIX` and the deployment id.
    pub fn namespace(&self) -> &str {
        &self.inner.prefix
    }

    /// `redis`, `memory` or `none`.
    pub fn backend_name(&self) -> &'static str {
        match &self.inner.store {
            Some(Stores::Redis(_) | Stores::Tracked(_)) => "redis",
            Some(Stores::Memory(_)) => "memory",
            None => "none",
        }
    }

    /// Whether requests use the cache right now: the breaker is closed and, with Redis, the
    /// owed log was read within the trust window.
    pub fn is_available(&self) -> bool {
        self.inner.health.is_closed() && self.inner.trust.as_ref().is_none_or(Trust::fresh)
    }

    /// Whether writes go to the cache: the breaker is closed. Writing needs no trust (a write
    /// only replaces what it changed), so a slow read of the owed log never turns writes into
    /// owed ones.
    pub(crate) fn can_write(&self) -> bool {
        self.inner.health.is_closed()
    }

    pub(crate) fn stats(&self) -> &Stats {
        &self.inner.stats
    }

    pub(crate) fn user_ttl(&self) -> Duration {
        self.inner.user_ttl
    }

    pub(crate) fn has_backend(&self) -> bool {
        self.inner.store.is_some()
    }

    /// The full key for `suffix` under our namespace, built in one allocation.
    pub(crate) fn key(&self, suffix: std::fmt::Arguments<'_>) -> String {
        use std::fmt::Write;
        let mut key = String::with_capacity(self.inner.prefix.len() + 24);
        key.push_str(&self.inner.prefix);
        let _ = key.write_fmt(suffix);
        key
    }

    /// The stats kind called `name` (`product`, `sku`, …), registered on first use.
    pub fn kind(&self, name: &'static str) -> Kind {
        self.inner.stats.kind(name)
    }

    /// Counts a lookup answered by the database; its response cannot be cached this time.
    pub(crate) fn counted_miss(&self, kind: Kind) {
        self.inner.stats.miss(kind);
        request::uncacheable();
    }

    /// Counts a lookup answered by another request's load; not cacheable either.
    pub(crate) fn counted_shared(&self, kind: Kind) {
        self.inner.stats.shared(kind);
        request::uncacheable();
    }

    /// Records a failed cache operation: counted, and the breaker opens.
    pub(crate) fn failed(&self, kind: Kind, err: &CacheError) {
        self.inner.stats.error(kind);
        tracing::debug!(kind = kind.as_str(), error = %err, "cache operation failed");
        self.inner.health.trip(err);
    }

    /// Whether a kept response whose tagged entries expire soonest at `soonest` (expiry, load
    /// cost in ms) should be passed over once so that they are refreshed early.
    pub fn refresh_due(&self, soonest: Option<(u64, u64)>) -> bool {
        self.inner.refresh.response_due(soonest)
    }

    /// The response cache, when enabled.
    pub fn responses(&self) -> Option<&responses::Responses> {
        self.inner.responses.as_ref()
    }

    /// Whether L1 holds a valid entry for the full `key` (tests measure invalidation delay).
    pub fn l1_holds(&self, key: &str) -> bool {
        self.l1().is_some_and(|l1| l1.get(key).is_some())
    }

    /// L1's event counts, when L1 is configured (see [`l1::L1Counts`]).
    pub fn l1_counts(&self) -> Option<[(&'static str, u64); 8]> {
        self.l1().map(|l1| l1.counts.snapshot())
    }

    /// Whether L1 is serving (configured, and its tracking connection is up).
    pub fn l1_live(&self) -> bool {
        self.l1().is_some_and(|l1| l1.is_live())
    }

    fn l1(&self) -> Option<&Arc<L1>> {
        self.inner.store.as_ref().and_then(Stores::l1)
    }

    /// This process's write epoch (see [`Cache::miss`]).
    pub(crate) fn epoch(&self) -> u64 {
        self.inner.epoch.load(Ordering::Acquire)
    }

    /// Moves the write epoch on: call after a commit, before the write-through.
    pub(crate) fn advance_epoch(&self) {
        self.inner.epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// Holds at `point` when a test armed it for `key`.
    pub(crate) async fn pause_at(&self, point: Point, key: &str) {
        pause::maybe_pause(&self.inner.pause, point, key).await;
    }
}
