//! Hostile requests against the fast request path, every layer on (Redis, L1, parsed
//! documents, responses): each attack is planted, then the victim must get exactly its own
//! answer. docs/security.md names these tests.
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{Backend, Db, TestApp, code};

async fn app() -> TestApp {
    TestApp::spawn(Backend::Redis, Db::Sqlite).await.unwrap()
}

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
async fn a_refused_caller_does_not_evict_a_kept_response() {
    let app = app().await;
    let body = json!({ "query": "{ users(limit: 5) { email } }" });
    let responses = app.state.users.store().cache().responses().unwrap();
    // The first answers fill the entries it is built from; then it is kept and served.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let served = loop {
        let served = responses.served_count();
        app.post_json(Some(&app.admin_token), &body).await;
        if responses.served_count() == served + 1 {
            break served + 1;
        }
        assert!(tokio::time::Instant::now() < deadline, "never served");
    };
    for token in [None, Some("not-a-token")] {
        let (_, refused) = app.post_json(token, &body).await;
        assert_eq!(code(&refused), "UNAUTHENTICATED", "{refused}");
    }
    let (_, again) = app.post_json(Some(&app.admin_token), &body).await;
    assert!(again["errors"].is_null(), "{again}");
    assert_eq!(responses.served_count(), served + 1, "still kept");
}

