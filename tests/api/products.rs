//! A second entity on the same engine, with no edit to it: products (the seed's example,
//! `product:{id}`, TTL 1800 s, pointed to by `sku:{sku}`), stored in a table of their own and
//! cached through `EntityCache<Product>`. The protocol's cases run on it: cache-aside, the
//! stale set, writes through another instance, and repair after an outage.
use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use cachegraph::{
    cache::{
        entity::{EntityCache, Pointer, Source, Versioned},
        pause::Point,
    },
    db::DbError,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde::{Deserialize, Serialize};

use crate::{
    helpers::{Backend, Db, Spawn, TestApp},
    topology::{Redis, Topology},
};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Product {
    id: i64,
    sku: String,
    name: String,
    version: i64,
}

impl Versioned for Product {
    const KIND: &'static str = "product";
    const TAGS: &'static [&'static str] = &["products"];
    fn id(&self) -> i64 {
        self.id
    }
    fn version(&self) -> u64 {
        self.version as u64
    }
}

/// The products table, and a count of the loads it served.
#[derive(Clone)]
struct Products {
    db: DatabaseConnection,
    loads: Arc<AtomicU64>,
}

impl Products {
    async fn migrate(db: &DatabaseConnection) {
        db.execute_unprepared(
            "CREATE TABLE IF NOT EXISTS products (id BIGINT PRIMARY KEY, sku TEXT UNIQUE NOT NULL, \
             name TEXT NOT NULL, version BIGINT NOT NULL)",
        )
        .await
        .expect("products table");
    }

    async fn query(&self, filter: &str) -> Result<Option<Product>, DbError> {
        self.loads.fetch_add(1, Ordering::Relaxed);
        let stmt = Statement::from_string(
            self.db.get_database_backend(),
            format!("SELECT id, sku, name, version FROM products WHERE {filter}"),
        );
        let row = self.db.query_one_raw(stmt).await?;
        Ok(match row {
            Some(r) => Some(Product {
                id: r.try_get("", "id")?,
                sku: r.try_get("", "sku")?,
                name: r.try_get("", "name")?,
                version: r.try_get("", "version")?,
            }),
            None => None,
        })
    }

    /// Inserts or renames (incrementing the version in the statement); returns the new row.
    async fn save(&self, id: i64, sku: &str, name: &str) -> Product {
        self.db
            .execute_unprepared(&format!(
                "INSERT INTO products (id, sku, name, version) VALUES ({id}, '{sku}', '{name}', 1) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
                 version = products.version + 1"
            ))
            .await
            .expect("save product");
        self.query(&format!("id = {id}")).await.unwrap().unwrap()
    }
}

impl Source<Product> for Products {
    async fn load(&self, id: i64) -> Result<Option<Product>, DbError> {
        self.query(&format!("id = {id}")).await
    }
    async fn load_by(&self, sku: &str) -> Result<Option<Product>, DbError> {
        // Test SKUs are plain words.
        self.query(&format!("sku = '{sku}'")).await
    }
}

type ProductCache = Arc<EntityCache<Product, Products>>;

/// The products cache of `app`, on its database and its cache.
async fn products_of(app: &TestApp) -> (ProductCache, Products) {
    let db = app.state.users.store().repo().connection().clone();
    Products::migrate(&db).await;
    let source = Products {
        db,
        loads: Arc::default(),
    };
    let sku = Pointer {
        name: "sku",
        of: |p: &Product| p.sku.as_str(),
    };
    let cache = EntityCache::new(
        app.state.users.store().cache().clone(),
        source.clone(),
        Some(sku),
        Duration::from_secs(1800),
    );
    (cache, source)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn products_are_read_aside_and_written_through_across_instances() {
    let redis = Redis::start(Topology::Single).await;
    let (a, b) = redis.pair(Db::Sqlite).await.unwrap();
    let (pa, source_a) = products_of(&a).await;
    let (pb, source_b) = products_of(&b).await;
    let lamp = source_a.save(1, "lamp", "Lamp").await;
    pa.written(&lamp, None).await;
    let loads = source_b.loads.load(Ordering::Relaxed);
    assert_eq!(pb.get(1).await.unwrap(), Some(lamp.clone()));
    assert_eq!(pb.by_pointer("lamp").await.unwrap(), Some(lamp));
    assert_eq!(
        source_b.loads.load(Ordering::Relaxed),
        loads,
        "served from the cache A wrote through"
    );
    let renamed = source_a.save(1, "lamp", "Desk lamp").await;
    pb.get(1).await.unwrap();
    pa.written(&renamed, None).await;
    assert_eq!(pb.get(1).await.unwrap().unwrap().name, "Desk lamp");
    assert_eq!(
        pb.by_pointer("lamp").await.unwrap().unwrap().name,
        "Desk lamp"
    );
    assert_eq!(
        pb.get(2).await.unwrap(),
        None,
        "absence cached, not invented"
    );
}

/// The stale set, on products: a reader that loaded version 1 and fills after version 2 was
/// written through never replaces it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_product_fill_is_dropped() {
    for backend in [Backend::Redis, Backend::Memory] {
        let app = Spawn::new(backend, Db::Sqlite)
            .with_pause_points()
            .start()
            .await
            .unwrap();
        let (products, source) = products_of(&app).await;
        source.save(7, "chair", "Chair").await;
        let key = format!("{}product:7", app.namespace());
        let mut gate = app.points().arm(Point::BeforeFill, &key);
        let reader = {
            let products = products.clone();
            tokio::spawn(async move { products.get(7).await.unwrap() })
        };
        gate.reached().await;
        let newer = source.save(7, "chair", "Armchair").await;
        products.written(&newer, None).await;
        gate.release();
        assert_eq!(reader.await.unwrap().unwrap().name, "Chair");
        assert_eq!(
            products.get(7).await.unwrap().unwrap().name,
            "Armchair",
            "{backend:?}: the stale fill replaced the write"
        );
    }
}

/// A product write during an outage is owed, and repaired by the other instance before it
/// serves products again: the engine's repair knows products without being told.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_product_written_during_an_outage_is_repaired_everywhere() {
    let redis = Redis::start(Topology::Single).await;
    let (a, b) = redis.pair(Db::Sqlite).await.unwrap();
    let (pa, source) = products_of(&a).await;
    let (pb, _) = products_of(&b).await;
    let desk = source.save(3, "desk", "Desk").await;
    pa.written(&desk, None).await;
    assert_eq!(pb.get(3).await.unwrap().unwrap().name, "Desk");
    redis.pause();
    let renamed = source.save(3, "desk", "Standing desk").await;
    pa.written(&renamed, None).await;
    redis.resume();
    assert_eq!(pb.get(3).await.unwrap().unwrap().name, "Standing desk");
    b.await_cache_status("available").await;
    assert_eq!(pb.get(3).await.unwrap().unwrap().name, "Standing desk");
    assert_eq!(
        pb.by_pointer("desk").await.unwrap().unwrap().name,
        "Standing desk"
    );
}
