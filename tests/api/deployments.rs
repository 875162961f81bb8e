//! Exact wherever it is deployed: Redis Cluster, Sentinel failover, a Redis shared by two
//! deployments, outages and partitions with several instances, with every cache layer on.
//!
//! Each test reads through one instance right after a write through the other has returned,
//! and asserts the read sees it.
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, Db, PASSWORD, Spawn, TestApp, TestDb, code},
    proxy::Proxy,
    topology::{Redis, Topology},
};

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

/// Case 1: on a 3-primary cluster, L1 and whole responses follow writes to every primary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_two_instances_stay_exact() {
    two_instances_stay_exact(Topology::Cluster).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentinel_two_instances_stay_exact() {
    two_instances_stay_exact(Topology::Sentinel).await;
}

/// A cluster failover (a replica promoted) is noticed: writes after it, through either
/// instance, are seen by the other at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_failover_stays_exact() {
    let redis = Redis::start(Topology::ClusterWithReplicas).await;
    let (a, b) = redis.pair(Db::Sqlite).await.unwrap();
    let users = nine_users(&a, "fo").await;
    let mut stale = stale_reads_after_renames(&a, &b, &users, 0).await;
    for (id, email) in &users {
        b.name_of(id).await;
        by_email(&b, email).await;
    }
    redis.cluster_failover().await;
    stale.extend(alternating_rounds(&a, &b, &users, 1..3).await);
    assert!(
        stale.is_empty(),
        "{} stale reads, e.g. {:?}",
        stale.len(),
        &stale[..stale.len().min(5)]
    );
}

/// Resharding to a primary added while both instances run (scaling out): writes after it,
/// through either instance, are seen by the other at once, also for keys whose slot moved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_resharding_to_a_new_primary_stays_exact() {
    let mut redis = Redis::start(Topology::Cluster).await;
    let (a, b) = redis.pair(Db::Sqlite).await.unwrap();
    let users = nine_users(&a, "rs").await;
    let mut stale = stale_reads_after_renames(&a, &b, &users, 0).await;
    redis.add_primary_and_reshard(4096).await;
    stale.extend(alternating_rounds(&a, &b, &users, 1..3).await);
    assert!(
        stale.is_empty(),
        "{} stale reads, e.g. {:?}",
        stale.len(),
        &stale[..stale.len().min(5)]
    );
}

/// Keys spread over every primary, and `cacheStats.keys` and `clearCache` cover them all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_keys_spread_and_admin_reaches_every_primary() {
    let redis = Redis::start(Topology::Cluster).await;
    let (a, _b) = redis.pair(Db::Sqlite).await.unwrap();
    // 30 users, 60 keys: the chance that a primary holds none of them is below 1e-10.
    for i in 0..30 {
        let email = format!("slot{i}@example.com");
        let id = a.create_user(&email, "USER").await;
        a.name_of(&id).await;
        by_email(&a, &email).await;
    }
    let pattern = format!("{}*", a.namespace());
    let per_node = || redis.keys_per_node(&pattern);
    let counts = per_node();
    assert!(
        counts.iter().all(|&n| n > 0),
        "keys on every primary: {counts:?}"
    );
    let stats = a.gql("{ cacheStats { keys } }", json!({})).await;
    let total: usize = counts.iter().sum();
    assert_eq!(stats["data"]["cacheStats"]["keys"], total, "{stats}");
    let cleared = a
        .gql("mutation { clearCache { cleared } }", json!({}))
        .await;
    assert_eq!(cleared["data"]["clearCache"]["cleared"], total, "{cleared}");
    assert_eq!(per_node(), vec![0, 0, 0]);
}

/// A Sentinel failover is noticed: L1 is flushed, and writes after it are seen everywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentinel_failover_flushes_l1_and_stays_exact() {
    let redis = Redis::start(Topology::Sentinel).await;
    let (a, b) = redis.pair(Db::Sqlite).await.unwrap();
    let email = "failover@example.com";
    let id = a.create_user(email, "USER").await;
    b.name_of(&id).await;
    b.name_of(&id).await;
    let key = format!("{}user:{id}", b.namespace());
    let b_cache = b.state.users.store().cache().clone();
    assert!(b_cache.l1_holds(&key), "L1 serves before the failover");
    redis.failover().await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    while b_cache.l1_holds(&key) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "L1 kept its entries through the failover"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    a.await_cache_status("available").await;
    b.await_cache_status("available").await;
    let users = vec![(id, email.to_owned())];
    let mut stale = stale_reads_after_renames(&a, &b, &users, 0).await;
    stale.extend(stale_reads_after_renames(&b, &a, &users, 1).await);
    assert!(stale.is_empty(), "after the failover: {stale:?}");
}

