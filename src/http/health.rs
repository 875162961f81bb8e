//! `GET /health`: 200 while the database answers (the cache may be down: we fail open), 503
//! otherwise, with the state of each part.
use axum::{Json, extract::State, http::StatusCode};
use serde_json::{Value, json};

use std::sync::Arc;

use super::HttpState;

pub async fn health(State(state): State<Arc<HttpState>>) -> (StatusCode, Json<Value>) {
    let database_up = state
        .app
        .users
        .store()
        .repo()
        .connection()
        .ping()
        .await
        .is_ok();
    let cache = &state.app.cache;
    let cache_status = match (cache.backend_name(), cache.is_available()) {
        ("none", _) => "disabled",
        (_, true) => "available",
        (_, false) => "unavailable",
    };
    let status = if database_up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if database_up { "ok" } else { "degraded" },
        "database": if database_up { "up" } else { "down" },
        "cache": { "backend": cache.backend_name(), "status": cache_status },
    });
    (status, Json(body))
}
