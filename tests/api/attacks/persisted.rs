//! Persisted queries and request keys: a hash never runs another caller's document, and a
//! validation is never reused for another document or operation name.
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::app;
use crate::helpers::{Backend, TestApp, code};

fn sha(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn apq(query: Option<&str>, hash: &str) -> Value {
    let ext = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    match query {
        Some(q) => json!({ "query": q, "extensions": ext }),
        None => json!({ "extensions": ext }),
    }
}

/// A hash-only persisted query over GET, as the admin.
async fn get_persisted(app: &TestApp, hash: &str) -> (u16, Value) {
    let ext = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } }).to_string();
    let resp = app
        .http
        .get(app.url("/graphql"))
        .query(&[("extensions", ext.as_str())])
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

async fn user_count(app: &TestApp) -> usize {
    let body = app.gql("{ users(limit: 1000) { id } }", json!({})).await;
    body["data"]["users"].as_array().unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persisted_queries_cannot_run_another_callers_document() {
    let app = app().await;
    let before = user_count(&app).await;
    // The attacker registers an ADMIN-creating mutation as an anonymous caller: refused for him.
    let evil = r#"mutation { createUser(input: {email: "evil@x.io", fullName: "E", password: "password-123", role: ADMIN}) { id } }"#;
    let (_, body) = app.post_json(None, &apq(Some(evil), &sha(evil))).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    // He cannot store his text under the hash of the admin's query.
    let mine = "{ me { email role } }";
    let (status, body) = app.post_json(None, &apq(Some(evil), &sha(mine))).await;
    assert_eq!((status, code(&body)), (400, "BAD_REQUEST"), "{body}");

    // The admin's persisted query, hash-only first, then registered, then hash-only, POST and GET.
    let (_, miss) = app
        .post_json(Some(&app.admin_token), &apq(None, &sha(mine)))
        .await;
    assert_eq!(code(&miss), "PERSISTED_QUERY_NOT_FOUND", "{miss}");
    for body in [apq(Some(mine), &sha(mine)), apq(None, &sha(mine))] {
        let (_, got) = app.post_json(Some(&app.admin_token), &body).await;
        assert_eq!(got["data"]["me"]["email"], "admin@example.com", "{got}");
    }
    let (status, got) = get_persisted(&app, &sha(mine)).await;
    assert_eq!(
        (status, &got["data"]["me"]["role"]),
        (200, &json!("ADMIN")),
        "{got}"
    );

    // A hash-only GET of the registered mutation is a mutation over GET, whoever sends it.
    let (status, got) = get_persisted(&app, &sha(evil)).await;
    assert_eq!((status, code(&got)), (405, "METHOD_NOT_ALLOWED"), "{got}");
    assert_eq!(user_count(&app).await, before, "no user was created");

    // Someone else's plain `me` is answered for that caller, never from the admin's response.
    let (_, token) = app.user_with_token("bob@example.com").await;
    let (_, bob) = app.post_json(Some(&token), &json!({ "query": mine })).await;
    assert_eq!(bob["data"]["me"]["email"], "bob@example.com", "{bob}");
    let (_, anon) = app.post_json(None, &json!({ "query": mine })).await;
    assert_eq!(code(&anon), "UNAUTHENTICATED", "{anon}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_is_never_reused_for_another_document() {
    let app = TestApp::with_env(Backend::Redis, &[("MAX_QUERY_DEPTH", "3")]).await;
    let shallow = "{ __typename }";
    let deep = "{ users { id } me { id } __schema { types { fields { name } } } }";
    let token = app.admin_token.clone();
    let (_, ok) = app
        .post_json(Some(&token), &apq(Some(shallow), &sha(shallow)))
        .await;
    assert!(ok["errors"].is_null(), "{ok}");
    for _ in 0..2 {
        let (_, body) = app
            .post_json(Some(&token), &apq(Some(deep), &sha(deep)))
            .await;
        assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
        let (_, body) = app.post_json(Some(&token), &apq(None, &sha(deep))).await;
        assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_operation_name_is_not_an_absent_one() {
    let app = app().await;
    let doc = "{ __typename }";
    let named = json!({ "query": doc, "operationName": "" });
    let plain = json!({ "query": doc });
    for _ in 0..2 {
        let (_, body) = app.post_json(None, &named).await;
        assert!(!body["errors"].is_null(), "\"\" names no operation: {body}");
        let (_, body) = app.post_json(None, &plain).await;
        assert_eq!(body["data"]["__typename"], "Query", "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_key_cannot_be_forged_to_skip_validation() {
    let app = TestApp::with_env(Backend::Redis, &[("MAX_QUERY_COMPLEXITY", "50")]).await;
    let costly = "query n { users(limit: 1000) { id } } #";
    // A: a name smuggling B's text, with a harmless document that would validate.
    let forged =
        json!({ "query": "{ __typename }", "operationName": format!("n\u{0}{{}}\u{0}{costly}") });
    let (status, body) = app.post_json(Some(&app.admin_token), &forged).await;
    assert_eq!((status, code(&body)), (400, "BAD_REQUEST"), "{body}");
    // B: the costly document, its tail hidden in a comment; validated on its own.
    let real =
        json!({ "query": format!("{costly}\u{0}{{}}\u{0}{{ __typename }}"), "operationName": "n" });
    for _ in 0..2 {
        let (_, body) = app.post_json(Some(&app.admin_token), &real).await;
        assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_is_reused_across_strings_but_never_across_types_or_enum_members() {
    let app = app().await;
    let token = app.admin_token.clone();
    let rename = "mutation($id: ID!, $name: String!) { updateUser(id: $id, input: { fullName: $name }) { fullName } }";
    let send = |variables: Value| {
        let body = json!({ "query": rename, "variables": variables });
        let (app, token) = (&app, &token);
        async move { app.post_json(Some(token), &body).await.1 }
    };
    // Two names: the second reuses the first's validation and still gets its own answer.
    for name in ["Ann", "Bea"] {
        let body = send(json!({ "id": "1", "name": name })).await;
        assert_eq!(body["data"]["updateUser"]["fullName"], name, "{body}");
    }
    // A value of another type is validated on its own, however often a string passed.
    for bad in [
        json!({ "id": "1", "name": 5 }),
        json!({ "id": { "a": 1 }, "name": "C" }),
    ] {
        let body = send(bad).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    }
    // An enum's value is part of the key: a valid member does not let an invalid one through.
    let role =
        "mutation($id: ID!, $role: Role!) { updateUser(id: $id, input: { role: $role }) { role } }";
    for (value, ok) in [("ADMIN", true), ("NOPE", false)] {
        let body = json!({ "query": role, "variables": { "id": "1", "role": value } });
        let (_, body) = app.post_json(Some(&token), &body).await;
        if ok {
            assert_eq!(body["data"]["updateUser"]["role"], value, "{body}");
        } else {
            assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
        }
    }
}
