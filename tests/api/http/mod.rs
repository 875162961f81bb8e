//! The HTTP surface: transports, refusals, limits, CORS, health, start-up and the schema file.
//!
//! By concern: `requests` (transports, refusals, limits, persisted queries), `headers` (CORS,
//! `cache-control`), `cache_view` (`Cache-Tag`, `X-Cache-Debug`), `ops` (health, metrics, start-up) and `schema` (the committed SDL).
use crate::helpers::{Backend, Db, TestApp};

mod cache_view;
mod headers;
mod ops;
mod requests;
mod schema;

async fn app() -> TestApp {
    TestApp::spawn(Backend::Memory, Db::Sqlite).await.unwrap()
}

async fn app_without_cors() -> TestApp {
    TestApp::spawn(Backend::None, Db::Sqlite).await.unwrap()
}
