//! Who may call what: the caller is resolved once per request (see [`RequestAuth`])
//! and checked here.
use async_graphql::{Context, Guard, Result};

use super::RequestAuth;
use crate::{
    AppState,
    error::{AppError, AppResult},
    users::Viewer,
};

/// The request's authenticated caller, or `UNAUTHENTICATED`.
pub async fn viewer<'c>(ctx: &'c Context<'_>) -> AppResult<&'c Viewer> {
    let state = ctx
        .data::<AppState>()
        .map_err(|_| AppError::internal(std::io::Error::other("AppState missing from schema")))?;
    crate::cache::request::authenticated();
    match ctx.data_opt::<RequestAuth>() {
        Some(auth) => auth.viewer(&state.jwt, &state.users).await,
        None => Err(AppError::Unauthenticated("authentication required".into())),
    }
}

/// Any authenticated, active user.
pub struct Authenticated;

impl Guard for Authenticated {
    async fn check(&self, ctx: &Context<'_>) -> Result<()> {
        viewer(ctx).await?;
        Ok(())
    }
}

/// Admins only: `FORBIDDEN` for other authenticated users.
pub struct AdminOnly;

impl Guard for AdminOnly {
    async fn check(&self, ctx: &Context<'_>) -> Result<()> {
        // A kept response with this field is served only to admins (see `http::kept`).
        crate::cache::request::admin();
        if viewer(ctx).await?.is_admin() {
            Ok(())
        } else {
            Err(AppError::Forbidden("admin role required".into()).into())
        }
    }
}

/// The state every resolver reads.
pub fn state<'c>(ctx: &'c Context<'_>) -> AppResult<&'c AppState> {
    ctx.data::<AppState>()
        .map_err(|_| AppError::internal(std::io::Error::other("AppState missing from schema")))
}
