//! Trust in Redis across instances: the owed log in the database, read by every instance.
//!
//! A write whose cache update did not land (Redis down, paused, or out of this instance's reach
//! while others still reach it) has to stop *every* instance from serving the entry it failed
//! to replace, not only itself. The one thing all instances share whatever Redis does is the
//! database, so the writer records what it owed there ([`crate::db::OwedLog`]), and every
//! instance reads that log every quarter of `CACHE_TRUST_MS` and treats each row as its own
//! debt: its breaker opens until it has repaired those keys from the database.
//!
//! *Invariant.* An instance uses the cache at time `t` only if a read of the owed log that
//! **began** after `t - CACHE_TRUST_MS` has completed and recorded every row it returned. A
//! writer that recorded a row acknowledges its mutation only `CACHE_TRUST_MS` (+10%) after the
//! row committed. So for any read that starts after the acknowledgement, the log read that lets
//! its instance trust the cache began after the row committed, returned it, and kept the cache
//! closed there until the row's keys were repaired. An instance that cannot read the log stops
//! trusting the cache within `CACHE_TRUST_MS` by itself.
//!
//! The cost: one small query per instance per quarter window (the table is empty while Redis is
//! healthy), and, only for writes whose cache update failed, a later acknowledgement.
use std::{
    collections::HashSet,
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use super::{Cache, CacheError, health::Dirty};
use crate::db::OWED_PAGE;

/// When the last complete read of the owed log began.
pub struct Trust {
    window: Duration,
    origin: Instant,
    /// Nanoseconds since `origin` + 1 at which the last complete read began; 0 for never.
    read_began: AtomicU64,
}

impl Trust {
    /// Trust that lapses `window` after the last read of the log began.
    pub fn new(window: Duration) -> Self {
        Self {
            window,
            origin: Instant::now(),
            read_began: AtomicU64::new(0),
        }
    }

    fn nanos(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.origin).as_nanos() as u64 + 1
    }

    /// Whether a read of the log began within the window. One clock read.
    pub fn fresh(&self) -> bool {
        let began = self.read_began.load(Ordering::Acquire);
        began != 0
            && self.nanos(Instant::now()).saturating_sub(began) < self.window.as_nanos() as u64
    }

    /// How long after recording a row a writer waits before acknowledging its mutation.
    pub fn ack_delay(&self) -> Duration {
        self.window + self.window / 10
    }

    /// How often the log is read.
    pub fn read_interval(&self) -> Duration {
        self.window / 4
    }

    fn mark(&self, began: Instant) {
        self.read_began
            .fetch_max(self.nanos(began), Ordering::AcqRel);
    }
}

impl Cache {
    /// Records what a write could not do in the cache: here (this instance's breaker opens
    /// until it is repaired) and in the database's owed log (every other instance's opens at
    /// its next read of the log), then waits out the trust window before the caller
    /// acknowledges the write (see the module invariant).
    pub(crate) async fn owe(&self, owed: Dirty, err: &CacheError) {
        let inner = &self.inner;
        let log = inner.owed_log.as_ref().zip(inner.trust.as_ref());
        let payload = log.map(|_| serde_json::to_string(&owed));
        inner.health.record_dirty(owed, err);
        let (Some((log, trust)), Some(Ok(payload))) = (log, payload) else {
            return;
        };
        // The database just committed the write: retry briefly rather than lose the record.
        let mut recorded = log.record(&payload).await;
        for backoff_ms in [20, 80, 320] {
            if recorded.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(backoff_ms)).await;
            recorded = log.record(&payload).await;
        }
        match recorded {
            Ok(row) => {
                let mut mine = Dirty::default();
                mine.rows.insert(row);
                inner.health.record_dirty(mine, err);
                tokio::time::sleep(trust.ack_delay()).await;
            }
            Err(db) => {
                inner.stats.error(super::Kind::USER);
                tracing::error!(
                    error = %db,
                    "could not record an owed cache write in the database; other instances may serve the previous value until its TTL"
                );
            }
        }
    }

    /// Reads the owed log once and records every row not seen before as owed here; with more
    /// rows than one page, everything is owed. Then marks the trust window from when the read
    /// began. `seen` carries the rows already recorded between calls.
    pub(crate) async fn read_owed(&self, seen: &mut HashSet<i64>) -> Result<(), sea_orm::DbErr> {
        let (Some(log), Some(trust)) = (&self.inner.owed_log, &self.inner.trust) else {
            return Ok(());
        };
        let began = Instant::now();
        let rows = log.pending().await?;
        let present: HashSet<i64> = rows.iter().map(|(id, _)| *id).collect();
        let mut owed = Dirty::default();
        if rows.len() > OWED_PAGE {
            // Rows beyond the page are unread: clearing everything covers them, and every row
            // up to the last one read goes once that is done.
            owed.overflow = true;
            owed.through = present.iter().copied().max().unwrap_or(0);
        }
        for (id, payload) in rows.into_iter().filter(|(id, _)| !seen.contains(id)) {
            match serde_json::from_str::<Dirty>(&payload) {
                Ok(row) => owed.merge(row),
                Err(_) => owed.overflow = true,
            }
            owed.rows.insert(id);
        }
        if !owed.is_empty() {
            tracing::info!(
                rows = owed.rows.len(),
                "cache writes owed by an instance: repairing before using the cache"
            );
            self.inner
                .health
                .record_dirty(owed, &"cache writes owed in the database");
        }
        *seen = present;
        trust.mark(began);
        Ok(())
    }

    /// Reads the owed log every quarter of the trust window until the process ends.
    pub(crate) fn spawn_owed_reader(&self) {
        let Some(trust) = &self.inner.trust else {
            return;
        };
        let mut every = tokio::time::interval(trust.read_interval());
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let cache = self.clone();
        tokio::spawn(async move {
            let mut seen = HashSet::new();
            loop {
                every.tick().await;
                if let Err(err) = cache.read_owed(&mut seen).await {
                    tracing::debug!(error = %err, "owed cache log unreadable; trust in Redis lapses");
                }
            }
        });
    }

    /// Deletes the log rows a finished repair covered.
    pub(crate) async fn forget_owed(&self, owed: &Dirty) -> Result<(), CacheError> {
        let Some(log) = &self.inner.owed_log else {
            return Ok(());
        };
        let failed = |e: sea_orm::DbErr| CacheError::Repair(e.to_string());
        if owed.overflow && owed.through > 0 {
            log.forget_through(owed.through).await.map_err(failed)?;
        }
        if !owed.rows.is_empty() {
            let rows: Vec<i64> = owed.rows.iter().copied().collect();
            log.forget(&rows).await.map_err(failed)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_lapses_after_the_window() {
        let trust = Trust::new(Duration::from_millis(50));
        assert!(!trust.fresh(), "never read: not trusted");
        trust.mark(Instant::now());
        assert!(trust.fresh());
        trust.mark(Instant::now() - Duration::from_millis(60));
        assert!(trust.fresh(), "an older read never moves the mark back");
        let stale = Trust {
            origin: Instant::now() - Duration::from_secs(1),
            ..Trust::new(Duration::from_millis(50))
        };
        stale.mark(Instant::now() - Duration::from_millis(60));
        assert!(!stale.fresh());
        assert!(trust.ack_delay() > Duration::from_millis(50));
    }
}
