//! Instances sharing one Redis and database, and the in-process L1 in front of Redis: repeated
//! reads make no round trip, and an invalidation reaches the other instance.
use fred::prelude::*;
use serde_json::json;

use super::redis_app;
use crate::helpers::{Backend, Db, Spawn, TestApp, TestDb};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_redis_and_the_database() {
    let a = redis_app().await;
    let db = TestDb::shared(&a.db.url);
    let b = TestApp::start_with(
        Spawn::new(Backend::Redis, Db::Sqlite)
            .env("REDIS_URL", &a.redis.as_ref().unwrap().url())
            .env("CACHE_PREFIX", a.prefix()),
        db,
        None,
    )
    .await;
    let id = a.create_user("shared@example.com", "USER").await;
    assert_eq!(b.name_of(&id).await, "Test User");
    assert_eq!(b.list_emails(0, 100).await.len(), 2);
    a.rename(&id, "Changed On A").await;
    assert_eq!(b.name_of(&id).await, "Changed On A");
    a.create_user("second@example.com", "USER").await;
    assert_eq!(b.list_emails(0, 100).await.len(), 3);
}

async fn get_calls(app: &TestApp) -> u64 {
    let client = app.redis.as_ref().unwrap().client().await;
    let stats: String = client
        .info(Some(fred::types::InfoKind::CommandStats))
        .await
        .unwrap();
    stats
        .lines()
        .filter(|l| l.starts_with("cmdstat_get:") || l.starts_with("cmdstat_mget:"))
        .filter_map(|l| {
            l.split("calls=")
                .nth(1)?
                .split(',')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum()
}

async fn await_l1_live(app: &TestApp) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !app.state.users.store().cache().l1_live() {
        assert!(tokio::time::Instant::now() < deadline, "L1 never went live");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn l1_answers_repeated_reads_without_redis_round_trips() {
    let app = redis_app().await;
    await_l1_live(&app).await;
    let id = app.create_user("l1@example.com", "USER").await;
    app.user(&id).await;
    app.list_emails(0, 100).await;
    app.user(&id).await;
    app.list_emails(0, 100).await;
    let before = get_calls(&app).await;
    for _ in 0..20 {
        assert_eq!(app.user(&id).await["email"], "l1@example.com");
        assert_eq!(app.list_emails(0, 100).await.len(), 2);
    }
    assert_eq!(
        get_calls(&app).await,
        before,
        "reads went to Redis despite L1"
    );

    let off = Spawn::new(Backend::Redis, Db::Sqlite)
        .env("CACHE_L1", "false")
        .start()
        .await
        .unwrap();
    off.user("1").await;
    let before = get_calls(&off).await;
    for _ in 0..5 {
        off.user("1").await;
    }
    assert!(
        get_calls(&off).await >= before + 10,
        "with CACHE_L1=false every read asks Redis"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn l1_invalidation_reaches_the_other_instance() {
    let a = redis_app().await;
    let b = TestApp::start_with(
        Spawn::new(Backend::Redis, Db::Sqlite)
            .env("REDIS_URL", &a.redis.as_ref().unwrap().url())
            .env("CACHE_PREFIX", a.prefix()),
        TestDb::shared(&a.db.url),
        None,
    )
    .await;
    await_l1_live(&a).await;
    await_l1_live(&b).await;
    let id = a.create_user("delay@example.com", "USER").await;
    let key = format!("{}user:{id}", a.namespace());
    let b_cache = b.state.users.store().cache().clone();
    let mut delays_us = Vec::new();
    let mut already = 0;
    for round in 0..100 {
        b.user(&id).await;
        assert!(b_cache.l1_holds(&key), "B's L1 holds the user");
        let body = a
            .gql(
                "mutation($id: ID!, $n: String!) { updateUser(id: $id, input: { fullName: $n }) { id } }",
                json!({ "id": id, "n": format!("R{round}") }),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
        let returned = std::time::Instant::now();
        if !b_cache.l1_holds(&key) {
            already += 1;
        }
        while b_cache.l1_holds(&key) {
            assert!(
                returned.elapsed() < std::time::Duration::from_secs(5),
                "the invalidation never reached B"
            );
            tokio::task::yield_now().await;
        }
        delays_us.push(returned.elapsed().as_micros() as u64);
        assert_eq!(b.user(&id).await["fullName"], format!("R{round}"));
    }
    delays_us.sort();
    eprintln!(
        "L1 invalidation on the other instance, after the mutation returned: {already}/100 already done; p50 {} µs, p99 {} µs, max {} µs",
        delays_us[49], delays_us[98], delays_us[99]
    );
}
