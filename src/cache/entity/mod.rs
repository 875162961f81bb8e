//! The versioned-entity protocol, written once for any entity with an id and a row version:
//! cache-aside reads with single-flight and leases, set-if-newer fills, cached absence,
//! tombstones, checked secondary pointers, write-through after the commit, and repair of what a
//! failed write-through owed (see [`super::protocol`] for the invariants this keeps).
//!
//! An entity opts in by implementing [`Versioned`] (its key, its version, the tags its writes
//! change) and giving a [`Source`] to load it from; users are one such entity
//! (`cache::users`). Keys: `{namespace}{KIND}:{id}` for the entity, `{namespace}{pointer}:{value}`
//! for a pointer.
use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

mod many;
mod write;

pub use write::durable;

use serde::{Serialize, de::DeserializeOwned};

use super::{
    Cache, CacheError, Kind,
    protocol::{self, ABSENT},
    request, ttl,
};
use crate::db::DbError;

/// An entity the cache can hold under the versioned protocol.
pub trait Versioned: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// The first part of its key: `user` gives `user:{id}`.
    const KIND: &'static str;
    /// The tags of every list and aggregate derived from this entity: a create or a delete
    /// changes them all.
    const TAGS: &'static [&'static str];
    /// The tags an update from `before` to `after` changes ([`EntityCache::changed`]): by
    /// default all of them. A list that holds ids (its members read through their own entries,
    /// see [`EntityCache::get_many`]) is not changed by an update; an aggregate only by the
    /// fields it counts.
    fn changed_tags(before: &Self, after: &Self) -> &'static [&'static str] {
        let _ = (before, after);
        Self::TAGS
    }
    /// Its id.
    fn id(&self) -> i64;
    /// Its row version: incremented by the database in the statement of every update.
    fn version(&self) -> u64;
}

/// A secondary key leading to an entity, e.g. `email:{email}` for users. A pointer is a hint,
/// never an answer: the entity it leads to must still have that value, or the lookup misses.
pub struct Pointer<E> {
    /// The first part of its key.
    pub name: &'static str,
    /// The entity's current value for it.
    pub of: fn(&E) -> &str,
}

/// Where entities are loaded from (the database).
pub trait Source<E: Send>: Send + Sync + 'static {
    /// The entity with this id.
    fn load(&self, id: i64) -> impl Future<Output = Result<Option<E>, DbError>> + Send;
    /// The entity whose pointer value is `value`.
    fn load_by(&self, value: &str) -> impl Future<Output = Result<Option<E>, DbError>> + Send;
    /// The entities with these ids, in any order (missing ones left out). By default one
    /// [`Source::load`] after another; a source that can should answer in one query.
    fn load_many(&self, ids: &[i64]) -> impl Future<Output = Result<Vec<E>, DbError>> + Send {
        async move {
            let mut found = Vec::with_capacity(ids.len());
            for &id in ids {
                found.extend(self.load(id).await?);
            }
            Ok(found)
        }
    }
}

/// Rewrites one owed entity from its source (the prober calls it during repair).
pub(crate) trait Reload: Send + Sync {
    fn reload(&self, id: i64) -> Pin<Box<dyn Future<Output = Result<(), CacheError>> + Send + '_>>;
}

/// The cache of one entity type.
pub struct EntityCache<E: Versioned, S: Source<E>> {
    cache: Cache,
    source: S,
    pointer: Option<Pointer<E>>,
    ttl: Duration,
    /// The stats kinds of lookups by id and by pointer.
    kinds: (Kind, Kind),
}

impl<E: Versioned, S: Source<E>> EntityCache<E, S> {
    /// Caches `E` from `source` for `ttl` (jittered), registered with `cache` for repair; its
    /// lookups are counted under `E::KIND` and the pointer's name.
    pub fn new(cache: Cache, source: S, pointer: Option<Pointer<E>>, ttl: Duration) -> Arc<Self> {
        let kinds = (
            cache.kind(E::KIND),
            cache.kind(pointer.as_ref().map_or(E::KIND, |p| p.name)),
        );
        let this = Arc::new(Self {
            cache: cache.clone(),
            source,
            pointer,
            ttl,
            kinds,
        });
        let pointers = this.pointer.iter().map(|p| p.name).collect();
        cache.register(E::KIND, pointers, E::TAGS, this.clone());
        this
    }

    fn key(&self, id: i64) -> String {
        self.cache.key(format_args!("{}:{id}", E::KIND))
    }

    fn pointer_key(&self, name: &str, value: &str) -> String {
        self.cache.key(format_args!("{name}:{value}"))
    }

