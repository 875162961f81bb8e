//! What every process of the benchmark needs: a scratch folder removed on drop, a free loopback
//! port, and a stop that cannot hang (SIGTERM, then SIGKILL after a grace period), of a child
//! or of the process group it leads.
use std::{
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

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

/// Stops `child`: SIGTERM, then SIGKILL if it has not exited within `grace`; reaps it.
pub(super) fn stop_child(child: &mut Child, grace: Duration) -> Option<ExitStatus> {
    if let Ok(Some(status)) = child.try_wait() {
        return Some(status);
    }
    stop(child, grace, &child.id().to_string())
}

/// Stops the process group `child` leads (it was spawned with `process_group(0)`), so that
/// what it started goes too: SIGTERM to the group, SIGKILL to the group once `child` has
/// exited or `grace` has passed; reaps `child`. The group is signalled even when `child` has
/// already exited, for what it left running.
pub fn stop_group(child: &mut Child, grace: Duration) -> Option<ExitStatus> {
    let group = format!("-{}", child.id());
    let status = stop(child, grace, &group);
    signal("KILL", &group);
    status
}

fn stop(child: &mut Child, grace: Duration, target: &str) -> Option<ExitStatus> {
    signal("TERM", target);
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

/// `kill -SIG -- TARGET`: a pid, or `-PGID` for a process group.
fn signal(sig: &str, target: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{sig}"), "--", target])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}
