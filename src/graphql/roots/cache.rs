//! The cache administration part of the API: `cacheStats`, `clearCache` and invalidation by
//! entity, tag and type, admin only.
use async_graphql::{Context, ID, Object, Result};

use crate::{
    cache::{ClearError, PurgeError, Purged},
    error::AppError,
    graphql::{
        guards::{AdminOnly, state, viewer},
        types::{CacheStats, ClearCacheResult, Invalidation},
    },
};

/// A purge's outcome as the API answers it.
fn answered(result: Result<Purged, PurgeError>, soft: bool) -> Result<Invalidation> {
    match result {
        Ok(purged) => Ok(Invalidation::new(purged, soft)),
        Err(PurgeError::UnknownType(kind)) => {
            Err(AppError::bad_input("type", format!("no cached entity type `{kind}`")).into())
        }
        Err(err @ PurgeError::BadTag) => Err(AppError::bad_input("tag", err.to_string()).into()),
        Err(PurgeError::Cache(err)) => Err(AppError::internal(err).into()),
    }
}

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

    /// Drops one entity's entry (`type: "user"`, `id: 42`), and with it every response built
    /// from it, on every instance. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn invalidate_entity(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "type")] kind: String,
        id: ID,
    ) -> Result<Invalidation> {
        let viewer = viewer(ctx).await?;
        let Ok(id) = id.parse::<i64>() else {
            return Err(AppError::bad_input("id", "not an id").into());
        };
        let purged = state(ctx)?.cache.purge_entity(&kind, id).await;
        tracing::info!(
            by = viewer.id(),
            kind,
            id,
            ?purged,
            "cache entity invalidated"
        );
        answered(purged, false)
    }

    /// Drops every entry under a tag (`users`: the pages; `user-counts`: `userStats`). With
    /// `soft`, one old value of the tag may be served once more, to the one request (of every
    /// instance) that then refreshes it. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn invalidate_tag(
        &self,
        ctx: &Context<'_>,
        tag: String,
        #[graphql(default = false)] soft: bool,
    ) -> Result<Invalidation> {
        let viewer = viewer(ctx).await?;
        let purged = state(ctx)?.cache.purge_tag(&tag, soft).await;
        tracing::info!(
            by = viewer.id(),
            tag,
            soft,
            ?purged,
            "cache tag invalidated"
        );
        answered(purged, soft)
    }

    /// Drops every entry of an entity type, its pointers, and everything under its tags.
    /// Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn invalidate_type(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "type")] kind: String,
    ) -> Result<Invalidation> {
        let viewer = viewer(ctx).await?;
        let purged = state(ctx)?.cache.purge_type(&kind).await;
        tracing::info!(by = viewer.id(), kind, ?purged, "cache type invalidated");
        answered(purged, false)
    }
}
