//! Fresh databases for the benchmark, migrated and seeded through the server's own code.
use std::time::{Duration, Instant};

use cachegraph::{
    config::Config,
    db::{NewUser, UserRepo},
};
use sea_orm::ConnectionTrait;

use crate::args::DbKind;

/// A database of this run: a SQLite file in the run's temp folder, or a PostgreSQL database
/// created on the given server and dropped when this handle is dropped.
pub struct BenchDb {
    pub kind: DbKind,
    pub url: String,
    /// (server URL, database name) of a PostgreSQL database to drop.
    owned_pg: Option<(String, String)>,
}

fn config_for(url: &str) -> Result<Config, String> {
    Config::from_lookup(|key| (key == "DATABASE_URL").then(|| url.to_owned()))
        .map_err(|e| e.to_string())
}

/// `base` with its database (path) replaced by `name`; query parameters are kept.
pub fn with_database(base: &str, name: &str) -> Result<String, String> {
    let scheme_end = base
        .find("://")
        .ok_or_else(|| "the PostgreSQL URL has no scheme".to_string())?
        + 3;
    let (head, rest) = base.split_at(scheme_end);
    let (rest, query) = match rest.find('?') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = match rest.find('/') {
        Some(i) => &rest[..i],
        None => rest,
    };
    if authority.is_empty() {
        return Err("the PostgreSQL URL has no host".into());
    }
    Ok(format!("{head}{authority}/{name}{query}"))
}

/// The URL without its password, for reports.
pub fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!(
                    "{}{user}:***{}",
                    &url[..scheme_end],
                    &url[scheme_end + at..]
                ),
                None => url.to_owned(),
            }
        }
        None => url.to_owned(),
    }
}

impl BenchDb {
    pub fn sqlite(dir: &std::path::Path) -> Self {
        Self {
            kind: DbKind::Sqlite,
            url: format!("sqlite://{}?mode=rwc", dir.join("bench.db").display()),
            owned_pg: None,
        }
    }

    /// Creates `cgbench_<random>` on the server of `base`.
    pub async fn postgres(base: &str) -> Result<Self, String> {
        let name = format!("cgbench_{}", crate::random_token(10).to_lowercase());
        let admin = cachegraph::db::connect(&config_for(base)?)
            .await
            .map_err(|e| format!("connecting to {}: {e}", redact(base)))?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .map_err(|e| format!("CREATE DATABASE {name}: {e}"))?;
        let _ = admin.close().await;
        Ok(Self {
            kind: DbKind::Postgres,
            url: with_database(base, &name)?,
            owned_pg: Some((base.to_owned(), name)),
        })
    }

    /// Migrates and inserts `users` users `user{i}@example.com` / `User {i}` (ids 1..=users),
    /// all with one argon2 hash of one random password, computed once. Returns how long it
    /// took, and the password.
    pub async fn seed(&self, users: u64) -> Result<(Duration, String), String> {
        let started = Instant::now();
        let config = config_for(&self.url)?;
        let conn = cachegraph::db::connect(&config)
            .await
            .map_err(|e| format!("connecting: {e}"))?;
        cachegraph::db::migrate(&conn)
            .await
            .map_err(|e| format!("migrating: {e}"))?;
        let password = format!("bench-{}", crate::random_token(16));
        let hash = cachegraph::auth::password::hash(password.clone())
            .await
            .map_err(|e| format!("hashing: {e}"))?;
        let rows: Vec<NewUser> = (1..=users)
            .map(|i| NewUser {
                email: format!("user{i}@example.com"),
                full_name: format!("User {i}"),
                password_hash: hash.clone(),
                role: "user".into(),
                is_active: true,
            })
            .collect();
        let repo = UserRepo::new(conn.clone());
        repo.insert_many(rows)
            .await
            .map_err(|e| format!("inserting users: {e}"))?;
        // The checks rely on ids 1..=users being user{i}: verify instead of assuming.
        let all = repo
            .list(0, users + 1)
            .await
            .map_err(|e| format!("reading users back: {e}"))?;
        if all.len() as u64 != users {
            return Err(format!(
                "expected {users} users after seeding, found {}",
                all.len()
            ));
        }
        for (i, row) in (1..=users).zip(&all) {
            if row.id != i as i64 || row.email != format!("user{i}@example.com") {
                return Err(format!(
                    "seeded row {i} has id {} and email {}; the benchmark needs ids 1..={users} in order (a fresh database)",
                    row.id, row.email
                ));
            }
        }
        let _ = conn.close().await;
        Ok((started.elapsed(), password))
    }

    /// The database server's version string, for the report.
    pub async fn version(&self) -> Option<String> {
        let conn = cachegraph::db::connect(&config_for(&self.url).ok()?)
            .await
            .ok()?;
        let sql = match self.kind {
            DbKind::Sqlite => "SELECT 'SQLite ' || sqlite_version()",
            DbKind::Postgres => "SELECT version()",
        };
        let row = conn
            .query_one_raw(sea_orm::Statement::from_string(
                conn.get_database_backend(),
                sql,
            ))
            .await
            .ok()??;
        let v: String = row.try_get_by_index(0).ok()?;
        let _ = conn.close().await;
        Some(v)
    }

    /// Drops the PostgreSQL database now (also done on drop).
    pub async fn cleanup(&mut self) {
        if let Some((base, name)) = self.owned_pg.take() {
            drop_pg(&base, &name).await;
        }
    }
}

async fn drop_pg(base: &str, name: &str) {
    let Ok(config) = config_for(base) else {
        return;
    };
    if let Ok(admin) = cachegraph::db::connect(&config).await {
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
        let _ = admin.close().await;
    }
}

impl Drop for BenchDb {
    fn drop(&mut self) {
        let Some((base, name)) = self.owned_pg.take() else {
            return;
        };
        // Drop is synchronous: run the DROP on a runtime of its own, in a thread of its own.
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(drop_pg(&base, &name));
            }
        })
        .join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x").unwrap(),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "x").unwrap(),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgresql://h:5432", "x").unwrap(),
            "postgresql://h:5432/x"
        );
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
