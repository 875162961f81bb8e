//! The processes the benchmark runs: a build, a redis-server, the server under test. Every one
//! is stopped when its handle is dropped, so an early return or Ctrl-C leaves nothing behind.
//!
//! - `common`: the scratch folder, free loopback ports, and stopping a child or its process
//!   group (SIGTERM, then SIGKILL);
//! - `build`: where the workspace and the server binary are, and building it;
//! - `redis`: a redis-server, and a three-primary Redis Cluster;
//! - `server`: the server under test, and whether it can be pinned to a CPU.
mod build;
mod common;
mod redis;
mod server;

pub use build::{build_server, server_binary, workspace_root};
pub use common::{TempDir, stop_group};
pub use redis::{Redis, RedisCluster};
pub use server::{CpuMark, Server, ServerConfig, pinning, resident_mib};
