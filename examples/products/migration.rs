//! The products example's one migration: the `products` table. It keeps its own record of
//! applied migrations (`products_migrations`), beside the server's own, so neither migrator
//! sees the other's versions as unknown.
use migration::*;

/// The example's migrations, in order.
pub struct ProductsMigrator;

#[async_trait::async_trait]
impl MigratorTrait for ProductsMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateProducts)]
    }

    fn migration_table_name() -> DynIden {
        "products_migrations".into_iden()
    }
}

struct CreateProducts;

// Named by hand: the derive expects `sea_orm_migration` as a dependency of its own.
impl MigrationName for CreateProducts {
    fn name(&self) -> &str {
        "m20261201_000001_create_products"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateProducts {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Products::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Products::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Products::Sku)
                            .string()
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Products::Name).string().not_null())
                    .col(
                        ColumnDef::new(Products::PriceCents)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Products::Version).big_integer().not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Products::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
    Sku,
    Name,
    PriceCents,
    Version,
}
