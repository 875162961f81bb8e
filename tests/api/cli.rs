//! The binary as a new user runs it: `--help`, `--version`, unknown arguments refused with
//! usage, `serve --listen`, the start-up and request log lines (text without colour when
//! piped, JSON with `LOG_FORMAT=json`, no secret in either), a taken port refused before
//! anything is seeded, `admin set-password` from stdin, and a database that cannot be reached
//! named with its host.
use std::{process::Stdio, time::Duration};

use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    process::{Child, ChildStdout, Command},
};

use crate::helpers::free_port;

const SECRET: &str = "cli-test-secret-0123456789";
const PASSWORD: &str = "first-password-1";

/// The binary with a clean environment: its own SQLite file, no cache service, and `env`.
fn cachegraph(dir: &std::path::Path, env: &[(&str, &str)]) -> Command {
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
    cmd
}

/// Reads `out` line by line until one contains `needle` (at most 20 s); every line read.
async fn until(out: &mut BufReader<ChildStdout>, needle: &str) -> Vec<String> {
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
async fn serve(
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

async fn login(addr: &str, email: &str, password: &str) -> Value {
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

#[tokio::test]
async fn help_version_and_unknown_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &'static [&'static str]| {
        let mut cmd = cachegraph(dir.path(), &[]);
        cmd.args(args);
        async move { cmd.output().await.unwrap() }
    };
    let help = run(&["--help"]).await;
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(help.status.success());
    for word in ["serve", "migrate", "export-schema", "admin", "LOG_FORMAT"] {
        assert!(text.contains(word), "--help lacks {word}: {text}");
    }
    let version = run(&["--version"]).await;
    let text = String::from_utf8_lossy(&version.stdout);
    assert_eq!(
        text.trim(),
        format!("cachegraph {}", env!("CARGO_PKG_VERSION"))
    );
    let serve_help = run(&["serve", "--help"]).await;
    assert!(String::from_utf8_lossy(&serve_help.stdout).contains("LISTEN_ADDR"));
    for args in [&["--bogus"][..], &["serve", "--port", "9"], &["frobnicate"]] {
        let mut cmd = cachegraph(dir.path(), &[]);
        let out = cmd.args(args).output().await.unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("Usage:"),
            "{args:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_listens_where_told_and_logs_what_runs_and_each_request() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("ADMIN_PASSWORD", PASSWORD), ("NO_COLOR", "")];
    let (mut child, mut out, addr, lines) = serve(dir.path(), &env).await;
    let start = lines.last().unwrap();
    for part in [
        env!("CARGO_PKG_VERSION"),
        &addr,
        "SQLite at",
        "cache=\"memory\"",
        "namespace=",
    ] {
        assert!(start.contains(part), "start-up line lacks {part}: {start}");
    }
    let token = login(&addr, "admin@example.com", PASSWORD).await;
    assert!(token["data"]["login"]["accessToken"].is_string(), "{token}");
    let lines = until(&mut out, "graphql request").await;
    let request = lines.last().unwrap();
    for part in ["outcome=\"ok\"", "cached=false", "ms="] {
        assert!(
            request.contains(part),
            "request line lacks {part}: {request}"
        );
    }
    child.kill().await.unwrap();
    let all: String = lines.join("\n");
    assert!(!all.contains('\u{1b}'), "colour codes in piped logs");
    assert!(
        !all.contains(SECRET) && !all.contains(PASSWORD),
        "a secret was logged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, mut out, addr, mut lines) = serve(
        dir.path(),
        &[("LOG_FORMAT", "json"), ("ADMIN_PASSWORD", PASSWORD)],
    )
    .await;
    login(&addr, "admin@example.com", "wrong-password").await;
    lines.extend(until(&mut out, "graphql request").await);
    child.kill().await.unwrap();
    for line in &lines {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(
            v["level"].is_string() && v["timestamp"].is_string(),
            "{line}"
        );
    }
    let request: Value = serde_json::from_str(lines.last().unwrap()).unwrap();
    assert_eq!(request["outcome"], "error", "{request}");
    assert_eq!(request["target"], "cachegraph::request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_port_stops_start_up_before_anything_is_seeded() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = cachegraph(dir.path(), &[])
        .args(["serve", "--listen", &addr])
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(text.contains(&addr), "{text}");
    assert!(
        !text.contains("generated password"),
        "a password was generated: {text}"
    );
    assert!(
        !dir.path().join("app.db").exists(),
        "the database was touched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_set_password_reads_stdin_and_the_new_password_logs_in() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("ADMIN_PASSWORD", PASSWORD)];
    let (mut child, _out, _, _) = serve(dir.path(), &env).await; // creates the admin
    child.kill().await.unwrap();
    let mut set = cachegraph(dir.path(), &env)
        .args(["admin", "set-password", "ADMIN@example.com"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = set.stdin.take().unwrap();
    stdin.write_all(b"second-password-2\n").await.unwrap();
    drop(stdin);
    let done = set.wait_with_output().await.unwrap();
    let text = String::from_utf8_lossy(&done.stdout);
    assert!(
        done.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(
        text.contains("password set") && !text.contains("second-password-2"),
        "{text}"
    );

    let (mut child, _out, addr, lines) = serve(dir.path(), &env).await;
    assert!(
        lines
            .iter()
            .any(|l| l.contains("ADMIN_PASSWORD is set but not used")),
        "{lines:#?}"
    );
    let new = login(&addr, "admin@example.com", "second-password-2").await;
    assert!(new["data"]["login"]["accessToken"].is_string(), "{new}");
    let old = login(&addr, "admin@example.com", PASSWORD).await;
    assert_eq!(old["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    child.kill().await.unwrap();

    let short = cachegraph(dir.path(), &env)
        .args(["admin", "set-password", "admin@example.com"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let done = {
        let mut short = short;
        short
            .stdin
            .take()
            .unwrap()
            .write_all(b"short\n")
            .await
            .unwrap();
        short.wait_with_output().await.unwrap()
    };
    assert!(!done.status.success(), "a too short password was accepted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_is_named_with_its_host_and_cause() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let url = format!("postgres://app:pw-not-logged@127.0.0.1:{port}/app");
    let started = std::time::Instant::now();
    let out = cachegraph(dir.path(), &[("DATABASE_URL", &url)])
        .arg("migrate")
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "took {:?}",
        started.elapsed()
    );
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(text.to_lowercase().contains("refused"), "{text}");
    assert!(!text.contains("pw-not-logged"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_sqlite_url_creates_its_file() {
    let dir = tempfile::tempdir().unwrap();
    // Empty values count as unset, for the variables the command line reads too.
    let env = [
        ("DATABASE_URL", "sqlite://plain.db"),
        ("LOG_FORMAT", ""),
        ("LISTEN_ADDR", ""),
    ];
    let out = cachegraph(dir.path(), &env)
        .arg("migrate")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(dir.path().join("plain.db").exists());
}
