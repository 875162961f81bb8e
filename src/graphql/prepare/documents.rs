//! Parsed documents with their measured cost, cached by their exact text
//! (`CACHE_PARSED_QUERIES`).
//!
//! Parsing is about a quarter of the CPU a cached read costs, and a frontend sends the same few
//! documents over and over. The key is the resolved text (after persisted queries), so a
//! document is only ever reused for the very text it was parsed from. Entries are weighed by
//! what they hold (text plus a per-node estimate of the syntax tree, argument values included), not by text alone:
//! a flood of tiny distinct documents stays inside the bound.
use std::sync::Arc;

use async_graphql::{ServerError, parser::types::ExecutableDocument};
use moka::sync::Cache;

use super::cost::{self, Cost};

/// A document as parsed, and what it costs.
pub struct Parsed {
    /// The syntax tree, cloned into each request that runs it.
    pub document: ExecutableDocument,
    /// Its size, by the most expensive operation.
    pub cost: Cost,
}

/// Why a text is not a document that can be measured.
pub enum ParseFailure {
    /// Not GraphQL: the parser's error, with its location.
    Syntax(ServerError),
    /// Parsed, but its cost cannot be measured (a fragment cycle, absurd nesting).
    Cost(cost::CostError),
}

/// Bytes counted per node or value of a held document (its node, name and position), and per
/// document; checked in `scripts/floods` against RSS.
const BYTES_PER_NODE: u64 = 256;
const BYTES_PER_DOCUMENT: u64 = 1024;

/// What holding `parsed` for `text` is counted as.
fn weight(text: &str, parsed: &Parsed) -> u32 {
    let bytes = (2 * text.len() as u64)
        .saturating_add(parsed.cost.written.saturating_mul(BYTES_PER_NODE))
        .saturating_add(BYTES_PER_DOCUMENT);
    u32::try_from(bytes).unwrap_or(u32::MAX)
}

/// Parses `text` and measures it.
pub fn parse(text: &str) -> Result<Parsed, ParseFailure> {
    let document = async_graphql::parser::parse_query(text)
        .map_err(|e| ParseFailure::Syntax(ServerError::from(e)))?;
    let cost = cost::measure(&document).map_err(ParseFailure::Cost)?;
    Ok(Parsed { document, cost })
}

/// The cache; `None` inside [`super::Preparer`] when `CACHE_PARSED_QUERIES=false`.
pub struct Documents {
    parsed: Cache<Arc<str>, Arc<Parsed>, foldhash::fast::RandomState>,
}

impl Documents {
    /// A cache of about `bytes`.
    pub fn new(bytes: u64) -> Self {
        Self {
            parsed: Cache::builder()
                .max_capacity(bytes)
                .weigher(|text: &Arc<str>, parsed: &Arc<Parsed>| weight(text, parsed))
                .build_with_hasher(foldhash::fast::RandomState::default()),
        }
    }

    /// The document for `text`, parsed now if it is not held. Failures are not kept: they are
    /// cheap to find again, and keeping them would let anyone fill the cache.
    pub fn get(&self, text: &str) -> Result<Arc<Parsed>, ParseFailure> {
        if let Some(parsed) = self.parsed.get(text) {
            return Ok(parsed);
        }
        let parsed = Arc::new(parse(text)?);
        self.parsed.insert(text.into(), parsed.clone());
        Ok(parsed)
    }
}
