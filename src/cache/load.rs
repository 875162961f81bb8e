//! What a lookup that missed does: load from the database once per key and fence, fill the
//! cache, and keep other processes from loading the same key at the same time.
use std::{future::Future, time::Duration};

use rand::Rng;

use super::{
    Cache, Kind,
    flight::Turn,
    pause::{self, Point},
    store::Store,
};

/// How long a cross-process load lease is held at most.
const LEASE_TTL: Duration = Duration::from_secs(2);
/// How a request that found another process loading waits for its fill before loading itself.
const LEASE_WAITS_MS: [u64; 5] = [2, 4, 8, 16, 32];

impl Cache {
    /// Loads what a lookup missed and fills the cache, with three protections:
    ///
    /// * **Single-flight.** Requests of this process that miss `key` at the same `fence` (the
    ///   tag generation or this process's write epoch they read) share one load.
    ///   A load is never shared with a request that read a later fence, so no request gets a
    ///   value loaded before a write it could have seen.
    /// * **Lease.** With `recheck`, the loader first takes a short lease in Redis; if another
    ///   process holds it, it waits briefly for that process's fill (`recheck`), then loads
    ///   from the database anyway rather than fail.
    /// * **Pause point** [`Point::BeforeFill`] between the load and the fill, for tests.
    pub(crate) async fn miss<T, E, L, LF, R, RF, Fl, FlF>(
        &self,
        kind: Kind,
        key: &str,
        fence: u64,
        load: L,
        recheck: Option<R>,
        fill: Fl,
    ) -> Result<T, E>
    where
        T: Clone + Send + Sync + 'static,
        L: FnOnce() -> LF,
        LF: Future<Output = Result<T, E>>,
        R: Fn() -> RF,
        RF: Future<Output = Option<T>>,
        Fl: FnOnce(&T) -> FlF,
        FlF: Future<Output = ()>,
    {
        let flight_key = format!("{key}@{fence}");
        let leader = match self.inner.flights.join(&flight_key) {
            Turn::Follow(follower) => match follower.wait::<T>().await {
                Some(value) => {
                    self.counted_shared(kind);
                    return Ok(value);
                }
                None => None,
            },
            Turn::Lead(leader) => Some(leader),
        };
        // A leader that missed just before the previous flight filled the key must not load
        // again: look once more before loading.
        if let (Some(recheck), Some(_)) = (&recheck, &leader)
            && let Some(value) = recheck().await
        {
            self.inner.stats.hit(kind);
            if let Some(leader) = leader {
                leader.finish(&value);
            }
            return Ok(value);
        }
        let lease = match &recheck {
            Some(_) => self.take_lease(key).await,
            None => Lease::NotNeeded,
        };
        if let (Lease::Busy, Some(recheck)) = (&lease, &recheck) {
            for ms in LEASE_WAITS_MS {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                if let Some(value) = recheck().await {
                    self.counted_shared(kind);
                    if let Some(leader) = leader {
                        leader.finish(&value);
                    }
                    return Ok(value);
                }
            }
        }
        self.counted_miss(kind);
        tracing::debug!(key, "cache miss");
        let loaded = load().await;
        if let Ok(value) = &loaded {
            pause::maybe_pause(&self.inner.pause, Point::BeforeFill, key).await;
            if self.is_available() {
                fill(value).await;
            }
        }
        if let Lease::Held(token) = &lease {
            self.release_lease(key, token).await;
        }
        let value = loaded?;
        if let Some(leader) = leader {
            leader.finish(&value);
        }
        Ok(value)
    }

    /// Takes the fill lease of `key` (only with a store other processes share).
    pub(super) async fn take_lease(&self, key: &str) -> Lease {
        let Some(store) = self.inner.store.as_ref().filter(|s| s.is_shared()) else {
            return Lease::NotNeeded;
        };
        let token = random_token();
        match store
            .take_lease(&format!("{key}:lease"), &token, LEASE_TTL)
            .await
        {
            Ok(true) => Lease::Held(token),
            Ok(false) => Lease::Busy,
            Err(_) => Lease::NotNeeded,
        }
    }

    pub(super) async fn release_lease(&self, key: &str, token: &str) {
        if let Some(store) = &self.inner.store {
            let _ = store.release_lease(&format!("{key}:lease"), token).await;
        }
    }
}

/// A random token (a lease's holder, an announced write): 64 bits in hex.
pub(super) fn random_token() -> String {
    format!("{:016x}", rand::rng().random::<u64>())
}

/// What taking a fill lease found.
pub(super) enum Lease {
    Held(String),
    Busy,
    NotNeeded,
}
