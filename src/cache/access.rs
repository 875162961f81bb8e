//! Reads and writes of single entries: dispatched to the backend, through L1 when it is on, and
//! recorded in the request's read record (`request`) so the response cache knows what a
//! response was built from.
//!
//! *Invariant:* every write of this process drops its key from L1 before it returns, so an
//! instance always reads its own writes; an L1 entry is served only after a read barrier that
//! began after the request did (see [`super::l1`]).
use std::{sync::Arc, time::Duration};

use super::{Backend, Cache, CacheError, l1::Entry, request, tagged::GENERATION_TTL};

impl Cache {
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

    /// The entry at `key`: from L1 when it holds it, else from the backend (and kept in L1).
    pub(crate) async fn get(&self, key: &str) -> Result<Option<Arc<Entry>>, CacheError> {
        let entry = self.get_unrecorded(key).await?;
        match &entry {
            Some(entry) => request::record(key, entry),
            None => request::uncacheable(),
        }
        Ok(entry)
    }

    pub(super) async fn get_unrecorded(&self, key: &str) -> Result<Option<Arc<Entry>>, CacheError> {
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
    pub(super) async fn mget2(
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

    pub(super) async fn mget2_unrecorded(
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

    /// Drops `key` from L1 after this process wrote it (or tried to): read-your-writes.
    pub(super) fn l1_drop(&self, key: &str) {
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

    pub(super) async fn generation(&self, tag: &str, bump: bool) -> Result<u64, CacheError> {
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
}
