//! The query root. Every field depends on the caller (a token is required), so responses are
//! marked `Cache-Control: no-cache, private`: browsers may keep them but must not reuse them
//! unchecked, and shared caches must not keep them at all.
use async_graphql::{Context, ID, Object, Result};

use super::{
    guards::{AdminOnly, Authenticated, state, viewer},
    types::{CacheStats, User, UserStats},
};

/// `Query`.
#[derive(Default)]
pub struct Query;

#[Object]
impl Query {
    /// The caller.
    #[graphql(guard = "Authenticated", cache_control(private, no_cache))]
    async fn me(&self, ctx: &Context<'_>) -> Result<User> {
        let viewer = viewer(ctx).await?;
        crate::cache::request::caller(viewer.id());
        Ok(User(viewer.user.clone()))
    }

    /// A user by id; null when absent.
    #[graphql(guard = "Authenticated", cache_control(private, no_cache))]
    async fn user(&self, ctx: &Context<'_>, id: ID) -> Result<Option<User>> {
        Ok(state(ctx)?.users.get(&id).await?.map(User))
    }

    /// A user by email (case-insensitive); null when absent.
    #[graphql(guard = "Authenticated", cache_control(private, no_cache))]
    async fn user_by_email(&self, ctx: &Context<'_>, email: String) -> Result<Option<User>> {
        Ok(state(ctx)?.users.by_email(&email).await?.map(User))
    }

    /// Users ordered by id; `0 <= skip`, `1 <= limit <= 1000`.
    #[graphql(
        guard = "Authenticated",
        cache_control(private, no_cache),
        complexity = "(limit.clamp(1, 1000) as usize) * child_complexity"
    )]
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 0)] skip: i32,
        #[graphql(default = 100)] limit: i32,
    ) -> Result<Vec<User>> {
        let users = state(ctx)?.users.list(skip, limit).await?;
        Ok(users.into_iter().map(User).collect())
    }

    /// Counts of users (cached; every user write invalidates it).
    #[graphql(guard = "Authenticated", cache_control(private, no_cache))]
    async fn user_stats(&self, ctx: &Context<'_>) -> Result<UserStats> {
        Ok(state(ctx)?.users.counts().await?.into())
    }

    /// This process's cache counters and what Redis says of itself. Admin only.
    #[graphql(guard = "AdminOnly", cache_control(private, no_cache))]
    async fn cache_stats(&self, ctx: &Context<'_>) -> Result<CacheStats> {
        crate::cache::request::uncacheable();
        Ok(state(ctx)?.users.store().cache().report().await.into())
    }
}
