//! Which root fields ran, for the whole-response cache's default-deny rule: each is recorded
//! with its response key and field name, and a response is kept only if every one of them
//! declared a policy through [`super::cached`] (see `cache::request::Reads::covers`). Recorded
//! here, by the executor, rather than read off the response, so that no alias and no fragment
//! merging two fields under one key can hide a field that declared nothing.
use std::sync::Arc;

use async_graphql::{
    QueryPathSegment, ServerResult, Value,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo},
};

use crate::cache::request;

/// Install with `Schema::build(..).extension(RootFields)`.
pub struct RootFields;

impl ExtensionFactory for RootFields {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RootFields)
    }
}

#[async_trait::async_trait]
impl Extension for RootFields {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if info.path_node.parent.is_none()
            && let QueryPathSegment::Name(key) = info.path_node.segment
        {
            request::ran(key, info.name);
        }
        next.run(ctx, info).await
    }
}