/// `depth` levels of fragments, each spreading the next twice: 2^depth fields when expanded.
fn fragment_bomb(depth: usize) -> String {
    let mut text = String::from("query { ...F0 }");
    for i in 0..depth {
        text += &format!(" fragment F{i} on Query {{ ...F{} ...F{} }}", i + 1, i + 1);
    }
    text + &format!(" fragment F{depth} on Query {{ __typename }}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn costs_are_bounded_before_any_work() {
    let app = app().await;
    let refused = |body: &Value, limit: &str| {
        assert_eq!(code(body), "GRAPHQL_VALIDATION_FAILED", "{body}");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(limit), "{message}");
        assert!(body["data"].is_null());
    };
    let bomb = fragment_bomb(22);
    assert!(bomb.len() < 1200);
    refused(&app.gql_as(None, &bomb, json!({})).await, "MAX_QUERY_NODES");
    let cycle = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
    refused(&app.gql_as(None, cycle, json!({})).await, "spreads itself");
    // Spreads of a fragment that does not exist, tripled at each of 30 levels.
    let mut undefined = String::from("{ ...F0 }");
    for i in 0..30 {
        let next = i + 1;
        undefined += &format!(" fragment F{i} on Query {{ ...F{next} ...F{next} ...F{next} }}");
    }
    undefined += " fragment F30 on Query { ...Missing }";
    refused(
        &app.gql_as(None, &undefined, json!({})).await,
        "not defined",
    );
    // Every operation of a document counts, not only the one that runs.
    let operations: String = (0..2001)
        .map(|i| format!("query Q{i} {{ __typename }} "))
        .collect();
    let body = app
        .post_json(None, &json!({ "query": operations, "operationName": "Q0" }))
        .await
        .1;
    refused(&body, "MAX_QUERY_NODES");
    // Arguments count (validation compares them pairwise between same-named fields).
    let args: String = (0..2001).map(|i| format!("x{i}: 1 ")).collect();
    refused(
        &app.gql_as(None, &format!("{{ __typename({args}) }}"), json!({}))
            .await,
        "MAX_QUERY_NODES",
    );
    // A small bomb within the limit still runs: the count is exact, not a guess.
    let small = app.gql_as(None, &fragment_bomb(8), json!({})).await;
    assert_eq!(small["data"]["__typename"], "Query", "{small}");

    let many_typenames = format!("{{ {} }}", "__typename ".repeat(2001));
    refused(
        &app.gql_as(None, &many_typenames, json!({})).await,
        "MAX_QUERY_NODES",
    );
    let aliased_schema: String = (0..20)
        .map(|i| format!("s{i}: __schema {{ types {{ name }} }} "))
        .collect();
    refused(
        &app.gql_as(None, &format!("{{ {aliased_schema} }}"), json!({}))
            .await,
        "MAX_QUERY_NODES",
    );
    let aliases: String = (0..201).map(|i| format!("a{i}: __typename ")).collect();
    refused(
        &app.gql_as(None, &format!("{{ {aliases} }}"), json!({}))
            .await,
        "MAX_QUERY_ALIASES",
    );
    let variables: serde_json::Map<String, Value> =
        (0..101).map(|i| (format!("v{i}"), json!(i))).collect();
    refused(
        &app.gql_as(None, "{ __typename }", Value::Object(variables))
            .await,
        "MAX_QUERY_VARIABLES",
    );
    // Many errors are summed up, not listed.
    let unknown: String = (0..300).map(|i| format!("f{i} ")).collect();
    let body = app.gql(&format!("{{ {unknown} }}"), json!({})).await;
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 20, "{body}");
    assert_eq!(errors[19]["extensions"]["code"], "TOO_MANY_ERRORS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_can_need_a_token_or_be_off() {
    let doc = "{ __schema { queryType { name } } }";
    let in_fragment = "{ ...T } fragment T on Query { __type(name: \"User\") { name } }";
    let app = TestApp::with_env(Backend::Redis, &[("INTROSPECTION", "authenticated")]).await;
    for text in [doc, in_fragment] {
        let body = app.gql_as(None, text, json!({})).await;
        assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
        let body = app.gql(text, json!({})).await;
        assert!(body["errors"].is_null(), "{body}");
        // The admin's answer is now kept: an anonymous caller still does not get it.
        let body = app.gql_as(None, text, json!({})).await;
        assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    }
    let off = TestApp::with_env(Backend::Memory, &[("INTROSPECTION", "off")]).await;
    let body = off.gql(doc, json!({})).await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("INTROSPECTION=off"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_bodies_must_be_declared_json() {
    let app = app().await;
    let body = r#"{"query":"{ __typename }"}"#;
    for (content_type, status) in [
        (Some("text/plain"), 415),
        (Some("application/x-www-form-urlencoded"), 415),
        (None, 415),
        (Some("application/json; charset=utf-8"), 200),
        (Some("Application/JSON"), 200),
        (Some("application/graphql-response+json"), 200),
    ] {
        let mut req = app.http.post(app.url("/graphql")).body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status().as_u16(), status, "{content_type:?}");
        let json: Value = resp.json().await.unwrap();
        if status == 415 {
            assert_eq!(code(&json), "UNSUPPORTED_MEDIA_TYPE");
        }
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
async fn callers_of_me_do_not_evict_each_other() {
    let app = app().await;
    let responses = app.state.users.store().cache().responses().unwrap();
    let (_, ann) = app.user_with_token("ann@example.com").await;
    let (_, ben) = app.user_with_token("ben@example.com").await;
    let me = json!({ "query": "{ me { email } }" });
    // Each caller's answer is kept once its entries are warm.
    for (token, email) in [(&ann, "ann@example.com"), (&ben, "ben@example.com")] {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let served = responses.served_count();
            let (_, body) = app.post_json(Some(token), &me).await;
            assert_eq!(body["data"]["me"]["email"], email, "{body}");
            if responses.served_count() == served + 1 {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "never served");
        }
    }
    // Alternating callers are each served their own kept answer.
    for (token, email) in [(&ann, "ann@example.com"), (&ben, "ben@example.com")].repeat(2) {
        let served = responses.served_count();
        let (_, body) = app.post_json(Some(token), &me).await;
        assert_eq!(body["data"]["me"]["email"], email, "{body}");
        assert_eq!(
            responses.served_count(),
            served + 1,
            "{email} served from the cache"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_syntax_error_does_not_echo_the_whole_body() {
    let app = TestApp::with_env(Backend::Memory, &[]).await;
    let text = format!("{{ {}", "a(x: 1) ".repeat(20_000));
    let body = app.gql_as(None, &text, json!({})).await;
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.ends_with('…') && message.chars().count() <= 401,
        "{message}"
    );
    assert_eq!(body["errors"].as_array().unwrap().len(), 1);
}
