//! Typed settings, read once at start-up from the environment (and `.env`, loaded by `main`).
//!
//! Every variable of the contract is here with its default. A value that does not parse stops
//! start-up with an error naming the variable; secrets are wrapped in [`Secret`] so that neither
//! `Debug` nor a log line can print them.
mod env;
mod limits;

use std::{fmt, net::SocketAddr, time::Duration};

use env::{Env, invalid};
pub use limits::{
    INTROSPECTION_FIELDS, Introspection, LoginLimits, RequestLimits, ServerLimits,
    TYPE_INTROSPECTION_FIELDS,
};

/// A value that must never be logged: `Debug` and `Display` print `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Which cache sits in front of the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheBackendKind {
    /// Redis (or Valkey) through fred: shared by every instance.
    Redis,
    /// An in-process cache: for a single instance only.
    Memory,
    /// No cache: every read goes to the database.
    None,
}

impl CacheBackendKind {
    /// The name used in `CACHE_BACKEND` and reported by `cacheStats.backend`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Redis => "redis",
            Self::Memory => "memory",
            Self::None => "none",
        }
    }
}

/// Everything the server can be configured with.
#[derive(Clone, Debug)]
pub struct Config {
    /// `LISTEN_ADDR`: where the HTTP server listens.
    pub listen_addr: SocketAddr,
    /// `DATABASE_URL`: `sqlite://…` or `postgres://…`.
    pub database_url: Secret,
    /// `DATABASE_MAX_CONNECTIONS`: pool size (SQLite files get at most this many).
    pub database_max_connections: u32,
    /// `REDIS_URL`: `redis://`, `rediss://`, `redis-cluster://` or `redis-sentinel://`.
    pub redis_url: Secret,
    /// `CACHE_BACKEND`: redis, memory or none.
    pub cache_backend: CacheBackendKind,
    /// `CACHE_PREFIX`: every key this server writes starts with it.
    pub cache_prefix: String,
    /// `CACHE_DEFAULT_TTL`: lists and aggregates.
    pub cache_default_ttl: Duration,
    /// `CACHE_USER_TTL`: user entries.
    pub cache_user_ttl: Duration,
    /// `CACHE_TIMEOUT_MS`: how long one Redis command may take before the database answers instead.
    pub cache_timeout: Duration,
    /// `CACHE_WRITE_TIMEOUT_MS`: how long a cache write (write-through, invalidation, fill)
    /// may take before it is given up and its keys are left to repair.
    pub cache_write_timeout: Duration,
    /// `CACHE_POOL_SIZE`: Redis connections per instance.
    pub cache_pool_size: usize,
    /// `CACHE_BREAKER_MS`: after a Redis failure, how long to skip Redis before probing it.
    pub cache_breaker_interval: Duration,
    /// `CACHE_TRUST_MS`: Redis is trusted only within this long of the last read of the
    /// database's owed log; a mutation whose cache write failed is acknowledged this long (+10%)
    /// after it recorded what it owed (see `cache::trust`).
    pub cache_trust_window: Duration,
    /// `CACHE_MEMORY_CAPACITY`: entries kept by the memory backend.
    pub cache_memory_capacity: u64,
    /// `CACHE_PARSED_QUERIES`: reuse parsed and validated documents by query text.
    pub cache_parsed_queries: bool,
    /// `CACHE_RESPONSES`: keep whole responses, invalidated exactly by the entries they read.
    pub cache_responses: bool,
    /// `CACHE_RESPONSES_BYTES`: memory for kept responses.
    pub cache_responses_bytes: u64,
    /// `CACHE_L1`: keep an in-process copy of Redis entries, invalidated by Redis client
    /// tracking (Redis backend only).
    pub cache_l1: bool,
    /// `CACHE_L1_CAPACITY`: entries kept in L1.
    pub cache_l1_capacity: u64,
    /// `CACHE_L1_BYTES`: memory for L1's keys and values.
    pub cache_l1_bytes: u64,
    /// `CACHE_L1_MAX_AGE_MS`: no L1 entry is served older than this, whatever tracking says.
    pub cache_l1_max_age: Duration,
    /// `JWT_SECRET`: HS256 key; `None` means one is generated per start.
    pub jwt_secret: Option<Secret>,
    /// `JWT_TTL`: token lifetime.
    pub jwt_ttl: Duration,
    /// `ADMIN_EMAIL`: the admin created when none exists.
    pub admin_email: String,
    /// `ADMIN_PASSWORD`: its password; `None` means a random one is generated and logged once.
    pub admin_password: Option<Secret>,
    /// What one request may cost (body, depth, complexity, fields, aliases, variables, errors,
    /// introspection).
    pub limits: RequestLimits,
    /// Connection bounds of the HTTP server.
    pub server: ServerLimits,
    /// Login throttling.
    pub login: LoginLimits,
    /// `METRICS_MAX_OPERATIONS`: distinct operation names labelled in `/metrics`; later ones
    /// are counted as `other`.
    pub metrics_max_operations: usize,
    /// `CORS_ALLOWED_ORIGINS`: browser origins allowed to call the API; empty = same-origin only.
    pub cors_allowed_origins: Vec<String>,
}

