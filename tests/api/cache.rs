//! The Redis cache: keys and TTLs, stats, clearing, and staying up (and correct) when Redis is
//! down at start, paused, or killed and restarted.
use fred::prelude::*;
use futures::TryStreamExt;
use serde_json::{Value, json};

use crate::helpers::{Backend, Db, RedisServer, Spawn, TestApp, TestDb, code};

async fn redis_app() -> TestApp {
    TestApp::spawn(Backend::Redis, Db::Sqlite).await.unwrap()
}

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
        format!("{p}{{users}}:stats"),
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
    // user entries live CACHE_USER_TTL ± 10%, lists CACHE_DEFAULT_TTL ± 10%
    let user_ttl: i64 = client.ttl(format!("{p}user:1")).await.unwrap();
    assert!((540..=660).contains(&user_ttl), "{user_ttl}");
    let list_ttl: i64 = client
        .ttl(format!("{p}{{users}}:list:0:100"))
        .await
        .unwrap();
    assert!((270..=330).contains(&list_ttl), "{list_ttl}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_stats_report_hits_and_redis() {
    // Lookups are what is counted here: whole responses would skip them.
    let app = Spawn::new(Backend::Redis, Db::Sqlite)
        .env("CACHE_RESPONSES", "false")
        .start()
        .await
        .unwrap();
    let stats = || async {
        app.gql(
            "{ cacheStats { status backend hits misses errors hitRate keys usedMemory usedMemoryHuman connectedClients keyspaceHits keyspaceMisses byKind { kind hits misses errors hitRate } } }",
            json!({}),
        )
        .await["data"]["cacheStats"]
            .clone()
    };
    app.list_emails(0, 10).await;
    let before = stats().await;
    for _ in 0..5 {
        app.list_emails(0, 10).await;
    }
    let after = stats().await;
    assert_eq!(after["status"], "AVAILABLE");
    assert_eq!(after["backend"], "redis");
    let list = |s: &Value| {
        s["byKind"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kind"] == "list")
            .unwrap()
            .clone()
    };
    assert_eq!(
        list(&after)["hits"].as_i64().unwrap() - list(&before)["hits"].as_i64().unwrap(),
        5
    );
    assert_eq!(list(&after)["misses"], list(&before)["misses"]);
    let (h, m) = (
        after["hits"].as_f64().unwrap(),
        after["misses"].as_f64().unwrap(),
    );
    assert_eq!(
        after["hitRate"].as_f64().unwrap(),
        (h / (h + m) * 10000.0).round() / 100.0
    );
    assert!(after["keys"].as_i64().unwrap() >= 3, "{after}");
    assert!(after["usedMemory"].as_i64().unwrap() > 0);
    assert!(after["usedMemoryHuman"].as_str().is_some());
    assert!(after["connectedClients"].as_i64().unwrap() >= 1);
    assert!(after["keyspaceHits"].as_i64().is_some() && after["keyspaceMisses"].as_i64().is_some());
    let kinds: Vec<&str> = after["byKind"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["user", "email", "list", "aggregate"]);
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
