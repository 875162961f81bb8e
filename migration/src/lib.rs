//! Database migrations for cachegraph, run by the server at start-up or by `cachegraph migrate`.
pub use sea_orm_migration::prelude::*;

mod m20261125_000001_create_users;
mod m20261201_000001_cache_tables;

/// Every migration, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_create_users::Migration),
            Box::new(m20261201_000001_cache_tables::Migration),
        ]
    }
}
