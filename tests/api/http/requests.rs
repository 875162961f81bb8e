//! Requests over HTTP: JSON bodies and their size limit, GET for queries only (and GraphiQL),
//! depth limits that let introspection pass, persisted queries and cached documents.
use serde_json::{Value, json};

use super::app;
use crate::helpers::{Backend, Db, Spawn, code};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_json_bodies_get_a_json_400() {
    let app = app().await;
    for body in ["not json", "{\"query\": 5}", ""] {
        let resp = app
            .http
            .post(app.url("/graphql"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{body}");
        let json: Value = resp.json().await.unwrap();
        assert_eq!(code(&json), "BAD_REQUEST");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_limit_are_refused() {
    let app = Spawn::new(Backend::None, Db::Sqlite)
        .env("MAX_BODY_BYTES", "4096")
        .start()
        .await
        .unwrap();
    let big = json!({ "query": format!("{{ __typename }} #{}", "x".repeat(5000)) });
    let resp = app
        .http
        .post(app.url("/graphql"))
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let json: Value = resp.json().await.unwrap();
    assert_eq!(code(&json), "PAYLOAD_TOO_LARGE");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_runs_queries_but_not_mutations_and_serves_graphiql() {
    let app = app().await;
    let get = |query: &'static str| {
        app.http
            .get(app.url("/graphql"))
            .query(&[("query", query)])
            .bearer_auth(&app.admin_token)
            .send()
    };
    let resp = get("{ me { email } }").await.unwrap();
    assert_eq!(resp.status(), 200);
    let json: Value = resp.json().await.unwrap();
    assert_eq!(json["data"]["me"]["email"], "admin@example.com");

    let resp = get("mutation { deleteUser(id: \"1\") }").await.unwrap();
    assert_eq!(resp.status(), 405);
    assert!(app.user("1").await.is_object(), "the admin still exists");

    let resp = app
        .http
        .get(app.url("/graphql"))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("connect-src 'self'"),
        "{csp}"
    );
    let page = resp.text().await.unwrap();
    // Every script and style the page loads is served by the binary, none from elsewhere.
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "{page}"
    );
    for asset in page
        .split(['"', '\''])
        .filter(|s| s.starts_with("graphiql/") && (s.ends_with(".js") || s.ends_with(".css")))
    {
        let got = app
            .http
            .get(app.url(&format!("/{asset}")))
            .send()
            .await
            .unwrap();
        assert_eq!(got.status(), 200, "{asset}");
        let kind = got.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(
            kind.starts_with("text/javascript") || kind.starts_with("text/css"),
            "{kind}"
        );
        assert!(!got.bytes().await.unwrap().is_empty(), "{asset}");
    }
    let missing = app
        .http
        .get(app.url("/graphiql/../Cargo.toml"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    // `/` leads to GraphiQL.
    let root = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/"))
        .send()
        .await
        .unwrap();
    assert!(root.status().is_redirection(), "{}", root.status());
    assert_eq!(root.headers()["location"], "graphql");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_queries_are_refused_but_introspection_passes() {
    let app = app().await;
    let mut deep = String::from("__typename");
    for _ in 0..200 {
        deep =
            format!("__schema {{ queryType {{ fields {{ type {{ ofType {{ {deep} }} }} }} }} }}");
        if deep.len() > 60_000 {
            break;
        }
    }
    let body = app.gql(&format!("{{ {deep} }}"), json!({})).await;
    assert_eq!(
        code(&body),
        "GRAPHQL_VALIDATION_FAILED",
        "{}",
        &body.to_string()[..200.min(body.to_string().len())]
    );
    assert!(body["data"].is_null());

    // GraphiQL's introspection query (abridged to its deepest part) must pass the limits.
    let introspection = r#"query IntrospectionQuery { __schema { queryType { name } mutationType { name }
      types { ...FullType } directives { name description locations args { ...InputValue } } } }
      fragment FullType on __Type { kind name description
        fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
        inputFields { ...InputValue } interfaces { ...TypeRef }
        enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason } possibleTypes { ...TypeRef } }
      fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
      fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }"#;
    let body = app.gql_as(None, introspection, json!({})).await;
    assert!(body["errors"].is_null(), "{body}");
    assert!(body["data"]["__schema"]["types"].as_array().unwrap().len() > 10);

    let unknown = app.gql("{ nope }", json!({})).await;
    assert_eq!(code(&unknown), "GRAPHQL_VALIDATION_FAILED");
    let syntax = app.gql("{ users { ", json!({})).await;
    assert!(
        syntax["errors"][0]["extensions"]["code"].is_string(),
        "{syntax}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persisted_queries_and_cached_documents() {
    let app = app().await;
    let query = "query Me { me { email } }";
    let hash = {
        use std::fmt::Write;
        let digest = <sha2::Sha256 as sha2::Digest>::digest(query.as_bytes());
        digest.iter().fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    };
    let apq = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let send = |body: Value| {
        app.http
            .post(app.url("/graphql"))
            .bearer_auth(&app.admin_token)
            .json(&body)
            .send()
    };
    let miss: Value = send(json!({ "extensions": apq }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        miss["errors"][0]["message"], "PersistedQueryNotFound",
        "{miss}"
    );
    let full: Value = send(json!({ "query": query, "extensions": apq }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(full["data"]["me"]["email"], "admin@example.com", "{full}");
    let hashed: Value = send(json!({ "extensions": apq }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        hashed["data"]["me"]["email"], "admin@example.com",
        "{hashed}"
    );

    // The same document with other variables is validated for those variables.
    let q = "query Page($l: Int!) { users(limit: $l) { id } }";
    for (limit, ok) in [
        (10, true),
        (10, true),
        (0, false),
        (5000, false),
        (20, true),
    ] {
        let body = app.gql(q, json!({ "l": limit })).await;
        assert_eq!(body["errors"].is_null(), ok, "limit {limit}: {body}");
    }
    let body = app.gql(q, json!({ "l": "ten" })).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
}
