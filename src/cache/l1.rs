//! L1: an in-process copy of Redis entries, kept coherent across instances by Redis itself.
//!
//! A dedicated RESP3 connection runs `CLIENT TRACKING ON BCAST PREFIX <namespace>` on every
//! primary (`tracking`), so Redis pushes the name of every key under our namespace that anyone
//! modifies, expires or evicts. Each push drops the key here before it can be served again. Values are the raw Redis strings,
//! with a slot for their decoded form so a hit does not parse JSON again.
//!
//! *Invariants.*
//! - L1 serves only while the tracking connection is up and tracking is on: when it drops,
//!   reconnects or a push is lost (channel lag), L1 is flushed and bypassed until tracking is
//!   on again. Entries also have a hard maximum age.
//! - A fill never overwrites a newer invalidation: an invalidation leaves a marker with its
//!   sequence number, and a fill whose Redis read started before that number is dropped (the
//!   classic "read, invalidate, then store the old value" race). A marker is an entry like any
//!   other, which a full L1 may evict: each invalidation's number is also kept in a small
//!   fixed table by the key's hash, which a fill finding no slot checks instead (a collision
//!   only drops a fill that was safe).
//! - This process's own writes invalidate their keys here before the mutation returns, so an
//!   instance always reads its own writes.
//! - **Read barrier.** A push can still be on its way (in a socket, or waiting for our listener
//!   task) when another instance's mutation has already returned. So before an L1 hit is
//!   served, the request makes sure a *barrier round* that began after the request began has
//!   completed: a PING to every primary on the tracking connection, whose PONG each sends after
//!   every push it generated before it (RESP3 pushes are in-band and ordered), followed by
//!   applying every push received. Rounds are shared by all requests waiting at the time, so a burst of
//!   requests costs one round trip, not one each; a request pays at most one round, however
//!   many keys it reads. If a round fails, the request reads Redis instead.
use std::{
    sync::{
        Arc, OnceLock,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use moka::{ops::compute::Op, sync::Cache as Moka};
use tokio::{
    sync::{mpsc, oneshot},
    time::Instant,
};

mod checked;
mod counts;
mod fill;
mod tracking;

pub use checked::Checked;
pub use counts::L1Counts;

use super::entry::Entry;

/// How long a request waits for a barrier round before reading Redis instead.
const BARRIER_TIMEOUT: Duration = Duration::from_millis(250);
/// Slots of the table of recent invalidations by key hash (8 bytes each): also what a kept
/// response's keys are checked against (`checked`), so a write touches few others' slots.
const RECENT_SLOTS: usize = 16384;

/// What L1 holds for a key. Both kinds remember the number of the key's last invalidation,
/// so that a slow fill cannot replace a value filled after that invalidation with an older one.
#[derive(Clone)]
enum Slot {
    Value(Arc<Entry>, u64),
    Invalidated(u64),
}

impl Slot {
    fn last_invalidation(&self) -> u64 {
        match self {
            Slot::Value(_, at) | Slot::Invalidated(at) => *at,
        }
    }
}

/// The in-process layer.
pub struct L1 {
    slots: Moka<String, Slot, foldhash::fast::RandomState>,
    /// Bumped by every invalidation and flush; a read remembers it to fence its fill.
    seq: AtomicU64,
    /// How many invalidations and flushes have taken effect (`seq - 1` once all have).
    settled: AtomicU64,
    /// Fills that read before this sequence number are dropped (set by flushes).
    valid_from: AtomicU64,
    /// Moves on once an invalidation or a flush has taken effect (see [`L1::changes`]).
    changes: AtomicU64,
    /// The latest invalidation number of any key hashing to each slot: what a fill checks when
    /// the key's own marker is gone.
    recent: Box<[AtomicU64]>,
    hasher: foldhash::fast::RandomState,
    live: AtomicBool,
    /// Requests for a barrier round, served by the tracking task.
    barrier: OnceLock<mpsc::Sender<oneshot::Sender<bool>>>,
    /// When the last completed barrier round began (nanoseconds since `origin`).
    last_round: AtomicU64,
    origin: Instant,
    /// What it did, for `/metrics`.
    pub counts: L1Counts,
}

/// The sequence number a read saw before going to Redis.
#[derive(Clone, Copy)]
pub struct ReadFence(u64);

impl L1 {
    /// An empty, not yet live L1 of at most `capacity` entries and about `bytes` of keys and
    /// values, none older than `max_age`.
    pub fn new(capacity: u64, bytes: u64, max_age: Duration) -> Self {
        // One weight bounds both: an entry weighs its bytes, but never less than an equal share
        // of the budget, so neither more than `capacity` entries nor more than `bytes` fit.
        let floor = (bytes / capacity.max(1)).max(1);
        let weigh = move |key: &String, slot: &Slot| -> u32 {
            let len = key.len() as u64
                + match slot {
                    Slot::Value(entry, _) => entry.raw().len() as u64,
                    Slot::Invalidated(_) => 0,
                };
            len.max(floor).min(u64::from(u32::MAX)) as u32
        };
        Self {
            slots: Moka::builder()
                .max_capacity(bytes.max(1))
                .weigher(weigh)
                .time_to_live(max_age)
                .build_with_hasher(foldhash::fast::RandomState::default()),
            seq: AtomicU64::new(1),
            settled: AtomicU64::new(0),
            valid_from: AtomicU64::new(0),
            changes: AtomicU64::new(1),
            recent: (0..RECENT_SLOTS).map(|_| AtomicU64::new(0)).collect(),
            hasher: foldhash::fast::RandomState::default(),
            live: AtomicBool::new(false),
            barrier: OnceLock::new(),
            last_round: AtomicU64::new(0),
            origin: Instant::now(),
            counts: L1Counts::default(),
        }
    }

    /// The slot of `key` in the table of recent invalidations.
    fn recent(&self, key: &str) -> &AtomicU64 {
        use std::hash::BuildHasher;
        let slot = self.hasher.hash_one(key) as usize % RECENT_SLOTS;
        &self.recent[slot]
    }

    fn nanos(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.origin).as_nanos() as u64
    }

    /// Whether a barrier round that began after `since` (when the current request began;
    /// `None` outside a request) has completed already (then [`L1::barrier`] returns at once).
    pub fn barrier_passed(&self, since: Option<Instant>) -> bool {
        since.is_some_and(|since| {
            self.last_round.load(Ordering::Acquire) >= self.nanos(since).max(1)
        })
    }

    /// Waits until every invalidation Redis pushed before `since` (when the current request
    /// began) has been applied here. `false` when that cannot be known (tracking down, round
    /// timed out).
    pub async fn barrier(&self, since: Option<Instant>) -> bool {
        // A barrier round that began after the request began covers it.
        if self.barrier_passed(since) {
            return true;
        }
        let Some(tx) = self.barrier.get() else {
            return false;
        };
        let (done_tx, done_rx) = oneshot::channel();
        let round = async { tx.send(done_tx).await.is_ok() && matches!(done_rx.await, Ok(true)) };
        tokio::time::timeout(BARRIER_TIMEOUT, round)
            .await
            .unwrap_or(false)
    }

    /// Whether L1 may serve now.
    pub fn is_live(&self) -> bool {
        self.live.load(Ordering::Acquire)
    }

    /// The entry for `key`, if held and valid. Callers pass the [`L1::barrier`] before serving it.
    pub fn get(&self, key: &str) -> Option<Arc<Entry>> {
        if !self.is_live() {
            return None;
        }
        match self.slots.get(key)? {
            Slot::Value(entry, _) => Some(entry),
            Slot::Invalidated(_) => None,
        }
    }

    /// How many invalidations and flushes have taken effect. While it has not moved, every
    /// entry L1 held stays what its key holds in Redis: a key changes in Redis only with a
    /// push, and a push takes effect here only as an invalidation, counted once its slot is
    /// replaced (so a count read before looking at entries covers what the look saw). Read it
    /// after [`L1::barrier`], as entries are.
    pub fn changes(&self) -> u64 {
        self.changes.load(Ordering::Acquire)
    }

    /// Drops `key`: it changed in Redis (or this process just wrote it).
    pub fn invalidate(&self, key: &str) {
        L1Counts::add(&self.counts.invalidations, 1);
        let at = self.seq.fetch_add(1, Ordering::AcqRel) + 1;
        // Before the marker, which may be evicted as soon as it is in.
        self.recent(key).fetch_max(at, Ordering::AcqRel);
        // Through the same per-key compute as fills, so a fill cannot slip in between.
        self.slots
            .entry(key.to_owned())
            .and_compute_with(|current| match current.map(|c| c.into_value()) {
                Some(slot) if slot.last_invalidation() > at => Op::Nop,
                _ => Op::Put(Slot::Invalidated(at)),
            });
        self.changes.fetch_add(1, Ordering::AcqRel);
        self.settled.fetch_add(1, Ordering::AcqRel);
    }

    /// Drops everything, and every fill that read before now.
    pub fn flush(&self) {
        L1Counts::add(&self.counts.flushes, 1);
        let at = self.seq.fetch_add(1, Ordering::AcqRel) + 1;
        self.valid_from.store(at, Ordering::Release);
        self.slots.invalidate_all();
        self.changes.fetch_add(1, Ordering::AcqRel);
        self.settled.fetch_add(1, Ordering::AcqRel);
    }

    fn apply(&self, pushed: fred::types::client::Invalidation) {
        if pushed.keys.is_empty() {
            self.flush(); // FLUSHDB / FLUSHALL
        }
        for key in pushed.keys {
            if let Some(key) = key.as_str() {
                self.invalidate(key);
            }
        }
    }

    /// Completes a barrier round that began at `began` for everyone `waiting`.
    fn finish_round(&self, began: Instant, ok: bool, waiting: Vec<oneshot::Sender<bool>>) {
        let counter = if ok {
            &self.counts.rounds
        } else {
            &self.counts.failed_rounds
        };
        L1Counts::add(counter, 1);
        if ok {
            self.last_round
                .fetch_max(self.nanos(began), Ordering::AcqRel);
        }
        for done in waiting {
            let _ = done.send(ok);
        }
    }

    fn set_live(&self, live: bool) {
        if !live {
            self.live.store(false, Ordering::Release);
            self.flush();
        } else {
            self.flush();
            self.live.store(true, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests;
