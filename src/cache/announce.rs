//! Announced writes: how a write covers the writes of the same kind still between their commit
//! and their tag increments.
//!
//! A write moves only the tags its own change touches (a rename none); that relies on the writes
//! before it having moved theirs. One of them may still be in flight (held, slow, or about to
//! fail and owe them) when a later write is acknowledged, and a rename acknowledged after an
//! uncounted promotion would leave `userStats` behind a change its own answer shows. So a write
//! that may move a tag *announces* itself before its commit (a token in `writing:{kind}`, a
//! sorted set whose scores say when each lapses) and retires the token once its tags moved.
//! Every write checks, after its own commit, whether another write of its kind is announced,
//! and then moves every tag of the kind too.
//!
//! *Invariant:* when a write is acknowledged, every write of its kind that committed before it
//! has moved its tags, is owed (`health`), or has its tags moved again by this one; except a
//! write that could not announce (it could not reach the cache before its commit: its own
//! increments or owed record cover its readers, not a later writer's, see `docs/consistency.md`).
//! An announcement lapses after [`ANNOUNCEMENT_TTL`] (a writer that died holding one costs the
//! kind's later writes their precision until then, never correctness).
use std::time::Duration;

use super::{Cache, Kind, store::Store};

/// How long an announcement lasts at most: well beyond a write's commit and write-through.
pub const ANNOUNCEMENT_TTL: Duration = Duration::from_secs(300);

/// A write's announcement: retire it (by settling the write, or [`Cache::retire`]) once the
/// write has moved its tags or committed nothing.
#[derive(Debug, Default)]
#[must_use = "an announcement is retired once its write has moved its tags"]
pub struct Announcement {
    token: Option<String>,
}

impl Announcement {
    /// No announcement: for writes that move every tag of their kind themselves.
    pub const NONE: Announcement = Announcement { token: None };
}

impl Cache {
    fn writing_key(&self, kind: &str) -> String {
        self.key(format_args!("writing:{kind}"))
    }

    /// Announces a write of `kind` that may move its tags; call before its commit. Without a
    /// backend, or with one that cannot take it (the breaker open, a failed command), there is
    /// none: see the module for what covers such a write.
    pub async fn announce(&self, kind: &'static str) -> Announcement {
        let Ok(store) = self.store() else {
            return Announcement::NONE;
        };
        if !self.can_write() {
            return Announcement::NONE;
        }
        let token = super::load::random_token();
        match store
            .announce(&self.writing_key(kind), &token, ANNOUNCEMENT_TTL)
            .await
        {
            Ok(()) => Announcement { token: Some(token) },
            Err(err) => {
                tracing::debug!(kind, error = %err, "write not announced");
                self.stats().error(Kind::LIST);
                // It may still land late: take it back rather than leave it to lapse.
                self.retire_token(kind, token);
                Announcement::NONE
            }
        }
    }

    /// Whether a write of `kind` other than `own` is announced. When that cannot be read, the
    /// answer is yes: moving a tag too many is only work.
    pub(crate) async fn announced(&self, kind: &str, own: &Announcement) -> bool {
        let Ok(store) = self.store() else {
            return false;
        };
        // The breaker is open: this write's increments fail at once and are owed; asking would
        // only wait for the timeout.
        if !self.can_write() {
            return true;
        }
        store
            .announced(&self.writing_key(kind), own.token.as_deref())
            .await
            .unwrap_or(true)
    }

    /// Retires `announcement`: its write moved its tags, or committed nothing. In the
    /// background, so that no answer waits on it (a token kept a moment longer only makes other
    /// writes move more tags).
    pub fn retire(&self, kind: &'static str, announcement: Announcement) {
        if let Some(token) = announcement.token {
            self.retire_token(kind, token);
        }
    }

    fn retire_token(&self, kind: &'static str, token: String) {
        let cache = self.clone();
        tokio::spawn(async move {
            let Ok(store) = cache.store() else {
                return;
            };
            if let Err(err) = store.retire(&cache.writing_key(kind), &token).await {
                tracing::debug!(kind, error = %err, "announcement not retired; it lapses");
                cache.stats().error(Kind::LIST);
            }
        });
    }
}
