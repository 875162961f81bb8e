//! The Redis backend, on a fred connection pool.
//!
//! Every command is bounded by `CACHE_TIMEOUT_MS`; fred reconnects in the background with
//! exponential backoff. Every command's future is boxed where it is made: fred's are about
//! 7 KiB each, and unboxed they would make every future above them (entity reads,
//! write-throughs, resolvers, the root field async-graphql boxes and moves) that large, copied
//! whole at each move: measured by `scripts/hit-profile` as a quarter of a write's
//! instructions. The scripts it runs (`scripts`) keep the protocol's invariants
//! atomically on the server, so a command that fred retries or delivers late cannot break
//! them. Clients are configured by `cache::client`, as L1's tracking connection is.
mod scan;
mod scripts;
#[cfg(test)]
mod tests;

use crate::cache::client::builder;
use scripts::{ANNOUNCE, ANNOUNCED, DELETE_IF, GENERATION, RETIRE, SET_IF_NEWER};
use std::{sync::Arc, time::Duration};

use fred::{
    prelude::*,
    types::{InfoKind, scripts::Script},
};

use super::Store;
use crate::cache::{CacheError, ServerInfo, entry::Entry};

/// A fred pool with the scripts it runs.
pub struct RedisBackend {
    pool: Pool,
    /// Writes (write-throughs, invalidations, fills) may wait longer than reads: a write that
    /// gives up leaves keys to repair, and the breaker opens for everyone on this instance.
    write_options: Options,
    set_if_newer: Script,
    generation: Script,
    delete_if: Script,
    announce: Script,
    announced: Script,
    retire: Script,
}

impl RedisBackend {
    /// Builds the pool and starts connecting in the background; it does not wait for Redis, so
    /// the server starts when Redis is down.
    pub fn connect(
        url: &str,
        pool_size: usize,
        timeout: Duration,
        write_timeout: Duration,
    ) -> Result<Self, CacheError> {
        let pool = builder(url, false, timeout)?.build_pool(pool_size)?;
        // The handle finishes only when the pool quits; the connections live in their own tasks.
        let _connections = pool.connect();
        Ok(Self {
            pool,
            write_options: Options {
                timeout: Some(write_timeout.max(timeout)),
                ..Options::default()
            },
            set_if_newer: Script::from_lua(SET_IF_NEWER),
            generation: Script::from_lua(GENERATION),
            delete_if: Script::from_lua(DELETE_IF),
            announce: Script::from_lua(ANNOUNCE),
            announced: Script::from_lua(ANNOUNCED),
            retire: Script::from_lua(RETIRE),
        })
    }

    /// Every connection of the pool (L1 watches them for cluster topology changes).
    pub(crate) fn clients(&self) -> &[Client] {
        self.pool.clients()
    }

    /// The next connection of the pool. Private, so that every command goes through a method
    /// here that boxes its future.
    fn client(&self) -> &Client {
        self.pool.next()
    }

    fn writer(&self) -> fred::clients::WithOptions<Client> {
        self.client().with_options(&self.write_options)
    }

    /// Runs `script` on `key` with the write timeout, loading it first if Redis does not
    /// know it.
    async fn script<R: FromValue>(
        &self,
        script: &Script,
        key: &str,
        args: Vec<String>,
    ) -> Result<R, CacheError> {
        self.script_on(script, vec![key], args).await
    }

    /// [`Self::script`] on several keys (in a cluster they must share a hash slot).
    pub(crate) async fn script_on<R: FromValue>(
        &self,
        script: &Script,
        keys: Vec<&str>,
        args: Vec<String>,
    ) -> Result<R, CacheError> {
        // fred's `evalsha_with_reload` cannot carry the write timeout, hence the retry here.
        // The load goes through the same connection, whose routing table the NOSCRIPT came
        // through: a primary promoted by a failover has an empty script cache.
        let client = self.client();
        let writer = client.with_options(&self.write_options);
        match Box::pin(writer.evalsha(script.sha1().clone(), keys.clone(), args.clone())).await {
            Err(err) if err.details().contains("NOSCRIPT") => {
                Box::pin(script.load(client)).await?;
                Ok(Box::pin(writer.evalsha(script.sha1().clone(), keys, args)).await?)
            }
            other => Ok(other?),
        }
    }

