//! The server under test: started as a child process with the leg's environment (pinned with
//! `taskset` when possible), waited for until `GET /health` answers, stopped on drop, and its
//! log read back for the report.
use std::{
    fs::File,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

use super::common::{free_port, stop_child};
use crate::http::{Conn, Target};

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
    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

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

/// Clock ticks per second of `/proc/PID/stat`'s times: Linux's `USER_HZ`, 100 on every
/// architecture it exports to user space.
const USER_HZ: f64 = 100.0;

/// The CPU time process `pid` has used (user and system, every thread), seconds.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces: state is
    // field 3, utime 14 and stime 15.
    let mut fields = stat.get(stat.rfind(')')? + 2..)?.split(' ').skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 / USER_HZ)
}

/// A process's CPU time at a moment: [`CpuMark::now`] at the start of an interval,
/// [`CpuMark::percent_since`] at its end.
#[derive(Clone, Copy)]
pub struct CpuMark {
    pid: u32,
    seconds: f64,
    at: std::time::Instant,
}

impl CpuMark {
    /// Process `pid`'s CPU time now (`None` when it cannot be read).
    pub fn now(pid: u32) -> Option<Self> {
        Some(Self {
            pid,
            seconds: cpu_seconds(pid)?,
            at: std::time::Instant::now(),
        })
    }

    /// The CPU the process used since this mark, in % of one core.
    pub fn percent_since(&self) -> Option<f64> {
        let end = Self::now(self.pid)?;
        let elapsed = end.at.duration_since(self.at).as_secs_f64();
        (elapsed > 0.0).then(|| (end.seconds - self.seconds) / elapsed * 100.0)
    }
}

/// The resident memory of process `pid` (`VmRSS`), MiB.
pub fn resident_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_this_process_cpu_time() {
        let before = super::cpu_seconds(std::process::id()).expect("/proc/self/stat parses");
        let mut x = 0u64;
        let until = std::time::Instant::now() + std::time::Duration::from_millis(50);
        while std::time::Instant::now() < until {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        let after = super::cpu_seconds(std::process::id()).expect("/proc/self/stat parses");
        assert!(after > before, "{before} -> {after} after 50 ms of work");
    }

    #[test]
    fn strips_colours() {
        assert_eq!(
            super::strip_ansi("\u{1b}[33m WARN\u{1b}[0m x: y"),
            " WARN x: y"
        );
    }
}
