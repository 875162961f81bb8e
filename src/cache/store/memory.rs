//! The in-process backend (`CACHE_BACKEND=memory`): a bounded moka cache holding the same
//! encoded values, with the same per-key TTLs and the same conditional writes as Redis, so the
//! protocol above it is identical. For one instance only: other processes cannot see it.
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use moka::{Expiry, future::Cache as Moka, ops::compute::Op};

use super::Store;
use crate::cache::{CacheError, ServerInfo, entry::Entry as Value, glob, protocol::leading_number};

#[derive(Clone)]
struct Entry {
    value: Arc<Value>,
    ttl: Duration,
}

struct PerEntryTtl;

impl Expiry<String, Entry> for PerEntryTtl {
    fn expire_after_create(&self, _: &String, e: &Entry, _: Instant) -> Option<Duration> {
        Some(e.ttl)
    }
    fn expire_after_update(
        &self,
        _: &String,
        e: &Entry,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(e.ttl)
    }
}

/// A bounded map from key to encoded value with per-entry TTL.
pub struct MemoryBackend {
    entries: Moka<String, Entry>,
    /// Announcements by key: token and the time it lapses. Each set holds only what was
    /// announced and not yet retired or lapsed.
    announcements: Mutex<HashMap<String, HashMap<String, Instant>>>,
}

impl MemoryBackend {
    /// A cache holding at most `capacity` entries.
    pub fn new(capacity: u64) -> Self {
        Self {
            entries: Moka::builder()
                .max_capacity(capacity)
                .expire_after(PerEntryTtl)
                .build(),
            announcements: Mutex::default(),
        }
    }

    /// The entry for `key`; its decoded form is kept with it, so hits do not parse again.
    pub async fn entry(&self, key: &str) -> Option<Arc<Value>> {
        self.entries.get(key).await.map(|e| e.value)
    }

    async fn put(&self, key: &str, value: &str, ttl: Duration) {
        let entry = Entry {
            value: Arc::new(Value::new(value)),
            ttl,
        };
        self.entries.insert(key.to_owned(), entry).await;
    }

    /// Same contract as the Redis script: never replace an equal or newer version.
    async fn put_if_newer(&self, key: &str, version: u64, value: &str, ttl: Duration) -> bool {
        let entry = Entry {
            value: Arc::new(Value::new(value)),
            ttl,
        };
        let result = self
            .entries
            .entry(key.to_owned())
            .and_compute_with(|current| async move {
                let newer_held = current
                    .and_then(|c| leading_number(c.into_value().value.raw(), "v"))
                    .is_some_and(|v| v >= version);
                if newer_held { Op::Nop } else { Op::Put(entry) }
            })
            .await;
        !matches!(result, moka::ops::compute::CompResult::Unchanged(_))
    }

    /// Reads or increments a generation; a missing one starts at the clock in microseconds.
    async fn counter(&self, key: &str, bump: bool, ttl: Duration) -> u64 {
        let result = self
            .entries
            .entry(key.to_owned())
            .and_compute_with(|current| async move {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_micros() as u64;
                let value = current
                    .and_then(|c| c.into_value().value.raw().parse::<u64>().ok())
                    .unwrap_or(now);
                let value = if bump { value + 1 } else { value };
                Op::Put(Entry {
                    value: Arc::new(Value::new(&value.to_string())),
                    ttl,
                })
            })
            .await;
        result
            .into_entry()
            .and_then(|e| e.into_value().value.raw().parse().ok())
            .unwrap_or(0)
    }

    async fn remove(&self, keys: &[&str]) {
        for key in keys {
            self.entries.invalidate(*key).await;
        }
    }

    async fn remove_matching(&self, pattern: &str) -> u64 {
        let doomed: Vec<Arc<String>> = self
            .entries
            .iter()
            .filter(|(k, _)| glob::matches(pattern, k))
            .map(|(k, _)| k)
            .collect();
        let mut cleared = 0;
        for key in doomed {
            if self.entries.remove(key.as_str()).await.is_some() {
                cleared += 1;
            }
        }
        cleared
    }

