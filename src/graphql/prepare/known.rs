//! Requests seen before, by their exact bytes: so that a request the response cache can answer
//! is looked up without parsing its JSON, resolving it or building its key again.
//!
//! *Invariant:* [`super::Preparer::resolve`] is a function of the bytes a request arrived as
//! (and of how: a POST body and a GET query string are read differently). Persisted queries
//! resolve a hash only to the text whose SHA-256 it is, the limits it checks are fixed at
//! start, and a refusal is never remembered. So the key remembered for some bytes is the key
//! resolving them again would give, and a kept response found under it is the one a parsed
//! request would have found. Only the bytes of a request that resolved are remembered, copied
//! (never a view into a connection's read buffer), in a store bounded by the bytes it holds.
use std::sync::Arc;

use bytes::Bytes;
use moka::sync::Cache;

use super::{Method, RequestKey};

/// Bytes counted per remembered request beyond its bytes and key.
const ENTRY_OVERHEAD: usize = 160;

/// What resolving some bytes gave, as much as answering from the response cache needs.
#[derive(Clone)]
pub struct Known {
    /// The request's key.
    pub key: RequestKey,
    /// The operation's name, for the request log line and metrics.
    pub operation: Option<Arc<str>>,
}

type Store = Cache<Bytes, Known, foldhash::fast::RandomState>;

/// Remembered requests by their bytes, one store per way of arriving (the same bytes mean
/// different requests as a POST body and as a GET query string).
pub struct KnownRequests {
    post: Store,
    get: Store,
}

impl KnownRequests {
    /// Stores of about `bytes` of requests and keys in all.
    pub fn new(bytes: u64) -> Self {
        let store = || {
            Cache::builder()
                .max_capacity(bytes / 2)
                .weigher(|raw: &Bytes, known: &Known| {
                    let operation = known.operation.as_ref().map_or(0, |o| o.len());
                    let len = raw.len() + known.key.0.len() + operation + ENTRY_OVERHEAD;
                    u32::try_from(len).unwrap_or(u32::MAX)
                })
                .build_with_hasher(foldhash::fast::RandomState::default())
        };
        Self {
            post: store(),
            get: store(),
        }
    }

    fn store(&self, method: Method) -> &Store {
        match method {
            Method::Post => &self.post,
            Method::Get => &self.get,
        }
    }

    /// What `raw`, arrived by `method`, resolved to before.
    pub fn get(&self, method: Method, raw: &[u8]) -> Option<Known> {
        self.store(method).get(raw)
    }

    /// Remembers what `raw`, arrived by `method`, resolved to.
    pub fn remember(&self, method: Method, raw: &[u8], key: &RequestKey, operation: Option<&str>) {
        let known = Known {
            key: key.clone(),
            operation: operation.map(Arc::from),
        };
        self.store(method)
            .insert(Bytes::copy_from_slice(raw), known);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_known_only_as_they_arrived() {
        let known = KnownRequests::new(1 << 20);
        let raw = br#"{"query":"{ __typename }"}"#;
        let key = RequestKey("-0:2:{}{ __typename }".into());
        assert!(known.get(Method::Post, raw).is_none());
        known.remember(Method::Post, raw, &key, None);
        assert_eq!(known.get(Method::Post, raw).map(|k| k.key), Some(key));
        assert!(
            known.get(Method::Get, raw).is_none(),
            "a GET is another request"
        );
        assert!(known.get(Method::Post, &raw[..raw.len() - 1]).is_none());
    }

    #[test]
    fn what_is_remembered_is_a_copy_within_the_bound() {
        let known = KnownRequests::new(64 << 10);
        for i in 0..10_000u32 {
            let raw = format!(r#"{{"query":"{{ user(id: {i}) {{ id }} }}"}}"#);
            known.remember(
                Method::Post,
                raw.as_bytes(),
                &RequestKey(raw.clone().into()),
                None,
            );
        }
        known.post.run_pending_tasks();
        assert!(
            known.post.weighted_size() <= 32 << 10,
            "{}",
            known.post.weighted_size()
        );
    }
}
