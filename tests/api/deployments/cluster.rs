//! A Redis Cluster under two instances: exact reads across every primary, a failover, a
//! resharding to an added primary, and the admin operations reaching every primary.
use serde_json::json;

use super::{
    alternating_rounds, by_email, nine_users, stale_reads_after_renames, two_instances_stay_exact,
};
use crate::{
    helpers::Db,
    topology::{Redis, Topology},
};

/// Case 1: on a 3-primary cluster, L1 and whole responses follow writes to every primary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_two_instances_stay_exact() {
    two_instances_stay_exact(Topology::Cluster).await;
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
