//! The randomized linearizability check: two instances, writers and readers, on every Redis
//! topology and under Redis faults (pause, kill and restart, one instance cut off).
use std::{
    future::Future,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use super::{Subject, cached, churn, create, name_by_pointer, name_of, page, rename, stored};
use crate::{
    helpers::{Backend, Db, Spawn, TestApp, TestDb},
    proxy::Proxy,
    topology::{Redis, Topology},
};

/// (entity index, start time, stamp read, how it was read).
type Read = (usize, Instant, u64, &'static str);

/// Per entity: (completion time, stamp) of each write that returned, in order.
type WriteLog = Mutex<Vec<(Instant, u64)>>;

/// A randomized run: writers rename a few entities through two instances, and another creates,
/// updates (in every way but a rename) and deletes others on the same page, while readers read
/// them by id, by pointer and in pages, for `STRESS_SECS` (3 s; twice that under faults) while
/// `faults` runs beside them. No read may return a value older than a write that had returned
/// before the read began; afterwards every cached entry equals the database.
async fn stress<S: Subject>(a: TestApp, b: TestApp, label: &str, faults: impl Future<Output = ()>) {
    let apps = Arc::new([a, b]);
    let users: Vec<String> = {
        let mut v = Vec::new();
        for i in 0..3 {
            v.push(create::<S>(&apps[0], &format!("stress{i}")).await);
        }
        v
    };
    let secs: u64 = std::env::var("STRESS_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let secs = if label.contains("faults") {
        secs * 2
    } else {
        secs
    };
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
                rename::<S>(&apps[stamp as usize % 2], &id, &format!("s{stamp}")).await;
                writes[u].lock().unwrap().push((Instant::now(), stamp));
            }
        }));
    }
    {
        let apps = apps.clone();
        tasks.push(tokio::spawn(async move {
            let mut k = 0usize;
            while Instant::now() < deadline {
                k += 1;
                churn::<S>(&apps[k % 2], &format!("churn{k}")).await;
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
                        for (p, name) in page::<S>(app).await {
                            let index =
                                (0..users.len()).find(|&i| S::pointer(&format!("stress{i}")) == p);
                            if let Some(i) = index {
                                reads
                                    .lock()
                                    .unwrap()
                                    .push((i, start, stamp_of(&name), "page"));
                            }
                        }
                    }
                    1 => {
                        let p = S::pointer(&format!("stress{u}"));
                        let name = name_by_pointer::<S>(app, &p).await;
                        reads
                            .lock()
                            .unwrap()
                            .push((u, start, stamp_of(&name), "pointer"));
                    }
                    _ => {
                        let name = name_of::<S>(app, &users[u]).await;
                        reads
                            .lock()
                            .unwrap()
                            .push((u, start, stamp_of(&name), "id"));
                    }
                }
            }
        }));
    }
    faults.await;
    for t in tasks {
        t.await.unwrap();
    }
    for app in apps.iter() {
        app.await_cache_status("available").await;
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
        if let Some(cached) = cached::<S>(&apps[0], id).await {
            assert_eq!(
                cached,
                stored::<S>(&apps[0], id).await,
                "cache differs from the database for {} {id}",
                S::KIND
            );
        }
    }
    eprintln!(
        "stress ({}, {label}): {} reads, {total_writes} writes, no stale read",
        S::KIND,
        reads.len()
    );
}

/// The run on two instances of one database and one Redis of `topology`.
pub async fn on<S: Subject>(topology: Topology, db: Db) {
    let redis = Redis::start(topology).await;
    let Some((a, b)) = redis.pair(db).await else {
        return;
    };
    stress::<S>(a, b, &format!("{topology:?}, {db:?}"), async {}).await;
}

/// The run while Redis is paused, killed and restarted empty, and while one instance's
/// connections to it stall (a partition), in turn.
pub async fn under_faults<S: Subject>() {
    let mut redis = Redis::start(Topology::Single).await;
    let proxy = Proxy::start(redis.nodes[0].port).await;
    let spec = Spawn::new(Backend::Redis, Db::Sqlite).env("REDIS_URL", &redis.url());
    let a = TestApp::start_with(spec, TestDb::create(Db::Sqlite).await.unwrap(), None).await;
    let b = a.sibling_via(&proxy.url()).await;
    let faults = async {
        let phase = |ms| tokio::time::sleep(Duration::from_millis(ms));
        phase(700).await;
        redis.nodes[0].pause();
        // Longer than a read takes to reach Redis and time out there (two barrier rounds of
        // 250 ms, then a 200 ms command), so that the pause leaves errors on both instances.
        phase(1500).await;
        redis.nodes[0].resume();
        phase(900).await;
        redis.nodes[0].restart().await;
        phase(900).await;
        proxy.stall();
        phase(1200).await;
        proxy.heal();
    };
    let (a_state, b_state) = (a.state.clone(), b.state.clone());
    stress::<S>(a, b, "single, sqlite, faults", faults).await;
    // The faults really made cache operations fail (and so writes owe) on both instances.
    for state in [a_state, b_state] {
        let report = state.cache.report().await;
        assert!(
            report.total.errors > 0,
            "the faults left no trace on an instance: {:?}",
            report.total
        );
    }
}
