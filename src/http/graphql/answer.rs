//! Answering a request once it is read: resolved and checked by the preparer, served from the
//! response cache when a kept answer may be, or executed (as a task of its own) and kept when
//! it may be; each answer counted and logged.
use std::sync::Arc;

use async_graphql_axum::GraphQLResponse;
use axum::{
    http::{StatusCode, header, request::Parts},
    response::IntoResponse,
};
use bytes::Bytes;

use super::{Arrived, debug};
use crate::{
    cache::{
        request::{self, RequestScope},
        responses::{self, CachedResponse},
    },
    config::Introspection,
    graphql::{
        RequestAuth, RequestKey,
        prepare::{Method, Refusal, Resolved},
    },
    http::{
        HttpState,
        client::client_addr,
        kept::kept,
        respond::{
            first_operation_name, json_response, refusal, refuse, with_cache_tag, with_codes,
        },
    },
    telemetry::Served,
};

pub(super) async fn execute(
    state: &Arc<HttpState>,
    parts: &Parts,
    arrived: Arrived<'_>,
) -> axum::response::Response {
    let started = std::time::Instant::now();
    let method = arrived.method();
    // L1 reads of this request share barrier rounds begun after it started, and record what
    // the response is built from (the caller's entries whenever it asks for the caller, see
    // `RequestAuth::viewer`).
    let scope = RequestScope::new();
    let auth = RequestAuth::from_header(
        parts
            .headers
            .get(header::AUTHORIZATION)
            .map(|v| v.as_bytes()),
    );
    // Bytes seen before are looked up as they are: no parsing, resolving or keying again.
    let debug = debug::wanted(state, parts, &auth).await;
    let known = state.preparer.known(method, arrived.raw());
    if let Some(known) = &known
        && let Some((response, hit)) = lookup(state, &auth, &known.key, &scope).await
    {
        finished(state, known.operation.as_deref(), true, true, started);
        if debug {
            return debug::annotate(&state.app.cache, response, "hit", &hit.deps, started).await;
        }
        return response;
    }
    let request = match arrived.parse() {
        Ok(request) => request,
        Err(message) => return refuse(StatusCode::BAD_REQUEST, "BAD_REQUEST", message),
    };
    let resolved = match state.preparer.resolve(request) {
        Ok(resolved) => resolved,
        Err(err) => {
            finished(state, None, false, false, started);
            return refusal(state, err);
        }
    };
    let operation = resolved
        .request
        .operation_name
        .clone()
        .or_else(|| first_operation_name(&resolved.request.query).map(str::to_owned));
    let (key, registers) = (resolved.key.clone(), resolved.registers);
    // The futures below are boxed: the cache and execution futures they hold are large, and a
    // future is copied whole each time it is moved (profiles showed the copies).
    let answer = request::scope(
        scope.clone(),
        Box::pin(respond(
            state,
            parts,
            auth,
            resolved,
            method,
            &scope,
            known.is_none(),
        )),
    )
    .await;
    // A request whose response was kept is remembered by its bytes, to be found by them next
    // (unless it registers a persisted query's text, which found by its bytes it would not).
    if answer.kept && known.is_none() && !registers {
        state
            .preparer
            .remember(method, arrived.raw(), &key, operation.as_deref());
    }
    finished(
        state,
        operation.as_deref(),
        answer.ok,
        answer.cached,
        started,
    );
    if debug {
        let (how, deps) = match &answer.hit {
            Some(hit) => ("hit", hit.deps.clone()),
            None if answer.kept => ("kept", scope.reads().deps),
            None => ("built", scope.reads().deps),
        };
        return debug::annotate(&state.app.cache, answer.response, how, &deps, started).await;
    }
    answer.response
}

/// The kept response for `key` this caller may have, looked up with a record of its own: what
/// the check reads (the caller, the dependencies) must not become dependencies of a response
/// built afterwards unless that response asks for them.
async fn lookup(
    state: &HttpState,
    auth: &RequestAuth,
    key: &RequestKey,
    scope: &RequestScope,
) -> Option<(axum::response::Response, Arc<CachedResponse>)> {
    request::scope(scope.sibling(), Box::pin(kept(state, auth, key))).await
}

/// Counts a request in the metrics and logs its line.
fn finished(
    state: &HttpState,
    operation: Option<&str>,
    ok: bool,
    cached: bool,
    started: std::time::Instant,
) {
    let served = Served {
        operation,
        ok,
        cached,
        elapsed: started.elapsed(),
    };
    state.app.metrics.record(&served);
    state.app.config.log_requests.log(&served);
}

/// What answering a request gave: the response, whether it succeeded, whether the response
/// cache gave it, and whether it was kept there.
struct Answer {
    ok: bool,
    cached: bool,
    kept: bool,
    /// The kept response it was served as, when the response cache gave it.
    hit: Option<Arc<CachedResponse>>,
    response: axum::response::Response,
}

impl Answer {
    /// A request that failed or was refused, answered with `response`.
    fn failed(response: axum::response::Response) -> Self {
        Self {
            ok: false,
            cached: false,
            kept: false,
            hit: None,
            response,
        }
    }
}

/// Answers a resolved request: from the response cache (unless it was `looked` for already),
/// refused, or executed (and kept).
async fn respond(
    state: &Arc<HttpState>,
    parts: &Parts,
    auth: RequestAuth,
    resolved: Resolved,
    method: Method,
    scope: &Arc<RequestScope>,
    look: bool,
) -> Answer {
    let app = &state.app;
    if look && let Some((response, hit)) = lookup(state, &auth, &resolved.key, scope).await {
        return Answer {
            ok: true,
            cached: true,
            kept: false,
            hit: Some(hit),
            response,
        };
    }
    let prepared = match state.preparer.admit(resolved, method) {
        Ok(prepared) => prepared,
        Err(err) => {
            return Answer::failed(refusal(state, err));
        }
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
            return Answer::failed(refusal(state, Refusal::Limit(message.into())));
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
            let response = refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_SERVER_ERROR",
                "internal error".into(),
            );
            return Answer::failed(response);
        }
    };
    let response = with_codes(response, app.config.limits.max_errors);
    let ok = response.is_ok();
    let reads = scope.reads();
    let cache_tag = ok.then(|| app.cache.cache_tag(&reads)).flatten();
    if let Some(responses) = app.cache.responses()
        && ok
        && response.http_headers.is_empty()
        && let Ok(body) = serde_json::to_vec(&response)
    {
        let body = Bytes::from(body);
        let cache_control = response.cache_control.value();
        let mut was_kept = false;
        if query && let async_graphql::Value::Object(data) = &response.data {
            let kept = responses::Body {
                body: body.clone(),
                cache_control: cache_control.clone(),
                cache_tag: cache_tag.clone(),
            };
            was_kept = responses.keep(
                &key.0,
                kept,
                reads,
                data.keys().map(|root| root.as_str()),
                introspection,
            );
        }
        return Answer {
            ok: true,
            cached: false,
            kept: was_kept,
            hit: None,
            response: json_response(body, cache_control.as_deref(), cache_tag.as_deref()),
        };
    }
    let mut response = GraphQLResponse::from(response).into_response();
    with_cache_tag(&mut response, cache_tag.as_deref());
    Answer {
        ok,
        cached: false,
        kept: false,
        hit: None,
        response,
    }
}
