//! The binary as a new user runs it: its commands (`commands`) and its logs (`logs`). This
//! module starts it with a clean environment and reads its output.
mod commands;
mod logs;
use std::{process::Stdio, time::Duration};

use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, ChildStdout, Command},
};

use crate::helpers::free_port;

pub(super) const SECRET: &str = "cli-test-secret-0123456789";
pub(super) const PASSWORD: &str = "first-password-1";

/// The binary with a clean environment: its own SQLite file, no cache service, and `env`.
pub(super) fn cachegraph(dir: &std::path::Path, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cachegraph"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .current_dir(dir)
        .env("DATABASE_URL", format!("sqlite://{}/app.db", dir.display()))
        .env("CACHE_BACKEND", "memory")
        .env("JWT_SECRET", SECRET)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    crate::fixtures::dies_with_test(cmd.as_std_mut());
    cmd
}

/// Reads `out` line by line until one contains `needle` (at most 20 s); every line read.
pub(super) async fn until(out: &mut BufReader<ChildStdout>, needle: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let found = tokio::time::timeout(Duration::from_secs(20), async {
        let mut line = String::new();
        loop {
            line.clear();
            if out.read_line(&mut line).await.unwrap() == 0 {
                return false;
            }
            lines.push(line.trim_end().to_owned());
            if line.contains(needle) {
                return true;
            }
        }
    })
    .await;
    assert!(found == Ok(true), "no line with {needle:?} in {lines:#?}");
    lines
}

/// Starts `serve --listen` on a free port; returns the child, its stdout, the address and the
/// lines up to the start-up line.
pub(super) async fn serve(
    dir: &std::path::Path,
    env: &[(&str, &str)],
) -> (Child, BufReader<ChildStdout>, String, Vec<String>) {
    let addr = format!("127.0.0.1:{}", free_port());
    let mut child = cachegraph(dir, env)
        .args(["serve", "--listen", &addr])
        .spawn()
        .expect("the binary starts");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let lines = until(&mut out, "cachegraph listening").await;
    (child, out, addr, lines)
}

pub(super) async fn login(addr: &str, email: &str, password: &str) -> Value {
    let body = json!({
        "query": "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }",
        "variables": { "e": email, "p": password },
    });
    reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
