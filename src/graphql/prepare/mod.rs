//! From a request as sent to the request that will run: persisted queries resolved, the
//! document parsed (or found) and measured, every cost limit and the method rule checked, and
//! the key every cache of this request uses computed from what will actually execute.
//!
//! *Invariant:* everything after [`Preparer::prepare`] (the validation cache, the response
//! cache, execution) sees one document, and the [`RequestKey`] names exactly that document
//! text, operation name (`""` is not absent) and variables. No request can be answered with
//! another document's parse, validation or response, whatever it put in its extensions.
mod cost;
mod documents;
mod persisted;

use std::sync::Arc;

use async_graphql::{
    Request, ServerError,
    parser::types::{DocumentOperations, OperationType},
};

pub use cost::{Cost, CostError};
pub use documents::Parsed;

use crate::config::RequestLimits;

/// Bytes of parsed documents kept (`CACHE_PARSED_QUERIES`), weighed by what they hold.
pub const DOCUMENT_CACHE_BYTES: u64 = 16 << 20;
/// Bytes of persisted-query texts kept.
pub const PERSISTED_QUERY_BYTES: u64 = 4 << 20;

/// Why a request is refused before it runs. Each says what the client is told.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum Refusal {
    /// 200, `PERSISTED_QUERY_NOT_FOUND`: the hash is unknown here; Apollo clients then send
    /// the document with it.
    #[error("PersistedQueryNotFound")]
    PersistedQueryNotFound,
    /// 400, `BAD_REQUEST`: the document's SHA-256 is not the hash sent with it.
    #[error("provided sha does not match query")]
    PersistedQueryMismatch,
    /// 400, `BAD_REQUEST`: `extensions.persistedQuery` is not `{version: 1, sha256Hash}`.
    #[error(
        "extensions.persistedQuery must be {{\"version\": 1, \"sha256Hash\": \"<64 hex digits>\"}}"
    )]
    PersistedQueryBad,
    /// 400, `BAD_REQUEST`: no document at all.
    #[error("the request has no query")]
    NoQuery,
    /// 200, the parser's error (`BAD_USER_INPUT` once coded by the endpoint).
    #[error("{}", .0.message)]
    Syntax(ServerError),
    /// 200, `GRAPHQL_VALIDATION_FAILED`: over a limit; the message names it.
    #[error("{0}")]
    Limit(String),
    /// 405, `METHOD_NOT_ALLOWED`: the operation that would run is a mutation, sent with GET.
    #[error("mutations must be sent with POST")]
    MutationOverGet,
}

impl Refusal {
    /// The HTTP status this refusal is answered with.
    pub fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode;
        match self {
            Self::PersistedQueryNotFound | Self::Syntax(_) | Self::Limit(_) => StatusCode::OK,
            Self::PersistedQueryMismatch | Self::PersistedQueryBad | Self::NoQuery => {
                StatusCode::BAD_REQUEST
            }
            Self::MutationOverGet => StatusCode::METHOD_NOT_ALLOWED,
        }
    }

    /// The `extensions.code` it carries.
    pub fn code(&self) -> &'static str {
        match self {
            Self::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            Self::PersistedQueryMismatch | Self::PersistedQueryBad | Self::NoQuery => "BAD_REQUEST",
            Self::Syntax(_) => "BAD_USER_INPUT",
            Self::Limit(_) => "GRAPHQL_VALIDATION_FAILED",
            Self::MutationOverGet => "METHOD_NOT_ALLOWED",
        }
    }
}

/// What identifies a request for the validation and response caches: the resolved document
/// text, the operation name exactly as sent, and the variables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestKey(pub Arc<str>);

