//! The one line start-up logs once it serves: what is running, where, on what, with which
//! cache layers; never a credential.
use std::net::SocketAddr;

use crate::AppState;

/// Logs that the server is up at `addr`.
pub(super) fn started(state: &AppState, addr: SocketAddr) {
    let config = &state.config;
    let cache = &config.cache;
    let backend = state.cache.backend_name();
    let redis = (backend == "redis").then(|| cache.describe_redis());
    let mut layers = Vec::new();
    if backend == "redis" && cache.l1 {
        layers.push("l1");
    }
    if state.cache.responses().is_some() {
        layers.push("responses");
    }
    if cache.parsed_queries {
        layers.push("parsed-queries");
    }
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        %addr,
        database = %config.database.describe(),
        cache = backend,
        redis = redis.as_deref().unwrap_or("-"),
        namespace = state.cache.namespace(),
        layers = %layers.join(","),
        "cachegraph listening; GraphiQL at http://{addr}/graphql"
    );
}
