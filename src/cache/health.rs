//! The circuit breaker between the server and Redis, and the record of writes Redis missed.
//!
//! *Invariant:* the cache is used only while the breaker is closed, and the breaker is closed
//! only when no write is waiting for repair. A write that could not reach the cache records the
//! keys it owed ([`Dirty`]) and opens the breaker in the same step; the prober closes it again
//! only after Redis answers *and* every recorded key has been repaired from the database. So
//! after an outage this instance never reads a value that a write made during the outage should
//! have replaced. Requests never wait for a dead Redis: while the breaker is open they skip it.
use std::{
    collections::HashSet,
    sync::{
        Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use std::{future::Future, sync::Arc};

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

/// Above this many remembered users, emails or log rows, repair clears every user and email
/// entry and restarts every generation instead.
const MAX_DIRTY_USERS: usize = 10_000;

/// The keys that writes during an outage could not update. Serialized, it is the payload of a
/// row of the database's owed log (`db::OwedLog`), which every instance repairs from.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Dirty {
    /// Users whose entries must be rewritten from the database.
    #[serde(default, skip_serializing_if = "HashSet::is_empty")]
    pub users: HashSet<i64>,
    /// Email pointers to delete.
    #[serde(default, skip_serializing_if = "HashSet::is_empty")]
    pub emails: HashSet<String>,
    /// Tags whose generation must move on.
    #[serde(default, skip_serializing_if = "HashSet::is_empty")]
    pub tags: HashSet<String>,
    /// Too many keys to remember one by one: clear every user and email entry and restart
    /// every tag's generation.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub overflow: bool,
    /// Rows of the owed log this repair covers, deleted from it once the repair is done.
    #[serde(skip)]
    pub rows: HashSet<i64>,
    /// With `overflow`: every row of the owed log up to this id is covered too.
    #[serde(skip)]
    pub through: i64,
}

impl Dirty {
    /// Whether nothing waits for repair.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
            && self.emails.is_empty()
            && self.tags.is_empty()
            && !self.overflow
            && self.rows.is_empty()
    }

    pub(crate) fn merge(&mut self, other: Dirty) {
        self.users.extend(other.users);
        self.emails.extend(other.emails);
        self.tags.extend(other.tags);
        self.rows.extend(other.rows);
        self.overflow |= other.overflow;
        self.through = self.through.max(other.through);
        if self.users.len() > MAX_DIRTY_USERS || self.emails.len() > MAX_DIRTY_USERS {
            self.users.clear();
            self.emails.clear();
            self.overflow = true;
        }
        if self.rows.len() > MAX_DIRTY_USERS {
            self.through = self.rows.drain().fold(self.through, i64::max);
            self.overflow = true;
        }
    }
}

/// Breaker state shared by every request of this instance.
#[derive(Default)]
pub struct Health {
    closed: AtomicBool,
    wake: Notify,
    dirty: Mutex<Dirty>,
}

impl Health {
    /// Whether requests may use the cache now. One atomic load.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Marks the cache usable (start-up, with nothing dirty yet).
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    /// Opens the breaker after a failure; logs only on the change of state.
    pub fn trip(&self, cause: &dyn std::fmt::Display) {
        if self.closed.swap(false, Ordering::AcqRel) {
            tracing::warn!(error = %cause, "cache unreachable: serving from the database until it answers again");
            self.wake.notify_one();
        }
    }

    /// Opens the breaker without a failure to report (e.g. Redis unreachable at start).
    pub fn open_quietly(&self) {
        self.closed.store(false, Ordering::Release);
        self.wake.notify_one();
    }

    /// Records keys a write could not update, and opens the breaker until they are repaired.
    pub fn record_dirty(&self, owed: Dirty, cause: &dyn std::fmt::Display) {
        let mut dirty = self.dirty.lock().unwrap_or_else(|p| p.into_inner());
        dirty.merge(owed);
        self.trip(cause);
    }

    /// Waits until the breaker has been opened (by [`Health::trip`] or
    /// [`Health::open_quietly`]); returns at once if it is open.
    pub async fn opened(&self) {
        while self.is_closed() {
            self.wake.notified().await;
        }
    }

    /// Takes what needs repair; give it back with [`Health::restore`] if repair fails.
    pub fn take_dirty(&self) -> Dirty {
        std::mem::take(&mut *self.dirty.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Puts back what could not be repaired.
    pub fn restore(&self, owed: Dirty) {
        self.dirty
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .merge(owed);
    }

    /// Closes the breaker if nothing was recorded since the last [`Health::take_dirty`];
    /// returns whether it did. Holding the lock makes "nothing dirty" and "closed" one step.
    pub fn close_if_clean(&self) -> bool {
        let dirty = self.dirty.lock().unwrap_or_else(|p| p.into_inner());
        if dirty.is_empty() {
            self.closed.store(true, Ordering::Release);
            tracing::info!("cache reachable again");
            true
        } else {
            false
        }
    }
}

impl super::Cache {
    /// Spawns the prober that closes the breaker again: it pings Redis every breaker interval
    /// while the breaker is open, runs `repair`, and closes the breaker when nothing is left.
    pub(crate) fn spawn_prober<R, Fut>(&self, repair: R)
    where
        R: Fn(Arc<Dirty>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), super::CacheError>> + Send,
    {
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
                let owed = Arc::new(cache.inner.health.take_dirty());
                if !owed.is_empty()
                    && let Err(err) = match repair(owed.clone()).await {
                        Ok(()) => cache.forget_owed(&owed).await,
                        failed => failed,
                    }
                {
                    // Repair is idempotent: all of it is retried at the next probe.
                    tracing::debug!(error = %err, "cache repair incomplete; will retry");
                    cache.inner.health.restore(Arc::unwrap_or_clone(owed));
                    continue;
                }
                cache.inner.health.close_if_clean();
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dirty_keys_keep_the_breaker_open_until_repaired() {
        let h = Health::default();
        h.close();
        let mut owed = Dirty::default();
        owed.users.insert(7);
        h.record_dirty(owed, &"boom");
        assert!(!h.is_closed());
        let taken = h.take_dirty();
        assert!(taken.users.contains(&7));
        let mut late = Dirty::default();
        late.tags.insert("users".into());
        h.record_dirty(late, &"boom");
        assert!(
            !h.close_if_clean(),
            "a write recorded during repair keeps it open"
        );
        let _ = h.take_dirty();
        assert!(h.close_if_clean());
        assert!(h.is_closed());
    }

    #[test]
    fn too_many_users_overflow() {
        let mut d = Dirty::default();
        let mut many = Dirty::default();
        many.users.extend(0..(MAX_DIRTY_USERS as i64 + 1));
        d.merge(many);
        assert!(d.overflow && d.users.is_empty());
    }
}
