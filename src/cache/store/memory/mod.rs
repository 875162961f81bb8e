//! The in-process backend (`CACHE_BACKEND=memory`): a bounded moka cache holding the same
//! encoded values, with the same per-key TTLs and the same conditional writes as Redis, so the
//! protocol above it is identical. For one instance only: other processes cannot see it.
use std::{
    sync::Arc,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use moka::{Expiry, future::Cache as Moka, ops::compute::Op};

use super::{Put, Store};
use crate::cache::{
    CacheError, ServerInfo,
    entry::Entry as Value,
    glob,
    protocol::{is_settled, leading_number, settled},
};

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
}

impl MemoryBackend {
    /// A cache holding at most `capacity` entries.
    pub fn new(capacity: u64) -> Self {
        Self {
            entries: Moka::builder()
                .max_capacity(capacity)
                .expire_after(PerEntryTtl)
                .build(),
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

    /// Same contract as the Redis script: never replace an equal or newer version; settle
    /// (with `settle`) only after a settled version just before it.
    async fn put_if_newer(
        &self,
        key: &str,
        version: u64,
        value: &str,
        ttl: Duration,
        settle: bool,
    ) -> Put {
        let mut put = Put::Unsettled;
        self.entries
            .entry(key.to_owned())
            .and_compute_with(|current| {
                let held = current.map(|c| c.into_value().value);
                let held_version = held.as_ref().and_then(|h| leading_number(h.raw(), "v"));
                let held_settled = held.as_ref().is_some_and(|h| is_settled(h.raw()));
                let settled_value = settle.then(|| settled(value)).flatten();
                put = match held_version {
                    Some(v) if v >= version && held_settled => Put::Covered,
                    Some(v) if v >= version => Put::Held,
                    Some(v) if held_settled && v + 1 == version => match settled_value {
                        Some(_) => Put::Settled,
                        None => Put::AfterSettled,
                    },
                    _ => Put::Unsettled,
                };
                let op = match (put, settled_value) {
                    (Put::Settled, Some(stored)) => Op::Put(Entry {
                        value: Arc::new(Value::new(&stored)),
                        ttl,
                    }),
                    (put, _) if put.stored() => Op::Put(Entry {
                        value: Arc::new(Value::new(value)),
                        ttl,
                    }),
                    _ => Op::Nop,
                };
                std::future::ready(op)
            })
            .await;
        put
    }

    /// Marks `key` settled if it holds `version` not settled (its TTL starts again: moka keeps
    /// no remaining time, and a versioned entry living longer is never older for it).
    async fn mark_settled(&self, key: &str, version: u64) -> bool {
        let mut done = false;
        self.entries
            .entry(key.to_owned())
            .and_compute_with(|current| {
                let entry = current.map(|c| c.into_value());
                let marked = entry.as_ref().and_then(|e| {
                    let raw = e.value.raw();
                    let ours = leading_number(raw, "v") == Some(version) && !is_settled(raw);
                    ours.then(|| settled(raw)).flatten()
                });
                let op = match (entry, marked) {
                    (Some(e), Some(marked)) => {
                        done = true;
                        Op::Put(Entry {
                            value: Arc::new(Value::new(&marked)),
                            ttl: e.ttl,
                        })
                    }
                    _ => Op::Nop,
                };
                std::future::ready(op)
            })
            .await;
        done
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
        settle: bool,
    ) -> Result<Put, CacheError> {
        Ok(self.put_if_newer(key, version, value, ttl, settle).await)
    }
    async fn settle(&self, key: &str, version: u64) -> Result<bool, CacheError> {
        Ok(self.mark_settled(key, version).await)
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

#[cfg(test)]
mod tests;
