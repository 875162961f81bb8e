//! Administration: `clearCache` (SCAN + UNLINK confined to the namespace) and the `cacheStats`
//! snapshot.
use super::{Cache, CacheError, Kind, PatternError, glob, stats::Counts, store::Store};

/// The Redis `INFO` counters `cacheStats` reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerInfo {
    pub used_memory: Option<i64>,
    pub used_memory_human: Option<String>,
    pub connected_clients: Option<i64>,
    pub keyspace_hits: Option<i64>,
    pub keyspace_misses: Option<i64>,
}

impl ServerInfo {
    /// Reads the fields from `INFO`'s `name:value` lines.
    pub fn parse(text: &str) -> Self {
        let mut info = Self::default();
        for line in text.lines() {
            let Some((name, value)) = line.trim().split_once(':') else {
                continue;
            };
            let int = || value.parse::<i64>().ok();
            match name {
                "used_memory" => info.used_memory = int(),
                "used_memory_human" => info.used_memory_human = Some(value.to_owned()),
                "connected_clients" => info.connected_clients = int(),
                "keyspace_hits" => info.keyspace_hits = int(),
                "keyspace_misses" => info.keyspace_misses = int(),
                _ => {}
            }
        }
        info
    }
}

/// A snapshot for `cacheStats`.
#[derive(Clone, Debug)]
pub struct CacheReport {
    pub backend: &'static str,
    pub available: bool,
    pub total: Counts,
    pub by_kind: Vec<(Kind, Counts)>,
    pub keys: Option<u64>,
    pub server: ServerInfo,
    /// Whole responses served from the response cache, when it is on.
    pub responses_served: Option<u64>,
}

impl Cache {
    /// Deletes the keys matching `pattern` (relative to the prefix) with SCAN + UNLINK.
    pub async fn clear(&self, pattern: &str) -> Result<u64, ClearError> {
        if self.inner.store.as_ref().is_some_and(|s| s.is_shared()) && !self.is_available() {
            return Err(ClearError::Cache(CacheError::Unavailable));
        }
        self.clear_for_repair(pattern).await
    }

    /// [`Cache::clear`] whatever the breaker says: repair runs while it is open.
    pub(crate) async fn clear_for_repair(&self, pattern: &str) -> Result<u64, ClearError> {
        let full = glob::confine(&self.inner.prefix, pattern)?;
        let cleared = match &self.inner.store {
            Some(store) => store.clear(&full).await.map_err(ClearError::Cache),
            None => Ok(0),
        };
        // Loads in flight may predate what was cleared: do not share them with later requests.
        self.advance_epoch();
        cleared
    }

    /// Counters, and what the backend says of itself.
    pub async fn report(&self) -> CacheReport {
        let (keys, server) = match &self.inner.store {
            Some(store) if self.is_available() || !store.is_shared() => {
                let pattern = format!("{}*", glob::escape(&self.inner.prefix));
                let (keys, info) = tokio::join!(store.count(&pattern), store.info());
                (keys.ok(), info.unwrap_or_default())
            }
            _ => (None, ServerInfo::default()),
        };
        CacheReport {
            backend: self.backend_name(),
            available: self.is_available(),
            total: self.inner.stats.total(),
            by_kind: (self.inner.stats.kinds().into_iter())
                .map(|k| (k, self.inner.stats.of(k)))
                .collect(),
            keys,
            server,
            responses_served: self.responses().map(|r| r.served_count()),
        }
    }
}

/// Why `clearCache` failed.
#[derive(Debug, thiserror::Error)]
pub enum ClearError {
    /// The pattern is not acceptable.
    #[error(transparent)]
    Pattern(#[from] PatternError),
    /// Redis failed part-way.
    #[error(transparent)]
    Cache(CacheError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn parses_info() {
        let info = ServerInfo::parse(
            "# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\n# Clients\r\nconnected_clients:3\r\n# Stats\r\nkeyspace_hits:10\r\nkeyspace_misses:4\r\n",
        );
        assert_eq!(info.used_memory, Some(1_048_576));
        assert_eq!(info.used_memory_human.as_deref(), Some("1.00M"));
        assert_eq!(info.connected_clients, Some(3));
        assert_eq!(info.keyspace_hits, Some(10));
        assert_eq!(info.keyspace_misses, Some(4));
    }
}
