//! L1 in front of Redis: a [`Store`] that answers reads from the in-process copy when it may,
//! and otherwise reads Redis and keeps what it read (see [`crate::cache::l1`] for how the copy
//! stays coherent).
//!
//! *Invariants.* An L1 entry is served only after a read barrier that began after the current
//! request did; a fill is fenced, so a read that began before an invalidation never stores its
//! older value; every write through this store drops its keys from L1 before it returns, so an
//! instance always reads its own writes.
use std::{sync::Arc, time::Duration};

use super::{RedisBackend, Store};
use crate::cache::{
    CacheError, ServerInfo,
    entry::Entry,
    l1::{Checked, L1, L1Counts},
    request,
};

/// Redis with L1 in front.
pub struct Tracked {
    redis: RedisBackend,
    l1: Arc<L1>,
}

impl Tracked {
    /// `redis` behind `l1`; `l1` must be tracking the namespace on `redis`.
    pub fn new(redis: RedisBackend, l1: Arc<L1>) -> Self {
        Self { redis, l1 }
    }

    /// The Redis store underneath.
    pub fn redis(&self) -> &RedisBackend {
        &self.redis
    }

    /// The in-process layer.
    pub fn l1(&self) -> &Arc<L1> {
        &self.l1
    }

    /// Whether each `(key, entry)` is still what its key holds, after the barrier (a kept
    /// response built from them is then current). `checked` records, kept by the caller, when
    /// every one of them was last seen held: while no invalidation has taken effect since
    /// ([`L1::changes`]), or none of their keys was invalidated since its mark
    /// ([`L1::untouched_since`]), they all still are, and none is looked up again.
    pub async fn still_holds(&self, deps: &[(String, Arc<Entry>)], checked: &Checked) -> bool {
        if deps.is_empty() {
            return true;
        }
        if !self.l1.is_live() || !self.l1.barrier(request::started()).await {
            return false;
        }
        // Read before the entries: an invalidation the look below misses moves it past this.
        let changes = self.l1.changes();
        if checked.at(changes) && self.l1.is_live() {
            return true;
        }
        let keys = deps.iter().map(|(key, _)| key.as_str());
        if self.l1.untouched_since(keys, checked.mark()) && self.l1.is_live() {
            // Held when `changes` was read: an invalidation that had taken effect by then had
            // raised its slot before, and none had.
            checked.record(changes, None);
            L1Counts::add(&self.l1.counts.by_mark, 1);
            return true;
        }
        L1Counts::add(&self.l1.counts.by_lookup, 1);
        let mark = self.l1.quiet_mark();
        let held = deps
            .iter()
            .all(|(key, entry)| self.l1.get(key).is_some_and(|now| Arc::ptr_eq(&now, entry)));
        if held {
            checked.record(changes, mark);
        }
        held
    }

    /// What L1 holds for every key of `keys`, once the barrier allows serving it.
    async fn held(&self, keys: &[&str]) -> Option<Vec<Option<Arc<Entry>>>> {
        let since = request::started();
        // Unless a round that began after this request did has completed already (then what
        // L1 holds now may be served), wait for one only when L1 holds every key, and look
        // again after it: it may have applied an invalidation of these keys.
        if !self.l1.barrier_passed(since) {
            if keys.iter().any(|k| self.l1.get(k).is_none()) {
                return None;
            }
            if !self.l1.barrier(since).await {
                return None;
            }
        }
        let held = keys
            .iter()
            .map(|k| self.l1.get(k).map(Some))
            .collect::<Option<Vec<_>>>();
        if held.is_some() {
            L1Counts::add(&self.l1.counts.served, keys.len() as u64);
        }
        held
    }
}

impl Store for Tracked {
    async fn get(&self, key: &str) -> Result<Option<Arc<Entry>>, CacheError> {
        if let Some(mut held) = self.held(&[key]).await {
            return Ok(held.pop().flatten());
        }
        let fence = self.l1.fence();
        L1Counts::add(&self.l1.counts.fetched, 1);
        Ok(self
            .redis
            .get_raw(key)
            .await?
            .map(|raw| self.l1.fill(key, &raw, fence)))
    }

    async fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<Arc<Entry>>>, CacheError> {
        if let Some(held) = self.held(keys).await {
            return Ok(held);
        }
        let fence = self.l1.fence();
        L1Counts::add(&self.l1.counts.fetched, keys.len() as u64);
        let raw = self.redis.mget_raw(keys).await?;
        Ok(keys
            .iter()
            .zip(raw)
            .map(|(key, raw)| raw.map(|raw| self.l1.fill(key, &raw, fence)))
            .collect())
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), CacheError> {
        let result = self.redis.set(key, value, ttl).await;
        self.l1.invalidate(key);
        result
    }

    async fn set_if_newer(
        &self,
        key: &str,
        version: u64,
        value: &str,
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        let result = self.redis.set_if_newer(key, version, value, ttl).await;
        // A write the script dropped changed nothing: what L1 holds stays as good as it was.
        if !matches!(result, Ok(false)) {
            self.l1.invalidate(key);
        }
        result
    }

    async fn generation(&self, key: &str, bump: bool, ttl: Duration) -> Result<u64, CacheError> {
        let result = self.redis.generation(key, bump, ttl).await;
        if bump {
            self.l1.invalidate(key);
        }
        result
    }

    async fn delete(&self, keys: &[&str]) -> Result<(), CacheError> {
        let result = self.redis.delete(keys).await;
        for key in keys {
            self.l1.invalidate(key);
        }
        result
    }

    async fn take_lease(&self, key: &str, token: &str, ttl: Duration) -> Result<bool, CacheError> {
        self.redis.take_lease(key, token, ttl).await
    }

    async fn release_lease(&self, key: &str, token: &str) -> Result<(), CacheError> {
        self.redis.release_lease(key, token).await
    }

    async fn announce(&self, key: &str, token: &str, ttl: Duration) -> Result<(), CacheError> {
        self.redis.announce(key, token, ttl).await
    }

    async fn announced(&self, key: &str, token: Option<&str>) -> Result<bool, CacheError> {
        self.redis.announced(key, token).await
    }

    async fn retire(&self, key: &str, token: &str) -> Result<(), CacheError> {
        self.redis.retire(key, token).await
    }

    async fn delete_if(&self, key: &str, value: &str) -> Result<bool, CacheError> {
        let result = self.redis.delete_if(key, value).await;
        self.l1.invalidate(key);
        result
    }

    async fn clear(&self, pattern: &str) -> Result<u64, CacheError> {
        self.redis.clear(pattern).await
    }

    async fn count(&self, pattern: &str) -> Result<u64, CacheError> {
        self.redis.count(pattern).await
    }

    async fn count_where(
        &self,
        pattern: &str,
        keep: impl Fn(&str, &str) -> bool + Send + Sync,
    ) -> Result<u64, CacheError> {
        self.redis.count_where(pattern, keep).await
    }

    async fn ping(&self) -> Result<(), CacheError> {
        self.redis.ping().await
    }

    async fn info(&self) -> Result<ServerInfo, CacheError> {
        self.redis.info().await
    }
}
