//! The GraphQL API: schema, query and mutation roots, output types and guards.
//!
//! [`schema_builder`] needs no runtime data, so `cachegraph export-schema` and the schema-drift
//! test can produce `schema.graphql` without a database.
mod guards;
mod mutation;
mod query;
mod query_cache;
mod types;

use async_graphql::{EmptySubscription, Schema, SchemaBuilder};

pub use mutation::Mutation;
pub use query::Query;
pub use query_cache::RequestKey;

use crate::{AppState, config::Config};

/// The executable schema.
pub type AppSchema = Schema<Query, Mutation, EmptySubscription>;

/// The schema with its limits, without runtime data.
pub fn schema_builder(config: &Config) -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    Schema::build(Query, Mutation, EmptySubscription)
        .limit_depth(config.max_query_depth)
        .limit_complexity(config.max_query_complexity)
        .limit_recursive_depth(config.max_query_depth.max(32))
        .limit_directives(32)
}

/// The schema serving requests with `state`: Apollo persisted queries (hash-only requests)
/// are accepted, and parsed documents are cached unless `CACHE_PARSED_QUERIES=false`.
pub fn build_schema(state: AppState) -> AppSchema {
    use async_graphql::extensions::apollo_persisted_queries::{
        ApolloPersistedQueries, LruCacheStorage,
    };
    let mut builder = schema_builder(&state.config)
        .extension(ApolloPersistedQueries::new(LruCacheStorage::new(1024)));
    if state.config.cache_parsed_queries {
        builder = builder.extension(query_cache::QueryCache::new(8 << 20));
    }
    builder.data(state).finish()
}

/// The SDL of the schema, as committed in `schema.graphql`.
pub fn sdl() -> String {
    let config = Config::from_lookup(|_| None).expect("default configuration is valid");
    schema_builder(&config).finish().sdl()
}
