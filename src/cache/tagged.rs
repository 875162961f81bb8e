//! The generic helper any resolver can cache through: get-or-load under a tag, invalidated in
//! O(1) by incrementing the tag's generation (see the tagged-entry invariant in
//! [`super::protocol`]).
use std::{
    future::Future,
    time::{Duration, Instant},
};

use serde::{Serialize, de::DeserializeOwned};

use super::{
    Cache, CacheError, Kind,
    health::Dirty,
    protocol,
    refresh::{self, Refill},
    ttl,
};

impl Cache {
    /// The key of `tag`'s generation.
    pub(super) fn gen_key(&self, tag: &str) -> String {
        self.key(format_args!("{{{tag}}}:gen"))
    }

    /// Get-or-load for any resolver: the value of `name` under `tag`, cached for `ttl` (at
    /// most) and invalidated at once, in O(1), by [`Cache::invalidate_tag`] on that tag.
    /// `load` runs when the entry is missing, stale or the cache is unreachable, once per
    /// key and generation however many requests miss together; its errors are returned as
    /// they are, and never cached. A hit close to expiry may run it in the background to
    /// refresh the entry early ([`super::refresh`]), so it owns what it uses. A loaded value
    /// that `keep` refuses is returned but never stored, by a miss or by a refresh.
    pub async fn tagged<T, E, F, Fut>(
        &self,
        kind: Kind,
        tag: &str,
        name: &str,
        ttl: Option<Duration>,
        keep: impl Fn(&T) -> bool + Send + 'static,
        load: F,
    ) -> Result<T, E>
    where
        T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
        E: Send + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        if !self.is_available() || !is_entry_name(name) {
            self.counted_miss(kind);
            super::request::named(|| tag.to_owned());
            return load().await;
        }
        let key = self.key(format_args!("{{{tag}}}:{name}"));
        let gen_key = self.gen_key(tag);
        // Read the generation *before* loading: see the tagged-entry invariant in `protocol`.
        let generation = match self.read_tagged::<T>(tag, &gen_key, &key).await {
            Ok(Tagged::Hit(value, due)) => {
                self.inner.stats.hit(kind);
                tracing::debug!(key, "cache hit");
                if let Some(generation) = due {
                    let to = Refill {
                        kind,
                        key,
                        generation,
                        ttl,
                    };
                    self.spawn_refresh(None, to, keep, load);
                }
                return Ok(value);
            }
            // Soft-purged: served once more, to the one request that takes the soft mark.
            Ok(Tagged::Stale(value, generation)) => {
                let soft_mark = self.soft_key(tag);
                match self
                    .take_soft_mark(kind, &key, &soft_mark, generation)
                    .await
                {
                    Some(refresh) => {
                        self.inner.stats.hit(kind);
                        super::request::uncacheable();
                        tracing::debug!(key, "cache stale hit, refreshing");
                        if let Some(claimed) = refresh {
                            let to = Refill {
                                kind,
                                key,
                                generation,
                                ttl,
                            };
                            self.spawn_refresh(Some(claimed), to, keep, load);
                        }
                        return Ok(value);
                    }
                    None => generation,
                }
            }
            Ok(Tagged::Miss(generation)) => generation,
            Err(err) => {
                self.failed(kind, &err);
                self.counted_miss(kind);
                super::request::named(|| tag.to_owned());
                return load().await;
            }
        };
        super::request::named(|| tag.to_owned());
        let recheck = || async {
            match self.read_tagged::<T>(tag, &gen_key, &key).await {
                Ok(Tagged::Hit(value, _)) => Some(value),
                _ => None,
            }
        };
        // The load is timed for early refresh (its cost is recorded in the entry).
        let started = Instant::now();
        let key = &key;
        let fill = |value: &T| {
            let json = keep(value).then(|| serde_json::to_string(value));
            async move {
                if let Some(json) = json {
                    self.fill_tagged(kind, key, generation, ttl, started, json)
                        .await;
                }
            }
        };
        // Boxed, as in `EntityCache::get`: hits need not carry the miss path's size.
        Box::pin(self.miss(kind, key, generation, load, Some(recheck), fill)).await
    }

    /// Stores a value (`json`) under `key` stamped with `generation`, with its expiry and how
    /// long it took to load since `started`.
    pub(super) async fn fill_tagged(
        &self,
        kind: Kind,
        key: &str,
        generation: u64,
        ttl: Option<Duration>,
        started: Instant,
        json: serde_json::Result<String>,
    ) {
        let json = match json {
            Ok(json) => json,
            Err(err) => return tracing::warn!(key, error = %err, "value not cacheable"),
        };
        let ttl = ttl::jittered(ttl.unwrap_or(self.inner.default_ttl));
        let expires = refresh::now_ms() + ttl.as_millis() as u64;
        let cost = started.elapsed().as_millis() as u64;
        let entry = protocol::tagged(generation, expires, cost, &json);
        match self.set(key, &entry, ttl).await {
            Ok(()) => tracing::debug!(key, generation, "cache fill"),
            Err(err) => self.failed(kind, &err),
        }
    }

    /// The entry of a tagged key if it carries the tag's current generation (with that
    /// generation if it is due for an early refresh); otherwise that generation (started if
    /// missing), to stamp a fill with.
    async fn read_tagged<T: DeserializeOwned + Clone + Send + Sync + 'static>(
        &self,
        tag: &str,
        gen_key: &str,
        key: &str,
    ) -> Result<Tagged<T>, CacheError> {
        let (generation, entry) = self.mget2(gen_key, key).await?;
        let Some(generation) = generation.and_then(|g| g.raw().parse::<u64>().ok()) else {
            return Ok(Tagged::Miss(self.generation(tag, false).await?));
        };
        if let Some(entry) = entry
            .as_ref()
            .filter(|e| protocol::leading_number(e.raw(), "g") == Some(generation))
        {
            let decoded = entry.decoded(|raw| serde_json::from_str::<T>(protocol::data(raw)?).ok());
            match decoded {
                Some(value) => {
                    // Due by its own draw, or because the kept response this request would
                    // have been served drew it due (see `Responses::keep`).
                    let due = super::request::refresh_wanted()
                        || refresh::expiry(entry.raw())
                            .is_some_and(|(expires, cost)| self.inner.refresh.due(expires, cost));
                    return Ok(Tagged::Hit(T::clone(&value), due.then_some(generation)));
                }
                None => tracing::warn!(key, "undecodable cache entry; reloading"),
            }
        }
        // One generation behind: servable once more if that generation was a soft purge's.
        if let Some(entry) = entry
            .filter(|e| protocol::leading_number(e.raw(), "g").is_some_and(|g| g + 1 == generation))
            && let Some(mark) = self.get(&self.soft_key(tag)).await?
            && mark.raw().parse::<u64>().ok() == Some(generation)
            && let Some(value) =
                entry.decoded(|raw| serde_json::from_str::<T>(protocol::data(raw)?).ok())
        {
            return Ok(Tagged::Stale(T::clone(&value), generation));
        }
        Ok(Tagged::Miss(generation))
    }

    /// Invalidates every entry under `tag` (one increment). Call after the database commit.
    /// If the cache cannot be reached the tag is owed (see [`super::trust`]): bumped by every
    /// instance before it trusts the cache again, and this call returns only when that is sure.
    pub async fn invalidate_tag(&self, tag: &str) {
        if let Err((owed, err)) = self.try_invalidate_tag(tag).await {
            self.owe(owed, &err).await;
        }
    }

    /// [`Cache::invalidate_tag`], returning what is owed instead of recording it.
    pub(crate) async fn try_invalidate_tag(&self, tag: &str) -> Result<(), (Dirty, CacheError)> {
        if !self.has_backend() {
            return Ok(());
        }
        let result = if self.can_write() {
            self.generation(tag, true).await
        } else {
            Err(CacheError::Unavailable)
        };
        match result {
            Ok(generation) => {
                tracing::debug!(tag, generation, "cache invalidate tag");
                Ok(())
            }
            Err(err) => {
                self.inner.stats.error(Kind::LIST);
                let mut owed = Dirty::default();
                owed.tags.insert(tag.to_owned());
                Err((owed, err))
            }
        }
    }

    /// Bumps a tag's generation during repair, without recording it again on failure.
    pub(crate) async fn bump_tag(&self, tag: &str) -> Result<(), CacheError> {
        self.generation(tag, true).await.map(|_| ())
    }
}

/// Whether `name` can name a tagged entry: not the tag's generation (`gen`), not its soft-purge
/// mark (`soft`), not a lease (`…:lease`). Any other name is used as given; a reserved one is
/// loaded, never cached.
fn is_entry_name(name: &str) -> bool {
    let ok = !name.is_empty() && name != "gen" && name != "soft" && !name.ends_with(":lease");
    if !ok {
        tracing::warn!(name, "reserved tagged-entry name: loaded, not cached");
    }
    ok
}

enum Tagged<T> {
    /// The value, and the generation to refresh it under when it is due early.
    Hit(T, Option<u64>),
    /// A soft-purged entry, and the generation its refresh fills under.
    Stale(T, u64),
    Miss(u64),
}
