//! The users part of the API: reading users (every field needs a token, and is marked
//! `Cache-Control: no-cache, private`: browsers may keep responses but must not reuse them
//! unchecked, and shared caches must not keep them at all), logging in, and the user mutations.
//!
//! Each query declares its cache [`Policy`] beside it; the mutations declare none, so no
//! response they are part of is ever kept.
use async_graphql::{Context, ID, Object, Result};

use crate::{
    auth::ClientAddr,
    cache::{
        Kind, USER_COUNTS_TAG, USERS_TAG,
        page::{self, Page},
        policy::Policy,
        request,
    },
    domain::validate::MAX_LIMIT,
    error::AppError,
    graphql::{
        cached::cached,
        guards::{AdminOnly, Authenticated, state, viewer},
        types::{AuthPayload, CreateUserInput, UpdateUserInput, User, UserStats},
    },
};

/// `me`: the caller's own entry, so its responses are kept per caller.
const ME: Policy = Policy::per_caller().kind(Kind::USER);
/// `user` and `userByEmail`: versioned entries (`user:{id}`, `email:{email}`), the same for
/// every caller.
const USER: Policy = Policy::shared().kind(Kind::USER);
/// `users`: one page of ids for every caller, dropped by a create or a delete (the `users`
/// tag); its members are read through their own entries, so an update changes only the
/// responses of the pages that hold that user.
const USERS_PAGE: Policy = Policy::shared().tag(USERS_TAG).kind(Kind::LIST);
/// `userStats`: the same for every caller, dropped by a create, a delete, or a change of role
/// or `isActive` (the `user-counts` tag).
const USER_STATS: Policy = Policy::shared().tag(USER_COUNTS_TAG).kind(Kind::AGGREGATE);

/// The user queries.
#[derive(Default)]
pub struct UsersQuery;

#[Object]
impl UsersQuery {
    /// The caller.
    #[graphql(guard = "Authenticated", cache_control(private, no_cache))]
    async fn me(&self, ctx: &Context<'_>) -> Result<User> {
        cached(ctx, ME).await?;
        Ok(User(viewer(ctx).await?.user.clone()))
    }

    /// A user by id; null when absent.
    #[graphql(guard = "Authenticated", cache_control(private, no_cache))]
    async fn user(&self, ctx: &Context<'_>, id: ID) -> Result<Option<User>> {
        let users = &state(ctx)?.users;
        let found = cached(ctx, USER).await?.run(users.get(&id)).await?;
        Ok(found.map(User))
    }

    /// A user by email (case-insensitive); null when absent.
    #[graphql(guard = "Authenticated", cache_control(private, no_cache))]
    async fn user_by_email(&self, ctx: &Context<'_>, email: String) -> Result<Option<User>> {
        let users = &state(ctx)?.users;
        let found = cached(ctx, USER).await?.run(users.by_email(&email)).await?;
        Ok(found.map(User))
    }

    /// Users ordered by id; `0 <= skip`, `1 <= limit <= 1000`.
    #[graphql(
        guard = "Authenticated",
        cache_control(private, no_cache),
        complexity = "(limit.clamp(1, MAX_LIMIT) as usize) * child_complexity + page::surplus(skip, limit, MAX_LIMIT)"
    )]
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 0)] skip: i32,
        #[graphql(default = 100)] limit: i32,
    ) -> Result<Vec<User>> {
        let users = &state(ctx)?.users;
        let loader = users.clone();
        let ids = cached(ctx, USERS_PAGE)
            .await?
            .load_page(
                Page::new("list", skip, limit).within(MAX_LIMIT),
                move |skip, limit| async move { loader.page_ids(skip, limit).await },
            )
            .await?;
        let page = match users.members(&ids).await? {
            Some(page) => page,
            // A member was deleted after the page was read: the page as the database has it.
            None => {
                request::uncacheable();
                users.list(skip, limit).await?
            }
        };
        Ok(page.into_iter().map(User).collect())
    }

    /// Counts of users (cached; a create, a delete, or a change of a role or `isActive`
    /// invalidates it).
    #[graphql(guard = "Authenticated", cache_control(private, no_cache))]
    async fn user_stats(&self, ctx: &Context<'_>) -> Result<UserStats> {
        let users = state(ctx)?.users.clone();
        let counts = cached(ctx, USER_STATS)
            .await?
            .load("stats", move || async move { users.counts().await })
            .await?;
        Ok(counts.into())
    }
}

/// The user mutations and `login`.
#[derive(Default)]
pub struct UsersMutation;

/// No mutation declares a cache policy: no response of one is ever kept.
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
        Ok(User(state(ctx)?.users.create(input.into()).await?))
    }

    /// Updates a user: admins anything; a user its own email, fullName and password.
    async fn update_user(&self, ctx: &Context<'_>, id: ID, input: UpdateUserInput) -> Result<User> {
        let viewer = viewer(ctx).await?;
        Ok(User(
            state(ctx)?.users.update(viewer, &id, input.into()).await?,
        ))
    }

    /// Deletes a user; false when there was none. Admin only.
    #[graphql(guard = "AdminOnly")]
    async fn delete_user(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let viewer = viewer(ctx).await?;
        Ok(state(ctx)?.users.delete(viewer, &id).await?)
    }
}
