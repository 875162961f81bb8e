//! Failure counters with lockouts, shared by every instance through Redis (login throttling,
//! [`crate::auth::LoginThrottle`]).
//!
//! A subject (an email, a client address) has a failure count remembered for `remember`
//! after its last failure, and from the `threshold`-th failure on a lock key whose TTL is the
//! lockout: `base`, doubled by each further failure, at most `max`. Both keys share a hash tag,
//! so the script runs on one node of a cluster. Keys name a digest of the subject, never the
//! email itself.
//!
//! *Invariant:* counting and locking are one script, so concurrent failures on several
//! instances each see a distinct count and the longest lockout wins.
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::{Cache, CacheError, store::Store};

/// KEYS[1] the count, KEYS[2] the lock; ARGV: remember ms, threshold, base ms, max ms.
/// Returns the lockout in ms now in force (0 when none).
pub(super) const FAIL: &str = r#"
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
local over = n - tonumber(ARGV[2])
if over < 0 then return 0 end
local ms = tonumber(ARGV[3]) * (2 ^ math.min(over, 40))
if ms > tonumber(ARGV[4]) then ms = tonumber(ARGV[4]) end
ms = math.floor(ms)
if redis.call('PTTL', KEYS[2]) < ms then redis.call('SET', KEYS[2], '1', 'PX', ms) end
return ms
"#;

/// How failures turn into lockouts.
#[derive(Clone, Copy, Debug)]
pub struct Lockout {
    /// Failures before the first lockout.
    pub threshold: u64,
    /// The first lockout.
    pub base: Duration,
    /// The longest; failures are remembered this long after the last one.
    pub max: Duration,
}

impl Lockout {
    /// The lockout after `failures` failures, if any.
    pub fn after(&self, failures: u64) -> Option<Duration> {
        let over = failures.checked_sub(self.threshold)?;
        let factor = 1u32.checked_shl(over.min(31) as u32).unwrap_or(u32::MAX);
        Some(self.base.saturating_mul(factor).min(self.max))
    }
}

/// The two keys of `subject` (e.g. `email:a@b.co`) under `prefix`.
fn keys(prefix: &str, subject: &str) -> (String, String) {
    let digest = Sha256::digest(subject.as_bytes());
    let tag: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    let count = format!("{prefix}throttle:{{{tag}}}");
    let lock = format!("{count}:lock");
    (count, lock)
}

impl Cache {
    fn shared_counters(&self) -> Option<&super::store::RedisBackend> {
        self.inner
            .store
            .as_ref()
            .and_then(|s| s.redis())
            .filter(|_| self.is_available())
    }

    /// The lockout left for `subject` in Redis; `None` without Redis (or when it fails: the
    /// caller's in-process count decides then).
    pub async fn lockout_left(&self, subject: &str) -> Option<Duration> {
        let redis = self.shared_counters()?;
        let (_, lock) = keys(&self.inner.prefix, subject);
        let ms = redis.pttl(&lock).await;
        match ms {
            Ok(ms) if ms > 0 => Some(Duration::from_millis(ms as u64)),
            Ok(_) => Some(Duration::ZERO),
            Err(err) => {
                tracing::debug!(error = %err, "throttle: redis read failed");
                None
            }
        }
    }

    /// Counts a failure of `subject` in Redis; returns the lockout now in force, `None`
    /// without Redis or when it fails.
    pub async fn count_failure(&self, subject: &str, lockout: &Lockout) -> Option<Duration> {
        let redis = self.shared_counters()?;
        let (count, lock) = keys(&self.inner.prefix, subject);
        let args = vec![
            lockout.max.as_millis().max(1).to_string(),
            lockout.threshold.to_string(),
            lockout.base.as_millis().max(1).to_string(),
            lockout.max.as_millis().max(1).to_string(),
        ];
        let ms: Result<i64, CacheError> = redis
            .script_on(&self.inner.count_failure, vec![&count, &lock], args)
            .await;
        match ms {
            Ok(ms) => Some(Duration::from_millis(ms.max(0) as u64)),
            Err(err) => {
                tracing::debug!(error = %err, "throttle: redis write failed");
                None
            }
        }
    }

    /// Forgets the failures of `subject` (a successful login).
    pub async fn forget_failures(&self, subject: &str) {
        if let Some(redis) = self.shared_counters() {
            let (count, lock) = keys(&self.inner.prefix, subject);
            if let Err(err) = redis.delete(&[&count, &lock]).await {
                tracing::debug!(error = %err, "throttle: redis delete failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockouts_double_up_to_the_maximum() {
        let l = Lockout {
            threshold: 3,
            base: Duration::from_secs(1),
            max: Duration::from_secs(10),
        };
        assert_eq!(l.after(2), None);
        assert_eq!(l.after(3), Some(Duration::from_secs(1)));
        assert_eq!(l.after(4), Some(Duration::from_secs(2)));
        assert_eq!(l.after(6), Some(Duration::from_secs(8)));
        assert_eq!(l.after(7), Some(Duration::from_secs(10)));
        assert_eq!(l.after(500), Some(Duration::from_secs(10)));
    }

    #[test]
    fn keys_share_a_hash_tag_and_hide_the_subject() {
        let (count, lock) = keys("p:", "email:a@b.co");
        assert!(count.starts_with("p:throttle:{") && lock.starts_with(&count));
        assert!(!count.contains("a@b.co"));
    }
}
