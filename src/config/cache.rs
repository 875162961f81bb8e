//! The cache's settings: every `CACHE_*` variable, read and checked in one place.
use std::time::Duration;

use super::{
    CacheBackendKind, ConfigError, Secret,
    env::{Env, invalid},
};

/// How the cache is set up.
#[derive(Clone, Debug)]
pub struct CacheSettings {
    /// `CACHE_BACKEND`: redis, memory or none.
    pub backend: CacheBackendKind,
    /// `REDIS_URL`: `redis://`, `rediss://`, `redis-cluster://` or `redis-sentinel://`.
    pub redis_url: Secret,
    /// `CACHE_PREFIX`: every key this server writes starts with it.
    pub prefix: String,
    /// `CACHE_DEFAULT_TTL`: lists and aggregates.
    pub default_ttl: Duration,
    /// `CACHE_USER_TTL`: user entries.
    pub user_ttl: Duration,
    /// `CACHE_TIMEOUT_MS`: how long one Redis command may take before the database answers instead.
    pub timeout: Duration,
    /// `CACHE_WRITE_TIMEOUT_MS`: how long a cache write (write-through, invalidation, fill)
    /// may take before it is given up and its keys are left to repair.
    pub write_timeout: Duration,
    /// `CACHE_POOL_SIZE`: Redis connections per instance.
    pub pool_size: usize,
    /// `CACHE_BREAKER_MS`: after a Redis failure, how long to skip Redis before probing it.
    pub breaker_interval: Duration,
    /// `CACHE_TRUST_MS`: Redis is trusted only within this long of the last read of the
    /// database's owed log; a mutation whose cache write failed is acknowledged this long (+10%)
    /// after it recorded what it owed (see `cache::trust`).
    pub trust_window: Duration,
    /// `CACHE_MEMORY_CAPACITY`: entries kept by the memory backend.
    pub memory_capacity: u64,
    /// `CACHE_PARSED_QUERIES`: reuse parsed and validated documents by query text.
    pub parsed_queries: bool,
    /// `CACHE_RESPONSES`: keep whole responses, invalidated exactly by the entries they read.
    pub responses: bool,
    /// `CACHE_RESPONSES_BYTES`: memory for kept responses.
    pub responses_bytes: u64,
    /// `CACHE_L1`: keep an in-process copy of Redis entries, invalidated by Redis client
    /// tracking (Redis backend only).
    pub l1: bool,
    /// `CACHE_L1_CAPACITY`: entries kept in L1.
    pub l1_capacity: u64,
    /// `CACHE_L1_BYTES`: memory for L1's keys and values.
    pub l1_bytes: u64,
    /// `CACHE_L1_MAX_AGE_MS`: no L1 entry is served older than this, whatever tracking says.
    pub l1_max_age: Duration,
    /// `CACHE_EARLY_REFRESH`: XFetch's `beta` for lists and aggregates (0 or `off`: never
    /// refresh early; 1 is the paper's default; larger refreshes earlier).
    pub early_refresh: f64,
}

impl CacheSettings {
    /// Where Redis is, for logs: the scheme and the hosts of `REDIS_URL`, never its password.
    pub fn describe_redis(&self) -> String {
        describe_redis_url(self.redis_url.expose())
    }

    pub(super) fn read<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let cache_backend = match env.get("CACHE_BACKEND").as_deref() {
            None | Some("redis") => CacheBackendKind::Redis,
            Some("memory") => CacheBackendKind::Memory,
            Some("none") => CacheBackendKind::None,
            Some(other) => {
                return Err(invalid(
                    "CACHE_BACKEND",
                    format!("`{other}` is not one of redis, memory, none"),
                ));
            }
        };

