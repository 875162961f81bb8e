//! Login throttling: failed logins are counted per (email, client address) pair, per client
//! address and per email. From `LOGIN_MAX_FAILURES` (a pair), `LOGIN_MAX_FAILURES_PER_CLIENT`
//! (an address, any emails) or `LOGIN_MAX_FAILURES_PER_EMAIL` (an email, any addresses) on, that
//! subject is locked out for a time that doubles with each further failure, up to
//! `LOGIN_LOCKOUT_MAX_SECS`. A locked-out attempt is answered `TOO_MANY_REQUESTS` with
//! `retryAfter` before any password is hashed, whatever the password. The pair locks first, so
//! one client guessing cannot lock the account's owner out; only many addresses can (the
//! per-email bound, set higher).
//!
//! Counts live in Redis, so every instance sees them (see [`crate::cache::Cache::count_failure`]),
//! and in this process too, which decides alone while Redis is down or absent. Hashing itself
//! is bounded: at most `LOGIN_HASH_CONCURRENCY` hashes at once (each takes ~19 MiB), and a login
//! that cannot get a slot within `LOGIN_HASH_WAIT_MS` is refused, so a flood of logins can
//! neither exhaust memory nor starve other requests of CPU.
use std::{
    future::Future,
    net::IpAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures::{future::join_all, join};
use moka::sync::Cache as Moka;
use tokio::sync::Semaphore;

use crate::{
    cache::{Cache, Lockout},
    config::LoginLimits,
    error::{AppError, AppResult},
};

/// The address a request came from (the peer, or a trusted proxy's `X-Forwarded-For`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub Option<IpAddr>);

impl ClientAddr {
    /// What the address is counted as: IPv4 (IPv4-mapped IPv6 included) as is, IPv6 by its
    /// /64, since one host is given a whole /64; `unknown` without an address.
    pub fn label(&self) -> String {
        match self.0.map(|ip| ip.to_canonical()) {
            None => "unknown".into(),
            Some(IpAddr::V4(v4)) => v4.to_string(),
            Some(IpAddr::V6(v6)) => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        }
    }
}

/// Subjects tracked in this process at most; the oldest are forgotten first.
const LOCAL_SUBJECTS: u64 = 100_000;

#[derive(Default)]
struct Local {
    failures: u64,
    locked_until: Option<Instant>,
}

/// The throttle shared by every login.
pub struct LoginThrottle {
    cache: Cache,
    per_pair: Lockout,
    per_client: Lockout,
    per_email: Lockout,
    local: Moka<String, Arc<Mutex<Local>>, foldhash::fast::RandomState>,
    hashing: Semaphore,
    hash_wait: Duration,
}

fn too_many(wait: Duration) -> AppError {
    AppError::TooManyRequests {
        retry_after: wait.as_secs_f64().ceil().max(1.0) as u64,
    }
}

impl LoginThrottle {
    /// A throttle counting in `cache` (Redis when it is the backend) and in this process.
    pub fn new(limits: &LoginLimits, cache: Cache) -> Self {
        let lockout = |threshold| Lockout {
            threshold,
            base: limits.lockout_base,
            max: limits.lockout_max,
        };
        Self {
            cache,
            per_pair: lockout(limits.max_failures),
            per_client: lockout(limits.max_failures_per_client),
            per_email: lockout(limits.max_failures_per_email),
            local: Moka::builder()
                .max_capacity(LOCAL_SUBJECTS)
                .time_to_idle(limits.lockout_max)
                .build_with_hasher(foldhash::fast::RandomState::default()),
            hashing: Semaphore::new(limits.hash_concurrency),
            hash_wait: limits.hash_wait,
        }
    }

    /// Runs `check` (which hashes the password) for a login of `email` from `client`, unless
    /// a subject of it is locked out; counts its failure (`UNAUTHENTICATED`) against every
    /// subject, or clears the pair's and the email's failures on success (not the address's:
    /// one known password must not reset a guesser's count).
    pub async fn attempt<T, Fut>(
        &self,
        email: &str,
        client: ClientAddr,
        check: impl FnOnce() -> Fut,
    ) -> AppResult<T>
    where
        Fut: Future<Output = AppResult<T>>,
    {
        let email_key = email.trim().to_lowercase();
        let email = format!("email:{email_key}");
        let pair = format!("pair:{}\u{0}{email_key}", client.label());
        let client = client.0.map(|_| format!("client:{}", client.label()));
        let subjects: Vec<(&str, &Lockout)> = [
            (pair.as_str(), &self.per_pair),
            (email.as_str(), &self.per_email),
        ]
        .into_iter()
        .chain(client.as_deref().map(|c| (c, &self.per_client)))
        .collect();
        self.refuse_if_locked(&subjects).await?;
        let Ok(Ok(_permit)) = tokio::time::timeout(self.hash_wait, self.hashing.acquire()).await
        else {
            return Err(too_many(Duration::from_secs(1)));
        };
        // Failures that finished while this one waited may have locked it out.
        self.refuse_if_locked(&subjects).await?;
        let result = check().await;
        match &result {
            Err(AppError::Unauthenticated(_)) => {
                join_all(subjects.iter().map(|(s, l)| self.failed(s, l))).await;
            }
            Ok(_) => {
                self.local.invalidate(pair.as_str());
                self.local.invalidate(email.as_str());
                join!(
                    self.cache.forget_failures(&pair),
                    self.cache.forget_failures(&email)
                );
            }
            Err(_) => {}
        }
        result
    }

    async fn refuse_if_locked(&self, subjects: &[(&str, &Lockout)]) -> AppResult<()> {
        let now = Instant::now();
        let mut wait = Duration::ZERO;
        for (subject, _) in subjects {
            if let Some(entry) = self.local.get(*subject) {
                let entry = entry.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(until) = entry.locked_until {
                    wait = wait.max(until.saturating_duration_since(now));
                }
            }
        }
        // One round trip for all subjects (they may live on different cluster nodes).
        let shared = join_all(subjects.iter().map(|(s, _)| self.cache.lockout_left(s))).await;
        for left in shared.into_iter().flatten() {
            wait = wait.max(left);
        }
        if wait.is_zero() {
            Ok(())
        } else {
            Err(too_many(wait))
        }
    }

    async fn failed(&self, subject: &str, lockout: &Lockout) {
        let entry = self.local.get_with(subject.to_owned(), Default::default);
        let local = {
            let mut entry = entry.lock().unwrap_or_else(|p| p.into_inner());
            entry.failures += 1;
            let lock = lockout.after(entry.failures);
            if let Some(lock) = lock {
                entry.locked_until = Some(Instant::now() + lock);
            }
            lock
        };
        let shared = self.cache.count_failure(subject, lockout).await;
        if let Some(lock) = shared.filter(|d| !d.is_zero()).or(local) {
            tracing::warn!(
                subject = subject.split(':').next().unwrap_or_default(),
                lockout_ms = lock.as_millis() as u64,
                "login locked out after repeated failures"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ClientAddr;

    #[test]
    fn addresses_are_counted_by_host() {
        let label = |s: &str| ClientAddr(Some(s.parse().unwrap())).label();
        assert_eq!(label("192.0.2.1"), "192.0.2.1");
        assert_eq!(label("::ffff:192.0.2.1"), "192.0.2.1");
        assert_eq!(label("2001:db8:1:2::1"), label("2001:db8:1:2:ffff::9"));
        assert_ne!(label("2001:db8:1:2::1"), label("2001:db8:1:3::1"));
        assert_eq!(ClientAddr(None).label(), "unknown");
    }
}
