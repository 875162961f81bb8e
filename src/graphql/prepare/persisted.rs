//! Apollo automatic persisted queries, resolved before anything else looks at the request.
//!
//! A client may send `extensions.persistedQuery = {version: 1, sha256Hash}` with or without the
//! document. With it, the text is checked against the hash and remembered; without it, the text
//! is looked up. Either way the request leaves here carrying the real document text and no
//! `persistedQuery` extension, so every later step (method check, limits, the document,
//! validation and response caches) sees exactly what will execute.
//!
//! *Invariant:* a hash maps only to a text whose SHA-256 it is, so no client can make another
//! client's hash run a document of its choosing.
use std::sync::Arc;

use async_graphql::Request;
use moka::sync::Cache;
use sha2::{Digest, Sha256};

use super::Refusal;

/// Remembered documents by hash, bounded by the bytes they hold.
pub struct PersistedQueries {
    texts: Cache<[u8; 32], Arc<str>, foldhash::fast::RandomState>,
}

/// Bytes counted for one remembered document beyond its text.
const ENTRY_OVERHEAD: u32 = 128;

impl PersistedQueries {
    /// A store of about `bytes` of documents.
    pub fn new(bytes: u64) -> Self {
        Self {
            texts: Cache::builder()
                .max_capacity(bytes)
                .weigher(|_: &[u8; 32], text: &Arc<str>| {
                    u32::try_from(text.len())
                        .unwrap_or(u32::MAX)
                        .saturating_add(ENTRY_OVERHEAD)
                })
                .build_with_hasher(foldhash::fast::RandomState::default()),
        }
    }

    /// Replaces a persisted-query request by the document it names (see the module doc).
    /// Returns whether it registered the request's text under its hash.
    pub fn resolve(&self, request: &mut Request) -> Result<bool, Refusal> {
        let Some(extension) = request.extensions.remove("persistedQuery") else {
            return Ok(false);
        };
        let value = serde_json::to_value(&extension).map_err(|_| Refusal::PersistedQueryBad)?;
        if value.get("version").and_then(|v| v.as_i64()) != Some(1) {
            return Err(Refusal::PersistedQueryBad);
        }
        let hash = value
            .get("sha256Hash")
            .and_then(|v| v.as_str())
            .and_then(decode_hex)
            .ok_or(Refusal::PersistedQueryBad)?;
        if request.query.is_empty() {
            let text = self
                .texts
                .get(&hash)
                .ok_or(Refusal::PersistedQueryNotFound)?;
            request.query = text.to_string();
            Ok(false)
        } else {
            let actual: [u8; 32] = Sha256::digest(request.query.as_bytes()).into();
            if actual != hash {
                return Err(Refusal::PersistedQueryMismatch);
            }
            self.texts.insert(hash, request.query.as_str().into());
            Ok(true)
        }
    }
}

/// 64 hex digits, either case.
fn decode_hex(hex: &str) -> Option<[u8; 32]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let digit = |b: u8| (b as char).to_digit(16);
        out[i] = (digit(pair[0])? * 16 + digit(pair[1])?) as u8;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str) -> String {
        Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn apq(query: &str, hash: &str) -> Request {
        let mut request = Request::new(query);
        request.extensions.insert(
            "persistedQuery".into(),
            async_graphql::Value::from_json(
                serde_json::json!({ "version": 1, "sha256Hash": hash }),
            )
            .unwrap(),
        );
        request
    }

    #[test]
    fn registers_then_resolves_and_strips_the_extension() {
        let store = PersistedQueries::new(1 << 20);
        let text = "{ me { id } }";
        let mut miss = apq("", &hex(text));
        assert_eq!(
            store.resolve(&mut miss),
            Err(Refusal::PersistedQueryNotFound)
        );
        let mut register = apq(text, &hex(text).to_uppercase());
        store.resolve(&mut register).unwrap();
        assert!(register.extensions.is_empty());
        let mut hit = apq("", &hex(text));
        store.resolve(&mut hit).unwrap();
        assert_eq!(hit.query, text);
        assert!(hit.extensions.is_empty());
    }

    #[test]
    fn a_text_is_stored_only_under_its_own_hash() {
        let store = PersistedQueries::new(1 << 20);
        let victim = "{ me { id } }";
        let mut forged = apq("mutation { deleteUser(id: 1) }", &hex(victim));
        assert_eq!(
            store.resolve(&mut forged),
            Err(Refusal::PersistedQueryMismatch)
        );
        let mut later = apq("", &hex(victim));
        assert_eq!(
            store.resolve(&mut later),
            Err(Refusal::PersistedQueryNotFound)
        );
        for bad in ["", "zz", &"g".repeat(64)] {
            assert_eq!(
                store.resolve(&mut apq(victim, bad)),
                Err(Refusal::PersistedQueryBad)
            );
        }
    }

    #[test]
    fn says_when_it_registered_a_text() {
        // A request that registers must not be found again by its bytes alone (see `known`).
        let store = PersistedQueries::new(1 << 20);
        let text = "{ me { id } }";
        assert_eq!(store.resolve(&mut apq(text, &hex(text))), Ok(true));
        assert_eq!(store.resolve(&mut apq("", &hex(text))), Ok(false));
        let mut plain = Request::new(text);
        assert_eq!(store.resolve(&mut plain), Ok(false));
    }
}
