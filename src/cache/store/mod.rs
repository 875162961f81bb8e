//! Where cache entries live: the [`Store`] contract, and the stores that keep it.
//!
//! * `redis`: a fred pool on one server, a Cluster or a Sentinel group; the protocol's
//!   conditional writes are Lua scripts, atomic on the server.
//! * `tracked`: L1 in front of Redis, kept coherent by client tracking (a decorator).
//! * `memory`: a bounded in-process map with the same encodings and conditional writes, for one
//!   instance.
//!
//! `CACHE_BACKEND=none` is the absence of a store. A new backend is one file implementing
//! [`Store`] and one arm of [`Stores`].
mod memory;
mod redis;
mod tracked;

use std::{future::Future, sync::Arc, time::Duration};

pub use memory::MemoryBackend;
pub use redis::RedisBackend;
pub use tracked::Tracked;

use super::{CacheError, ServerInfo, entry::Entry};

/// What the cache protocol needs of a key-value store. Every method may fail with
/// [`CacheError`]; the callers then answer from the database. Values are the protocol's encoded
/// strings (see `protocol`), returned as [`Entry`]s so their decoded form can be kept with them.
///
/// The contract, which the protocol's invariants rest on:
/// * `set_if_newer` never replaces a value whose leading `{"v":N` is `>= version`, atomically.
/// * `generation` reads (or, with `bump`, increments) a counter that, when missing, starts
///   at the store's clock in microseconds, so it never returns to a value entries were stamped
///   with; its TTL is refreshed by every call.
/// * `get_many` reads its keys in one step; on a Cluster they must share a hash slot.
/// * `take_lease` sets `key` to `token` for `ttl` only if it is missing; `release_lease` deletes
///   it only if it still holds `token`; `delete_if` does the same for any key, and says whether
///   it did, atomically (one caller of all processes sees `true`).
/// * `clear` and `count` see every key matching a glob pattern, on every primary.
/// * `announce` adds `token` to the set at `key` until `ttl` has passed (by the store's clock);
///   `announced` counts the tokens there whose time has not passed, `token` left out; `retire`
///   removes one.
pub trait Store: Send + Sync {
    /// The entry at `key`.
    fn get(&self, key: &str)
    -> impl Future<Output = Result<Option<Arc<Entry>>, CacheError>> + Send;
    /// The entries at `keys`, in order, in one step.
    fn get_many(
        &self,
        keys: &[&str],
    ) -> impl Future<Output = Result<Vec<Option<Arc<Entry>>>, CacheError>> + Send;
    /// Sets `key` to `value` for `ttl`.
    fn set(
        &self,
        key: &str,
        value: &str,
        ttl: Duration,
    ) -> impl Future<Output = Result<(), CacheError>> + Send;
    /// Sets `key` unless it holds a version `>= version`; whether it did.
    fn set_if_newer(
        &self,
        key: &str,
        version: u64,
        value: &str,
        ttl: Duration,
    ) -> impl Future<Output = Result<bool, CacheError>> + Send;
    /// The generation at `key`, incremented first with `bump`.
    fn generation(
        &self,
        key: &str,
        bump: bool,
        ttl: Duration,
    ) -> impl Future<Output = Result<u64, CacheError>> + Send;
    /// Deletes `keys`.
    fn delete(&self, keys: &[&str]) -> impl Future<Output = Result<(), CacheError>> + Send;
    /// Takes the lease `key` with `token` for `ttl`; whether it was free.
    fn take_lease(
        &self,
        key: &str,
        token: &str,
        ttl: Duration,
    ) -> impl Future<Output = Result<bool, CacheError>> + Send;
    /// Releases the lease `key` if it still holds `token`.
    fn release_lease(
        &self,
        key: &str,
        token: &str,
    ) -> impl Future<Output = Result<(), CacheError>> + Send;
    /// Adds `token` to the announcements at `key`, for `ttl` at most.
    fn announce(
        &self,
        key: &str,
        token: &str,
        ttl: Duration,
    ) -> impl Future<Output = Result<(), CacheError>> + Send;
    /// Whether an announcement other than `token` is at `key` and current.
    fn announced(
        &self,
        key: &str,
        token: Option<&str>,
    ) -> impl Future<Output = Result<bool, CacheError>> + Send;
    /// Removes the announcement `token` from `key`.
    fn retire(&self, key: &str, token: &str)
    -> impl Future<Output = Result<(), CacheError>> + Send;
    /// Deletes `key` if it holds `value`; whether it did.
    fn delete_if(
        &self,
        key: &str,
        value: &str,
    ) -> impl Future<Output = Result<bool, CacheError>> + Send;
    /// Deletes every key matching the glob `pattern`; how many went.
    fn clear(&self, pattern: &str) -> impl Future<Output = Result<u64, CacheError>> + Send;
    /// How many keys match the glob `pattern`.
    fn count(&self, pattern: &str) -> impl Future<Output = Result<u64, CacheError>> + Send;
    /// How many keys match the glob `pattern` and pass `keep` (given the key and its raw
    /// value). Values are read in batches; a key SCAN returns twice is counted twice.
    fn count_where(
        &self,
        pattern: &str,
        keep: impl Fn(&str, &str) -> bool + Send + Sync,
    ) -> impl Future<Output = Result<u64, CacheError>> + Send;
    /// Whether the store answers.
    fn ping(&self) -> impl Future<Output = Result<(), CacheError>> + Send;
    /// What the store says of itself (memory, clients, keyspace counters).
    fn info(&self) -> impl Future<Output = Result<ServerInfo, CacheError>> + Send;
}

