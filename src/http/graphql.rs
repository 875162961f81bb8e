//! The GraphQL endpoint. The body is read and parsed here (not by an extractor) so that every
//! refusal is a JSON error with a status: 413 over `MAX_BODY_BYTES`, 400 for a body that is not
//! a GraphQL JSON request, 405 for a mutation over GET.
use async_graphql::{
    Request, Response, ServerError, http::GraphiQLSource, parser::types::OperationType,
};
use async_graphql_axum::GraphQLResponse;
use axum::{
    Json,
    body::Body,
    extract::{RawQuery, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse},
};
use bytes::Bytes;
use serde_json::json;

use std::sync::Arc;

use super::HttpState;
use crate::{
    auth::RequestAuth,
    cache::request::{self, RequestScope},
    graphql::RequestKey,
};

/// A refusal before GraphQL runs, in the GraphQL error shape.
fn refuse(status: StatusCode, code: &str, message: String) -> axum::response::Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    (status, Json(body)).into_response()
}

/// `POST /graphql` with a JSON body.
pub async fn post(
    State(state): State<Arc<HttpState>>,
    headers: HeaderMap,
    body: Body,
) -> axum::response::Response {
    let limit = state.app.config.max_body_bytes;
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
    execute(&state, &headers, request).await
}

/// `GET /graphql`: GraphiQL for a browser, else a query from the query string.
pub async fn get_or_graphiql(
    State(state): State<Arc<HttpState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> axum::response::Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    let query = query.unwrap_or_default();
    if query.is_empty() || (wants_html && !query.contains("query=")) {
        return Html(GraphiQLSource::build().endpoint("/graphql").finish()).into_response();
    }
    let mut request = match async_graphql::http::parse_query_string(&query) {
        Ok(request) => request,
        Err(err) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                format!("bad query string: {err}"),
            );
        }
    };
    let operation_name = request.operation_name.clone();
    if let Ok(doc) = request.parsed_query() {
        let is_mutation = doc.operations.iter().any(|(name, op)| {
            op.node.ty == OperationType::Mutation
                && (operation_name.is_none()
                    || name.map(|n| n.as_str()) == operation_name.as_deref())
        });
        if is_mutation {
            return refuse(
                StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                "mutations must be sent with POST".into(),
            );
        }
    }
    execute(&state, &headers, request).await
}

async fn execute(
    state: &HttpState,
    headers: &HeaderMap,
    request: Request,
) -> axum::response::Response {
    let started = std::time::Instant::now();
    let operation = request
        .operation_name
        .clone()
        .or_else(|| first_operation_name(&request.query).map(str::to_owned));
    let auth = RequestAuth::from_header(headers.get(header::AUTHORIZATION).map(|v| v.as_bytes()));
    let cache = state.app.users.store().cache();
    let responses = cache.responses();
    // One key for the response cache and the validation cache, computed once.
    let key = (responses.is_some() || state.app.config.cache_parsed_queries)
        .then(|| RequestKey::of(&request))
        .flatten();

    if let (Some(responses), Some(key)) = (responses, &key)
        && let Some(hit) = responses.get(&key.0)
    {
        let scope = RequestScope::new();
        let current = request::scope(scope, async {
            if hit.authenticated {
                match auth.viewer(&state.app.jwt, &state.app.users).await {
                    Ok(viewer) if hit.caller.is_none_or(|c| c == viewer.id()) => {}
                    _ => return false,
                }
            } else if hit.caller.is_some() {
                return false;
            }
            cache.still_current(&hit.deps).await
        })
        .await;
        if current {
            responses.served();
            state
                .app
                .metrics
                .record(operation.as_deref(), true, started.elapsed());
            return json_response(hit.body.clone(), hit.cache_control.as_deref());
        }
        responses.forget(&key.0);
    }

    // L1 reads of this request share barrier rounds begun after it started, and record what
    // the response is built from.
    let scope = RequestScope::new();
    let mut request = request.data(auth);
    if let Some(key) = &key {
        request = request.data(key.clone());
    }
    let response = request::scope(scope.clone(), state.schema.execute(request)).await;
    state
        .app
        .metrics
        .record(operation.as_deref(), response.is_ok(), started.elapsed());
    let response = with_codes(response);
    if let (Some(responses), Some(key)) = (responses, key)
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

/// A 200 GraphQL response with a body serialized already.
fn json_response(body: Bytes, cache_control: Option<&str>) -> axum::response::Response {
    let mut response = axum::response::Response::new(Body::from(body));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/graphql-response+json"),
    );
    if let Some(value) = cache_control.and_then(|v| HeaderValue::from_str(v).ok()) {
        headers.insert(header::CACHE_CONTROL, value);
    }
    response
}

/// The name of a document's first operation (`query Name …`), read without parsing, for
/// metrics labels when the client sent no `operationName`.
fn first_operation_name(query: &str) -> Option<&str> {
    let rest = query.trim_start();
    let rest = ["query", "mutation", "subscription"]
        .iter()
        .find_map(|kw| rest.strip_prefix(kw))?;
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let rest = rest.trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

/// Gives every error an `extensions.code`: async-graphql's own parse and validation errors
/// have none (ours always do).
fn with_codes(mut response: Response) -> Response {
    let before_execution = response.data == async_graphql::Value::Null;
    for err in &mut response.errors {
        if err
            .extensions
            .as_ref()
            .is_some_and(|e| e.get("code").is_some())
        {
            continue;
        }
        let code = code_for(err, before_execution);
        err.extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
    }
    response
}

fn code_for(err: &ServerError, before_execution: bool) -> &'static str {
    let m = err.message.as_str();
    if m.starts_with("Invalid value for argument")
        || m.starts_with("Invalid value for variable")
        || m.contains("of required type")
        || m.starts_with("Failed to parse")
    {
        "BAD_USER_INPUT"
    } else if before_execution && err.path.is_empty() {
        "GRAPHQL_VALIDATION_FAILED"
    } else {
        "INTERNAL_SERVER_ERROR"
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn operation_names() {
        use super::first_operation_name as name;
        assert_eq!(name("query Listing { users { id } }"), Some("Listing"));
        assert_eq!(name("  mutation Do($x: Int) { a }"), Some("Do"));
        assert_eq!(name("query { a }"), None);
        assert_eq!(name("{ a }"), None);
        assert_eq!(name("queryX { a }"), None);
    }
}
