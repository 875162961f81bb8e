//! Reads tried again when the database dropped the connection they ran on (a PostgreSQL
//! restart or failover, `pg_terminate_backend`, a proxy timing out).
//!
//! The pool pings a PostgreSQL connection before handing it out only after a second idle
//! (`IDLE_BEFORE_PING`), so a connection busy until the database dropped it fails its next
//! statement. A statement that changes nothing is simply run again on another connection.
//!
//! *Invariant:* only reads are retried (an insert or delete whose reply was lost may have
//! committed, and running it again would answer "taken" or "not found" for what succeeded),
//! and only on errors that say the connection is gone. Each failed attempt's connection is
//! closed by the pool on its return (its ping fails), so after `max_connections` failures in a
//! row the next attempt is on a new connection: a read fails only if the database itself is
//! unreachable.
use std::future::Future;

use sea_orm::{DatabaseConnection, DbBackend, DbErr, RuntimeErr, sqlx};

/// Runs `read`, again while it fails because its connection was dropped, on at most as many
/// further connections as `db`'s pool holds.
pub(super) async fn read<T, F, Fut>(db: &DatabaseConnection, mut read: F) -> Result<T, DbErr>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, DbErr>>,
{
    let mut retries = match db.get_database_backend() {
        DbBackend::Postgres => db
            .get_postgres_connection_pool()
            .options()
            .get_max_connections(),
        // An in-process file has no connection to lose.
        _ => 0,
    };
    loop {
        match read().await {
            Err(err) if retries > 0 && connection_lost(&err) => {
                retries -= 1;
                tracing::debug!(error = %err, "database connection lost; reading again");
            }
            done => return done,
        }
    }
}

/// Whether `err` says the connection is gone rather than that the statement failed: an I/O
/// error, or PostgreSQL's class 08 (connection exception) or 57P (shutdown, crash, restart).
pub fn connection_lost(err: &DbErr) -> bool {
    let (DbErr::Conn(RuntimeErr::SqlxError(e))
    | DbErr::Exec(RuntimeErr::SqlxError(e))
    | DbErr::Query(RuntimeErr::SqlxError(e))) = err
    else {
        return false;
    };
    match e.as_ref() {
        sqlx::Error::Io(_) => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn sqlx_err(e: sqlx::Error) -> DbErr {
        DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)))
    }

    #[test]
    fn only_a_lost_connection_counts() {
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert!(connection_lost(&sqlx_err(sqlx::Error::Io(reset))));
        assert!(!connection_lost(&sqlx_err(sqlx::Error::RowNotFound)));
        assert!(!connection_lost(&DbErr::Custom("io".into())));
        assert!(!connection_lost(&DbErr::RecordNotFound("x".into())));
    }
}
