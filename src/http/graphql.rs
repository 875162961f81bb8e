//! The GraphQL endpoint. The body is read and parsed here (not by an extractor) so that every
//! refusal is a JSON error with a status: 415 for a POST that is not `application/json`, 413
//! over `MAX_BODY_BYTES`, 400 for a body that is not a GraphQL JSON request, 405 for a
//! mutation over GET. Then [`crate::graphql::Preparer`] resolves and checks the request, and
//! the response cache is consulted under the key of what will actually run.
use std::{net::SocketAddr, sync::Arc};

use async_graphql::{Request, Response, http::GraphiQLSource};
use async_graphql_axum::GraphQLResponse;
use axum::{
    extract::{ConnectInfo, State},
    http::{HeaderMap, StatusCode, header, request::Parts},
    response::{Html, IntoResponse},
};
use bytes::Bytes;

use super::{
    HttpState,
    respond::{first_operation_name, json_response, refuse, with_codes},
};
use crate::{
    auth::{ClientAddr, RequestAuth},
    cache::request::{self, RequestScope},
    config::Introspection,
    graphql::prepare::{Method, Prepared, Refusal},
};

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

/// `POST /graphql` with a JSON body.
pub async fn post(
    State(state): State<Arc<HttpState>>,
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
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                format!("request body is larger than {limit} bytes"),
            );
        }
    };
    let request: Request = match serde_json::from_slice(&bytes) {
        Ok(request) => request,
        Err(err) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                format!("body is not a GraphQL JSON request: {err}"),
            );
        }
    };
    execute(&state, &parts, request, Method::Post).await
}

/// `GET /graphql`: GraphiQL for a browser, else a query from the query string.
pub async fn get_or_graphiql(
    State(state): State<Arc<HttpState>>,
    parts: Parts,
) -> axum::response::Response {
    let wants_html = parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    let query = parts.uri.query().unwrap_or_default();
    if query.is_empty() || (wants_html && !query.contains("query=")) {
        return Html(GraphiQLSource::build().endpoint("/graphql").finish()).into_response();
    }
    let request = match async_graphql::http::parse_query_string(query) {
        Ok(request) => request,
        Err(err) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                format!("bad query string: {err}"),
            );
        }
    };
    execute(&state, &parts, request, Method::Get).await
}

/// Answers a refusal: in the GraphQL shape, with its status.
fn refusal(state: &HttpState, refusal: Refusal) -> axum::response::Response {
    match refusal {
        Refusal::Syntax(err) => GraphQLResponse::from(with_codes(
            Response::from_errors(vec![err]),
            state.app.config.limits.max_errors,
        ))
        .into_response(),
        other => refuse(other.status(), other.code(), other.to_string()),
    }
}

async fn execute(
    state: &HttpState,
    parts: &Parts,
    request: Request,
    method: Method,
) -> axum::response::Response {
    let started = std::time::Instant::now();
    let metrics = &state.app.metrics;
    let Prepared {
        request,
        parsed,
        key,
    } = match state.preparer.prepare(request, method) {
        Ok(prepared) => prepared,
        Err(err) => {
            metrics.record(None, false, started.elapsed());
            return refusal(state, err);
        }
    };
    let operation = request
        .operation_name
        .clone()
        .or_else(|| first_operation_name(&request.query).map(str::to_owned));
    let auth = RequestAuth::from_header(
        parts
            .headers
            .get(header::AUTHORIZATION)
            .map(|v| v.as_bytes()),
    );
    if parsed.cost.introspection {
        let refused = match state.preparer.limits().introspection {
            Introspection::On => None,
            Introspection::Off => Some("introspection is turned off (INTROSPECTION=off)"),
            Introspection::Authenticated => auth
                .viewer(&state.app.jwt, &state.app.users)
                .await
                .is_err()
                .then_some(
                    "introspection needs an authenticated caller (INTROSPECTION=authenticated)",
                ),
        };
        if let Some(message) = refused {
            metrics.record(operation.as_deref(), false, started.elapsed());
            return refusal(state, Refusal::Limit(message.into()));
        }
    }
    let cache = state.app.users.store().cache();
    let responses = cache.responses();

    if let Some(responses) = responses
        && let Some(hit) = responses.get(&key.0)
    {
        let scope = RequestScope::new();
        // `None`: this caller may not have it (kept for someone else); `Some(false)`: it is
        // stale. Only a stale response is dropped, so no caller can evict another's.
        let current = request::scope(scope, async {
            if hit.authenticated {
                match auth.viewer(&state.app.jwt, &state.app.users).await {
                    Ok(viewer) if hit.caller.is_none_or(|c| c == viewer.id()) => {}
                    _ => return None,
                }
            } else if hit.caller.is_some() {
                return None;
            }
            Some(cache.still_current(&hit.deps).await)
        })
        .await;
        match current {
            Some(true) => {
                responses.served();
                metrics.record(operation.as_deref(), true, started.elapsed());
                return json_response(hit.body.clone(), hit.cache_control.as_deref());
            }
            Some(false) => responses.forget(&key.0),
            None => {}
        }
    }

    // L1 reads of this request share barrier rounds begun after it started, and record what
    // the response is built from.
    let scope = RequestScope::new();
    let client = client_addr(parts, state.app.config.login.trust_forwarded_for);
    let request = request.data(auth).data(client).data(key.clone());
    let response = request::scope(scope.clone(), state.schema.execute(request)).await;
    metrics.record(operation.as_deref(), response.is_ok(), started.elapsed());
    let response = with_codes(response, state.app.config.limits.max_errors);
    if let Some(responses) = responses
        && response.is_ok()
        && response.http_headers.is_empty()
        && let Ok(body) = serde_json::to_vec(&response)
    {
        let body = Bytes::from(body);
        let cache_control = response.cache_control.value();
        responses.keep(
            key.0.to_string(),
            body.clone(),
            cache_control.clone(),
            scope.reads(),
        );
        return json_response(body, cache_control.as_deref());
    }
    GraphQLResponse::from(response).into_response()
}

/// The client's address: the connection's peer, or with `trust_forwarded_for` the last
/// `X-Forwarded-For` hop (the one the trusted proxy wrote).
fn client_addr(parts: &Parts, trust_forwarded_for: bool) -> ClientAddr {
    let forwarded = trust_forwarded_for
        .then(|| parts.headers.get("x-forwarded-for"))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|v| v.trim().parse().ok());
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    ClientAddr(forwarded.or(peer))
}
