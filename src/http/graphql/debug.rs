//! `X-Cache-Debug: 1`: with an admin's token, the response's `extensions.cacheDebug` says
//! whether the response cache answered (`hit`), or the response was built now and kept
//! (`kept`) or not (`built`), and every cache entry it was built from: its key (under the
//! namespace), its version or generation, and where it was read (`l1`, `redis`, `memory`).
//! For anyone else the header is ignored: what the cache holds is not a caller's business.
use std::{sync::Arc, time::Instant};

use axum::{
    body::Body,
    http::{header, request::Parts},
    response::Response,
};
use serde_json::{Value, json};

use crate::{
    cache::{Cache, entry::Entry, protocol},
    graphql::RequestAuth,
    http::HttpState,
};

/// The request header that asks for it.
const HEADER: &str = "x-cache-debug";
/// The longest response annotated (a larger one is sent as it is).
const MAX_BODY: usize = 16 << 20;

/// Whether this request asked for the cache's account and may have it (an admin's).
pub(super) async fn wanted(state: &HttpState, parts: &Parts, auth: &RequestAuth) -> bool {
    parts
        .headers
        .get(HEADER)
        .is_some_and(|v| v.as_bytes() == b"1")
        && auth
            .viewer(&state.app.jwt, &state.app.users)
            .await
            .is_ok_and(|viewer| viewer.is_admin())
}

/// `response` with `extensions.cacheDebug`: `how` it was answered, and what from.
pub(super) async fn annotate(
    cache: &Cache,
    response: Response,
    how: &'static str,
    deps: &[(String, Arc<Entry>)],
    started: Instant,
) -> Response {
    use axum::body::HttpBody;
    if response
        .body()
        .size_hint()
        .upper()
        .is_none_or(|n| n > MAX_BODY as u64)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => bytes,
        Err(_) => return Response::from_parts(parts, Body::empty()),
    };
    let Ok(mut json) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let entries: Vec<Value> = deps
        .iter()
        .map(|(key, entry)| describe(cache, key, entry, how, started))
        .collect();
    json["extensions"]["cacheDebug"] = json!({ "response": how, "entries": entries });
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = serde_json::to_vec(&json).unwrap_or_else(|_| bytes.to_vec());
    Response::from_parts(parts, Body::from(body))
}

fn describe(cache: &Cache, key: &str, entry: &Entry, how: &str, started: Instant) -> Value {
    let raw = entry.raw();
    let mut described = json!({ "key": key.strip_prefix(cache.namespace()).unwrap_or(key) });
    if let Some(version) = protocol::leading_number(raw, "v") {
        described["version"] = version.into();
    } else if let Some(generation) = protocol::leading_number(raw, "g") {
        described["generation"] = generation.into();
    } else if raw.len() <= 32 {
        // A generation counter or a pointer's id.
        described["value"] = raw.into();
    }
    described["from"] = match cache.backend_name() {
        "memory" => "memory",
        // A kept response is checked against L1; an entry read before this request began
        // was already there.
        _ if cache.l1_live() && (how == "hit" || entry.born() < started) => "l1",
        _ => "redis",
    }
    .into();
    described
}
