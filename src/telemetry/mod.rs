//! Telemetry: logs (one subscriber for the process, filtered by `RUST_LOG`) and the app's
//! metrics ([`Metrics`]).
mod metrics;

pub use metrics::Metrics;

use tracing_subscriber::EnvFilter;

/// The filter when `RUST_LOG` is unset: our own lines at INFO, the drivers' at WARN.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,fred=warn";

/// Installs the process's subscriber (call once, at start).
pub fn init() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER)),
        )
        .init();
}
