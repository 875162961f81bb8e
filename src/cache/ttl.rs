//! How long entries live: one policy for every entry the cache writes.
//!
//! A configured TTL (`CACHE_USER_TTL`, `CACHE_DEFAULT_TTL`, a [`super::policy::Policy`]'s) is
//! the *longest* an entry lives: entries are spread below it by up to 10%, never above, so
//! that entries filled together do not expire together and an operator can read the setting
//! as a bound. What the protocol itself keeps (absence, generations) has fixed lifetimes here.
use std::time::Duration;

use rand::Rng;

/// How long "no entity with this id" is cached (at most the entity's own TTL); a create
/// replaces it at once anyway.
pub(crate) const ABSENT: Duration = Duration::from_secs(15);

/// Generations outlive every entry tagged with them.
pub(crate) const GENERATION: Duration = Duration::from_secs(7 * 24 * 3600);

/// `ttl` shortened at random by up to 10%, never lengthened.
pub(crate) fn jittered(ttl: Duration) -> Duration {
    ttl.mul_f64(rand::rng().random_range(0.9..=1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_only_shortens() {
        let ttl = Duration::from_secs(600);
        let spread: Vec<Duration> = (0..10_000).map(|_| jittered(ttl)).collect();
        assert!(spread.iter().all(|t| *t <= ttl && *t >= ttl.mul_f64(0.9)));
        assert!(
            spread.iter().any(|t| *t < ttl.mul_f64(0.95)),
            "spread, not constant"
        );
    }
}
