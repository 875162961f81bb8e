//! The `users` table as a SeaORM entity. Only the repository touches it; the rest of the code
//! sees [`crate::domain::User`], which has no password hash.
use sea_orm::entity::prelude::*;

/// One row of `users`.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub email: String,
    pub full_name: String,
    pub password_hash: String,
    pub is_active: bool,
    pub role: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// 1 at insert, +1 in the statement of every update: the cache orders writes by it.
    pub version: i64,
}

impl ActiveModelBehavior for ActiveModel {}

/// A row as the API and the cache see it: without the password hash.
impl From<Model> for crate::domain::User {
    fn from(row: Model) -> Self {
        Self {
            id: row.id,
            email: row.email,
            full_name: row.full_name,
            is_active: row.is_active,
            role: crate::domain::Role::from_column(&row.role),
            created_at: row.created_at,
            updated_at: row.updated_at,
            version: row.version,
        }
    }
}
