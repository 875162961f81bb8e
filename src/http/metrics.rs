//! `GET /metrics` in the Prometheus text format, from the app's own registry
//! ([`crate::telemetry::Metrics`]); the breaker and Redis gauges are read at scrape.
use std::sync::Arc;

use axum::{
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
};
use prometheus::{Encoder, TextEncoder};

use super::HttpState;

/// `GET /metrics`.
pub async fn metrics(State(state): State<Arc<HttpState>>) -> impl IntoResponse {
    let cache = &state.app.cache;
    let m = &state.app.metrics;
    m.breaker_open.set(i64::from(
        !cache.is_available() && cache.backend_name() != "none",
    ));
    m.redis_up.set(match cache.backend_name() {
        "redis" => i64::from(cache.is_available()),
        _ => -1,
    });
    for (event, count) in cache.l1_counts().into_iter().flatten() {
        m.l1_events
            .with_label_values(&[event])
            .set(i64::try_from(count).unwrap_or(i64::MAX));
    }
    let mut body = Vec::new();
    match TextEncoder::new().encode(&m.registry.gather(), &mut body) {
        Ok(()) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            body,
        )
            .into_response(),
        Err(err) => {
            tracing::error!(error = %err, "cannot encode metrics");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
