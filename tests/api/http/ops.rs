//! What operators rely on: `/health`, Prometheus `/metrics`, and starting on a fresh SQLite
//! file (twice, migrating nothing the second time).
use serde_json::{Value, json};

use super::app_without_cors;
use crate::helpers::{Backend, Db, Spawn, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_database_and_cache() {
    let app = TestApp::spawn(Backend::Redis, Db::Sqlite).await.unwrap();
    let resp = app.http.get(app.url("/health")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["database"], "up");
    assert_eq!(
        body["cache"],
        json!({ "backend": "redis", "status": "available" })
    );
    let none = app_without_cors().await;
    let body = none.health().await;
    assert_eq!(body["cache"]["status"], "disabled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_on_a_fresh_sqlite_file_in_a_new_folder() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/deeper/app.db");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let app = Spawn::new(Backend::None, Db::Sqlite)
        .env("DATABASE_URL", &url)
        .start()
        .await
        .unwrap();
    assert!(path.exists());
    assert_eq!(app.list_emails(0, 10).await, vec!["admin@example.com"]);
    drop(app);
    // a second start on the same file migrates nothing and creates no second admin
    let again = Spawn::new(Backend::None, Db::Sqlite)
        .env("DATABASE_URL", &url)
        .start()
        .await
        .unwrap();
    assert_eq!(again.list_emails(0, 10).await, vec!["admin@example.com"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_exported_in_prometheus_format() {
    let app = TestApp::spawn(Backend::Redis, Db::Sqlite).await.unwrap();
    app.gql("query Listing { users { id } }", json!({})).await;
    app.gql("query Listing { users { id } }", json!({})).await;
    app.gql("{ nope }", json!({})).await;
    let resp = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = resp.text().await.unwrap();
    for line in [
        "cachegraph_graphql_requests_total{operation=\"Listing\",outcome=\"ok\"} 2",
        "cachegraph_graphql_requests_total{operation=\"anonymous\",outcome=\"error\"} 1",
        "cachegraph_cache_lookups_total{kind=\"list\",result=\"hit\"} 1",
        "cachegraph_cache_lookups_total{kind=\"list\",result=\"miss\"} 1",
        "cachegraph_cache_breaker_open 0",
        "cachegraph_redis_up 1",
    ] {
        assert!(text.contains(line), "missing `{line}` in\n{text}");
    }
    assert!(
        text.contains("cachegraph_graphql_request_duration_seconds_bucket{operation=\"Listing\"")
    );
    // L1's counts: the second listing read its entries from L1 (after a barrier round).
    let event = |name: &str| -> u64 {
        let prefix = format!("cachegraph_l1_events{{event=\"{name}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .unwrap_or_else(|| panic!("no L1 {name} count in\n{text}"))
            .parse()
            .unwrap()
    };
    assert!(
        event("served") > 0 && event("fetched") > 0 && event("rounds") > 0,
        "{text}"
    );
    assert_eq!(event("rounds_failed"), 0);
}
