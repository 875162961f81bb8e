//! Typed settings, read once at start-up from the environment (and `.env`, loaded by `main`).
//!
//! Every variable of the contract is here with its default. A value that does not parse stops
//! start-up with an error naming the variable; secrets are wrapped in [`Secret`] so that neither
//! `Debug` nor a log line can print them.
mod auth;
mod cache;
mod database;
mod env;
mod limits;

pub use auth::AuthSettings;
pub use cache::CacheSettings;
pub use database::DatabaseSettings;

use std::{fmt, net::SocketAddr};

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
    /// The database (`DATABASE_*`).
    pub database: DatabaseSettings,
    /// The cache (`REDIS_URL`, `CACHE_*`).
    pub cache: CacheSettings,
    /// Tokens and the first admin (`JWT_*`, `ADMIN_*`).
    pub auth: AuthSettings,
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
    /// `LOG_REQUESTS`: `info` (one line per request), `debug` or `off`.
    pub log_requests: crate::telemetry::RequestLog,
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
            database: DatabaseSettings::read(&env)?,
            cache: CacheSettings::read(&env)?,
            auth: AuthSettings::read(&env)?,
            limits: RequestLimits::read(&env)?,
            server: ServerLimits::read(&env)?,
            login: LoginLimits::read(&env)?,
            metrics_max_operations: env.bounded("METRICS_MAX_OPERATIONS", 200, 10_000)? as usize,
            log_requests: match env.get("LOG_REQUESTS").as_deref() {
                None | Some("info") => crate::telemetry::RequestLog::Info,
                Some("debug") => crate::telemetry::RequestLog::Debug,
                Some("off") => crate::telemetry::RequestLog::Off,
                Some(other) => {
                    return Err(invalid(
                        "LOG_REQUESTS",
                        format!("`{other}` is not one of info, debug, off"),
                    ));
                }
            },
            cors_allowed_origins,
        })
    }
}

#[cfg(test)]
mod tests;
