//! `cacheStats` on Redis: hits and misses per kind, the hit rate, and what Redis reports.
use serde_json::{Value, json};

use crate::helpers::{Backend, Db, Spawn};

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
    // The built-in kinds, then those of the products extension every test app carries.
    assert_eq!(
        kinds,
        ["user", "email", "list", "aggregate", "product", "sku"]
    );
}
