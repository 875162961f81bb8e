//! Exact wherever it is deployed: Redis Cluster, Sentinel failover, a Redis shared by two
//! deployments, outages and partitions with several instances, with every cache layer on.
//!
//! Each test reads through one instance right after a write through the other has returned,
//! and asserts the read sees it.
//!
//! By deployment: `cluster` (spread, failover, resharding), `sentinel` (failover),
//! `shared_redis` (two deployments on one Redis) and `outages` (Redis paused, an instance cut
//! off). The reads and rounds they share are here.
use serde_json::{Value, json};

use crate::{
    helpers::{Db, TestApp},
    topology::{Redis, Topology},
};

mod cluster;
mod outages;
mod sentinel;
mod shared_redis;

async fn by_email(app: &TestApp, email: &str) -> Value {
    let body = app
        .gql(
            "query($e: String!) { userByEmail(email: $e) { fullName } }",
            json!({ "e": email }),
        )
        .await;
    body["data"]["userByEmail"]["fullName"].clone()
}

async fn listed_name(app: &TestApp, email: &str) -> Value {
    let body = app
        .gql("{ users(limit: 100) { email fullName } }", json!({}))
        .await;
    body["data"]["users"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .find(|u| u["email"] == email)
        .map(|u| u["fullName"].clone())
        .unwrap_or(Value::Null)
}

/// Warms `reader` on every user, renames each through `writer`, and returns every read of
/// `reader` that did not see the rename: (how, email, read).
async fn stale_reads_after_renames(
    writer: &TestApp,
    reader: &TestApp,
    users: &[(String, String)],
    round: usize,
) -> Vec<(&'static str, String, Value)> {
    for (id, email) in users {
        for _ in 0..2 {
            reader.name_of(id).await;
            by_email(reader, email).await;
        }
    }
    listed_name(reader, &users[0].1).await;
    for (i, (id, _)) in users.iter().enumerate() {
        writer.rename(id, &format!("R{round}-{i}")).await;
    }
    let mut stale = Vec::new();
    for (i, (id, email)) in users.iter().enumerate() {
        let want = json!(format!("R{round}-{i}"));
        let got = json!(reader.name_of(id).await);
        if got != want {
            stale.push(("id", email.clone(), got));
        }
        let got = by_email(reader, email).await;
        if got != want {
            stale.push(("email", email.clone(), got));
        }
        let got = listed_name(reader, email).await;
        if got != want {
            stale.push(("list", email.clone(), got));
        }
    }
    stale
}

/// Nine users created through `app` (their 18 keys land on every primary of a cluster).
async fn nine_users(app: &TestApp, stem: &str) -> Vec<(String, String)> {
    let mut users = Vec::new();
    for i in 0..9 {
        let email = format!("{stem}{i}@example.com");
        users.push((app.create_user(&email, "USER").await, email));
    }
    users
}

/// Rounds of [`stale_reads_after_renames`], the writer alternating between `a` and `b`.
async fn alternating_rounds(
    a: &TestApp,
    b: &TestApp,
    users: &[(String, String)],
    rounds: std::ops::Range<usize>,
) -> Vec<(&'static str, String, Value)> {
    let mut stale = Vec::new();
    for round in rounds {
        let (writer, reader) = if round % 2 == 0 { (a, b) } else { (b, a) };
        stale.extend(stale_reads_after_renames(writer, reader, users, round).await);
    }
    stale
}

async fn two_instances_stay_exact(topology: Topology) {
    let redis = Redis::start(topology).await;
    let (a, b) = redis.pair(Db::Sqlite).await.unwrap();
    let users = nine_users(&a, "spread").await;
    let served = |app: &TestApp| {
        let cache = app.state.users.store().cache();
        cache.responses().map_or(0, |r| r.served_count())
    };
    let before = (served(&a), served(&b));
    let stale = alternating_rounds(&a, &b, &users, 0..4).await;
    assert!(
        stale.is_empty(),
        "{topology:?}: {} stale reads of 108, e.g. {:?}",
        stale.len(),
        &stale[..stale.len().min(5)]
    );
    // The warm-up reads were answered by the fast layers, or this proved nothing.
    assert!(
        served(&a) > before.0 && served(&b) > before.1,
        "whole responses were not served: {before:?} -> {:?}",
        (served(&a), served(&b))
    );
}
