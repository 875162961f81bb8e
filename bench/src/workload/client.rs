//! The control connection: one connection that reconnects when needed, for the requests around
//! the load (login, `cacheStats`, `clearCache`, the cold request, the layout check).
use std::time::Duration;

use serde_json::Value;

use super::{
    check::{Failure, graphql_data},
    spec::CacheCounts,
};
use crate::http::{Conn, Response, Target};

/// How long one request may take before it counts as failed.
pub(super) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How one attempt at a request failed.
enum Attempt {
    /// The connection failed under it: a kept-alive one may have been closed while idle.
    Broke(String),
    /// Anything else (no connection, a timeout): not worth sending again.
    Failed(Failure),
}

impl Attempt {
    fn into_failure(self) -> Failure {
        match self {
            Attempt::Broke(e) => Failure::Transport(e),
            Attempt::Failed(f) => f,
        }
    }
}

/// A connection that reconnects when needed, for control requests (login, stats, cold).
pub struct Client {
    target: Target,
    token: Option<String>,
    conn: Option<Conn>,
}

impl Client {
    pub fn new(target: Target, token: Option<String>) -> Self {
        Self {
            target,
            token,
            conn: None,
        }
    }

    /// Sends one GraphQL body and returns the raw response. A kept-alive connection the server
    /// closed while it sat idle (between the windows' `cacheStats` reads, say) is replaced and
    /// the request sent once more; a request that timed out is not (the server may have run it).
    pub async fn send(&mut self, body: &[u8]) -> Result<Response, Failure> {
        let reused = self.conn.as_ref().is_some_and(Conn::is_open);
        match self.send_once(body).await {
            Err(Attempt::Broke(_)) if reused => self.send_once(body).await,
            other => other,
        }
        .map_err(Attempt::into_failure)
    }

    async fn send_once(&mut self, body: &[u8]) -> Result<Response, Attempt> {
        if self.conn.as_ref().is_none_or(|c| !c.is_open()) {
            let conn = Conn::connect(&self.target)
                .await
                .map_err(|e| Attempt::Failed(Failure::Transport(format!("connect: {e}"))))?;
            self.conn = Some(conn);
        }
        let conn = self.conn.as_mut().expect("connected");
        let sent = tokio::time::timeout(
            REQUEST_TIMEOUT,
            conn.post_json(&self.target.path, self.token.as_deref(), body),
        )
        .await;
        if !matches!(sent, Ok(Ok(_))) {
            self.conn = None;
        }
        match sent {
            Ok(Ok(resp)) => Ok(resp),
            Ok(Err(e)) => Err(Attempt::Broke(e.to_string())),
            Err(_) => Err(Attempt::Failed(Failure::Transport("timed out".into()))),
        }
    }

    /// L1's (served, fetched) reads since start, from `GET /metrics`; `None` without L1.
    pub async fn l1_reads(&mut self) -> Option<(u64, u64)> {
        let mut conn = Conn::connect(&self.target).await.ok()?;
        let resp = conn.get("/metrics").await.ok()?;
        let text = String::from_utf8(resp.body).ok()?;
        let count = |event: &str| {
            let line = format!("cachegraph_l1_events{{event=\"{event}\"}} ");
            text.lines()
                .find_map(|l| l.strip_prefix(line.as_str()))
                .and_then(|n| n.trim().parse::<u64>().ok())
        };
        Some((count("served")?, count("fetched")?))
    }

    /// Sends a query (with variables) and returns `data`, or why it failed.
    pub async fn gql(&mut self, query: &str, variables: Value) -> Result<Value, String> {
        let body = serde_json::json!({ "query": query, "variables": variables }).to_string();
        let resp = self.send(body.as_bytes()).await.map_err(|f| f.message())?;
        graphql_data(&resp).map_err(|f| f.message())
    }

    /// `cacheStats`: hits, misses, shared loads (summed over `byKind`) and `responsesServed`.
    /// A server whose schema has only `hits` and `misses` is read with those alone.
    pub async fn cache_counts(&mut self) -> Result<CacheCounts, String> {
        let full = "{ cacheStats { hits misses responsesServed byKind { shared } } }";
        let data = match self.gql(full, Value::Null).await {
            Ok(d) => d,
            Err(err) => {
                eprintln!(
                    "bench: cacheStats with responsesServed failed ({err}); reading hits and misses alone"
                );
                self.gql("{ cacheStats { hits misses } }", Value::Null)
                    .await?
            }
        };
        let stats = &data["cacheStats"];
        let (Some(hits), Some(misses)) = (stats["hits"].as_u64(), stats["misses"].as_u64()) else {
            return Err(format!("unexpected cacheStats: {data}"));
        };
        let shared = stats["byKind"].as_array().map(|kinds| {
            kinds
                .iter()
                .filter_map(|k| k["shared"].as_u64())
                .sum::<u64>()
        });
        Ok(CacheCounts {
            hits,
            misses,
            shared,
            served: stats["responsesServed"].as_u64(),
        })
    }

    /// Redis's `used_memory` (bytes) and the keys under the server's namespace, from
    /// `cacheStats`; asked after the window only (counting keys scans them).
    pub async fn redis_size(&mut self) -> Option<(u64, u64)> {
        let data = self
            .gql("{ cacheStats { usedMemory keys } }", Value::Null)
            .await
            .ok()?;
        let stats = &data["cacheStats"];
        Some((stats["usedMemory"].as_u64()?, stats["keys"].as_u64()?))
    }

    /// `clearCache`: the number of keys removed.
    pub async fn clear_cache(&mut self) -> Result<u64, String> {
        let data = self
            .gql("mutation { clearCache { cleared } }", Value::Null)
            .await?;
        data["clearCache"]["cleared"]
            .as_u64()
            .ok_or_else(|| format!("unexpected clearCache: {data}"))
    }

    /// `login`: the access token.
    pub async fn login(&mut self, email: &str, password: &str) -> Result<String, String> {
        let data = self
            .gql(
                "mutation($email: String!, $password: String!) { login(email: $email, password: $password) { accessToken } }",
                serde_json::json!({ "email": email, "password": password }),
            )
            .await?;
        data["login"]["accessToken"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("unexpected login: {data}"))
    }
}
