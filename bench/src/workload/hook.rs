//! `--window-hook`: a shell command started the moment a measured window opens, so that a
//! profiler (`perf record`, `strace -c`, a `/proc` reader) covers exactly that window rather
//! than a guess from the server's start time. It learns what it measures from its environment;
//! the run waits for it after the window, at most [`GRACE`], then ends it. The hook runs in a
//! process group of its own, so ending it ends what `sh` started too (SIGTERM first, so that a
//! profiler can still write its file, then SIGKILL); a hook dropped unfinished is ended alike.
use std::{
    os::unix::process::CommandExt,
    process::{Child, Command, Stdio},
    time::Duration,
};

use super::{Workload, spec::RunSpec};
use crate::procs;

/// How long after the window a hook may still run before it is ended.
pub const GRACE: Duration = Duration::from_secs(60);

/// How long an ended hook has between SIGTERM and SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(2);

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

impl Window {
    /// The window `spec` measures.
    pub fn of(spec: &RunSpec) -> Self {
        Self {
            server_pid: spec.server_pid,
            workload: spec.workload,
            label: format!("{}-{}", spec.db, spec.backend),
            duration: spec.duration,
        }
    }
}

/// A started hook. Dropped unfinished, it is ended (see the module comment).
pub struct Running {
    child: Option<Child>,
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
        // Its output would land in the progress bar; errors still show.
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .process_group(0);
    match window.server_pid {
        Some(pid) => c.env("BENCH_SERVER_PID", pid.to_string()),
        None => c.env_remove("BENCH_SERVER_PID"),
    };
    c.spawn()
        .map(|child| Running { child: Some(child) })
        .map_err(|e| format!("--window-hook could not start: {e}"))
}

impl Running {
    /// Waits for the hook, at most `grace`, then ends it. `Some(note)` when it failed or had
    /// to be ended.
    pub async fn finish(mut self, grace: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + grace;
        let child = self.child.as_mut()?;
        let note = loop {
            match child.try_wait() {
                Ok(Some(status)) if status.success() => break None,
                Ok(Some(status)) => break Some(format!("--window-hook exited with {status}")),
                Ok(None) if tokio::time::Instant::now() >= deadline => {
                    break Some(format!(
                        "--window-hook still ran {} s after the window and was ended",
                        grace.as_secs_f64()
                    ));
                }
                // A child's exit has no future to await without tokio's `process` feature
                // (which this crate does not build); a short poll costs nothing measured.
                Ok(None) => tokio::time::sleep(Duration::from_millis(20)).await,
                Err(e) => break Some(format!("--window-hook: {e}")),
            }
        };
        if note.is_some() {
            self.end();
        } else {
            self.child = None;
        }
        note
    }

    /// Ends the hook's process group ([`procs::stop_group`]).
    fn end(&mut self) {
        if let Some(mut child) = self.child.take() {
            procs::stop_group(&mut child, TERM_GRACE);
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.end();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(server_pid: Option<u32>) -> Window {
        Window {
            server_pid,
            workload: Workload::W4,
            label: "sqlite-redis".into(),
            duration: Duration::from_millis(5500),
        }
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("bench-hook-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    async fn seen_by_hook(server_pid: Option<u32>, name: &str) -> String {
        let dir = scratch(name);
        let out = dir.join("env");
        let cmd = format!(
            "echo \"${{BENCH_SERVER_PID-none}} $BENCH_WORKLOAD $BENCH_LABEL $BENCH_WINDOW_SECONDS\" > '{}'",
            out.display()
        );
        let note = start(&cmd, &window(server_pid))
            .expect("starts")
            .finish(GRACE)
            .await;
        assert_eq!(note, None);
        let seen = std::fs::read_to_string(&out).expect("the hook wrote");
        std::fs::remove_dir_all(&dir).ok();
        seen.trim().to_owned()
    }

    #[tokio::test]
    async fn the_hook_learns_its_window_from_the_environment() {
        assert_eq!(
            seen_by_hook(Some(4242), "pid").await,
            "4242 W4 sqlite-redis 6"
        );
    }

    #[tokio::test]
    async fn without_a_server_process_no_pid_is_given() {
        // SAFETY: set before the hook starts; only this test's child reads it.
        unsafe { std::env::set_var("BENCH_SERVER_PID", "1") };
        assert_eq!(seen_by_hook(None, "nopid").await, "none W4 sqlite-redis 6");
    }

    #[tokio::test]
    async fn a_failing_hook_is_noted() {
        let note = start("exit 3", &window(None))
            .expect("starts")
            .finish(GRACE)
            .await;
        assert!(note.is_some_and(|n| n.contains("exit status: 3")));
    }

    #[tokio::test]
    async fn a_hook_that_outlives_its_grace_is_ended_with_what_it_started() {
        let dir = scratch("late");
        let pid_file = dir.join("pid");
        // `sh` stays (two commands), and its `sleep` is a process of its own.
        let cmd = format!("sleep 30 & echo $! > '{}'; wait", pid_file.display());
        let note = start(&cmd, &window(None))
            .expect("starts")
            .finish(Duration::from_millis(300))
            .await;
        assert!(note.is_some_and(|n| n.contains("was ended")));
        let sleeper: u32 = std::fs::read_to_string(&pid_file)
            .expect("the hook wrote its child's pid")
            .trim()
            .parse()
            .expect("a pid");
        // The sleep was in the hook's group, so it was signalled too: within moments it is
        // gone, or a zombie waiting for init (`sh`, its parent, was reaped). Without the group
        // it would sleep on for 30 s.
        let alive = || {
            std::fs::read_to_string(format!("/proc/{sleeper}/stat"))
                .is_ok_and(|stat| stat.split(' ').nth(2) != Some("Z"))
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while alive() && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(!alive(), "the hook's own child outlived it");
        std::fs::remove_dir_all(&dir).ok();
    }
}
