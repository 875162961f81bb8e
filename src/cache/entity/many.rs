//! Many entities at once, each through its own entry: how a list that caches only ids (a page)
//! is answered, so that an update of one entity changes the pages holding it (their responses
//! read its entry) and not every page.
//!
//! *Invariant:* every entity returned is what its own versioned entry held when read, or a row
//! loaded from the source and then filled with set-if-newer: composing a page from entries is
//! exactly as current as reading each entity by id.
use futures::future::join_all;

use super::{EntityCache, Source, Versioned};
use crate::cache::request;
use crate::db::DbError;

impl<E: Versioned, S: Source<E>> EntityCache<E, S> {
    /// The entities with these ids, in the same order, `None` for an id with no entity. Those
    /// the cache holds come from their entries (all read together); the rest are loaded in one
    /// [`Source::load_many`] and filled.
    pub async fn get_many(&self, ids: &[i64]) -> Result<Vec<Option<E>>, DbError> {
        let kind = self.kinds.0;
        if !self.cache.is_available() {
            // One miss per entity, as one read by id would count it.
            for id in ids {
                self.cache.counted_miss(kind);
                request::named(|| format!("{}:{id}", E::KIND));
            }
            return self.loaded_in_order(ids).await;
        }
        let keys: Vec<String> = ids.iter().map(|&id| self.key(id)).collect();
        let read = join_all(keys.iter().map(|key| self.read(key))).await;
        let mut found = Vec::with_capacity(ids.len());
        let mut missing = Vec::new();
        for (&id, entry) in ids.iter().zip(read) {
            match entry {
                Ok(Some(entity)) => {
                    self.cache.stats().hit(kind);
                    found.push(entity);
                    continue;
                }
                Ok(None) => {}
                Err(err) => self.cache.failed(kind, &err),
            }
            request::named(|| format!("{}:{id}", E::KIND));
            missing.push(id);
            found.push(None);
        }
        if missing.is_empty() {
            return Ok(found);
        }
        for _ in &missing {
            self.cache.counted_miss(kind);
        }
        let loaded = self.source.load_many(&missing).await?;
        self.filled(&loaded).await;
        for slot in ids.iter().zip(found.iter_mut()) {
            if let (&id, slot @ None) = slot {
                *slot = loaded.iter().find(|e| e.id() == id).cloned();
            }
        }
        Ok(found)
    }

    /// Fills the entries of entities just loaded from the source (with a page, say); an entry
    /// already holding a newer version keeps it.
    pub async fn filled(&self, loaded: &[E]) {
        if !self.cache.can_write() {
            return;
        }
        join_all(loaded.iter().map(|e| self.fill(e.id(), Some(e.clone())))).await;
    }

    async fn loaded_in_order(&self, ids: &[i64]) -> Result<Vec<Option<E>>, DbError> {
        let loaded = self.source.load_many(ids).await?;
        Ok(ids
            .iter()
            .map(|&id| loaded.iter().find(|e| e.id() == id).cloned())
            .collect())
    }
}
