//! The cache layer: backends (Redis, in-process, none), the protocol that keeps them consistent
//! with the database, the breaker that keeps the API up when Redis is not, and the counters.
//!
//! * [`Cache`] is the generic part: get-or-load helpers with TTL and jitter, invalidation by
//!   tag generation, `clearCache`, `cacheStats`. Any resolver can use it (see
//!   [`Cache::tagged`]).
//! * [`CachedUsers`] applies it to users: cache-aside reads, write-through after commits.
//! * [`protocol`] says how entries are encoded and which invariants that buys.
//! * [`health`] is the breaker and the repair of writes an outage swallowed.
//!
//! Every failure of the cache is logged and counted here and then ignored: the database answers.
mod counters;
mod flight;
mod glob;
pub mod health;
pub mod l1;
mod memory;
pub mod pause;
pub mod protocol;
mod redis;
pub mod request;
pub mod responses;
mod stats;
pub mod trust;
mod users;

pub use counters::Lockout;
pub use glob::PatternError;
pub use stats::{Counts, Kind, Stats};
pub use users::{CachedUsers, UserCounts};

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use rand::Rng;
use serde::{Serialize, de::DeserializeOwned};

use crate::{
    config::{CacheBackendKind, Config},
    db::OwedLog,
};
use flight::{Flights, Turn};
use health::{Dirty, Health};
use l1::{Entry, L1};
use memory::MemoryBackend;
use pause::{PausePoints, Point};
use redis::RedisBackend;
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

/// The Redis `INFO` counters `cacheStats` reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerInfo {
    pub used_memory: Option<i64>,
    pub used_memory_human: Option<String>,
    pub connected_clients: Option<i64>,
    pub keyspace_hits: Option<i64>,
    pub keyspace_misses: Option<i64>,
}

impl ServerInfo {
    /// Reads the fields from `INFO`'s `name:value` lines.
    pub fn parse(text: &str) -> Self {
        let mut info = Self::default();
        for line in text.lines() {
            let Some((name, value)) = line.trim().split_once(':') else {
                continue;
            };
            let int = || value.parse::<i64>().ok();
            match name {
                "used_memory" => info.used_memory = int(),
                "used_memory_human" => info.used_memory_human = Some(value.to_owned()),
                "connected_clients" => info.connected_clients = int(),
                "keyspace_hits" => info.keyspace_hits = int(),
                "keyspace_misses" => info.keyspace_misses = int(),
                _ => {}
            }
        }
        info
    }
}

/// A snapshot for `cacheStats`.
#[derive(Clone, Debug)]
pub struct CacheReport {
    pub backend: &'static str,
    pub available: bool,
    pub total: Counts,
    pub by_kind: Vec<(Kind, Counts)>,
    pub keys: Option<u64>,
    pub server: ServerInfo,
    /// Whole responses served from the response cache, when it is on.
    pub responses_served: Option<u64>,
}

enum Backend {
    Redis(Box<RedisBackend>),
    Memory(MemoryBackend),
    None,
}

struct Inner {
    backend: Backend,
    kind: CacheBackendKind,
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
    /// The in-process layer in front of Redis (`CACHE_L1`), when tracking is configured.
    l1: Option<Arc<L1>>,
    /// Whole responses (`CACHE_RESPONSES`): with the memory backend, or Redis with L1.
    responses: Option<responses::Responses>,
    /// The database's log of owed cache writes, and the trust window it keeps (Redis only:
    /// other instances share it).
    owed_log: Option<OwedLog>,
    trust: Option<Trust>,
}

/// The cache shared by every request: a cheap, cloneable handle.
#[derive(Clone)]
pub struct Cache {
    inner: Arc<Inner>,
}

/// Generations outlive every entry tagged with them.
const GENERATION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long a cross-process load lease is held at most.
const LEASE_TTL: Duration = Duration::from_secs(2);
/// How a request that found another process loading waits for its fill before loading itself.
const LEASE_WAITS_MS: [u64; 5] = [2, 4, 8, 16, 32];

