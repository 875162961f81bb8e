//! The consistency protocol under races, outages and several instances: after a mutation
//! returns, every read through any instance returns that value or a newer one.
//!
//! Interleavings are driven step by step with the protocol's pause points; the stress test
//! checks every read of a randomized run against the writes that had returned before it began.
use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use cachegraph::cache::pause::Point;
use fred::prelude::*;
use serde_json::json;

use crate::{
    helpers::{Backend, Db, Spawn, TestApp},
    topology::{Redis, Topology},
};

async fn paused_app(backend: Backend) -> TestApp {
    Spawn::new(backend, Db::Sqlite)
        .with_pause_points()
        .start()
        .await
        .unwrap()
}

/// The version and full name stored in Redis for a user, if any.
pub async fn cached_user(app: &TestApp, id: &str) -> Option<(u64, String)> {
    let client = app.redis_client().await;
    let raw: Option<String> = client
        .get(format!("{}user:{id}", app.namespace()))
        .await
        .unwrap();
    let raw = raw?;
    let v: serde_json::Value = serde_json::from_str(&raw).unwrap();
    Some((
        v["v"].as_u64().unwrap(),
        v["d"]["full_name"].as_str().unwrap_or("").to_owned(),
    ))
}

pub async fn db_user(app: &TestApp, id: &str) -> (u64, String) {
    let row = app
        .state
        .users
        .store()
        .repo()
        .find_by_id(id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    (row.version as u64, row.full_name)
}

/// 1. A reader loads the old row and stalls; a writer commits and writes through; the reader's
/// late fill must not replace the new value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_set_is_dropped() {
    for backend in [Backend::Redis, Backend::Memory] {
        let app = paused_app(backend).await;
        let id = app.create_user("stale@example.com", "USER").await;
        app.gql(
            &format!("mutation {{ clearCache(pattern: \"user:{id}\") {{ cleared }} }}"),
            json!({}),
        )
        .await;
        let key = format!("{}user:{id}", app.namespace());
        let mut gate = app.points().arm(Point::BeforeFill, &key);
        let reader = app.spawn_gql(format!("{{ user(id: \"{id}\") {{ fullName }} }}"));
        gate.reached().await; // the reader holds the old row
        app.rename(&id, "New").await;
        gate.release();
        assert_eq!(
            reader.await.unwrap()["data"]["user"]["fullName"],
            "Test User",
            "the reader overlapped the write"
        );
        assert_eq!(
            app.name_of(&id).await,
            "New",
            "{backend:?}: stale fill replaced the write"
        );
        assert_eq!(app.name_of(&id).await, "New");
        if backend == Backend::Redis {
            assert_eq!(
                cached_user(&app, &id).await.unwrap(),
                db_user(&app, &id).await
            );
        }
    }
}

/// 1, for lists: a page loaded before a create must not be served after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_list_fill_is_never_served() {
    let app = paused_app(Backend::Redis).await;
    let key = format!("{}{{users}}:list:0:100", app.namespace());
    let mut gate = app.points().arm(Point::BeforeFill, &key);
    let reader = app.spawn_gql("{ users { email } }".to_owned());
    gate.reached().await;
    app.create_user("late@example.com", "USER").await;
    gate.release();
    assert!(reader.await.unwrap()["errors"].is_null());
    assert!(
        app.list_emails(0, 100)
            .await
            .contains(&"late@example.com".to_owned())
    );
}

/// 3. Two updates commit in one order and reach the cache in the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_out_of_order_keep_the_newest() {
    for backend in [Backend::Redis, Backend::Memory] {
        let app = paused_app(backend).await;
        let id = app.create_user("order@example.com", "USER").await;
        app.name_of(&id).await;
        let key = format!("{}user:{id}", app.namespace());
        let mut gate = app.points().arm(Point::BeforeWriteThrough, &key);
        let first = app.spawn_gql(format!(
            "mutation {{ updateUser(id: \"{id}\", input: {{ fullName: \"First\" }}) {{ id }} }}"
        ));
        gate.reached().await; // "First" is committed, its write-through held
        app.rename(&id, "Second").await;
        gate.release();
        assert!(first.await.unwrap()["errors"].is_null());
        assert_eq!(app.name_of(&id).await, "Second", "{backend:?}");
        if backend == Backend::Redis {
            assert_eq!(
                cached_user(&app, &id).await.unwrap(),
                db_user(&app, &id).await
            );
        }
    }
}

/// 6. A fill our code gave up on (timed out while Redis was paused) executes later, over a
/// newer value: it must be dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_that_outlive_their_caller_cannot_regress() {
    let app = paused_app(Backend::Redis).await;
    let id = app.create_user("late-cmd@example.com", "USER").await;
    app.gql(
        &format!("mutation {{ clearCache(pattern: \"user:{id}\") {{ cleared }} }}"),
        json!({}),
    )
    .await;
    let key = format!("{}user:{id}", app.namespace());
    let mut gate = app.points().arm(Point::BeforeFill, &key);
    let reader = app.spawn_gql(format!("{{ user(id: \"{id}\") {{ fullName }} }}"));
    gate.reached().await;
    app.rename(&id, "Newer").await;
    app.redis.as_ref().unwrap().pause();
    gate.release(); // the old fill goes out to a paused Redis and times out
    assert!(reader.await.unwrap()["errors"].is_null());
    app.redis.as_ref().unwrap().resume(); // ... and runs now
    app.await_cache_status("available").await;
    assert_eq!(app.name_of(&id).await, "Newer");
    assert_eq!(
        cached_user(&app, &id).await.unwrap(),
        db_user(&app, &id).await
    );
}

