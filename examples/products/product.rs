//! Products, the seed's example, added to cachegraph from outside the engine: `product:{id}`
//! (TTL 1800 s), pointed to by `sku:{sku}`, with pages kept under the `products` tag.
//!
//! What it takes, all in this file:
//! 1. the table (`table`) and its migration (`migration.rs`);
//! 2. [`Product`] implements [`Versioned`] (its key, its row version, the tags its writes
//!    change) and [`ProductRepo`] is its [`Source`]: the engine then gives cache-aside reads,
//!    single-flight, leases, set-if-newer fills, tombstones, the checked `sku:` pointer,
//!    write-through and repair after an outage, with the same guarantees as users;
//! 3. each resolver declares its [`Policy`] beside it and runs through [`cached`];
//! 4. [`Products`] is the [`Extension`] that merges the roots into the API.
use std::{sync::Arc, time::Duration};

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use cachegraph::{
    AppState, Extension, ExtensionError,
    cache::{
        Announcement, Kind,
        entity::{EntityCache, Pointer, Source, Versioned, durable},
        page::{self, Page},
        policy::Policy,
    },
    db::DbError,
    error::{AppError, AppResult},
    graphql::{
        cached::cached,
        guards::{AdminOnly, Authenticated},
    },
};
use migration::MigratorTrait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, SqlErr,
    sea_query::{Expr, ExprTrait},
};
use serde::{Deserialize, Serialize};

/// The tag of every page of products: any product write drops them all.
pub const PRODUCTS_TAG: &str = "products";
/// How long a product entry lives at most (the seed's 1800 s).
pub const PRODUCT_TTL: Duration = Duration::from_secs(1800);

/// `product` and `productBySku`: versioned entries (living `PRODUCT_TTL`), the same for every
/// caller.
const PRODUCT: Policy = Policy::shared();
/// `products`: one page for every caller, dropped by any product write.
const PRODUCTS_PAGE: Policy = Policy::shared().tag(PRODUCTS_TAG).kind(Kind::LIST);
/// The most rows `products(limit)` returns: the resolver prices, covers and checks pages by it.
const MAX_LIMIT: i32 = 100;

/// The `products` table.
mod table {
    use sea_orm::entity::prelude::*;

    /// One row of `products`.
    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "products")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        #[sea_orm(unique)]
        pub sku: String,
        pub name: String,
        pub price_cents: i64,
        /// 1 at insert, +1 in the statement of every update.
        pub version: i64,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A product, as cached and served.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, SimpleObject)]
pub struct Product {
    pub id: i64,
    pub sku: String,
    pub name: String,
    pub price_cents: i64,
    #[graphql(skip)]
    pub version: i64,
}

impl From<table::Model> for Product {
    fn from(row: table::Model) -> Self {
        Self {
            id: row.id,
            sku: row.sku,
            name: row.name,
            price_cents: row.price_cents,
            version: row.version,
        }
    }
}

impl Versioned for Product {
    const KIND: &'static str = "product";
    const TAGS: &'static [&'static str] = &[PRODUCTS_TAG];
    fn id(&self) -> i64 {
        self.id
    }
    fn version(&self) -> u64 {
        self.version as u64
    }
}

/// Where the cache loads products from.
#[derive(Clone)]
pub struct ProductRepo {
    db: DatabaseConnection,
}

impl Source<Product> for ProductRepo {
    async fn load(&self, id: i64) -> Result<Option<Product>, DbError> {
        Ok(table::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .map(Product::from))
    }
    async fn load_by(&self, sku: &str) -> Result<Option<Product>, DbError> {
        let row = table::Entity::find()
            .filter(table::Column::Sku.eq(sku))
            .one(&self.db)
            .await?;
        Ok(row.map(Product::from))
    }
}

/// A taken SKU is the caller's conflict; anything else the database's failure.
fn write_error(err: sea_orm::DbErr) -> AppError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            AppError::Conflict("sku already taken".into())
        }
        _ => DbError::from(err).into(),
    }
}

/// Products through the cache: reads aside, writes committed then written through.
pub struct ProductStore {
    repo: ProductRepo,
    cache: Arc<EntityCache<Product, ProductRepo>>,
}

impl ProductStore {
    async fn page(&self, skip: u64, limit: u64) -> AppResult<Vec<Product>> {
        let rows = table::Entity::find()
            .order_by_asc(table::Column::Id)
            .offset(skip)
            .limit(limit)
            .all(&self.repo.db)
            .await
            .map_err(DbError::from)?;
        Ok(rows.into_iter().map(Product::from).collect())
    }

    async fn create(&self, input: ProductInput) -> AppResult<Product> {
        let row = table::ActiveModel {
            sku: Set(input.sku),
            name: Set(input.name),
            price_cents: Set(input.price_cents),
            version: Set(1),
            ..Default::default()
        }
        .insert(&self.repo.db)
        .await
        .map_err(write_error)?;
        let product = Product::from(row);
        // Every product write moves every tag of the kind: none needs announcing (see
        // `cachegraph::cache::Announcement`).
        self.cache.written(Announcement::NONE, &product, None).await;
        Ok(product)
    }

