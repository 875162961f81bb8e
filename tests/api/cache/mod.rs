//! The Redis cache: keys and TTLs, stats, clearing, and staying up (and correct) when Redis is
//! down at start, paused, or killed and restarted.
//!
//! By concern: `keys` (what is written to Redis, and clearing it), `stats` (`cacheStats`),
//! `outages` (Redis down, paused, killed), `instances` (a shared Redis, and L1), `refresh`
//! (early refresh of lists and aggregates), `purge` (invalidation by hand), `soft_purge`
//! (purges that serve one old value while it refreshes) and `announced` (which tags a write
//! moves).
use crate::helpers::{Backend, Db, TestApp};

mod announced;
mod instances;
mod keys;
mod outages;
mod purge;
mod refresh;
mod soft_purge;
mod stats;

async fn redis_app() -> TestApp {
    TestApp::spawn(Backend::Redis, Db::Sqlite).await.unwrap()
}
