//! The GraphQL API: schema, query and mutation roots, output types and guards.
//!
//! [`schema_builder`] needs no runtime data, so `cachegraph export-schema` and the schema-drift
//! test can produce `schema.graphql` without a database.
pub mod cached;
mod caller;
pub mod guards;
pub mod prepare;
mod root_fields;
mod roots;
mod types;
mod validation_cache;

use std::{future::Future, pin::Pin};

use async_graphql::{
    EmptySubscription, MergedObjectTail, ObjectType, Request, Response, Schema, SchemaBuilder,
};

pub use caller::RequestAuth;
pub use prepare::{Preparer, RequestKey};
pub use roots::{Mutation, Query};

use crate::{AppState, config::Config};

/// The executable schema, with the roots `Q` and `M` an application added.
pub type AppSchema<Q = MergedObjectTail, M = MergedObjectTail> =
    Schema<Query<Q>, Mutation<M>, EmptySubscription>;

/// A schema whatever was added to it: what the HTTP layer runs requests on.
pub trait Execute: Send + Sync + 'static {
    /// Runs one request.
    fn run(&self, request: Request) -> Pin<Box<dyn Future<Output = Response> + Send + '_>>;
}

impl<Q: ObjectType + 'static, M: ObjectType + 'static> Execute for AppSchema<Q, M> {
    fn run(&self, request: Request) -> Pin<Box<dyn Future<Output = Response> + Send + '_>> {
        Box::pin(self.execute(request))
    }
}

/// The schema with its limits, without runtime data.
pub fn schema_builder(config: &Config) -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    schema_builder_with(config, MergedObjectTail, MergedObjectTail)
}

/// [`schema_builder`] with an application's roots merged into ours.
fn schema_builder_with<Q: ObjectType + 'static, M: ObjectType + 'static>(
    config: &Config,
    query: Q,
    mutation: M,
) -> SchemaBuilder<Query<Q>, Mutation<M>, EmptySubscription> {
    Schema::build(
        Query::with(query),
        Mutation::with(mutation),
        EmptySubscription,
    )
    .limit_depth(config.limits.max_depth)
    .limit_complexity(config.limits.max_complexity)
    .limit_recursive_depth(config.limits.max_depth.max(32))
    .limit_directives(32)
}

/// The schema serving requests with `state`, with an application's `query` and `mutation`
/// roots merged into ours. Persisted queries, parsing and cost limits are handled before it,
/// by [`Preparer`]; validation results are cached unless `CACHE_PARSED_QUERIES=false`.
pub fn build_schema<Q: ObjectType + 'static, M: ObjectType + 'static>(
    state: AppState,
    query: Q,
    mutation: M,
) -> AppSchema<Q, M> {
    // Always: without it, the response cache would keep nothing (see `root_fields`).
    let mut builder =
        schema_builder_with(&state.config, query, mutation).extension(root_fields::RootFields);
    if state.config.cache.parsed_queries {
        builder = builder.extension(validation_cache::ValidationCache::new(
            VALIDATION_CACHE_BYTES,
        ));
    }
    builder.data(state).finish()
}

/// Bytes of validation results kept, weighed by key.
pub const VALIDATION_CACHE_BYTES: u64 = 4 << 20;

/// The SDL of the schema, as committed in `schema.graphql`.
pub fn sdl() -> String {
    let config = Config::from_lookup(|_| None).expect("default configuration is valid");
    schema_builder(&config).finish().sdl()
}
