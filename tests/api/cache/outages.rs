//! Staying up, and correct, when Redis is down at start, paused, or killed and restarted.
use fred::prelude::*;
use serde_json::json;

use super::redis_app;
use crate::helpers::{Backend, Db, RedisServer, Spawn};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_and_answers_with_redis_down_then_uses_it_when_it_comes() {
    let mut redis = RedisServer::not_started();
    let app = Spawn::new(Backend::Redis, Db::Sqlite)
        .env("REDIS_URL", &redis.url())
        .start()
        .await
        .unwrap();
    let id = app.create_user("early@example.com", "USER").await;
    assert_eq!(app.user(&id).await["email"], "early@example.com");
    assert_eq!(app.list_emails(0, 10).await.len(), 2);
    let stats = app
        .gql("{ cacheStats { status keys usedMemory } }", json!({}))
        .await;
    assert_eq!(
        stats["data"]["cacheStats"],
        json!({ "status": "UNAVAILABLE", "keys": null, "usedMemory": null })
    );
    app.await_cache_status("unavailable").await;

    redis.restart().await;
    app.await_cache_status("available").await;
    // a write made while Redis was away is visible, and the cache fills again
    assert_eq!(app.user(&id).await["email"], "early@example.com");
    app.user(&id).await;
    let client = redis.client().await;
    let p = app.namespace();
    assert!(
        client
            .exists::<i64, _>(format!("{p}user:{id}"))
            .await
            .unwrap()
            == 1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_redis_serves_from_the_database_and_nothing_is_stale_after() {
    let app = redis_app().await;
    let id = app.create_user("paused@example.com", "USER").await;
    assert_eq!(app.name_of(&id).await, "Test User");
    assert!(
        app.list_emails(0, 100)
            .await
            .contains(&"paused@example.com".to_owned())
    );

    app.redis.as_ref().unwrap().pause();
    app.rename(&id, "During Pause").await;
    assert_eq!(app.name_of(&id).await, "During Pause");
    app.create_user("while-paused@example.com", "USER").await;
    assert!(
        app.list_emails(0, 100)
            .await
            .contains(&"while-paused@example.com".to_owned())
    );

    app.redis.as_ref().unwrap().resume();
    app.await_cache_status("available").await;
    for _ in 0..3 {
        assert_eq!(app.name_of(&id).await, "During Pause");
        assert!(
            app.list_emails(0, 100)
                .await
                .contains(&"while-paused@example.com".to_owned())
        );
    }
    let stats = app.gql("{ cacheStats { status errors } }", json!({})).await;
    assert_eq!(stats["data"]["cacheStats"]["status"], "AVAILABLE");
    assert!(stats["data"]["cacheStats"]["errors"].as_i64().unwrap() >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_and_restarted_redis_fails_no_request() {
    let mut app = redis_app().await;
    let id = app.create_user("killed@example.com", "USER").await;
    assert_eq!(app.name_of(&id).await, "Test User");

    app.redis.as_mut().unwrap().kill();
    for i in 0..5 {
        app.rename(&id, &format!("Outage {i}")).await;
        assert_eq!(app.name_of(&id).await, format!("Outage {i}"));
    }
    let body = app.gql("{ userStats { total } }", json!({})).await;
    assert_eq!(body["data"]["userStats"]["total"], 2);

    app.redis.as_mut().unwrap().restart().await;
    app.await_cache_status("available").await;
    app.rename(&id, "After").await;
    assert_eq!(app.name_of(&id).await, "After");
    assert_eq!(app.name_of(&id).await, "After");
    let stats = app
        .gql("{ cacheStats { byKind { kind hits } } }", json!({}))
        .await;
    let user_hits = stats["data"]["cacheStats"]["byKind"][0]["hits"]
        .as_i64()
        .unwrap();
    assert!(user_hits > 0, "{stats}");
}
