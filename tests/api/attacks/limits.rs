//! Bounds on what a request may cost: fragment bombs, cycles and oversized documents refused
//! before any work, introspection behind a token or off, bodies declared JSON, and syntax
//! errors that do not echo the whole body.
use serde_json::{Value, json};

use super::app;
use crate::helpers::{Backend, TestApp, code};

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
