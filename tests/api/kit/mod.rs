//! The consistency kit: every race, outage and multi-instance case of the protocol, written
//! once over a [`Subject`] (an entity as the API serves it) and run on users and on the
//! products of `examples/products`. After a mutation returns, every read through any instance
//! returns that value or a newer one.
//!
//! A subject gives the GraphQL of its operations with uniform aliases (`x` for the root,
//! `name` and `p` for its name and pointer), so the kit reads every answer the same way.
mod instances;
mod races;
mod stress;
mod subjects;

pub use subjects::{Products, Users};

use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// An entity the kit runs on.
pub trait Subject: Send + Sync + 'static {
    /// Its key prefix and stats kind: entries are `{KIND}:{id}`.
    const KIND: &'static str;
    /// Its table, and the column (also the cached JSON field) the kit renames.
    const TABLE: &'static str;
    const NAME_COLUMN: &'static str;
    /// The key (under the namespace) of the first page [`Subject::page`] reads.
    const PAGE_KEY: &'static str;
    /// The pointer value of the entity made with `tag`.
    fn pointer(tag: &str) -> String;
    /// Creates the entity with pointer `p`, named `Initial`; answers `x { id }`.
    fn create(p: &str) -> String;
    /// Renames entity `id`.
    fn rename(id: &str, name: &str) -> String;
    /// Deletes entity `id`; answers `x`.
    fn delete(id: &str) -> String;
    /// An update of entity `id` that is not a rename (a role, a flag, a price), the `step`th of
    /// a few; answers `x { id }`.
    fn touch(id: &str, step: usize) -> String;
    /// Reads `x { name }` by id.
    fn by_id(id: &str) -> String;
    /// Reads `x { name }` by pointer.
    fn by_pointer(p: &str) -> String;
    /// Reads the first page: `x { p name }`.
    fn page() -> String;
    /// The database loads of `app` (entities and pages), where the source counts them.
    fn loads(_app: &TestApp) -> Option<u64> {
        None
    }
}

/// Runs `query` as the admin and returns `data.x`, which must have come without errors.
async fn x(app: &TestApp, query: &str) -> Value {
    let body = app.gql(query, json!({})).await;
    assert!(body["errors"].is_null(), "{query}: {body}");
    body["data"]["x"].clone()
}

/// `id` as the kit passes it: a string for users (`ID`), a number for products (`Int`).
fn id_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Creates the entity tagged `tag`; its id.
pub async fn create<S: Subject>(app: &TestApp, tag: &str) -> String {
    id_of(&x(app, &S::create(&S::pointer(tag))).await["id"])
}

pub async fn rename<S: Subject>(app: &TestApp, id: &str, name: &str) {
    x(app, &S::rename(id, name)).await;
}

/// Creates entity `tag`, updates it in every way but a rename, and deletes it: one write of
/// each other kind, each shifting or changing what pages and aggregates hold.
pub async fn churn<S: Subject>(app: &TestApp, tag: &str) {
    let id = create::<S>(app, tag).await;
    for step in 0..2 {
        x(app, &S::touch(&id, step)).await;
    }
    x(app, &S::delete(&id)).await;
}

/// Its name read by id.
pub async fn name_of<S: Subject>(app: &TestApp, id: &str) -> String {
    let found = x(app, &S::by_id(id)).await;
    found["name"]
        .as_str()
        .unwrap_or_else(|| panic!("{found}"))
        .to_owned()
}

/// Its name read by pointer.
pub async fn name_by_pointer<S: Subject>(app: &TestApp, p: &str) -> String {
    let found = x(app, &S::by_pointer(p)).await;
    found["name"]
        .as_str()
        .unwrap_or_else(|| panic!("{found}"))
        .to_owned()
}