impl RequestKey {
    /// The key of a request whose `query` is already the resolved text.
    pub fn of(request: &Request) -> Self {
        let variables = serde_json::to_string(&request.variables).unwrap_or_default();
        // `-` (no name) and `=name` can never collide, so `""` is a name of its own.
        let (mark, name) = match &request.operation_name {
            None => ('-', ""),
            Some(name) => ('=', name.as_str()),
        };
        let mut key = String::with_capacity(3 + name.len() + variables.len() + request.query.len());
        key.push(mark);
        key.push_str(name);
        key.push('\u{0}');
        key.push_str(&variables);
        key.push('\u{0}');
        key.push_str(&request.query);
        Self(key.into())
    }
}

/// How the request arrived: GET may not run a mutation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

/// A request ready to run.
pub struct Prepared {
    /// The request, its `query` the resolved text and its document attached.
    pub request: Request,
    /// The parsed document and its cost.
    pub parsed: Arc<Parsed>,
    /// The key of the validation and response caches.
    pub key: RequestKey,
}

/// Resolves, parses, measures and keys requests; shared by every request.
pub struct Preparer {
    persisted: persisted::PersistedQueries,
    documents: Option<documents::Documents>,
    limits: RequestLimits,
}

impl Preparer {
    /// With the request limits; parsed documents are cached when `cache_documents`.
    pub fn new(limits: RequestLimits, cache_documents: bool) -> Self {
        Self {
            persisted: persisted::PersistedQueries::new(PERSISTED_QUERY_BYTES),
            documents: cache_documents.then(|| documents::Documents::new(DOCUMENT_CACHE_BYTES)),
            limits,
        }
    }

    /// The limits requests are held to.
    pub fn limits(&self) -> &RequestLimits {
        &self.limits
    }

    /// Everything before execution that needs no caller (see the module doc).
    pub fn prepare(&self, mut request: Request, method: Method) -> Result<Prepared, Refusal> {
        let limits = &self.limits;
        if request.variables.len() > limits.max_variables {
            return Err(Refusal::Limit(format!(
                "{} variables sent; at most {} are accepted (MAX_QUERY_VARIABLES)",
                request.variables.len(),
                limits.max_variables
            )));
        }
        self.persisted.resolve(&mut request)?;
        if request.query.trim().is_empty() {
            return Err(Refusal::NoQuery);
        }
        let parsed = match &self.documents {
            Some(documents) => documents.get(&request.query),
            None => documents::parse(&request.query).map(Arc::new),
        }
        .map_err(|failure| match failure {
            documents::ParseFailure::Syntax(err) => Refusal::Syntax(err),
            documents::ParseFailure::Cost(err) => Refusal::Limit(err.to_string()),
        })?;
        let cost = parsed.cost;
        if cost.fields > limits.max_fields {
            return Err(Refusal::Limit(format!(
                "the operation selects {} fields once fragments are expanded; at most {} are \
                 allowed (MAX_QUERY_FIELDS)",
                cost.fields, limits.max_fields
            )));
        }
        if cost.aliases > limits.max_aliases {
            return Err(Refusal::Limit(format!(
                "the operation has {} aliased fields; at most {} are allowed (MAX_QUERY_ALIASES)",
                cost.aliases, limits.max_aliases
            )));
        }
        if method == Method::Get
            && selected(&parsed, request.operation_name.as_deref()) == Some(OperationType::Mutation)
        {
            return Err(Refusal::MutationOverGet);
        }
        let key = RequestKey::of(&request);
        request.set_parsed_query(parsed.document.clone());
        Ok(Prepared {
            request,
            parsed,
            key,
        })
    }
}

/// The type of the operation that `operation_name` selects, as async-graphql will choose it;
/// `None` when it selects none (execution then reports why).
fn selected(parsed: &Parsed, operation_name: Option<&str>) -> Option<OperationType> {
    match (&parsed.document.operations, operation_name) {
        (DocumentOperations::Single(op), None) => Some(op.node.ty),
        (DocumentOperations::Single(_), Some(_)) => None,
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| op.node.ty)
        }
        (DocumentOperations::Multiple(_), None) => None,
    }
}
