//! The GraphQL endpoint. The body is read and parsed here (not by an extractor) so that every
//! refusal is a JSON error with a status: 415 for a POST that is not `application/json`, 413
//! over `MAX_BODY_BYTES`, 400 for a body that is not a GraphQL JSON request, 405 for a
//! mutation over GET. Then [`crate::graphql::Preparer`] resolves and checks the request, and
//! the response cache is consulted under the key of what will actually run.
use std::sync::Arc;

use async_graphql::{Request, Response};
use async_graphql_axum::GraphQLResponse;
use axum::{
    extract::State,
    http::{HeaderMap, StatusCode, header, request::Parts},
    response::IntoResponse,
};
use bytes::Bytes;

use super::{
    HttpState,
    client::client_addr,
    kept::kept,
    respond::{first_operation_name, json_response, refuse, with_codes},
};
use crate::{
    cache::request::{self, RequestScope},
    config::Introspection,
    graphql::{
        RequestAuth,
        prepare::{Method, Refusal, Resolved},
    },
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
        return super::graphiql::page();
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

/// The longest syntax-error message sent back.
const SYNTAX_MESSAGE_CHARS: usize = 400;

/// Answers a refusal: in the GraphQL shape, with its status.
fn refusal(state: &HttpState, refusal: Refusal) -> axum::response::Response {
    match refusal {
        Refusal::Syntax(mut err) => GraphQLResponse::from(with_codes(
            Response::from_errors(vec![{
                // The parser quotes the offending line, which may be the whole body.
                if let Some((cut, _)) = err.message.char_indices().nth(SYNTAX_MESSAGE_CHARS) {
                    err.message.truncate(cut);
                    err.message.push('…');
                }
                err
            }]),
            state.app.config.limits.max_errors,
        ))
        .into_response(),
        other => refuse(other.status(), other.code(), other.to_string()),
    }
}

async fn execute(
    state: &Arc<HttpState>,
    parts: &Parts,
    request: Request,
    method: Method,
) -> axum::response::Response {
    let started = std::time::Instant::now();
    // L1 reads of this request share barrier rounds begun after it started, and record what
    // the response is built from (the caller's entries whenever it asks for the caller, see
    // `RequestAuth::viewer`).
    let scope = RequestScope::new();
    let metrics = &state.app.metrics;
    let resolved = match state.preparer.resolve(request) {
        Ok(resolved) => resolved,
        Err(err) => {
            metrics.record(None, false, started.elapsed());
            return refusal(state, err);
        }
    };
    let operation = resolved
        .request
        .operation_name
        .clone()
        .or_else(|| first_operation_name(&resolved.request.query).map(str::to_owned));
    // The futures below are boxed: the cache and execution futures they hold are large, and a
    // future is copied whole each time it is moved (profiles showed the copies).
    let (ok, response) = request::scope(
        scope.clone(),
        Box::pin(respond(state, parts, resolved, method, &scope)),
    )
    .await;
    metrics.record(operation.as_deref(), ok, started.elapsed());
    response
}

/// Answers a resolved request: from the response cache, refused, or executed (and kept).
/// Returns whether it succeeded, for metrics.
async fn respond(
    state: &Arc<HttpState>,
    parts: &Parts,
    resolved: Resolved,
    method: Method,
    scope: &Arc<RequestScope>,
) -> (bool, axum::response::Response) {
    let app = &state.app;
    let auth = RequestAuth::from_header(
        parts
            .headers
            .get(header::AUTHORIZATION)
            .map(|v| v.as_bytes()),
    );
    // The check has a record of its own: what it reads (the caller, the dependencies) must not
    // become dependencies of a response built afterwards unless that response asks for them.
    let check = scope.sibling();
    if let Some(response) = request::scope(check, Box::pin(kept(state, &auth, &resolved.key))).await
    {
        return (true, response);
    }
    let prepared = match state.preparer.admit(resolved, method) {
        Ok(prepared) => prepared,
        Err(err) => return (false, refusal(state, err)),
    };
    let introspection = prepared.parsed.cost.introspection;
    if introspection {
        let refused = match state.app.config.limits.introspection {
            Introspection::On => None,
            Introspection::Off => Some("introspection is turned off (INTROSPECTION=off)"),
            Introspection::Authenticated => Box::pin(auth.viewer(&app.jwt, &app.users))
                .await
                .is_err()
                .then_some(
                    "introspection needs an authenticated caller (INTROSPECTION=authenticated)",
                ),
        };
        if let Some(message) = refused {
            return (false, refusal(state, Refusal::Limit(message.into())));
        }
    }
    let key = prepared.key.clone();
    let query = prepared.is_query();
    let client = client_addr(parts, app.config.login.trusted_proxy_hops);
    let request = prepared
        .into_request()
        .data(auth)
        .data(client)
        .data(key.clone());
    // Execution runs as a task of its own, in this request's record: its resolvers nest
    // deeply (async-graphql, the cache layers), and under the HTTP stack's own frames an
    // unoptimised build ran out of a worker's stack. A task also finishes a mutation its
    // client stopped waiting for.
    let execution = {
        let state = Arc::clone(state);
        tokio::spawn(request::scope(Arc::clone(scope), async move {
            state.schema.run(request).await
        }))
    };
    let response = match execution.await {
        Ok(response) => response,
        Err(err) => {
            tracing::error!(error = %err, "GraphQL execution failed");
            return (
                false,
                refuse(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "INTERNAL_SERVER_ERROR",
                    "internal error".into(),
                ),
            );
        }
    };
    let response = with_codes(response, app.config.limits.max_errors);
    let ok = response.is_ok();
    if let Some(responses) = app.cache.responses()
        && ok
        && response.http_headers.is_empty()
        && let Ok(body) = serde_json::to_vec(&response)
    {
        let body = Bytes::from(body);
        let cache_control = response.cache_control.value();
        if query && let async_graphql::Value::Object(data) = &response.data {
            responses.keep(
                &key.0,
                body.clone(),
                cache_control.clone(),
                scope.reads(),
                data.keys().map(|root| root.as_str()),
                introspection,
            );
        }
        return (true, json_response(body, cache_control.as_deref()));
    }
    (ok, GraphQLResponse::from(response).into_response())
}
