//! Redis deployments the tests start on free loopback ports: one server, a 3-primary Cluster
//! (with replicas when failover is tested), a primary + replica watched by 3 Sentinels.
use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use crate::helpers::{Db, RedisServer, Spawn, TestApp, TestDb, free_port};

/// Which Redis deployment a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topology {
    Single,
    Cluster,
    /// Three primaries, each with a replica (for failover).
    ClusterWithReplicas,
    Sentinel,
}

/// The name Sentinel monitors the primary under.
const SERVICE: &str = "cg";

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

    async fn cluster(replicas: usize) -> Self {
        let mut nodes = Vec::new();
        let count = 3 * (1 + replicas);
        for _ in 0..count {
            nodes.push(cluster_node().await);
        }
        let addrs: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let created = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addrs)
            .args(["--cluster-replicas", &replicas.to_string(), "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("redis-cli");
        assert!(created.success(), "redis-cli --cluster create");
        let ports: Vec<u16> = nodes.iter().map(|n| n.port).collect();
        until("cluster state ok on every node", 20, || {
            ports.iter().all(|&p| {
                let info = cli(p, &["CLUSTER", "INFO"]);
                info.contains("cluster_state:ok")
                    && info.contains(&format!("cluster_known_nodes:{count}"))
            })
        })
        .await;
        Self {
            topology: if replicas == 0 {
                Topology::Cluster
            } else {
                Topology::ClusterWithReplicas
            },
            nodes,
            sentinels: Vec::new(),
        }
    }

    async fn sentinel() -> Self {
        let primary = RedisServer::start().await;
        let replica = RedisServer::start_with(vec![
            "--replicaof".into(),
            "127.0.0.1".into(),
            primary.port.to_string(),
        ])
        .await;
        let replica_port = replica.port;
        until("replica in sync", 20, || {
            cli(replica_port, &["INFO", "replication"]).contains("master_link_status:up")
        })
        .await;
        let mut sentinels = Vec::new();
        for _ in 0..3 {
            sentinels.push(Sentinel::start(primary.port).await);
        }
        let watched: Vec<u16> = sentinels.iter().map(|s| s.port).collect();
        until("sentinels see the replica and each other", 30, || {
            watched.iter().all(|&p| {
                let master = cli(p, &["SENTINEL", "MASTER", SERVICE]);
                let known = |field: &str| {
                    master
                        .lines()
                        .skip_while(|l| *l != field)
                        .nth(1)
                        .and_then(|v| v.trim().parse::<u32>().ok())
                        .unwrap_or(0)
                };
                known("num-slaves") >= 1 && known("num-other-sentinels") >= 2
            })
        })
        .await;
        Self {
            topology: Topology::Sentinel,
            nodes: vec![primary, replica],
            sentinels,
        }
    }

    /// The `REDIS_URL` of the deployment.
    pub fn url(&self) -> String {
        match self.topology {
            Topology::Single => self.nodes[0].url(),
            Topology::Cluster | Topology::ClusterWithReplicas => {
                let others: Vec<String> = self.nodes[1..]
                    .iter()
                    .map(|n| format!("node=127.0.0.1:{}", n.port))
                    .collect();
                format!(
                    "redis-cluster://127.0.0.1:{}?{}",
                    self.nodes[0].port,
                    others.join("&")
                )
            }
            Topology::Sentinel => {
                let others: Vec<String> = self.sentinels[1..]
                    .iter()
                    .map(|s| format!("&node=127.0.0.1:{}", s.port))
                    .collect();
                format!(
                    "redis-sentinel://127.0.0.1:{}?sentinelServiceName={SERVICE}{}",
                    self.sentinels[0].port,
                    others.concat()
                )
            }
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

    /// The port Sentinel names as primary now.
    pub fn sentinel_primary(&self) -> u16 {
        let out = cli(
            self.sentinels[0].port,
            &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE],
        );
        out.lines()
            .nth(1)
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(0)
    }

    /// `CLUSTER FAILOVER` on a replica; waits until it is a primary and every node agrees the
    /// cluster is ok. Returns the promoted node's port.
    pub async fn cluster_failover(&self) -> u16 {
        let replica = self
            .nodes
            .iter()
            .map(|n| n.port)
            .find(|&p| cli(p, &["ROLE"]).starts_with("slave"))
            .expect("a replica");
        // A manual failover needs a replica in sync with its primary.
        until("the replica is in sync", 20, || {
            cli(replica, &["INFO", "replication"]).contains("master_link_status:up")
        })
        .await;
        let out = cli(replica, &["CLUSTER", "FAILOVER"]);
        assert!(out.contains("OK"), "CLUSTER FAILOVER: {out}");
        let ports: Vec<u16> = self.nodes.iter().map(|n| n.port).collect();
        until("the replica is promoted and the cluster ok", 30, || {
            cli(replica, &["ROLE"]).starts_with("master")
                && ports
                    .iter()
                    .all(|&p| cli(p, &["CLUSTER", "INFO"]).contains("cluster_state:ok"))
        })
        .await;
        replica
    }

    /// Adds a fourth, empty primary and moves `slots` hash slots to it from the others (a
    /// resharding, as an operator scales out); waits until every node agrees the cluster is ok.
    pub async fn add_primary_and_reshard(&mut self, slots: u32) {
        let node = cluster_node().await;
        let first = format!("127.0.0.1:{}", self.nodes[0].port);
        let added = Command::new("redis-cli")
            .args([
                "--cluster",
                "add-node",
                &format!("127.0.0.1:{}", node.port),
                &first,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("redis-cli");
        assert!(added.success(), "redis-cli --cluster add-node");
        let port = node.port;
        self.nodes.push(node);
        let ports: Vec<u16> = self.nodes.iter().map(|n| n.port).collect();
        until(
            "every node knows the new one, and the cluster is ok for it",
            20,
            || {
                ports.iter().all(|&p| {
                    let info = cli(p, &["CLUSTER", "INFO"]);
                    info.contains(&format!("cluster_known_nodes:{}", ports.len()))
                        && info.contains("cluster_state:ok")
                })
            },
        )
        .await;
        let id = cli(port, &["CLUSTER", "MYID"]).trim().to_owned();
        // `reshard` refuses while the nodes' views of the slots differ.
        until("every node agrees on the slots", 30, || {
            Command::new("redis-cli")
                .args(["--cluster", "check", &first])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .await;
        let moved = Command::new("redis-cli")
            .args(["--cluster", "reshard", &first, "--cluster-from", "all"])
            .args(["--cluster-to", &id, "--cluster-slots", &slots.to_string()])
            .arg("--cluster-yes")
            .output()
            .expect("redis-cli");
        let said = String::from_utf8_lossy(&moved.stdout);
        let tail: Vec<&str> = said.lines().rev().take(3).collect();
        assert!(
            moved.status.success(),
            "redis-cli --cluster reshard: {tail:?}"
        );
        until("the cluster is ok after resharding", 30, || {
            ports
                .iter()
                .all(|&p| cli(p, &["CLUSTER", "INFO"]).contains("cluster_state:ok"))
        })
        .await;
    }

    /// `SENTINEL FAILOVER`, then waits until the replica is the primary.
    pub async fn failover(&self) {
        let before = self.sentinel_primary();
        let out = cli(self.sentinels[0].port, &["SENTINEL", "FAILOVER", SERVICE]);
        assert!(out.contains("OK"), "SENTINEL FAILOVER: {out}");
        let promoted = self.nodes[1].port;
        until("the replica is promoted", 30, || {
            let primary = self.sentinel_primary();
            primary != before
                && primary == promoted
                && cli(promoted, &["ROLE"]).starts_with("master")
        })
        .await;
    }

    /// A database and two instances on this deployment sharing it and one namespace, with
    /// every cache layer on; `None` when the database leg is skipped.
    pub async fn pair(&self, db: Db) -> Option<(TestApp, TestApp)> {
        let spec = Spawn::new(crate::helpers::Backend::Redis, db).env("REDIS_URL", &self.url());
        let a = TestApp::start_with(spec, TestDb::create(db).await?, None).await;
        let b = a.sibling().await;
        Some((a, b))
    }
}

/// A `redis-server --cluster-enabled yes` on free ports, not in any cluster yet.
async fn cluster_node() -> RedisServer {
    let args = [
        "--cluster-enabled",
        "yes",
        "--cluster-port",
        &free_port().to_string(),
        "--cluster-config-file",
        "nodes.conf",
        "--cluster-node-timeout",
        "2000",
    ];
    RedisServer::start_with(args.map(str::to_owned).to_vec()).await
}

/// A `redis-server --sentinel` of the test's own.
struct Sentinel {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Sentinel {
    async fn start(primary: u16) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let conf = dir.path().join("sentinel.conf");
        std::fs::write(
            &conf,
            format!(
                "port {port}\nbind 127.0.0.1\ndir {}\n\
                 sentinel monitor {SERVICE} 127.0.0.1 {primary} 2\n\
                 sentinel down-after-milliseconds {SERVICE} 5000\n\
                 sentinel failover-timeout {SERVICE} 10000\n",
                dir.path().display()
            ),
        )
        .expect("write sentinel.conf");
        let child = Command::new("redis-server")
            .arg(&conf)
            .arg("--sentinel")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server --sentinel");
        until("sentinel answers", 10, || {
            cli(port, &["PING"]).contains("PONG")
        })
        .await;
        Self {
            child,
            port,
            _dir: dir,
        }
    }
}

impl Drop for Sentinel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
