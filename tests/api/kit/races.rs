//! Interleavings on one instance, driven step by step with the protocol's pause points: a late
//! fill, a stale page, writers out of order, commands that outlive their caller, a write
//! acknowledged while an earlier one is still in flight.
use cachegraph::cache::pause::Point;

use super::{Subject, cached, create, evict, key, name_of, page, rename, stored};
use crate::helpers::{Backend, Db, Spawn, TestApp};

async fn paused_app(backend: Backend) -> TestApp {
    Spawn::new(backend, Db::Sqlite)
        .with_pause_points()
        .start()
        .await
        .unwrap()
}

/// Redis holds exactly what the database holds for `id` (checked on the Redis backend).
async fn cache_matches_database<S: Subject>(app: &TestApp, id: &str) {
    assert_eq!(
        cached::<S>(app, id).await.expect("an entry is cached"),
        stored::<S>(app, id).await
    );
}

/// Case 1: A reader loads the old row and stalls; a writer commits and writes through; the
/// reader's late fill must not replace the new value.
pub async fn stale_set_is_dropped<S: Subject>() {
    for backend in [Backend::Redis, Backend::Memory] {
        let app = paused_app(backend).await;
        let id = create::<S>(&app, "stale").await;
        evict::<S>(&app, &id).await;
        let mut gate = app.points().arm(Point::BeforeFill, &key::<S>(&app, &id));
        let reader = app.spawn_gql(S::by_id(&id));
        gate.reached().await; // the reader holds the old row
        rename::<S>(&app, &id, "New").await;
        gate.release();
        let read = reader.await.unwrap();
        assert_eq!(
            read["data"]["x"]["name"], "Initial",
            "the reader overlapped"
        );
        assert_eq!(
            name_of::<S>(&app, &id).await,
            "New",
            "{backend:?}: stale fill replaced the write"
        );
        if backend == Backend::Redis {
            cache_matches_database::<S>(&app, &id).await;
        }
    }
}

/// Case 1, for pages: a page loaded before a create must not be served after it.
pub async fn stale_page_fill_is_never_served<S: Subject>() {
    let app = paused_app(Backend::Redis).await;
    let page_key = format!("{}{}", app.namespace(), S::PAGE_KEY);
    let mut gate = app.points().arm(Point::BeforeFill, &page_key);
    let reader = app.spawn_gql(S::page());
    gate.reached().await;
    create::<S>(&app, "late").await;
    gate.release();
    assert!(reader.await.unwrap()["errors"].is_null());
    let late = S::pointer("late");
    assert!(page::<S>(&app).await.iter().any(|(p, _)| *p == late));
}

/// Case 3: Two updates commit in one order and reach the cache in the other.
pub async fn writers_out_of_order_keep_the_newest<S: Subject>() {
    for backend in [Backend::Redis, Backend::Memory] {
        let app = paused_app(backend).await;
        let id = create::<S>(&app, "order").await;
        name_of::<S>(&app, &id).await;
        let mut gate = app
            .points()
            .arm(Point::BeforeWriteThrough, &key::<S>(&app, &id));
        let first = app.spawn_gql(S::rename(&id, "First"));
        gate.reached().await; // "First" is committed, its write-through held
        rename::<S>(&app, &id, "Second").await;
        gate.release();
        assert!(first.await.unwrap()["errors"].is_null());
        assert_eq!(name_of::<S>(&app, &id).await, "Second", "{backend:?}");
        if backend == Backend::Redis {
            cache_matches_database::<S>(&app, &id).await;
        }
    }
}

/// Case 6: A fill our code gave up on (timed out while Redis was paused) executes later, over a
/// newer value: it must be dropped.
pub async fn commands_that_outlive_their_caller_cannot_regress<S: Subject>() {
    let app = paused_app(Backend::Redis).await;
    let id = create::<S>(&app, "late-cmd").await;
    evict::<S>(&app, &id).await;
    let mut gate = app.points().arm(Point::BeforeFill, &key::<S>(&app, &id));
    let reader = app.spawn_gql(S::by_id(&id));
    gate.reached().await;
    rename::<S>(&app, &id, "Newer").await;
    app.redis.as_ref().unwrap().pause();
    gate.release(); // the old fill goes out to a paused Redis and times out
    assert!(reader.await.unwrap()["errors"].is_null());
    app.redis.as_ref().unwrap().resume(); // ... and runs now
    app.await_cache_status("available").await;
    assert_eq!(name_of::<S>(&app, &id).await, "Newer");
    cache_matches_database::<S>(&app, &id).await;
}

/// Case 7: A create commits and stalls before its write-through (which moves the pages); an
/// update of the new entity through the API is acknowledged meanwhile. That update moves no
/// page by itself, but it must cover the create still in flight: the page shows the entity.
pub async fn a_later_write_covers_one_still_in_flight<S: Subject>() {
    for backend in [Backend::Redis, Backend::Memory] {
        let app = paused_app(backend).await;
        let before: u64 = create::<S>(&app, "before-held").await.parse().unwrap();
        page::<S>(&app).await; // loaded and cached
        // Ids are handed out in order: the next create gets the next one.
        let next = (before + 1).to_string();
        let mut gate = app
            .points()
            .arm(Point::BeforeWriteThrough, &key::<S>(&app, &next));
        let creating = app.spawn_gql(S::create(&S::pointer("held")));
        gate.reached().await; // committed; its write-through held
        rename::<S>(&app, &next, "Covered").await;
        let listed = page::<S>(&app).await;
        assert!(
            listed
                .iter()
                .any(|(p, name)| *p == S::pointer("held") && name == "Covered"),
            "{backend:?}: an acknowledged update of entity {next} is missing from {listed:?}"
        );
        gate.release();
        assert!(creating.await.unwrap()["errors"].is_null());
    }
}
