//! The database's settings: `DATABASE_URL` and the pool size.
use super::{
    ConfigError, Secret,
    env::{Env, invalid},
};

/// Where the data lives.
#[derive(Clone, Debug)]
pub struct DatabaseSettings {
    /// `DATABASE_URL`: `sqlite://…` or `postgres://…`.
    pub url: Secret,
    /// `DATABASE_MAX_CONNECTIONS`: pool size (SQLite files get at most this many).
    pub max_connections: u32,
}

impl DatabaseSettings {
    /// What the database is, for logs: `SQLite at data/app.db` or
    /// `PostgreSQL at db.example.com:5432/app`; never the credentials.
    pub fn describe(&self) -> String {
        let raw = self.url.expose();
        match url::Url::parse(raw) {
            Ok(u) if u.scheme().starts_with("postgres") => format!(
                "PostgreSQL at {}:{}{}",
                u.host_str().unwrap_or("localhost"),
                u.port().unwrap_or(5432),
                u.path()
            ),
            _ => {
                let path = raw.trim_start_matches("sqlite:").trim_start_matches("//");
                format!("SQLite at {}", path.split('?').next().unwrap_or(path))
            }
        }
    }

    /// `host:port` of a database server (PostgreSQL), for a reachability check.
    pub fn server_addr(&self) -> Option<String> {
        let u = url::Url::parse(self.url.expose()).ok()?;
        u.scheme().starts_with("postgres").then(|| {
            format!(
                "{}:{}",
                u.host_str().unwrap_or("localhost"),
                u.port().unwrap_or(5432)
            )
        })
    }

    pub(super) fn read<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let url = env
            .get("DATABASE_URL")
            .unwrap_or_else(|| "sqlite://data/app.db?mode=rwc".into());
        check_database_url(&url)?;
        Ok(Self {
            url: Secret::new(url),
            max_connections: env.positive("DATABASE_MAX_CONNECTIONS", 10)? as u32,
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
