//! What the backend does over every key matching a pattern (`clearCache`, purges, `cacheStats`):
//! SCAN in batches, never `KEYS` or `DBSIZE`, on every primary of a cluster.
use std::pin::Pin;

use fred::prelude::*;
use futures::{Stream, TryStreamExt};

use super::RedisBackend;
use crate::cache::CacheError;

/// Keys per SCAN step and per batch of UNLINK or MGET.
const BATCH: usize = 500;

type Keys = Pin<Box<dyn Stream<Item = Result<Key, Error>> + Send>>;

impl RedisBackend {
    /// The keys matching `pattern`, on every primary.
    fn scan(&self, pattern: &str) -> (Keys, bool) {
        let client = self.client();
        let clustered = client.is_clustered();
        let pattern = pattern.to_owned();
        let keys: Keys = if clustered {
            Box::pin(client.scan_cluster_buffered(pattern, Some(BATCH as u32), None))
        } else {
            Box::pin(client.scan_buffered(pattern, Some(BATCH as u32), None))
        };
        (keys, clustered)
    }

    /// Deletes every key matching `pattern` with SCAN + UNLINK in batches; how many went.
    pub(super) async fn scan_clear(&self, pattern: &str) -> Result<u64, CacheError> {
        let (mut keys, clustered) = self.scan(pattern);
        let mut cleared = 0;
        let mut batch = Vec::with_capacity(BATCH);
        while let Some(key) = keys.try_next().await? {
            batch.push(key);
            if batch.len() == BATCH {
                cleared += self
                    .unlink_batch(std::mem::take(&mut batch), clustered)
                    .await?;
            }
        }
        if !batch.is_empty() {
            cleared += self.unlink_batch(batch, clustered).await?;
        }
        Ok(cleared)
    }

    /// Counts the keys matching `pattern`; with `keep`, only those whose key and value pass
    /// it (values read in batches: one MGET, or in a cluster one GET per key, whose slots
    /// differ).
    pub(super) async fn scan_count(
        &self,
        pattern: &str,
        keep: Option<impl Fn(&str, &str) -> bool>,
    ) -> Result<u64, CacheError> {
        let (mut keys, clustered) = self.scan(pattern);
        let Some(keep) = keep else {
            let mut n = 0;
            while keys.try_next().await?.is_some() {
                n += 1;
            }
            return Ok(n);
        };
        let mut n = 0;
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            let key = keys.try_next().await?;
            if let Some(key) = key.as_ref().and_then(Key::as_str) {
                batch.push(key.to_owned());
            }
            if batch.len() == BATCH || (key.is_none() && !batch.is_empty()) {
                let values = self.values(&batch, clustered).await?;
                n += batch
                    .iter()
                    .zip(values)
                    .filter(|(k, v)| v.as_deref().is_some_and(|v| keep(k, v)))
                    .count() as u64;
                batch.clear();
            }
            if key.is_none() {
                return Ok(n);
            }
        }
    }

    async fn values(
        &self,
        keys: &[String],
        clustered: bool,
    ) -> Result<Vec<Option<String>>, CacheError> {
        if !clustered {
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            return self.mget_raw(&keys).await;
        }
        let mut values = Vec::with_capacity(keys.len());
        for key in keys {
            values.push(self.get_raw(key).await?);
        }
        Ok(values)
    }

    async fn unlink_batch(&self, keys: Vec<Key>, clustered: bool) -> Result<u64, CacheError> {
        if clustered {
            let mut n = 0;
            for key in keys {
                n += Box::pin(self.client().unlink::<u64, _>(key)).await?;
            }
            Ok(n)
        } else {
            Ok(Box::pin(self.client().unlink::<u64, _>(keys)).await?)
        }
    }
}
