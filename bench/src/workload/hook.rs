//! `--window-hook`: a shell command started the moment a measured window opens, so that a
//! profiler (`perf record`, `strace -c`, a `/proc` reader) covers exactly that window rather
//! than a guess from the server's start time. It learns what it measures from its environment;
//! the run waits for it after the window, at most [`GRACE`], and kills it after that.
use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use super::Workload;

/// How long after the window a hook may still run before it is killed.
pub const GRACE: Duration = Duration::from_secs(60);

/// What the hook is told, as environment variables.
pub struct Window {
    /// `BENCH_SERVER_PID`: the server's process id (absent for `--url`).
    pub server_pid: Option<u32>,
    /// `BENCH_WORKLOAD`: `W0` … `W5`.
    pub workload: Workload,
    /// `BENCH_LABEL`: database and backend, e.g. `sqlite-redis`.
    pub label: String,
    /// `BENCH_WINDOW_SECONDS`: the window's length, in whole seconds (rounded up).
    pub duration: Duration,
}

/// A started hook.
pub struct Running {
    child: Child,
}

/// Starts `cmd` with `sh -c` for `window`; `Err` says why it could not start.
pub fn start(cmd: &str, window: &Window) -> Result<Running, String> {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(cmd)
        .env("BENCH_WORKLOAD", window.workload.as_str())
        .env("BENCH_LABEL", &window.label)
        .env(
            "BENCH_WINDOW_SECONDS",
            window.duration.as_secs_f64().ceil().to_string(),
        )
        .stdin(Stdio::null());
    match window.server_pid {
        Some(pid) => c.env("BENCH_SERVER_PID", pid.to_string()),
        None => c.env_remove("BENCH_SERVER_PID"),
    };
    c.spawn()
        .map(|child| Running { child })
        .map_err(|e| format!("--window-hook could not start: {e}"))
}

impl Running {
    /// Waits for the hook (at most [`GRACE`], then kills it). `Some(note)` when it failed or
    /// had to be killed.
    pub async fn finish(mut self) -> Option<String> {
        let deadline = tokio::time::Instant::now() + GRACE;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) if status.success() => return None,
                Ok(Some(status)) => return Some(format!("--window-hook exited with {status}")),
                Ok(None) if tokio::time::Instant::now() >= deadline => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return Some(format!(
                        "--window-hook still ran {} s after the window and was killed",
                        GRACE.as_secs()
                    ));
                }
                // A child's exit has no future to await without tokio's `process` feature
                // (which this crate does not build); a short poll costs nothing measured.
                Ok(None) => tokio::time::sleep(Duration::from_millis(20)).await,
                Err(e) => return Some(format!("--window-hook: {e}")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window() -> Window {
        Window {
            server_pid: Some(4242),
            workload: Workload::W4,
            label: "sqlite-redis".into(),
            duration: Duration::from_millis(5500),
        }
    }

    #[tokio::test]
    async fn the_hook_learns_its_window_from_the_environment() {
        let dir = std::env::temp_dir().join(format!("bench-hook-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let out = dir.join("env");
        let cmd = format!(
            "echo \"$BENCH_SERVER_PID $BENCH_WORKLOAD $BENCH_LABEL $BENCH_WINDOW_SECONDS\" > {}",
            out.display()
        );
        let note = start(&cmd, &window()).expect("starts").finish().await;
        assert_eq!(note, None);
        let seen = std::fs::read_to_string(&out).expect("the hook wrote");
        assert_eq!(seen.trim(), "4242 W4 sqlite-redis 6");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[tokio::test]
    async fn a_failing_hook_is_noted() {
        let note = start("exit 3", &window()).expect("starts").finish().await;
        assert!(note.is_some_and(|n| n.contains("exit status: 3")));
    }
}
