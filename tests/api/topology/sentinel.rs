//! A primary and its replica watched by three Sentinels of the test's own
//! (`redis-server --sentinel`), and a Sentinel failover.
use std::process::{Child, Command, Stdio};

use super::{Redis, Topology, cli, until};
use crate::helpers::{RedisServer, free_port};

/// The name Sentinel monitors the primary under.
const SERVICE: &str = "cg";

impl Redis {
    pub(super) async fn sentinel() -> Self {
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

    /// The Sentinel group's `REDIS_URL`: the first Sentinel, the others as `node=` parameters.
    pub(super) fn sentinel_url(&self) -> String {
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
}

/// A `redis-server --sentinel` of the test's own.
pub(super) struct Sentinel {
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
        let child = crate::fixtures::dies_with_test(&mut Command::new("redis-server"))
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
