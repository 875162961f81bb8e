//! The write side of the entity protocol: write-through after the commit, and the rewrite of an
//! owed entity during repair.
//!
//! *Invariant:* every write-through is a set-if-newer (a tombstone on delete), pointer writes
//! and one generation increment per tag, none of which can make a newer value older however
//! late it lands; what did not land is owed (`Cache::owe`) before the write is acknowledged.
//! A write moves the tags its change touches, and every tag of its kind while another write of
//! the kind is announced (`cache::announce`), so it never leaves that one's tags behind.
use std::{future::Future, pin::Pin};

use super::{EntityCache, Reload, Source, Versioned};
use crate::{
    cache::{Announcement, CacheError, health::Dirty, pause::Point, protocol::TOMBSTONE, ttl},
    db::DbError,
};

/// Runs `write` (a commit and then its write-through) in a task of its own, and waits for it.
/// The request that started it may be dropped at any await (its client went away, a timeout,
/// shutdown): once the commit is made, the write-through still runs, so no entry is left older
/// than the database. Call every commit that has a write-through through this.
///
/// The task is spawned when this is called, and `write` is boxed first: a commit's future is
/// kilobytes (the database driver's state is in it), and tokio moves a future by value through
/// several calls before it rests, where a box moves as a pointer. What the caller awaits holds
/// only the task's handle, so the resolver futures above it do not carry the write's state.
/// Being spawned at the call, the write runs even if the returned future is never polled:
/// await it where it is made.
pub fn durable<T, E>(
    write: impl Future<Output = Result<T, E>> + Send + 'static,
) -> impl Future<Output = Result<T, E>> + Send + 'static
where
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    let task = tokio::spawn(Box::pin(write));
    async move {
        match task.await {
            Ok(result) => result,
            Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
            Err(_) => Err(DbError::Db(sea_orm::DbErr::Custom(
                "the runtime stopped during a write".into(),
            ))
            .into()),
        }
    }
}

impl<E: Versioned, S: Source<E>> EntityCache<E, S> {
    /// After an insert or update has committed: the new entry (set-if-newer), its pointer, the
    /// pointer it no longer has (`old`) removed, and every tag of `E` invalidated. Returns when
    /// the write may be acknowledged (see `cache::trust`). Each retires the announcement it is
    /// given (see `cache::announce`) once its tags moved.
    pub async fn written(&self, announced: Announcement, e: &E, old: Option<&str>) {
        self.settle(announced, e, Some(e), old, E::TAGS, true).await;
    }

    /// After an update from `before` to `after` has committed: as [`EntityCache::written`], but
    /// only the tags the change moves are invalidated ([`Versioned::changed_tags`]), and the
    /// pointer `before` had is removed if it changed.
    pub async fn changed(&self, announced: Announcement, before: &E, after: &E) {
        let old = self
            .pointer
            .as_ref()
            .map(|p| (p.of)(before))
            .filter(|&old| self.pointer.as_ref().is_some_and(|p| (p.of)(after) != old));
        let tags = E::changed_tags(before, after);
        self.settle(announced, after, Some(after), old, tags, true)
            .await;
    }

    /// After an update that set no field a tag or the pointer depends on (the caller knows from
    /// the change it asked for, so the row before it need not be read): only the entry is
    /// written (set-if-newer). The pointer, where there is one, still names it (a missing one
    /// only misses, and the lookup loads from the database), and no list or aggregate moved by
    /// this write (one announced beside it still has its tags moved).
    pub async fn rewritten(&self, announced: Announcement, after: &E) {
        self.settle(announced, after, Some(after), None, &[], false)
            .await;
    }

    /// After a delete has committed: a tombstone (so no late fill brings it back), its pointer
    /// removed, every tag invalidated.
    pub async fn deleted(&self, announced: Announcement, e: &E) {
        self.settle(announced, e, None, None, E::TAGS, true).await;
    }

    /// Retires the announcement of a write that committed nothing.
    pub fn retire(&self, announced: Announcement) {
        self.cache.retire(E::KIND, announced);
    }

