//! What an application built on the library adds to the server: query and mutation roots
//! merged into ours, built once at start-up from the app's state (its database, its cache).
//!
//! An extension caches its own entities with [`crate::cache::entity::EntityCache`] and declares
//! each resolver's [`crate::cache::policy::Policy`] with [`crate::graphql::cached::cached`];
//! nothing in the engine changes. `examples/products` is one.
use std::future::Future;

use async_graphql::{MergedObjectTail, ObjectType};

use crate::AppState;

/// Why an extension could not be built (its migration failed, …): start-up stops with it.
pub type ExtensionError = Box<dyn std::error::Error + Send + Sync>;

/// Roots an application adds, made from the app's state.
pub trait Extension: Send + 'static {
    /// Its query fields.
    type Query: ObjectType + 'static;
    /// Its mutation fields.
    type Mutation: ObjectType + 'static;

    /// Builds the roots once the database is migrated and the cache connected: migrate its own
    /// tables here, and make its caches from `state.cache`.
    fn build(
        self,
        state: &AppState,
    ) -> impl Future<Output = Result<(Self::Query, Self::Mutation), ExtensionError>> + Send;
}

/// No extension: the API as this crate defines it.
impl Extension for () {
    type Query = MergedObjectTail;
    type Mutation = MergedObjectTail;

    async fn build(self, _: &AppState) -> Result<(Self::Query, Self::Mutation), ExtensionError> {
        Ok((MergedObjectTail, MergedObjectTail))
    }
}