    /// The entity with this id: cache-aside on `{KIND}:{id}`.
    pub async fn get(&self, id: i64) -> Result<Option<E>, DbError> {
        let kind = self.kinds.0;
        if !self.cache.is_available() {
            self.cache.counted_miss(kind);
            request::named(|| format!("{}:{id}", E::KIND));
            return Box::pin(self.source.load(id)).await;
        }
        let key = self.key(id);
        // Read the fence before the cache: see `Cache::miss`.
        let fence = self.cache.epoch();
        match self.read(&key).await {
            Ok(Some(found)) => {
                self.cache.stats().hit(kind);
                tracing::debug!(key, "cache hit");
                return Ok(found);
            }
            Ok(None) => {}
            Err(err) => {
                self.cache.failed(kind, &err);
                self.cache.counted_miss(kind);
                request::named(|| format!("{}:{id}", E::KIND));
                return Box::pin(self.source.load(id)).await;
            }
        }
        request::named(|| format!("{}:{id}", E::KIND));
        let recheck = || async { self.read(&key).await.ok().flatten() };
        let load = || self.source.load(id);
        let fill = |found: &Option<E>| self.fill(id, found.clone());
        // Boxed, as the database loads above are: the miss path's future is large, and unboxed
        // it would make every future that reads an entity (hits included) that large, copied
        // whenever it moves.
        Box::pin(
            self.cache
                .miss(kind, &key, fence, load, Some(recheck), fill),
        )
        .await
    }

    /// `Some(entity or None)` when the cache holds a well-formed entry for `key`.
    async fn read(&self, key: &str) -> Result<Option<Option<E>>, CacheError> {
        Ok(match self.cache.get(key).await? {
            Some(entry) => {
                let found = entry.decoded(decode::<E>);
                if found.is_none() {
                    tracing::warn!(key, "undecodable cache entry; reloading");
                }
                found.map(|f| Option::clone(&f))
            }
            None => None,
        })
    }

    /// Stores what a read loaded, unless the cache already holds something newer.
    async fn fill(&self, id: i64, found: Option<E>) {
        let (version, ttl) = match &found {
            Some(e) => (e.version(), ttl::jittered(self.ttl)),
            None => (ABSENT, ttl::ABSENT.min(self.ttl)),
        };
        let key = self.key(id);
        match self.write(&key, version, found.as_ref(), ttl).await {
            Ok(true) => tracing::debug!(key, version, "cache fill"),
            Ok(false) => tracing::debug!(key, version, "cache fill dropped: newer entry held"),
            Err(err) => self.cache.failed(self.kinds.0, &err),
        }
    }

    async fn write(
        &self,
        key: &str,
        version: u64,
        found: Option<&E>,
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        let json = match found {
            Some(e) => serde_json::to_string(e).map_err(|e| CacheError::Decode(e.to_string()))?,
            None => "null".to_owned(),
        };
        self.cache
            .set_if_newer(key, version, &protocol::versioned(version, &json), ttl)
            .await
    }

    /// The entity whose pointer is `value`: the pointer, checked against the entity it leads
    /// to. Misses by pointer are not cached.
    pub async fn by_pointer(&self, value: &str) -> Result<Option<E>, DbError> {
        let Some(pointer) = &self.pointer else {
            return Box::pin(self.source.load_by(value)).await;
        };
        let kind = self.kinds.1;
        let key = self.pointer_key(pointer.name, value);
        let fence = self.cache.epoch();
        let mut stale_pointer = false;
        if self.cache.is_available() {
            match self.cache.get(&key).await {
                Ok(Some(found)) => {
                    if let Ok(id) = found.raw().parse::<i64>() {
                        match self.get(id).await? {
                            Some(e) if (pointer.of)(&e) == value => {
                                self.cache.stats().hit(kind);
                                tracing::debug!(key, "cache hit");
                                return Ok(Some(e));
                            }
                            _ => stale_pointer = true,
                        }
                    }
                }
                Ok(None) => {}
                Err(err) => self.cache.failed(kind, &err),
            }
        }
        if !self.cache.is_available() {
            self.cache.counted_miss(kind);
            return Box::pin(self.source.load_by(value)).await;
        }
        let load = || self.source.load_by(value);
        let fill = |found: &Option<E>| {
            let found = found.clone();
            let key = &key;
            async move {
                let result = match found {
                    Some(e) => {
                        let id = e.id();
                        self.fill(id, Some(e)).await;
                        let ttl = ttl::jittered(self.ttl);
                        self.cache.set(key, &id.to_string(), ttl).await
                    }
                    // A pointer that led astray goes.
                    None if stale_pointer => self.cache.del(&[key]).await,
                    None => Ok(()),
                };
                if let Err(err) = result {
                    self.cache.failed(kind, &err);
                }
            }
        };
        // No lease: a pointer cannot be rechecked without the entity's entry.
        let no_lease: Option<NoRecheck<E>> = None;
        Box::pin(self.cache.miss(kind, &key, fence, load, no_lease, fill)).await
    }
}

/// The recheck of a lookup that takes no lease.
type NoRecheck<E> = fn() -> std::future::Ready<Option<Option<E>>>;

/// `Some(entity)` or `Some(None)` (absent or deleted) for a well-formed entry.
fn decode<E: DeserializeOwned>(entry: &str) -> Option<Option<E>> {
    protocol::leading_number(entry, "v")?;
    let data = protocol::data(entry)?;
    if data == "null" {
        return Some(None);
    }
    serde_json::from_str(data).ok().map(Some)
}
