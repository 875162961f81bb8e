//! The two tables the cache protocol keeps in the database it caches.
//!
//! * `cache_meta`: one row, `deployment`, a random id made here, once, by the database itself.
//!   The cache namespace in Redis is derived from it, so two databases never share cache
//!   entries even when they share a Redis and a `CACHE_PREFIX`.
//! * `cache_owed`: cache writes that did not land (Redis down, or out of this instance's
//!   reach). Every instance reads it and repairs what it lists before it trusts Redis again.
use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CacheMeta::Table)
                    .if_not_exists()
                    .col(string(CacheMeta::Name).primary_key())
                    .col(string(CacheMeta::Value))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CacheOwed::Table)
                    .if_not_exists()
                    .col(big_pk_auto(CacheOwed::Id))
                    .col(text(CacheOwed::Owed))
                    .col(timestamp_with_time_zone(CacheOwed::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // 128 random bits from the database's own generator (`gen_random_uuid`: PostgreSQL 13+).
        let random = match manager.get_database_backend() {
            DbBackend::Postgres => "replace(gen_random_uuid()::text, '-', '')",
            _ => "lower(hex(randomblob(16)))",
        };
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "INSERT INTO cache_meta (name, value) VALUES ('deployment', {random}) \
                 ON CONFLICT (name) DO NOTHING"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CacheOwed::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(CacheMeta::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum CacheMeta {
    Table,
    Name,
    Value,
}

#[derive(DeriveIden)]
enum CacheOwed {
    Table,
    Id,
    Owed,
    CreatedAt,
}
