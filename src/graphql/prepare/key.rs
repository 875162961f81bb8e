//! The key a request is cached under ([`RequestKey`]), and what may name an operation in it.
use std::sync::Arc;

use async_graphql::{Request, Variables};

/// What identifies a request for the validation and response caches: the resolved document
/// text, the operation name exactly as sent, and the variables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestKey(pub Arc<str>);

impl RequestKey {
    /// The key of a request whose `query` is already the resolved text; `None` when its
    /// variables cannot be serialized.
    ///
    /// Each part is preceded by its length, so no choice of name, variables and text can
    /// produce another request's key (separators alone could be forged: a name or a text may
    /// contain any character); `-` (no name) and `=` (a name, possibly `""`) never collide.
    pub fn of(request: &Request) -> Option<Self> {
        Self::of_parts(
            request.operation_name.as_deref(),
            &request.variables,
            &request.query,
        )
    }

    /// The key of the operation `name` of the document `query` with `variables`, built as
    /// [`RequestKey::of`] builds it.
    pub fn of_parts(name: Option<&str>, variables: &Variables, query: &str) -> Option<Self> {
        use std::fmt::Write;
        let variables = serde_json::to_string(variables).ok()?;
        let (mark, name) = match name {
            None => ('-', ""),
            Some(name) => ('=', name),
        };
        let mut key = String::with_capacity(40 + name.len() + variables.len() + query.len());
        let _ = write!(
            key,
            "{mark}{}:{name}{}:{variables}",
            name.len(),
            variables.len()
        );
        key.push_str(query);
        Some(Self(key.into()))
    }
}

/// Whether `name` can name an operation: a GraphQL name, or `""` (which names none, and is
/// answered so by execution).
pub(super) fn is_operation_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        None => true,
        Some(first) => {
            (first.is_ascii_alphabetic() || first == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
    }
}
