//! What a response says of the cache: `Cache-Tag` (the tags it was built from, for a CDN to
//! purge by) and, for an admin who sends `X-Cache-Debug: 1`, `extensions.cacheDebug`.
use serde_json::{Value, json};

use crate::helpers::{Backend, Db, TestApp};

/// POSTs `query` with `token` and, when `debug`, `X-Cache-Debug: 1`: (Cache-Tag, body).
async fn ask(app: &TestApp, token: &str, query: &str, debug: bool) -> (Option<String>, Value) {
    let mut req = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query }));
    if debug {
        req = req.header("x-cache-debug", "1");
    }
    let resp = req.send().await.unwrap();
    let tag = resp
        .headers()
        .get("cache-tag")
        .map(|v| v.to_str().unwrap().to_owned());
    (tag, resp.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_name_the_tags_they_were_built_from() {
    for backend in [Backend::Redis, Backend::Memory] {
        let app = TestApp::spawn(backend, Db::Sqlite).await.unwrap();
        let id = app.create_user("tagged@example.com", "USER").await;
        let token = app.admin_token.clone();
        let by_id = format!("{{ user(id: \"{id}\") {{ email }} }}");
        // Fresh, kept, then served from the response cache: the same tags each time.
        for _ in 0..3 {
            let (tag, body) = ask(&app, &token, &by_id, false).await;
            assert!(body["errors"].is_null(), "{body}");
            let tag = tag.unwrap_or_else(|| panic!("{backend:?}: no Cache-Tag"));
            let tags: Vec<&str> = tag.split(',').collect();
            assert!(tags.contains(&"user"), "{tag}");
            assert!(tags.contains(&format!("user:{id}").as_str()), "{tag}");
            assert!(!tag.contains('@'), "a pointer's email leaked: {tag}");
            // The caller (the admin, user 1) was read to check the token, not answered about.
            assert!(!tags.contains(&"user:1"), "the caller is named: {tag}");
        }
        // Nor when the caller's entry is gone and the check loads it from the database.
        let cleared = app
            .gql(
                "mutation { clearCache(pattern: \"user:1\") { cleared } }",
                json!({}),
            )
            .await;
        assert!(cleared["errors"].is_null(), "{cleared}");
        let (tag, _) = ask(&app, &token, &by_id, false).await;
        let tag = tag.unwrap();
        assert!(
            !tag.split(',').any(|t| t == "user:1"),
            "{backend:?}: the loaded caller is named: {tag}"
        );
        let (tag, _) = ask(
            &app,
            &token,
            "{ users(limit: 5) { id } userStats { total } }",
            false,
        )
        .await;
        let tag = tag.unwrap();
        let member = format!("user:{id}");
        for expected in ["users", "user-counts", "user", member.as_str()] {
            assert!(
                tag.split(',').any(|t| t == expected),
                "{expected} not in {tag}"
            );
        }
        let (tag, _) = ask(&app, &token, "{ __typename }", false).await;
        assert_eq!(tag, None, "a response built from no entry names none");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_asking_sees_how_a_response_was_built_and_no_one_else_does() {
    let app = TestApp::spawn(Backend::Redis, Db::Sqlite).await.unwrap();
    let id = app.create_user("debugged@example.com", "USER").await;
    let query = format!("{{ user(id: \"{id}\") {{ email }} }}");
    let token = app.admin_token.clone();
    let mut seen = Vec::new();
    for _ in 0..4 {
        let (_, body) = ask(&app, &token, &query, true).await;
        assert_eq!(
            body["data"]["user"]["email"], "debugged@example.com",
            "{body}"
        );
        let debug = &body["extensions"]["cacheDebug"];
        let response = debug["response"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"))
            .to_owned();
        let entries = debug["entries"].as_array().unwrap();
        let user = entries
            .iter()
            .find(|e| e["key"] == format!("user:{id}"))
            .unwrap_or_else(|| panic!("user:{id} not among {entries:?}"));
        assert_eq!(user["version"], 1, "{user}");
        assert!(
            ["l1", "redis"].contains(&user["from"].as_str().unwrap()),
            "{user}"
        );
        seen.push(response);
    }
    assert!(
        seen.iter().any(|s| s == "hit"),
        "never served from the response cache: {seen:?}"
    );
    assert!(seen.iter().any(|s| s == "kept"), "never kept: {seen:?}");
    // A kept response does not carry one admin's debug view to anyone.
    let (_, plain) = ask(&app, &token, &query, false).await;
    assert!(plain["extensions"]["cacheDebug"].is_null(), "{plain}");
    let (_, user_token) = app.user_with_token("nosy@example.com").await;
    for _ in 0..2 {
        let (_, body) = ask(&app, &user_token, &query, true).await;
        assert!(body["data"]["user"].is_object(), "{body}");
        assert!(
            body["extensions"]["cacheDebug"].is_null(),
            "a non-admin saw the cache: {body}"
        );
    }
}
