//! The README's curl session, run as written: the `sh` blocks between its `session` markers,
//! in order, in one shell, against the real app (its address and the admin's password put in
//! where the README says `http://127.0.0.1:8000` and `<the admin password>`). Each block's
//! `# {…}` comment is the answer it promises; the test checks the shape of each.
use crate::helpers::{ADMIN_PASSWORD, Backend, Db, TestApp};

/// The `sh` blocks of the README's session.
fn session() -> Vec<String> {
    let readme = include_str!("../../README.md");
    let start = readme
        .find("<!-- session: start")
        .expect("session start marker");
    let end = readme
        .find("<!-- session: end -->")
        .expect("session end marker");
    readme[start..end]
        .split("```sh\n")
        .skip(1)
        .map(|block| block.split("```").next().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_curl_session_runs_as_written() {
    for tool in ["curl", "jq"] {
        let found = std::process::Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            assert!(std::env::var_os("CI").is_none(), "{tool} is missing");
            eprintln!("skipped: {tool} is missing; ./scripts/test installs it");
            return;
        }
    }
    let app = TestApp::spawn(Backend::Redis, Db::Sqlite).await.unwrap();
    let blocks = session();
    assert_eq!(blocks.len(), 3, "login, query, GET");
    // One marker line after each block, so each block's output can be told apart.
    let script: String = blocks
        .iter()
        .enumerate()
        .map(|(i, b)| format!("{b}\necho '=== block {i} done'\n"))
        .collect::<String>()
        .replace("http://127.0.0.1:8000", &format!("http://{}", app.addr))
        .replace("<the admin password>", ADMIN_PASSWORD);
    let output = tokio::process::Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .output()
        .await
        .unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let parts: Vec<&str> = out.split("=== block").collect();
    assert!(parts[0].trim().starts_with("eyJ"), "no token: {}", parts[0]);
    let users: serde_json::Value =
        serde_json::from_str(parts[1].split_once('\n').unwrap().1.trim()).unwrap();
    assert_eq!(
        users["data"]["users"][0]["email"], "admin@example.com",
        "{users}"
    );
    let me: serde_json::Value =
        serde_json::from_str(parts[2].split_once('\n').unwrap().1.trim()).unwrap();
    assert_eq!(me["data"]["me"]["role"], "ADMIN", "{me}");
}
