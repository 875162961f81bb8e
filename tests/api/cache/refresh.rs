//! Early refresh (XFetch): a hit on a list or aggregate close to its expiry refreshes it in
//! the background while every request is served the entry it found; a refresh never makes an
//! invalidated value current again.
use fred::prelude::KeysInterface;
use serde_json::{Value, json};

use super::purge::total;
use crate::helpers::{Backend, Db, Spawn, TestApp};
use cachegraph::cache::pause::Point;

const STATS: &str = "{ userStats { total } }";

/// An app whose every hit on a tagged entry is due for a refresh: with `beta` 10^9 and entries
/// living 5 s, a hit is not due only when XFetch's draw is above e^(-5 * 10^-6).
async fn eager(backend: Backend) -> TestApp {
    Spawn::new(backend, Db::Sqlite)
        .with_pause_points()
        .env("CACHE_EARLY_REFRESH", "1000000000")
        .env("CACHE_DEFAULT_TTL", "5")
        .start()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hit_refreshes_in_the_background_and_a_write_during_the_refresh_wins_redis() {
    refresh_loses_to_a_write(eager(Backend::Redis).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hit_refreshes_in_the_background_and_a_write_during_the_refresh_wins_memory() {
    refresh_loses_to_a_write(eager(Backend::Memory).await).await;
}

async fn refresh_loses_to_a_write(app: TestApp) {
    let key = format!("{}{{user-counts}}:stats", app.namespace());
    assert_eq!(total(&app.gql(STATS, json!({})).await), 1); // loaded and filled
    let misses = app.state.cache.report().await.total.misses;
    let loads = app.db_loads();
    let mut gate = app.points().arm(Point::BeforeFill, &key);
    // A hit: answered at once from the entry, while its refresh loads and is held before
    // filling.
    assert_eq!(total(&app.gql(STATS, json!({})).await), 1);
    gate.reached().await;
    assert_eq!(app.db_loads(), loads + 1, "the refresh loaded the counts");
    assert_eq!(
        app.state.cache.report().await.total.misses,
        misses,
        "a request missed instead of being served the current entry"
    );
    // A write commits while the refresh holds the old counts; then the refresh fills.
    app.create_user("during-refresh@example.com", "USER").await;
    gate.release();
    // Whatever the refresh left, it is stamped with the generation before the write.
    for _ in 0..3 {
        assert_eq!(
            total(&app.gql(STATS, json!({})).await),
            2,
            "a refresh undid a write"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refreshed_entry_is_rewritten_with_a_new_expiry() {
    let app = eager(Backend::Redis).await;
    let key = format!("{}{{user-counts}}:stats", app.namespace());
    app.gql(STATS, json!({})).await;
    let client = app.redis_client().await;
    let expiry = |raw: String| -> u64 {
        let v: Value = serde_json::from_str(&raw).unwrap();
        v["x"]
            .as_u64()
            .unwrap_or_else(|| panic!("no expiry in {raw}"))
    };
    let first = expiry(client.get::<String, _>(&key).await.unwrap());
    let mut gate = app.points().arm(Point::BeforeFill, &key);
    app.gql(STATS, json!({})).await;
    gate.reached().await;
    gate.release();
    // The fill lands just after its release: look until it has (bounded).
    for _ in 0..200 {
        let now = expiry(client.get::<String, _>(&key).await.unwrap());
        // A new expiry (each fill draws its own spread below the TTL, so not always later).
        if now != first {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the entry was not refreshed");
}
