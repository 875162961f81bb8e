//! The cache administration part of the API: `cacheStats` and `clearCache`, admin only.
use async_graphql::{Context, Object, Result};

use crate::{
    cache::ClearError,
    error::AppError,
    graphql::{
        guards::{AdminOnly, state, viewer},
        types::{CacheStats, ClearCacheResult},
    },
};

/// The cache queries.
#[derive(Default)]
pub struct CacheQuery;

#[Object]
impl CacheQuery {
    /// This process's cache counters and what Redis says of itself. Admin only.
    // No cache policy is declared: a response with it is never kept.
    #[graphql(guard = "AdminOnly", cache_control(private, no_cache))]
    async fn cache_stats(&self, ctx: &Context<'_>) -> Result<CacheStats> {
        Ok(state(ctx)?.cache.report().await.into())
    }
}

/// The cache mutations.
#[derive(Default)]
pub struct CacheMutation;

/// Declares no cache policy: never kept.
#[Object]
impl CacheMutation {
    /// Deletes cache keys matching a Redis glob relative to the namespace. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn clear_cache(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "\"*\".to_string()")] pattern: String,
    ) -> Result<ClearCacheResult> {
        let viewer = viewer(ctx).await?;
        let cleared = state(ctx)?
            .cache
            .clear(&pattern)
            .await
            .map_err(|err| match err {
                ClearError::Pattern(e) => AppError::bad_input("pattern", e.to_string()),
                ClearError::Cache(e) => AppError::internal(e),
            })?;
        tracing::info!(by = viewer.id(), pattern, cleared, "cache cleared");
        Ok(ClearCacheResult {
            cleared: cleared as i64,
            pattern,
        })
    }
}