    async fn count_matching(&self, pattern: &str, keep: impl Fn(&str, &str) -> bool) -> u64 {
        self.entries.run_pending_tasks().await;
        self.entries
            .iter()
            .filter(|(k, e)| glob::matches(pattern, k) && keep(k, e.value.raw()))
            .count() as u64
    }

    /// Removes `key` if it holds `value`, in one step.
    async fn remove_if(&self, key: &str, value: &str) -> bool {
        let result = self
            .entries
            .entry(key.to_owned())
            .and_compute_with(|current| async move {
                match current {
                    Some(c) if c.value().value.raw() == value => Op::Remove,
                    _ => Op::Nop,
                }
            })
            .await;
        matches!(result, moka::ops::compute::CompResult::Removed(_))
    }
}

/// One process owns it: leases are never needed, and nothing in it can fail.
impl Store for MemoryBackend {
    async fn get(&self, key: &str) -> Result<Option<Arc<Value>>, CacheError> {
        Ok(self.entry(key).await)
    }
    async fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<Arc<Value>>>, CacheError> {
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            out.push(self.entry(key).await);
        }
        Ok(out)
    }
    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), CacheError> {
        self.put(key, value, ttl).await;
        Ok(())
    }
    async fn set_if_newer(
        &self,
        key: &str,
        version: u64,
        value: &str,
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        Ok(self.put_if_newer(key, version, value, ttl).await)
    }
    async fn generation(&self, key: &str, bump: bool, ttl: Duration) -> Result<u64, CacheError> {
        Ok(self.counter(key, bump, ttl).await)
    }
    async fn delete(&self, keys: &[&str]) -> Result<(), CacheError> {
        self.remove(keys).await;
        Ok(())
    }
    async fn take_lease(&self, _: &str, _: &str, _: Duration) -> Result<bool, CacheError> {
        Ok(true)
    }
    async fn release_lease(&self, _: &str, _: &str) -> Result<(), CacheError> {
        Ok(())
    }
    async fn delete_if(&self, key: &str, value: &str) -> Result<bool, CacheError> {
        Ok(self.remove_if(key, value).await)
    }
    async fn announce(&self, key: &str, token: &str, ttl: Duration) -> Result<(), CacheError> {
        let now = Instant::now();
        let mut all = self.announcements.lock().unwrap_or_else(|p| p.into_inner());
        let set = all.entry(key.to_owned()).or_default();
        set.retain(|_, lapses| *lapses > now);
        set.insert(token.to_owned(), now + ttl);
        Ok(())
    }
    async fn announced(&self, key: &str, token: Option<&str>) -> Result<bool, CacheError> {
        let now = Instant::now();
        let all = self.announcements.lock().unwrap_or_else(|p| p.into_inner());
        Ok(all.get(key).is_some_and(|set| {
            set.iter()
                .any(|(t, lapses)| *lapses > now && Some(t.as_str()) != token)
        }))
    }
    async fn retire(&self, key: &str, token: &str) -> Result<(), CacheError> {
        let mut all = self.announcements.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(set) = all.get_mut(key) {
            set.remove(token);
            if set.is_empty() {
                all.remove(key);
            }
        }
        Ok(())
    }
    async fn clear(&self, pattern: &str) -> Result<u64, CacheError> {
        Ok(self.remove_matching(pattern).await)
    }
    async fn count(&self, pattern: &str) -> Result<u64, CacheError> {
        Ok(self.count_matching(pattern, |_, _| true).await)
    }
    async fn count_where(
        &self,
        pattern: &str,
        keep: impl Fn(&str, &str) -> bool + Send + Sync,
    ) -> Result<u64, CacheError> {
        Ok(self.count_matching(pattern, keep).await)
    }
    async fn ping(&self) -> Result<(), CacheError> {
        Ok(())
    }
    async fn info(&self) -> Result<ServerInfo, CacheError> {
        Ok(ServerInfo::default())
    }
}
