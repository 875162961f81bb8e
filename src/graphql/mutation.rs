//! The mutation root.
use async_graphql::{Context, ID, Object, Result};

use super::{
    guards::{AdminOnly, state, viewer},
    types::{AuthPayload, ClearCacheResult, CreateUserInput, UpdateUserInput, User},
};
use crate::{auth::ClientAddr, cache::ClearError, error::AppError};

/// `Mutation`.
#[derive(Default)]
pub struct Mutation;

/// Mutations are never cached: each resolver marks its request uncacheable first.
#[Object]
impl Mutation {
    /// Exchanges an email and password for a bearer token. Public; throttled per email and
    /// per client address (`TOO_MANY_REQUESTS` with `retryAfter`).
    async fn login(
        &self,
        ctx: &Context<'_>,
        email: String,
        password: String,
    ) -> Result<AuthPayload> {
        crate::cache::request::uncacheable();
        let state = state(ctx)?;
        let client = ctx
            .data_opt::<ClientAddr>()
            .copied()
            .unwrap_or(ClientAddr(None));
        let user = state
            .login
            .attempt(&email, client, || {
                state.users.authenticate(&email, &password)
            })
            .await?;
        let access_token = state.jwt.issue(&user).map_err(AppError::from)?;
        Ok(AuthPayload {
            access_token,
            token_type: "Bearer".into(),
            expires_in: state.jwt.ttl_secs(),
            user: User(user),
        })
    }

    /// Creates a user. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn create_user(&self, ctx: &Context<'_>, input: CreateUserInput) -> Result<User> {
        crate::cache::request::uncacheable();
        Ok(User(state(ctx)?.users.create(input.into()).await?))
    }

    /// Updates a user: admins anything; a user its own email, fullName and password.
    async fn update_user(&self, ctx: &Context<'_>, id: ID, input: UpdateUserInput) -> Result<User> {
        crate::cache::request::uncacheable();
        let viewer = viewer(ctx).await?;
        Ok(User(
            state(ctx)?.users.update(viewer, &id, input.into()).await?,
        ))
    }

    /// Deletes a user; false when there was none. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn delete_user(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        crate::cache::request::uncacheable();
        let viewer = viewer(ctx).await?;
        Ok(state(ctx)?.users.delete(viewer, &id).await?)
    }

    /// Deletes cache keys matching a Redis glob relative to the namespace. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn clear_cache(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "\"*\".to_string()")] pattern: String,
    ) -> Result<ClearCacheResult> {
        crate::cache::request::uncacheable();
        let viewer = viewer(ctx).await?;
        let cleared = state(ctx)?
            .users
            .store()
            .cache()
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
