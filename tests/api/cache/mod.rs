//! The Redis cache: keys and TTLs, stats, clearing, and staying up (and correct) when Redis is
//! down at start, paused, or killed and restarted.
//!
//! By concern: `keys` (what is written to Redis, and clearing it), `stats` (`cacheStats`),
//! `outages` (Redis down, paused, killed) and `instances` (a shared Redis, and L1).
use crate::helpers::{Backend, Db, TestApp};

mod instances;
mod keys;
mod outages;
mod stats;

async fn redis_app() -> TestApp {
    TestApp::spawn(Backend::Redis, Db::Sqlite).await.unwrap()
}
