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

use crate::helpers::{Backend, Db, Spawn, TestApp};

async fn paused_app(backend: Backend) -> TestApp {
    Spawn::new(backend, Db::Sqlite)
        .with_pause_points()
        .start()
        .await
        .unwrap()
}

/// The version and full name stored in Redis for a user, if any.
async fn cached_user(app: &TestApp, id: &str) -> Option<(u64, String)> {
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

async fn db_user(app: &TestApp, id: &str) -> (u64, String) {
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
/// new value, and so do lists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_during_an_outage_is_seen_by_every_instance_after() {
    let a = TestApp::spawn(Backend::Redis, Db::Sqlite).await.unwrap();
    let b = a.sibling().await;
    let id = a.create_user("outage@example.com", "USER").await;
    for app in [&a, &b] {
        assert_eq!(app.name_of(&id).await, "Test User");
        app.list_emails(0, 100).await;
    }
    a.redis.as_ref().unwrap().pause();
    a.rename(&id, "During Outage").await;
    a.create_user("outage2@example.com", "USER").await;
    a.redis.as_ref().unwrap().resume();
    a.await_cache_status("available").await;
    for app in [&b, &a, &b] {
        assert_eq!(app.name_of(&id).await, "During Outage");
        assert!(
            app.list_emails(0, 100)
                .await
                .contains(&"outage2@example.com".to_owned())
        );
    }
}

/// 5. A write through one instance is seen by the other's next read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_see_each_others_writes() {
    let a = TestApp::spawn(Backend::Redis, Db::Sqlite).await.unwrap();
    let b = a.sibling().await;
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
/// load per process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stampede_across_instances_loads_at_most_once_per_process() {
    let a = TestApp::spawn(Backend::Redis, Db::Sqlite).await.unwrap();
    let b = a.sibling().await;
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

/// (user index, start time, stamp read, how it was read).
type Read = (usize, Instant, u64, &'static str);

/// Per user: (completion time, stamp) of each write that returned, in order.
type WriteLog = Mutex<Vec<(Instant, u64)>>;

/// A randomized run: writers rename a few users through two instances while readers read them
/// by id, by email and in lists. No read may return a value older than a write that had
/// returned before the read began; afterwards every cached entry equals the database.
async fn stress(db: Db) {
    let Some(a) = Spawn::new(Backend::Redis, db).start().await else {
        return;
    };
    let b = a.sibling().await;
    let apps = Arc::new([a, b]);
    let users: Vec<String> = {
        let mut v = Vec::new();
        for i in 0..3 {
            v.push(
                apps[0]
                    .create_user(&format!("stress{i}@example.com"), "USER")
                    .await,
            );
        }
        v
    };
    let secs: u64 = std::env::var("STRESS_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let deadline = Instant::now() + Duration::from_secs(secs);
    // per user: (completion time, stamp) of each returned write, in order
    let writes: Arc<Vec<WriteLog>> = Arc::new(users.iter().map(|_| Mutex::default()).collect());
    // (user index, start time, stamp read, how it was read)
    let reads: Arc<Mutex<Vec<Read>>> = Arc::default();
    let stamp_of = |name: &str| -> u64 {
        name.strip_prefix('s')
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };

    let mut tasks = Vec::new();
    for (u, id) in users.iter().enumerate() {
        let (apps, writes, id) = (apps.clone(), writes.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            let mut stamp = 0;
            while Instant::now() < deadline {
                stamp += 1;
                apps[stamp as usize % 2]
                    .rename(&id, &format!("s{stamp}"))
                    .await;
                writes[u].lock().unwrap().push((Instant::now(), stamp));
            }
        }));
    }
    for r in 0..4 {
        let (apps, reads, users) = (apps.clone(), reads.clone(), users.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0usize;
            while Instant::now() < deadline {
                n += 1;
                let app = &apps[(n + r) % 2];
                let u = (n * 7 + r) % users.len();
                let start = Instant::now();
                match n % 3 {
                    0 => {
                        let emails = app
                            .gql("{ users(limit: 100) { email fullName } }", json!({}))
                            .await;
                        for user in emails["data"]["users"].as_array().unwrap() {
                            let email = user["email"].as_str().unwrap();
                            if let Some(i) = email
                                .strip_prefix("stress")
                                .and_then(|e| e.strip_suffix("@example.com"))
                            {
                                let name = user["fullName"].as_str().unwrap();
                                reads.lock().unwrap().push((
                                    i.parse().unwrap(),
                                    start,
                                    stamp_of(name),
                                    "list",
                                ));
                            }
                        }
                    }
                    1 => {
                        let body = app
                            .gql(
                                "query($e: String!) { userByEmail(email: $e) { fullName } }",
                                json!({ "e": format!("stress{u}@example.com") }),
                            )
                            .await;
                        let name = body["data"]["userByEmail"]["fullName"]
                            .as_str()
                            .unwrap_or_else(|| panic!("{body}"))
                            .to_owned();
                        reads
                            .lock()
                            .unwrap()
                            .push((u, start, stamp_of(&name), "email"));
                    }
                    _ => {
                        let name = app.name_of(&users[u]).await;
                        reads
                            .lock()
                            .unwrap()
                            .push((u, start, stamp_of(&name), "id"));
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }

    let reads = std::mem::take(&mut *reads.lock().unwrap());
    let mut stale = Vec::new();
    for &(u, start, got, how) in reads.iter() {
        let writes = writes[u].lock().unwrap();
        let newest_returned = writes
            .iter()
            .take_while(|(t, _)| *t < start)
            .map(|(_, s)| *s)
            .last()
            .unwrap_or(0);
        if got < newest_returned {
            stale.push((u, how, got, newest_returned));
        }
    }
    let total_writes: usize = writes.iter().map(|w| w.lock().unwrap().len()).sum();
    assert!(
        reads.len() > 50 && total_writes > 10,
        "too little work: {} reads, {total_writes} writes",
        reads.len()
    );
    assert!(
        stale.is_empty(),
        "{} stale reads of {}, e.g. (user, how, read, newest returned) {:?}",
        stale.len(),
        reads.len(),
        &stale[..stale.len().min(5)]
    );
    for id in &users {
        if let Some(cached) = cached_user(&apps[0], id).await {
            assert_eq!(
                cached,
                db_user(&apps[0], id).await,
                "cache differs from the database for user {id}"
            );
        }
    }
    eprintln!(
        "stress ({db:?}): {} reads, {total_writes} writes, no stale read",
        reads.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stress_two_instances_sqlite() {
    stress(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stress_two_instances_postgres() {
    stress(Db::Postgres).await;
}
