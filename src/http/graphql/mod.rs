//! The GraphQL endpoint. The body is read and parsed here (not by an extractor) so that every
//! refusal is a JSON error with a status: 415 for a POST that is not `application/json`, 413
//! over `MAX_BODY_BYTES`, 400 for a body that is not a GraphQL JSON request, 405 for a
//! mutation over GET. Then [`crate::graphql::Preparer`] resolves and checks the request, and
//! the response cache is consulted under the key of what will actually run (`answer`).
mod answer;
mod debug;

use std::sync::Arc;

use async_graphql::Request;
use axum::{
    extract::State,
    http::{HeaderMap, StatusCode, header, request::Parts},
};

use super::{HttpState, respond::refuse};
use crate::graphql::prepare::Method;
use answer::execute;

/// Content types a POST body may be declared as. Anything else (notably `text/plain`, which a
/// web page can send cross-site without a CORS preflight) is refused with 415.
const JSON_TYPES: [&str; 2] = ["application/json", "application/graphql-response+json"];

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            let v = v.trim();
            JSON_TYPES.iter().any(|t| v.eq_ignore_ascii_case(t))
        })
}

/// Every answer of `/graphql` that says nothing else is `Cache-Control: no-cache, private`:
/// answers depend on the caller, so shared caches must not keep them and browsers must
/// revalidate (async-graphql's own value, from the fields' `cache_control`, is kept).
fn private(mut response: axum::response::Response) -> axum::response::Response {
    response
        .headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(header::HeaderValue::from_static("no-cache, private"));
    response
}

/// `POST /graphql` with a JSON body.
pub async fn post(
    State(state): State<Arc<HttpState>>,
    request: axum::extract::Request,
) -> axum::response::Response {
    private(post_json(&state, request).await)
}

async fn post_json(
    state: &Arc<HttpState>,
    request: axum::extract::Request,
) -> axum::response::Response {
    let (parts, body) = request.into_parts();
    if !is_json(&parts.headers) {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "send the request as Content-Type: application/json".into(),
        );
    }
    let limit = state.app.config.limits.max_body_bytes;
    // Only the body read is timed: a timer is armed only if the body is not there yet (a whole
    // request timer would be armed by every request that waits on the cache, and costs).
    let timeout = state.app.config.server.body_timeout;
    let bytes = match tokio::time::timeout(timeout, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => bytes,
        Err(_) => {
            return refuse(
                StatusCode::REQUEST_TIMEOUT,
                "REQUEST_TIMEOUT",
                format!(
                    "the request body did not arrive within {} ms (HTTP_BODY_TIMEOUT_MS)",
                    timeout.as_millis()
                ),
            );
        }
        Ok(Err(_)) => {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                format!("request body is larger than {limit} bytes"),
            );
        }
    };
    execute(state, &parts, Arrived::Post(&bytes)).await
}

/// `GET /graphql`: GraphiQL for a browser, else a query from the query string.
pub async fn get_or_graphiql(
    State(state): State<Arc<HttpState>>,
    parts: Parts,
) -> axum::response::Response {
    private(get(&state, parts).await)
}

async fn get(state: &Arc<HttpState>, parts: Parts) -> axum::response::Response {
    let wants_html = parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    let query = parts.uri.query().unwrap_or_default();
    if query.is_empty() || (wants_html && !query.contains("query=")) {
        return super::graphiql::page();
    }
    execute(state, &parts, Arrived::Get(query)).await
}

/// A GraphQL request as it arrived, read only when it must be (a kept response is found by
/// the bytes alone, see `Preparer::known`).
pub(super) enum Arrived<'a> {
    /// The body of a POST.
    Post(&'a [u8]),
    /// The query string of a GET.
    Get(&'a str),
}

impl Arrived<'_> {
    fn method(&self) -> Method {
        match self {
            Self::Post(_) => Method::Post,
            Self::Get(_) => Method::Get,
        }
    }

    fn raw(&self) -> &[u8] {
        match self {
            Self::Post(body) => body,
            Self::Get(query) => query.as_bytes(),
        }
    }

    /// The request it carries, or why it carries none (answered with 400).
    fn parse(&self) -> Result<Request, String> {
        match self {
            Self::Post(body) => serde_json::from_slice(body)
                .map_err(|err| format!("body is not a GraphQL JSON request: {err}")),
            Self::Get(query) => async_graphql::http::parse_query_string(query)
                .map_err(|err| format!("bad query string: {err}")),
        }
    }
}
