//! The query and mutation roots, one part per domain, merged, with the roots an application
//! built on the library adds (`X`, see [`crate::Extension`]). A new domain of ours adds its
//! part here and to the two lists below.
mod cache;
mod users;

use async_graphql::{MergedObject, MergedObjectTail, ObjectType};

/// Reads: users (a token is needed) and the cache's counters (admins).
// And the fields of `X`, an application's.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct Query<X: ObjectType = MergedObjectTail>(users::UsersQuery, cache::CacheQuery, X);

/// Mutations are never cached (none declares a cache policy).
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct Mutation<X: ObjectType = MergedObjectTail>(
    users::UsersMutation,
    cache::CacheMutation,
    X,
);

impl<X: ObjectType> Query<X> {
    /// Ours, merged with `extra`'s fields.
    pub fn with(extra: X) -> Self {
        Self(users::UsersQuery, cache::CacheQuery, extra)
    }
}

impl<X: ObjectType> Mutation<X> {
    /// Ours, merged with `extra`'s fields.
    pub fn with(extra: X) -> Self {
        Self(users::UsersMutation, cache::CacheMutation, extra)
    }
}
