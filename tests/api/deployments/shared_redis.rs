//! Two deployments (two databases) on one Redis with the same `CACHE_PREFIX` share nothing.
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, Db, PASSWORD, Spawn, TestApp, TestDb, code},
    topology::{Redis, Topology},
};

/// Case 2: two deployments (two databases) on one Redis with the same `CACHE_PREFIX` never see
/// each other's users, roles or tokens' callers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_databases_on_one_redis_share_nothing() {
    let redis = Redis::start(Topology::Single).await;
    let spec = |db| {
        Spawn::new(Backend::Redis, db)
            .env("REDIS_URL", &redis.url())
            .env("CACHE_PREFIX", "cachegraph:")
    };
    let a = TestApp::start_with(
        spec(Db::Sqlite),
        TestDb::create(Db::Sqlite).await.unwrap(),
        None,
    )
    .await;
    let b = TestApp::start_with(
        spec(Db::Sqlite),
        TestDb::create(Db::Sqlite).await.unwrap(),
        None,
    )
    .await;
    // The same id is an ADMIN in A and a USER in B; A's entry is warm.
    let in_a = a.create_user("boss@example.com", "ADMIN").await;
    let (in_b, token_b) = b.user_with_token("intern@example.com").await;
    assert_eq!(
        in_a, in_b,
        "both databases give the second user the same id"
    );
    a.user(&in_a).await;
    a.user(&in_a).await;
    let only_a = a.create_user("only-in-a@example.com", "USER").await;
    a.user(&only_a).await;

    assert_eq!(
        b.user(&only_a).await,
        Value::Null,
        "a user of A served by B"
    );
    let me = b
        .gql_as(Some(&token_b), "{ me { email role } }", json!({}))
        .await;
    assert_eq!(me["data"]["me"]["email"], "intern@example.com", "{me}");
    assert_eq!(me["data"]["me"]["role"], "USER", "{me}");
    let stats = b
        .gql_as(Some(&token_b), "{ cacheStats { keys } }", json!({}))
        .await;
    assert_eq!(code(&stats), "FORBIDDEN", "{stats}");
    let login = b
        .gql(
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }",
            json!({ "e": "boss@example.com", "p": PASSWORD }),
        )
        .await;
    assert!(login["data"].is_null(), "A's admin logged in to B: {login}");
    assert_ne!(a.namespace(), b.namespace());
}