/// Case 2: two deployments (two databases) on one Redis with the same `CACHE_PREFIX` never see
/// each other's users, roles or tokens' callers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_databases_on_one_redis_share_nothing() {
    let redis = Redis::start(Topology::Single).await;
    let spec = |db| {
        Spawn::new(Backend::Redis, db)
            .env("REDIS_URL", &redis.url())
            .env("CACHE_PREFIX", "cachegraph:")
    };
    let a = TestApp::start_with(
        spec(Db::Sqlite),
        TestDb::create(Db::Sqlite).await.unwrap(),
        None,
    )
    .await;
    let b = TestApp::start_with(
        spec(Db::Sqlite),
        TestDb::create(Db::Sqlite).await.unwrap(),
        None,
    )
    .await;
    // The same id is an ADMIN in A and a USER in B; A's entry is warm.
    let in_a = a.create_user("boss@example.com", "ADMIN").await;
    let (in_b, token_b) = b.user_with_token("intern@example.com").await;
    assert_eq!(
        in_a, in_b,
        "both databases give the second user the same id"
    );
    a.user(&in_a).await;
    a.user(&in_a).await;
    let only_a = a.create_user("only-in-a@example.com", "USER").await;
    a.user(&only_a).await;

    assert_eq!(
        b.user(&only_a).await,
        Value::Null,
        "a user of A served by B"
    );
    let me = b
        .gql_as(Some(&token_b), "{ me { email role } }", json!({}))
        .await;
    assert_eq!(me["data"]["me"]["email"], "intern@example.com", "{me}");
    assert_eq!(me["data"]["me"]["role"], "USER", "{me}");
    let stats = b
        .gql_as(Some(&token_b), "{ cacheStats { keys } }", json!({}))
        .await;
    assert_eq!(code(&stats), "FORBIDDEN", "{stats}");
    let login = b
        .gql(
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }",
            json!({ "e": "boss@example.com", "p": PASSWORD }),
        )
        .await;
    assert!(login["data"].is_null(), "A's admin logged in to B: {login}");
    assert_ne!(a.namespace(), b.namespace());
}

/// Three users warmed on `reader`'s caches: one to rename, an admin to demote, one to
/// deactivate; the tokens of the last two.
struct Victims {
    id: String,
    email: String,
    boss: String,
    boss_token: String,
    leaver: String,
    leaver_token: String,
}

impl Victims {
    /// Created through `creator`, read twice through `reader` (so L1 and responses hold them).
    async fn warm(creator: &TestApp, reader: &TestApp, email: &str) -> Self {
        let id = creator.create_user(email, "USER").await;
        let boss = creator.create_user("demoted@example.com", "ADMIN").await;
        let boss_token = creator.login("demoted@example.com", PASSWORD).await;
        let (leaver, leaver_token) = creator.user_with_token("leaver@example.com").await;
        for _ in 0..2 {
            reader.name_of(&id).await;
            by_email(reader, email).await;
            reader
                .gql_as(Some(&boss_token), "{ me { role } }", json!({}))
                .await;
            reader
                .gql_as(Some(&leaver_token), "{ me { id } }", json!({}))
                .await;
        }
        Self {
            id,
            email: email.to_owned(),
            boss,
            boss_token,
            leaver,
            leaver_token,
        }
    }

    /// Through `admin`: renames the first to `name`, demotes the admin, deactivates the third.
    async fn change(&self, admin: &TestApp, name: &str) {
        admin.rename(&self.id, name).await;
        for (id, input) in [
            (&self.boss, json!({ "role": "USER" })),
            (&self.leaver, json!({ "isActive": false })),
        ] {
            let body = admin
                .gql(
                    "mutation($id: ID!, $i: UpdateUserInput!) { updateUser(id: $id, input: $i) { id } }",
                    json!({ "id": id, "i": input }),
                )
                .await;
            assert!(body["errors"].is_null(), "{body}");
        }
    }

    /// `reader` sees every change: the name by id, email and list; the demotion; the
    /// deactivation.
    async fn assert_changed(&self, reader: &TestApp, name: &str) {
        assert_eq!(reader.name_of(&self.id).await, name);
        assert_eq!(by_email(reader, &self.email).await, name);
        assert_eq!(listed_name(reader, &self.email).await, name);
        let me = reader
            .gql_as(Some(&self.boss_token), "{ me { role } }", json!({}))
            .await;
        assert_eq!(me["data"]["me"]["role"], "USER", "demotion not seen: {me}");
        let create = reader
            .gql_as(
                Some(&self.boss_token),
                "mutation { createUser(input: { email: \"x@example.com\", fullName: \"X\", password: \"password-123\", role: ADMIN }) { id } }",
                json!({}),
            )
            .await;
        assert_eq!(
            code(&create),
            "FORBIDDEN",
            "a demoted admin acted: {create}"
        );
        let me = reader
            .gql_as(Some(&self.leaver_token), "{ me { id } }", json!({}))
            .await;
        assert_eq!(
            code(&me),
            "UNAUTHENTICATED",
            "a deactivated user got in: {me}"
        );
    }
}

/// Case 3: Redis paused while one instance writes; once it is back, the other instance never
/// serves what the write replaced, nor lets a demoted admin act or a deactivated user in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_outage_with_two_instances_serves_nothing_stale_after() {
    let redis = Redis::start(Topology::Single).await;
    let (a, b) = redis.pair(Db::Sqlite).await.unwrap();
    let victims = Victims::warm(&a, &b, "outage@example.com").await;
    redis.pause();
    victims.change(&a, "During the outage").await;
    redis.resume();
    victims.assert_changed(&b, "During the outage").await;
    a.await_cache_status("available").await;
    b.await_cache_status("available").await;
    victims.assert_changed(&b, "During the outage").await;
}

/// Case 4: one instance cut off Redis (its connections stall) while the other still reaches
/// it: the cut-off instance's acknowledged writes are never hidden by the other's cache.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_writer_is_never_hidden_by_another_instance() {
    let redis = Redis::start(Topology::Single).await;
    let proxy = Proxy::start(redis.nodes[0].port).await;
    let spec = Spawn::new(Backend::Redis, Db::Sqlite).env("REDIS_URL", &redis.url());
    let b = TestApp::start_with(spec, TestDb::create(Db::Sqlite).await.unwrap(), None).await;
    let a = b.sibling_via(&proxy.url()).await;
    let victims = Victims::warm(&b, &b, "partition@example.com").await;
    proxy.stall();
    victims.change(&a, "Behind the partition").await;
    victims.assert_changed(&b, "Behind the partition").await;
    b.await_cache_status("available").await;
    victims.assert_changed(&b, "Behind the partition").await;
    proxy.heal();
    a.await_cache_status("available").await;
}
