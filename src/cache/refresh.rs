//! Early refresh (XFetch: Vattani, Chierichetti and Lowenstein, VLDB 2015): a tagged entry
//! (a list, an aggregate) close to its expiry is recomputed in the background by one request,
//! while every request, that one included, keeps being served the entry it found.
//!
//! Each tagged entry records when it expires and how long it took to compute. A hit refreshes
//! it when `now - cost * beta * ln(random) >= expiry`: rarely while the entry is young, more
//! and more often as expiry nears, sooner for entries that are slow to compute. One refresh
//! runs per key in a process (a claim) and across processes (the fill lease); the others go
//! on being served.
//!
//! *Invariant:* a refresh is a fill like any other. It starts from a hit, which read the
//! entry together with its tag's generation, so it loads only after reading that generation
//! and stamps what it loaded with it: a write that commits meanwhile increments the
//! generation, and the refreshed entry is never matched. Only an entry that is current is
//! refreshed; an invalidated one is never served, early or late.
use std::{
    collections::HashSet,
    future::Future,
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use serde::Serialize;

use super::{
    Cache, Kind,
    load::Lease,
    pause::{self, Point},
    store::Store,
};

impl Cache {
    /// Whether this request may serve the soft-purged entry `key`, found one generation behind
    /// `generation`, the one the soft purge marked at `soft_mark`; and if so, the refresh it
    /// runs. The mark is taken (deleted if it still names `generation`) in one step in the
    /// store, so of every request of every instance, under any key of the tag, one serves an
    /// old value per soft purge; the others miss, as after a hard purge. `None`: this one may
    /// not. `Some(None)`: it may, and another request already loads the entry (the fill lease).
    pub(super) async fn take_soft_mark(
        &self,
        kind: Kind,
        key: &str,
        soft_mark: &str,
        generation: u64,
    ) -> Option<Option<Refreshing>> {
        let claim = self.inner.refresh.claim(key)?;
        let store = self.inner.store.as_ref()?;
        match store.delete_if(soft_mark, &generation.to_string()).await {
            Ok(true) => {}
            Ok(false) => return None,
            Err(err) => {
                self.failed(kind, &err);
                return None;
            }
        }
        Some(match self.take_lease(key).await {
            Lease::Busy => None,
            lease => Some(Refreshing {
                _claim: claim,
                lease,
            }),
        })
    }

    /// Refreshes the tagged entry `to.key`, found current under `to.generation`, in the
    /// background: as `claimed` (a soft-purged entry, taken before it was served), or else
    /// unless this process or (through the fill lease) another is refreshing it already (early
    /// refresh). What `load` returns is stored only if `keep` takes it.
    pub(super) fn spawn_refresh<T, E, F, Fut>(
        &self,
        claimed: Option<Refreshing>,
        to: Refill,
        keep: impl Fn(&T) -> bool + Send + 'static,
        load: F,
    ) where
        T: Serialize + Send + 'static,
        E: Send + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        // Claimed here in this process first, so hits racing this one spawn nothing.
        let early = match claimed {
            Some(claimed) => Ok(claimed),
            None => match self.inner.refresh.claim(&to.key) {
                Some(claim) => Err(claim),
                None => return,
            },
        };
        let cache = self.clone();
        tokio::spawn(async move {
            let claimed = match early {
                Ok(claimed) => claimed,
                Err(claim) => match cache.take_lease(&to.key).await {
                    Lease::Busy => return,
                    lease => Refreshing {
                        _claim: claim,
                        lease,
                    },
                },
            };
            cache.refresh(claimed, to, keep, load).await;
        });
    }

    async fn refresh<T, E, F, Fut>(
        &self,
        claimed: Refreshing,
        to: Refill,
        keep: impl Fn(&T) -> bool,
        load: F,
    ) where
        T: Serialize,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let Refill {
            kind,
            key,
            generation,
            ttl,
        } = to;
        let started = Instant::now();
        // A load that hangs gives its claim up: refresh is never stuck for a key.
        if let Ok(Ok(value)) = tokio::time::timeout(REFRESH_LOAD_LIMIT, load()).await {
            pause::maybe_pause(&self.inner.pause, Point::BeforeFill, &key).await;
            if self.is_available() && keep(&value) {
                tracing::debug!(key, generation, "cache refresh");
                let json = serde_json::to_string(&value);
                self.fill_tagged(kind, &key, generation, ttl, started, json)
                    .await;
            }
        }
        if let Lease::Held(token) = &claimed.lease {
            self.release_lease(&key, token).await;
        }
    }
}