    /// Waits up to `limit` for the first connection (start-up logging only).
    pub async fn wait_connected(&self, limit: Duration) -> bool {
        tokio::time::timeout(limit, self.pool.wait_for_connect())
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// The raw value at `key`.
    pub async fn get_raw(&self, key: &str) -> Result<Option<String>, CacheError> {
        Ok(Box::pin(self.client().get(key)).await?)
    }

    /// The milliseconds `key` has left (PTTL: -1 without an expiry, -2 when absent).
    pub(crate) async fn pttl(&self, key: &str) -> Result<i64, CacheError> {
        Ok(Box::pin(self.client().pttl(key)).await?)
    }

    /// The raw values at `keys` (one MGET: same slot in a cluster).
    pub async fn mget_raw(&self, keys: &[&str]) -> Result<Vec<Option<String>>, CacheError> {
        let keys: Vec<&str> = keys.to_vec();
        Ok(Box::pin(self.client().mget(keys)).await?)
    }
}

impl Store for RedisBackend {
    async fn get(&self, key: &str) -> Result<Option<Arc<Entry>>, CacheError> {
        Ok(self
            .get_raw(key)
            .await?
            .map(|raw| Arc::new(Entry::new(&raw))))
    }

    async fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<Arc<Entry>>>, CacheError> {
        let raw = self.mget_raw(keys).await?;
        Ok(raw
            .into_iter()
            .map(|v| v.map(|raw| Arc::new(Entry::new(&raw))))
            .collect())
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), CacheError> {
        let ms = ttl.as_millis().max(1) as i64;
        Box::pin(
            self.writer()
                .set::<(), _, _>(key, value, Some(Expiration::PX(ms)), None, false),
        )
        .await?;
        Ok(())
    }

    async fn set_if_newer(
        &self,
        key: &str,
        version: u64,
        value: &str,
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        let ms = ttl.as_millis().max(1).to_string();
        let stored: i64 = self
            .script(
                &self.set_if_newer,
                key,
                vec![version.to_string(), value.to_owned(), ms],
            )
            .await?;
        Ok(stored == 1)
    }

    async fn generation(&self, key: &str, bump: bool, ttl: Duration) -> Result<u64, CacheError> {
        let ms = ttl.as_millis().max(1).to_string();
        let flag = if bump { "1" } else { "0" };
        let gen_value: String = self
            .script(&self.generation, key, vec![ms, flag.to_owned()])
            .await?;
        gen_value
            .parse()
            .map_err(|_| CacheError::Decode(format!("generation {key} is not a number")))
    }

    /// Takes the lease `key` for `ttl` unless another process holds it.
    async fn take_lease(&self, key: &str, token: &str, ttl: Duration) -> Result<bool, CacheError> {
        let ms = ttl.as_millis().max(1) as i64;
        let taken: Option<String> = Box::pin(self.client().set(
            key,
            token,
            Some(Expiration::PX(ms)),
            Some(SetOptions::NX),
            false,
        ))
        .await?;
        Ok(taken.is_some())
    }

    /// Releases a lease we hold.
    async fn release_lease(&self, key: &str, token: &str) -> Result<(), CacheError> {
        self.delete_if(key, token).await.map(drop)
    }

    async fn announce(&self, key: &str, token: &str, ttl: Duration) -> Result<(), CacheError> {
        let ms = ttl.as_millis().max(1).to_string();
        let _: i64 = self
            .script(&self.announce, key, vec![token.to_owned(), ms])
            .await?;
        Ok(())
    }

    async fn announced(&self, key: &str, token: Option<&str>) -> Result<bool, CacheError> {
        let own = token.unwrap_or_default().to_owned();
        let n: i64 = self.script(&self.announced, key, vec![own]).await?;
        Ok(n > 0)
    }

    async fn retire(&self, key: &str, token: &str) -> Result<(), CacheError> {
        let _: i64 = self
            .script(&self.retire, key, vec![token.to_owned()])
            .await?;
        Ok(())
    }

    async fn delete_if(&self, key: &str, value: &str) -> Result<bool, CacheError> {
        let deleted: i64 = self
            .script(&self.delete_if, key, vec![value.to_owned()])
            .await?;
        Ok(deleted == 1)
    }

    async fn delete(&self, keys: &[&str]) -> Result<(), CacheError> {
        // One UNLINK per key: in a cluster the keys may live in different slots.
        for key in keys {
            Box::pin(self.writer().unlink::<(), _>(*key)).await?;
        }
        Ok(())
    }

    async fn clear(&self, pattern: &str) -> Result<u64, CacheError> {
        self.scan_clear(pattern).await
    }

    async fn count(&self, pattern: &str) -> Result<u64, CacheError> {
        self.scan_count(pattern, None::<fn(&str, &str) -> bool>)
            .await
    }

    async fn count_where(
        &self,
        pattern: &str,
        keep: impl Fn(&str, &str) -> bool + Send + Sync,
    ) -> Result<u64, CacheError> {
        self.scan_count(pattern, Some(keep)).await
    }

    async fn ping(&self) -> Result<(), CacheError> {
        Box::pin(self.client().ping::<()>(None)).await?;
        Ok(())
    }

    /// The memory, client and keyspace counters of `INFO`.
    async fn info(&self) -> Result<ServerInfo, CacheError> {
        let text: String = Box::pin(self.client().info(Some(InfoKind::Default))).await?;
        Ok(ServerInfo::parse(&text))
    }
}
