//! HTTP: the server (connection limits and timeouts), the router, the GraphQL endpoint (POST,
//! GET and GraphiQL, with its files under `/graphiql/`), `/` (a redirect to `/graphql`),
//! `/health`, `/metrics`, CORS, body limits and request logs.
mod client;
mod graphiql;
mod graphql;
mod health;
mod kept;
mod metrics;
mod respond;
pub mod server;

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    http::{HeaderName, HeaderValue, Method, header},
    response::Redirect,
    routing::get,
};
use tower_http::{
    cors::{AllowOrigin, CorsLayer},
    trace::TraceLayer,
};

use crate::{
    AppState,
    graphql::{Execute, Preparer},
};

/// What the HTTP handlers share.
pub struct HttpState {
    pub app: AppState,
    pub schema: Box<dyn Execute>,
    /// Resolves, parses and checks requests before they run.
    pub preparer: Preparer,
}

/// The application's routes, with CORS and request logs.
pub fn router(app: AppState, schema: impl Execute) -> Router {
    let cors = cors(&app.config.cors_allowed_origins);
    // Requests are remembered by their bytes in half the response cache's budget: a remembered
    // request weighs about half what its kept response does.
    let preparer = Preparer::new(
        app.config.limits.clone(),
        app.config.cache.parsed_queries,
        app.cache
            .responses()
            .map(|_| app.config.cache.responses_bytes / 2),
    );
    let router = Router::new()
        .route(
            "/graphql",
            get(graphql::get_or_graphiql).post(graphql::post),
        )
        .route("/graphiql/{name}", get(graphiql::asset))
        .route("/", get(|| async { Redirect::to("graphql") }))
        .route("/health", get(health::health))
        .route("/metrics", get(metrics::metrics))
        // One Arc: a handler's state extractor then costs one increment, not one per handle.
        .with_state(Arc::new(HttpState {
            app,
            schema: Box::new(schema),
            preparer,
        }))
        .layer(TraceLayer::new_for_http());
    match cors {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// CORS for the configured origins; `None` (same-origin only) when there are none.
fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("apollo-require-preflight"),
            ])
            .max_age(Duration::from_secs(600)),
    )
}