        let cache_prefix = env
            .get("CACHE_PREFIX")
            .unwrap_or_else(|| "cachegraph:".into());
        if cache_prefix.is_empty()
            || cache_prefix.len() > 64
            || cache_prefix.chars().any(char::is_control)
            || cache_prefix.contains(['{', '}'])
        {
            // A brace would make the prefix a cluster hash tag: every key in one slot.
            return Err(invalid(
                "CACHE_PREFIX",
                "must be 1 to 64 printable characters, without `{` or `}`",
            ));
        }

        let redis_url = env
            .get("REDIS_URL")
            .unwrap_or_else(|| "redis://127.0.0.1:6379".into());
        check_redis_url(&redis_url)?;

        Ok(Self {
            backend: cache_backend,
            redis_url: Secret::new(redis_url),
            prefix: cache_prefix,
            default_ttl: env.secs("CACHE_DEFAULT_TTL", 300)?,
            user_ttl: env.secs("CACHE_USER_TTL", 600)?,
            timeout: env.millis("CACHE_TIMEOUT_MS", 200)?,
            write_timeout: env.millis("CACHE_WRITE_TIMEOUT_MS", 1000)?,
            pool_size: env.positive("CACHE_POOL_SIZE", 4)?.min(64) as usize,
            breaker_interval: env.millis("CACHE_BREAKER_MS", 1000)?,
            trust_window: Duration::from_millis(
                env.bounded("CACHE_TRUST_MS", 1000, 60_000)?.max(40),
            ),
            memory_capacity: env.positive("CACHE_MEMORY_CAPACITY", 100_000)?,
            l1: env.flag("CACHE_L1", true)?,
            parsed_queries: env.flag("CACHE_PARSED_QUERIES", true)?,
            responses: env.flag("CACHE_RESPONSES", true)?,
            responses_bytes: env.positive("CACHE_RESPONSES_BYTES", 64 << 20)?,
            l1_capacity: env.positive("CACHE_L1_CAPACITY", 100_000)?,
            l1_bytes: env.positive("CACHE_L1_BYTES", 256 << 20)?,
            l1_max_age: Duration::from_millis(env.positive("CACHE_L1_MAX_AGE_MS", 30_000)?),
            early_refresh: early_refresh(env)?,
        })
    }
}

/// `CACHE_EARLY_REFRESH`: a number from 0 to 10^9, or `off` (0); 1 when unset.
fn early_refresh<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<f64, ConfigError> {
    const VAR: &str = "CACHE_EARLY_REFRESH";
    match env.get(VAR).as_deref() {
        None => Ok(1.0),
        Some("off") => Ok(0.0),
        Some(raw) => match raw.parse::<f64>() {
            Ok(beta) if (0.0..=1e9).contains(&beta) => Ok(beta),
            _ => Err(invalid(
                VAR,
                "must be `off` or a number from 0 to 1000000000",
            )),
        },
    }
}

fn check_redis_url(raw: &str) -> Result<(), ConfigError> {
    let scheme = raw.split_once("://").map(|(s, _)| s).unwrap_or_default();
    if !(scheme.starts_with("redis") || scheme.starts_with("valkey")) {
        return Err(invalid(
            "REDIS_URL",
            "must start with redis://, rediss://, redis-cluster://, redis-sentinel:// or redis+unix://",
        ));
    }
    // fred's own parser decides the rest; its messages never echo the password.
    fred::types::config::Config::from_url(raw)
        .map(|_| ())
        .map_err(|e| {
            invalid(
                "REDIS_URL",
                format!("not a Redis URL fred accepts ({})", e.details()),
            )
        })
}

/// `redis://host:port` (or every host of a cluster or Sentinel URL), without credentials.
pub(crate) fn describe_redis_url(raw: &str) -> String {
    let Some((scheme, rest)) = raw.split_once("://") else {
        return "redis".into();
    };
    // userinfo ends at the last '@' before the path
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let hosts = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let path = &rest[authority_end..];
    let path = path.split('?').next().unwrap_or("");
    format!("{scheme}://{hosts}{path}")
}
