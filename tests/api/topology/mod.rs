//! Redis deployments the tests start on free loopback ports: one server, a 3-primary Cluster
//! (with replicas when failover is tested), a primary + replica watched by 3 Sentinels.
//!
//! Here is what every kind shares: [`Topology`], [`Redis`] with its kind-independent
//! operations, the `redis-cli` and waiting helpers, and the `each_topology!` macro. One server
//! is a plain `RedisServer`; the Cluster is in `cluster.rs`, the Sentinel group in `sentinel.rs`.
use std::{process::Command, time::Duration};

use crate::helpers::{Db, RedisServer, Spawn, TestApp, TestDb};

mod cluster;
mod sentinel;

use sentinel::Sentinel;

/// Which Redis deployment a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topology {
    Single,
    Cluster,
    /// Three primaries, each with a replica (for failover).
    ClusterWithReplicas,
    Sentinel,
}

/// A running deployment.
pub struct Redis {
    pub topology: Topology,
    /// Data nodes: the server; the cluster's primaries; the Sentinel primary then its replica.
    pub nodes: Vec<RedisServer>,
    sentinels: Vec<Sentinel>,
}

fn cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli is installed with redis-server");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Waits (bounded) until `check` holds, asking again every 50 ms.
async fn until(what: &str, secs: u64, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl Redis {
    pub async fn start(topology: Topology) -> Self {
        match topology {
            Topology::Single => Self {
                topology,
                nodes: vec![RedisServer::start().await],
                sentinels: Vec::new(),
            },
            Topology::Cluster => Self::cluster(0).await,
            Topology::ClusterWithReplicas => Self::cluster(1).await,
            Topology::Sentinel => Self::sentinel().await,
        }
    }

    /// The `REDIS_URL` of the deployment.
    pub fn url(&self) -> String {
        match self.topology {
            Topology::Single => self.nodes[0].url(),
            Topology::Cluster | Topology::ClusterWithReplicas => self.cluster_url(),
            Topology::Sentinel => self.sentinel_url(),
        }
    }

    /// How many keys matching `pattern` each data node holds (SCAN, node by node).
    pub fn keys_per_node(&self, pattern: &str) -> Vec<usize> {
        self.nodes
            .iter()
            .map(|n| {
                cli(n.port, &["--scan", "--pattern", pattern])
                    .lines()
                    .filter(|l| !l.is_empty())
                    .count()
            })
            .collect()
    }

    /// SIGSTOP every data node.
    pub fn pause(&self) {
        self.nodes.iter().for_each(RedisServer::pause);
    }

    /// SIGCONT every data node.
    pub fn resume(&self) {
        self.nodes.iter().for_each(RedisServer::resume);
    }

    /// A database and two instances on this deployment sharing it and one namespace, with
    /// every cache layer on; `None` when the database leg is skipped.
    pub async fn pair(&self, db: Db) -> Option<(TestApp, TestApp)> {
        self.pair_with(db, &[]).await
    }

    /// [`Redis::pair`], both instances with `env` set.
    pub async fn pair_with(&self, db: Db, env: &[(&str, &str)]) -> Option<(TestApp, TestApp)> {
        let spec = Spawn::new(crate::helpers::Backend::Redis, db)
            .env("REDIS_URL", &self.url())
            .envs(env);
        let a = TestApp::start_with(spec, TestDb::create(db).await?, None).await;
        let b = a.sibling().await;
        Some((a, b))
    }
}

/// Generates one test per topology for an `async fn(Topology)`.
#[macro_export]
macro_rules! each_topology {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                use $crate::topology::Topology;
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn single() { super::$name(Topology::Single).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn cluster() { super::$name(Topology::Cluster).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sentinel() { super::$name(Topology::Sentinel).await }
            }
        )*
    };
}