/// The first page: (pointer, name) pairs.
pub async fn page<S: Subject>(app: &TestApp) -> Vec<(String, String)> {
    let page = x(app, &S::page()).await;
    page.as_array()
        .unwrap_or_else(|| panic!("{page}"))
        .iter()
        .map(|e| {
            (
                e["p"].as_str().unwrap().to_owned(),
                e["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The full key of entity `id`.
pub fn key<S: Subject>(app: &TestApp, id: &str) -> String {
    format!("{}{}:{id}", app.namespace(), S::KIND)
}

/// Drops entity `id`'s entry from the cache.
pub async fn evict<S: Subject>(app: &TestApp, id: &str) {
    let pattern = format!("{}:{id}", S::KIND);
    x(
        app,
        &format!("mutation {{ x: clearCache(pattern: \"{pattern}\") {{ cleared }} }}"),
    )
    .await;
}

/// The (version, name) Redis holds for entity `id`, if any.
pub async fn cached<S: Subject>(app: &TestApp, id: &str) -> Option<(u64, String)> {
    use fred::prelude::KeysInterface;
    let raw: Option<String> = app
        .redis_client()
        .await
        .get(key::<S>(app, id))
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&raw?).unwrap();
    Some((
        v["v"].as_u64().unwrap(),
        v["d"][S::NAME_COLUMN].as_str().unwrap_or("").to_owned(),
    ))
}

/// The (version, name) the database holds for entity `id`.
pub async fn stored<S: Subject>(app: &TestApp, id: &str) -> (u64, String) {
    let db = &app.state.db;
    let sql = format!(
        "SELECT version, {} AS name FROM {} WHERE id = {id}",
        S::NAME_COLUMN,
        S::TABLE
    );
    let stmt = Statement::from_string(db.get_database_backend(), sql);
    let row = db
        .query_one_raw(stmt)
        .await
        .unwrap()
        .expect("the row exists");
    let version: i64 = row.try_get("", "version").unwrap();
    (version as u64, row.try_get("", "name").unwrap())
}

/// This process's lookups of `kind` answered by the database (each miss is one load).
pub async fn misses(app: &TestApp, kind: &str) -> u64 {
    let report = app.state.cache.report().await;
    report
        .by_kind
        .iter()
        .find(|(k, _)| k.as_str() == kind)
        .map_or(0, |(_, counts)| counts.misses)
}

/// Every kit test for one subject, on every backend and topology it concerns.
macro_rules! kit {
    ($subject:ty) => {
        use $crate::kit::{instances, races, stress};
        use $crate::topology::Topology;
        type S = $subject;

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn stale_set_is_dropped() {
            races::stale_set_is_dropped::<S>().await
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn stale_page_fill_is_never_served() {
            races::stale_page_fill_is_never_served::<S>().await
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn writers_out_of_order_keep_the_newest() {
            races::writers_out_of_order_keep_the_newest::<S>().await
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn commands_that_outlive_their_caller_cannot_regress() {
            races::commands_that_outlive_their_caller_cannot_regress::<S>().await
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_later_write_covers_one_still_in_flight() {
            races::a_later_write_covers_one_still_in_flight::<S>().await
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn stampede_on_a_cold_key_loads_once() {
            instances::stampede_on_a_cold_key_loads_once::<S>().await
        }

        mod on {
            use super::*;
            $crate::kit::topologies!(write_during_an_outage_is_seen_by_every_instance_after);
            $crate::kit::topologies!(two_instances_see_each_others_writes);
            $crate::kit::topologies!(stampede_across_instances_loads_at_most_once_per_process);
        }

        mod stress_runs {
            use super::*;
            use $crate::helpers::Db;
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn two_instances_sqlite() {
                stress::on::<S>(Topology::Single, Db::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn two_instances_postgres() {
                stress::on::<S>(Topology::Single, Db::Postgres).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn cluster() {
                stress::on::<S>(Topology::Cluster, Db::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sentinel() {
                stress::on::<S>(Topology::Sentinel, Db::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn under_redis_faults() {
                stress::under_faults::<S>().await
            }
        }
    };
}

/// One instances test on each topology.
macro_rules! topologies {
    ($name:ident) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn single() {
                instances::$name::<S>(Topology::Single).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn cluster() {
                instances::$name::<S>(Topology::Cluster).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sentinel() {
                instances::$name::<S>(Topology::Sentinel).await
            }
        }
    };
}
pub(crate) use {kit, topologies};

/// The kit on users.
mod users {
    super::kit!(super::Users);
}

/// The kit on products.
mod products {
    super::kit!(super::Products);
}
