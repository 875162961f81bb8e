//! The circuit breaker between the server and Redis, and the record of writes Redis missed.
//!
//! *Invariant:* the cache is used only while the breaker is closed, and the breaker is closed
//! only when no write is waiting for repair. A write that could not reach the cache records the
//! keys it owed ([`Dirty`]) and opens the breaker in the same step; the prober closes it again
//! only after Redis answers *and* every recorded key has been repaired from the database. So
//! after an outage this instance never reads a value that a write made during the outage should
//! have replaced. Requests never wait for a dead Redis: while the breaker is open they skip it.
use std::{
    collections::{BTreeMap, HashSet},
    sync::{
        Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

/// Above this many remembered users, emails or log rows, repair clears every user and email
/// entry and restarts every generation instead.
const MAX_DIRTY: usize = 10_000;

/// The keys that writes during an outage could not update. Serialized, it is the payload of a
/// row of the database's owed log (`db::OwedLog`), which every instance repairs from.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Dirty {
    /// Entities whose entries must be rewritten from the database, by kind (`user`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub entities: BTreeMap<String, HashSet<i64>>,
    /// Pointers to delete, as `{name}:{value}` (`email:a@example.com`).
    #[serde(default, skip_serializing_if = "HashSet::is_empty")]
    pub pointers: HashSet<String>,
    /// Tags whose generation must move on.
    #[serde(default, skip_serializing_if = "HashSet::is_empty")]
    pub tags: HashSet<String>,
    /// Too many keys to remember one by one: clear every entity and pointer entry and restart
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
        self.entities.is_empty()
            && self.pointers.is_empty()
            && self.tags.is_empty()
            && !self.overflow
            && self.rows.is_empty()
    }

    /// Owes the entry of entity `kind` `id`.
    pub fn entity(&mut self, kind: &str, id: i64) {
        self.entities.entry(kind.to_owned()).or_default().insert(id);
    }

    pub(crate) fn merge(&mut self, other: Dirty) {
        for (kind, ids) in other.entities {
            self.entities.entry(kind).or_default().extend(ids);
        }
        self.pointers.extend(other.pointers);
        self.tags.extend(other.tags);
        self.rows.extend(other.rows);
        self.overflow |= other.overflow;
        self.through = self.through.max(other.through);
        let ids: usize = self.entities.values().map(HashSet::len).sum();
        if ids > MAX_DIRTY || self.pointers.len() > MAX_DIRTY {
            self.entities.clear();
            self.pointers.clear();
            self.overflow = true;
        }
        if self.rows.len() > MAX_DIRTY {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dirty_keys_keep_the_breaker_open_until_repaired() {
        let h = Health::default();
        h.close();
        let mut owed = Dirty::default();
        owed.entity("user", 7);
        h.record_dirty(owed, &"boom");
        assert!(!h.is_closed());
        let taken = h.take_dirty();
        assert!(taken.entities["user"].contains(&7));
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
        many.entities
            .insert("user".into(), (0..(MAX_DIRTY as i64 + 1)).collect());
        d.merge(many);
        assert!(d.overflow && d.entities.is_empty());
    }
}
