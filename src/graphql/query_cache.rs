//! Parsed and validated documents, cached by query text (`CACHE_PARSED_QUERIES`).
//!
//! Parsing a document is about a quarter of the CPU a cached read costs, and validation much of
//! the rest. A frontend sends the same few documents over and over, so the parsed document is
//! kept by its text, and the validation result by (text, operation name, variables): validation
//! depends on variable values (their types, and the complexity of `users(limit: $n)`), so a
//! result is reused only for exactly the same request. Both caches are bounded by bytes.
use std::sync::{Arc, Mutex};

use async_graphql::{
    Request, ServerResult, ValidationResult, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest,
        NextValidation,
    },
    parser::types::ExecutableDocument,
};
use moka::sync::Cache;

/// The shared caches; install with `Schema::build(..).extension(QueryCache::new(..))`.
#[derive(Clone)]
pub struct QueryCache {
    documents: Cache<String, ExecutableDocument>,
    validations: Cache<String, ValidationResult>,
}

impl QueryCache {
    /// Caches holding about `bytes` of query text each.
    pub fn new(bytes: u64) -> Self {
        Self {
            documents: Cache::builder()
                .max_capacity(bytes)
                .weigher(|k: &String, _| k.len().try_into().unwrap_or(u32::MAX))
                .build(),
            validations: Cache::builder()
                .max_capacity(bytes)
                .weigher(|k: &String, _| k.len().try_into().unwrap_or(u32::MAX))
                .build(),
        }
    }
}

impl ExtensionFactory for QueryCache {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PerRequest {
            shared: self.clone(),
            validation_key: Mutex::new(None),
        })
    }
}

struct PerRequest {
    shared: QueryCache,
    validation_key: Mutex<Option<RequestKey>>,
}

/// What identifies a request for caching: operation name, variables and document (or its
/// persisted-query hash). Computed once per request by the HTTP handler and attached to the
/// request's data, where the validation cache finds it.
#[derive(Clone)]
pub struct RequestKey(pub Arc<str>);

impl RequestKey {
    /// `None` when the request cannot be keyed (no document and no persisted-query hash).
    pub fn of(request: &Request) -> Option<Self> {
        let variables = serde_json::to_string(&request.variables).ok()?;
        let operation = request.operation_name.as_deref().unwrap_or("");
        let key = if request.query.is_empty() {
            let hash = request
                .extensions
                .get("persistedQuery")
                .and_then(|p| serde_json::to_string(p).ok())?;
            format!("{operation}\u{0}{variables}\u{0}#{hash}")
        } else {
            format!("{operation}\u{0}{variables}\u{0}{}", request.query)
        };
        Some(Self(key.into()))
    }
}

#[async_trait::async_trait]
impl Extension for PerRequest {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let key = request
            .data
            .get(&std::any::TypeId::of::<RequestKey>())
            .and_then(|d| d.downcast_ref::<RequestKey>())
            .cloned()
            .or_else(|| RequestKey::of(&request));
        *self
            .validation_key
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = key;
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        if let Some(document) = self.shared.documents.get(query) {
            return Ok(document);
        }
        let document = next.run(ctx, query, variables).await?;
        self.shared
            .documents
            .insert(query.to_owned(), document.clone());
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<async_graphql::ServerError>> {
        let key = self
            .validation_key
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(key) = &key
            && let Some(result) = self.shared.validations.get(&*key.0)
        {
            return Ok(result);
        }
        // Only successful validations are kept: a refused document is checked every time.
        let result = next.run(ctx).await?;
        if let Some(key) = key {
            self.shared.validations.insert(key.0.to_string(), result);
        }
        Ok(result)
    }
}
