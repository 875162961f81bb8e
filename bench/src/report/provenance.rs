//! Where a run comes from: the date (UTC, without a date library), the machine, the commit the
//! server was built from, and the command line with its secrets hidden.
//!
//! Free functions that read the environment; the rest of the report only formats what they
//! return.
use std::{
    path::Path,
    process::Command,
    time::{SystemTime, UNIX_EPOCH},
};

/// (year, month, day) of a count of days since 1970-01-01 (proleptic Gregorian calendar).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn unix_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Today's date, UTC: `2026-11-25`.
pub fn today() -> String {
    let (y, m, d) = civil(unix_secs().div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Now, UTC: `2026-11-25 14:03:07 UTC`.
pub fn now_utc() -> String {
    let secs = unix_secs();
    let (y, m, d) = civil(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        t / 3600,
        t % 3600 / 60,
        t % 60
    )
}

/// What the numbers were measured on.
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub memory: String,
    pub kernel: String,
}

pub fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or_else(|| "unknown".into(), |(_, v)| v.trim().to_owned());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or_else(
            || "unknown".into(),
            |kb| format!("{:.1} GiB", kb / 1024.0 / 1024.0),
        );
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| format!("Linux {}", s.trim()))
        .unwrap_or_else(|_| std::env::consts::OS.to_owned());
    Machine {
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        cpu_model,
        memory,
        kernel,
    }
}

/// The commit the server was built from, and whether the tree had uncommitted changes.
pub fn git_state(root: &Path) -> String {
    let run = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    match run(&["rev-parse", "--short", "HEAD"]) {
        Some(commit) => {
            let dirty = run(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
            if dirty {
                format!("{commit} + uncommitted changes")
            } else {
                commit
            }
        }
        None => "unknown".into(),
    }
}

fn shell_quote(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./:=,@%+-".contains(c))
    {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// The command line as given, with secrets hidden (PostgreSQL passwords, tokens).
pub fn command_line(raw: &[String]) -> String {
    let mut out = vec!["cargo run --release -p bench --".to_owned()];
    let mut hide_next: Option<&str> = None;
    for arg in raw {
        let shown = match hide_next.take() {
            Some("--pg-url") => crate::db::redact(arg),
            Some(_) => "***".into(),
            None => {
                if arg == "--pg-url" || arg == "--token" {
                    hide_next = Some(if arg == "--pg-url" {
                        "--pg-url"
                    } else {
                        "--token"
                    });
                    arg.clone()
                } else if let Some(v) = arg.strip_prefix("--pg-url=") {
                    format!("--pg-url={}", crate::db::redact(v))
                } else if arg.starts_with("--token=") {
                    "--token=***".into()
                } else {
                    arg.clone()
                }
            }
        };
        out.push(shell_quote(&shown));
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(20_417), (2025, 11, 25));
        assert_eq!(civil(11_016), (2000, 2, 29));
        assert_eq!(today().len(), 10);
    }

    #[test]
    fn command_lines_hide_secrets() {
        let raw: Vec<String> = [
            "--pg-url",
            "postgres://u:pw@h/db",
            "--token=abc",
            "--name",
            "a b",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let c = command_line(&raw);
        assert!(!c.contains("pw@") && !c.contains("abc"), "{c}");
        assert!(c.ends_with("--name 'a b'"), "{c}");
    }
}
