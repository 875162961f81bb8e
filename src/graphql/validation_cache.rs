//! Validation results, cached by [`RequestKey`] (`CACHE_PARSED_QUERIES`).
//!
//! Validation is much of what a cached read would otherwise cost. It depends on the document,
//! the operation and the variable values (their types, and the complexity of
//! `users(limit: $n)`), so a result is reused only for a request with exactly the same key,
//! which [`super::prepare`] computes from the resolved request. Only successes are kept: a
//! refused document is checked every time. Entries are weighed by key and result.
use std::sync::{Arc, Mutex};

use async_graphql::{
    Request, ServerResult, ValidationResult,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest, NextValidation,
    },
};
use moka::sync::Cache;

use super::prepare::RequestKey;

/// Bytes counted per kept result beyond its key.
const ENTRY_OVERHEAD: u32 = 256;

/// The shared cache; install with `Schema::build(..).extension(ValidationCache::new(..))`.
#[derive(Clone)]
pub struct ValidationCache {
    validations: Cache<Arc<str>, ValidationResult, foldhash::fast::RandomState>,
}

impl ValidationCache {
    /// A cache of about `bytes`.
    pub fn new(bytes: u64) -> Self {
        Self {
            validations: Cache::builder()
                .max_capacity(bytes)
                .weigher(|k: &Arc<str>, _| {
                    u32::try_from(k.len())
                        .unwrap_or(u32::MAX)
                        .saturating_add(ENTRY_OVERHEAD)
                })
                .build_with_hasher(foldhash::fast::RandomState::default()),
        }
    }
}

impl ExtensionFactory for ValidationCache {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PerRequest {
            shared: self.clone(),
            key: Mutex::new(None),
        })
    }
}

struct PerRequest {
    shared: ValidationCache,
    key: Mutex<Option<RequestKey>>,
}

#[async_trait::async_trait]
impl Extension for PerRequest {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        // Only a key attached by the endpoint counts: without one, nothing is cached.
        let key = request
            .data
            .get(&std::any::TypeId::of::<RequestKey>())
            .and_then(|d| d.downcast_ref::<RequestKey>())
            .cloned();
        *self.key.lock().unwrap_or_else(|p| p.into_inner()) = key;
        next.run(ctx, request).await
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<async_graphql::ServerError>> {
        let key = self.key.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(key) = &key
            && let Some(result) = self.shared.validations.get(&key.0)
        {
            return Ok(result);
        }
        let result = next.run(ctx).await?;
        if let Some(key) = key {
            self.shared.validations.insert(key.0, result);
        }
        Ok(result)
    }
}