impl Cache {
    /// Builds the configured backend. Redis is connected in the background: the server starts
    /// (and answers from the database) when it is down.
    ///
    /// The namespace is `CACHE_PREFIX` followed by the database's deployment id, so two
    /// databases never read each other's entries, whatever Redis and prefix they share; `owed`
    /// is that database's log of cache writes that did not land (see [`trust`]).
    pub async fn connect(
        config: &Config,
        stats: Stats,
        pause: Option<Arc<PausePoints>>,
        deployment: &str,
        owed: OwedLog,
    ) -> Result<Self, CacheError> {
        let namespace = namespace(&config.cache_prefix, deployment);
        let shared = config.cache_backend == CacheBackendKind::Redis;
        let backend = match config.cache_backend {
            CacheBackendKind::Redis => Backend::Redis(Box::new(RedisBackend::connect(
                config.redis_url.expose(),
                config.cache_pool_size,
                config.cache_timeout,
                config.cache_write_timeout,
            )?)),
            CacheBackendKind::Memory => {
                Backend::Memory(MemoryBackend::new(config.cache_memory_capacity))
            }
            CacheBackendKind::None => Backend::None,
        };
        let cache = Self {
            inner: Arc::new(Inner {
                backend,
                kind: config.cache_backend,
                health: Health::default(),
                stats,
                prefix: namespace,
                user_ttl: config.cache_user_ttl,
                default_ttl: config.cache_default_ttl,
                breaker_interval: config.cache_breaker_interval,
                flights: Flights::default(),
                epoch: AtomicU64::new(0),
                pause,
                l1: None,
                responses: None,
                owed_log: shared.then_some(owed),
                trust: shared.then(|| Trust::new(config.cache_trust_window)),
            }),
        };
        let mut cache = cache;
        if config.cache_backend == CacheBackendKind::Redis && config.cache_l1 {
            let l1 = Arc::new(L1::new(
                config.cache_l1_capacity,
                config.cache_l1_bytes,
                config.cache_l1_max_age,
            ));
            let pool = match &cache.inner.backend {
                Backend::Redis(redis) => redis.clients(),
                _ => &[],
            };
            l1.track(config.redis_url.expose(), &cache.inner.prefix, pool)?;
            if let Some(inner) = Arc::get_mut(&mut cache.inner) {
                inner.l1 = Some(l1);
            }
        }
        let exact_invalidation = match config.cache_backend {
            CacheBackendKind::Redis => config.cache_l1,
            CacheBackendKind::Memory => true,
            CacheBackendKind::None => false,
        };
        if config.cache_responses
            && exact_invalidation
            && let Some(inner) = Arc::get_mut(&mut cache.inner)
        {
            inner.responses = Some(responses::Responses::new(
                config.cache_responses_bytes,
                config.cache_l1_max_age,
            ));
        }
        match &cache.inner.backend {
            Backend::Redis(redis) => {
                if redis.wait_connected(Duration::from_secs(1)).await && redis.ping().await.is_ok()
                {
                    cache.inner.health.close();
                    tracing::info!("cache: redis connected");
                } else {
                    tracing::warn!(
                        "cache: redis unreachable at start; serving from the database until it answers"
                    );
                    cache.inner.health.open_quietly();
                }
            }
            Backend::Memory(_) => cache.inner.health.close(),
            Backend::None => {}
        }
        if shared {
            // Trust Redis only once the owed log has been read.
            if let Err(err) = cache.read_owed(&mut Default::default()).await {
                tracing::warn!(error = %err, "owed cache log unreadable at start");
            }
            cache.spawn_owed_reader();
        }
        Ok(cache)
    }

    /// The namespace every key lives under: `CACHE_PREFIX` and the deployment id.
    pub fn namespace(&self) -> &str {
        &self.inner.prefix
    }