    async fn settle(
        &self,
        announced: Announcement,
        e: &E,
        now: Option<&E>,
        old: Option<&str>,
        tags: &'static [&'static str],
        pointer: bool,
    ) {
        let id = e.id();
        self.cache.advance_epoch();
        let key = self.key(id);
        self.cache.pause_at(Point::BeforeWriteThrough, &key).await;
        let current = self
            .pointer
            .as_ref()
            .filter(|_| pointer)
            .map(|p| (p.name, (p.of)(e)));
        let through = async {
            if !self.cache.can_write() {
                return Err(CacheError::Unavailable);
            }
            let ttl = ttl::jittered(self.ttl);
            let entry = match now {
                Some(e) => self.write(&key, e.version(), Some(e), ttl).await.map(drop),
                None => self.write(&key, TOMBSTONE, None, self.ttl).await.map(drop),
            };
            let pointer = async {
                match (current, now) {
                    (Some((name, value)), Some(_)) => {
                        let k = self.pointer_key(name, value);
                        self.cache.set(&k, &id.to_string(), ttl).await
                    }
                    (Some((name, value)), None) => {
                        self.cache.del(&[&self.pointer_key(name, value)]).await
                    }
                    (None, _) => Ok(()),
                }
            };
            let unlink = async {
                match (current, old) {
                    (Some((name, _)), Some(old)) => {
                        self.cache.del(&[&self.pointer_key(name, old)]).await
                    }
                    _ => Ok(()),
                }
            };
            let (pointer, unlink) = tokio::join!(pointer, unlink);
            entry.and(pointer).and(unlink)
        };
        // Another write of this kind may not have moved its tags yet (see `cache::announce`).
        let rest: Vec<_> = E::TAGS.iter().filter(|t| !tags.contains(t)).collect();
        // Boxed: the store's future would otherwise be carried (and moved) inside every settle.
        let others =
            async { !rest.is_empty() && Box::pin(self.cache.announced(E::KIND, &announced)).await };
        // The list invalidation does not wait for the write-through: one round trip, not two.
        let (result, mut failed, others) = tokio::join!(through, self.bump(tags.iter()), others);
        if others {
            failed.extend(self.bump(rest.into_iter()).await);
        }
        let mut owed = Dirty::default();
        let mut cause = None;
        for (tag, err) in failed {
            owed.merge(tag);
            cause = Some(err);
        }
        match result {
            Ok(()) => tracing::debug!(key, "cache write-through"),
            Err(err) if self.cache.has_backend() => {
                tracing::debug!(key, error = %err, "cache write-through failed; repair recorded");
                self.cache.stats().error(self.kinds.0);
                owed.entity(E::KIND, id);
                if let Some((name, value)) = current {
                    owed.pointers.insert(format!("{name}:{value}"));
                }
                if let (Some((name, _)), Some(old)) = (current, old) {
                    owed.pointers.insert(format!("{name}:{old}"));
                }
                cause = Some(err);
            }
            Err(_) => {}
        }
        if let Some(err) = cause {
            self.cache.owe(owed, &err).await;
        }
        // Retired only now that what did not move is owed.
        self.cache.retire(E::KIND, announced);
    }
}

impl<E: Versioned, S: Source<E>> EntityCache<E, S> {
    /// Increments `tags` (together); what failed, to be owed.
    async fn bump(&self, tags: impl Iterator<Item = &&'static str>) -> Vec<(Dirty, CacheError)> {
        let bumps = tags.map(|tag| self.cache.try_invalidate_tag(tag));
        futures::future::join_all(bumps)
            .await
            .into_iter()
            .filter_map(Result::err)
            .collect()
    }
}

impl<E: Versioned, S: Source<E>> Reload for EntityCache<E, S> {
    fn reload(&self, id: i64) -> Pin<Box<dyn Future<Output = Result<(), CacheError>> + Send + '_>> {
        Box::pin(async move {
            let found = self
                .source
                .load(id)
                .await
                .map_err(|e| CacheError::Repair(e.to_string()))?;
            let key = self.key(id);
            match &found {
                Some(e) => {
                    let ttl = ttl::jittered(self.ttl);
                    self.write(&key, e.version(), Some(e), ttl).await?
                }
                None => self.write(&key, TOMBSTONE, None, self.ttl).await?,
            };
            Ok(())
        })
    }
}
