//! Typed settings, read once at start-up from the environment (and `.env`, loaded by `main`).
//!
//! Every variable of the contract is here with its default. A value that does not parse stops
//! start-up with an error naming the variable; secrets are wrapped in [`Secret`] so that neither
//! `Debug` nor a log line can print them.
mod cache;
mod env;
mod limits;

pub use cache::CacheSettings;

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
    /// The cache's settings (`CACHE_*`).
    pub cache: CacheSettings,
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
            cache: CacheSettings::read(&env)?,
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
