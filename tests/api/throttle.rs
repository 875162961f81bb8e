//! Login throttling: per email and per client address, shared by instances through Redis,
//! kept in process while Redis is down, and refused before any password is hashed.
use serde_json::{Value, json};

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, Backend, PASSWORD, TestApp, code};

const LOGIN: &str =
    "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }";

async fn login(app: &TestApp, email: &str, password: &str) -> Value {
    app.gql_as(None, LOGIN, json!({ "e": email, "p": password }))
        .await
}

async fn throttled(backend: Backend) -> TestApp {
    TestApp::with_env(
        backend,
        &[
            ("LOGIN_MAX_FAILURES", "3"),
            ("LOGIN_LOCKOUT_MS", "60000"),
            ("LOGIN_LOCKOUT_MAX_SECS", "600"),
        ],
    )
    .await
}

fn assert_locked(body: &Value) {
    assert_eq!(code(body), "TOO_MANY_REQUESTS", "{body}");
    let retry = body["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .unwrap();
    assert!((1..=60).contains(&retry), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failures_lock_the_email_on_every_instance() {
    let app = throttled(Backend::Redis).await;
    app.create_user("carol@example.com", "USER").await;
    for _ in 0..3 {
        let body = login(&app, "carol@example.com", "wrong-password").await;
        assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    }
    // Locked: even the right password is refused, before it is checked.
    assert_locked(&login(&app, "CAROL@example.com", PASSWORD).await);
    let sibling = app.sibling().await;
    assert_locked(&login(&sibling, "carol@example.com", PASSWORD).await);
    // Another email from the same address is not locked.
    let body = login(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert!(body["errors"].is_null(), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_success_clears_the_emails_failures() {
    let app = throttled(Backend::Memory).await;
    app.create_user("dan@example.com", "USER").await;
    for round in 0..3 {
        for _ in 0..2 {
            let body = login(&app, "dan@example.com", "wrong-password").await;
            assert_eq!(code(&body), "UNAUTHENTICATED", "round {round}: {body}");
        }
        let body = login(&app, "dan@example.com", PASSWORD).await;
        assert!(body["errors"].is_null(), "round {round}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_guessing_many_emails_is_locked_out() {
    let app = TestApp::with_env(
        Backend::Redis,
        &[
            ("LOGIN_MAX_FAILURES_PER_CLIENT", "4"),
            ("LOGIN_LOCKOUT_MS", "60000"),
            ("TRUSTED_PROXY_HOPS", "1"),
        ],
    )
    .await;
    // The client's own claim comes first; the trusted proxy's entry is the last.
    let from = async |addr: &str, email: String| -> Value {
        login_from(&app, &format!("203.0.113.9, {addr}"), &email, "guess-123").await
    };
    for i in 0..4 {
        let body = from("198.51.100.7", format!("nobody{i}@example.com")).await;
        assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    }
    assert_locked(&from("198.51.100.7", "nobody99@example.com".into()).await);
    // Another client is not locked out.
    let body = from("198.51.100.8", "nobody99@example.com".into()).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lock_holds_in_process_while_redis_is_down() {
    let mut app = throttled(Backend::Redis).await;
    let id = app.create_user("erin@example.com", "USER").await;
    app.redis.as_mut().unwrap().kill();
    // A read finds Redis gone and opens the breaker.
    app.user(&id).await;
    app.await_cache_status("unavailable").await;
    for _ in 0..3 {
        let body = login(&app, "erin@example.com", "wrong-password").await;
        assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    }
    assert_locked(&login(&app, "erin@example.com", PASSWORD).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lockout_ends() {
    let app = TestApp::with_env(
        Backend::Redis,
        &[("LOGIN_MAX_FAILURES", "2"), ("LOGIN_LOCKOUT_MS", "300")],
    )
    .await;
    app.create_user("fay@example.com", "USER").await;
    for _ in 0..2 {
        login(&app, "fay@example.com", "wrong-password").await;
    }
    assert_eq!(
        code(&login(&app, "fay@example.com", PASSWORD).await),
        "TOO_MANY_REQUESTS"
    );
    // The lockout is a time: wait it out (bounded), then the right password works.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let body = login(&app, "fay@example.com", PASSWORD).await;
        if body["errors"].is_null() {
            break;
        }
        assert_eq!(code(&body), "TOO_MANY_REQUESTS", "{body}");
        assert!(tokio::time::Instant::now() < deadline, "still locked");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// A login of `email` from `addr` (behind one trusted proxy).
async fn login_from(app: &TestApp, addr: &str, email: &str, password: &str) -> Value {
    app.http
        .post(app.url("/graphql"))
        .header("x-forwarded-for", addr)
        .json(&json!({ "query": LOGIN, "variables": { "e": email, "p": password } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_guesser_cannot_lock_the_owner_out_but_many_can_lock_the_email() {
    let app = TestApp::with_env(
        Backend::Redis,
        &[
            ("LOGIN_MAX_FAILURES", "2"),
            ("LOGIN_MAX_FAILURES_PER_EMAIL", "5"),
            ("LOGIN_LOCKOUT_MS", "60000"),
            ("TRUSTED_PROXY_HOPS", "1"),
        ],
    )
    .await;
    app.create_user("gus@example.com", "USER").await;
    for _ in 0..2 {
        let body = login_from(&app, "198.51.100.1", "gus@example.com", "wrong-password").await;
        assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    }
    assert_locked(&login_from(&app, "198.51.100.1", "gus@example.com", PASSWORD).await);
    // The owner, elsewhere, still logs in; IPv4-mapped and /64 forms count as one address.
    let owner = login_from(&app, "2001:db8:7:7::1", "gus@example.com", PASSWORD).await;
    assert!(owner["errors"].is_null(), "{owner}");
    assert_locked(&login_from(&app, "::ffff:198.51.100.1", "gus@example.com", PASSWORD).await);
    // Guesses from many addresses add up for the email (2 before the owner's success cleared
    // them, so 5 more lock it).
    for i in 2..7 {
        let addr = format!("203.0.113.{i}");
        let body = login_from(&app, &addr, "gus@example.com", "wrong-password").await;
        assert_eq!(code(&body), "UNAUTHENTICATED", "{addr}: {body}");
    }
    assert_locked(&login_from(&app, "192.0.2.200", "gus@example.com", PASSWORD).await);
}
