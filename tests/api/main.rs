//! Integration tests: the real app over HTTP, real Redis servers, real databases.
mod fixtures;
mod helpers;

// The products example, built into every test app: the kit runs on it as on users.
#[path = "../../examples/products/migration.rs"]
mod migration;
#[path = "../../examples/products/product.rs"]
mod product;

mod attacks;
mod auth;
mod browser;
mod cache;
mod cli;
mod consistency;
mod database;
mod deployments;
mod hit_path;
mod http;
mod kit;
mod proxy;
mod readme;
mod responses;
mod server;
mod throttle;
mod topology;
mod users;
