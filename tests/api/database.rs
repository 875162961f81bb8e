//! PostgreSQL dropping every connection, as a restart or a failover does (here
//! `pg_terminate_backend` on each of the app's backends): no read fails. A connection idle for
//! a second or more is checked before it is handed out; a read on one busy until the drop runs
//! again on another (`src/db/retry.rs`), and the pool replaces the dropped ones. Skipped
//! without `TEST_DATABASE_URL`.
use std::time::Duration;

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use serde_json::{Value, json};

use crate::helpers::{Backend, Db, Spawn, TestApp};

/// The app's pool size here.
const POOL: usize = 4;

/// An app with no cache, so every request runs statements (the caller's lookup and the counts).
async fn app() -> Option<(TestApp, DatabaseConnection)> {
    let app = Spawn::new(Backend::None, Db::Postgres)
        .env("DATABASE_MAX_CONNECTIONS", &POOL.to_string())
        .start()
        .await?;
    let base = std::env::var("TEST_DATABASE_URL").expect("set when the app started");
    let admin = Database::connect(&base)
        .await
        .expect("TEST_DATABASE_URL answers");
    Some((app, admin))
}

fn database_name(app: &TestApp) -> String {
    let url = url::Url::parse(&app.db.url).expect("a URL");
    url.path().trim_start_matches('/').to_owned()
}

async fn backends(admin: &DatabaseConnection, name: &str) -> usize {
    let sql = format!("SELECT pid FROM pg_stat_activity WHERE datname = '{name}'");
    let rows = admin.query_all_raw(Statement::from_string(DbBackend::Postgres, sql));
    rows.await.expect("pg_stat_activity").len()
}

/// Terminates every backend of the app's database, and waits until they are gone.
async fn drop_connections(app: &TestApp, admin: &DatabaseConnection) -> usize {
    let name = database_name(app);
    let sql =
        format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'");
    let rows = admin.query_all_raw(Statement::from_string(DbBackend::Postgres, sql));
    let dropped = rows.await.expect("pg_terminate_backend").len();
    // The backends exit on their own time; PostgreSQL has no event to wait on.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while backends(admin, &name).await > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "backends still there"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    dropped
}

/// Opens every connection of the pool (concurrent requests), then leaves them idle.
async fn warm(app: &TestApp) {
    let asks = (0..2 * POOL).map(|_| ask(app));
    for body in futures::future::join_all(asks).await {
        assert!(body["errors"].is_null(), "{body}");
    }
}

async fn ask(app: &TestApp) -> Value {
    app.gql("{ userStats { total } }", json!({})).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_on_connections_busy_until_the_database_dropped_them_still_answer() {
    let Some((app, admin)) = app().await else {
        return;
    };
    warm(&app).await;
    assert!(drop_connections(&app, &admin).await > 0);
    // Each request's first statements land on dropped connections (used within the second,
    // so not pinged); the reads run again on others until one is new.
    for i in 0..2 * POOL {
        let body = ask(&app).await;
        assert!(body["errors"].is_null(), "request {i}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_quiet_second_a_dropped_connection_costs_no_request() {
    let Some((app, admin)) = app().await else {
        return;
    };
    warm(&app).await;
    // Idle past the pool's threshold (a second): each connection is pinged before reuse.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert!(drop_connections(&app, &admin).await > 0);
    for i in 0..2 * POOL {
        let body = ask(&app).await;
        assert!(body["errors"].is_null(), "request {i}: {body}");
    }
}
