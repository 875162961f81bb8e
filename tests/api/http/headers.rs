//! Response headers: CORS for configured origins only, and `cache-control` private for answers
//! that depend on the caller.
use serde_json::json;

use super::{app, app_without_cors};
use crate::helpers::{Backend, Db, Spawn};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_allows_only_configured_origins_with_authorization() {
    let app = Spawn::new(Backend::None, Db::Sqlite)
        .env(
            "CORS_ALLOWED_ORIGINS",
            "https://app.example.com, http://localhost:3000",
        )
        .start()
        .await
        .unwrap();
    let preflight = |origin: &'static str| {
        app.http
            .request(reqwest::Method::OPTIONS, app.url("/graphql"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
    };
    let ok = preflight("https://app.example.com").await.unwrap();
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let allowed = ok.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(allowed.contains("authorization"), "{allowed}");
    let denied = preflight("https://evil.example.com").await.unwrap();
    assert!(
        denied
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    let same_origin_only = app_without_cors().await;
    let resp = same_origin_only
        .http
        .request(reqwest::Method::OPTIONS, same_origin_only.url("/graphql"))
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(resp.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_dependent_responses_are_private() {
    let app = app().await;
    let resp = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(&app.admin_token)
        .json(&json!({ "query": "{ me { id } users { id } }" }))
        .send()
        .await
        .unwrap();
    let cc = resp.headers()["cache-control"].to_str().unwrap().to_owned();
    assert!(cc.contains("private") && cc.contains("no-cache"), "{cc}");
    let anon = app
        .http
        .post(app.url("/graphql"))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.headers()["cache-control"], "no-cache, private");
    let failed = app
        .http
        .post(app.url("/graphql"))
        .json(&json!({ "query": "{ me { id } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        failed.headers()["cache-control"],
        "no-cache, private",
        "errors are never cacheable by others"
    );
    let refused = app
        .http
        .post(app.url("/graphql"))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 415);
    assert_eq!(refused.headers()["cache-control"], "no-cache, private");
}
