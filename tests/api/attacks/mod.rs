//! Hostile requests against the fast request path, every layer on (Redis, L1, parsed
//! documents, responses): each attack is planted, then the victim must get exactly its own
//! answer. docs/security.md names these tests.
//!
//! By target: `persisted` (persisted queries and request keys), `kept_responses` (the response
//! cache under refused and alternating callers), `limits` (costs, introspection, bodies,
//! error messages), `pages` (client-chosen pages and the keys they may create), `ids` (what a
//! lookup of an id no user has leaves).
use crate::helpers::{Backend, Db, TestApp};

mod ids;
mod kept_responses;
mod limits;
mod pages;
mod persisted;

async fn app() -> TestApp {
    TestApp::spawn(Backend::Redis, Db::Sqlite).await.unwrap()
}
