//! `UserRepo`: every query the service runs against `users`, for SQLite and PostgreSQL alike.
use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, SqlErr,
    sea_query::{Expr, ExprTrait},
};

use super::{
    DbError,
    entity::{ActiveModel, Column, Entity, Model},
    retry,
};

/// The fields of a user to insert; `email` already normalised, `password_hash` already hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub full_name: String,
    pub password_hash: String,
    pub role: String,
    pub is_active: bool,
}

/// The fields to change; `None` leaves a column as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub email: Option<String>,
    pub full_name: Option<String>,
    pub password_hash: Option<String>,
    pub is_active: Option<bool>,
    pub role: Option<String>,
}

/// What [`UserRepo::update`] returns.
#[derive(Debug)]
pub struct Updated {
    /// The row read just before the update, when asked for.
    pub before: Option<Model>,
    /// The row the update left.
    pub after: Model,
}

/// The repository: a cheap clone of the connection pool and a counter of reads.
#[derive(Clone)]
pub struct UserRepo {
    db: DatabaseConnection,
    loads: Arc<AtomicU64>,
}

fn map_write_err(err: DbErr) -> DbError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => DbError::EmailTaken,
        _ => DbError::Db(err),
    }
}

impl UserRepo {
    /// Wraps a connection pool.
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            loads: Arc::default(),
        }
    }

    /// The connection pool, for health checks.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// How many read queries this repository has run (tests count cache misses with it).
    #[cfg(feature = "test-hooks")]
    pub fn loads(&self) -> u64 {
        self.loads.load(Ordering::Relaxed)
    }

    fn count_load(&self) {
        self.loads.fetch_add(1, Ordering::Relaxed);
    }

    /// The user with this id.
    pub async fn find_by_id(&self, id: i64) -> Result<Option<Model>, DbError> {
        self.count_load();
        self.by_id(id).await
    }

    async fn by_id(&self, id: i64) -> Result<Option<Model>, DbError> {
        self.only(Entity::find_by_id(id)).await
    }

    /// The one row of a lookup by a unique column. `.one()` would bind `LIMIT ?`, and SQLite's
    /// planner reads a bound LIMIT, so it re-prepares such a statement every time it is bound
    /// (a profile of `updateUser` showed the re-parse as an eighth of its instructions);
    /// `.all()` returns at most one row here, from a statement prepared once.
    async fn only(&self, select: sea_orm::Select<Entity>) -> Result<Option<Model>, DbError> {
        let rows = retry::read(&self.db, || select.clone().all(&self.db)).await?;
        Ok(rows.into_iter().next())
    }

    /// The users with these ids, in no particular order; missing ids are skipped.
    pub async fn find_by_ids(&self, ids: &[i64]) -> Result<Vec<Model>, DbError> {
        self.count_load();
        let select = Entity::find().filter(Column::Id.is_in(ids.iter().copied()));
        Ok(retry::read(&self.db, || select.clone().all(&self.db)).await?)
    }

    /// The user with this (already lower-cased) email.
    pub async fn find_by_email(&self, email: &str) -> Result<Option<Model>, DbError> {
        self.count_load();
        self.only(Entity::find().filter(Column::Email.eq(email)))
            .await
    }

    /// A page of users ordered by id.
    pub async fn list(&self, skip: u64, limit: u64) -> Result<Vec<Model>, DbError> {
        self.count_load();
        let select = Entity::find()
            .order_by_asc(Column::Id)
            .offset(skip)
            .limit(limit);
        Ok(retry::read(&self.db, || select.clone().all(&self.db)).await?)
    }

    /// Counts of all users, active users and admins.
    pub async fn counts(&self) -> Result<(u64, u64, u64), DbError> {
        self.count_load();
        let counts = retry::read(&self.db, || async {
            let total = Entity::find().count(&self.db).await?;
            let active = Entity::find()
                .filter(Column::IsActive.eq(true))
                .count(&self.db)
                .await?;
            let admins = Entity::find()
                .filter(Column::Role.eq("admin"))
                .count(&self.db)
                .await?;
            Ok((total, active, admins))
        });
        Ok(counts.await?)
    }

    /// Whether any admin exists (for the start-up bootstrap).
    pub async fn any_admin(&self) -> Result<bool, DbError> {
        let n = Entity::find()
            .filter(Column::Role.eq("admin"))
            .limit(1)
            .count(&self.db)
            .await?;
        Ok(n > 0)
    }

    /// Inserts a user at version 1.
    pub async fn insert(&self, user: NewUser) -> Result<Model, DbError> {
        let now = Utc::now();
        ActiveModel {
            email: Set(user.email),
            full_name: Set(user.full_name),
            password_hash: Set(user.password_hash),
            is_active: Set(user.is_active),
            role: Set(user.role),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(map_write_err)
    }

    /// Inserts many users in one transaction (seeding: benchmarks, fixtures).
    pub async fn insert_many(&self, users: Vec<NewUser>) -> Result<(), DbError> {
        use sea_orm::TransactionTrait;
        let now = Utc::now();
        let txn = self.db.begin().await?;
        for chunk in users.chunks(500) {
            let rows = chunk.iter().cloned().map(|u| ActiveModel {
                email: Set(u.email),
                full_name: Set(u.full_name),
                password_hash: Set(u.password_hash),
                is_active: Set(u.is_active),
                role: Set(u.role),
                created_at: Set(now),
                updated_at: Set(now),
                version: Set(1),
                ..Default::default()
            });
            Entity::insert_many(rows)
                .exec(&txn)
                .await
                .map_err(map_write_err)?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Applies `changes` and increments `version` in one statement, so concurrent updates of one
    /// user get distinct, ordered versions. Returns the new row, with the row read just before
    /// the change when `read_before` (another write may come between the two), or `None` when
    /// there is no such user.
    pub async fn update(
        &self,
        id: i64,
        changes: UserChanges,
        read_before: bool,
    ) -> Result<Option<Updated>, DbError> {
        let before = if read_before {
            match self.by_id(id).await? {
                Some(row) => Some(row),
                None => return Ok(None),
            }
        } else {
            None
        };
        let mut update = Entity::update_many()
            .col_expr(Column::Version, Expr::col(Column::Version).add(1))
            .col_expr(Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(Column::Id.eq(id));
        if let Some(email) = changes.email {
            update = update.col_expr(Column::Email, Expr::value(email));
        }
        if let Some(name) = changes.full_name {
            update = update.col_expr(Column::FullName, Expr::value(name));
        }
        if let Some(hash) = changes.password_hash {
            update = update.col_expr(Column::PasswordHash, Expr::value(hash));
        }
        if let Some(active) = changes.is_active {
            update = update.col_expr(Column::IsActive, Expr::value(active));
        }
        if let Some(role) = changes.role {
            update = update.col_expr(Column::Role, Expr::value(role));
        }
        let rows = update
            .exec_with_returning(&self.db)
            .await
            .map_err(map_write_err)?;
        Ok(rows
            .into_iter()
            .next()
            .map(|after| Updated { before, after }))
    }

    /// Deletes a user, returning the deleted row (`None` when there was none).
    pub async fn delete(&self, id: i64) -> Result<Option<Model>, DbError> {
        Ok(Entity::delete_by_id(id)
            .exec_with_returning(&self.db)
            .await?)
    }
}
