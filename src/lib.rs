//! cachegraph: a GraphQL users API whose reads are cached in Redis without ever serving stale
//! data, and which keeps answering from the database when Redis does not.
//!
//! # Layout
//! - [`config`]: settings from the environment, and the limits on what a client can cost.
//! - [`domain`]: users, roles, the caller, and the checked inputs of the mutations (imports
//!   nothing above it).
//! - [`error`]: the service error type and its mapping to GraphQL error codes.
//! - [`auth`]: JWTs, password hashes, login throttling.
//! - [`db`]: connection, migrations, the `users` entity and repository.
//! - [`cache`]: the cache layer, its backends and its consistency protocol.
//! - [`users`]: the user service, the one boundary resolvers reach users through.
//! - [`graphql`]: schema, query and mutation roots, types, guards, the caller of a request, and
//!   [`graphql::cached`], the one way a resolver opts into caching; [`graphql::prepare`] turns a
//!   request as sent into the one that runs (persisted queries, documents, cost limits, the key).
//! - [`http`]: the server (connection cap, timeouts), router, GraphQL endpoint, health, metrics.
//! - [`cli`]: the command line.
//! - `startup` (building the app and serving it), `state` ([`AppState`]), [`telemetry`] (logs and
//!   metrics), `extension` (what an application built on the library adds: [`Extension`]).
//!
//! No module imports in a cycle, at any level of the tree.
// The request future nests deeply (axum, async-graphql, the cache layers); computing its layout
// needs more than the default query depth.
#![recursion_limit = "256"]

pub mod auth;
pub mod cache;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
mod extension;
pub mod graphql;
pub mod http;
pub mod users;

mod startup;
mod state;
pub mod telemetry;

pub use extension::{Extension, ExtensionError};
#[cfg(feature = "test-hooks")]
pub use startup::build_app_with;
pub use startup::{
    StartError, build_app, build_app_extended, connect, run, run_extended, serve, shutdown_signal,
};
pub use state::AppState;
