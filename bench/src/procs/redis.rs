//! Redis for the `redis` and `redis-cluster` legs: one redis-server, or a three-primary cluster,
//! each on free loopback ports, persisting nothing, stopped on drop.
use std::{
    io::{Read, Write},
    net::TcpStream,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use super::common::{free_port, stop_child};

/// A `redis-server` of our own on a free loopback port, persisting nothing.
pub struct Redis {
    child: Child,
    pub port: u16,
    pub version: String,
}

impl Redis {
    pub fn start(dir: &Path) -> Result<Self, String> {
        let port = free_port().map_err(|e| format!("no free port: {e}"))?;
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start redis-server (is it installed?): {e}"))?;
        let mut redis = Self {
            child,
            port,
            version: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !redis.answers_ping() {
            if let Ok(Some(status)) = redis.child.try_wait() {
                return Err(format!("redis-server exited at start ({status})"));
            }
            if Instant::now() > deadline {
                return Err("redis-server did not answer PING within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        redis.version = Command::new("redis-server")
            .arg("--version")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default();
        Ok(redis)
    }

    fn answers_ping(&self) -> bool {
        answers_ping(self.port)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        stop_child(&mut self.child, Duration::from_secs(5));
    }
}

/// A Redis Cluster of our own: three primaries (no replicas) on free loopback ports, made with
/// `redis-cli --cluster create`.
pub struct RedisCluster {
    nodes: Vec<Child>,
    ports: Vec<u16>,
}

impl RedisCluster {
    pub fn start(dir: &Path) -> Result<Self, String> {
        let mut cluster = Self {
            nodes: Vec::new(),
            ports: Vec::new(),
        };
        for i in 0..3 {
            let port = free_port().map_err(|e| format!("no free port: {e}"))?;
            let bus = free_port().map_err(|e| format!("no free port: {e}"))?;
            let node_dir = dir.join(format!("cluster-{i}"));
            std::fs::create_dir_all(&node_dir).map_err(|e| e.to_string())?;
            let child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .args([
                    "--cluster-enabled",
                    "yes",
                    "--cluster-port",
                    &bus.to_string(),
                ])
                .args(["--cluster-config-file", "nodes.conf"])
                .arg("--dir")
                .arg(&node_dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("cannot start redis-server: {e}"))?;
            cluster.nodes.push(child);
            cluster.ports.push(port);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while !cluster.ports.iter().all(|&p| answers_ping(p)) {
            if Instant::now() > deadline {
                return Err("cluster nodes did not answer PING within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let addrs: Vec<String> = cluster
            .ports
            .iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect();
        let created = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addrs)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| format!("cannot run redis-cli: {e}"))?;
        if !created.success() {
            return Err(format!("redis-cli --cluster create: {created}"));
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while !cluster.ports.iter().all(|&p| cluster_ok(p)) {
            if Instant::now() > deadline {
                return Err("the cluster did not reach cluster_state:ok within 20 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(cluster)
    }

    /// A `redis-cluster://` URL naming every node.
    pub fn url(&self) -> String {
        let others: Vec<String> = self.ports[1..]
            .iter()
            .map(|p| format!("node=127.0.0.1:{p}"))
            .collect();
        format!(
            "redis-cluster://127.0.0.1:{}?{}",
            self.ports[0],
            others.join("&")
        )
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for child in &mut self.nodes {
            stop_child(child, Duration::from_secs(5));
        }
    }
}

fn cluster_ok(port: u16) -> bool {
    Command::new("redis-cli")
        .args(["-p", &port.to_string(), "CLUSTER", "INFO"])
        .output()
        .is_ok_and(|o| {
            let info = String::from_utf8_lossy(&o.stdout);
            info.contains("cluster_state:ok") && info.contains("cluster_known_nodes:3")
        })
}

fn answers_ping(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let mut buf = [0u8; 16];
    s.write_all(b"PING\r\n").is_ok()
        && matches!(s.read(&mut buf), Ok(n) if buf[..n].starts_with(b"+PONG"))
}
