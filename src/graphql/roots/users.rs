//! The users part of the API: reading users (every field needs a token, and is marked
//! `Cache-Control: no-cache, private`: browsers may keep responses but must not reuse them
//! unchecked, and shared caches must not keep them at all), logging in, and the user mutations.
use async_graphql::{Context, ID, Object, Result};

use crate::{
    auth::ClientAddr,
    error::AppError,
    graphql::{
        guards::{AdminOnly, Authenticated, state, viewer},
        types::{AuthPayload, CreateUserInput, UpdateUserInput, User, UserStats},
    },
};

/// The user queries.
#[derive(Default)]
pub struct UsersQuery;

#[Object]
impl UsersQuery {
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
}

/// The user mutations and `login`.
#[derive(Default)]
pub struct UsersMutation;

/// Mutations are never cached: each resolver marks its request uncacheable first.
#[Object]
impl UsersMutation {
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
}
