//! Whether what a kept response was built from is still held, without looking every entry up
//! again after each unrelated write.
//!
//! A kept response is served only while every entry it was built from is still what L1 holds
//! for its key. Looking each one up is a hash-map read per entry; the count of invalidations
//! ([`L1::changes`]) spares it while *nothing* changed, but under writes something always has.
//! So a response also remembers a *mark*: an invalidation number such that every invalidation
//! numbered up to it had fully taken effect before its entries were last all seen held. Each
//! invalidation raises its key's slot of the table of recent invalidations to its number before
//! it takes effect, so while no slot of the response's keys is above the mark (and no flush
//! came after it), no invalidation of its keys has begun since they were seen held: one atomic
//! read per key instead of a lookup.
//!
//! *Invariant.* [`L1::untouched_since`] says yes only if no invalidation or flush numbered
//! after the mark has begun to take effect on those keys. An invalidation that the request must
//! see (a push received before its barrier round's reply) has completed by the time the round
//! does, so its slot is already raised. A change whose push is still on its way (even one a
//! fill from Redis already shows) is concurrent with the request, which may be answered from
//! before it. Two keys sharing a slot only send a response to the full check.
use std::sync::atomic::{AtomicU64, Ordering};

use super::L1;

/// When a kept response's entries were last all seen held: the count of changes then, and a
/// mark (0: none) below which every invalidation had taken effect.
#[derive(Default)]
pub struct Checked {
    changes: AtomicU64,
    mark: AtomicU64,
}

impl Checked {
    /// Whether the entries were all seen held when the count of changes was `changes`.
    pub fn at(&self, changes: u64) -> bool {
        self.changes.load(Ordering::Acquire) == changes
    }

    /// The mark recorded with the last full check (0: none).
    pub fn mark(&self) -> u64 {
        self.mark.load(Ordering::Acquire)
    }

    /// Records that every entry was seen held at `changes` (read before they were looked at)
    /// and, when one was taken before the look, at `mark`.
    pub fn record(&self, changes: u64, mark: Option<u64>) {
        if let Some(mark) = mark {
            self.mark.fetch_max(mark, Ordering::AcqRel);
        }
        self.changes.store(changes, Ordering::Release);
    }
}

impl L1 {
    /// A mark to take just before looking entries up: the number of the latest invalidation,
    /// when every invalidation and flush begun so far has taken effect (`None` while one is
    /// under way: it may land on a key after the look saw it held).
    pub fn quiet_mark(&self) -> Option<u64> {
        // Settled first: if it then equals what was issued, nothing was under way when it was
        // read (settled never passes issued, and issued had not moved in between).
        let settled = self.settled.load(Ordering::Acquire);
        let latest = self.seq.load(Ordering::Acquire);
        (latest == settled + 1).then_some(latest)
    }

    /// Whether no key of `keys` was invalidated, and L1 not flushed, after `mark` (see the
    /// module invariant). `false` for mark 0.
    pub fn untouched_since<'a>(&self, mut keys: impl Iterator<Item = &'a str>, mark: u64) -> bool {
        mark != 0
            && self.valid_from.load(Ordering::Acquire) <= mark
            && keys.all(|key| self.recent(key).load(Ordering::Acquire) <= mark)
    }
}
