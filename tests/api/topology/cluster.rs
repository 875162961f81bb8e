//! A Redis Cluster of the test's own: three primaries (each with a replica when failover is
//! tested) joined by `redis-cli --cluster create`; a manual failover; a resharding to an added
//! primary.
use std::process::{Command, Stdio};

use super::{Redis, Topology, cli, until};
use crate::helpers::{RedisServer, free_port};

impl Redis {
    pub(super) async fn cluster(replicas: usize) -> Self {
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

    /// The cluster's `REDIS_URL`: the first node, the others as `node=` parameters.
    pub(super) fn cluster_url(&self) -> String {
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

    /// `CLUSTER FAILOVER` on a replica; waits until it is a primary, its old primary a replica,
    /// and every node agrees the cluster is ok. Returns the promoted node's port.
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
        // `ROLE` on a replica: slave, its primary's host, its primary's port, ...
        let primary: u16 = cli(replica, &["ROLE"])
            .lines()
            .nth(2)
            .and_then(|port| port.trim().parse().ok())
            .expect("the replica's primary");
        let out = cli(replica, &["CLUSTER", "FAILOVER"]);
        assert!(out.contains("OK"), "CLUSTER FAILOVER: {out}");
        let ports: Vec<u16> = self.nodes.iter().map(|n| n.port).collect();
        // The failover is over once the old primary knows it was demoted too: until the
        // promotion reaches it (one cluster-bus message) it still answers as a primary
        // (see docs/consistency.md, "Limits").
        until(
            "the replica is promoted, its primary demoted and the cluster ok",
            30,
            || {
                cli(replica, &["ROLE"]).starts_with("master")
                    && cli(primary, &["ROLE"]).starts_with("slave")
                    && ports
                        .iter()
                        .all(|&p| cli(p, &["CLUSTER", "INFO"]).contains("cluster_state:ok"))
            },
        )
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
