//! The processes the benchmark runs: a build, a redis-server, the server under test. Every one
//! is stopped when its handle is dropped, so an early return or Ctrl-C leaves nothing behind.
use std::{
    fs::File,
    io::{Read, Write},
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

use crate::http::{Conn, Target};

/// A temporary folder, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> std::io::Result<Self> {
        let path = std::env::temp_dir().join(format!("cgbench-{}", crate::random_token(10)));
        std::fs::create_dir_all(&path)?;
        Ok(Self(path))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A free TCP port on the loopback interface (never Redis's default, 6379).
pub fn free_port() -> std::io::Result<u16> {
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        if port != 6379 {
            return Ok(port);
        }
    }
}

/// The workspace root (the folder above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench/ has a parent")
        .to_path_buf()
}

/// The server binary: `BENCH_SERVER_BIN` when set (to compare two builds in one session),
/// else the one beside this binary (same target folder and profile).
pub fn server_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("BENCH_SERVER_BIN") {
        return PathBuf::from(path);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("cachegraph")))
        .unwrap_or_else(|| workspace_root().join("target/release/cachegraph"))
}

/// `cargo build --release --bin cachegraph`, so the server binary is the current source.
pub fn build_server() -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.args(["build", "--release", "--bin", "cachegraph"])
        .current_dir(workspace_root());
    // `cargo run` gives this process CARGO_MANIFEST_DIR, CARGO_PKG_NAME, … of `bench`. Some
    // build scripts (ring's) watch those variables, so passing them on would make cargo rebuild
    // half the dependency tree here, and again at the next plain `cargo build`.
    for (key, _) in std::env::vars_os() {
        if let Some(key) = key.to_str()
            && (key.starts_with("CARGO_PKG_")
                || matches!(
                    key,
                    "CARGO_MANIFEST_DIR"
                        | "CARGO_MANIFEST_PATH"
                        | "CARGO_MANIFEST_LINKS"
                        | "CARGO_CRATE_NAME"
                        | "CARGO_BIN_NAME"
                        | "CARGO_PRIMARY_PACKAGE"
                        | "CARGO_RUSTC_CURRENT_DIR"
                        | "CARGO_TARGET_TMPDIR"
                        | "OUT_DIR"
                ))
        {
            cmd.env_remove(key);
        }
    }
    let status = cmd.status().map_err(|e| format!("running {cargo}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "`cargo build --release --bin cachegraph` failed ({status})"
        ))
    }
}

fn stop_child(child: &mut Child, grace: Duration) -> Option<ExitStatus> {
    if let Ok(Some(status)) = child.try_wait() {
        return Some(status);
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let _ = child.kill();
    child.wait().ok()
}

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

/// Whether `taskset` can pin the server: it exists and the machine has at least 2 CPUs.
pub fn pinning(cpus: Option<&str>) -> Result<String, String> {
    let Some(cpus) = cpus else {
        return Err("not pinned (--server-cpus none)".into());
    };
    let n = std::thread::available_parallelism().map_or(1, |n| n.get());
    if n < 2 {
        return Err(format!("not pinned: only {n} CPU"));
    }
    let taskset = Command::new("taskset")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !taskset.is_ok_and(|s| s.success()) {
        return Err("not pinned: taskset not found".into());
    }
    Ok(cpus.to_owned())
}

/// What the server under test is started with.
pub struct ServerConfig<'a> {
    pub binary: &'a Path,
    pub workdir: &'a Path,
    pub log: PathBuf,
    pub database_url: &'a str,
    pub backend: &'a str,
    pub redis_url: &'a str,
    pub admin_email: &'a str,
    pub admin_password: &'a str,
    pub jwt_secret: &'a str,
    pub pin: Option<&'a str>,
    /// Extra `KEY=VALUE` variables (`--server-env`), e.g. to switch a cache layer off.
    pub extra_env: &'a [(String, String)],
}

/// The server under test, a child process.
pub struct Server {
    child: Child,
    pub addr: String,
    pub log: PathBuf,
}

impl Server {
    /// Starts the server and waits (at most 60 s) until `GET /health` answers 200.
    pub async fn start(cfg: ServerConfig<'_>) -> Result<Self, String> {
        let port = free_port().map_err(|e| format!("no free port: {e}"))?;
        let addr = format!("127.0.0.1:{port}");
        let log = File::create(&cfg.log).map_err(|e| format!("{}: {e}", cfg.log.display()))?;
        let log2 = log
            .try_clone()
            .map_err(|e| format!("{}: {e}", cfg.log.display()))?;
        let mut cmd = match cfg.pin {
            Some(cpus) => {
                let mut c = Command::new("taskset");
                c.args(["-c", cpus]).arg(cfg.binary);
                c
            }
            None => Command::new(cfg.binary),
        };
        cmd.arg("serve")
            // Its own folder: no `.env` of the workspace is read.
            .current_dir(cfg.workdir)
            .env("DATABASE_URL", cfg.database_url)
            .env("CACHE_BACKEND", cfg.backend)
            .env("REDIS_URL", cfg.redis_url)
            .env("CACHE_PREFIX", format!("bench{}:", crate::random_token(8)))
            .env("LISTEN_ADDR", &addr)
            .env("ADMIN_EMAIL", cfg.admin_email)
            .env("ADMIN_PASSWORD", cfg.admin_password)
            .env("JWT_SECRET", cfg.jwt_secret)
            .env("RUST_LOG", "warn")
            .env("NO_COLOR", "1")
            .envs(cfg.extra_env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2);
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", cfg.binary.display()))?;
        let mut server = Self {
            child,
            addr,
            log: cfg.log,
        };
        let target = Target::local(&server.addr);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!(
                    "the server exited at start ({status}); its log ends with:\n{}",
                    server.log_tail(20)
                ));
            }
            if let Ok(mut c) = Conn::connect(&target).await
                && let Ok(Ok(resp)) =
                    tokio::time::timeout(Duration::from_secs(2), c.get("/health")).await
                && resp.status == 200
            {
                return Ok(server);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "GET /health did not answer 200 within 60 s; the server log ends with:\n{}",
                    server.log_tail(20)
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGTERM, then SIGKILL after 15 s (the server drains for at most 10 s).
    pub fn stop(&mut self) -> Option<ExitStatus> {
        stop_child(&mut self.child, Duration::from_secs(15))
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Log lines at WARN or ERROR (the server runs with RUST_LOG=warn, so that is every line
    /// it logged), without ANSI colours.
    pub fn warnings(&self) -> Vec<String> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines()
            .map(strip_ansi)
            .filter(|l| !l.trim().is_empty())
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        stop_child(&mut self.child, Duration::from_secs(15));
    }
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ ... final byte in @..~
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn strips_colours() {
        assert_eq!(
            super::strip_ansi("\u{1b}[33m WARN\u{1b}[0m x: y"),
            " WARN x: y"
        );
    }
}
