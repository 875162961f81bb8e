//! The HTTP surface: transports, refusals, limits, CORS, health, start-up and the schema file.
use serde_json::{Value, json};

use crate::helpers::{Backend, Db, Spawn, TestApp, code};

async fn app() -> TestApp {
    TestApp::spawn(Backend::Memory, Db::Sqlite).await.unwrap()
}

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
    assert!(
        resp.text()
            .await
            .unwrap()
            .to_lowercase()
            .contains("graphiql")
    );
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

async fn app_without_cors() -> TestApp {
    TestApp::spawn(Backend::None, Db::Sqlite).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_database_and_cache() {
    let app = TestApp::spawn(Backend::Redis, Db::Sqlite).await.unwrap();
    let resp = app.http.get(app.url("/health")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["database"], "up");
    assert_eq!(
        body["cache"],
        json!({ "backend": "redis", "status": "available" })
    );
    let none = app_without_cors().await;
    let body = none.health().await;
    assert_eq!(body["cache"]["status"], "disabled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_on_a_fresh_sqlite_file_in_a_new_folder() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/deeper/app.db");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let app = Spawn::new(Backend::None, Db::Sqlite)
        .env("DATABASE_URL", &url)
        .start()
        .await
        .unwrap();
    assert!(path.exists());
    assert_eq!(app.list_emails(0, 10).await, vec!["admin@example.com"]);
    drop(app);
    // a second start on the same file migrates nothing and creates no second admin
    let again = Spawn::new(Backend::None, Db::Sqlite)
        .env("DATABASE_URL", &url)
        .start()
        .await
        .unwrap();
    assert_eq!(again.list_emails(0, 10).await, vec!["admin@example.com"]);
}

#[test]
fn schema_graphql_is_what_the_code_generates() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql is committed");
    let generated = cachegraph::graphql::sdl();
    assert!(
        committed == generated,
        "schema.graphql is stale: run `cargo run -- export-schema schema.graphql`"
    );
}

#[test]
fn schema_keeps_the_contract() {
    let sdl = cachegraph::graphql::sdl();
    for line in [
        "me: User!",
        "user(id: ID!): User",
        "userByEmail(email: String!): User",
        "users(skip: Int! = 0, limit: Int! = 100): [User!]!",
        "cacheStats: CacheStats!",
        "login(email: String!, password: String!): AuthPayload!",
        "createUser(input: CreateUserInput!): User!",
        "updateUser(id: ID!, input: UpdateUserInput!): User!",
        "deleteUser(id: ID!): Boolean!",
        "clearCache(pattern: String! = \"*\"): ClearCacheResult!",
        "role: Role = USER",
        "isActive: Boolean = true",
        "hitRate: Float!",
        "keys: Int",
        "usedMemoryHuman: String",
    ] {
        assert!(sdl.contains(line), "missing `{line}`");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_exported_in_prometheus_format() {
    let app = TestApp::spawn(Backend::Redis, Db::Sqlite).await.unwrap();
    app.gql("query Listing { users { id } }", json!({})).await;
    app.gql("query Listing { users { id } }", json!({})).await;
    app.gql("{ nope }", json!({})).await;
    let resp = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = resp.text().await.unwrap();
    for line in [
        "cachegraph_graphql_requests_total{operation=\"Listing\",outcome=\"ok\"} 2",
        "cachegraph_graphql_requests_total{operation=\"anonymous\",outcome=\"error\"} 1",
        "cachegraph_cache_lookups_total{kind=\"list\",result=\"hit\"} 1",
        "cachegraph_cache_lookups_total{kind=\"list\",result=\"miss\"} 1",
        "cachegraph_cache_breaker_open 0",
        "cachegraph_redis_up 1",
    ] {
        assert!(text.contains(line), "missing `{line}` in\n{text}");
    }
    assert!(
        text.contains("cachegraph_graphql_request_duration_seconds_bucket{operation=\"Listing\"")
    );
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
    assert!(
        anon.headers()
            .get("cache-control")
            .is_none_or(|v| !v.to_str().unwrap().contains("public"))
    );
    let failed = app
        .http
        .post(app.url("/graphql"))
        .json(&json!({ "query": "{ me { id } }" }))
        .send()
        .await
        .unwrap();
    assert!(
        failed.headers().get("cache-control").is_none(),
        "errors are never cacheable"
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
