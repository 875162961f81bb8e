//! GraphiQL in a real browser: Debian's Chromium driven by playwright-core
//! (`tests/browser/graphiql.mjs`) runs the README's session against the real app with every
//! request to another host blocked. `./scripts/test` installs Chromium and playwright-core when
//! missing; without them the test fails under CI and is skipped (with a note) elsewhere.
use std::path::{Path, PathBuf};

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, Backend, Db, TestApp};

/// Why the browser test cannot run here, if it cannot.
fn missing() -> Option<String> {
    let browser = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Some(format!(
            "{chromium} is missing (apt-get install -y chromium)"
        ));
    }
    if !browser.join("node_modules/playwright-core").exists() {
        return Some("playwright-core is missing (npm ci --prefix tests/browser)".into());
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_runs_the_readme_session_offline_in_chromium() {
    if let Some(why) = missing() {
        assert!(
            std::env::var_os("CI").is_none(),
            "browser test cannot run: {why}"
        );
        eprintln!("skipped: {why}; ./scripts/test installs it");
        return;
    }
    let app = TestApp::spawn(Backend::Redis, Db::Sqlite).await.unwrap();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let shots = root.join("target/test-artifacts/graphiql");
    let mut node = tokio::process::Command::new("node");
    crate::fixtures::dies_with_test(node.as_std_mut());
    let output = node
        .arg(root.join("tests/browser/graphiql.mjs"))
        .arg(format!("http://{}", app.addr))
        .arg(ADMIN_EMAIL)
        .arg(ADMIN_PASSWORD)
        .arg(&shots)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(std::time::Duration::from_secs(120), output)
        .await
        .expect("the browser session finished within 2 minutes")
        .expect("node runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "GraphiQL session failed:\n{report}"
    );
    for shot in ["1-opened.png", "2-logged-in.png", "3-users.png"] {
        assert!(shots.join(shot).exists(), "no screenshot {shot}");
    }
    eprintln!("{report}");
}
