//! What the cache writes to Redis and how it is cleared: every key has a TTL and holds no
//! password material, `clearCache` stays inside the namespace, and no `KEYS` or `FLUSH*` is
//! ever issued.
use fred::prelude::*;
use futures::TryStreamExt;
use serde_json::json;

use super::redis_app;
use crate::helpers::{TestApp, code};

async fn keys_with_prefix(client: &Client, prefix: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut scan = Box::pin(client.scan_buffered(format!("{prefix}*"), Some(100), None));
    while let Some(key) = scan.try_next().await.unwrap() {
        keys.push(key.into_string().unwrap());
    }
    keys.sort();
    keys
}

/// A workload that touches every kind of entry.
async fn workload(app: &TestApp) -> String {
    let id = app.create_user("work@example.com", "USER").await;
    app.user(&id).await;
    app.user("424242").await;
    app.gql(
        "{ userByEmail(email: \"work@example.com\") { id } }",
        json!({}),
    )
    .await;
    app.list_emails(0, 100).await;
    app.gql("{ userStats { total } }", json!({})).await;
    app.gql(
        "mutation($id: ID!) { updateUser(id: $id, input: { email: \"work2@example.com\", password: \"another-pass-1\" }) { id } }",
        json!({ "id": id }),
    )
    .await;
    let gone = app.create_user("gone@example.com", "USER").await;
    app.gql(
        "mutation($id: ID!) { deleteUser(id: $id) }",
        json!({ "id": gone }),
    )
    .await;
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_key_has_a_ttl_and_no_password_material() {
    let app = redis_app().await;
    workload(&app).await;
    let client = app.redis.as_ref().unwrap().client().await;
    let keys = keys_with_prefix(&client, app.namespace()).await;
    let p = app.namespace();
    for expected in [
        format!("{p}user:1"),
        format!("{p}email:work2@example.com"),
        format!("{p}{{users}}:gen"),
        format!("{p}{{users}}:list:0:100"),
        format!("{p}{{user-counts}}:stats"),
    ] {
        assert!(keys.contains(&expected), "{expected} missing from {keys:?}");
    }
    assert!(
        !keys.contains(&format!("{p}email:work@example.com")),
        "old email pointer left behind"
    );
    for key in &keys {
        let ttl: i64 = client.pttl(key.as_str()).await.unwrap();
        assert!(ttl > 0, "{key} has no TTL ({ttl})");
        let value: String = client.get(key.as_str()).await.unwrap();
        for secret in ["argon2", "password", "$v=19", "another-pass-1"] {
            assert!(
                !value.to_lowercase().contains(secret),
                "{key} holds {secret}: {value}"
            );
        }
    }
    // user entries live at most CACHE_USER_TTL (spread 10% below it), lists CACHE_DEFAULT_TTL
    let user_ttl: i64 = client.ttl(format!("{p}user:1")).await.unwrap();
    assert!((540..=600).contains(&user_ttl), "{user_ttl}");
    let list_ttl: i64 = client
        .ttl(format!("{p}{{users}}:list:0:100"))
        .await
        .unwrap();
    assert!((270..=300).contains(&list_ttl), "{list_ttl}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clear_cache_deletes_only_inside_the_namespace() {
    let app = redis_app().await;
    let id = workload(&app).await;
    let client = app.redis.as_ref().unwrap().client().await;
    let p = app.namespace().to_owned();
    // neighbours sharing the Redis: no prefix, another prefix, and one that extends ours
    for foreign in ["user:1", "other:user:1", &format!("x{p}user:1")] {
        let _: () = client
            .set(foreign, "keep", Some(Expiration::EX(60)), None, false)
            .await
            .unwrap();
    }
    let users_before = keys_with_prefix(&client, &format!("{p}user:")).await.len() as i64;
    let body = app
        .gql(
            "mutation { clearCache(pattern: \"user:*\") { cleared pattern } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["clearCache"],
        json!({ "cleared": users_before, "pattern": "user:*" }),
        "{body}"
    );
    assert!(
        keys_with_prefix(&client, &format!("{p}user:"))
            .await
            .is_empty()
    );
    assert!(
        !keys_with_prefix(&client, &format!("{p}{{users}}"))
            .await
            .is_empty(),
        "other kinds stay"
    );

    // the admin's own entry is refilled by the next request's auth; count it in
    app.gql("{ me { id } }", json!({})).await;
    let all_before = keys_with_prefix(&client, &p).await.len() as i64;
    let body = app
        .gql("mutation { clearCache { cleared pattern } }", json!({}))
        .await;
    // (a lease taken by the clearing request's own auth lookup may be counted too)
    let cleared = body["data"]["clearCache"]["cleared"].as_i64().unwrap();
    assert!(
        (all_before..=all_before + 1).contains(&cleared),
        "{body} vs {all_before}"
    );
    assert_eq!(body["data"]["clearCache"]["pattern"], "*");
    assert!(keys_with_prefix(&client, &p).await.is_empty());
    for foreign in ["user:1", "other:user:1", &format!("x{p}user:1")] {
        let v: Option<String> = client.get(foreign).await.unwrap();
        assert_eq!(v.as_deref(), Some("keep"), "{foreign} was deleted");
    }
    // the app still answers, and refills
    assert_eq!(app.user(&id).await["email"], "work2@example.com");
    assert_eq!(app.list_emails(0, 100).await.len(), 2);

    for bad in ["", "[abc", "abc\\"] {
        let body = app
            .gql(
                "mutation($p: String!) { clearCache(pattern: $p) { cleared } }",
                json!({ "p": bad }),
            )
            .await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{bad}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_keys_command_is_ever_issued() {
    let app = redis_app().await;
    workload(&app).await;
    app.gql("{ cacheStats { keys } }", json!({})).await;
    app.gql(
        "mutation { clearCache(pattern: \"email:*\") { cleared } }",
        json!({}),
    )
    .await;
    let client = app.redis.as_ref().unwrap().client().await;
    let stats: String = client
        .info(Some(fred::types::InfoKind::CommandStats))
        .await
        .unwrap();
    assert!(
        stats.contains("cmdstat_get") || stats.contains("cmdstat_mget"),
        "{stats}"
    );
    assert!(
        stats.contains("cmdstat_scan"),
        "clearing and counting use SCAN: {stats}"
    );
    assert!(!stats.contains("cmdstat_keys:"), "KEYS was issued: {stats}");
    assert!(!stats.contains("cmdstat_flushdb") && !stats.contains("cmdstat_flushall"));
}
