//! Logs: the start-up line and one line per request (text without colour when piped, JSON with
//! `LOG_FORMAT=json`, no secret in either), and an unreachable Redis named with its host while
//! the server serves from the database.
use serde_json::Value;

use super::{PASSWORD, SECRET, login, serve, until};
use crate::helpers::free_port;

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
async fn an_unreachable_redis_is_named_and_the_server_still_serves() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let url = format!("redis://:redis-pw-not-logged@127.0.0.1:{port}");
    let env = [("CACHE_BACKEND", "redis"), ("REDIS_URL", url.as_str())];
    let (mut child, _out, addr, lines) = serve(dir.path(), &env).await;
    let health: Value = reqwest::get(format!("http://{addr}/health"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    child.kill().await.unwrap();
    assert_eq!(health["cache"]["status"], "unavailable", "{health}");
    let warn = lines
        .iter()
        .find(|l| l.contains("redis unreachable at start"))
        .unwrap_or_else(|| panic!("{lines:#?}"));
    assert!(warn.contains(&format!("127.0.0.1:{port}")), "{warn}");
    assert!(
        !lines.join("\n").contains("redis-pw-not-logged"),
        "{lines:#?}"
    );
}
