//! Keeping what a Redis read returned, fenced against the invalidations and flushes that
//! happened while the read was on its way.
//!
//! *Invariant.* A fill is kept only if no invalidation of its key and no flush took effect
//! after its read began (its fence), so a read that began before a change never stores the
//! value from before it. A flush that happens *while* the fill writes its slot is caught by
//! reading the flush mark once more after the write: a flush (a reconnect, say, after which
//! pushes may have been lost) either empties L1 after the slot was written, or is seen then and
//! the value taken out again.
use std::sync::{Arc, atomic::Ordering};

use moka::ops::compute::Op;

use super::{L1, ReadFence, Slot};
use crate::cache::entry::Entry;

impl L1 {
    /// Call before reading `key` from Redis; pass the fence to [`L1::fill`].
    pub fn fence(&self) -> ReadFence {
        ReadFence(self.seq.load(Ordering::Acquire))
    }

    /// Whether L1 was flushed after `fence`.
    fn flushed_since(&self, fence: ReadFence) -> bool {
        fence.0 < self.valid_from.load(Ordering::Acquire)
    }

    /// Keeps what Redis returned, unless `key` was invalidated (or L1 flushed) since `fence`.
    /// Returns the entry to decode from either way: the one already held when it holds the
    /// same value (so responses built from it stay current, and its decoded form is kept).
    pub fn fill(&self, key: &str, raw: &str, fence: ReadFence) -> Arc<Entry> {
        let entry = Arc::new(Entry::new(raw));
        if !self.is_live() {
            return entry;
        }
        let put = entry.clone();
        let recent = self.recent(key);
        let mut held = None;
        let mut stored = false;
        self.slots
            .entry(key.to_owned())
            .and_compute_with(|current| match current.map(|c| c.into_value()) {
                // Flushed since the read began: pushes may have been lost meanwhile.
                _ if self.flushed_since(fence) => Op::Nop,
                // An invalidation numbered after the fence happened after the read began:
                // what the read returned may be older than what the key holds now.
                Some(slot) if slot.last_invalidation() > fence.0 => Op::Nop,
                // Not invalidated since the read began, and the same value: what L1 holds is
                // what Redis holds (it keeps its age limit).
                Some(Slot::Value(same, _)) if same.raw() == raw => {
                    held = Some(same);
                    Op::Nop
                }
                // No marker (never invalidated, or its marker evicted): the table says whether
                // the key may have been invalidated since the read began.
                None if recent.load(Ordering::Acquire) > fence.0 => Op::Nop,
                current => {
                    stored = true;
                    Op::Put(Slot::Value(
                        put,
                        current.map_or(0, |slot| slot.last_invalidation()),
                    ))
                }
            });
        if stored && self.flushed_since(fence) {
            // A flush began while the slot was written, and may have emptied L1 before it.
            self.slots
                .entry(key.to_owned())
                .and_compute_with(|current| match current.map(|c| c.into_value()) {
                    Some(Slot::Value(now, _)) if Arc::ptr_eq(&now, &entry) => Op::Remove,
                    _ => Op::Nop,
                });
        }
        held.unwrap_or(entry)
    }
}
