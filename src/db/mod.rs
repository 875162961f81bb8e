//! The database: connection, migrations, the `users` entity and the repository over it, and
//! the two tables the cache protocol keeps beside them (`owed`).
//!
//! One repository serves SQLite and PostgreSQL with the same code; nothing here knows how the
//! cache works.
mod entity;
mod owed;
mod repo;
mod retry;

pub use entity::Model as UserRow;
pub use owed::{OWED_PAGE, OwedLog, deployment_id};
pub use repo::{NewUser, Updated, UserChanges, UserRepo};

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

/// How long start-up waits for the database before it says why it cannot reach it.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a PostgreSQL connection must have been idle before the pool pings it on checkout.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

/// Connects to `DATABASE_URL`, creating the SQLite file and its folder when needed (a
/// `sqlite://` URL without `mode=` opens read-write and creates the file, as most users mean).
/// An unreachable server is reported within [`CONNECT_TIMEOUT`], naming the host and the
/// cause, never the credentials.
pub async fn connect(config: &Config) -> Result<DatabaseConnection, DbErr> {
    let described = config.database.describe();
    let url = sqlite_read_write(config.database.url.expose());
    if let Some(path) = sqlite_file_path(&url)
        && let Some(dir) = std::path::Path::new(&path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(|e| {
            DbErr::Custom(format!(
                "cannot create {} for {described}: {e}",
                dir.display()
            ))
        })?;
    }
    if let Some(addr) = config.database.server_addr() {
        // The pool would only say "timed out" after its acquire timeout: ask the network first.
        match tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(&addr)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(DbErr::Custom(format!("cannot reach {described}: {e}"))),
            Err(_) => {
                return Err(DbErr::Custom(format!(
                    "cannot reach {described}: no answer within {} s",
                    CONNECT_TIMEOUT.as_secs()
                )));
            }
        }
    }
    Database::connect(pool_options(&url, config.database.max_connections))
        .await
        .map_err(|e| DbErr::Custom(format!("cannot open {described}: {e}")))
}

/// The pool for `url`: its size, timeouts, and when a connection is checked before use.
///
/// sqlx pings a connection before every checkout unless told otherwise (and again on every
/// return, which cannot be turned off): a round trip per statement that a busy pool need not
/// pay.
fn pool_options(url: &str, max_connections: u32) -> ConnectOptions {
    let mut opt = ConnectOptions::new(url.to_owned());
    opt.max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(CONNECT_TIMEOUT)
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    if url.starts_with("sqlite:") {
        // A SQLite connection is a file opened in this process: a ping before each checkout
        // can find nothing wrong, and costs a round trip through its worker thread (two
        // context switches) on every statement.
        opt.test_before_acquire(false);
        // WAL lets readers run beside the one writer; busy_timeout waits for the write lock
        // instead of failing with SQLITE_BUSY.
        opt.map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
        });
    } else {
        // Ping only a connection idle long enough for a proxy or the server to have dropped it;
        // one in use more recently is handed out as it is, saving a round trip to the
        // server per statement. After a server restart, a statement on a connection that was
        // busy until then fails once and the pool replaces it; reads run again (`retry`).
        opt.test_before_acquire_if_idle_for(IDLE_BEFORE_PING);
    }
    opt
}

/// `url`, with `mode=rwc` added to a SQLite file URL that sets no mode.
fn sqlite_read_write(url: &str) -> String {
    if sqlite_file_path(url).is_none() || url.contains("mode=") {
        return url.to_owned();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}mode=rwc")
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
    fn only_a_connection_idle_for_a_while_is_pinged_before_use() {
        let sqlite = super::pool_options("sqlite://app.db?mode=rwc", 4);
        assert!(!sqlite.get_test_before_acquire());
        assert_eq!(sqlite.get_test_before_acquire_if_idle_for(), None);
        let postgres = super::pool_options("postgres://h/db", 4);
        assert!(!postgres.get_test_before_acquire());
        assert_eq!(
            postgres.get_test_before_acquire_if_idle_for(),
            Some(super::IDLE_BEFORE_PING)
        );
        assert_eq!(postgres.get_max_connections(), Some(4));
    }

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

    #[test]
    fn sqlite_files_open_read_write_unless_told() {
        use super::sqlite_read_write as rw;
        assert_eq!(rw("sqlite://app.db"), "sqlite://app.db?mode=rwc");
        assert_eq!(
            rw("sqlite://app.db?cache=shared"),
            "sqlite://app.db?cache=shared&mode=rwc"
        );
        assert_eq!(rw("sqlite://app.db?mode=ro"), "sqlite://app.db?mode=ro");
        assert_eq!(rw("sqlite::memory:"), "sqlite::memory:");
        assert_eq!(rw("postgres://h/db"), "postgres://h/db");
    }
}