    async fn update(&self, id: i64, input: ProductChanges) -> AppResult<Product> {
        let mut update = table::Entity::update_many()
            .col_expr(
                table::Column::Version,
                Expr::col(table::Column::Version).add(1),
            )
            .filter(table::Column::Id.eq(id));
        if let Some(n) = input.name {
            update = update.col_expr(table::Column::Name, Expr::value(n));
        }
        if let Some(p) = input.price_cents {
            update = update.col_expr(table::Column::PriceCents, Expr::value(p));
        }
        let rows = update
            .exec_with_returning(&self.repo.db)
            .await
            .map_err(write_error)?;
        let Some(row) = rows.into_iter().next() else {
            return Err(AppError::NotFound(
                format!("no product with id {id}").into(),
            ));
        };
        let product = Product::from(row);
        self.cache.written(Announcement::NONE, &product, None).await;
        Ok(product)
    }

    async fn delete(&self, id: i64) -> AppResult<bool> {
        let row = table::Entity::delete_by_id(id)
            .exec_with_returning(&self.repo.db)
            .await
            .map_err(DbError::from)?;
        match row {
            Some(row) => {
                self.cache
                    .deleted(Announcement::NONE, &Product::from(row))
                    .await;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// A new product (checked by async-graphql: `BAD_USER_INPUT` otherwise).
#[derive(InputObject)]
pub struct ProductInput {
    #[graphql(validator(min_length = 1, max_length = 64))]
    pub sku: String,
    #[graphql(validator(min_length = 1, max_length = 200))]
    pub name: String,
    #[graphql(validator(minimum = 0))]
    pub price_cents: i64,
}

/// What to change; absent fields stay.
#[derive(InputObject)]
pub struct ProductChanges {
    #[graphql(validator(min_length = 1, max_length = 200))]
    pub name: Option<String>,
    #[graphql(validator(minimum = 0))]
    pub price_cents: Option<i64>,
}

/// The product queries; every one needs a token.
pub struct ProductsQuery(Arc<ProductStore>);

#[Object]
impl ProductsQuery {
    /// A product by id; null when absent.
    #[graphql(guard = "Authenticated", cache_control(private, no_cache))]
    async fn product(&self, ctx: &Context<'_>, id: i64) -> Result<Option<Product>> {
        Ok(cached(ctx, PRODUCT)
            .await?
            .run(self.0.cache.get(id))
            .await?)
    }

    /// A product by SKU; null when absent.
    #[graphql(guard = "Authenticated", cache_control(private, no_cache))]
    async fn product_by_sku(
        &self,
        ctx: &Context<'_>,
        #[graphql(validator(min_length = 1, max_length = 64))] sku: String,
    ) -> Result<Option<Product>> {
        Ok(cached(ctx, PRODUCT)
            .await?
            .run(self.0.cache.by_pointer(&sku))
            .await?)
    }

    /// Products ordered by id; `0 <= skip`, `1 <= limit <= 100`.
    #[graphql(
        guard = "Authenticated",
        cache_control(private, no_cache),
        complexity = "(limit.clamp(1, MAX_LIMIT) as usize) * child_complexity + page::surplus(skip, limit, MAX_LIMIT)"
    )]
    async fn products(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 0)] skip: i32,
        #[graphql(default = 20)] limit: i32,
    ) -> Result<Vec<Product>> {
        if skip < 0 || !(1..=MAX_LIMIT).contains(&limit) {
            return Err(AppError::bad_input("limit", "0 <= skip, 1 <= limit <= 100").into());
        }
        // Clients choose these bounds: `load_page` asks for the aligned page covering them.
        let store = self.0.clone();
        let page = move |skip: i32, limit: i32| async move {
            let (skip, limit) = (skip.unsigned_abs(), limit.unsigned_abs());
            store.page(skip.into(), limit.into()).await
        };
        Ok(cached(ctx, PRODUCTS_PAGE)
            .await?
            .load_page(Page::new("page", skip, limit).within(MAX_LIMIT), page)
            .await?)
    }
}

/// The product mutations, admin only; none declares a policy, so none is ever kept. Each runs
/// `durable`: once committed, its write-through happens even if the request is dropped.
pub struct ProductsMutation(Arc<ProductStore>);

#[Object]
impl ProductsMutation {
    /// Creates a product.
    #[graphql(guard = "AdminOnly")]
    async fn create_product(&self, input: ProductInput) -> Result<Product> {
        let store = self.0.clone();
        Ok(durable(async move { store.create(input).await }).await?)
    }

    /// Changes a product's name or price.
    #[graphql(guard = "AdminOnly")]
    async fn update_product(&self, id: i64, input: ProductChanges) -> Result<Product> {
        let store = self.0.clone();
        Ok(durable(async move { store.update(id, input).await }).await?)
    }

    /// Deletes a product; false when there was none.
    #[graphql(guard = "AdminOnly")]
    async fn delete_product(&self, id: i64) -> Result<bool> {
        let store = self.0.clone();
        Ok(durable(async move { store.delete(id).await }).await?)
    }
}

/// The extension: migrates `products`, makes its cache, merges its roots.
pub struct Products;

impl Extension for Products {
    type Query = ProductsQuery;
    type Mutation = ProductsMutation;

    async fn build(
        self,
        state: &AppState,
    ) -> Result<(ProductsQuery, ProductsMutation), ExtensionError> {
        crate::migration::ProductsMigrator::up(&state.db, None).await?;
        let repo = ProductRepo {
            db: state.db.clone(),
        };
        let sku = Pointer {
            name: "sku",
            of: |p: &Product| p.sku.as_str(),
        };
        let cache = EntityCache::new(state.cache.clone(), repo.clone(), Some(sku), PRODUCT_TTL);
        let store = Arc::new(ProductStore { repo, cache });
        Ok((ProductsQuery(store.clone()), ProductsMutation(store)))
    }
}