/// The entry a refresh fills: its key, the generation it was found current under (the fill is
/// stamped with it), its TTL and the kind its lookups count as.
pub(super) struct Refill {
    pub kind: Kind,
    pub key: String,
    pub generation: u64,
    pub ttl: Option<Duration>,
}

/// A refresh this request has claimed: in this process, and across processes by the lease.
pub(super) struct Refreshing {
    _claim: Claim,
    lease: Lease,
}

/// The longest a refresh's load may take before it is given up.
const REFRESH_LOAD_LIMIT: Duration = Duration::from_secs(30);

/// The early-refresh policy and the keys being refreshed by this process.
pub(crate) struct EarlyRefresh {
    /// XFetch's `beta` (`CACHE_EARLY_REFRESH`): 0 turns early refresh off; larger refreshes
    /// earlier.
    beta: f64,
    running: Arc<Mutex<HashSet<String>>>,
}

/// A key claimed for a refresh; released when dropped.
pub(crate) struct Claim {
    key: String,
    running: Arc<Mutex<HashSet<String>>>,
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.key);
    }
}

impl EarlyRefresh {
    pub(crate) fn new(beta: f64) -> Self {
        Self {
            beta,
            running: Arc::default(),
        }
    }

    /// Whether a hit on an entry expiring at `expires_ms` (milliseconds since the Unix epoch)
    /// that took `cost_ms` to compute should refresh it now.
    pub(crate) fn due(&self, expires_ms: u64, cost_ms: u64) -> bool {
        if self.beta <= 0.0 {
            return false;
        }
        // In (0, 1]: ln of it is <= 0, so the draw moves `now` forward.
        let draw = 1.0 - rand::random::<f64>();
        let early = cost_ms.max(1) as f64 * self.beta * -draw.ln();
        now_ms() as f64 + early >= expires_ms as f64
    }

    /// Whether a kept response built from entries whose earliest recorded expiry and cost are
    /// `soonest` should be passed over once, so that its entries are read (and refreshed).
    pub(crate) fn response_due(&self, soonest: Option<(u64, u64)>) -> bool {
        soonest.is_some_and(|(expires, cost)| self.due(expires, cost))
    }

    /// Claims `key` for a refresh by this process; `None` while one is running.
    pub(crate) fn claim(&self, key: &str) -> Option<Claim> {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        running.insert(key.to_owned()).then(|| Claim {
            key: key.to_owned(),
            running: self.running.clone(),
        })
    }
}

/// The expiry and load cost (ms) a tagged entry records, if it does.
pub(crate) fn expiry(raw: &str) -> Option<(u64, u64)> {
    Some((
        super::protocol::header_number(raw, "x")?,
        super::protocol::header_number(raw, "c")?,
    ))
}

/// Milliseconds since the Unix epoch: entries are shared by every instance, so their expiry is
/// wall-clock time.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refreshes_more_often_as_expiry_nears_and_never_when_off() {
        let xfetch = EarlyRefresh::new(1.0);
        let share = |left_ms: u64| {
            let at = now_ms() + left_ms;
            (0..2000).filter(|_| xfetch.due(at, 100)).count()
        };
        let (far, near) = (share(2_000), share(50));
        assert!(
            far < 20,
            "refreshed {far} of 2000 hits 20 costs before expiry"
        );
        assert!(
            near > 1000,
            "refreshed only {near} of 2000 hits half a cost before expiry"
        );
        assert!(
            xfetch.due(now_ms().saturating_sub(1), 1),
            "an expired entry is due"
        );
        let off = EarlyRefresh::new(0.0);
        assert!(!off.due(now_ms(), 1_000_000));
    }

    #[test]
    fn one_refresh_per_key_at_a_time() {
        let xfetch = EarlyRefresh::new(1.0);
        let claim = xfetch.claim("k").expect("free");
        assert!(xfetch.claim("k").is_none());
        assert!(xfetch.claim("other").is_some());
        drop(claim);
        assert!(xfetch.claim("k").is_some());
    }
}
