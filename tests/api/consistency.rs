//! The protocol under a Redis killed and restarted beneath a steady load (no request fails), and
//! a write dropped after its commit (it still writes through), and an update acknowledged while
//! an earlier one of the same user is in flight (it covers that one).
//! (Every race, outage and multi-instance case runs on users and products in [`crate::kit`].)
use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::json;

use crate::helpers::{Backend, Db, TestApp};

/// Kill and restart Redis under load: no request fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_and_restarted_under_load_fails_no_request() {
    let mut app = TestApp::spawn(Backend::Redis, Db::Sqlite).await.unwrap();
    let id = app.create_user("load@example.com", "USER").await;
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let mut workers = Vec::new();
    for w in 0..4 {
        let (url, token, id) = (app.url("/graphql"), app.admin_token.clone(), id.clone());
        let (done, stop, failures) = (done.clone(), stop.clone(), failures.clone());
        workers.push(tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let query = if w == 0 && n.is_multiple_of(5) {
                    format!("mutation {{ updateUser(id: \"{id}\", input: {{ fullName: \"W{n}\" }}) {{ id }} }}")
                } else {
                    format!("{{ user(id: \"{id}\") {{ fullName }} users(limit: 20) {{ id }} }}")
                };
                let resp = http.post(&url).bearer_auth(&token).json(&json!({ "query": query })).send().await;
                match resp {
                    Ok(r) => {
                        let body: serde_json::Value = r.json().await.unwrap_or_default();
                        if !body["errors"].is_null() || body["data"].is_null() {
                            failures.lock().unwrap().push(body.to_string());
                        }
                    }
                    Err(e) => failures.lock().unwrap().push(e.to_string()),
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let wait_for = |n: u64| {
        let done = done.clone();
        async move {
            let target = done.load(Ordering::Relaxed) + n;
            let deadline = Instant::now() + Duration::from_secs(60);
            while done.load(Ordering::Relaxed) < target {
                assert!(Instant::now() < deadline, "the load stalled");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };
    wait_for(100).await;
    app.redis.as_mut().unwrap().kill();
    wait_for(100).await;
    app.redis.as_mut().unwrap().restart().await;
    app.await_cache_status("available").await;
    wait_for(100).await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    let failures = failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} failed, e.g. {:?}",
        failures.len(),
        failures.first()
    );
}

/// An app on SQLite and `backend` whose pause points tests can arm.
async fn with_pause_points(backend: Backend) -> TestApp {
    crate::helpers::Spawn::new(backend, Db::Sqlite)
        .with_pause_points()
        .start()
        .await
        .unwrap()
}

/// A write whose caller is dropped after its commit (the client went away, a timeout, shutdown)
/// still writes through: the entry never stays older than the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_dropped_after_its_commit_still_writes_through() {
    use cachegraph::{cache::pause::Point, db::UserChanges};
    for backend in [Backend::Redis, Backend::Memory] {
        let app = with_pause_points(backend).await;
        let id = app.create_user("dropped@example.com", "USER").await;
        app.name_of(&id).await; // cached
        let key = crate::kit::key::<crate::kit::Users>(&app, &id);
        let mut gate = app.points().arm(Point::BeforeWriteThrough, &key);
        let store = app.state.users.store().clone();
        let user_id: i64 = id.parse().unwrap();
        let writer = tokio::spawn(async move {
            let changes = UserChanges {
                full_name: Some("Dropped".into()),
                ..UserChanges::default()
            };
            store.update(user_id, changes).await
        });
        gate.reached().await; // committed, its write-through held
        writer.abort();
        assert!(
            writer.await.unwrap_err().is_cancelled(),
            "the writer was dropped"
        );
        gate.release();
        let deadline = Instant::now() + Duration::from_secs(5);
        while app.name_of(&id).await != "Dropped" {
            assert!(
                Instant::now() < deadline,
                "{backend:?}: the dropped write never reached the cache"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// A role change commits and stalls before its write-through (which moves `userStats`); a
/// rename of the same user is acknowledged meanwhile. The rename moves nothing by itself, but
/// it comes after the role change and must cover it: `userStats` counts the new admin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_acknowledged_after_one_still_in_flight_covers_it() {
    use cachegraph::cache::pause::Point;
    for backend in [Backend::Redis, Backend::Memory] {
        let app = with_pause_points(backend).await;
        let id = app.create_user("in-flight@example.com", "USER").await;
        let admins = async || {
            let body = app.gql("{ userStats { admins } }", json!({})).await;
            body["data"]["userStats"]["admins"].as_u64().unwrap()
        };
        assert_eq!(admins().await, 1); // loaded and cached
        let key = crate::kit::key::<crate::kit::Users>(&app, &id);
        let mut gate = app.points().arm(Point::BeforeWriteThrough, &key);
        let promote =
            format!("mutation {{ updateUser(id: \"{id}\", input: {{ role: ADMIN }}) {{ id }} }}");
        let promoting = app.spawn_gql(promote);
        gate.reached().await; // committed; its write-through held
        let rename = format!(
            "mutation {{ updateUser(id: \"{id}\", input: {{ fullName: \"After\" }}) {{ role }} }}"
        );
        let renamed = app.gql(&rename, json!({})).await;
        assert_eq!(renamed["data"]["updateUser"]["role"], "ADMIN", "{renamed}");
        assert_eq!(
            admins().await,
            2,
            "{backend:?}: the promotion is not counted"
        );
        gate.release();
        assert!(promoting.await.unwrap()["errors"].is_null());
    }
}
