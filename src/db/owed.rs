//! What the cache protocol keeps in the database: the deployment id its namespace is derived
//! from, and the log of cache writes that did not land.
//!
//! The database is the one store every instance shares whatever Redis does, so it is where a
//! writer that could not reach Redis leaves word for the others (see `cache::trust`). Payloads
//! are opaque here: the cache layer encodes and decodes them.
use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement, Value};

/// Most rows one read of the log returns; more pending than this is treated as "everything".
pub const OWED_PAGE: usize = 1000;

/// The random id the migration stored for this database.
pub async fn deployment_id(db: &DatabaseConnection) -> Result<String, DbErr> {
    let stmt = Statement::from_string(
        db.get_database_backend(),
        "SELECT value FROM cache_meta WHERE name = 'deployment'",
    );
    let row = db
        .query_one_raw(stmt)
        .await?
        .ok_or_else(|| DbErr::Custom("cache_meta has no deployment id".into()))?;
    row.try_get::<String>("", "value")
}

/// The log of cache writes owed, shared by every instance on this database.
#[derive(Clone)]
pub struct OwedLog {
    db: DatabaseConnection,
}

impl OwedLog {
    /// The log in `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    fn stmt(&self, sql: &str, values: Vec<Value>) -> Statement {
        let backend = self.db.get_database_backend();
        // The same SQL for both backends, but for the placeholders (the fixed statements of
        // this file hold no other `?`).
        let sql = match backend {
            DbBackend::Postgres => {
                let mut n = 0;
                sql.chars()
                    .map(|c| {
                        if c == '?' {
                            n += 1;
                            format!("${n}")
                        } else {
                            c.to_string()
                        }
                    })
                    .collect()
            }
            _ => sql.to_owned(),
        };
        Statement::from_sql_and_values(backend, sql, values)
    }

    /// Appends `owed`; returns its row id.
    pub async fn record(&self, owed: &str) -> Result<i64, DbErr> {
        let stmt = self.stmt(
            "INSERT INTO cache_owed (owed, created_at) VALUES (?, ?) RETURNING id",
            vec![owed.into(), Utc::now().into()],
        );
        let row = self
            .db
            .query_one_raw(stmt)
            .await?
            .ok_or_else(|| DbErr::Custom("INSERT … RETURNING returned no row".into()))?;
        row.try_get::<i64>("", "id")
    }

    /// The oldest pending rows, at most [`OWED_PAGE`] + 1 (one more tells that there are more).
    pub async fn pending(&self) -> Result<Vec<(i64, String)>, DbErr> {
        let stmt = self.stmt(
            &format!(
                "SELECT id, owed FROM cache_owed ORDER BY id LIMIT {}",
                OWED_PAGE + 1
            ),
            vec![],
        );
        super::retry::read(&self.db, || self.db.query_all_raw(stmt.clone()))
            .await?
            .into_iter()
            .map(|row| Ok((row.try_get("", "id")?, row.try_get("", "owed")?)))
            .collect()
    }

    /// Removes every row up to `id` (after a repair that cleared everything).
    pub async fn forget_through(&self, id: i64) -> Result<(), DbErr> {
        let stmt = self.stmt("DELETE FROM cache_owed WHERE id <= ?", vec![id.into()]);
        self.db.execute_raw(stmt).await.map(|_| ())
    }

    /// Removes rows that have been repaired.
    pub async fn forget(&self, ids: &[i64]) -> Result<(), DbErr> {
        for chunk in ids.chunks(500) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let stmt = self.stmt(
                &format!("DELETE FROM cache_owed WHERE id IN ({marks})"),
                chunk.iter().map(|&id| id.into()).collect(),
            );
            self.db.execute_raw(stmt).await?;
        }
        Ok(())
    }
}
