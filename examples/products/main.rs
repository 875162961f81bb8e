//! A server built on the cachegraph library that adds a cached `products` entity: the whole
//! cachegraph API (users, login, cache administration, every cache layer) plus
//! `product`, `productBySku`, `products` and their mutations, from one file
//! ([`product`]) and its migration, with no edit to the engine.
//!
//! `cargo run --example products` serves on `LISTEN_ADDR` with the same settings as
//! `cachegraph serve` (see README, "Caching your own resolvers").
mod migration;
mod product;

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let _ = dotenvy::dotenv();
    cachegraph::telemetry::init(cachegraph::telemetry::LogFormat::Text);
    let result = match cachegraph::config::Config::from_env() {
        Ok(config) => cachegraph::run_extended(config, product::Products).await,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}
