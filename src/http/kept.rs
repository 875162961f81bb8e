//! Serving a kept whole response: found under the request's key (per caller when it depends on
//! one), to a caller who may have it, only while every entry it was built from is current.
use std::sync::Arc;

use super::{HttpState, respond::json_response};
use crate::{
    cache::{request, responses::CachedResponse},
    config::Introspection,
    graphql::{RequestAuth, RequestKey},
};

/// A kept response this caller may have and that is still current. A response that depends
/// on its caller is kept per caller: it is looked for once the caller is known (a bearer
/// token, resolved now rather than by the first guard). Returned with what it was kept as.
pub(super) async fn kept(
    state: &HttpState,
    auth: &RequestAuth,
    key: &RequestKey,
) -> Option<(axum::response::Response, Arc<CachedResponse>)> {
    let app = &state.app;
    let cache = &app.cache;
    let responses = cache.responses()?;
    // With the caller when it is kept per caller (looked for only when the caller is known).
    let mut hit = responses.get(&key.0, None).map(|hit| (hit, None));
    if hit.is_none()
        && auth.has_bearer()
        && let Ok(viewer) = auth.viewer(&app.jwt, &app.users).await
    {
        hit = responses
            .get(&key.0, Some(viewer.id()))
            .map(|hit| (hit, Some(viewer.id())));
    }
    let (hit, caller) = hit?;
    if hit.introspection && state.app.config.limits.introspection != Introspection::On {
        return None;
    }
    // Not served to this caller: kept for someone else. Only a stale response is dropped,
    // so no caller can evict another's.
    if hit.authenticated || hit.admin {
        match auth.viewer(&app.jwt, &app.users).await {
            Ok(viewer)
                if hit.caller.is_none_or(|c| c == viewer.id())
                    && (!hit.admin || viewer.is_admin()) => {}
            _ => return None,
        }
    } else if hit.caller.is_some() {
        return None;
    }
    if !cache.still_current(&hit.deps, &hit.checked).await {
        responses.forget(&key.0, caller);
        return None;
    }
    // An entry it was built from is close to expiry: this one request is answered by the
    // resolvers, whose hits refresh it in the background (the response stays kept).
    if cache.refresh_due(hit.soonest) {
        request::want_refresh();
        return None;
    }
    responses.served();
    let response = json_response(
        hit.body.clone(),
        hit.cache_control.as_deref(),
        hit.cache_tag.as_deref(),
    );
    Some((response, hit))
}