/// A variable whose value cannot be used; start-up stops with this message.
#[derive(Debug, thiserror::Error)]
#[error("invalid {var}: {reason}")]
pub struct ConfigError {
    /// The environment variable at fault.
    pub var: &'static str,
    /// What is wrong with it (never the value of a secret).
    pub reason: String,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Reads settings through `lookup` (tests pass a map). Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);

        let listen_addr = env
            .get("LISTEN_ADDR")
            .unwrap_or_else(|| "127.0.0.1:8000".into());
        let listen_addr = listen_addr.parse().map_err(|_| {
            invalid(
                "LISTEN_ADDR",
                format!("`{listen_addr}` is not an address like 127.0.0.1:8000"),
            )
        })?;

        let database_url = env
            .get("DATABASE_URL")
            .unwrap_or_else(|| "sqlite://data/app.db?mode=rwc".into());
        check_database_url(&database_url)?;

        let redis_url = env
            .get("REDIS_URL")
            .unwrap_or_else(|| "redis://127.0.0.1:6379".into());
        check_redis_url(&redis_url)?;

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

        let admin_email = env
            .get("ADMIN_EMAIL")
            .unwrap_or_else(|| "admin@example.com".into())
            .to_lowercase();
        if !crate::domain::is_valid_email(&admin_email) {
            return Err(invalid(
                "ADMIN_EMAIL",
                format!("`{admin_email}` is not an email address"),
            ));
        }
        let admin_password = env.get("ADMIN_PASSWORD").map(Secret::new);
        if admin_password
            .as_ref()
            .is_some_and(|p| p.expose().chars().count() < 8)
        {
            return Err(invalid("ADMIN_PASSWORD", "must be at least 8 characters"));
        }

        let jwt_secret = env.get("JWT_SECRET").map(Secret::new);
        if jwt_secret.as_ref().is_some_and(|s| s.expose().len() < 16) {
            return Err(invalid("JWT_SECRET", "must be at least 16 bytes"));
        }

        let cors_allowed_origins = match env.get("CORS_ALLOWED_ORIGINS") {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(|o| {
                    let ok = url::Url::parse(o).is_ok_and(|u| {
                        matches!(u.scheme(), "http" | "https") && u.host().is_some()
                    });
                    if ok {
                        Ok(o.trim_end_matches('/').to_owned())
                    } else {
                        Err(invalid(
                            "CORS_ALLOWED_ORIGINS",
                            format!("`{o}` is not an origin like https://app.example.com"),
                        ))
                    }
                })
                .collect::<Result<_, _>>()?,
        };

        Ok(Self {
            listen_addr,
            database_url: Secret::new(database_url),
            database_max_connections: env.positive("DATABASE_MAX_CONNECTIONS", 10)? as u32,
            redis_url: Secret::new(redis_url),
            cache_backend,
            cache_prefix,
            cache_default_ttl: env.secs("CACHE_DEFAULT_TTL", 300)?,
            cache_user_ttl: env.secs("CACHE_USER_TTL", 600)?,
            cache_timeout: env.millis("CACHE_TIMEOUT_MS", 200)?,
            cache_write_timeout: env.millis("CACHE_WRITE_TIMEOUT_MS", 1000)?,
            cache_pool_size: env.positive("CACHE_POOL_SIZE", 4)?.min(64) as usize,
            cache_breaker_interval: env.millis("CACHE_BREAKER_MS", 1000)?,
            cache_trust_window: Duration::from_millis(
                env.bounded("CACHE_TRUST_MS", 1000, 60_000)?.max(40),
            ),
            cache_memory_capacity: env.positive("CACHE_MEMORY_CAPACITY", 100_000)?,
            cache_l1: env.flag("CACHE_L1", true)?,
            cache_parsed_queries: env.flag("CACHE_PARSED_QUERIES", true)?,
            cache_responses: env.flag("CACHE_RESPONSES", true)?,
            cache_responses_bytes: env.positive("CACHE_RESPONSES_BYTES", 64 << 20)?,
            cache_l1_capacity: env.positive("CACHE_L1_CAPACITY", 100_000)?,
            cache_l1_bytes: env.positive("CACHE_L1_BYTES", 256 << 20)?,
            cache_l1_max_age: Duration::from_millis(env.positive("CACHE_L1_MAX_AGE_MS", 30_000)?),
            jwt_secret,
            jwt_ttl: env.secs("JWT_TTL", 3600)?,
            admin_email,
            admin_password,
            limits: RequestLimits::read(&env)?,
            server: ServerLimits::read(&env)?,
            login: LoginLimits::read(&env)?,
            metrics_max_operations: env.bounded("METRICS_MAX_OPERATIONS", 200, 10_000)? as usize,
            cors_allowed_origins,
        })
    }
}

fn check_database_url(raw: &str) -> Result<(), ConfigError> {
    let scheme = raw.split_once(':').map(|(s, _)| s).unwrap_or_default();
    match scheme {
        "sqlite" => Ok(()),
        "postgres" | "postgresql" => url::Url::parse(raw)
            .map(|_| ())
            .map_err(|e| invalid("DATABASE_URL", format!("not a valid URL ({e})"))),
        _ => Err(invalid(
            "DATABASE_URL",
            "must start with sqlite: or postgres://",
        )),
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

#[cfg(test)]
mod tests;