/// 2 and 5. Redis paused while one instance updates; after it resumes, both instances read the
/// new value, and so do lists. On every topology.
async fn write_during_an_outage_is_seen_by_every_instance_after(topology: Topology) {
    let redis = Redis::start(topology).await;
    let (a, b) = redis.pair(Db::Sqlite).await.unwrap();
    let id = a.create_user("outage@example.com", "USER").await;
    for app in [&a, &b] {
        assert_eq!(app.name_of(&id).await, "Test User");
        app.list_emails(0, 100).await;
    }
    redis.pause();
    a.rename(&id, "During Outage").await;
    a.create_user("outage2@example.com", "USER").await;
    redis.resume();
    for app in [&b, &a, &b] {
        assert_eq!(app.name_of(&id).await, "During Outage");
        assert!(
            app.list_emails(0, 100)
                .await
                .contains(&"outage2@example.com".to_owned())
        );
    }
    a.await_cache_status("available").await;
    b.await_cache_status("available").await;
    for app in [&b, &a] {
        assert_eq!(app.name_of(&id).await, "During Outage");
    }
}

/// 5. A write through one instance is seen by the other's next read, on every topology.
async fn two_instances_see_each_others_writes(topology: Topology) {
    let redis = Redis::start(topology).await;
    let (a, b) = redis.pair(Db::Sqlite).await.unwrap();
    let id = a.create_user("pair@example.com", "USER").await;
    for round in 0..5 {
        let (writer, reader) = if round % 2 == 0 { (&a, &b) } else { (&b, &a) };
        assert!(
            reader
                .list_emails(0, 100)
                .await
                .contains(&"pair@example.com".to_owned())
        );
        reader.name_of(&id).await;
        writer.rename(&id, &format!("Round {round}")).await;
        assert_eq!(reader.name_of(&id).await, format!("Round {round}"));
        let body = reader
            .gql(
                "query($e: String!) { userByEmail(email: $e) { fullName } }",
                json!({ "e": "pair@example.com" }),
            )
            .await;
        assert_eq!(
            body["data"]["userByEmail"]["fullName"],
            format!("Round {round}")
        );
    }
}

crate::each_topology!(
    write_during_an_outage_is_seen_by_every_instance_after,
    two_instances_see_each_others_writes,
    stampede_across_instances_loads_at_most_once_per_process,
);

async fn concurrent<F, Fut>(n: usize, f: F) -> Vec<serde_json::Value>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = serde_json::Value>,
{
    futures::future::join_all((0..n).map(f)).await
}

/// 4. 200 concurrent requests for one cold key: one database load.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stampede_on_a_cold_key_loads_once() {
    for backend in [Backend::Redis, Backend::Memory] {
        let app = TestApp::spawn(backend, Db::Sqlite).await.unwrap();
        let id = app.create_user("hot@example.com", "USER").await;
        app.gql("{ me { id } }", json!({})).await; // the caller's own entry is warm
        // the create made every list cold
        let before = app.db_loads();
        let bodies = concurrent(200, |_| app.gql("{ users(limit: 50) { id } }", json!({}))).await;
        assert!(bodies.iter().all(|b| b["errors"].is_null() && b["data"]["users"].as_array().unwrap().len() == 2));
        assert_eq!(app.db_loads() - before, 1, "{backend:?}: list stampede");

        app.gql(
            &format!("mutation {{ clearCache(pattern: \"user:{id}\") {{ cleared }} }}"),
            json!({}),
        )
        .await;
        let before = app.db_loads();
        let q = format!("{{ user(id: \"{id}\") {{ email }} }}");
        let bodies = concurrent(200, |_| app.gql(&q, json!({}))).await;
        assert!(
            bodies
                .iter()
                .all(|b| b["data"]["user"]["email"] == "hot@example.com")
        );
        assert_eq!(app.db_loads() - before, 1, "{backend:?}: user stampede");
    }
}

/// 4 and 5. Across two instances, a short lease keeps the herd off the database: at most one
/// load per process. On every topology.
async fn stampede_across_instances_loads_at_most_once_per_process(topology: Topology) {
    let redis = Redis::start(topology).await;
    let (a, b) = redis.pair(Db::Sqlite).await.unwrap();
    a.create_user("herd@example.com", "USER").await;
    for app in [&a, &b] {
        app.gql("{ me { id } }", json!({})).await;
    }
    let (before_a, before_b) = (a.db_loads(), b.db_loads());
    let bodies = concurrent(200, |i| {
        let app = if i % 2 == 0 { &a } else { &b };
        app.gql("{ users(limit: 50) { id } }", json!({}))
    })
    .await;
    assert!(bodies.iter().all(|b| b["errors"].is_null()));
    let (la, lb) = (a.db_loads() - before_a, b.db_loads() - before_b);
    assert!(la <= 1 && lb <= 1 && la + lb >= 1, "loads: a={la} b={lb}");
}

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
