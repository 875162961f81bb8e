//! Sentinel under two instances: exact reads, and a failover that flushes L1.
use super::{stale_reads_after_renames, two_instances_stay_exact};
use crate::{
    helpers::Db,
    topology::{Redis, Topology},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentinel_two_instances_stay_exact() {
    two_instances_stay_exact(Topology::Sentinel).await;
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
