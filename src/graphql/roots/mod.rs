//! The query and mutation roots, one part per domain, merged. A new domain adds its own part
//! here and to the two lists below.
mod cache;
mod users;

use async_graphql::MergedObject;

/// Reads: users (a token is needed) and the cache's counters (admins).
#[derive(MergedObject, Default)]
pub struct Query(users::UsersQuery, cache::CacheQuery);

/// Mutations are never cached (none declares a cache policy).
#[derive(MergedObject, Default)]
pub struct Mutation(users::UsersMutation, cache::CacheMutation);