/// The configured store.
pub enum Stores {
    Redis(Box<RedisBackend>),
    Tracked(Box<Tracked>),
    Memory(MemoryBackend),
}

/// Runs `$body` with `$s` bound to whichever store this is.
macro_rules! each {
    ($stores:expr, $s:ident => $body:expr) => {
        match $stores {
            Stores::Redis($s) => $body,
            Stores::Tracked($s) => $body,
            Stores::Memory($s) => $body,
        }
    };
}

impl Stores {
    /// The Redis pool underneath, if any (throttle counters, topology events).
    pub fn redis(&self) -> Option<&RedisBackend> {
        match self {
            Stores::Redis(r) => Some(r),
            Stores::Tracked(t) => Some(t.redis()),
            Stores::Memory(_) => None,
        }
    }

    /// L1, when it is in front of Redis.
    pub fn l1(&self) -> Option<&Arc<super::l1::L1>> {
        match self {
            Stores::Tracked(t) => Some(t.l1()),
            _ => None,
        }
    }

    /// Whether other processes share this store (then leases and the owed log matter).
    pub fn is_shared(&self) -> bool {
        self.redis().is_some()
    }
}

impl Store for Stores {
    async fn get(&self, key: &str) -> Result<Option<Arc<Entry>>, CacheError> {
        each!(self, s => s.get(key).await)
    }
    async fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<Arc<Entry>>>, CacheError> {
        each!(self, s => s.get_many(keys).await)
    }
    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), CacheError> {
        each!(self, s => s.set(key, value, ttl).await)
    }
    async fn set_if_newer(
        &self,
        key: &str,
        version: u64,
        value: &str,
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        each!(self, s => s.set_if_newer(key, version, value, ttl).await)
    }
    async fn generation(&self, key: &str, bump: bool, ttl: Duration) -> Result<u64, CacheError> {
        each!(self, s => s.generation(key, bump, ttl).await)
    }
    async fn delete(&self, keys: &[&str]) -> Result<(), CacheError> {
        each!(self, s => s.delete(keys).await)
    }
    async fn take_lease(&self, key: &str, token: &str, ttl: Duration) -> Result<bool, CacheError> {
        each!(self, s => s.take_lease(key, token, ttl).await)
    }
    async fn release_lease(&self, key: &str, token: &str) -> Result<(), CacheError> {
        each!(self, s => s.release_lease(key, token).await)
    }
    async fn announce(&self, key: &str, token: &str, ttl: Duration) -> Result<(), CacheError> {
        each!(self, s => s.announce(key, token, ttl).await)
    }
    async fn announced(&self, key: &str, token: Option<&str>) -> Result<bool, CacheError> {
        each!(self, s => s.announced(key, token).await)
    }
    async fn retire(&self, key: &str, token: &str) -> Result<(), CacheError> {
        each!(self, s => s.retire(key, token).await)
    }
    async fn delete_if(&self, key: &str, value: &str) -> Result<bool, CacheError> {
        each!(self, s => s.delete_if(key, value).await)
    }
    async fn clear(&self, pattern: &str) -> Result<u64, CacheError> {
        each!(self, s => s.clear(pattern).await)
    }
    async fn count(&self, pattern: &str) -> Result<u64, CacheError> {
        each!(self, s => s.count(pattern).await)
    }
    async fn count_where(
        &self,
        pattern: &str,
        keep: impl Fn(&str, &str) -> bool + Send + Sync,
    ) -> Result<u64, CacheError> {
        each!(self, s => s.count_where(pattern, keep).await)
    }
    async fn ping(&self) -> Result<(), CacheError> {
        each!(self, s => s.ping().await)
    }
    async fn info(&self) -> Result<ServerInfo, CacheError> {
        each!(self, s => s.info().await)
    }
}
