//! Reads and writes of single entries through the configured [`Store`], recorded in the
//! request's read record (`request`) so the response cache knows what a response was built from.
use std::{sync::Arc, time::Duration};

use super::{
    Cache, CacheError,
    entry::Entry,
    l1::Checked,
    request,
    store::{Store, Stores},
    ttl,
};

impl Cache {
    /// The store, or [`CacheError::Unavailable`] with `CACHE_BACKEND=none`.
    pub(super) fn store(&self) -> Result<&Stores, CacheError> {
        self.inner.store.as_ref().ok_or(CacheError::Unavailable)
    }

    /// Whether every `(key, entry)` is still what the cache holds, without asking Redis (L1
    /// after its read barrier, or the memory backend). `false` when that cannot be known.
    /// `checked` is the caller's record of when they were last all current (see
    /// `Tracked::still_holds`; it starts empty).
    pub async fn still_current(&self, deps: &[(String, Arc<Entry>)], checked: &Checked) -> bool {
        if !self.is_available() {
            return false;
        }
        match &self.inner.store {
            Some(Stores::Tracked(tracked)) => tracked.still_holds(deps, checked).await,
            Some(Stores::Memory(m)) => {
                for (key, entry) in deps {
                    if !m
                        .entry(key)
                        .await
                        .is_some_and(|now| Arc::ptr_eq(&now, entry))
                    {
                        return false;
                    }
                }
                true
            }
            // Without L1 nothing in the process can tell whether Redis changed.
            Some(Stores::Redis(_)) | None => false,
        }
    }

    /// The entry at `key` (from L1 when it holds it), recorded as read by this request.
    pub(crate) async fn get(&self, key: &str) -> Result<Option<Arc<Entry>>, CacheError> {
        let entry = self.store()?.get(key).await?;
        match &entry {
            Some(entry) => request::record(key, entry),
            None => request::uncacheable(),
        }
        Ok(entry)
    }

    /// Two entries in one round trip (same cluster slot), recorded as read.
    pub(super) async fn mget2(
        &self,
        a: &str,
        b: &str,
    ) -> Result<(Option<Arc<Entry>>, Option<Arc<Entry>>), CacheError> {
        let mut both = self.store()?.get_many(&[a, b]).await?.into_iter();
        let (x, y) = (both.next().flatten(), both.next().flatten());
        match (&x, &y) {
            (Some(ex), Some(ey)) => {
                request::record(a, ex);
                request::record(b, ey);
            }
            _ => request::uncacheable(),
        }
        Ok((x, y))
    }

    pub(crate) async fn set(
        &self,
        key: &str,
        value: &str,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        self.store()?.set(key, value, ttl).await
    }

    pub(crate) async fn set_if_newer(
        &self,
        key: &str,
        version: u64,
        value: &str,
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        self.store()?.set_if_newer(key, version, value, ttl).await
    }

    pub(crate) async fn del(&self, keys: &[&str]) -> Result<(), CacheError> {
        self.store()?.delete(keys).await
    }

    pub(super) async fn generation(&self, tag: &str, bump: bool) -> Result<u64, CacheError> {
        self.store()?
            .generation(&self.gen_key(tag), bump, ttl::GENERATION)
            .await
    }

    pub(crate) async fn ping(&self) -> Result<(), CacheError> {
        self.store()?.ping().await
    }
}
