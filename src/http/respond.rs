//! How the GraphQL endpoint answers: refusals in the GraphQL error shape, serialized bodies,
//! and the one place async-graphql's own errors get an `extensions.code` and the error list
//! its bound (`MAX_ERRORS`).
use async_graphql::{Response, ServerError};
use async_graphql_axum::GraphQLResponse;
use axum::{
    Json,
    body::Body,
    http::{HeaderName, HeaderValue, StatusCode, header},
    response::IntoResponse,
};
use bytes::Bytes;
use serde_json::json;

use crate::{graphql::prepare::Refusal, http::HttpState};

/// A refusal before GraphQL runs, in the GraphQL error shape.
pub fn refuse(status: StatusCode, code: &str, message: String) -> axum::response::Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    (status, Json(body)).into_response()
}

/// A 200 GraphQL response with a body serialized already.
pub fn json_response(
    body: Bytes,
    cache_control: Option<&str>,
    cache_tag: Option<&str>,
) -> axum::response::Response {
    let mut response = axum::response::Response::new(Body::from(body));
    with_cache_tag(&mut response, cache_tag);
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

/// Names the tags the response was built from (`Cache-Tag`), for a CDN to purge by.
pub fn with_cache_tag(response: &mut axum::response::Response, cache_tag: Option<&str>) {
    if let Some(value) = cache_tag.and_then(|v| HeaderValue::from_str(v).ok()) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("cache-tag"), value);
    }
}

/// Gives every error an `extensions.code` (async-graphql's own parse and validation errors
/// have none; ours always do), and keeps at most `max_errors` of them: the last one listed then
/// says how many were left out.
pub fn with_codes(mut response: Response, max_errors: usize) -> Response {
    let before_execution = response.data == async_graphql::Value::Null;
    if response.errors.len() > max_errors {
        let left_out = response.errors.len() - (max_errors - 1);
        response.errors.truncate(max_errors - 1);
        let mut summary = ServerError::new(
            format!("{left_out} more errors not listed (MAX_ERRORS)"),
            None,
        );
        summary
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", "TOO_MANY_ERRORS");
        response.errors.push(summary);
    }
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

/// The name of a document's first operation (`query Name …`), read without parsing, for
/// metrics labels when the client sent no `operationName`.
pub fn first_operation_name(query: &str) -> Option<&str> {
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

/// The longest syntax-error message sent back.
const SYNTAX_MESSAGE_CHARS: usize = 400;

/// Answers a refusal: in the GraphQL shape, with its status.
pub(crate) fn refusal(state: &HttpState, refusal: Refusal) -> axum::response::Response {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names() {
        use super::first_operation_name as name;
        assert_eq!(name("query Listing { users { id } }"), Some("Listing"));
        assert_eq!(name("  mutation Do($x: Int) { a }"), Some("Do"));
        assert_eq!(name("query { a }"), None);
        assert_eq!(name("{ a }"), None);
        assert_eq!(name("queryX { a }"), None);
    }

    #[test]
    fn errors_are_capped_with_a_summary() {
        let errors = (0..50)
            .map(|i| ServerError::new(format!("e{i}"), None))
            .collect();
        let response = with_codes(Response::from_errors(errors), 5);
        assert_eq!(response.errors.len(), 5);
        assert_eq!(
            response.errors[4].message,
            "46 more errors not listed (MAX_ERRORS)"
        );
        assert_eq!(response.errors[3].message, "e3");
        let few = with_codes(Response::from_errors(vec![ServerError::new("x", None)]), 5);
        assert_eq!(few.errors.len(), 1);
    }
}
