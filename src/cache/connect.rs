//! Building the cache: the configured store (Redis, behind L1 or not; in-process; none), the
//! namespace, the first contact with Redis, and the tasks that keep the trust window.
use std::{
    sync::{Arc, atomic::AtomicU64},
    time::Duration,
};

use super::{
    Cache, CacheError, Inner, Stats, counters,
    flight::Flights,
    health::Health,
    l1::L1,
    pause::PausePoints,
    responses,
    store::{MemoryBackend, RedisBackend, Store, Stores, Tracked},
    trust::Trust,
};
use crate::{
    config::{CacheBackendKind, Config},
    db::OwedLog,
};

impl Cache {
    /// Builds the configured backend. Redis is connected in the background: the server starts
    /// (and answers from the database) when it is down.
    ///
    /// The namespace is `CACHE_PREFIX` followed by the database's deployment id, so two
    /// databases never read each other's entries, whatever Redis and prefix they share; `owed`
    /// is that database's log of cache writes that did not land (see [`trust`]).
    pub(crate) async fn connect(
        config: &Config,
        stats: Stats,
        pause: Option<Arc<PausePoints>>,
        deployment: &str,
        owed: OwedLog,
    ) -> Result<Self, CacheError> {
        let namespace = namespace(&config.cache.prefix, deployment);
        let shared = config.cache.backend == CacheBackendKind::Redis;
        let store = Self::open_store(config, &namespace)?;
        let exact_invalidation = match &store {
            Some(Stores::Tracked(_) | Stores::Memory(_)) => true,
            Some(Stores::Redis(_)) | None => false,
        };
        // With L1, an entry may be served only `l1_max_age` after it was read: so may a
        // response built from it. The memory store's entries live by their TTLs instead.
        let l1 = matches!(store, Some(Stores::Tracked(_)));
        let responses = (config.cache.responses && exact_invalidation).then(|| {
            responses::Responses::new(config.cache.responses_bytes, config.cache.l1_max_age, l1)
        });
        let cache = Self {
            inner: Arc::new(Inner {
                store,
                health: Health::default(),
                stats,
                prefix: namespace,
                user_ttl: config.cache.user_ttl,
                default_ttl: config.cache.default_ttl,
                breaker_interval: config.cache.breaker_interval,
                flights: Flights::default(),
                refresh: super::refresh::EarlyRefresh::new(config.cache.early_refresh),
                epoch: AtomicU64::new(0),
                pause,
                responses,
                owed_log: shared.then_some(owed),
                trust: shared.then(|| Trust::new(config.cache.trust_window)),
                kinds: Default::default(),
                count_failure: fred::types::scripts::Script::from_lua(counters::FAIL),
            }),
        };
        match cache.inner.store.as_ref().and_then(Stores::redis) {
            Some(redis) => {
                let answered = match redis.wait_connected(Duration::from_secs(1)).await {
                    true => redis.ping().await.map_err(|e| e.to_string()),
                    false => Err("no connection within 1 s".to_owned()),
                };
                let at = config.cache.describe_redis();
                match answered {
                    Ok(()) => {
                        cache.inner.health.close();
                        tracing::info!(redis = %at, "cache: redis connected");
                    }
                    Err(cause) => {
                        tracing::warn!(
                            redis = %at,
                            cause,
                            "cache: redis unreachable at start; serving from the database until it answers"
                        );
                        cache.inner.health.open_quietly();
                    }
                }
            }
            None if cache.inner.store.is_some() => cache.inner.health.close(),
            None => {}
        }
        if shared {
            // Trust Redis only once the owed log has been read.
            if let Err(err) = cache.read_owed(&mut Default::default()).await {
                tracing::warn!(error = %err, "owed cache log unreadable at start");
            }
            cache.spawn_owed_reader();
            cache.spawn_prober();
        }
        Ok(cache)
    }

    /// The configured store: Redis (behind L1 with `CACHE_L1`), in-process, or none.
    fn open_store(config: &Config, namespace: &str) -> Result<Option<Stores>, CacheError> {
        Ok(match config.cache.backend {
            CacheBackendKind::Redis => {
                let redis = RedisBackend::connect(
                    config.cache.redis_url.expose(),
                    config.cache.pool_size,
                    config.cache.timeout,
                    config.cache.write_timeout,
                )?;
                if config.cache.l1 {
                    let l1 = Arc::new(L1::new(
                        config.cache.l1_capacity,
                        config.cache.l1_bytes,
                        config.cache.l1_max_age,
                    ));
                    l1.track(config.cache.redis_url.expose(), namespace, redis.clients())?;
                    Some(Stores::Tracked(Box::new(Tracked::new(redis, l1))))
                } else {
                    Some(Stores::Redis(Box::new(redis)))
                }
            }
            CacheBackendKind::Memory => Some(Stores::Memory(MemoryBackend::new(
                config.cache.memory_capacity,
            ))),
            CacheBackendKind::None => None,
        })
    }
}

/// `prefix` and the first 16 characters of the deployment id.
fn namespace(prefix: &str, deployment: &str) -> String {
    let id: String = deployment.chars().take(16).collect();
    format!("{prefix}{id}:")
}