    /// `redis`, `memory` or `none`.
    pub fn backend_name(&self) -> &'static str {
        self.inner.kind.as_str()
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
        !matches!(self.inner.backend, Backend::None)
    }

    /// The full key for `suffix` under our namespace, built in one allocation.
    pub(crate) fn key(&self, suffix: std::fmt::Arguments<'_>) -> String {
        use std::fmt::Write;
        let mut key = String::with_capacity(self.inner.prefix.len() + 24);
        key.push_str(&self.inner.prefix);
        let _ = key.write_fmt(suffix);
        key
    }

    /// The key of `tag`'s generation.
    fn gen_key(&self, tag: &str) -> String {
        self.key(format_args!("{{{tag}}}:gen"))
    }

    /// `ttl` ± 10%, so that entries filled together do not expire together.
    pub(crate) fn jitter(ttl: Duration) -> Duration {
        ttl.mul_f64(rand::rng().random_range(0.9..=1.1))
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

    /// Whether every `(key, entry)` is still what the cache holds, without asking Redis (L1
    /// after its read barrier, or the memory backend). `false` when that cannot be known.
    pub async fn still_current(&self, deps: &[(String, Arc<Entry>)]) -> bool {
        if !self.is_available() {
            return false;
        }
        match &self.inner.backend {
            Backend::Redis(_) => {
                let Some(l1) = &self.inner.l1 else {
                    return false;
                };
                if deps.is_empty() {
                    return true;
                }
                if !l1.is_live() || !l1.barrier().await {
                    return false;
                }
                deps.iter()
                    .all(|(key, entry)| l1.get(key).is_some_and(|now| Arc::ptr_eq(&now, entry)))
            }
            Backend::Memory(m) => {
                for (key, entry) in deps {
                    if !m.get(key).await.is_some_and(|now| Arc::ptr_eq(&now, entry)) {
                        return false;
                    }
                }
                true
            }
            Backend::None => false,
        }
    }

    /// Records a failed cache operation: counted, and the breaker opens.
    pub(crate) fn failed(&self, kind: Kind, err: &CacheError) {
        self.inner.stats.error(kind);
        tracing::debug!(kind = kind.as_str(), error = %err, "cache operation failed");
        self.inner.health.trip(err);
    }

    // ---- primitive operations, dispatched to the backend ----

    /// The entry at `key`: from L1 when it holds it, else from the backend (and kept in L1).
    pub(crate) async fn get(&self, key: &str) -> Result<Option<Arc<Entry>>, CacheError> {
        let entry = self.get_unrecorded(key).await?;
        match &entry {
            Some(entry) => request::record(key, entry),
            None => request::uncacheable(),
        }
        Ok(entry)
    }

    async fn get_unrecorded(&self, key: &str) -> Result<Option<Arc<Entry>>, CacheError> {
        match &self.inner.backend {
            Backend::Redis(r) => match &self.inner.l1 {
                Some(l1) => {
                    if let Some(entry) = l1.get(key) {
                        if l1.barrier_passed() {
                            return Ok(Some(entry));
                        }
                        // Look again after the barrier: it may have applied an invalidation
                        // of this very entry.
                        if l1.barrier().await
                            && let Some(entry) = l1.get(key)
                        {
                            return Ok(Some(entry));
                        }
                    }
                    let fence = l1.fence();
                    Ok(r.get(key).await?.map(|raw| l1.fill(key, &raw, fence)))
                }
                None => Ok(r.get(key).await?.map(|raw| Arc::new(Entry::new(&raw)))),
            },
            Backend::Memory(m) => Ok(m.get(key).await),
            Backend::None => Err(CacheError::Unavailable),
        }
    }

    /// Two entries in one round trip (same cluster slot), each from L1 when it holds it.
    async fn mget2(
        &self,
        a: &str,
        b: &str,
    ) -> Result<(Option<Arc<Entry>>, Option<Arc<Entry>>), CacheError> {
        let (x, y) = self.mget2_unrecorded(a, b).await?;
        match (&x, &y) {
            (Some(ex), Some(ey)) => {
                request::record(a, ex);
                request::record(b, ey);
            }
            _ => request::uncacheable(),
        }
        Ok((x, y))
    }

    async fn mget2_unrecorded(
        &self,
        a: &str,
        b: &str,
    ) -> Result<(Option<Arc<Entry>>, Option<Arc<Entry>>), CacheError> {
        match &self.inner.backend {
            Backend::Redis(r) => {
                if let Some(l1) = &self.inner.l1
                    && l1.get(a).is_some()
                    && l1.get(b).is_some()
                    && l1.barrier().await
                    && let (Some(x), Some(y)) = (l1.get(a), l1.get(b))
                {
                    return Ok((Some(x), Some(y)));
                }
                let fence = self.inner.l1.as_ref().map(|l1| l1.fence());
                let mut values = r.mget(&[a, b]).await?.into_iter();
                let keep = |key: &str, raw: Option<String>| {
                    raw.map(|raw| match (&self.inner.l1, fence) {
                        (Some(l1), Some(fence)) => l1.fill(key, &raw, fence),
                        _ => Arc::new(Entry::new(&raw)),
                    })
                };
                let x = keep(a, values.next().flatten());
                let y = keep(b, values.next().flatten());
                Ok((x, y))
            }
            Backend::Memory(m) => Ok((m.get(a).await, m.get(b).await)),
            Backend::None => Err(CacheError::Unavailable),
        }
    }

    /// The response cache, when enabled.
    pub fn responses(&self) -> Option<&responses::Responses> {
        self.inner.responses.as_ref()
    }

    /// Whether L1 holds a valid entry for the full `key` (tests measure invalidation delay).
    pub fn l1_holds(&self, key: &str) -> bool {
        self.inner
            .l1
            .as_ref()
            .is_some_and(|l1| l1.get(key).is_some())
    }

    /// Whether L1 is serving (configured, and its tracking connection is up).
    pub fn l1_live(&self) -> bool {
        self.inner.l1.as_ref().is_some_and(|l1| l1.is_live())
    }

    /// Drops `key` from L1 after this process wrote it (or tried to): read-your-writes.
    fn l1_drop(&self, key: &str) {
        if let Some(l1) = &self.inner.l1 {
            l1.invalidate(key);
        }
    }

    pub(crate) async fn set(
        &self,
        key: &str,
        value: &str,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        let result = match &self.inner.backend {
            Backend::Redis(r) => r.set(key, value, ttl).await,
            Backend::Memory(m) => {
                m.set(key, value, ttl).await;
                Ok(())
            }
            Backend::None => Err(CacheError::Unavailable),
        };
        self.l1_drop(key);
        result
    }

    pub(crate) async fn set_if_newer(
        &self,
        key: &str,
        version: u64,
        value: &str,
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        let result = match &self.inner.backend {
            Backend::Redis(r) => r.set_if_newer(key, version, value, ttl).await,
            Backend::Memory(m) => Ok(m.set_if_newer(key, version, value, ttl).await),
            Backend::None => Err(CacheError::Unavailable),
        };
        self.l1_drop(key);
        result
    }

    pub(crate) async fn del(&self, keys: &[&str]) -> Result<(), CacheError> {
        let result = match &self.inner.backend {
            Backend::Redis(r) => r.del(keys).await,
            Backend::Memory(m) => {
                m.del(keys).await;
                Ok(())
            }
            Backend::None => Err(CacheError::Unavailable),
        };
        for key in keys {
            self.l1_drop(key);
        }
        result
    }

    async fn generation(&self, tag: &str, bump: bool) -> Result<u64, CacheError> {
        let key = self.gen_key(tag);
        let result = match &self.inner.backend {
            Backend::Redis(r) => r.generation(&key, bump, GENERATION_TTL).await,
            Backend::Memory(m) => Ok(m.generation(&key, bump, GENERATION_TTL).await),
            Backend::None => Err(CacheError::Unavailable),
        };
        if bump {
            self.l1_drop(&key);
        }
        result
    }

    pub(crate) async fn ping(&self) -> Result<(), CacheError> {
        match &self.inner.backend {
            Backend::Redis(r) => r.ping().await,
            Backend::Memory(_) => Ok(()),
            Backend::None => Err(CacheError::Unavailable),
        }
    }

    // ---- the generic helper: get-or-load with invalidation by tag ----

    /// Get-or-load for any resolver: the value of `name` under `tag`, cached for `ttl` (with
    /// jitter) and invalidated at once, in O(1), by [`Cache::invalidate_tag`] on that tag.
    /// `load` runs when the entry is missing, stale or the cache is unreachable, once per
    /// key and generation however many requests miss together; its errors are returned as
    /// they are, and never cached.
    pub async fn tagged<T, E, F, Fut>(
        &self,
        kind: Kind,
        tag: &str,
        name: &str,
        ttl: Option<Duration>,
        load: F,
    ) -> Result<T, E>
    where
        T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if !self.is_available() {
            self.counted_miss(kind);
            return load().await;
        }
        let key = self.key(format_args!("{{{tag}}}:{name}"));
        let gen_key = self.gen_key(tag);
        // Read the generation *before* loading: see the tagged-entry invariant in `protocol`.
        let generation = match self.read_tagged::<T>(tag, &gen_key, &key).await {
            Ok(Tagged::Hit(value)) => {
                self.inner.stats.hit(kind);
                tracing::debug!(key, "cache hit");
                return Ok(value);
            }
            Ok(Tagged::Miss(generation)) => generation,
            Err(err) => {
                self.failed(kind, &err);
                self.counted_miss(kind);
                return load().await;
            }
        };
        let recheck = || async {
            match self.read_tagged::<T>(tag, &gen_key, &key).await {
                Ok(Tagged::Hit(value)) => Some(value),
                _ => None,
            }
        };
        let fill = |value: &T| {
            let json = serde_json::to_string(value);
            let key = &key;
            async move {
                let json = match json {
                    Ok(json) => json,
                    Err(err) => return tracing::warn!(key, error = %err, "value not cacheable"),
                };
                let ttl = Self::jitter(ttl.unwrap_or(self.inner.default_ttl));
                match self
                    .set(key, &protocol::tagged(generation, &json), ttl)
                    .await
                {
                    Ok(()) => tracing::debug!(key, generation, "cache fill"),
                    Err(err) => self.failed(kind, &err),
                }
            }
        };
        self.miss(kind, &key, generation, load, Some(recheck), fill)
            .await
    }

    /// The entry of a tagged key if it carries the tag's current generation; otherwise that
    /// generation (started if missing), to stamp a fill with.
    async fn read_tagged<T: DeserializeOwned + Clone + Send + Sync + 'static>(
        &self,
        tag: &str,
        gen_key: &str,
        key: &str,
    ) -> Result<Tagged<T>, CacheError> {
        let (generation, entry) = self.mget2(gen_key, key).await?;
        let Some(generation) = generation.and_then(|g| g.raw().parse::<u64>().ok()) else {
            return Ok(Tagged::Miss(self.generation(tag, false).await?));
        };
        if let Some(entry) =
            entry.filter(|e| protocol::leading_number(e.raw(), "g") == Some(generation))
        {
            let decoded = entry.decoded(|raw| serde_json::from_str::<T>(protocol::data(raw)?).ok());
            match decoded {
                Some(value) => return Ok(Tagged::Hit(T::clone(&value))),
                None => tracing::warn!(key, "undecodable cache entry; reloading"),
            }
        }
        Ok(Tagged::Miss(generation))
    }

    /// Loads what a lookup missed and fills the cache, with three protections:
    ///
    /// * **Single-flight.** Requests of this process that miss `key` at the same `fence` (the
    ///   tag generation or this process's write epoch they read) share one load.
    ///   A load is never shared with a request that read a later fence, so no request gets a
    ///   value loaded before a write it could have seen.
    /// * **Lease.** With `recheck`, the loader first takes a short lease in Redis; if another
    ///   process holds it, it waits briefly for that process's fill (`recheck`), then loads
    ///   from the database anyway rather than fail.
    /// * **Pause point** [`Point::BeforeFill`] between the load and the fill, for tests.
    pub(crate) async fn miss<T, E, L, LF, R, RF, Fl, FlF>(
        &self,
        kind: Kind,
        key: &str,
        fence: u64,
        load: L,
        recheck: Option<R>,
        fill: Fl,
    ) -> Result<T, E>
    where
        T: Clone + Send + Sync + 'static,
        L: FnOnce() -> LF,
        LF: Future<Output = Result<T, E>>,
        R: Fn() -> RF,
        RF: Future<Output = Option<T>>,
        Fl: FnOnce(&T) -> FlF,
        FlF: Future<Output = ()>,
    {
        let flight_key = format!("{key}@{fence}");
        let leader = match self.inner.flights.join(&flight_key) {
            Turn::Follow(follower) => match follower.wait::<T>().await {
                Some(value) => {
                    self.counted_shared(kind);
                    return Ok(value);
                }
                None => None,
            },
            Turn::Lead(leader) => Some(leader),
        };
        // A leader that missed just before the previous flight filled the key must not load
        // again: look once more before loading.
        if let (Some(recheck), Some(_)) = (&recheck, &leader)
            && let Some(value) = recheck().await
        {
            self.inner.stats.hit(kind);
            if let Some(leader) = leader {
                leader.finish(&value);
            }
            return Ok(value);
        }
        let lease = match &recheck {
            Some(_) => self.take_lease(key).await,
            None => Lease::NotNeeded,
        };
        if let (Lease::Busy, Some(recheck)) = (&lease, &recheck) {
            for ms in LEASE_WAITS_MS {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                if let Some(value) = recheck().await {
                    self.counted_shared(kind);
                    if let Some(leader) = leader {
                        leader.finish(&value);
                    }
                    return Ok(value);
                }
            }
        }
        self.counted_miss(kind);
        tracing::debug!(key, "cache miss");
        let loaded = load().await;
        if let Ok(value) = &loaded {
            pause::maybe_pause(&self.inner.pause, Point::BeforeFill, key).await;
            if self.is_available() {
                fill(value).await;
            }
        }
        if let Lease::Held(token) = &lease {
            self.release_lease(key, token).await;
        }
        let value = loaded?;
        if let Some(leader) = leader {
            leader.finish(&value);
        }
        Ok(value)
    }

    async fn take_lease(&self, key: &str) -> Lease {
        let Backend::Redis(redis) = &self.inner.backend else {
            return Lease::NotNeeded;
        };
        let token: u64 = rand::rng().random();
        let token = format!("{token:016x}");
        match redis
            .take_lease(&format!("{key}:lease"), &token, LEASE_TTL)
            .await
        {
            Ok(true) => Lease::Held(token),
            Ok(false) => Lease::Busy,
            Err(_) => Lease::NotNeeded,
        }
    }

    async fn release_lease(&self, key: &str, token: &str) {
        if let Backend::Redis(redis) = &self.inner.backend {
            let _ = redis.release_lease(&format!("{key}:lease"), token).await;
        }
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

    /// Invalidates every entry under `tag` (one increment). Call after the database commit.
    /// If the cache cannot be reached the tag is owed (see [`trust`]): bumped by every
    /// instance before it trusts the cache again, and this call returns only when that is sure.
    pub async fn invalidate_tag(&self, tag: &str) {
        if let Err((owed, err)) = self.try_invalidate_tag(tag).await {
            self.owe(owed, &err).await;
        }
    }

    /// [`Cache::invalidate_tag`], returning what is owed instead of recording it.
    pub(crate) async fn try_invalidate_tag(&self, tag: &str) -> Result<(), (Dirty, CacheError)> {
        if !self.has_backend() {
            return Ok(());
        }
        let result = if self.can_write() {
            self.generation(tag, true).await
        } else {
            Err(CacheError::Unavailable)
        };
        match result {
            Ok(generation) => {
                tracing::debug!(tag, generation, "cache invalidate tag");
                Ok(())
            }
            Err(err) => {
                self.inner.stats.error(Kind::List);
                let mut owed = Dirty::default();
                owed.tags.insert(tag.to_owned());
                Err((owed, err))
            }
        }
    }

    /// Bumps a tag's generation during repair, without recording it again on failure.
    pub(crate) async fn bump_tag(&self, tag: &str) -> Result<(), CacheError> {
        self.generation(tag, true).await.map(|_| ())
    }

    // ---- administration ----

    /// Deletes the keys matching `pattern` (relative to the prefix) with SCAN + UNLINK.
    pub async fn clear(&self, pattern: &str) -> Result<u64, ClearError> {
        if matches!(self.inner.backend, Backend::Redis(_)) && !self.is_available() {
            return Err(ClearError::Cache(CacheError::Unavailable));
        }
        self.clear_for_repair(pattern).await
    }

    /// [`Cache::clear`] whatever the breaker says: repair runs while it is open.
    pub(crate) async fn clear_for_repair(&self, pattern: &str) -> Result<u64, ClearError> {
        let full = glob::confine(&self.inner.prefix, pattern)?;
        let cleared = match &self.inner.backend {
            Backend::Redis(r) => r.clear(&full).await.map_err(ClearError::Cache),
            Backend::Memory(m) => Ok(m.clear(&full).await),
            Backend::None => Ok(0),
        };
        // Loads in flight may predate what was cleared: do not share them with later requests.
        self.advance_epoch();
        cleared
    }

    /// Counters, and what the backend says of itself.
    pub async fn report(&self) -> CacheReport {
        let (keys, server) = match &self.inner.backend {
            Backend::Redis(r) if self.is_available() => {
                let pattern = format!("{}*", glob::escape(&self.inner.prefix));
                let (keys, info) = tokio::join!(r.count(&pattern), r.info());
                (keys.ok(), info.unwrap_or_default())
            }
            Backend::Memory(m) => (Some(m.count().await), ServerInfo::default()),
            _ => (None, ServerInfo::default()),
        };
        CacheReport {
            backend: self.backend_name(),
            available: self.is_available(),
            total: self.inner.stats.total(),
            by_kind: Kind::ALL
                .iter()
                .map(|&k| (k, self.inner.stats.of(k)))
                .collect(),
            keys,
            server,
            responses_served: self.responses().map(|r| r.served_count()),
        }
    }

    /// Spawns the prober that closes the breaker again: it pings Redis every breaker interval
    /// while the breaker is open, runs `repair`, and closes the breaker when nothing is left.
    pub(crate) fn spawn_prober<R, Fut>(&self, repair: R)
    where
        R: Fn(Arc<Dirty>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), CacheError>> + Send,
    {
        if !matches!(self.inner.backend, Backend::Redis(_)) {
            return;
        }
        let cache = self.clone();
        tokio::spawn(async move {
            loop {
                cache.inner.health.opened().await;
                tokio::time::sleep(cache.inner.breaker_interval).await;
                if cache.ping().await.is_err() {
                    continue;
                }
                let owed = Arc::new(cache.inner.health.take_dirty());
                if !owed.is_empty()
                    && let Err(err) = match repair(owed.clone()).await {
                        Ok(()) => cache.forget_owed(&owed).await,
                        failed => failed,
                    }
                {
                    // Repair is idempotent: all of it is retried at the next probe.
                    tracing::debug!(error = %err, "cache repair incomplete; will retry");
                    cache.inner.health.restore(Arc::unwrap_or_clone(owed));
                    continue;
                }
                cache.inner.health.close_if_clean();
            }
        });
    }
}

/// `prefix` and the first 16 characters of the deployment id.
fn namespace(prefix: &str, deployment: &str) -> String {
    let id: String = deployment.chars().take(16).collect();
    format!("{prefix}{id}:")
}

enum Tagged<T> {
    Hit(T),
    Miss(u64),
}

enum Lease {
    Held(String),
    Busy,
    NotNeeded,
}

/// Why `clearCache` failed.
#[derive(Debug, thiserror::Error)]
pub enum ClearError {
    /// The pattern is not acceptable.
    #[error(transparent)]
    Pattern(#[from] PatternError),
    /// Redis failed part-way.
    #[error(transparent)]
    Cache(CacheError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_info() {
        let info = ServerInfo::parse(
            "# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\n# Clients\r\nconnected_clients:3\r\n# Stats\r\nkeyspace_hits:10\r\nkeyspace_misses:4\r\n",
        );
        assert_eq!(info.used_memory, Some(1_048_576));
        assert_eq!(info.used_memory_human.as_deref(), Some("1.00M"));
        assert_eq!(info.connected_clients, Some(3));
        assert_eq!(info.keyspace_hits, Some(10));
        assert_eq!(info.keyspace_misses, Some(4));
    }
}
