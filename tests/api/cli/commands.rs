//! Commands: `--help`, `--version`, unknown arguments refused with usage, a taken port refused
//! before anything is seeded, `admin set-password` from stdin, a database that cannot be
//! reached named with its host, and a plain `sqlite://file.db`.
use std::{process::Stdio, time::Duration};

use tokio::io::AsyncWriteExt;

use super::{PASSWORD, cachegraph, login, serve};
use crate::helpers::free_port;

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
