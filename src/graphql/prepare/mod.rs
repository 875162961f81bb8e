//! From a request as sent to the request that will run: persisted queries resolved, the
//! document parsed (or found) and measured, every cost limit and the method rule checked, and
//! the key every cache of this request uses computed from what will actually execute.
//!
//! *Invariant:* everything after [`Preparer::resolve`] (the validation cache, the response
//! cache, execution) sees one document, and the [`RequestKey`] names exactly that document
//! text, operation name (`""` is not absent) and variables. No request can be answered with
//! another document's parse, validation or response, whatever it put in its extensions.
mod cost;
mod documents;
mod key;
mod known;
mod persisted;

use std::sync::Arc;

use async_graphql::{
    Request, ServerError,
    parser::types::{DocumentOperations, OperationType},
};

pub use cost::{Cost, CostError};
pub use documents::Parsed;
pub use key::RequestKey;
use key::is_operation_name;
pub use known::Known;

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
    /// 400, `BAD_REQUEST`: `operationName` is not a GraphQL name, or the variables cannot be
    /// read back.
    #[error("{0}")]
    BadRequest(&'static str),
    /// 200, the parser's error, coded by the endpoint's mapping of async-graphql errors
    /// (`http::respond::with_codes`); [`Refusal::code`] is not used for it.
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
            Self::PersistedQueryMismatch
            | Self::PersistedQueryBad
            | Self::NoQuery
            | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::MutationOverGet => StatusCode::METHOD_NOT_ALLOWED,
        }
    }

    /// The `extensions.code` it carries.
    pub fn code(&self) -> &'static str {
        match self {
            Self::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            Self::PersistedQueryMismatch
            | Self::PersistedQueryBad
            | Self::NoQuery
            | Self::BadRequest(_) => "BAD_REQUEST",
            Self::Syntax(_) => "BAD_USER_INPUT",
            Self::Limit(_) => "GRAPHQL_VALIDATION_FAILED",
            Self::MutationOverGet => "METHOD_NOT_ALLOWED",
        }
    }
}

/// How the request arrived: GET may not run a mutation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
}

/// A request whose document text is resolved and keyed, not yet parsed: enough to look up a
/// kept response (every kept response was admitted under the same key, and limits do not
/// depend on the caller).
pub struct Resolved {
    /// The request, its `query` the resolved text.
    pub request: Request,
    /// The key of the validation and response caches.
    pub key: RequestKey,
    /// It registered a persisted query's text: found again by its bytes alone it would not, so
    /// it is not to be remembered by them (see `known`).
    pub registers: bool,
}

/// A request ready to run.
pub struct Prepared {
    /// The request, its `query` the resolved text.
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
    known: Option<known::KnownRequests>,
    limits: RequestLimits,
}

impl Preparer {
    /// With the request limits; parsed documents are cached when `cache_documents`, and
    /// requests remembered by their bytes in about `remember_bytes` when given (for the
    /// response cache).
    pub fn new(limits: RequestLimits, cache_documents: bool, remember_bytes: Option<u64>) -> Self {
        Self {
            persisted: persisted::PersistedQueries::new(PERSISTED_QUERY_BYTES),
            documents: cache_documents.then(|| documents::Documents::new(DOCUMENT_CACHE_BYTES)),
            known: remember_bytes.map(known::KnownRequests::new),
            limits,
        }
    }

    /// What a request that arrived by `method` as exactly `raw` resolved to before, if it did
    /// (see `known`: the same bytes always resolve alike).
    pub fn known(&self, method: Method, raw: &[u8]) -> Option<Known> {
        self.known.as_ref()?.get(method, raw)
    }

    /// Remembers that `raw`, arrived by `method`, resolved to `key` (naming `operation`).
    pub fn remember(&self, method: Method, raw: &[u8], key: &RequestKey, operation: Option<&str>) {
        if let Some(known) = &self.known {
            known.remember(method, raw, key, operation);
        }
    }

    /// Resolves persisted queries and keys the request; refuses bad names and too many
    /// variables. No parsing.
    pub fn resolve(&self, mut request: Request) -> Result<Resolved, Refusal> {
        let limits = &self.limits;
        if request
            .operation_name
            .as_deref()
            .is_some_and(|name| !is_operation_name(name))
        {
            return Err(Refusal::BadRequest("operationName is not a GraphQL name"));
        }
        if request.variables.len() > limits.max_variables {
            return Err(Refusal::Limit(format!(
                "{} variables sent; at most {} are accepted (MAX_QUERY_VARIABLES)",
                request.variables.len(),
                limits.max_variables
            )));
        }
        let registers = self.persisted.resolve(&mut request)?;
        if request.query.trim().is_empty() {
            return Err(Refusal::NoQuery);
        }
        let key = RequestKey::of(&request)
            .ok_or(Refusal::BadRequest("the variables cannot be read back"))?;
        Ok(Resolved {
            request,
            key,
            registers,
        })
    }

    /// Parses (or finds) and measures the document, and checks every cost limit and the method
    /// rule: everything before execution that needs no caller (see the module doc).
    pub fn admit(&self, resolved: Resolved, method: Method) -> Result<Prepared, Refusal> {
        let Resolved { request, key, .. } = resolved;
        let limits = &self.limits;
        let parsed = match &self.documents {
            Some(documents) => documents.get(&request.query),
            None => documents::parse(&request.query).map(Arc::new),
        }
        .map_err(|failure| match failure {
            documents::ParseFailure::Syntax(err) => Refusal::Syntax(err),
            documents::ParseFailure::Cost(err) => Refusal::Limit(err.to_string()),
        })?;
        let cost = parsed.cost;
        if cost.nodes > limits.max_nodes {
            return Err(Refusal::Limit(format!(
                "the document has {} fields, fragment spreads, arguments and directives once \
                 fragments are expanded; at most {} are allowed (MAX_QUERY_NODES)",
                cost.nodes, limits.max_nodes
            )));
        }
        if cost.aliases > limits.max_aliases {
            return Err(Refusal::Limit(format!(
                "the document has {} aliased fields; at most {} are allowed (MAX_QUERY_ALIASES)",
                cost.aliases, limits.max_aliases
            )));
        }
        if method == Method::Get
            && selected(&parsed, request.operation_name.as_deref()) == Some(OperationType::Mutation)
        {
            return Err(Refusal::MutationOverGet);
        }
        Ok(Prepared {
            request,
            parsed,
            key,
        })
    }
}

impl Prepared {
    /// Whether the operation that will run is a query (only queries' responses are kept).
    pub fn is_query(&self) -> bool {
        selected(&self.parsed, self.request.operation_name.as_deref()) == Some(OperationType::Query)
    }

    /// The request with its document attached, for execution (the document is cloned only
    /// now: a response-cache hit never needs it).
    pub fn into_request(self) -> Request {
        let document = Arc::try_unwrap(self.parsed)
            .map(|parsed| parsed.document)
            .unwrap_or_else(|shared| shared.document.clone());
        let mut request = self.request;
        request.set_parsed_query(document);
        request
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

#[cfg(test)]
mod tests;
