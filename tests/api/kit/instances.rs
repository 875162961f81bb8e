//! Several instances on one Redis of each topology: outages, writes through the other
//! instance, and stampedes on a cold key.
use serde_json::Value;

use super::{Subject, create, evict, misses, name_by_pointer, name_of, page, rename};
use crate::{
    helpers::{Backend, Db, Spawn, TestApp},
    topology::{Redis, Topology},
};

/// Whether the first page lists the entity tagged `tag`.
async fn listed<S: Subject>(app: &TestApp, tag: &str) -> bool {
    let p = S::pointer(tag);
    page::<S>(app).await.iter().any(|(q, _)| *q == p)
}

/// Cases 2 and 5: Redis paused while one instance updates; after it resumes, both instances read
/// the new value, and so do pages.
pub async fn write_during_an_outage_is_seen_by_every_instance_after<S: Subject>(
    topology: Topology,
) {
    let redis = Redis::start(topology).await;
    let (a, b) = redis.pair(Db::Sqlite).await.unwrap();
    let id = create::<S>(&a, "outage").await;
    for app in [&a, &b] {
        assert_eq!(name_of::<S>(app, &id).await, "Initial");
        page::<S>(app).await;
    }
    redis.pause();
    rename::<S>(&a, &id, "During Outage").await;
    create::<S>(&a, "outage2").await;
    redis.resume();
    for app in [&b, &a, &b] {
        assert_eq!(name_of::<S>(app, &id).await, "During Outage");
        assert!(listed::<S>(app, "outage2").await);
    }
    a.await_cache_status("available").await;
    b.await_cache_status("available").await;
    for app in [&b, &a] {
        assert_eq!(name_of::<S>(app, &id).await, "During Outage");
        let by_pointer = name_by_pointer::<S>(app, &S::pointer("outage")).await;
        assert_eq!(by_pointer, "During Outage");
    }
}

/// Case 5: A write through one instance is seen by the other's next read, by id, by pointer and in
/// pages.
pub async fn two_instances_see_each_others_writes<S: Subject>(topology: Topology) {
    let redis = Redis::start(topology).await;
    let (a, b) = redis.pair(Db::Sqlite).await.unwrap();
    let id = create::<S>(&a, "pair").await;
    for round in 0..5 {
        let (writer, reader) = if round % 2 == 0 { (&a, &b) } else { (&b, &a) };
        assert!(listed::<S>(reader, "pair").await);
        name_of::<S>(reader, &id).await;
        let name = format!("Round {round}");
        rename::<S>(writer, &id, &name).await;
        assert_eq!(name_of::<S>(reader, &id).await, name);
        assert_eq!(
            name_by_pointer::<S>(reader, &S::pointer("pair")).await,
            name
        );
        let p = S::pointer("pair");
        assert!(page::<S>(reader).await.contains(&(p, name)));
    }
}

async fn concurrent<F, Fut>(n: usize, f: F) -> Vec<Value>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Value>,
{
    futures::future::join_all((0..n).map(f)).await
}

/// Case 4: 200 concurrent requests for one cold key: one database load (one miss of its kind, and
/// one query where the source counts them), for a page and for the entity.
pub async fn stampede_on_a_cold_key_loads_once<S: Subject>() {
    for backend in [Backend::Redis, Backend::Memory] {
        // Generous timeouts: on a loaded machine a slow Redis reply or a late poll of the owed
        // log would send requests to the database on purpose, which is not what this counts.
        let app = Spawn::new(backend, Db::Sqlite)
            .env("CACHE_TIMEOUT_MS", "5000")
            .env("CACHE_TRUST_MS", "5000")
            .start()
            .await
            .unwrap();
        let id = create::<S>(&app, "hot").await;
        app.gql("{ me { id } }", serde_json::json!({})).await; // the caller's entry is warm
        // the create made every page cold
        let (before, loads) = (misses(&app, "list").await, S::loads(&app));
        let q = S::page();
        let bodies = concurrent(200, |_| app.gql(&q, serde_json::json!({}))).await;
        assert!(bodies.iter().all(|b| b["errors"].is_null()));
        let missed = misses(&app, "list").await - before;
        assert_eq!(missed, 1, "{backend:?}: page stampede");
        if let (Some(before), Some(after)) = (loads, S::loads(&app)) {
            assert_eq!(after - before, 1, "{backend:?}: page loads");
        }

        evict::<S>(&app, &id).await;
        let (before, loads) = (misses(&app, S::KIND).await, S::loads(&app));
        let q = S::by_id(&id);
        let bodies = concurrent(200, |_| app.gql(&q, serde_json::json!({}))).await;
        assert!(bodies.iter().all(|b| b["data"]["x"]["name"] == "Initial"));
        let missed = misses(&app, S::KIND).await - before;
        assert_eq!(missed, 1, "{backend:?}: entity stampede");
        if let (Some(before), Some(after)) = (loads, S::loads(&app)) {
            assert_eq!(after - before, 1, "{backend:?}: entity loads");
        }
    }
}

/// Cases 4 and 5: Across two instances, a short lease keeps the herd off the database: at most one
/// load per process.
pub async fn stampede_across_instances_loads_at_most_once_per_process<S: Subject>(
    topology: Topology,
) {
    let redis = Redis::start(topology).await;
    // Generous Redis and owed-log timeouts, as in the one-process stampede: a loaded machine's
    // late reply must not send a request to the database on purpose.
    let patient = [("CACHE_TIMEOUT_MS", "5000"), ("CACHE_TRUST_MS", "5000")];
    let (a, b) = redis.pair_with(Db::Sqlite, &patient).await.unwrap();
    create::<S>(&a, "herd").await;
    for app in [&a, &b] {
        app.gql("{ me { id } }", serde_json::json!({})).await;
    }
    let (before_a, before_b) = (misses(&a, "list").await, misses(&b, "list").await);
    let q = S::page();
    let bodies = concurrent(200, |i| {
        let app = if i % 2 == 0 { &a } else { &b };
        app.gql(&q, serde_json::json!({}))
    })
    .await;
    assert!(bodies.iter().all(|b| b["errors"].is_null()));
    let la = misses(&a, "list").await - before_a;
    let lb = misses(&b, "list").await - before_b;
    assert!(la <= 1 && lb <= 1 && la + lb >= 1, "loads: a={la} b={lb}");
}
