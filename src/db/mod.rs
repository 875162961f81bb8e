//! The database: connection, migrations, the `users` entity and the repository over it, and
//! the two tables the cache protocol keeps beside them (`owed`).
//!
//! One repository serves SQLite and PostgreSQL with the same code; nothing here knows how the
//! cache works.
mod entity;
mod owed;
mod repo;

pub use entity::Model as UserRow;
pub use owed::{OWED_PAGE, OwedLog, deployment_id};
pub use repo::{NewUser, UserChanges, UserRepo};

use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};
use std::time::Duration;

use crate::config::Config;

/// Errors of the database layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The email is used by another user (unique constraint).
    #[error("email already taken")]
    EmailTaken,
    /// Anything else the database said.
    #[error("database error: {0}")]
    Db(#[from] DbErr),
}

/// Connects to `DATABASE_URL`, creating the SQLite file and its folder when needed.
pub async fn connect(config: &Config) -> Result<DatabaseConnection, DbErr> {
    let url = config.database.url.expose();
    if let Some(path) = sqlite_file_path(url)
        && let Some(dir) = std::path::Path::new(&path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", dir.display())))?;
    }
    let mut opt = ConnectOptions::new(url.to_owned());
    opt.max_connections(config.database.max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    if url.starts_with("sqlite:") {
        // WAL lets readers run beside the one writer; busy_timeout waits for the write lock
        // instead of failing with SQLITE_BUSY.
        opt.map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
        });
    }
    Database::connect(opt).await
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    use migration::MigratorTrait;
    migration::Migrator::up(db, None).await
}

/// The file behind a `sqlite://path?…` URL, when it is a file.
fn sqlite_file_path(url: &str) -> Option<String> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.trim_start_matches("//");
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| path.to_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn sqlite_paths() {
        use super::sqlite_file_path as p;
        assert_eq!(
            p("sqlite://data/app.db?mode=rwc").as_deref(),
            Some("data/app.db")
        );
        assert_eq!(p("sqlite:///tmp/x.db").as_deref(), Some("/tmp/x.db"));
        assert_eq!(p("sqlite::memory:"), None);
        assert_eq!(p("postgres://x"), None);
    }
}
