//! Validation results, cached by [`RequestKey`] (`CACHE_PARSED_QUERIES`).
//!
//! Validation is much of what a cached read would otherwise cost. It depends on the document,
//! the operation and the variable values (their types, enum members, custom scalars, and the
//! complexity of `users(limit: $n)`), so a result is reused only for a request with the same
//! key: the one [`super::prepare`] computes from the resolved request, except that the value of
//! a variable every operation declares as `String` or `ID` (not a list) counts only as "a
//! string". Validation cannot tell two strings apart there: such a variable is allowed only
//! where a `String` or an `ID` goes, and any string is one. That holds while no field's
//! complexity reads a `String` or `ID` argument and no input takes a scalar of the application's
//! own (whose check could read a string written inside its literal): [`blanking_is_sound`]
//! checks the schema once, and for a schema where it does not hold, values count exactly.
//! Without this, every mutation with a new name in its variables (most writes) was validated
//! again. Only successes are kept: a refused document is checked every time. Entries are
//! weighed by key and result.
use std::sync::{Arc, Mutex, OnceLock};

use async_graphql::{
    Name, Request, ServerResult, ValidationResult, Value, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest,
        NextValidation,
    },
    parser::types::{BaseType, ExecutableDocument},
    registry::{MetaInputValue, MetaType, Registry},
};
use moka::sync::Cache;

use super::prepare::RequestKey;

/// Bytes counted per kept result beyond its key.
const ENTRY_OVERHEAD: u32 = 256;

/// The shared cache; install with `Schema::build(..).extension(ValidationCache::new(..))`.
#[derive(Clone)]
pub struct ValidationCache {
    validations: Cache<Arc<str>, ValidationResult, foldhash::fast::RandomState>,
    /// Whether string values may be blanked in keys ([`blanking_is_sound`]), once known.
    blanking: Arc<OnceLock<bool>>,
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
            blanking: Arc::default(),
        }
    }
}

impl ExtensionFactory for ValidationCache {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PerRequest {
            shared: self.clone(),
            key: Mutex::new(Key::None),
        })
    }
}

struct PerRequest {
    shared: ValidationCache,
    key: Mutex<Key>,
}

/// Where this request's validation key stands.
enum Key {
    /// No key: nothing is cached.
    None,
    /// The endpoint's key of the request (its variables as sent) and the operation it names;
    /// the document is not parsed yet.
    Sent {
        key: RequestKey,
        operation: Option<String>,
    },
    /// The key validation is cached under.
    Ready(RequestKey),
}

impl PerRequest {
    fn key(&self) -> std::sync::MutexGuard<'_, Key> {
        self.key.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// `variables`, with the value of each one that every operation of `doc` declares as a `String`
/// or an `ID` (not a list) replaced by `""` when it is a string: what validation sees of it.
/// `None` when that changes nothing (the variables as sent are what validation sees).
fn as_validated(doc: &ExecutableDocument, variables: &Variables) -> Option<Variables> {
    let blank = |name: &Name, value: &Value| {
        matches!(value, Value::String(s) if !s.is_empty()) && declared_as_text(doc, name)
    };
    if !variables.iter().any(|(name, value)| blank(name, value)) {
        return None;
    }
    let mut out = Variables::default();
    for (name, value) in variables.iter() {
        let seen = if blank(name, value) {
            Value::String(String::new())
        } else {
            value.clone()
        };
        out.insert(name.clone(), seen);
    }
    Some(out)
}

/// Whether validation reads no more of a string given for a `String` or `ID` variable than that
/// it is a string, in this schema: no field with a computed complexity takes a `String` or `ID`
/// argument, and no argument, input field or directive argument is a scalar other than the
/// five built-in ones.
fn blanking_is_sound(registry: &Registry) -> bool {
    const BUILT_IN: [&str; 5] = ["String", "ID", "Int", "Float", "Boolean"];
    let named = |v: &MetaInputValue| v.ty.trim_matches(['[', ']', '!']).to_owned();
    let plain_input = |v: &MetaInputValue| {
        let name = named(v);
        BUILT_IN.contains(&name.as_str())
            || !matches!(registry.types.get(&name), Some(MetaType::Scalar { .. }))
    };
    let text = |v: &MetaInputValue| matches!(named(v).as_str(), "String" | "ID");
    let types = registry.types.values().all(|ty| match ty {
        MetaType::Object { fields, .. } | MetaType::Interface { fields, .. } => {
            fields.values().all(|field| {
                field.args.values().all(plain_input)
                    && (field.compute_complexity.is_none() || !field.args.values().any(text))
            })
        }
        MetaType::InputObject { input_fields, .. } => input_fields.values().all(plain_input),
        _ => true,
    });
    types
        && registry
            .directives
            .values()
            .all(|d| d.args.values().all(plain_input))
}

/// Whether some operation of `doc` declares `$name`, and every one that does as `String` or `ID`.
fn declared_as_text(doc: &ExecutableDocument, name: &Name) -> bool {
    let mut declared = false;
    for (_, operation) in doc.operations.iter() {
        for definition in &operation.node.variable_definitions {
            let definition = &definition.node;
            if definition.name.node != *name {
                continue;
            }
            match &definition.var_type.node.base {
                BaseType::Named(ty) if ty.as_str() == "String" || ty.as_str() == "ID" => {
                    declared = true;
                }
                _ => return false,
            }
        }
    }
    declared
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
        let sent = request
            .data
            .get(&std::any::TypeId::of::<RequestKey>())
            .and_then(|d| d.downcast_ref::<RequestKey>());
        *self.key() = match sent {
            Some(key) => Key::Sent {
                key: key.clone(),
                operation: request.operation_name.clone(),
            },
            None => Key::None,
        };
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        let blanking = *self
            .shared
            .blanking
            .get_or_init(|| blanking_is_sound(&ctx.schema_env.registry));
        let mut key = self.key();
        if let Key::Sent {
            key: sent,
            operation,
        } = &*key
        {
            // The endpoint's key serves as it is unless a value is blanked.
            *key = match blanking.then(|| as_validated(&doc, variables)).flatten() {
                None => Key::Ready(sent.clone()),
                Some(seen) => RequestKey::of_parts(operation.as_deref(), &seen, query)
                    .map_or(Key::None, Key::Ready),
            };
        }
        Ok(doc)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<async_graphql::ServerError>> {
        let key = match std::mem::replace(&mut *self.key(), Key::None) {
            Key::Ready(key) => Some(key),
            Key::None | Key::Sent { .. } => None,
        };
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

#[cfg(test)]
mod tests;
