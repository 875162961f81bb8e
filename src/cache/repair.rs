//! Repair: what the prober does before it closes the breaker again.
//!
//! *Invariant* (with [`super::health`]): the breaker closes only after Redis answers and every
//! owed key has been repaired from the database: each owed entity rewritten (set-if-newer, or a
//! tombstone when its row is gone), each owed pointer deleted, each owed tag's generation moved
//! on; with too much owed, every entity and pointer entry cleared and every generation
//! restarted. Repair is idempotent, so a failed one is retried whole.
use std::sync::Arc;

use super::{Cache, CacheError, ClearError, entity::Reload, health::Dirty};

/// One entity kind the cache can repair: its key part, its pointers' key parts, the tags of
/// what is derived from it, its reloader.
pub(crate) struct Registered {
    pub(super) kind: &'static str,
    pub(super) pointers: Vec<&'static str>,
    pub(super) tags: &'static [&'static str],
    reload: Arc<dyn Reload>,
}

impl Cache {
    /// Makes `kind` repairable (its entries rewritten by `reload`).
    pub(crate) fn register(
        &self,
        kind: &'static str,
        pointers: Vec<&'static str>,
        tags: &'static [&'static str],
        reload: Arc<dyn Reload>,
    ) {
        let mut kinds = self.inner.kinds.write().unwrap_or_else(|p| p.into_inner());
        kinds.retain(|k| k.kind != kind);
        kinds.push(Registered {
            kind,
            pointers,
            tags,
            reload,
        });
    }

    fn reloader(&self, kind: &str) -> Option<Arc<dyn Reload>> {
        let kinds = self.inner.kinds.read().unwrap_or_else(|p| p.into_inner());
        kinds
            .iter()
            .find(|k| k.kind == kind)
            .map(|k| k.reload.clone())
    }

    /// Every pattern an overflowing repair clears: each kind, each pointer, every generation.
    fn overflow_patterns(&self) -> Vec<String> {
        let kinds = self.inner.kinds.read().unwrap_or_else(|p| p.into_inner());
        let mut patterns: Vec<String> = kinds
            .iter()
            .flat_map(|k| std::iter::once(k.kind).chain(k.pointers.iter().copied()))
            .map(|name| format!("{name}:*"))
            .collect();
        patterns.push("{*}:gen".to_owned());
        patterns
    }

    /// Repairs what `owed` lists; on failure, it is all retried later.
    async fn repair(&self, owed: &Dirty) -> Result<(), CacheError> {
        if owed.overflow {
            for pattern in self.overflow_patterns() {
                self.clear_for_repair(&pattern)
                    .await
                    .map_err(|err| match err {
                        ClearError::Cache(e) => e,
                        ClearError::Pattern(e) => CacheError::Decode(e.to_string()),
                    })?;
            }
        }
        for (kind, ids) in &owed.entities {
            let reload = self
                .reloader(kind)
                .ok_or_else(|| CacheError::Repair(format!("no entity `{kind}` to repair")))?;
            for &id in ids {
                reload.reload(id).await?;
            }
        }
        for pointer in &owed.pointers {
            let key = self.key(format_args!("{pointer}"));
            self.del(&[&key]).await?;
        }
        for tag in &owed.tags {
            self.bump_tag(tag).await?;
        }
        tracing::info!(
            entities = owed.entities.values().map(|ids| ids.len()).sum::<usize>(),
            pointers = owed.pointers.len(),
            overflow = owed.overflow,
            "cache repaired after outage"
        );
        Ok(())
    }

    /// Spawns the prober that closes the breaker again: it pings Redis every breaker interval
    /// while the breaker is open, repairs what is owed, and closes the breaker when nothing is
    /// left.
    pub(crate) fn spawn_prober(&self) {
        if !self.inner.store.as_ref().is_some_and(|s| s.is_shared()) {
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
                let owed = cache.inner.health.take_dirty();
                if !owed.is_empty()
                    && let Err(err) = match cache.repair(&owed).await {
                        Ok(()) => cache.forget_owed(&owed).await,
                        failed => failed,
                    }
                {
                    tracing::debug!(error = %err, "cache repair incomplete; will retry");
                    cache.inner.health.restore(owed);
                    continue;
                }
                cache.inner.health.close_if_clean();
            }
        });
    }
}
