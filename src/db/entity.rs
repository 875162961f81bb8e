//! The `users` table as a SeaORM entity. Only the repository touches it; the rest of the code
//! sees [`crate::users::User`], which has no password hash.
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
