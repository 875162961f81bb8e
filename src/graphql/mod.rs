//! The GraphQL API: schema, query and mutation roots, output types and guards.
//!
//! [`schema_builder`] needs no runtime data, so `cachegraph export-schema` and the schema-drift
//! test can produce `schema.graphql` without a database.
pub mod cached;
pub mod guards;
pub mod prepare;
mod roots;
mod types;
mod validation_cache;

use async_graphql::{EmptySubscription, Schema, SchemaBuilder};

pub use prepare::{Preparer, RequestKey};
pub use roots::{Mutation, Query};

use crate::{AppState, config::Config};

/// The executable schema.
pub type AppSchema = Schema<Query, Mutation, EmptySubscription>;

/// The schema with its limits, without runtime data.
pub fn schema_builder(config: &Config) -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .limit_depth(config.limits.max_depth)
        .limit_complexity(config.limits.max_complexity)
        .limit_recursive_depth(config.limits.max_depth.max(32))
        .limit_directives(32)
}

/// The schema serving requests with `state`. Persisted queries, parsing and cost limits are
/// handled before it, by [`Preparer`]; validation results are cached unless
/// `CACHE_PARSED_QUERIES=false`.
pub fn build_schema(state: AppState) -> AppSchema {
    let mut builder = schema_builder(&state.config);
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
